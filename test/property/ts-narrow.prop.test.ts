/**
 * Traffic-selector intersection against a point model: a TS is the set of
 * (address, protocol, port) points it contains. Addresses come from a small window so
 * that random selectors overlap often; sample points include every boundary ±1.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bigIntToAddr } from '../../src/net/prefix.js';
import { type TS, contains, intersect, isSubset, narrow, tsEquals } from '../../src/net/traffic-selector.js';

const BASE4 = 0x0a000000n; // 10.0.0.0
const BASE6 = 0x20010db8n << 96n; // 2001:db8::
const SPAN = 64n;

const family = fc.constantFrom<4 | 6>(4, 6);
const addrOff = fc.bigInt({ min: 0n, max: SPAN - 1n });
const proto = fc.constantFrom(0, 6, 17);
const portPair = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 })) },
  { weight: 2, arbitrary: fc.constant<[number, number]>([0, 65535]) },
  { weight: 1, arbitrary: fc.constant<[number, number]>([65535, 0]) }, // OPAQUE
);

const addrOf = (fam: 4 | 6, off: bigint): Uint8Array => bigIntToAddr((fam === 4 ? BASE4 : BASE6) + off, fam);

const tsArb = (fam: 4 | 6): fc.Arbitrary<TS> =>
  fc.record({ a: addrOff, b: addrOff, p: proto, ports: portPair }).map(({ a, b, p, ports }) => {
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    let [sp, ep] = ports;
    if (!(sp === 65535 && ep === 0) && sp > ep) [sp, ep] = [ep, sp];
    return { family: fam, ipProtocol: p, startPort: sp, endPort: ep, startAddr: addrOf(fam, lo), endAddr: addrOf(fam, hi) };
  });

const pairArb = family.chain((fam) => fc.tuple(tsArb(fam), fc.oneof(tsArb(fam), tsArb(fam === 4 ? 6 : 4))));

interface Point {
  addr: Uint8Array;
  proto: number;
  port: number | undefined;
}

function offsetOf(a: Uint8Array): bigint {
  let v = 0n;
  for (const x of a) v = (v << 8n) | BigInt(x);
  return v - (a.length === 4 ? BASE4 : BASE6);
}

/** Boundary points of both selectors (±1) in every family, protocol and port variant. */
function samplePoints(a: TS, b: TS, extraOffsets: bigint[], extraPorts: number[]): Point[] {
  const offs = new Set<bigint>(extraOffsets);
  const ports = new Set<number | undefined>([undefined, 0, 65535, ...extraPorts]);
  for (const t of [a, b]) {
    for (const o of [offsetOf(t.startAddr), offsetOf(t.endAddr)]) for (const d of [-1n, 0n, 1n]) offs.add(o + d);
    for (const p of [t.startPort, t.endPort]) for (const d of [-1, 0, 1]) ports.add(p + d);
  }
  const out: Point[] = [];
  for (const fam of [4, 6] as const) {
    for (const o of offs) {
      if (o < 0n || o >= SPAN) continue;
      for (const pr of [6, 17, 1]) {
        for (const port of ports) {
          if (port !== undefined && (port < 0 || port > 65535)) continue;
          out.push({ addr: addrOf(fam, o), proto: pr, port });
        }
      }
    }
  }
  return out;
}

const has = (t: TS | null, p: Point): boolean => t !== null && contains(t, p.addr, p.proto, p.port);

describe('traffic selector intersection (property)', () => {
  it('is commutative', () => {
    fc.assert(
      fc.property(pairArb, ([a, b]) => {
        const ab = intersect(a, b);
        const ba = intersect(b, a);
        expect(ab === null).toBe(ba === null);
        if (ab && ba) expect(tsEquals(ab, ba)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('is a subset of both and idempotent', () => {
    fc.assert(
      fc.property(pairArb, ([a, b]) => {
        const i = intersect(a, b);
        if (i === null) return;
        expect(isSubset(i, a)).toBe(true);
        expect(isSubset(i, b)).toBe(true);
        expect(tsEquals(intersect(i, i)!, i)).toBe(true);
        expect(tsEquals(intersect(a, a)!, a)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('contains exactly the points both contain', () => {
    fc.assert(
      fc.property(
        pairArb,
        fc.array(addrOff, { maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 4 }),
        ([a, b], offs, ports) => {
          const i = intersect(a, b);
          // plain booleans in the loop: expect() per point is slow
          const wrong = samplePoints(a, b, offs, ports).find((p) => has(i, p) !== (has(a, p) && has(b, p)));
          expect(wrong).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
  });

  it('narrow covers exactly the union of pairwise intersections', () => {
    fc.assert(
      fc.property(
        family.chain((fam) => fc.tuple(fc.array(tsArb(fam), { maxLength: 3 }), fc.array(tsArb(fam), { maxLength: 3 }))),
        ([proposed, configured]) => {
          const out = narrow(proposed, configured);
          const all = proposed.flatMap((p) => configured.map((c) => intersect(p, c)));
          for (const t of out) expect(configured.some((c) => isSubset(t, c))).toBe(true);
          for (const t of out) expect(proposed.some((p) => isSubset(t, p))).toBe(true);
          const sample = proposed.concat(configured);
          const wrong = sample
            .flatMap((t) => samplePoints(t, t, [], []))
            .find((p) => out.some((o) => has(o, p)) !== all.some((x) => has(x, p)));
          expect(wrong).toBeUndefined();
        },
      ),
      { numRuns: 150 },
    );
  });
});
