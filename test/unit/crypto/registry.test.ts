/** Registry lookups, descriptors, names and keyword parsing. */
import { describe, expect, it } from 'vitest';
import * as wire from '../../../src/ike/wire/constants.js';
import { ENCR, INTEG, KE, NOTIFY_INVALID_SYNTAX, PRF } from '../../../src/crypto/ids.js';
import {
  SUPPORTED_ENCR,
  SUPPORTED_INTEG,
  SUPPORTED_KE,
  SUPPORTED_PRF,
  encrDescriptor,
  encrIanaName,
  encrName,
  encrNeedsKeyLength,
  getCipher,
  getInteg,
  getKe,
  getPrf,
  integDescriptor,
  integIanaName,
  integName,
  isAeadEncr,
  isSupportedEncr,
  isSupportedInteg,
  isSupportedKe,
  isSupportedPrf,
  keDescriptor,
  keIanaName,
  keName,
  parseKeyword,
  prfDescriptor,
  prfIanaName,
  prfName,
} from '../../../src/crypto/registry.js';

describe('crypto ids', () => {
  it('agree with the IANA constants of ike/wire', () => {
    expect(ENCR.AES_CBC).toBe(wire.EncrId.AES_CBC);
    expect(ENCR.AES_GCM_16).toBe(wire.EncrId.AES_GCM_16);
    expect(ENCR.CHACHA20_POLY1305).toBe(wire.EncrId.CHACHA20_POLY1305);
    for (const k of Object.keys(PRF) as (keyof typeof PRF)[]) expect(PRF[k]).toBe(wire.PrfId[k]);
    for (const k of Object.keys(INTEG) as (keyof typeof INTEG)[]) expect(INTEG[k]).toBe(wire.IntegId[k]);
    for (const k of Object.keys(KE) as (keyof typeof KE)[]) expect(KE[k]).toBe(wire.KeId[k]);
    expect(NOTIFY_INVALID_SYNTAX).toBe(wire.NotifyType.INVALID_SYNTAX);
  });
});

describe('registry', () => {
  it('answers isSupported* for proposal selection', () => {
    expect(isSupportedEncr(20, 128)).toBe(true);
    expect(isSupportedEncr(20, 192)).toBe(true);
    expect(isSupportedEncr(20, 256)).toBe(true);
    expect(isSupportedEncr(20, 0)).toBe(false);
    expect(isSupportedEncr(28, 256)).toBe(true);
    expect(isSupportedEncr(28, 128)).toBe(false);
    expect(isSupportedEncr(12, 256)).toBe(true);
    expect(isSupportedEncr(18, 128)).toBe(false); // GCM-8 not offered
    expect(isSupportedEncr(3, 192)).toBe(false); // 3DES
    expect([5, 6, 7, 2].every(isSupportedPrf)).toBe(true);
    expect(isSupportedPrf(4)).toBe(false); // AES-XCBC
    expect([12, 13, 14, 2].every(isSupportedInteg)).toBe(true);
    expect(isSupportedInteg(5)).toBe(false);
    expect([14, 15, 16, 19, 20, 21, 31, 32].every(isSupportedKe)).toBe(true);
    expect(isSupportedKe(2)).toBe(false);
    expect(isSupportedKe(0)).toBe(false);
    expect(isAeadEncr(20) && isAeadEncr(28) && !isAeadEncr(12)).toBe(true);
    expect(encrNeedsKeyLength(28)).toBe(false);
    expect(encrNeedsKeyLength(20) && encrNeedsKeyLength(12)).toBe(true);
    expect(SUPPORTED_ENCR.size + SUPPORTED_PRF.length + SUPPORTED_INTEG.length + SUPPORTED_KE.length).toBe(3 + 4 + 4 + 8);
  });

  it('describes transforms', () => {
    expect(encrDescriptor(20, 256)).toMatchObject({ aead: true, keyLen: 36, saltLen: 4, ivLen: 8, icvLen: 16, blockLen: 1, keyBits: 256 });
    expect(encrDescriptor(28, 256)).toMatchObject({ aead: true, keyLen: 36 });
    expect(encrDescriptor(12, 128)).toMatchObject({ aead: false, keyLen: 16, saltLen: 0, ivLen: 16, icvLen: 0, blockLen: 16 });
    expect(prfDescriptor(6)).toEqual({ id: 6, outLen: 48 });
    expect(integDescriptor(14)).toEqual({ id: 14, keyLen: 64, icvLen: 32 });
    expect(integDescriptor(2)).toEqual({ id: 2, keyLen: 20, icvLen: 12 });
    expect(keDescriptor(19)).toEqual({ id: 19, publicLen: 64, secretLen: 32 });
    expect(keDescriptor(21)).toEqual({ id: 21, publicLen: 132, secretLen: 66 });
    expect(keDescriptor(31)).toEqual({ id: 31, publicLen: 32, secretLen: 32 });
    expect(keDescriptor(32)).toEqual({ id: 32, publicLen: 56, secretLen: 56 });
    expect(keDescriptor(14)).toEqual({ id: 14, publicLen: 256, secretLen: 256 });
    expect(() => encrDescriptor(28, 128)).toThrow();
  });

  it('builds and caches objects, throws on unsupported ids', () => {
    expect(getCipher(20, 128)).toBe(getCipher(20, 128, 'node'));
    expect(getCipher(20, 128, 'noble')).not.toBe(getCipher(20, 128, 'node'));
    expect(getPrf(5).id).toBe(5);
    expect(getInteg(12).icvLen).toBe(16);
    expect(getKe(31).publicLen).toBe(32);
    expect(getKe(19, 'noble').group).toBe(19);
    expect(() => getCipher(20, 64)).toThrow(/unsupported/);
    expect(() => getCipher(99, 128)).toThrow(/unsupported/);
    expect(() => getPrf(4)).toThrow(/unsupported/);
    expect(() => getInteg(0)).toThrow(/unsupported/);
    expect(() => getKe(2)).toThrow(/unsupported/);
  });

  it('names transforms like strongSwan', () => {
    expect(encrName(20, 256)).toBe('aes256gcm16');
    expect(encrName(20, 128)).toBe('aes128gcm16');
    expect(encrName(12, 128)).toBe('aes128');
    expect(encrName(28, 256)).toBe('chacha20poly1305');
    expect(prfName(5)).toBe('prfsha256');
    expect(prfName(2)).toBe('prfsha1');
    expect(integName(12)).toBe('sha256');
    expect(integName(14)).toBe('sha512');
    expect(integName(2)).toBe('sha1');
    expect(keName(31)).toBe('x25519');
    expect(keName(32)).toBe('x448');
    expect(keName(19)).toBe('ecp256');
    expect(keName(21)).toBe('ecp521');
    expect(keName(14)).toBe('modp2048');
    expect(keName(16)).toBe('modp4096');
    expect(encrIanaName(20, 256)).toBe('AES_GCM_16_256');
    expect(encrIanaName(12, 192)).toBe('AES_CBC_192');
    expect(encrIanaName(28, 256)).toBe('CHACHA20_POLY1305');
    expect(prfIanaName(5)).toBe('PRF_HMAC_SHA2_256');
    expect(prfIanaName(2)).toBe('PRF_HMAC_SHA1');
    expect(integIanaName(12)).toBe('HMAC_SHA2_256_128');
    expect(integIanaName(13)).toBe('HMAC_SHA2_384_192');
    expect(integIanaName(2)).toBe('HMAC_SHA1_96');
    expect(keIanaName(31)).toBe('CURVE_25519');
    expect(keIanaName(32)).toBe('CURVE_448');
    expect(keIanaName(20)).toBe('ECP_384');
    expect(keIanaName(15)).toBe('MODP_3072');
    expect(keName(99)).toBe('ke99');
  });

  it('parses strongSwan keywords, including aliases, and round-trips every supported name', () => {
    expect(parseKeyword('aes256gcm16')).toEqual({ type: 'encr', id: 20, keyBits: 256 });
    expect(parseKeyword('AES128GCM')).toEqual({ type: 'encr', id: 20, keyBits: 128 });
    expect(parseKeyword('aes192gcm128')).toEqual({ type: 'encr', id: 20, keyBits: 192 });
    expect(parseKeyword('chacha20poly1305')).toEqual({ type: 'encr', id: 28, keyBits: 256 });
    expect(parseKeyword('aes')).toEqual({ type: 'encr', id: 12, keyBits: 128 });
    expect(parseKeyword('prfsha384')).toEqual({ type: 'prf', id: 6 });
    expect(parseKeyword('sha256')).toEqual({ type: 'integ', id: 12 });
    expect(parseKeyword('sha2_512')).toEqual({ type: 'integ', id: 14 });
    expect(parseKeyword('curve25519')).toEqual({ type: 'ke', id: 31 });
    expect(parseKeyword('ecp384')).toEqual({ type: 'ke', id: 20 });
    expect(parseKeyword('aes128gcm8')).toBeUndefined();
    expect(parseKeyword('3des')).toBeUndefined();
    for (const [id, sizes] of SUPPORTED_ENCR) for (const b of sizes) expect(parseKeyword(encrName(id, b))).toMatchObject({ id, keyBits: b });
    for (const id of SUPPORTED_PRF) expect(parseKeyword(prfName(id))).toEqual({ type: 'prf', id });
    for (const id of SUPPORTED_INTEG) expect(parseKeyword(integName(id))).toEqual({ type: 'integ', id });
    for (const id of SUPPORTED_KE) expect(parseKeyword(keName(id))).toEqual({ type: 'ke', id });
  });
});
