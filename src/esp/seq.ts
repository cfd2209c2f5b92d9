/**
 * Outbound sequence numbers (RFC 4303 §2.2, §3.3.3), 32-bit or ESN (64-bit as hi/lo uint32).
 *
 * - The counter starts at 0; the first packet carries 1.
 * - It never wraps (RFC 4303 §3.3.3: "the sender's counter ... MUST NOT be allowed to
 *   cycle"). Once the last value has been sent the SA is hard-expired (reason 'seq').
 *     32-bit: last value 2^32 − 1.      ESN: last value 2^64 − 1.
 * - Soft expiry (time to rekey) is signalled SEQ_SOFT_MARGIN packets before the end:
 *     32-bit: when the value sent reaches 2^32 − 2^26 (≈ 67 M packets before exhaustion:
 *     ≥ 6.7 s at 10 Mpps, about a minute at 1 Mpps — enough for a CREATE_CHILD_SA round
 *     trip with retransmissions, and only 1.6 % of the space).
 *     ESN: when hi = 2^32 − 1 and lo reaches 2^32 − 2^26 (unreachable in practice).
 */

export const SEQ_SOFT_MARGIN = 2 ** 26;
const LO_SOFT = 0x1_0000_0000 - SEQ_SOFT_MARGIN;

/** A 64-bit sequence number as two uint32 halves (hi = 0 without ESN). */
export interface SeqNo {
  hi: number;
  lo: number;
}

export const SeqStep = {
  /** value assigned, nothing to report */
  Ok: 0,
  /** value assigned and the soft threshold was reached with this packet */
  Soft: 1,
  /** value assigned; it was the last one, the SA is now exhausted */
  Last: 2,
  /** no value left: do not send */
  Exhausted: 3,
} as const;
export type SeqStep = (typeof SeqStep)[keyof typeof SeqStep];

export class OutboundSeq {
  /** the value of the last packet sent (0 = none yet); `next()` updates it in place */
  readonly cur: SeqNo = { hi: 0, lo: 0 };
  constructor(readonly esn: boolean) {}

  /** true once the last value has been handed out */
  get exhausted(): boolean {
    return this.cur.lo === 0xffff_ffff && (!this.esn || this.cur.hi === 0xffff_ffff);
  }

  /**
   * Advance to the next value (available in `cur`, no allocation). Returns what the
   * caller must report; on Exhausted `cur` is unchanged and nothing may be sent.
   */
  next(): SeqStep {
    const c = this.cur;
    if (this.exhausted) return SeqStep.Exhausted;
    if (c.lo === 0xffff_ffff) {
      c.hi = (c.hi + 1) >>> 0;
      c.lo = 0;
    } else {
      c.lo = c.lo + 1;
    }
    if (this.exhausted) return SeqStep.Last;
    if (c.lo === LO_SOFT && (!this.esn || c.hi === 0xffff_ffff)) return SeqStep.Soft;
    return SeqStep.Ok;
  }

  /** test hook: position the counter (the next packet gets value + 1) */
  set(hi: number, lo: number): void {
    this.cur.hi = hi >>> 0;
    this.cur.lo = lo >>> 0;
  }
}

/** 8-byte big-endian hi‖lo, the default AEAD IV (see packet.ts). */
export function writeSeq64(out: Uint8Array, off: number, hi: number, lo: number): void {
  out[off] = hi >>> 24;
  out[off + 1] = hi >>> 16;
  out[off + 2] = hi >>> 8;
  out[off + 3] = hi;
  out[off + 4] = lo >>> 24;
  out[off + 5] = lo >>> 16;
  out[off + 6] = lo >>> 8;
  out[off + 7] = lo;
}
