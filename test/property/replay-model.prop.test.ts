/**
 * ReplayWindow vs a Set-based reference model (in the spirit of wireguard-go's
 * allowedips_rand_test: a fast structure checked against an obviously-correct slow one).
 *
 * Reference, with T the highest accepted 64-bit number and S the accepted set:
 *   32-bit: accept s iff 1 ≤ s ≤ 2^32−1, s ∉ S, and (s > T or T − s < W)
 *   ESN:    the receiver only sees the low half; RFC 4303 A2.2 maps it to the unique
 *           value in [T − W + 1, T − W + 2^32]. A packet whose true number lies outside
 *           that interval gets the wrong high half, so its ICV fails (modelled: accepted
 *           only if the inferred hi equals the true hi). Accept iff s in that interval,
 *           1 ≤ s ≤ 2^64−1, s ∉ S, and (s > T or T − s < W).
 *   W = 0:  no replay check; ESN inference still uses a nominal window of 64.
 * Batches: all packets of a batch are checked against the state at batch start, then
 * committed in order (commit re-tests the window).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { REPLAY_DROP, ReplayWindow } from '../../src/esp/replay.js';

const TWO32 = 1n << 32n;
const MAX64 = (1n << 64n) - 1n;

class Model {
  T = 0n;
  readonly S = new Set<bigint>();
  constructor(readonly W: number, readonly esn: boolean) {}
  private get inferW(): bigint {
    return BigInt(this.W === 0 ? 64 : this.W);
  }
  /** would the receiver infer the right high half for s (given T at check time)? */
  inferable(s: bigint, T: bigint): boolean {
    if (!this.esn) return s >= 1n && s < TWO32;
    const lo = T - this.inferW + 1n;
    return s >= 1n && s <= MAX64 && s >= lo && s <= lo + TWO32 - 1n;
  }
  windowOk(s: bigint): boolean {
    if (s > this.T) return true;
    if (this.W === 0) return true;
    return !this.S.has(s) && this.T - s < BigInt(this.W);
  }
  commit(s: bigint): void {
    this.S.add(s);
    if (s > this.T) this.T = s;
  }
}

function split(s: bigint): [number, number] {
  return [Number(s >> 32n), Number(s & 0xffff_ffffn)];
}

const windowArb = fc.constantFrom(0, 32, 64, 65, 128, 1000, 4096);

/** sequence numbers as signed offsets from the running top */
const deltaArb = (W: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -2 * Math.max(W, 64), max: 2 * Math.max(W, 64) }) },
    { weight: 1, arbitrary: fc.integer({ min: -(2 ** 33), max: 2 ** 33 }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 1, -1, W, -W, W - 1, -(W - 1), W + 1, -(W + 1)) },
  );

function runModel(W: number, esn: boolean, start: bigint, batches: number[][]): void {
  const w = new ReplayWindow(W, esn);
  const m = new Model(W, esn);
  if (start > 0n) {
    const [h, l] = split(start);
    expect(w.commit(h, l)).toBe(true);
    m.commit(start);
  }
  for (const batch of batches) {
    const T0 = m.T;
    const seqs = batch.map((d) => T0 + BigInt(d)).filter((s) => s >= 0n && s <= (esn ? MAX64 : TWO32 - 1n));
    // phase 1: check everything (no state change)
    const inferred = seqs.map((s) => {
      const [, lo] = split(s);
      const hi = w.check(lo);
      expect(w.check(lo)).toBe(hi); // idempotent
      return hi;
    });
    expect(w.top).toBe(Number(T0)); // check() changed nothing
    // phase 2: "verify ICV" and commit in order
    seqs.forEach((s, i) => {
      const [hi, lo] = split(s);
      const got = inferred[i] !== REPLAY_DROP && inferred[i] === hi && w.commit(hi, lo);
      const want = m.inferable(s, T0) && m.windowOk(s);
      if (want) m.commit(s);
      expect(got, `W=${W} esn=${esn} T0=${T0} s=${s}`).toBe(want);
    });
  }
}

describe('ReplayWindow vs reference model', () => {
  it('32-bit sequence numbers', () => {
    fc.assert(
      fc.property(
        windowArb.chain((W) =>
          fc.tuple(
            fc.constant(W),
            fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: TWO32 - 1n })),
            fc.array(fc.array(deltaArb(W), { minLength: 1, maxLength: 8 }), { maxLength: 40 }),
          ),
        ),
        ([W, start, batches]) => runModel(W, false, start, batches),
      ),
      { numRuns: 300 },
    );
  });

  it('ESN across subspace boundaries', () => {
    const startArb = fc.oneof(
      fc.constant(0n),
      // just below a 2^32 boundary, so that the run crosses it
      fc.tuple(fc.bigInt({ min: 0n, max: 5n }), fc.integer({ min: 1, max: 5000 })).map(([h, d]) => (h + 1n) * TWO32 - BigInt(d)),
      fc.bigInt({ min: 1n, max: MAX64 - (1n << 34n) }),
      // near the very end of the 64-bit space
      fc.integer({ min: 1, max: 5000 }).map((d) => MAX64 - BigInt(d)),
    );
    fc.assert(
      fc.property(
        windowArb.chain((W) =>
          fc.tuple(fc.constant(W), startArb, fc.array(fc.array(deltaArb(W), { minLength: 1, maxLength: 8 }), { maxLength: 40 })),
        ),
        ([W, start, batches]) => runModel(W, true, start, batches),
      ),
      { numRuns: 300 },
    );
  });
});
