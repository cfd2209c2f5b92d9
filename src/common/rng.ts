/** Randomness, injected. CryptoRng in production; SeededRng for deterministic tests. */
import { randomBytes, randomFillSync } from 'node:crypto';

export interface Rng {
  bytes(n: number): Uint8Array;
  /** uniform float in [0,1) — for jitter only, never for keys */
  float(): number;
}

export const CryptoRng: Rng = {
  bytes: (n) => new Uint8Array(randomBytes(n)),
  float: () => {
    const b = new Uint32Array(1);
    randomFillSync(b);
    return b[0]! / 2 ** 32;
  },
};

/** xorshift-based deterministic generator; NOT cryptographic. */
export class SeededRng implements Rng {
  private s: number;
  /** if set, the next bytes() call starts with this byte (nonce ordering in collision tests) */
  nextFirstByte: number | undefined;
  constructor(seed = 1) {
    this.s = seed >>> 0 || 1;
  }
  private next(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x;
  }
  bytes(n: number): Uint8Array {
    const o = new Uint8Array(n);
    for (let i = 0; i < n; i++) o[i] = this.next() & 0xff;
    if (this.nextFirstByte !== undefined && n > 0) {
      o[0] = this.nextFirstByte;
      this.nextFirstByte = undefined;
    }
    return o;
  }
  float(): number {
    return this.next() / 2 ** 32;
  }
}
