/**
 * RFC 4231 §4 HMAC-SHA2 test cases, as PRF (full output) and as truncated integrity
 * (RFC 4868 §2.1.1: HMAC-SHA-256-128 / -384-192 / -512-256 keep the leftmost bits), for both
 * backends. RFC 2202 §3 test case 1 for HMAC-SHA1 / HMAC-SHA1-96.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, hex, utf8 } from '../../../src/common/bytes.js';
import { BACKENDS, INTEG, PRF, getInteg, getPrf } from '../../../src/crypto/registry.js';

const aa131 = new Uint8Array(131).fill(0xaa);
const cases = [
  {
    n: 1,
    key: new Uint8Array(20).fill(0x0b),
    data: utf8('Hi There'),
    sha256: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    sha384: 'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6',
    sha512: '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
  },
  {
    n: 2,
    key: utf8('Jefe'),
    data: utf8('what do ya want for nothing?'),
    sha256: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    sha384: 'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649',
    sha512: '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
  },
  {
    n: 3,
    key: new Uint8Array(20).fill(0xaa),
    data: new Uint8Array(50).fill(0xdd),
    sha256: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
    sha384: '88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27',
    sha512: 'fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb',
  },
  {
    n: 4,
    key: fromHex('0102030405060708090a0b0c0d0e0f10111213141516171819'),
    data: new Uint8Array(50).fill(0xcd),
    sha256: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
    sha384: '3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb',
    sha512: 'b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd',
  },
  {
    n: 6,
    key: aa131,
    data: utf8('Test Using Larger Than Block-Size Key - Hash Key First'),
    sha256: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    sha384: '4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952',
    sha512: '80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598',
  },
  {
    n: 7,
    key: aa131,
    data: utf8(
      'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
    ),
    sha256: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    sha384: '6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e',
    sha512: 'e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58',
  },
] as const;

const PRFS = [
  { id: PRF.HMAC_SHA2_256, h: 'sha256', out: 32 },
  { id: PRF.HMAC_SHA2_384, h: 'sha384', out: 48 },
  { id: PRF.HMAC_SHA2_512, h: 'sha512', out: 64 },
] as const;
const INTEGS = [
  { id: INTEG.HMAC_SHA2_256_128, h: 'sha256', key: 32, icv: 16 },
  { id: INTEG.HMAC_SHA2_384_192, h: 'sha384', key: 48, icv: 24 },
  { id: INTEG.HMAC_SHA2_512_256, h: 'sha512', key: 64, icv: 32 },
] as const;

describe.each(BACKENDS)('HMAC (%s backend)', (backend) => {
  for (const p of PRFS) {
    it.each(cases)(`PRF ${p.h}: RFC 4231 test case $n`, (c) => {
      const prf = getPrf(p.id, backend);
      expect(prf.outLen).toBe(p.out);
      expect(hex(prf.compute(c.key, c.data))).toBe(c[p.h]);
    });
  }

  it('RFC 4231 test case 5 (truncation to 128 bits)', () => {
    const key = new Uint8Array(20).fill(0x0c);
    const data = utf8('Test With Truncation');
    expect(hex(getPrf(PRF.HMAC_SHA2_256, backend).compute(key, data)).slice(0, 32)).toBe('a3b6167473100ee06e0c796c2955552b');
    expect(hex(getPrf(PRF.HMAC_SHA2_384, backend).compute(key, data)).slice(0, 32)).toBe('3abf34c3503b2a23a46efc619baef897');
    expect(hex(getPrf(PRF.HMAC_SHA2_512, backend).compute(key, data)).slice(0, 32)).toBe('415fad6271580a531d4179bc891d87a6');
  });

  for (const i of INTEGS) {
    // RFC 4868 fixes the key length; RFC 4231 cases whose key has that length: none do, so
    // build the key to size by keying HMAC with the case key padded by zeros — HMAC pads short
    // keys with zeros to the block size (RFC 2104 §2), so the tag is the same as with the case key.
    it.each(cases.filter((c) => c.key.length <= i.key))(`INTEG ${i.h} truncated: RFC 4231 test case $n`, (c) => {
      const integ = getInteg(i.id, backend);
      expect(integ.keyLen).toBe(i.key);
      expect(integ.icvLen).toBe(i.icv);
      const key = new Uint8Array(i.key);
      key.set(c.key);
      expect(hex(integ.sign(key, c.data))).toBe(c[i.h].slice(0, i.icv * 2));
    });
    it(`INTEG ${i.h} rejects a key of the wrong length`, () => {
      expect(() => getInteg(i.id, backend).sign(new Uint8Array(i.key - 1), new Uint8Array(1))).toThrow(RangeError);
    });
  }

  it('HMAC-SHA1 PRF and HMAC-SHA1-96 (RFC 2202 §3 test case 1)', () => {
    const key = new Uint8Array(20).fill(0x0b);
    const full = 'b617318655057264e28bc0b6fb378c8ef146be00';
    expect(hex(getPrf(PRF.HMAC_SHA1, backend).compute(key, utf8('Hi There')))).toBe(full);
    expect(hex(getInteg(INTEG.HMAC_SHA1_96, backend).sign(key, utf8('Hi There')))).toBe(full.slice(0, 24));
  });

  it('outputs are fresh arrays (zeroizing one does not affect the next call)', () => {
    const prf = getPrf(PRF.HMAC_SHA2_256, backend);
    const a = prf.compute(utf8('k'), utf8('d'));
    const keep = hex(a);
    a.fill(0);
    expect(hex(prf.compute(utf8('k'), utf8('d')))).toBe(keep);
  });
});
