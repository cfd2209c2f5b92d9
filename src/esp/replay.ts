/**
 * Anti-replay window: RFC 4303 §3.4.3 semantics, RFC 6479 bitmap layout, RFC 4303
 * Appendix A2.2 inference of the high-order 32 bits with Extended Sequence Numbers.
 *
 * Two steps, so that unauthenticated input changes no state (ARCHITECTURE.md rule 2):
 *
 *   const hi = w.check(seqLow);          // no state change; REPLAY_DROP (-1) = drop
 *   ...verify the ICV using hi (ESN: hi goes into the AAD / ICV input)...
 *   if (!w.commit(hi, seqLow)) drop;     // re-checks: a packet checked twice before
 *                                        // either commits is accepted only once
 *
 * Window semantics (exact, independent of the word rounding below), with T the highest
 * sequence number committed so far (64-bit; 0 before the first packet) and W the size:
 *   - S > T                      → new, accepted (the window slides on commit)
 *   - T − W < S ≤ T, bit clear   → in window, accepted
 *   - T − W < S ≤ T, bit set     → duplicate, dropped
 *   - S ≤ T − W                  → too old, dropped
 *   - S = 0 (64-bit)             → never valid (the first packet is 1, RFC 4303 §3.3.3)
 *
 * Bitmap (RFC 6479): N 32-bit words, N a power of two with (N − 1)·32 ≥ W − 1, so the
 * word holding T and the N − 1 words before it always cover the whole window. Bit for S
 * is word (S >>> 5) & (N − 1), bit S & 31; sliding forward only zeroes the words that the
 * new top enters (at most N), never shifts bits. Because N·32 divides 2^32, the low 32
 * bits of S suffice to index the bitmap even with ESN.
 *
 * ESN (RFC 4303 Appendix A2.2), Tl/Th = low/high halves of T, Seql = received low half:
 *   Case A: Tl ≥ W − 1 (window inside one 2^32 subspace):
 *       Seql ≥ Tl − W + 1  → Seqh = Th        else → Seqh = Th + 1 (wrapped forward)
 *   Case B: Tl < W − 1 (window spans the subspace boundary):
 *       Seql ≥ Tl − W + 1 (mod 2^32) → Seqh = Th − 1        else → Seqh = Th
 *   Seqh = Th − 1 with Th = 0, or Seqh = Th + 1 with Th = 2^32 − 1, has no valid 64-bit
 *   value and is dropped. When anti-replay is disabled (size 0) the inference still runs
 *   with a nominal window of 64 but nothing is ever dropped as a replay.
 */

/** `check()` result meaning "drop as DropReason.Replay". */
export const REPLAY_DROP = -1;

/** Largest supported window, in packets. */
export const MAX_REPLAY_WINDOW = 32768;

/** Window used only for ESN high-bit inference when anti-replay is disabled. */
const INFERENCE_WINDOW_WHEN_DISABLED = 64;

const TWO32 = 0x1_0000_0000;

export class ReplayWindow {
  /** window size W in packets (0 = anti-replay disabled) */
  readonly size: number;
  readonly esn: boolean;
  /** highest committed sequence number, high / low 32 bits (both 0 before the first packet) */
  private topHi = 0;
  private topLo = 0;
  private readonly bitmap: Uint32Array;
  private readonly mask: number; // N − 1
  /** window used for ESN inference and for the range test */
  private readonly w: number;

  constructor(size: number, esn: boolean) {
    if (!Number.isInteger(size) || size < 0 || size > MAX_REPLAY_WINDOW) {
      throw new RangeError(`replay window must be an integer in 0..${MAX_REPLAY_WINDOW}, got ${size}`);
    }
    this.size = size;
    this.esn = esn;
    this.w = size === 0 ? INFERENCE_WINDOW_WHEN_DISABLED : size;
    // (N − 1)·32 ≥ W − 1  →  N ≥ ceil((W − 1)/32) + 1, rounded up to a power of two (≥ 2)
    const need = Math.ceil((this.w - 1) / 32) + 1;
    let n = 2;
    while (n < need) n <<= 1;
    this.bitmap = new Uint32Array(size === 0 ? 1 : n);
    this.mask = size === 0 ? 0 : n - 1;
  }

  /** highest committed sequence number as a JS number (exact below 2^53; for tests/stats) */
  get top(): number {
    return this.topHi * TWO32 + this.topLo;
  }

  /**
   * Infer the high 32 bits for `seqLow` and test it against the window, without changing
   * state. Returns the inferred high half (0 without ESN), or REPLAY_DROP.
   */
  check(seqLow: number): number {
    seqLow >>>= 0;
    const hi = this.inferHi(seqLow);
    if (hi < 0) return REPLAY_DROP;
    return this.test(hi, seqLow) ? hi : REPLAY_DROP;
  }

  /**
   * Record an authenticated packet. Re-runs the window test (so two packets with the same
   * number that both passed check() cannot both be accepted); returns false to drop.
   */
  commit(seqHi: number, seqLow: number): boolean {
    seqHi >>>= 0;
    seqLow >>>= 0;
    if (!this.esn && seqHi !== 0) return false;
    if (!this.test(seqHi, seqLow)) return false;
    if (this.size === 0) {
      if (seqHi > this.topHi || (seqHi === this.topHi && seqLow > this.topLo)) {
        this.topHi = seqHi;
        this.topLo = seqLow;
      }
      return true;
    }
    const bm = this.bitmap;
    const mask = this.mask;
    if (seqHi > this.topHi || (seqHi === this.topHi && seqLow > this.topLo)) {
      // slide: zero the words between the old top word (exclusive) and the new one (inclusive)
      const oldWord = this.topLo >>> 5;
      const advance = (seqHi - this.topHi) * 0x800_0000 + (seqLow >>> 5) - oldWord; // 2^27 words per subspace
      if (advance > mask) {
        bm.fill(0);
      } else {
        for (let i = 1; i <= advance; i++) bm[(oldWord + i) & mask] = 0;
      }
      this.topHi = seqHi;
      this.topLo = seqLow;
    }
    bm[(seqLow >>> 5) & mask]! |= 1 << (seqLow & 31);
    return true;
  }

  /** forget everything (used when keys are zeroized) */
  reset(): void {
    this.topHi = 0;
    this.topLo = 0;
    this.bitmap.fill(0);
  }

  /** RFC 4303 A2.2; -1 when the inferred 64-bit value does not exist. */
  private inferHi(seqLow: number): number {
    if (!this.esn) return 0;
    const tl = this.topLo;
    const th = this.topHi;
    const w = this.w;
    if (tl >= w - 1) {
      // Case A
      if (seqLow >= tl - w + 1) return th;
      return th === 0xffff_ffff ? -1 : th + 1;
    }
    // Case B
    if (seqLow >= ((tl - w + 1) >>> 0)) return th === 0 ? -1 : th - 1;
    return th;
  }

  /** window test for a full 64-bit (hi, lo); no state change */
  private test(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) return false;
    const th = this.topHi;
    const tl = this.topLo;
    if (hi > th || (hi === th && lo > tl)) return true; // new
    if (this.size === 0) return true; // anti-replay disabled
    // diff = T − S ≥ 0; only meaningful when < 2^32
    let diff: number;
    if (hi === th) diff = tl - lo;
    else if (hi === th - 1) diff = tl + TWO32 - lo;
    else return false;
    if (diff >= this.size) return false;
    return (this.bitmap[(lo >>> 5) & this.mask]! & (1 << (lo & 31))) === 0;
  }
}
