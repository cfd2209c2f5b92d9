/**
 * The IKE core never throws on hostile input: recorded datagrams of real handshakes, mutated
 * (bit flips, truncations, splices, header edits), are fed to managers in every state
 * (fresh responder, half-open, established). Every call must return normally, and an
 * established SA must survive (garbage never tears down a tunnel that was fine).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { makePair } from '../helpers/sim.js';

function recorded(ike: string, esp: string) {
  const p = makePair({ ike: [ike], esp: [esp], extra: '    fragmentation: { enabled: true, max_size: 576 }' });
  p.initiate();
  p.run();
  return [...p.a.sent.map((s) => s.bytes), ...p.b.sent.map((s) => s.bytes)];
}

const SAMPLES = [...recorded('aes256gcm16-prfsha256-x25519', 'aes256gcm16'), ...recorded('aes256-sha256-modp2048', 'aes256-sha256')];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('header' as const), field: fc.integer({ min: 16, max: 27 }), v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ minLength: 0, maxLength: 600 }) }),
);

function mutate(src: Uint8Array, m: fc.Arbitrary<unknown> extends never ? never : { kind: string; at?: number; bit?: number; v?: number; field?: number; bytes?: Uint8Array }): Uint8Array {
  const b = new Uint8Array(src);
  switch (m.kind) {
    case 'flip':
      b[m.at! % b.length] = (b[m.at! % b.length] ?? 0) ^ (1 << m.bit!);
      return b;
    case 'truncate':
      return b.subarray(0, m.at! % (b.length + 1));
    case 'byte':
      b[m.at! % b.length] = m.v!;
      return b;
    case 'header':
      b[m.field!] = m.v!;
      return b;
    default:
      return m.bytes!;
  }
}

describe('IKE core under hostile input', () => {
  it('never throws, and an established SA survives', () => {
    const p = makePair({});
    p.initiate();
    p.run();
    const before = p.b.mgr.list()[0]!.ike;
    expect(before.state).toBe('established');
    const local = { address: '10.0.0.2', port: 4500 };
    const remote = { address: '10.0.0.1', port: 4500 };
    let calls = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SAMPLES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (i, ms) => {
        let d = SAMPLES[i]!;
        for (const m of ms) d = mutate(d, m);
        // responder B (established) and a fresh responder C see the same garbage
        p.b.mgr.handleDatagram(d, local, remote, p.clock.now());
        p.a.mgr.handleDatagram(d, remote, local, p.clock.now());
        calls += 2;
      }),
      { numRuns: 3000, seed: 4242 },
    );
    expect(calls).toBe(6000);
    const after = p.b.mgr.list().find((s) => s.ike.spiI === before.spiI);
    expect(after?.ike.state).toBe('established');
    expect(p.a.mgr.list().find((s) => s.ike.spiI === before.spiI)?.ike.state).toBe('established');
    // and the tunnel still works: a liveness check goes through
    p.advance(31_000);
    expect(p.a.mgr.list()[0]!.ike.state).toBe('established');
  });

  it('bounded state: a flood of IKE_SA_INIT requests from many addresses hits COOKIEs and the half-open cap', () => {
    const p = makePair({}, { cookieThreshold: 5, localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] });
    const init = SAMPLES[0]!; // A's IKE_SA_INIT request
    for (let i = 0; i < 500; i++) {
      const d = new Uint8Array(init);
      d[0] = i & 0xff;
      d[1] = (i >> 8) & 0xff; // distinct SPIi
      p.b.mgr.handleDatagram(d, { address: '10.0.0.2', port: 500 }, { address: '10.0.0.1', port: 1000 + i }, p.clock.now());
    }
    expect(p.b.mgr.list().length).toBeLessThanOrEqual(5);
    expect(p.b.mgr.stats.cookiesSent).toBeGreaterThanOrEqual(495);
    // half-open SAs expire (the datagrams bypassed the sim, so tick B directly)
    p.clock.advance(31_000);
    p.b.mgr.tick(p.clock.now());
    expect(p.b.mgr.list().length).toBe(0);
  });
});
