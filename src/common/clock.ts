/** Monotonic time in milliseconds, injected everywhere (protocol cores never read the clock). */
export interface Clock {
  now(): number;
}
export const SystemClock: Clock = { now: () => performance.now() };

/** Deterministic clock for tests. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}
