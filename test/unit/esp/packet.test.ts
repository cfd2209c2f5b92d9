import { describe, expect, it } from 'vitest';
import { createCipheriv, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fromHex, hex } from '../../../src/common/bytes.js';
import { DropReason } from '../../../src/common/errors.js';
import { ENCR, INTEG, getCipher, getInteg, type Backend } from '../../../src/crypto/registry.js';
import { decapsulate, encapsulate, encapsulatedLength, type EspCodecSa } from '../../../src/esp/packet.js';

interface VectorCase {
  name: string;
  keyBits: number;
  key: string;
  spi: string;
  esn: boolean;
  seqHi: string;
  seqLo: string;
  iv: string;
  nextHeader: number;
  padLength: number;
  inner: string;
  esp: string;
}
function loadVectors(file: string): VectorCase[] {
  const url = new URL(`../../vectors/esp/${file}`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { cases: VectorCase[] }).cases;
}

const BACKENDS: Backend[] = ['node', 'noble'];

function aeadSa(encr: number, keyBits: number, key: Uint8Array, spi: number, esn: boolean, backend: Backend): EspCodecSa {
  return { spi, esn, cipher: getCipher(encr, keyBits, backend), encKey: key, integ: null, integKey: null };
}
function cbcSa(
  spi: number,
  esn: boolean,
  backend: Backend,
  encKey: Uint8Array = fromHex('000102030405060708090a0b0c0d0e0f'),
  integKey: Uint8Array = new Uint8Array(32).fill(0x42),
): EspCodecSa {
  return {
    spi,
    esn,
    cipher: getCipher(ENCR.AES_CBC, 128, backend),
    encKey,
    integ: getInteg(INTEG.HMAC_SHA2_256_128, backend),
    integKey,
  };
}

/** a small IPv4 ICMP echo, as an inner packet */
function ipv4Packet(payloadLen: number): Uint8Array {
  const p = new Uint8Array(28 + payloadLen);
  p.set([0x45, 0, (p.length >> 8) & 0xff, p.length & 0xff, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 8, 0]);
  for (let i = 28; i < p.length; i++) p[i] = i & 0xff;
  return p;
}

const vecChaCha = loadVectors('esp-chacha20poly1305-rfc7634.json');
const vecGcm = loadVectors('esp-aes-gcm-mcgrew.json');

for (const backend of BACKENDS) {
  describe(`ESP codec [${backend}]`, () => {
    describe('known-answer vectors', () => {
      const all: Array<[number, VectorCase]> = [
        ...vecChaCha.map((v) => [ENCR.CHACHA20_POLY1305, v] as [number, VectorCase]),
        ...vecGcm.map((v) => [ENCR.AES_GCM_16, v] as [number, VectorCase]),
      ];
      for (const [encr, v] of all) {
        it(`${v.name}${v.esn ? ' (ESN)' : ''}: encapsulate gives the exact bytes, decapsulate recovers the packet`, () => {
          const sa = aeadSa(encr, v.keyBits, fromHex(v.key), parseInt(v.spi, 16), v.esn, backend);
          const seq = { hi: parseInt(v.seqHi, 16), lo: parseInt(v.seqLo, 16) };
          const inner = fromHex(v.inner);
          const esp = encapsulate(sa, inner, seq, fromHex(v.iv), undefined, v.nextHeader);
          expect(hex(esp)).toBe(v.esp);
          expect(esp.length).toBe(encapsulatedLength(sa, inner.length));
          const r = decapsulate(sa, fromHex(v.esp), seq.hi);
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          expect(hex(r.inner)).toBe(v.inner);
          expect(r.nextHeader).toBe(v.nextHeader);
          expect(r.seqHi).toBe(seq.hi);
          expect(r.seqLo).toBe(seq.lo);
          if (v.esn) {
            // the high half is only in the AAD: a wrong guess fails authentication
            expect(decapsulate(sa, fromHex(v.esp), (seq.hi + 1) >>> 0)).toEqual({ ok: false, reason: DropReason.AuthFailed });
          }
        });
      }
      it('RFC 7634 example: the Next Header is inferred from the inner version nibble', () => {
        const v = vecChaCha[0]!;
        const sa = aeadSa(ENCR.CHACHA20_POLY1305, 256, fromHex(v.key), parseInt(v.spi, 16), false, backend);
        expect(hex(encapsulate(sa, fromHex(v.inner), { hi: 0, lo: 5 }, fromHex(v.iv)))).toBe(v.esp);
      });
    });

    describe('AEAD IV convention', () => {
      it('default IV is the 64-bit sequence number, big-endian (hi ‖ lo)', () => {
        const key = new Uint8Array(36).fill(7);
        const sa = aeadSa(ENCR.AES_GCM_16, 256, key, 0x1234_5678, true, backend);
        const inner = ipv4Packet(10);
        const esp = encapsulate(sa, inner, { hi: 0x0102_0304, lo: 0xa0b0_c0d0 });
        expect(hex(esp.subarray(0, 16))).toBe('12345678' + 'a0b0c0d0' + '01020304a0b0c0d0');
        expect(hex(esp)).toBe(hex(encapsulate(sa, inner, { hi: 0x0102_0304, lo: 0xa0b0_c0d0 }, fromHex('01020304a0b0c0d0'))));
        const noEsn = aeadSa(ENCR.AES_GCM_16, 256, key, 0x1234_5678, false, backend);
        // without ESN the high half is ignored (0 in the IV)
        expect(hex(encapsulate(noEsn, inner, { hi: 9, lo: 5 }).subarray(8, 16))).toBe('0000000000000005');
      });
      it('writes into a caller buffer when it is large enough', () => {
        const sa = aeadSa(ENCR.CHACHA20_POLY1305, 256, new Uint8Array(36).fill(1), 0x1000, false, backend);
        const inner = ipv4Packet(3);
        const out = new Uint8Array(2048);
        const esp = encapsulate(sa, inner, { hi: 0, lo: 1 }, undefined, out);
        expect(esp.buffer).toBe(out.buffer);
        expect(hex(esp)).toBe(hex(encapsulate(sa, inner, { hi: 0, lo: 1 })));
        const small = new Uint8Array(10);
        expect(encapsulate(sa, inner, { hi: 0, lo: 1 }, undefined, small).buffer).not.toBe(small.buffer);
      });
      it('pads to 4-byte alignment with 1, 2, 3 …', () => {
        const key = new Uint8Array(36).fill(3);
        const sa = aeadSa(ENCR.CHACHA20_POLY1305, 256, key, 0x1000, false, backend);
        for (let n = 20; n < 28; n++) {
          const inner = ipv4Packet(0).subarray(0, n);
          const esp = encapsulate(sa, inner, { hi: 0, lo: 1 });
          const ctLen = esp.length - 8 - 8 - 16;
          expect(ctLen % 4).toBe(0);
          expect(ctLen - n - 2).toBeLessThan(4);
          const r = decapsulate(sa, esp, 0);
          expect(r.ok && hex(r.inner)).toBe(hex(inner));
        }
      });
    });

    describe('AES-CBC + HMAC-SHA2-256-128', () => {
      for (const esn of [false, true]) {
        it(`known answer from independent node:crypto calls${esn ? ' (ESN)' : ''}`, () => {
          const encKey = fromHex('00112233445566778899aabbccddeeff');
          const integKey = fromHex('0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20');
          const sa = cbcSa(0xdead_beef, esn, backend, encKey, integKey);
          const iv = fromHex('f0e0d0c0b0a090807060504030201000');
          const inner = ipv4Packet(33); // 61 bytes → 13 bytes of padding
          const seq = { hi: 7, lo: 0x42 };
          // independent construction
          const padLen = 16 - ((inner.length + 2) % 16);
          const plain = Buffer.alloc(inner.length + padLen + 2);
          plain.set(inner);
          for (let i = 1; i <= padLen; i++) plain[inner.length + i - 1] = i;
          plain[plain.length - 2] = padLen;
          plain[plain.length - 1] = 4;
          const c = createCipheriv('aes-128-cbc', Buffer.from(encKey), Buffer.from(iv)).setAutoPadding(false);
          const ct = Buffer.concat([c.update(plain), c.final()]);
          const head = Buffer.from('deadbeef00000042', 'hex');
          const mac = createHmac('sha256', Buffer.from(integKey)).update(head).update(iv).update(ct);
          if (esn) mac.update(Buffer.from('00000007', 'hex'));
          const icv = mac.digest().subarray(0, 16);
          const expected = Buffer.concat([head, iv, ct, icv]).toString('hex');

          const esp = encapsulate(sa, inner, seq, iv);
          expect(hex(esp)).toBe(expected);
          const r = decapsulate(sa, esp, esn ? 7 : 0);
          expect(r.ok).toBe(true);
          if (r.ok) {
            expect(hex(r.inner)).toBe(hex(inner));
            expect(r.nextHeader).toBe(4);
            expect(r.seq).toBe(esn ? 7 * 2 ** 32 + 0x42 : 0x42);
          }
          if (esn) expect(decapsulate(sa, esp, 6)).toEqual({ ok: false, reason: DropReason.AuthFailed });
        });
      }
      it('round trip over many sizes, IPv4 and IPv6', () => {
        const sa = cbcSa(0x300, false, backend);
        for (let n = 0; n < 70; n++) {
          const inner = ipv4Packet(n);
          if (n % 2 === 1) inner[0] = 0x60;
          const esp = encapsulate(sa, inner, { hi: 0, lo: n + 1 }, new Uint8Array(16).fill(n));
          expect((esp.length - 8 - 16 - 16) % 16).toBe(0);
          const r = decapsulate(sa, esp);
          expect(r.ok).toBe(true);
          if (r.ok) {
            expect(hex(r.inner)).toBe(hex(inner));
            expect(r.nextHeader).toBe(n % 2 === 1 ? 41 : 4);
          }
        }
      });
      it('a ciphertext that is not a whole number of blocks is malformed', () => {
        const sa = cbcSa(0x300, false, backend);
        const esp = encapsulate(sa, ipv4Packet(10), { hi: 0, lo: 1 }, new Uint8Array(16));
        const cut = new Uint8Array(esp.length - 1);
        cut.set(esp.subarray(0, 8 + 16 + 15));
        cut.set(esp.subarray(8 + 16 + 16), 8 + 16 + 15);
        expect(decapsulate(sa, cut)).toEqual({ ok: false, reason: DropReason.Malformed });
      });
      it('requires an explicit IV', () => {
        expect(() => encapsulate(cbcSa(0x300, false, backend), ipv4Packet(1), { hi: 0, lo: 1 })).toThrow(RangeError);
      });
    });

    describe('drops, never exceptions', () => {
      const suites: Array<[string, () => EspCodecSa, Uint8Array | undefined]> = [
        ['chacha20-poly1305', () => aeadSa(ENCR.CHACHA20_POLY1305, 256, new Uint8Array(36).fill(9), 0x4000, false, backend), undefined],
        ['aes-gcm-128 esn', () => aeadSa(ENCR.AES_GCM_16, 128, new Uint8Array(20).fill(9), 0x4000, true, backend), undefined],
        ['aes-cbc-hmac', () => cbcSa(0x4000, false, backend), new Uint8Array(16).fill(1)],
      ];
      for (const [name, mk, iv] of suites) {
        describe(name, () => {
          const sa = mk();
          const inner = ipv4Packet(40);
          const good = encapsulate(sa, inner, { hi: 0, lo: 77 }, iv);
          it('sanity: the untampered packet opens', () => {
            expect(decapsulate(sa, good).ok).toBe(true);
          });
          it('any flipped bit: SPI bytes → UnknownSpi, every other byte → AuthFailed', () => {
            for (let i = 0; i < good.length; i++) {
              const t = good.slice();
              t[i]! ^= 0x01;
              const r = decapsulate(sa, t);
              expect(r, `byte ${i}`).toEqual({ ok: false, reason: i < 4 ? DropReason.UnknownSpi : DropReason.AuthFailed });
            }
          });
          it('tampered tag', () => {
            const t = good.slice();
            t[t.length - 1]! ^= 0x80;
            expect(decapsulate(sa, t)).toEqual({ ok: false, reason: DropReason.AuthFailed });
          });
          it('wrong SPI for this SA', () => {
            expect(decapsulate({ ...sa, spi: 0x4001 }, good)).toEqual({ ok: false, reason: DropReason.UnknownSpi });
          });
          it('truncated to every length 0..60: Malformed below the minimum, otherwise AuthFailed', () => {
            const min = sa.cipher.aead ? 8 + 8 + 2 + 16 : 8 + 16 + 16 + 16;
            for (let n = 0; n <= 60; n++) {
              let r: ReturnType<typeof decapsulate> | undefined;
              expect(() => (r = decapsulate(sa, good.subarray(0, n)))).not.toThrow();
              expect(r!.ok).toBe(false);
              if (!r!.ok) {
                if (n < min) expect(r!.reason, `length ${n}`).toBe(DropReason.Malformed);
                else expect([DropReason.AuthFailed, DropReason.Malformed, DropReason.UnknownSpi]).toContain(r!.reason);
              }
            }
          });
          it('random garbage', () => {
            let x = 12345;
            for (let k = 0; k < 300; k++) {
              const n = k % 120;
              const b = new Uint8Array(n);
              for (let i = 0; i < n; i++) {
                x = (x * 1103515245 + 12345) >>> 0;
                b[i] = x >>> 24;
              }
              if (n >= 4) b.set([0, 0, 0x40, 0]); // right SPI, so the crypto runs
              expect(decapsulate(sa, b).ok).toBe(false);
            }
          });
        });
      }

      it('authenticated but bad padding bytes → Malformed', () => {
        const sa = aeadSa(ENCR.CHACHA20_POLY1305, 256, new Uint8Array(36).fill(5), 0x5000, false, backend);
        const body = ipv4Packet(0); // 28 bytes; trailer needs 2 → pad 2
        const plain = new Uint8Array(32);
        plain.set(body);
        plain.set([1, 3, 2, 4], 28); // padding should be 1, 2
        expect(decapsulate(sa, sealRaw(sa, plain, 1))).toEqual({ ok: false, reason: DropReason.Malformed });
        plain.set([1, 2, 2, 4], 28);
        expect(decapsulate(sa, sealRaw(sa, plain, 2)).ok).toBe(true);
      });
      it('authenticated but pad length beyond the payload → Malformed', () => {
        const sa = aeadSa(ENCR.AES_GCM_16, 128, new Uint8Array(20).fill(5), 0x5000, false, backend);
        expect(decapsulate(sa, sealRaw(sa, new Uint8Array([200, 4]), 1))).toEqual({ ok: false, reason: DropReason.Malformed });
        expect(decapsulate(sa, sealRaw(sa, new Uint8Array([1, 2, 3, 2, 4]), 1))).toEqual({ ok: false, reason: DropReason.Malformed });
      });
      it('Next Header 59 (dummy packet) → Dummy', () => {
        const sa = aeadSa(ENCR.AES_GCM_16, 128, new Uint8Array(20).fill(5), 0x5000, false, backend);
        const esp = encapsulate(sa, new Uint8Array(13), { hi: 0, lo: 3 }, undefined, undefined, 59);
        expect(decapsulate(sa, esp)).toEqual({ ok: false, reason: DropReason.Dummy });
      });
    });
  });
}

/** AEAD-seal an arbitrary plaintext (trailer included) as an ESP packet */
function sealRaw(sa: EspCodecSa, plain: Uint8Array, seq: number): Uint8Array {
  const iv = new Uint8Array(8);
  iv[7] = seq;
  const head = new Uint8Array(8);
  new DataView(head.buffer).setUint32(0, sa.spi);
  new DataView(head.buffer).setUint32(4, seq);
  const ct = sa.cipher.encrypt(sa.encKey, iv, plain, head);
  const out = new Uint8Array(16 + ct.length);
  out.set(head);
  out.set(iv, 8);
  out.set(ct, 16);
  return out;
}
