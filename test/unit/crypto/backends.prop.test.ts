/**
 * Differential tests: node:crypto (OpenSSL) against @noble for every transform.
 * Seal with one backend, open with the other; equal outputs; tampering → null on both.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENCR, INTEG, KE, PRF, getCipher, getInteg, getKe, getPrf, type Backend } from '../../../src/crypto/registry.js';

const CIPHERS = [
  { name: 'AES-GCM-16-128', id: ENCR.AES_GCM_16, bits: 128 },
  { name: 'AES-GCM-16-192', id: ENCR.AES_GCM_16, bits: 192 },
  { name: 'AES-GCM-16-256', id: ENCR.AES_GCM_16, bits: 256 },
  { name: 'ChaCha20-Poly1305', id: ENCR.CHACHA20_POLY1305, bits: 256 },
  { name: 'AES-CBC-128', id: ENCR.AES_CBC, bits: 128 },
  { name: 'AES-CBC-192', id: ENCR.AES_CBC, bits: 192 },
  { name: 'AES-CBC-256', id: ENCR.AES_CBC, bits: 256 },
];
const PAIRS: [Backend, Backend][] = [
  ['node', 'noble'],
  ['noble', 'node'],
];

describe.each(CIPHERS)('$name: node ⇄ noble', ({ id, bits }) => {
  const ref = getCipher(id, bits, 'node');
  const input = fc.record({
    key: fc.uint8Array({ minLength: ref.keyLen, maxLength: ref.keyLen }),
    iv: fc.uint8Array({ minLength: ref.ivLen, maxLength: ref.ivLen }),
    blocks: fc.uint8Array({ maxLength: 300 }),
    aad: fc.uint8Array({ maxLength: 64 }),
    flip: fc.nat(),
  });

  it.each(PAIRS)('seal with %s, open with %s; tampered tag → null', (a, b) => {
    const A = getCipher(id, bits, a);
    const B = getCipher(id, bits, b);
    fc.assert(
      fc.property(input, ({ key, iv, blocks, aad, flip }) => {
        const pt = A.aead ? blocks : blocks.subarray(0, blocks.length - (blocks.length % 16));
        const ct = A.encrypt(key, iv, pt, aad);
        expect(ct).toEqual(B.encrypt(key, iv, pt, aad));
        expect(ct.length).toBe(pt.length + A.icvLen);
        expect(B.decrypt(key, iv, ct, aad)).toEqual(pt);
        if (A.aead) {
          const bad = ct.slice();
          bad[flip % bad.length]! ^= 1 << (flip % 8);
          expect(B.decrypt(key, iv, bad, aad)).toBeNull();
          expect(A.decrypt(key, iv, bad, aad)).toBeNull();
        } else if (ct.length > 0) {
          // CBC has no integrity of its own: only a length that is not a whole block is refused
          expect(B.decrypt(key, iv, ct.subarray(0, ct.length - 1), aad)).toBeNull();
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('PRF and INTEG: node ≡ noble', () => {
  it.each([PRF.HMAC_SHA1, PRF.HMAC_SHA2_256, PRF.HMAC_SHA2_384, PRF.HMAC_SHA2_512])('PRF %i', (p) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 }), (k, d) => {
        expect(getPrf(p, 'node').compute(k, d)).toEqual(getPrf(p, 'noble').compute(k, d));
      }),
      { numRuns: 200 },
    );
  });
  it.each([INTEG.HMAC_SHA1_96, INTEG.HMAC_SHA2_256_128, INTEG.HMAC_SHA2_384_192, INTEG.HMAC_SHA2_512_256])('INTEG %i', (i) => {
    const len = getInteg(i).keyLen;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: len, maxLength: len }), fc.uint8Array({ maxLength: 300 }), (k, d) => {
        expect(getInteg(i, 'node').sign(k, d)).toEqual(getInteg(i, 'noble').sign(k, d));
      }),
      { numRuns: 200 },
    );
  });
});

describe('KE agreement node ⇄ noble', () => {
  const groups: [number, number][] = [
    [KE.CURVE25519, 30],
    [KE.CURVE448, 15],
    [KE.ECP_256, 15],
    [KE.ECP_384, 8],
    [KE.ECP_521, 5],
    [KE.MODP_2048, 3],
    [KE.MODP_3072, 2],
    [KE.MODP_4096, 1],
  ];
  it.each(groups)('group %i (%i runs)', (g, runs) => {
    for (let n = 0; n < runs; n++) {
      const a = getKe(g, 'node').create();
      const b = getKe(g, 'noble').create();
      const s1 = a.computeSecret(b.publicKey);
      expect(s1).toEqual(b.computeSecret(a.publicKey));
      expect(s1.length).toBe(getKe(g).publicLen / (g >= 19 && g <= 21 ? 2 : 1));
      expect(a.publicKey.length).toBe(getKe(g).publicLen);
      expect(b.publicKey.length).toBe(getKe(g).publicLen);
    }
  });
});
