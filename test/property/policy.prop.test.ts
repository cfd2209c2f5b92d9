/**
 * The inbound selector check (RFC 4301 §5.2) exists twice: native/src/esp.cc tsAllowed on
 * the fast path and src/esp/policy.ts on the TypeScript path. Differential property: for
 * random selector lists and random inner packets (IPv4/IPv6, TCP/UDP/ICMP/other, fragments,
 * IPv6 extension headers, truncated headers) both give the same verdict. Addresses are
 * drawn from a tiny space so that matches and mismatches are both frequent.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { binding, bindingAvailable, type NativeEngine } from '../../native/index.js';
import { innerPacketAllowed } from '../../src/esp/policy.js';
import type { SaTrafficSelector } from '../../src/esp/port.js';

const PEER = { address: '127.0.0.2', port: 4500 };

const addr = (family: 4 | 6, last: number) =>
  family === 4 ? Uint8Array.from([10, 0, 0, last]) : Uint8Array.from([0xfd, 0, ...new Array<number>(13).fill(0), last]);

const selArb: fc.Arbitrary<SaTrafficSelector> = fc
  .record({
    family: fc.constantFrom(4 as const, 6 as const),
    a: fc.integer({ min: 0, max: 15 }),
    b: fc.integer({ min: 0, max: 15 }),
    ipProtocol: fc.constantFrom(0, 0, 1, 6, 17, 58),
    ports: fc.oneof(
      fc.constant([0, 65535] as const),
      fc.constant([65535, 0] as const), // OPAQUE
      fc.tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 })).map(([x, y]) => [Math.min(x, y), Math.max(x, y)] as const),
    ),
  })
  .map((s) => ({
    family: s.family,
    startAddr: addr(s.family, Math.min(s.a, s.b)),
    endAddr: addr(s.family, Math.max(s.a, s.b)),
    ipProtocol: s.ipProtocol,
    startPort: s.ports[0],
    endPort: s.ports[1],
  }));

const pktArb = fc
  .record({
    v6: fc.boolean(),
    src: fc.integer({ min: 0, max: 15 }),
    dst: fc.integer({ min: 0, max: 15 }),
    proto: fc.constantFrom(1, 6, 17, 58, 132, 47),
    sport: fc.integer({ min: 0, max: 8 }),
    dport: fc.integer({ min: 0, max: 8 }),
    frag: fc.constantFrom('none', 'none', 'first', 'later'),
    ext: fc.boolean(), // IPv6: a destination-options header before the transport
    cut: fc.integer({ min: 0, max: 6 }), // 0 = whole packet, else truncate the last n·4 bytes of the ports area
  })
  .map((p) => {
    if (!p.v6) {
      const b = new Uint8Array(28);
      b[0] = 0x45;
      b[2] = 0;
      b[3] = b.length;
      if (p.frag === 'first') b[6] = 0x20; // MF
      if (p.frag === 'later') b[7] = 8;
      b[8] = 64;
      b[9] = p.proto;
      b.set(addr(4, p.src), 12);
      b.set(addr(4, p.dst), 16);
      b[21] = p.sport;
      b[23] = p.dport;
      return b.subarray(0, p.cut ? Math.max(20, b.length - p.cut * 2) : b.length);
    }
    const hdrs: number[] = [];
    if (p.ext) hdrs.push(60);
    if (p.frag !== 'none') hdrs.push(44);
    const b = new Uint8Array(40 + hdrs.length * 8 + 8);
    b[0] = 0x60;
    b[5] = b.length - 40;
    b[7] = 64;
    b.set(addr(6, p.src), 8);
    b.set(addr(6, p.dst), 24);
    let off = 40;
    let nhAt = 6;
    for (const h of hdrs) {
      b[nhAt] = h;
      nhAt = off;
      if (h === 44 && p.frag === 'later') b[off + 3] = 8 << 3;
      if (h === 44 && p.frag === 'first') b[off + 3] = 1; // M flag
      off += 8;
    }
    b[nhAt] = p.proto;
    b[off + 1] = p.sport;
    b[off + 3] = p.dport;
    return b.subarray(0, p.cut ? Math.max(40, b.length - p.cut * 2) : b.length);
  });

describe.skipIf(!bindingAvailable)('inbound selector check: TypeScript ≡ native', () => {
  let engine: NativeEngine;
  let conn: number;
  let spi = 0x7000_0000;
  beforeAll(() => {
    engine = new (binding().Engine)(() => {});
    engine.openUdp('127.0.0.1', 0);
    conn = engine.addConnection(-1, 9000, 0);
  });
  afterAll(() => engine.close());

  it('same verdict for random selectors and packets', () => {
    let allowed = 0;
    let denied = 0;
    fc.assert(
      fc.property(fc.array(selArb, { maxLength: 4 }), fc.array(selArb, { maxLength: 4 }), fc.array(pktArb, { minLength: 1, maxLength: 8 }), (localTs, remoteTs, pkts) => {
        spi++;
        const encKey = randomBytes(20);
        engine.addSa({ spi, dir: 'out', conn, encr: 20, encKey, esn: false, remoteAddress: PEER.address, remotePort: PEER.port });
        engine.addSa({ spi, dir: 'in', conn, encr: 20, encKey, esn: false, replayWindow: 64, remoteAddress: PEER.address, remotePort: PEER.port, localTs, remoteTs });
        try {
          let seq = 1n;
          for (const pkt of pkts) {
            const ts = innerPacketAllowed(localTs, remoteTs, pkt);
            const nh = pkt[0]! >>> 4 === 4 ? 4 : 41;
            const r = engine.testInbound(engine.testSeal(spi, pkt, nh, seq++), PEER.address, PEER.port).result;
            // native drops truncated / malformed packets before (or in) the policy check
            const native = r === 'ok' ? true : r === 'policy_mismatch' ? false : null;
            if (native === null) continue;
            expect(ts, `${Buffer.from(pkt).toString('hex')} local=${JSON.stringify(localTs)} remote=${JSON.stringify(remoteTs)}`).toBe(native);
            if (ts) allowed++;
            else denied++;
          }
        } finally {
          engine.delSa(spi, 'in');
          engine.delSa(spi, 'out');
        }
      }),
      { numRuns: 2000, seed: 4301 },
    );
    // the generators must exercise both outcomes
    expect(allowed).toBeGreaterThan(500);
    expect(denied).toBeGreaterThan(500);
  });
});
