/**
 * Native ESP fast path (native/src/esp.cc) against independent computations with node:crypto
 * and against the TypeScript reference codec (src/esp/packet.ts): byte-identical output for
 * AEAD suites, mutual decryption for AES-CBC (random IVs). Tamper / replay / truncation cases
 * must end in counted drops, never in a crash.
 *
 * Needs the addon (npm run build:native) but not root: these tests use Engine.testSeal /
 * Engine.testInbound and a connection without TUN.
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { binding, bindingAvailable, loadError, type NativeEngine } from '../../../native/index.js';
import { createEspSa } from '../../../src/esp/sa.js';
import { decapsulate, encapsulate } from '../../../src/esp/packet.js';
import { AES_GCM_MODES, expectedImpl, type AesGcmMode } from './impl.js';
import type { SaSpec } from '../../../src/esp/port.js';

if (!bindingAvailable) {
  console.warn(`\n*** NATIVE ESP TESTS SKIPPED: ${loadError} ***\n`);
  if (process.env['IKEGW_NATIVE_REQUIRED'] === '1') throw new Error(loadError);
}

const ENCR = { AES_CBC: 12, AES_GCM_16: 20, CHACHA20_POLY1305: 28 } as const;
const INTEG = { NONE: 0, SHA256: 12, SHA384: 13, SHA512: 14 } as const;

interface Suite {
  name: string;
  aesGcm?: AesGcmMode;
  encr: number;
  keyBits: number;
  integ: number;
  encKeyLen: number; // incl. salt for AEAD
  integKeyLen: number;
}
// AES-GCM twice: the default GCM128 fast path and plain EVP (aesGcm: 'evp'), same vectors
const AEAD_SUITES: Suite[] = [
  ...AES_GCM_MODES.flatMap((aesGcm) => [
    { name: `aes128gcm16 (${aesGcm})`, encr: ENCR.AES_GCM_16, keyBits: 128, integ: 0, encKeyLen: 20, integKeyLen: 0, aesGcm },
    { name: `aes256gcm16 (${aesGcm})`, encr: ENCR.AES_GCM_16, keyBits: 256, integ: 0, encKeyLen: 36, integKeyLen: 0, aesGcm },
  ]),
  { name: 'chacha20poly1305', encr: ENCR.CHACHA20_POLY1305, keyBits: 256, integ: 0, encKeyLen: 36, integKeyLen: 0 },
];
const CBC_SUITES: Suite[] = [
  { name: 'aes128-sha256', encr: ENCR.AES_CBC, keyBits: 128, integ: INTEG.SHA256, encKeyLen: 16, integKeyLen: 32 },
  { name: 'aes256-sha384', encr: ENCR.AES_CBC, keyBits: 256, integ: INTEG.SHA384, encKeyLen: 32, integKeyLen: 48 },
  { name: 'aes256-sha512', encr: ENCR.AES_CBC, keyBits: 256, integ: INTEG.SHA512, encKeyLen: 32, integKeyLen: 64 },
];

const SPI = 0xc0ffee01;
const PEER = { address: '127.0.0.1', port: 4500 };

function ipv4Packet(len: number, fill = 0x5a): Buffer {
  const p = Buffer.alloc(len, fill);
  p[0] = 0x45;
  p[1] = 0;
  p.writeUInt16BE(len, 2);
  p[9] = 17;
  return p;
}

function be32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function trailer(len: number, block: number, nh: number): Buffer {
  const pad = (block - ((len + 2) % block)) % block;
  const t = Buffer.alloc(pad + 2);
  for (let i = 0; i < pad; i++) t[i] = i + 1;
  t[pad] = pad;
  t[pad + 1] = nh;
  return t;
}

/** Independent AEAD ESP computation (RFC 4106 / RFC 7634) with node:crypto. */
function refAead(s: Suite, key: Buffer, spi: number, seq: bigint, esn: boolean, inner: Buffer, nh: number): Buffer {
  const hi = Number(seq >> 32n);
  const lo = Number(seq & 0xffffffffn);
  const iv = Buffer.concat([be32(hi), be32(lo)]);
  const salt = key.subarray(key.length - 4);
  const ek = key.subarray(0, key.length - 4);
  const nonce = Buffer.concat([salt, iv]);
  const aad = esn ? Buffer.concat([be32(spi), be32(hi), be32(lo)]) : Buffer.concat([be32(spi), be32(lo)]);
  const alg = s.encr === ENCR.CHACHA20_POLY1305 ? 'chacha20-poly1305' : `aes-${s.keyBits}-gcm`;
  const c = createCipheriv(alg as 'aes-128-gcm', ek, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(Buffer.concat([inner, trailer(inner.length, 4, nh)])), c.final()]);
  return Buffer.concat([be32(spi), be32(lo), iv, ct, c.getAuthTag()]);
}

/** Independent AES-CBC + HMAC-SHA2 ESP computation (RFC 3602 / RFC 4868) for a given IV. */
function refCbc(s: Suite, ek: Buffer, ik: Buffer, spi: number, seq: bigint, esn: boolean, iv: Buffer, inner: Buffer, nh: number): Buffer {
  const hi = Number(seq >> 32n);
  const lo = Number(seq & 0xffffffffn);
  const c = createCipheriv(`aes-${s.keyBits}-cbc` as 'aes-128-cbc', ek, iv);
  c.setAutoPadding(false);
  const ct = Buffer.concat([c.update(Buffer.concat([inner, trailer(inner.length, 16, nh)])), c.final()]);
  const covered = Buffer.concat([be32(spi), be32(lo), iv, ct]);
  const digest = s.integ === INTEG.SHA256 ? 'sha256' : s.integ === INTEG.SHA384 ? 'sha384' : 'sha512';
  const icvLen = s.integ === INTEG.SHA256 ? 16 : s.integ === INTEG.SHA384 ? 24 : 32;
  const h = createHmac(digest, ik).update(covered);
  if (esn) h.update(be32(hi));
  return Buffer.concat([covered, h.digest().subarray(0, icvLen)]);
}

function tsSpec(s: Suite, dir: 'in' | 'out', encKey: Buffer, integKey: Buffer, esn: boolean, window = 64): SaSpec {
  return {
    spi: SPI,
    dir,
    connection: 'c',
    childId: 1,
    suite: { encr: s.encr, encrKeyBits: s.keyBits, integ: s.integ },
    encKey,
    integKey,
    esn,
    replayWindow: window,
    local: { address: '127.0.0.1', port: 4500 },
    remote: PEER,
    encap: true,
    lifetime: { soft: {}, hard: {} },
  };
}

describe.skipIf(!bindingAvailable)('native ESP', () => {
  let engine: NativeEngine;
  let conn: number;

  beforeEach(() => {
    const b = binding();
    engine = new b.Engine(() => {});
    engine.openUdp('127.0.0.1', 0);
    conn = engine.addConnection(-1, 1400, 0);
  });
  afterEach(() => {
    engine.close();
  });

  function addPair(s: Suite, encKey: Buffer, integKey: Buffer, esn: boolean, extra: Record<string, unknown> = {}) {
    for (const dir of ['in', 'out'] as const) {
      engine.addSa({
        spi: SPI,
        dir,
        conn,
        encr: s.encr,
        integ: s.integ,
        encKey,
        integKey,
        esn,
        replayWindow: 64,
        remoteAddress: PEER.address,
        remotePort: PEER.port,
        localAddress: '127.0.0.1',
        localPort: 4500,
        ...(s.aesGcm ? { aesGcm: s.aesGcm } : {}),
        ...extra,
      });
      expect(engine.querySa(SPI, dir)!.impl, `${s.name} ${dir}`).toBe(expectedImpl(s.encr, s.aesGcm));
    }
  }

  describe.each(AEAD_SUITES)('$name', (s) => {
    for (const esn of [false, true]) {
      it(`known answer vs node:crypto and src/esp/packet.ts (esn=${esn})`, () => {
        const key = randomBytes(s.encKeyLen);
        addPair(s, key, Buffer.alloc(0), esn);
        const tsOut = createEspSa(tsSpec(s, 'out', key, Buffer.alloc(0), esn));
        const seqs = esn ? [1n, 7n, 0x1_0000_0005n, 0xffff_ffffn] : [1n, 2n, 1000n, 0xffff_fff0n];
        for (const seq of seqs) {
          for (const len of [20, 21, 22, 23, 60, 1400]) {
            const inner = ipv4Packet(len, len & 0xff);
            const nat = engine.testSeal(SPI, inner, 4, seq);
            expect(nat.toString('hex')).toBe(refAead(s, key, SPI, seq, esn, inner, 4).toString('hex'));
            const ts = encapsulate(tsOut, inner, { hi: Number(seq >> 32n), lo: Number(seq & 0xffffffffn) }, undefined, undefined, 4);
            expect(Buffer.from(ts).toString('hex')).toBe(nat.toString('hex'));
          }
        }
        // native opens what it sealed, and what the TS reference sealed
        const inner = ipv4Packet(100);
        const p = engine.testSeal(SPI, inner, 4, 5n);
        const r = engine.testInbound(p, PEER.address, PEER.port);
        expect(r.result).toBe('ok');
        expect(r.nextHeader).toBe(4);
        expect(r.seq).toBe(5n);
        expect(Buffer.compare(r.payload!, inner)).toBe(0);
        const ts = encapsulate(tsOut, inner, { hi: 0, lo: 6 }, undefined, undefined, 4);
        expect(engine.testInbound(ts, PEER.address, PEER.port).result).toBe('ok');
        // and the TS reference opens a native packet
        const tsIn = createEspSa(tsSpec(s, 'in', key, Buffer.alloc(0), esn));
        const d = decapsulate(tsIn, engine.testSeal(SPI, inner, 4, 9n), 0);
        expect(d.ok).toBe(true);
        if (d.ok) expect(Buffer.compare(Buffer.from(d.inner), inner)).toBe(0);
      });
    }
  });

  describe.each(CBC_SUITES)('$name', (s) => {
    for (const esn of [false, true]) {
      it(`known answer vs node:crypto, mutual decryption with src/esp/packet.ts (esn=${esn})`, () => {
        const ek = randomBytes(s.encKeyLen);
        const ik = randomBytes(s.integKeyLen);
        addPair(s, ek, ik, esn);
        const seq = esn ? 0x2_0000_0003n : 3n;
        for (const len of [20, 33, 47, 1400]) {
          const inner = ipv4Packet(len, 0x33);
          const nat = engine.testSeal(SPI, inner, 4, seq);
          const iv = nat.subarray(8, 24);
          expect(nat.toString('hex')).toBe(refCbc(s, ek, ik, SPI, seq, esn, Buffer.from(iv), inner, 4).toString('hex'));
        }
        // TS reference ⇄ native
        const tsOut = createEspSa(tsSpec(s, 'out', ek, ik, esn));
        const tsIn = createEspSa(tsSpec(s, 'in', ek, ik, esn));
        const inner = ipv4Packet(333, 0x44);
        const hiSeq = esn ? 0 : 0;
        const ts = encapsulate(tsOut, inner, { hi: hiSeq, lo: 10 }, randomBytes(16), undefined, 4);
        const r = engine.testInbound(ts, PEER.address, PEER.port);
        expect(r.result).toBe('ok');
        expect(Buffer.compare(r.payload!, inner)).toBe(0);
        const nat = engine.testSeal(SPI, inner, 4, 11n);
        const d = decapsulate(tsIn, nat, 0);
        expect(d.ok).toBe(true);
        if (d.ok) expect(Buffer.compare(Buffer.from(d.inner), inner)).toBe(0);
      });
    }
  });

  it('tampering, truncation, replay, unknown SPI and padding errors are counted drops', () => {
    const s = AEAD_SUITES[0]!;
    const key = randomBytes(s.encKeyLen);
    addPair(s, key, Buffer.alloc(0), false);
    const inner = ipv4Packet(64);
    const good = engine.testSeal(SPI, inner, 4, 1n);
    const cases: Array<[string, Buffer, string]> = [];
    const flipCt = Buffer.from(good);
    flipCt[30]! ^= 1;
    cases.push(['ciphertext bit flip', flipCt, 'auth_failed']);
    const flipIcv = Buffer.from(good);
    flipIcv[flipIcv.length - 1]! ^= 0x80;
    cases.push(['ICV bit flip', flipIcv, 'auth_failed']);
    const flipSeq = Buffer.from(good);
    flipSeq[7]! ^= 2;
    cases.push(['sequence number changed (AAD)', flipSeq, 'auth_failed']);
    cases.push(['truncated to 7 bytes', good.subarray(0, 7), 'malformed']);
    cases.push(['truncated below header+ICV', good.subarray(0, 30), 'malformed']);
    cases.push(['truncated by one byte', good.subarray(0, good.length - 1), 'auth_failed']);
    const otherSpi = Buffer.from(good);
    otherSpi.writeUInt32BE(0x12345678, 0);
    cases.push(['unknown SPI', otherSpi, 'unknown_spi']);
    cases.push(['empty', Buffer.alloc(0), 'malformed']);
    for (const [, pkt, want] of cases) expect(engine.testInbound(pkt, PEER.address, PEER.port).result).toBe(want);
    // the window did not move on any of those: the genuine packet still passes, once
    expect(engine.testInbound(good, PEER.address, PEER.port).result).toBe('ok');
    expect(engine.testInbound(good, PEER.address, PEER.port).result).toBe('replay');
    const st = engine.stats();
    expect(st.drops.auth_failed).toBe(4);
    expect(st.drops.malformed).toBe(3);
    expect(st.drops.unknown_spi).toBe(1);
    expect(st.drops.replay).toBe(1);
    expect(st.rxEspPackets).toBe(1);

    // bad padding (authenticated but not 1,2,3,…): build with node:crypto
    // authenticated, but the padding is 1,9 instead of 1,2
    const salt = key.subarray(16);
    const nonce = Buffer.concat([salt, Buffer.from([0, 0, 0, 0, 0, 0, 0, 3])]);
    const c = createCipheriv('aes-128-gcm', key.subarray(0, 16), nonce, { authTagLength: 16 });
    c.setAAD(Buffer.concat([be32(SPI), be32(3)]));
    const plain = Buffer.concat([ipv4Packet(20), Buffer.from([1, 9, 2, 4])]);
    const ct = Buffer.concat([c.update(plain), c.final()]);
    const badPad = Buffer.concat([be32(SPI), be32(3), Buffer.from([0, 0, 0, 0, 0, 0, 0, 3]), ct, c.getAuthTag()]);
    expect(engine.testInbound(badPad, PEER.address, PEER.port).result).toBe('malformed');
  });

  it('replay window: in-window reordering accepted, duplicates and too-old dropped (W=64)', () => {
    const s = AEAD_SUITES[2]!;
    addPair(s, randomBytes(s.encKeyLen), Buffer.alloc(0), false);
    const inner = ipv4Packet(40);
    const pk = (seq: bigint) => engine.testSeal(SPI, inner, 4, seq);
    const res = (seq: bigint) => engine.testInbound(pk(seq), PEER.address, PEER.port).result;
    expect(res(100n)).toBe('ok');
    expect(res(37n)).toBe('ok'); // 100 − 37 = 63 < 64
    expect(res(36n)).toBe('replay'); // 100 − 36 = 64: too old
    expect(res(37n)).toBe('replay'); // duplicate
    expect(res(99n)).toBe('ok');
    expect(res(200n)).toBe('ok'); // slides
    expect(res(136n)).toBe('replay'); // 200 − 136 = 64
    expect(res(137n)).toBe('ok');
    expect(res(5000n)).toBe('ok'); // big jump clears the bitmap
    expect(res(4999n)).toBe('ok');
  });

  it('ESN: high bits inferred across the 2^32 boundary (RFC 4303 A2.2)', () => {
    const s = AEAD_SUITES[1]!;
    addPair(s, randomBytes(s.encKeyLen), Buffer.alloc(0), true);
    const inner = ipv4Packet(40);
    const open = (seq: bigint) => engine.testInbound(engine.testSeal(SPI, inner, 4, seq), PEER.address, PEER.port);
    // with T = 0 a low value near 2^32 would need seqHi = −1: dropped (case B)
    expect(open(0xffff_fff0n).result).toBe('replay');
    expect(open(1000n).result).toBe('ok');
    expect(open(0xffff_fff0n).seq).toBe(0xffff_fff0n);
    const r = open(0x1_0000_0003n); // only lo = 3 travels
    expect(r.result).toBe('ok');
    expect(r.seq).toBe(0x1_0000_0003n);
    const late = open(0xffff_fff5n); // straggler from the previous subspace, still in window
    expect(late.result).toBe('ok');
    expect(late.seq).toBe(0xffff_fff5n);
  });

  it('next header 59 (dummy) and non-IP next headers are dropped after authentication', () => {
    const s = AEAD_SUITES[0]!;
    addPair(s, randomBytes(s.encKeyLen), Buffer.alloc(0), false);
    expect(engine.testInbound(engine.testSeal(SPI, ipv4Packet(40), 59, 1n), PEER.address, PEER.port).result).toBe('dummy');
    expect(engine.testInbound(engine.testSeal(SPI, ipv4Packet(40), 17, 2n), PEER.address, PEER.port).result).toBe('policy_mismatch');
    expect(engine.testInbound(engine.testSeal(SPI, ipv4Packet(40), 41, 3n), PEER.address, PEER.port).result).toBe('malformed');
    const st = engine.stats();
    expect(st.drops.dummy).toBe(1);
    expect(st.drops.policy_mismatch).toBe(1);
  });

  it('mapping event only for authenticated packets from a new endpoint, once', () => {
    const s = AEAD_SUITES[0]!;
    addPair(s, randomBytes(s.encKeyLen), Buffer.alloc(0), false);
    const inner = ipv4Packet(40);
    const forged = Buffer.from(engine.testSeal(SPI, inner, 4, 1n));
    forged[20]! ^= 1;
    expect(engine.testInbound(forged, '127.0.0.9', 1234).result).toBe('auth_failed');
    expect(engine.takeEvents()).toEqual([]);
    expect(engine.testInbound(engine.testSeal(SPI, inner, 4, 2n), PEER.address, PEER.port).result).toBe('ok');
    expect(engine.takeEvents()).toEqual([]);
    expect(engine.testInbound(engine.testSeal(SPI, inner, 4, 3n), '127.0.0.9', 1234).result).toBe('ok');
    expect(engine.testInbound(engine.testSeal(SPI, inner, 4, 4n), '127.0.0.9', 1234).result).toBe('ok');
    expect(engine.takeEvents()).toEqual([{ kind: 'mapping', spi: SPI, remoteAddress: '127.0.0.9', remotePort: 1234 }]);
  });

  it('volume lifetimes and sequence exhaustion raise soft then hard expire events', () => {
    const s = AEAD_SUITES[0]!;
    addPair(s, randomBytes(s.encKeyLen), Buffer.alloc(0), false, { softPackets: 2, hardPackets: 3, softBytes: 1e9 });
    const inner = ipv4Packet(40);
    for (let i = 1n; i <= 4n; i++) {
      const p = engine.testSeal(SPI, inner, 4, i);
      const r = engine.testInbound(p, PEER.address, PEER.port).result;
      expect(r).toBe(i <= 3n ? 'ok' : 'no_sa'); // hard-expired inbound SA accepts nothing more
    }
    const evs = engine.takeEvents().filter((e) => e.kind === 'expire');
    expect(evs).toEqual([
      { kind: 'expire', spi: SPI, dir: 'out', hard: false, reason: 'packets' },
      { kind: 'expire', spi: SPI, dir: 'in', hard: false, reason: 'packets' },
      { kind: 'expire', spi: SPI, dir: 'out', hard: true, reason: 'packets' },
      { kind: 'expire', spi: SPI, dir: 'in', hard: true, reason: 'packets' },
    ]);
    // sequence space: soft 2^26 before the end, hard after the last value, then nothing
    engine.delSa(SPI, 'out');
    engine.addSa({ spi: SPI, dir: 'out', conn, encr: s.encr, encKey: randomBytes(20), esn: false, remoteAddress: PEER.address, remotePort: PEER.port });
    engine.testSeal(SPI, inner, 4, 0x1_0000_0000n - (1n << 26n));
    expect(engine.takeEvents()).toEqual([{ kind: 'expire', spi: SPI, dir: 'out', hard: false, reason: 'seq' }]);
    engine.testSeal(SPI, inner, 4, 0xffff_ffffn);
    expect(engine.takeEvents()).toEqual([{ kind: 'expire', spi: SPI, dir: 'out', hard: true, reason: 'seq' }]);
    expect(() => engine.testSeal(SPI, inner, 4)).toThrow(/no_sa/);
  });

  it('MSS clamping of a decrypted TCP SYN, with a valid checksum', () => {
    engine.close();
    engine = new (binding().Engine)(() => {});
    engine.openUdp('127.0.0.1', 0);
    conn = engine.addConnection(-1, 1400, 1360);
    const s = AEAD_SUITES[0]!;
    addPair(s, randomBytes(s.encKeyLen), Buffer.alloc(0), false);
    // IPv4 + TCP SYN with options: NOP NOP MSS 1460 (MSS at an odd/even mix of offsets)
    const tcp = Buffer.alloc(28);
    tcp.writeUInt16BE(12345, 0);
    tcp.writeUInt16BE(80, 2);
    tcp[12] = 7 << 4;
    tcp[13] = 0x02;
    tcp.writeUInt16BE(65535, 14);
    Buffer.from([1, 1, 2, 4, 0x05, 0xb4, 0, 0]).copy(tcp, 20);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(48, 2);
    ip[8] = 64;
    ip[9] = 6;
    Buffer.from([10, 1, 0, 1, 10, 2, 0, 1]).copy(ip, 12);
    const pkt = Buffer.concat([ip, tcp]);
    const r = engine.testInbound(engine.testSeal(SPI, pkt, 4, 1n), PEER.address, PEER.port);
    expect(r.result).toBe('ok');
    const out = r.payload!;
    expect(out.readUInt16BE(20 + 24)).toBe(1360);
    // verify the TCP checksum independently
    const seg = out.subarray(20);
    let sum = 0;
    const add = (b: Buffer) => {
      for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
    };
    add(out.subarray(12, 20));
    sum += 6 + seg.length;
    add(seg);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(sum).toBe(0xffff);
  });

  it('MSS clamp auto: packet limit − 40 for IPv4, − 60 for IPv6, following pathMtu and the SA overhead', () => {
    engine.close();
    engine = new (binding().Engine)(() => {});
    engine.openUdp('127.0.0.1', 0);
    conn = engine.addConnection(-1, 1400, -1);
    const s = AEAD_SUITES[0]!;
    addPair(s, randomBytes(s.encKeyLen), Buffer.alloc(0), false);
    /** TCP SYN advertising MSS 1460 (IPv4) or 1440 (IPv6) */
    const syn = (v: 4 | 6): Buffer => {
      const tcp = Buffer.alloc(24);
      tcp.writeUInt16BE(40000, 0);
      tcp.writeUInt16BE(443, 2);
      tcp[12] = 6 << 4;
      tcp[13] = 0x02;
      Buffer.from([2, 4, ...(v === 4 ? [0x05, 0xb4] : [0x05, 0xa0])]).copy(tcp, 20);
      const ip = Buffer.alloc(v === 4 ? 20 : 40);
      if (v === 4) {
        ip[0] = 0x45;
        ip.writeUInt16BE(44, 2);
        ip[8] = 64;
        ip[9] = 6;
      } else {
        ip[0] = 0x60;
        ip.writeUInt16BE(24, 4);
        ip[6] = 6;
        ip[7] = 64;
      }
      return Buffer.concat([ip, tcp]);
    };
    let seq = 1n;
    const mssAfter = (v: 4 | 6): number => {
      const r = engine.testInbound(engine.testSeal(SPI, syn(v), v === 4 ? 4 : 41, seq++), PEER.address, PEER.port);
      expect(r.result).toBe('ok');
      return r.payload!.readUInt16BE((v === 4 ? 20 : 40) + 22);
    };
    // no outbound SA yet: the tunnel MTU is the limit
    expect(mssAfter(4)).toBe(1360);
    expect(mssAfter(6)).toBe(1340);
    // path MTU 1400 with the AES-GCM SA current: the limit drops to what fits in one outer packet
    engine.setConnection(conn, 1400, -1, { pathMtu: 1400 });
    engine.activateOutbound(conn, SPI);
    const limit = engine.connectionLimit(conn);
    expect(limit).toBeLessThan(1400);
    expect(mssAfter(4)).toBe(limit - 40);
    expect(mssAfter(6)).toBe(limit - 60);
    // a configured value is used as is for both families; 0 = off
    engine.setConnection(conn, 1400, 1200, {});
    expect(mssAfter(4)).toBe(1200);
    expect(mssAfter(6)).toBe(1200);
    engine.setConnection(conn, 1400, 0, {});
    expect(mssAfter(4)).toBe(1460);
  });

  it('packet limit: maxPacket, else the MTU; pathMtu caps it by outer IP/UDP + ESP overhead', () => {
    const c2 = engine.addConnection(-1, 1500, 0, { maxPacket: 1400 });
    expect(engine.connectionLimit(c2)).toBe(1400);
    expect(engine.connectionLimit(conn)).toBe(1400); // mtu
    const c3 = engine.addConnection(-1, 1500, 0, { pathMtu: 1400 });
    expect(engine.connectionLimit(c3)).toBe(1500); // no active SA yet: only the MTU applies
    const base = { dir: 'out' as const, esn: false, remoteAddress: PEER.address, remotePort: PEER.port };
    // AES-GCM over UDP/IPv4: 1400 − 20 − 8 = 1372 for ESP; − 8 (hdr) − 8 (IV) − 16 (ICV) = 1340, 4-aligned, − 2 trailer
    engine.addSa({ ...base, spi: 0x3001, conn: c3, encr: 20, encKey: randomBytes(20) });
    engine.activateOutbound(c3, 0x3001);
    expect(engine.connectionLimit(c3)).toBe(1338);
    // AES-CBC + SHA-256 (ICV 16, IV 16): 1372 − 40 = 1332 → 1328 (16-aligned) − 2
    engine.addSa({ ...base, spi: 0x3002, conn: c3, encr: 12, encKey: randomBytes(16), integ: 12, integKey: randomBytes(32) });
    engine.activateOutbound(c3, 0x3002);
    expect(engine.connectionLimit(c3)).toBe(1326);
    // maxPacket below the path limit wins
    expect(engine.setConnection(c3, 1500, 0, { maxPacket: 1300, pathMtu: 1400 })).toBe(true);
    expect(engine.connectionLimit(c3)).toBe(1300);
    expect(engine.connectionLimit(99)).toBe(0);
  });

  it.skipIf(process.getuid?.() !== 0)('raw ESP SA: add, switch encapsulation both ways with updateSa, seal/open unchanged', () => {
    const s = AEAD_SUITES[0]!;
    const key = randomBytes(s.encKeyLen);
    addPair(s, key, Buffer.alloc(0), false, { encap: false });
    const inner = ipv4Packet(80);
    expect(engine.testInbound(engine.testSeal(SPI, inner, 4, 1n), PEER.address, 0).result).toBe('ok');
    engine.updateSa(SPI, 'out', { encap: true });
    engine.updateSa(SPI, 'in', { encap: true });
    expect(engine.testInbound(engine.testSeal(SPI, inner, 4, 2n), PEER.address, PEER.port).result).toBe('ok');
    engine.updateSa(SPI, 'out', { encap: false, remoteAddress: '::1', remotePort: 0 });
    expect(engine.testInbound(engine.testSeal(SPI, inner, 4, 3n), PEER.address, PEER.port).result).toBe('ok');
    // raw packets carry no port: no NAT mapping events
    expect(engine.takeEvents()).toEqual([]);
  });

  it('data threads run at the requested nice value (root), else keep the inherited one', () => {
    engine.start({ nice: -3 });
    const root = process.getuid?.() === 0;
    expect(engine.stats().threadNice).toBe(root ? -3 : 0);
    engine.stop();
  });

  it('rejects bad SA parameters with clear errors', () => {
    const base = { dir: 'out' as const, conn, esn: false, remoteAddress: PEER.address, remotePort: PEER.port };
    expect(() => engine.addSa({ ...base, spi: 17, encr: 20, encKey: randomBytes(20) })).toThrow(/reserved/);
    expect(() => engine.addSa({ ...base, spi: 0x1000, encr: 20, encKey: randomBytes(19) })).toThrow(/key length/);
    expect(() => engine.addSa({ ...base, spi: 0x1000, encr: 12, encKey: randomBytes(16) })).toThrow(/HMAC/);
    expect(() => engine.addSa({ ...base, spi: 0x1000, encr: 20, encKey: randomBytes(20), aesGcm: 'fast' as 'auto' })).toThrow(/aesGcm must be 'auto' or 'evp'/);
    // raw ESP (encap: false) needs CAP_NET_RAW for the IPPROTO_ESP raw socket
    try {
      engine.addSa({ ...base, spi: 0x1001, encr: 20, encKey: randomBytes(20), encap: false });
      expect(engine.delSa(0x1001, 'out')).toBe(true);
    } catch (e) {
      expect(String(e)).toMatch(/raw ESP socket/);
    }
    expect(() => engine.addSa({ ...base, spi: 0x1000, conn: 99, encr: 20, encKey: randomBytes(20) })).toThrow(/connection/);
    expect(() => engine.activateOutbound(conn, 0x4242)).toThrow(/unknown outbound SPI/);
  });
});
