/**
 * Known-answer tests for every Cipher on both backends:
 *  - AES-GCM: test cases 2, 3, 4, 9, 15, 16 of McGrew & Viega, "The Galois/Counter Mode of
 *    Operation (GCM)" (NIST submission), split into key ‖ salt and salt ‖ IV as RFC 4106 does.
 *  - ChaCha20-Poly1305: RFC 8439 §2.8.2 (also Wycheproof tcId 1).
 *  - AES-CBC: RFC 3602 §4 cases 1–4.
 *  - RFC 7634 Appendix B: decrypt the SK payload of the example INFORMATIONAL message.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, hex, utf8 } from '../../../src/common/bytes.js';
import { BACKENDS, ENCR, getCipher } from '../../../src/crypto/registry.js';

const H = fromHex;
const gcmP =
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
const gcmA = 'feedfacedeadbeeffeedfacedeadbeefabaddad2';
const K = 'feffe9928665731c6d6a8f9467308308';

interface AeadCase {
  name: string;
  id: number;
  bits: number;
  key: string;
  nonce: string; // 12 bytes = salt(4) ‖ iv(8)
  aad: string;
  pt: string;
  ct: string;
  tag: string;
}

const aeadCases: AeadCase[] = [
  {
    name: 'GCM TC2 (AES-128, zero key, one zero block)',
    id: ENCR.AES_GCM_16,
    bits: 128,
    key: '00000000000000000000000000000000',
    nonce: '000000000000000000000000',
    aad: '',
    pt: '00000000000000000000000000000000',
    ct: '0388dace60b6a392f328c2b971b2fe78',
    tag: 'ab6e47d42cec13bdf53a67b21257bddf',
  },
  {
    name: 'GCM TC3 (AES-128, 64 bytes)',
    id: ENCR.AES_GCM_16,
    bits: 128,
    key: K,
    nonce: 'cafebabefacedbaddecaf888',
    aad: '',
    pt: gcmP,
    ct: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985',
    tag: '4d5c2af327cd64a62cf35abd2ba6fab4',
  },
  {
    name: 'GCM TC4 (AES-128, 60 bytes, AAD)',
    id: ENCR.AES_GCM_16,
    bits: 128,
    key: K,
    nonce: 'cafebabefacedbaddecaf888',
    aad: gcmA,
    pt: gcmP.slice(0, 120),
    ct: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091',
    tag: '5bc94fbc3221a5db94fae95ae7121a47',
  },
  {
    name: 'GCM TC9 (AES-192, 64 bytes)',
    id: ENCR.AES_GCM_16,
    bits: 192,
    key: K + 'feffe9928665731c',
    nonce: 'cafebabefacedbaddecaf888',
    aad: '',
    pt: gcmP,
    ct: '3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710acade256',
    tag: '9924a7c8587336bfb118024db8674a14',
  },
  {
    name: 'GCM TC15 (AES-256, 64 bytes)',
    id: ENCR.AES_GCM_16,
    bits: 256,
    key: K + K,
    nonce: 'cafebabefacedbaddecaf888',
    aad: '',
    pt: gcmP,
    ct: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad',
    tag: 'b094dac5d93471bdec1a502270e3cc6c',
  },
  {
    name: 'GCM TC16 (AES-256, 60 bytes, AAD)',
    id: ENCR.AES_GCM_16,
    bits: 256,
    key: K + K,
    nonce: 'cafebabefacedbaddecaf888',
    aad: gcmA,
    pt: gcmP.slice(0, 120),
    ct: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
  {
    name: 'ChaCha20-Poly1305 RFC 8439 §2.8.2',
    id: ENCR.CHACHA20_POLY1305,
    bits: 256,
    key: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
    nonce: '070000004041424344454647',
    aad: '50515253c0c1c2c3c4c5c6c7',
    pt: hex(
      utf8(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
      ),
    ),
    ct: 'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116',
    tag: '1ae10b594f09e26a7e902ecbd0600691',
  },
];

const cbcCases = [
  {
    name: 'RFC 3602 case 1 (1 block)',
    key: '06a9214036b8a15b512e03d534120006',
    iv: '3dafba429d9eb430b422da802c9fac41',
    pt: hex(utf8('Single block msg')),
    ct: 'e353779c1079aeb82708942dbe77181a',
  },
  {
    name: 'RFC 3602 case 2 (2 blocks)',
    key: 'c286696d887c9aa0611bbb3e2025a45a',
    iv: '562e17996d093d28ddb3ba695a2e6f58',
    pt: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    ct: 'd296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1',
  },
  {
    name: 'RFC 3602 case 3 (3 blocks)',
    key: '6c3ea0477630ce21a2ce334aa746c2cd',
    iv: 'c782dc4c098c66cbd9cd27d825682c81',
    pt: hex(utf8('This is a 48-byte message (exactly 3 AES blocks)')),
    ct: 'd0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5021c19216bad525c8579695d83ba2684',
  },
  {
    name: 'RFC 3602 case 4 (4 blocks)',
    key: '56e47a38c5598974bc46903dba290349',
    iv: '8ce82eefbea0da3c44699ed7db51b7d9',
    pt: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf',
    ct: 'c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55',
  },
];

describe.each(BACKENDS)('Cipher known answers (%s backend)', (backend) => {
  it.each(aeadCases)('$name', (c) => {
    const cipher = getCipher(c.id, c.bits, backend);
    expect(cipher.aead).toBe(true);
    expect(cipher.keyLen).toBe(c.bits / 8 + 4);
    expect([cipher.saltLen, cipher.ivLen, cipher.icvLen, cipher.blockLen]).toEqual([4, 8, 16, 1]);
    const nonce = H(c.nonce);
    const key = concat(H(c.key), nonce.subarray(0, 4)); // encr key ‖ salt
    const iv = nonce.subarray(4);
    const sealed = cipher.encrypt(key, iv, H(c.pt), H(c.aad));
    expect(hex(sealed)).toBe(c.ct + c.tag);
    expect(hex(cipher.decrypt(key, iv, sealed, H(c.aad)) ?? new Uint8Array([0xee]))).toBe(c.pt);
    // tampering anywhere → null, never a throw
    for (const pos of [0, sealed.length - 1, Math.max(0, sealed.length - 17)]) {
      const bad = sealed.slice();
      bad[pos]! ^= 0x01;
      expect(cipher.decrypt(key, iv, bad, H(c.aad))).toBeNull();
    }
    expect(cipher.decrypt(key, iv, sealed, concat(H(c.aad), new Uint8Array([0])))).toBeNull();
    expect(cipher.decrypt(key, iv, sealed.subarray(0, 15), H(c.aad))).toBeNull();
    expect(cipher.decrypt(key.subarray(1), iv, sealed, H(c.aad))).toBeNull();
    expect(cipher.decrypt(key, iv.subarray(1), sealed, H(c.aad))).toBeNull();
  });

  it.each(cbcCases)('AES-CBC $name', (c) => {
    const cipher = getCipher(ENCR.AES_CBC, 128, backend);
    expect([cipher.aead, cipher.keyLen, cipher.saltLen, cipher.ivLen, cipher.icvLen, cipher.blockLen]).toEqual([
      false, 16, 0, 16, 0, 16,
    ]);
    const ct = cipher.encrypt(H(c.key), H(c.iv), H(c.pt), new Uint8Array(0));
    expect(hex(ct)).toBe(c.ct);
    expect(hex(cipher.decrypt(H(c.key), H(c.iv), ct, new Uint8Array(0)) ?? new Uint8Array([0xee]))).toBe(c.pt);
    expect(cipher.decrypt(H(c.key), H(c.iv), ct.subarray(1), new Uint8Array(0))).toBeNull();
    expect(() => cipher.encrypt(H(c.key), H(c.iv), H(c.pt).subarray(1), new Uint8Array(0))).toThrow(RangeError);
  });

  it('AES-CBC 192/256 round-trip and key lengths', () => {
    for (const bits of [192, 256]) {
      const cipher = getCipher(ENCR.AES_CBC, bits, backend);
      expect(cipher.keyLen).toBe(bits / 8);
      const key = new Uint8Array(bits / 8).fill(7);
      const iv = new Uint8Array(16).fill(9);
      const pt = new Uint8Array(48).fill(3);
      expect(cipher.decrypt(key, iv, cipher.encrypt(key, iv, pt, new Uint8Array(0)), new Uint8Array(0))).toEqual(pt);
    }
  });

  it('RFC 7634 Appendix B: decrypt the SK payload of the IKEv2 INFORMATIONAL example', () => {
    const v = JSON.parse(readFileSync(new URL('../../vectors/crypto/rfc7634-appendix-b.json', import.meta.url), 'utf8')) as {
      skEi: string;
      message: string;
      plaintext: string;
    };
    const msg = H(v.message);
    // IKE header length field covers the whole message; SK payload length covers its header, IV, ct, ICV
    expect(new DataView(msg.buffer).getUint32(24)).toBe(msg.length);
    expect(new DataView(msg.buffer).getUint16(30)).toBe(msg.length - 28);
    const cipher = getCipher(ENCR.CHACHA20_POLY1305, 256, backend);
    const aad = msg.subarray(0, 28 + 4);
    const iv = msg.subarray(32, 32 + cipher.ivLen);
    const body = msg.subarray(32 + cipher.ivLen);
    const pt = cipher.decrypt(H(v.skEi), iv, body, aad);
    expect(pt && hex(pt)).toBe(v.plaintext);
    // and re-encrypting gives back the exact wire bytes
    expect(hex(cipher.encrypt(H(v.skEi), iv, H(v.plaintext), aad))).toBe(hex(body));
    const tampered = msg.slice();
    tampered[17]! ^= 0x80; // a bit of the responder SPI: AAD changes, ICV must fail
    expect(cipher.decrypt(H(v.skEi), iv, body, tampered.subarray(0, 32))).toBeNull();
  });
});
