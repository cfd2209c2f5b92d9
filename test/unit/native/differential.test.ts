/**
 * Differential test: native ESP (native/src/esp.cc via Engine.testSeal / testInbound) against
 * the TypeScript reference codec (src/esp/packet.ts, the byte-identical oracle).
 *
 * For every suite (AES-GCM-128/256, ChaCha20-Poly1305, AES-CBC-128/256 × HMAC-SHA2-256/384/512),
 * with and without ESN, and inner packets of every size class 1..9000 bytes (1..64 all, then
 * seeded random sizes up to 9000, plus the block/alignment edges): the native seal and
 * `encapsulate()` give byte-identical ESP for the same SA, sequence number and IV (for CBC the
 * IV the native path chose is fed into `encapsulate`), and each side decrypts the other's.
 * The native seal is also run from two buffers (head ‖ body at 52, 72 or a random offset, as
 * TSO segments are sealed): same bytes again.
 * With ESN the sequence numbers cross the 2^32 boundary.
 *
 * Deterministic: a seeded PRNG drives sizes, contents and keys (IKEGW_DIFF_SEED overrides).
 * Needs the addon, not root.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { binding, bindingAvailable, loadError, type NativeEngine } from '../../../native/index.js';
import { createEspSa } from '../../../src/esp/sa.js';
import { decapsulate, encapsulate } from '../../../src/esp/packet.js';
import { AES_GCM_MODES, expectedImpl, type AesGcmMode } from './impl.js';
import type { SaSpec } from '../../../src/esp/port.js';

if (!bindingAvailable) {
  console.warn(`\n*** NATIVE DIFFERENTIAL TESTS SKIPPED: ${loadError} ***\n`);
  if (process.env['IKEGW_NATIVE_REQUIRED'] === '1') throw new Error(loadError);
}

interface Suite {
  name: string;
  aesGcm?: AesGcmMode;
  encr: number;
  keyBits: number;
  integ: number;
  encKeyLen: number; // incl. salt for AEAD
  integKeyLen: number;
}
// AES-GCM twice: the default GCM128 fast path and plain EVP (aesGcm: 'evp')
const SUITES: Suite[] = [
  ...AES_GCM_MODES.flatMap((aesGcm) => [
    { name: `aes128gcm16 (${aesGcm})`, encr: 20, keyBits: 128, integ: 0, encKeyLen: 20, integKeyLen: 0, aesGcm },
    { name: `aes256gcm16 (${aesGcm})`, encr: 20, keyBits: 256, integ: 0, encKeyLen: 36, integKeyLen: 0, aesGcm },
  ]),
  { name: 'chacha20poly1305', encr: 28, keyBits: 256, integ: 0, encKeyLen: 36, integKeyLen: 0 },
];
for (const keyBits of [128, 256]) {
  for (const [integ, h, ikl] of [
    [12, 'sha256', 32],
    [13, 'sha384', 48],
    [14, 'sha512', 64],
  ] as const) {
    SUITES.push({ name: `aes${keyBits}-${h}`, encr: 12, keyBits, integ, encKeyLen: keyBits / 8, integKeyLen: ikl });
  }
}

const SEED = Number(process.env['IKEGW_DIFF_SEED'] ?? 0x1ce6e);
const CASES = 300;
const SPI = 0x5eed0101;
const PEER = { address: '127.0.0.1', port: 4500 };

/** mulberry32: small deterministic PRNG */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function bytes(rnd: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (rnd() * 256) | 0;
  return b;
}

/** 1..64 all, the CBC/AEAD alignment edges around a few sizes, then random up to 9000 */
function sizes(rnd: () => number): number[] {
  const s: number[] = [];
  for (let i = 1; i <= 64; i++) s.push(i);
  for (const base of [1280, 1400, 1500, 4096, 8192]) for (let d = -2; d <= 17; d++) s.push(base + d);
  s.push(8999, 9000);
  while (s.length < CASES) s.push(1 + Math.floor(rnd() * 9000));
  return s;
}

/**
 * An inner packet of `len` bytes: a real IPv4 (≥ 20) or IPv6 (≥ 40, every third) header with a
 * random body, next header 4 / 41, which the native inbound path delivers ('ok'); shorter ones
 * are random bytes with next header 253 (RFC 3692 experimental), which the native path
 * authenticates and decrypts, then refuses as policy_mismatch (payload still returned).
 */
function innerPacket(rnd: () => number, len: number, i: number): { pkt: Buffer; nh: number; want: string } {
  const pkt = bytes(rnd, len);
  if (len >= 40 && i % 3 === 0) {
    pkt[0] = 0x60 | (pkt[0]! & 0x0f);
    pkt.writeUInt16BE(len - 40, 4);
    return { pkt, nh: 41, want: 'ok' };
  }
  if (len >= 20) {
    pkt[0] = 0x45;
    pkt.writeUInt16BE(len & 0xffff, 2);
    return { pkt, nh: 4, want: 'ok' };
  }
  return { pkt, nh: 253, want: 'policy_mismatch' };
}

function tsSpec(s: Suite, dir: 'in' | 'out', encKey: Buffer, integKey: Buffer, esn: boolean): SaSpec {
  return {
    spi: SPI,
    dir,
    connection: 'c',
    childId: 1,
    suite: { encr: s.encr, encrKeyBits: s.keyBits, integ: s.integ },
    encKey,
    integKey,
    esn,
    replayWindow: 4096,
    local: { address: '127.0.0.1', port: 4500 },
    remote: PEER,
    encap: true,
    lifetime: { soft: {}, hard: {} },
  };
}

describe.skipIf(!bindingAvailable)('native ESP ⇄ src/esp/packet.ts differential', () => {
  let engine: NativeEngine;
  let conn: number;

  beforeEach(() => {
    engine = new (binding().Engine)(() => {});
    engine.openUdp('127.0.0.1', 0);
    conn = engine.addConnection(-1, 9200, 0);
  });
  afterEach(() => {
    engine.close();
  });

  describe.each(SUITES)('$name', (s) => {
    for (const esn of [false, true]) {
      it(`${CASES} sizes 1..9000: byte-identical seal, mutual open (esn=${esn})`, () => {
        const rnd = prng(SEED ^ (s.encr * 7919 + s.keyBits * 31 + s.integ * 3 + (esn ? 1 : 0)));
        const ek = bytes(rnd, s.encKeyLen);
        const ik = bytes(rnd, s.integKeyLen);
        for (const dir of ['in', 'out'] as const) {
          engine.addSa({
            spi: SPI, dir, conn, encr: s.encr, integ: s.integ, encKey: ek, integKey: ik, esn,
            replayWindow: 4096, remoteAddress: PEER.address, remotePort: PEER.port,
            ...(s.aesGcm ? { aesGcm: s.aesGcm } : {}),
          });
          expect(engine.querySa(SPI, dir)!.impl, `${s.name} ${dir}`).toBe(expectedImpl(s.encr, s.aesGcm));
        }
        const tsOut = createEspSa(tsSpec(s, 'out', ek, ik, esn));
        const tsIn = createEspSa(tsSpec(s, 'in', ek, ik, esn));
        // ESN: start below 2^32 so the run crosses into seqHi = 1 (prime the native window at 5000 ≥ W − 1 first, RFC 4303 A2.2)
        let seq = esn ? 0xffff_ff00n : 1000n;
        if (esn) {
          const p = innerPacket(rnd, 40, 1);
          expect(engine.testInbound(engine.testSeal(SPI, p.pkt, p.nh, 5000n), PEER.address, PEER.port).result).toBe('ok');
        }
        const list = sizes(rnd);
        for (let i = 0; i < list.length; i++) {
          const len = list[i]!;
          const { pkt, nh, want } = innerPacket(rnd, len, i);
          const hi = Number(seq >> 32n);
          const lo = Number(seq & 0xffff_ffffn);
          const ctx = `${s.name} esn=${esn} len=${len} seq=${seq}`;

          // 1. native seal == TS encapsulate, same SA / seq / IV
          const nat = engine.testSeal(SPI, pkt, nh, seq);
          const iv = s.encr === 12 ? Buffer.from(nat.subarray(8, 24)) : undefined;
          const ts = Buffer.from(encapsulate(tsOut, pkt, { hi, lo }, iv, undefined, nh));
          if (!nat.equals(ts)) expect(nat.toString('hex'), ctx).toBe(ts.toString('hex'));

          // 1b. the same packet sealed from two buffers as TSO segments are (head ‖ body,
          // espSealSplit): same bytes for AEAD (CBC picks a fresh IV: TS must open it)
          if (len > 1) {
            const split = Math.min(len - 1, i % 4 === 0 ? 52 : i % 4 === 1 ? 72 : 1 + Math.floor(rnd() * (len - 1)));
            const sp = engine.testSeal(SPI, pkt, nh, seq, split);
            const sctx = `${ctx} split=${split}`;
            if (s.encr !== 12) {
              if (!sp.equals(ts)) expect(sp.toString('hex'), sctx).toBe(ts.toString('hex'));
            } else {
              const ds = decapsulate(tsIn, sp, hi);
              expect(ds.ok && Buffer.from(ds.inner).equals(pkt), sctx).toBe(true);
            }
          }

          // 2. TS opens the native packet
          const d = decapsulate(tsIn, nat, hi);
          expect(d.ok, ctx).toBe(true);
          if (d.ok) {
            expect(d.nextHeader, ctx).toBe(nh);
            expect(Buffer.from(d.inner).equals(pkt), ctx).toBe(true);
          }

          // 3. native opens a TS packet (a fresh IV for CBC, next sequence number)
          seq += 1n;
          const hi2 = Number(seq >> 32n);
          const ts2 = encapsulate(tsOut, pkt, { hi: hi2, lo: Number(seq & 0xffff_ffffn) }, s.encr === 12 ? bytes(rnd, 16) : undefined, undefined, nh);
          const r = engine.testInbound(ts2, PEER.address, PEER.port);
          expect(r.result, ctx).toBe(want);
          expect(r.seq, ctx).toBe(seq);
          expect(r.nextHeader, ctx).toBe(nh);
          expect(r.payload && Buffer.from(r.payload).equals(pkt), ctx).toBe(true);
          seq += 1n;
        }
        if (esn) expect(seq > 0x1_0000_0000n).toBe(true);
        const st = engine.stats();
        expect(st.drops.auth_failed).toBe(0);
        expect(st.drops.replay).toBe(0);
        expect(st.drops.malformed).toBe(0);
      });
    }
  });
});
