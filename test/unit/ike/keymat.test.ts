/**
 * IKEv2 key derivation against NIST SP 800-135 IKEv2 KDF vectors (test/vectors/crypto/
 * ikev2-kdf.json: SKEYSEED, DKM, DKM(Child SA), DKM(Child SA D-H), SKEYSEED(Rekey)), on both
 * backends; PSK AUTH (RFC 7296 §2.15) against an independent re-computation with node:crypto.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, hex, utf8 } from '../../../src/common/bytes.js';
import { prfPlus } from '../../../src/crypto/prf-plus.js';
import { BACKENDS, PRF, getPrf } from '../../../src/crypto/registry.js';
import {
  KEY_PAD_IKEV2,
  deriveChildKeymat,
  deriveIkeSa,
  deriveRekeyedIkeSa,
  idPayloadBody,
  pskAuth,
  signedOctets,
} from '../../../src/ike/keymat.js';

interface KdfVector {
  hash: string;
  prfId: number;
  ni: string;
  nr: string;
  gir: string;
  girNew: string;
  spiI: string;
  spiR: string;
  dkmLen: number;
  skeyseed: string;
  dkm: string;
  dkmChild: string;
  dkmChildDh: string;
  skeyseedRekey: string;
}
const file = JSON.parse(readFileSync(new URL('../../vectors/crypto/ikev2-kdf.json', import.meta.url), 'utf8')) as {
  vectors: KdfVector[];
};
const H = fromHex;

describe.each(BACKENDS)('keymat (%s backend)', (backend) => {
  describe.each(file.vectors)('NIST SP 800-135 IKEv2 KDF, HMAC-$hash', (v) => {
    const prf = getPrf(v.prfId, backend);
    const L = prf.outLen;
    // choose SK_a/SK_e lengths so that SK_d|SK_ai|SK_ar|SK_ei|SK_er|SK_pi|SK_pr spans exactly DKM
    const rest = (v.dkmLen - 3 * L) / 2;
    const integKeyLen = Math.floor(rest / 2);
    const encKeyLen = rest - integKeyLen;
    const base = { prf, ni: H(v.ni), nr: H(v.nr), spiI: H(v.spiI), spiR: H(v.spiR), encKeyLen, integKeyLen };

    it('SKEYSEED and DKM (= SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr)', () => {
      const { skeyseed, keys } = deriveIkeSa({ ...base, gir: H(v.gir) });
      expect(hex(skeyseed)).toBe(v.skeyseed);
      const k = keys;
      expect(k.skD.length).toBe(L);
      expect(k.skPi.length).toBe(L);
      expect(k.skAi.length).toBe(integKeyLen);
      expect(k.skEr.length).toBe(encKeyLen);
      expect(hex(concat(k.skD, k.skAi, k.skAr, k.skEi, k.skEr, k.skPi, k.skPr))).toBe(v.dkm);
      expect(hex(prfPlus(prf, skeyseed, concat(H(v.ni), H(v.nr), H(v.spiI), H(v.spiR)), v.dkmLen))).toBe(v.dkm);
    });

    it('DKM(Child SA) = prf+(SK_d, Ni | Nr), split I→R encr, integ, then R→I', () => {
      const skD = H(v.dkm).subarray(0, L);
      const half = v.dkmLen / 2;
      const integ = 20;
      const km = deriveChildKeymat({ prf, skD, ni: H(v.ni), nr: H(v.nr), encKeyLen: half - integ, integKeyLen: integ });
      expect(hex(concat(km.encI, km.integI, km.encR, km.integR))).toBe(v.dkmChild);
      expect(km.encI.length).toBe(half - integ);
      expect(km.integR.length).toBe(integ);
    });

    it('DKM(Child SA D-H) = prf+(SK_d, g^ir(new) | Ni | Nr)', () => {
      const skD = H(v.dkm).subarray(0, L);
      const half = v.dkmLen / 2;
      const km = deriveChildKeymat({ prf, skD, gir: H(v.girNew), ni: H(v.ni), nr: H(v.nr), encKeyLen: half, integKeyLen: 0 });
      expect(hex(concat(km.encI, km.encR))).toBe(v.dkmChildDh);
      expect(km.integI.length).toBe(0);
    });

    it('SKEYSEED(Rekey) = prf(SK_d(old), g^ir(new) | Ni | Nr)', () => {
      const oldSkD = H(v.dkm).subarray(0, L);
      const r = deriveRekeyedIkeSa({ ...base, oldPrf: prf, oldSkD, gir: H(v.girNew) });
      expect(hex(r.skeyseed)).toBe(v.skeyseedRekey);
      // and the new SK_* are prf+(SKEYSEED(rekey), Ni | Nr | SPIi | SPIr)
      const dkm = prfPlus(prf, r.skeyseed, concat(H(v.ni), H(v.nr), H(v.spiI), H(v.spiR)), v.dkmLen);
      const k = r.keys;
      expect(hex(concat(k.skD, k.skAi, k.skAr, k.skEi, k.skEr, k.skPi, k.skPr))).toBe(hex(dkm));
    });
  });

  it('rekey: SKEYSEED uses the OLD prf, SK_* the NEW prf (RFC 7296 §2.18)', () => {
    const oldPrf = getPrf(PRF.HMAC_SHA2_512, backend);
    const prf = getPrf(PRF.HMAC_SHA2_256, backend);
    const ni = new Uint8Array(32).fill(1);
    const nr = new Uint8Array(32).fill(2);
    const gir = new Uint8Array(32).fill(3);
    const oldSkD = new Uint8Array(64).fill(4);
    const spiI = new Uint8Array(8).fill(5);
    const spiR = new Uint8Array(8).fill(6);
    const r = deriveRekeyedIkeSa({ prf, oldPrf, oldSkD, gir, ni, nr, spiI, spiR, encKeyLen: 36, integKeyLen: 0 });
    expect(hex(r.skeyseed)).toBe(hex(oldPrf.compute(oldSkD, concat(gir, ni, nr))));
    expect(r.skeyseed.length).toBe(64);
    expect(r.keys.skD.length).toBe(32);
    expect(r.keys.skPr.length).toBe(32);
    const km = prfPlus(prf, r.skeyseed, concat(ni, nr, spiI, spiR), 32 + 2 * 36 + 2 * 32); // SK_d 0..32, SK_ei 32..68, SK_er 68..104, SK_pi 104..136, SK_pr 136..168
    expect(hex(r.keys.skEi)).toBe(hex(km.subarray(32, 68)));
    expect(hex(r.keys.skPr)).toBe(hex(km.subarray(136, 168)));
  });

  it('AEAD suites: no SK_a, SK_e includes the 4-byte salt', () => {
    const prf = getPrf(PRF.HMAC_SHA2_256, backend);
    const { keys } = deriveIkeSa({
      prf,
      ni: new Uint8Array(16).fill(0xa),
      nr: new Uint8Array(16).fill(0xb),
      gir: new Uint8Array(32).fill(0xc),
      spiI: new Uint8Array(8).fill(1),
      spiR: new Uint8Array(8).fill(2),
      encKeyLen: 36,
      integKeyLen: 0,
    });
    expect([keys.skAi.length, keys.skAr.length, keys.skEi.length, keys.skEr.length]).toEqual([0, 0, 36, 36]);
    expect(keys.skEi).not.toEqual(keys.skEr);
  });

  it('rejects SPIs that are not 8 bytes', () => {
    const prf = getPrf(PRF.HMAC_SHA2_256, backend);
    const b = { prf, ni: new Uint8Array(16), nr: new Uint8Array(16), gir: new Uint8Array(32), encKeyLen: 16, integKeyLen: 32 };
    expect(() => deriveIkeSa({ ...b, spiI: new Uint8Array(4), spiR: new Uint8Array(8) })).toThrow(RangeError);
  });

  it('PSK AUTH = prf(prf(PSK, "Key Pad for IKEv2"), RealMessage | NonceData | prf(SK_p, RestOfIDPayload))', () => {
    for (const [id, h] of [
      [PRF.HMAC_SHA2_256, 'sha256'],
      [PRF.HMAC_SHA2_384, 'sha384'],
      [PRF.HMAC_SHA2_512, 'sha512'],
    ] as const) {
      const prf = getPrf(id, backend);
      const message = fromHex('0011223344556677' + '0000000000000000' + '2120220800000000000000a0' + 'aa'.repeat(132));
      const nonce = new Uint8Array(32).map((_, i) => i);
      const skP = new Uint8Array(prf.outLen).fill(0x5c);
      const body = idPayloadBody(2, utf8('moon.strongswan.org'));
      const psk = utf8('This is a strong password');
      const octets = signedOctets({ message, nonce, prf, skP, idPayloadBody: body });
      // independent computation with node:crypto directly
      const hm = (k: Uint8Array, d: Uint8Array): Buffer => createHmac(h, k).update(d).digest();
      const expectOctets = Buffer.concat([message, nonce, hm(skP, body)]);
      expect(hex(octets)).toBe(expectOctets.toString('hex'));
      const auth = pskAuth({ prf, psk, signedOctets: octets });
      expect(hex(auth)).toBe(hm(hm(psk, Buffer.from('Key Pad for IKEv2', 'ascii')), expectOctets).toString('hex'));
      expect(auth.length).toBe(prf.outLen);
    }
  });

  it('idPayloadBody = ID Type | 3 reserved zero octets | data; the pad is 17 octets without NUL', () => {
    expect(hex(idPayloadBody(1, fromHex('c0a80001')))).toBe('01000000c0a80001');
    expect(hex(idPayloadBody(2, utf8('a.b')))).toBe('02000000612e62');
    expect(hex(idPayloadBody(11, new Uint8Array(0)))).toBe('0b000000');
    expect(KEY_PAD_IKEV2.length).toBe(17);
    expect(hex(KEY_PAD_IKEV2)).toBe(hex(utf8('Key Pad for IKEv2')));
  });

  it('both backends derive identical keys', () => {
    const v = file.vectors[1]!;
    const other: typeof backend = backend === 'node' ? 'noble' : 'node';
    const mk = (b: typeof backend) =>
      deriveIkeSa({ prf: getPrf(5, b), ni: H(v.ni), nr: H(v.nr), gir: H(v.gir), spiI: H(v.spiI), spiR: H(v.spiR), encKeyLen: 36, integKeyLen: 0 });
    expect(mk(backend)).toEqual(mk(other));
  });
});
