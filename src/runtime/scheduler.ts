/**
 * The only owner of Node timers for the protocol core: one timer armed for the earliest
 * deadline the core reported (`wakeAt`). Firing calls back with the current time.
 */
import type { Clock } from '../common/clock.js';

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private armedAt: number | undefined;

  constructor(private readonly clock: Clock, private readonly fire: (now: number) => void) {}

  /** Arm (or re-arm) for `at` (monotonic ms); undefined cancels. */
  set(at: number | undefined): void {
    if (at === this.armedAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = at;
    if (at === undefined) return;
    const delay = Math.max(0, Math.min(at - this.clock.now(), 2 ** 31 - 1));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.armedAt = undefined;
      this.fire(this.clock.now());
    }, Math.ceil(delay));
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = undefined;
  }
}
