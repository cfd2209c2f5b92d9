/**
 * Key exchange on both backends:
 *  - RFC 7748 §5.2 (scalar multiplication) and §6.1/§6.2 (X25519/X448 Diffie-Hellman).
 *  - RFC 5903 §8.1–8.3 (ECP-256/384/521): KE data x‖y, shared secret = x of g^ir.
 *  - RFC 3526 groups 14/15/16: our primes equal OpenSSL's; agreement both ways; lengths.
 *  - Malformed peer values → ProtocolError(INVALID_SYNTAX).
 */
import { getDiffieHellman } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromHex, hex } from '../../../src/common/bytes.js';
import { ProtocolError } from '../../../src/common/errors.js';
import { BACKENDS, KE, getKe, keDescriptor } from '../../../src/crypto/registry.js';
import { MODP_PRIMES } from '../../../src/crypto/modp-groups.js';
import { NotifyType } from '../../../src/ike/wire/constants.js';

const H = (s: string): Uint8Array => fromHex(s.replace(/\s+/g, ''));

function expectInvalidSyntax(f: () => unknown): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ProtocolError);
  expect((err as ProtocolError).notify).toBe(NotifyType.INVALID_SYNTAX);
}

const rfc7748 = [
  {
    name: 'X25519 §6.1',
    group: KE.CURVE25519,
    a: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
    A: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    b: '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
    B: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
    K: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
  },
  {
    name: 'X448 §6.2',
    group: KE.CURVE448,
    a: '9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf574a9419744897391006382a6f127ab1d9ac2d8c0a598726b',
    A: '9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bbc836647241d953d40c5b12da88120d53177f80e532c41fa0',
    b: '1c306a7ac2a0e2e0990b294470cba339e6453772b075811d8fad0d1d6927c120bb5ee8972b0d3e21374c9c921b09d1b0366f10b65173992d',
    B: '3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b43027d8b972fc3e34fb4232a13ca706dcb57aec3dae07bdc1c67bf33609',
    K: '07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282bb60c0b56fd2464c335543936521c24403085d59a449a5037514a879d',
  },
];

const scalarMult = [
  {
    name: 'X25519 §5.2 #1',
    group: KE.CURVE25519,
    k: 'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
    u: 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
    out: 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
  },
  {
    name: 'X25519 §5.2 #2 (u with the high bit set: masked)',
    group: KE.CURVE25519,
    k: '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
    u: 'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
    out: '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
  },
  {
    name: 'X448 §5.2 #1',
    group: KE.CURVE448,
    k: '3d262fddf9ec8e88495266fea19a34d28882acef045104d0d1aae121700a779c984c24f8cdd78fbff44943eba368f54b29259a4f1c600ad3',
    u: '06fce640fa3487bfda5f6cf2d5263f8aad88334cbd07437f020f08f9814dc031ddbdc38c19c6da2583fa5429db94ada18aa7a7fb4ef8a086',
    out: 'ce3e4ff95a60dc6697da1db1d85e6afbdf79b50a2412d7546d5f239fe14fbaadeb445fc66a01b0779d98223961111e21766282f73dd96b6f',
  },
];

const rfc5903 = [
  {
    name: '§8.1 ECP-256',
    group: KE.ECP_256,
    i: 'C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433',
    gi: `DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180
         5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3`,
    r: 'C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53',
    gr: `D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63
         56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB`,
    girx: 'D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE',
  },
  {
    name: '§8.2 ECP-384',
    group: KE.ECP_384,
    i: `099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655
        E35B5380 41E649EE 3FAEF896 783AB194`,
    gi: `667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6
         DE3AC808 ACB4BDB4 C88732AE E95F41AA 9482ED1F C0EEB9CA FC498462 5CCFC23F
         65032149 E0E144AD A0241815 35A0F38E EB9FCFF3 C2C947DA E69B4C63 4573A81C`,
    r: `41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942
        E0308312 916B8ED2 960E4BD5 5A7448FC`,
    gr: `E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D
         0D1AC43A 0336DEF9 6FDA41D0 774A3571 DCFBEC7A ACF31964 72169E83 8430367F
         66EEBE3C 6E70C416 DD5F0C68 759DD1FF F83FA401 42209DFF 5EAAD96D B9E6386C`,
    girx: `11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4
           D6031355 69B9E9D0 9CF5D4A2 70F59746`,
  },
  {
    name: '§8.3 ECP-521',
    group: KE.ECP_521,
    i: `0037ADE9 319A89F4 DABDB3EF 411AACCC A5123C61 ACAB57B5 393DCE47 608172A0
        95AA85A3 0FE1C295 2C6771D9 37BA9777 F5957B26 39BAB072 462F68C2 7A57382D 4A52`,
    gi: `0015417E 84DBF28C 0AD3C278 713349DC 7DF153C8 97A1891B D98BAB43 57C9ECBE
         E1E3BF42 E00B8E38 0AEAE57C 2D107564 94188594 2AF5A7F4 601723C4 195D176C ED3E
         017CAE20 B6641D2E EB695786 D8C94614 6239D099 E18E1D5A 514C739D 7CB4A10A
         D8A78801 5AC405D7 799DC75E 7B7D5B6C F2261A6A 7F150743 8BF01BEB 6CA3926F 9582`,
    r: `0145BA99 A847AF43 793FDD0E 872E7CDF A16BE30F DC780F97 BCCC3F07 8380201E
        9C677D60 0B343757 A3BDBF2A 3163E4C2 F869CCA7 458AA4A4 EFFC311F 5CB15168 5EB9`,
    gr: `00D0B397 5AC4B799 F5BEA16D 5E13E9AF 971D5E9B 984C9F39 728B5E57 39735A21
         9B97C356 436ADC6E 95BB0352 F6BE64A6 C2912D4E F2D0433C ED2B6171 640012D9 460F
         015C6822 6383956E 3BD066E7 97B623C2 7CE0EAC2 F551A10C 2C724D98 52077B87
         220B6536 C5C408A1 D2AEBB8E 86D678AE 49CB5709 1F473229 6579AB44 FCD17F0F C56A`,
    girx: `01144C7D 79AE6956 BC8EDB8E 7C787C45 21CB086F A64407F9 7894E5E6 B2D79B04
           D1427E73 CA4BAA24 0A347868 59810C06 B3C715A3 A8CC3151 F2BEE417 996D19F3 DDEA`,
  },
];

describe.each(BACKENDS)('key exchange (%s backend)', (backend) => {
  it.each(rfc7748)('RFC 7748 $name', (v) => {
    const f = getKe(v.group, backend);
    const alice = f.fromPrivateKey(H(v.a));
    const bob = f.fromPrivateKey(H(v.b));
    expect(hex(alice.publicKey)).toBe(v.A);
    expect(hex(bob.publicKey)).toBe(v.B);
    expect(hex(alice.computeSecret(bob.publicKey))).toBe(v.K);
    expect(hex(bob.computeSecret(alice.publicKey))).toBe(v.K);
  });

  it.each(scalarMult)('RFC 7748 $name', (v) => {
    expect(hex(getKe(v.group, backend).fromPrivateKey(H(v.k)).computeSecret(H(v.u)))).toBe(v.out);
  });

  it.each(rfc5903)('RFC 5903 $name', (v) => {
    const f = getKe(v.group, backend);
    const i = f.fromPrivateKey(H(v.i));
    const r = f.fromPrivateKey(H(v.r));
    expect(hex(i.publicKey)).toBe(hex(H(v.gi)));
    expect(hex(r.publicKey)).toBe(hex(H(v.gr)));
    expect(i.publicKey.length).toBe(f.publicLen);
    expect(hex(i.computeSecret(r.publicKey))).toBe(hex(H(v.girx)));
    expect(hex(r.computeSecret(i.publicKey))).toBe(hex(H(v.girx)));
  });

  it.each([KE.ECP_256, KE.ECP_384, KE.ECP_521])('ECP %i rejects off-curve points, wrong lengths and 0x04 prefixes', (g) => {
    const f = getKe(g, backend);
    const a = f.create();
    const b = f.create();
    expect(a.publicKey.length).toBe(f.publicLen);
    const off = b.publicKey.slice();
    off[off.length - 1]! ^= 0x01; // y changed: not on the curve
    expectInvalidSyntax(() => a.computeSecret(off));
    expectInvalidSyntax(() => a.computeSecret(b.publicKey.subarray(1)));
    expectInvalidSyntax(() => a.computeSecret(new Uint8Array([0x04, ...b.publicKey])));
    expectInvalidSyntax(() => a.computeSecret(new Uint8Array(f.publicLen))); // (0,0) is not a point
    expect(a.computeSecret(b.publicKey)).toEqual(b.computeSecret(a.publicKey));
  });

  it.each([KE.CURVE25519, KE.CURVE448])('Curve %i rejects low-order points (all-zero secret) and bad lengths', (g) => {
    const f = getKe(g, backend);
    const a = f.create();
    const zero = new Uint8Array(f.publicLen);
    const one = new Uint8Array(f.publicLen);
    one[0] = 1;
    expectInvalidSyntax(() => a.computeSecret(zero));
    expectInvalidSyntax(() => a.computeSecret(one));
    expectInvalidSyntax(() => a.computeSecret(new Uint8Array(f.publicLen + 1).fill(9)));
    expectInvalidSyntax(() => a.computeSecret(new Uint8Array(0)));
  });

  it.each([KE.MODP_2048, KE.MODP_3072, KE.MODP_4096])('MODP %i: agreement both ways, lengths, range checks', (g) => {
    const f = getKe(g, backend);
    const len = keDescriptor(g).publicLen;
    expect(f.publicLen).toBe(len);
    const a = f.create();
    const b = f.create();
    expect(a.publicKey.length).toBe(len);
    const s = a.computeSecret(b.publicKey);
    expect(s.length).toBe(len);
    expect(hex(s)).toBe(hex(b.computeSecret(a.publicKey)));
    const p = fromHex(MODP_PRIMES[g as 14 | 15 | 16]);
    const pMinus1 = p.slice();
    pMinus1[pMinus1.length - 1]! -= 1;
    const y1 = new Uint8Array(len);
    y1[len - 1] = 1;
    for (const bad of [new Uint8Array(len), y1, pMinus1, p, new Uint8Array(len).fill(0xff)]) {
      expectInvalidSyntax(() => a.computeSecret(bad));
    }
    expectInvalidSyntax(() => a.computeSecret(b.publicKey.subarray(1)));
  });

  it('MODP 14: secret is left-padded to the prime length (small public value)', () => {
    // peer y = 2 (the generator itself: y = g^1) gives g^x, i.e. our own public value
    const f = getKe(KE.MODP_2048, backend);
    const a = f.fromPrivateKey(fromHex('0102030405060708'));
    const two = new Uint8Array(256);
    two[255] = 2;
    expect(hex(a.computeSecret(two))).toBe(hex(a.publicKey));
    // x = 1 → public value 2, 255 leading zero bytes
    const one = f.fromPrivateKey(new Uint8Array([1]));
    expect(one.publicKey.length).toBe(256);
    expect(hex(one.publicKey)).toBe(hex(two));
  });
});

describe('RFC 3526 groups', () => {
  it.each([14, 15, 16] as const)('MODP %i prime equals the OpenSSL copy and has the RFC 3526 shape', (g) => {
    const ours = MODP_PRIMES[g].toLowerCase();
    expect(ours).toBe(getDiffieHellman(`modp${g}`).getPrime('hex'));
    expect(ours.length / 2).toBe({ 14: 256, 15: 384, 16: 512 }[g]);
    expect(ours.startsWith('ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd1')).toBe(true);
    expect(ours.endsWith('ffffffffffffffff')).toBe(true);
  });
});
