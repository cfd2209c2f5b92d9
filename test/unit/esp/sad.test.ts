import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { SeededRng } from '../../../src/common/rng.js';
import { DropReason } from '../../../src/common/errors.js';
import { ENCR, INTEG } from '../../../src/crypto/registry.js';
import type { Endpoint, Lifetime, SaSpec } from '../../../src/esp/port.js';
import { TsSad } from '../../../src/esp/sad.js';
import { encapsulate } from '../../../src/esp/packet.js';
import { SEQ_SOFT_MARGIN } from '../../../src/esp/seq.js';
import { parseTs } from '../../../src/net/traffic-selector.js';

const A: Endpoint = { address: '192.0.2.1', port: 4500 };
const B: Endpoint = { address: '198.51.100.7', port: 4500 };

function spec(over: Partial<SaSpec> & Pick<SaSpec, 'spi' | 'dir'>): SaSpec {
  return {
    connection: 'site-b',
    childId: 1,
    suite: { encr: ENCR.AES_GCM_16, encrKeyBits: 128, integ: 0 },
    encKey: new Uint8Array(20).fill(over.spi & 0xff),
    integKey: new Uint8Array(0),
    esn: false,
    replayWindow: 64,
    local: A,
    remote: B,
    encap: true,
    lifetime: { soft: {}, hard: {} },
    ...over,
  };
}

function ipv4(len = 60, id = 0): Uint8Array {
  const p = new Uint8Array(len);
  p.set([0x45, 0, len >> 8, len & 0xff, id >> 8, id & 0xff, 0, 0, 64, 17, 0, 0, 10, 1, 0, 1, 10, 2, 0, 1]);
  return p;
}
function ipv6(len = 60): Uint8Array {
  const p = new Uint8Array(len);
  p[0] = 0x60;
  p[4] = (len - 40) >> 8;
  p[5] = (len - 40) & 0xff;
  p[6] = 59;
  return p;
}

/** a sender SAD (outbound 0x1001) and a receiver SAD (inbound 0x1001) */
function pair(over: Partial<SaSpec> = {}, txOnly: Partial<SaSpec> = {}, rxOnly: Partial<SaSpec> = {}) {
  const clock = new ManualClock(1000);
  const tx = new TsSad({ clock, rng: new SeededRng(1) });
  const rx = new TsSad({ clock, rng: new SeededRng(2) });
  tx.addSa(spec({ spi: 0x1001, dir: 'out', ...over, ...txOnly }));
  rx.addSa(spec({ spi: 0x1001, dir: 'in', local: B, remote: A, ...over, ...rxOnly }));
  return { clock, tx, rx };
}

function sealOk(sad: TsSad, inner: Uint8Array, conn = 'site-b'): Uint8Array {
  const r = sad.seal(conn, inner);
  if (!r.ok) throw new Error(`seal dropped: ${r.reason}`);
  return r.datagram;
}

describe('TsSad data path', () => {
  for (const [name, suite, keyLen, integKeyLen] of [
    ['aes-gcm-128', { encr: ENCR.AES_GCM_16, encrKeyBits: 128, integ: 0 }, 20, 0],
    ['chacha20-poly1305', { encr: ENCR.CHACHA20_POLY1305, encrKeyBits: 256, integ: 0 }, 36, 0],
    ['aes-cbc-256 + sha256', { encr: ENCR.AES_CBC, encrKeyBits: 256, integ: INTEG.HMAC_SHA2_256_128 }, 32, 32],
  ] as const) {
    for (const esn of [false, true]) {
      it(`${name}${esn ? ' ESN' : ''}: seal → open, IPv4 and IPv6`, () => {
        const { tx, rx } = pair({
          suite,
          esn,
          encKey: new Uint8Array(keyLen).fill(3),
          integKey: new Uint8Array(integKeyLen).fill(4),
        });
        for (const inner of [ipv4(), ipv6(), ipv4(1400), ipv6(41)]) {
          const s = tx.seal('site-b', inner);
          expect(s.ok).toBe(true);
          if (!s.ok) return;
          expect(s.remote).toEqual(B);
          expect(s.encap).toBe(true);
          expect(s.spi).toBe(0x1001);
          const o = rx.open(s.datagram, A);
          expect(o.ok).toBe(true);
          if (!o.ok) return;
          expect(o.inner).toEqual(inner);
          expect(o.connection).toBe('site-b');
          expect(o.spi).toBe(0x1001);
        }
      });
    }
  }

  it('sequence numbers start at 1 and the AEAD IV is the sequence number', () => {
    const { tx } = pair();
    const d1 = sealOk(tx, ipv4());
    const d2 = sealOk(tx, ipv4());
    expect(Array.from(d1.subarray(4, 16))).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(Array.from(d2.subarray(4, 8))).toEqual([0, 0, 0, 2]);
  });

  it('counters, lastUsedMs and per-reason drop statistics', () => {
    const { clock, tx, rx } = pair();
    const d = sealOk(tx, ipv4(100));
    clock.advance(250);
    expect(rx.open(d, A).ok).toBe(true);
    expect(rx.open(d, A)).toEqual({ ok: false, reason: DropReason.Replay });
    expect(rx.open(d.subarray(0, 3), A)).toEqual({ ok: false, reason: DropReason.Malformed });
    const other = d.slice();
    other[3] = 0x02;
    expect(rx.open(other, A)).toEqual({ ok: false, reason: DropReason.UnknownSpi });
    const forged = d.slice();
    forged[4 + 3] = 9; // seq 9: not a replay, but the AAD no longer matches
    expect(rx.open(forged, A)).toEqual({ ok: false, reason: DropReason.AuthFailed });
    expect(tx.querySa(0x1001)).toEqual({ bytes: 100, packets: 1, lastUsedMs: 1000 });
    expect(rx.querySa(0x1001)).toEqual({ bytes: 100, packets: 1, lastUsedMs: 1250 });
    const st = rx.stats();
    expect(st.drops[DropReason.Replay]).toBe(1);
    expect(st.drops[DropReason.Malformed]).toBe(1);
    expect(st.drops[DropReason.UnknownSpi]).toBe(1);
    expect(st.drops[DropReason.AuthFailed]).toBe(1);
    expect(st.inboundSas).toBe(1);
    expect(rx.querySa(0x9999)).toBeUndefined();
  });

  it('a forged packet does not advance the replay window (unauthenticated input changes no state)', () => {
    const { tx, rx } = pair();
    const d1 = sealOk(tx, ipv4());
    const forged = d1.slice();
    forged.set([0, 0, 0x10, 0], 4); // seq 4096 — far ahead
    expect(rx.open(forged, A)).toEqual({ ok: false, reason: DropReason.AuthFailed });
    expect(rx.open(d1, A).ok).toBe(true); // seq 1 still inside the window
  });

  it('reordered packets inside the window are accepted once', () => {
    const { tx, rx } = pair();
    const ds = Array.from({ length: 10 }, () => sealOk(tx, ipv4()));
    for (const i of [3, 1, 2, 0, 9, 5, 4, 8, 7, 6]) expect(rx.open(ds[i]!, A).ok).toBe(true);
    for (const d of ds) expect(rx.open(d, A)).toEqual({ ok: false, reason: DropReason.Replay });
  });

  it('Next Header must match the inner IP version; dummy packets are dropped but consume their number', () => {
    const { rx } = pair();
    const sa = rx.getSa(0x1001, 'in')!;
    const v6as4 = encapsulate(sa, ipv6(), { hi: 0, lo: 1 }, undefined, undefined, 4);
    expect(rx.open(v6as4, A)).toEqual({ ok: false, reason: DropReason.Malformed });
    const dummy = encapsulate(sa, new Uint8Array(8), { hi: 0, lo: 2 }, undefined, undefined, 59);
    expect(rx.open(dummy, A)).toEqual({ ok: false, reason: DropReason.Dummy });
    expect(rx.open(dummy, A)).toEqual({ ok: false, reason: DropReason.Replay });
    const proto1 = encapsulate(sa, ipv4(), { hi: 0, lo: 3 }, undefined, undefined, 1);
    expect(rx.open(proto1, A)).toEqual({ ok: false, reason: DropReason.Malformed });
    expect(rx.stats().drops[DropReason.Dummy]).toBe(1);
  });

  it('inbound selectors (RFC 4301 §5.2): a decrypted packet outside them is dropped as policy_mismatch', () => {
    // ipv4() is 10.1.0.1 → 10.2.0.1 UDP; the receiver's peer is 10.1.0.0/24, its LAN 10.2.0.0/24
    const { tx, rx } = pair({}, {}, { localTs: [parseTs('10.2.0.0/24')], remoteTs: [parseTs('10.1.0.0/24')] });
    expect(rx.open(sealOk(tx, ipv4()), A).ok).toBe(true);
    const spoofed = ipv4();
    spoofed[12] = 172; // source 172.1.0.1
    const r = rx.open(sealOk(tx, spoofed), A);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe(DropReason.PolicyMismatch);
    expect(rx.open(sealOk(tx, ipv6()), A).ok).toBe(false); // no IPv6 selector
    expect(rx.stats().drops[DropReason.PolicyMismatch]).toBe(2);
  });

  it('seal refuses non-IP inner packets', () => {
    const { tx } = pair();
    expect(tx.seal('site-b', new Uint8Array(0))).toEqual({ ok: false, reason: DropReason.Malformed });
    expect(tx.seal('site-b', new Uint8Array([0x20, 0, 0]))).toEqual({ ok: false, reason: DropReason.Malformed });
  });

  it('no SA: drop NoSa and queue one acquire per gap', () => {
    const clock = new ManualClock();
    const sad = new TsSad({ clock, rng: new SeededRng(3) });
    expect(sad.seal('nowhere', ipv4())).toEqual({ ok: false, reason: DropReason.NoSa });
    expect(sad.seal('nowhere', ipv4())).toEqual({ ok: false, reason: DropReason.NoSa });
    expect(sad.drainEvents()).toEqual([{ kind: 'acquire', connection: 'nowhere' }]);
    expect(sad.drainEvents()).toEqual([]);
    expect(sad.stats().drops[DropReason.NoSa]).toBe(2);
  });
});

describe('TsSad outbound slots (make-before-break)', () => {
  it('the first outbound SA becomes current; later ones only after activateOutbound', () => {
    const { tx, rx } = pair();
    rx.addSa(spec({ spi: 0x2002, dir: 'in', local: B, remote: A }));
    tx.addSa(spec({ spi: 0x2002, dir: 'out' }));
    expect(tx.currentOutbound('site-b')).toBe(0x1001);
    const r1 = tx.seal('site-b', ipv4());
    expect(r1.ok && r1.spi).toBe(0x1001);
    tx.activateOutbound('site-b', 0x2002);
    expect(tx.currentOutbound('site-b')).toBe(0x2002);
    const r2 = tx.seal('site-b', ipv4());
    expect(r2.ok && r2.spi).toBe(0x2002);
    // the receiver accepts both during the overlap
    if (r1.ok && r2.ok) {
      expect(rx.open(r1.datagram, A).ok).toBe(true);
      expect(rx.open(r2.datagram, A).ok).toBe(true);
    }
    // deleting the previous SA leaves the current one alone
    tx.delSa(0x1001);
    expect(tx.currentOutbound('site-b')).toBe(0x2002);
    expect(tx.stats().outboundSas).toBe(1);
  });

  it('deleting the current SA falls back to the previous one', () => {
    const { tx } = pair();
    tx.addSa(spec({ spi: 0x2002, dir: 'out' }));
    tx.activateOutbound('site-b', 0x2002);
    tx.delSa(0x2002);
    expect(tx.currentOutbound('site-b')).toBe(0x1001);
    tx.delSa(0x1001);
    expect(tx.currentOutbound('site-b')).toBeUndefined();
    expect(tx.seal('site-b', ipv4())).toEqual({ ok: false, reason: DropReason.NoSa });
  });

  it('activateOutbound of an unknown SA or another connection throws (control plane)', () => {
    const { tx } = pair();
    expect(() => tx.activateOutbound('site-b', 0x7777)).toThrow();
    expect(() => tx.activateOutbound('other', 0x1001)).toThrow();
  });

  it('delSa zeroizes the keys and makes the SPI unknown; unknown SPIs are ignored', () => {
    const { tx, rx } = pair({
      suite: { encr: ENCR.AES_CBC, encrKeyBits: 128, integ: INTEG.HMAC_SHA2_256_128 },
      encKey: new Uint8Array(16).fill(7),
      integKey: new Uint8Array(32).fill(8),
    });
    const d = sealOk(tx, ipv4());
    const sa = rx.getSa(0x1001, 'in')!;
    rx.delSa(0x1001);
    expect(sa.encKey.every((b) => b === 0)).toBe(true);
    expect(sa.integKey!.every((b) => b === 0)).toBe(true);
    expect(rx.open(d, A)).toEqual({ ok: false, reason: DropReason.UnknownSpi });
    expect(() => rx.delSa(0x1001)).not.toThrow();
  });

  it('the SA owns copies of the keys', () => {
    const key = new Uint8Array(20).fill(1);
    const sad = new TsSad({ clock: new ManualClock(), rng: new SeededRng(1) });
    sad.addSa(spec({ spi: 0x3003, dir: 'in', encKey: key }));
    sad.delSa(0x3003);
    expect(key.every((b) => b === 1)).toBe(true);
  });

  it('addSa validates the spec', () => {
    const sad = new TsSad({ clock: new ManualClock(), rng: new SeededRng(1) });
    expect(() => sad.addSa(spec({ spi: 0x10, dir: 'in' }))).toThrow(/SPI/);
    expect(() => sad.addSa(spec({ spi: 0x3003, dir: 'in', encKey: new Uint8Array(16) }))).toThrow(/key/);
    expect(() =>
      sad.addSa(spec({ spi: 0x3003, dir: 'in', suite: { encr: ENCR.AES_GCM_16, encrKeyBits: 128, integ: INTEG.HMAC_SHA2_256_128 } })),
    ).toThrow();
    sad.addSa(spec({ spi: 0x3003, dir: 'in' }));
    expect(() => sad.addSa(spec({ spi: 0x3003, dir: 'in' }))).toThrow(/already/);
    // the same SPI value may exist once per direction
    expect(() => sad.addSa(spec({ spi: 0x3003, dir: 'out' }))).not.toThrow();
  });

  it('allocSpi returns distinct SPIs ≥ 256 not in use', () => {
    const sad = new TsSad({ clock: new ManualClock(), rng: new SeededRng(5) });
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const s = sad.allocSpi();
      expect(s).toBeGreaterThanOrEqual(256);
      expect(s).toBeLessThan(2 ** 32);
      expect(seen.has(s)).toBe(false);
      seen.add(s);
    }
  });
});

describe('TsSad events', () => {
  it('mapping: reported once per new endpoint after authentication; updateSa re-arms', () => {
    const { tx, rx } = pair();
    const moved: Endpoint = { address: '192.0.2.1', port: 31337 };
    expect(rx.open(sealOk(tx, ipv4()), A).ok).toBe(true);
    expect(rx.drainEvents()).toEqual([]);
    // a forged packet from a new endpoint: no event
    const forged = sealOk(tx, ipv4());
    forged[forged.length - 1]! ^= 1;
    expect(rx.open(forged, moved).ok).toBe(false);
    expect(rx.drainEvents()).toEqual([]);
    expect(rx.open(sealOk(tx, ipv4()), moved).ok).toBe(true);
    expect(rx.open(sealOk(tx, ipv4()), moved).ok).toBe(true);
    expect(rx.drainEvents()).toEqual([{ kind: 'mapping', spi: 0x1001, remote: moved }]);
    rx.updateSa(0x1001, { remote: moved });
    expect(rx.getSa(0x1001, 'in')!.remote).toEqual(moved);
    expect(rx.open(sealOk(tx, ipv4()), moved).ok).toBe(true);
    expect(rx.drainEvents()).toEqual([]);
  });

  it('without UDP encapsulation only the address matters', () => {
    const { tx, rx } = pair({ encap: false });
    expect(rx.open(sealOk(tx, ipv4()), { address: A.address, port: 0 }).ok).toBe(true);
    expect(rx.drainEvents()).toEqual([]);
    expect(rx.open(sealOk(tx, ipv4()), { address: '203.0.113.5', port: 0 }).ok).toBe(true);
    expect(rx.drainEvents()).toEqual([{ kind: 'mapping', spi: 0x1001, remote: { address: '203.0.113.5', port: 0 } }]);
  });

  it('updateSa changes where outbound packets go', () => {
    const { tx } = pair();
    tx.updateSa(0x1001, { remote: { address: '203.0.113.9', port: 1234 }, encap: false });
    const r = tx.seal('site-b', ipv4());
    expect(r.ok && r.remote).toEqual({ address: '203.0.113.9', port: 1234 });
    expect(r.ok && r.encap).toBe(false);
  });

  const volume: Array<[string, Lifetime, number, Array<[number, boolean, string]>]> = [
    // [name, lifetime, packet size, [packet index (1-based) → (hard, reason)]]
    ['packets', { soft: { packets: 3 }, hard: { packets: 5 } }, 20, [[3, false, 'packets'], [5, true, 'packets']]],
    ['bytes', { soft: { bytes: 250 }, hard: { bytes: 400 } }, 100, [[3, false, 'bytes'], [4, true, 'bytes']]],
    ['hard only', { soft: {}, hard: { packets: 2 } }, 20, [[2, true, 'packets']]],
    ['soft and hard on the same packet', { soft: { bytes: 100 }, hard: { bytes: 100 } }, 100, [[1, true, 'bytes']]],
  ];
  for (const [name, lifetime, size, expected] of volume) {
    for (const dir of ['out', 'in'] as const) {
      it(`volume lifetime (${name}, ${dir}bound): expire events once, then the SA is dead`, () => {
        const { tx, rx } = dir === 'out' ? pair({}, { lifetime }) : pair({}, {}, { lifetime });
        const sad = dir === 'out' ? tx : rx;
        const got: Array<[number, boolean, string]> = [];
        const lastIdx = expected[expected.length - 1]![0];
        for (let i = 1; i <= lastIdx + 2; i++) {
          const s = tx.seal('site-b', ipv4(size, i));
          if (dir === 'in' && s.ok) rx.open(s.datagram, A);
          for (const e of sad.drainEvents()) {
            if (e.kind === 'expire') {
              expect(e.spi).toBe(0x1001);
              got.push([i, e.hard, e.reason]);
            }
          }
        }
        expect(got).toEqual(expected);
        expect(sad.querySa(0x1001)!.packets).toBe(lastIdx);
        expect(sad.stats().drops[DropReason.NoSa]).toBe(2);
      });
    }
  }

  it('32-bit sequence space: soft expire at 2^32 − 2^26, hard after 2^32 − 1, never wraps', () => {
    const { tx } = pair();
    const seq = tx.getSa(0x1001, 'out')!.seq!;
    seq.set(0, 2 ** 32 - SEQ_SOFT_MARGIN - 2);
    sealOk(tx, ipv4());
    expect(tx.drainEvents()).toEqual([]);
    const soft = sealOk(tx, ipv4());
    expect(Array.from(soft.subarray(4, 8))).toEqual([0xfc, 0, 0, 0]);
    expect(tx.drainEvents()).toEqual([{ kind: 'expire', spi: 0x1001, hard: false, reason: 'seq' }]);
    seq.set(0, 2 ** 32 - 3);
    sealOk(tx, ipv4());
    const last = sealOk(tx, ipv4());
    expect(Array.from(last.subarray(4, 8))).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect(tx.drainEvents()).toEqual([{ kind: 'expire', spi: 0x1001, hard: true, reason: 'seq' }]);
    expect(tx.seal('site-b', ipv4())).toEqual({ ok: false, reason: DropReason.NoSa });
  });

  it('ESN: the sender crosses 2^32 and the receiver follows', () => {
    const { tx, rx } = pair({ esn: true });
    tx.getSa(0x1001, 'out')!.seq!.set(0, 2 ** 32 - 3);
    rx.getSa(0x1001, 'in')!.replay!.commit(0, 2 ** 32 - 10);
    const ds = Array.from({ length: 6 }, () => sealOk(tx, ipv4()));
    expect(Array.from(ds[2]!.subarray(4, 16))).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    for (const i of [0, 3, 1, 5, 2, 4]) expect(rx.open(ds[i]!, A).ok).toBe(true);
    expect(rx.getSa(0x1001, 'in')!.replay!.top).toBe(2 ** 32 + 3);
    expect(tx.drainEvents()).toEqual([]);
  });
});
