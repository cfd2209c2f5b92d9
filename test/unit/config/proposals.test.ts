import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/common/errors.js';
import {
  ESP_KEYWORDS,
  IKE_KEYWORDS,
  encrNeedsKeyLength,
  formatEspProposal,
  formatIkeProposal,
  isAeadEncr,
  parseEspProposal,
  parseEspProposals,
  parseIkeProposal,
} from '../../../src/config/proposals.js';
import { EncrId, IntegId, KeId, PrfId } from '../../../src/ike/wire/constants.js';

const ike = (s: string) => {
  const r = parseIkeProposal(s);
  expect(r.proposals).toHaveLength(1);
  return r.proposals[0]!;
};
const esp = (s: string) => {
  const r = parseEspProposal(s);
  expect(r.proposals).toHaveLength(1);
  return r.proposals[0]!;
};

describe('keyword table (IKE)', () => {
  it.each([
    ['aes128gcm16', { id: EncrId.AES_GCM_16, keyBits: 128 }],
    ['aes192gcm16', { id: EncrId.AES_GCM_16, keyBits: 192 }],
    ['aes256gcm16', { id: EncrId.AES_GCM_16, keyBits: 256 }],
    ['aes128gcm', { id: EncrId.AES_GCM_16, keyBits: 128 }],
    ['aes256gcm', { id: EncrId.AES_GCM_16, keyBits: 256 }],
    ['chacha20poly1305', { id: EncrId.CHACHA20_POLY1305, keyBits: 256 }],
  ])('AEAD %s', (kw, encr) => {
    expect(ike(`${kw}-prfsha256-x25519`)).toEqual({ encr: [encr], integ: [], prf: [PrfId.HMAC_SHA2_256], ke: [KeId.CURVE25519] });
  });
  it.each([
    ['aes', 128],
    ['aes128', 128],
    ['aes192', 192],
    ['aes256', 256],
  ])('CBC %s', (kw, bits) => {
    expect(ike(`${kw}-sha256-modp2048`).encr).toEqual([{ id: EncrId.AES_CBC, keyBits: bits }]);
  });
  it.each([
    ['sha1', IntegId.HMAC_SHA1_96, PrfId.HMAC_SHA1],
    ['sha256', IntegId.HMAC_SHA2_256_128, PrfId.HMAC_SHA2_256],
    ['sha2_256', IntegId.HMAC_SHA2_256_128, PrfId.HMAC_SHA2_256],
    ['sha384', IntegId.HMAC_SHA2_384_192, PrfId.HMAC_SHA2_384],
    ['sha512', IntegId.HMAC_SHA2_512_256, PrfId.HMAC_SHA2_512],
  ])('integ %s → integ %i, derived prf %i', (kw, integ, prf) => {
    expect(ike(`aes256-${kw}-ecp256`)).toEqual({
      encr: [{ id: EncrId.AES_CBC, keyBits: 256 }],
      integ: [integ],
      prf: [prf],
      ke: [KeId.ECP_256],
    });
  });
  it.each([
    ['prfsha1', PrfId.HMAC_SHA1],
    ['prfsha256', PrfId.HMAC_SHA2_256],
    ['prfsha384', PrfId.HMAC_SHA2_384],
    ['prfsha512', PrfId.HMAC_SHA2_512],
  ])('prf %s', (kw, id) => expect(ike(`aes256gcm16-${kw}-x25519`).prf).toEqual([id]));
  it.each([
    ['modp2048', KeId.MODP_2048],
    ['modp3072', KeId.MODP_3072],
    ['modp4096', KeId.MODP_4096],
    ['ecp256', KeId.ECP_256],
    ['ecp384', KeId.ECP_384],
    ['ecp521', KeId.ECP_521],
    ['x25519', KeId.CURVE25519],
    ['curve25519', KeId.CURVE25519],
    ['x448', KeId.CURVE448],
    ['curve448', KeId.CURVE448],
  ])('ke %s', (kw, id) => expect(ike(`aes256gcm16-prfsha256-${kw}`).ke).toEqual([id]));
});

describe('IKE proposal rules', () => {
  it('several algorithms per kind, in order, order of kinds irrelevant, duplicates folded', () => {
    const a = ike('aes128gcm16-aes256gcm16-prfsha256-x25519-ecp256');
    expect(a).toEqual({
      encr: [
        { id: EncrId.AES_GCM_16, keyBits: 128 },
        { id: EncrId.AES_GCM_16, keyBits: 256 },
      ],
      integ: [],
      prf: [PrfId.HMAC_SHA2_256],
      ke: [KeId.CURVE25519, KeId.ECP_256],
    });
    expect(ike('x25519-aes128gcm16-prfsha256-aes256gcm16-ecp256-x25519')).toEqual(a);
  });
  it('explicit prf wins over integ-derived', () => {
    expect(ike('aes256-sha256-prfsha384-modp2048').prf).toEqual([PrfId.HMAC_SHA2_384]);
  });
  it('several integs derive several prfs', () => {
    expect(ike('aes256-sha512-sha256-modp2048').prf).toEqual([PrfId.HMAC_SHA2_512, PrfId.HMAC_SHA2_256]);
  });
  it('AEAD without prf → prfsha256 and a note', () => {
    const r = parseIkeProposal('aes256gcm16-x25519');
    expect(r.proposals[0]!.prf).toEqual([PrfId.HMAC_SHA2_256]);
    expect(r.notes).toEqual(['IKE proposal "aes256gcm16-x25519" names no PRF; using prfsha256']);
  });
  it('AEAD with integ keyword: integ derives the prf and is dropped', () => {
    expect(ike('aes256gcm16-sha384-ecp384')).toEqual({
      encr: [{ id: EncrId.AES_GCM_16, keyBits: 256 }],
      integ: [],
      prf: [PrfId.HMAC_SHA2_384],
      ke: [KeId.ECP_384],
    });
  });
  it('keywords are case-insensitive', () => {
    expect(ike('AES256GCM16-PRFSHA256-X25519')).toEqual(ike('aes256gcm16-prfsha256-x25519'));
  });
  it('"default" expands to the default proposals', () => {
    const r = parseIkeProposal('default');
    expect(r.proposals.map(formatIkeProposal)).toEqual(['aes256gcm16-prfsha256-x25519', 'aes256-sha256-prfsha256-modp2048']);
  });
  it.each([
    ['aes256gcm17-prfsha256-x25519', 'unknown algorithm "aes256gcm17" (valid: aes128, '],
    ['aes256-modp2048', 'uses a non-AEAD cipher and needs an integrity algorithm'],
    ['aes256gcm16-prfsha256', 'needs a key exchange method'],
    ['prfsha256-x25519', 'has no encryption algorithm'],
    ['aes256gcm16-aes256-sha256-x25519', 'mixes AEAD and non-AEAD ciphers'],
    ['aes256gcm16-prfsha256-x25519-esn', '"esn" only applies to ESP proposals'],
    ['aes256gcm16--x25519', 'stray "-"'],
    ['', 'empty IKE proposal'],
    ['default-x25519', '"default" must stand alone'],
    ['aes256gcm16-prfsha256-modp1024', 'unknown algorithm "modp1024"'],
  ])('rejects %j', (s, msg) => {
    expect(() => parseIkeProposal(s)).toThrow(ConfigError);
    expect(() => parseIkeProposal(s)).toThrow(msg);
  });
  it('unknown keyword lists all valid IKE keywords', () => {
    try {
      parseIkeProposal('foo-x25519');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe(`unknown algorithm "foo" (valid: ${IKE_KEYWORDS.join(', ')})`);
    }
  });
});

describe('ESP proposals', () => {
  it.each([
    ['aes256gcm16', { encr: [{ id: EncrId.AES_GCM_16, keyBits: 256 }], integ: [], ke: [], esn: [false] }],
    ['aes128gcm16-aes256gcm16', { encr: [{ id: 20, keyBits: 128 }, { id: 20, keyBits: 256 }], integ: [], ke: [], esn: [false] }],
    ['chacha20poly1305-x25519', { encr: [{ id: 28, keyBits: 256 }], integ: [], ke: [31], esn: [false] }],
    ['aes256-sha256', { encr: [{ id: 12, keyBits: 256 }], integ: [12], ke: [], esn: [false] }],
    ['aes128-sha1-modp2048', { encr: [{ id: 12, keyBits: 128 }], integ: [2], ke: [14], esn: [false] }],
    ['aes256gcm16-esn', { encr: [{ id: 20, keyBits: 256 }], integ: [], ke: [], esn: [true] }],
    ['aes256gcm16-esn-noesn', { encr: [{ id: 20, keyBits: 256 }], integ: [], ke: [], esn: [true, false] }],
    ['aes256gcm16-noesn', { encr: [{ id: 20, keyBits: 256 }], integ: [], ke: [], esn: [false] }],
  ])('%s', (s, out) => expect(esp(s)).toEqual(out));
  it('AEAD with integ: integ ignored with a note', () => {
    const r = parseEspProposal('aes256gcm16-sha256');
    expect(r.proposals[0]!.integ).toEqual([]);
    expect(r.notes[0]).toContain('ignored with AEAD');
  });
  it('"default" and lists', () => {
    expect(parseEspProposal('default').proposals.map(formatEspProposal)).toEqual(['aes256gcm16', 'aes256-sha256']);
    expect(parseEspProposals(['aes128gcm16', 'aes256-sha512-esn']).proposals.map(formatEspProposal)).toEqual([
      'aes128gcm16',
      'aes256-sha512-esn',
    ]);
  });
  it.each([
    ['aes256gcm16-prfsha256', '"prfsha256" is a PRF, which only IKE proposals take'],
    ['aes256', 'needs an integrity algorithm'],
    ['sha256', 'has no encryption algorithm'],
    ['aes256gcm17', 'unknown algorithm "aes256gcm17"'],
  ])('rejects %j', (s, msg) => expect(() => parseEspProposal(s)).toThrow(msg));
  it('ESP valid list has esn and no prf', () => {
    expect(ESP_KEYWORDS).toContain('esn');
    expect(ESP_KEYWORDS).not.toContain('prfsha256');
    expect(IKE_KEYWORDS).not.toContain('esn');
  });
});

describe('helpers', () => {
  it('format round trips', () => {
    for (const s of ['aes128gcm16-aes256gcm16-prfsha256-x25519-ecp256', 'aes256-sha384-prfsha384-ecp384', 'chacha20poly1305-prfsha512-x448']) {
      expect(formatIkeProposal(ike(s))).toBe(s);
    }
    expect(formatEspProposal(esp('aes256gcm16-x25519-esn'))).toBe('aes256gcm16-x25519-esn');
  });
  it('AEAD and key-length attribute classification', () => {
    expect(isAeadEncr(EncrId.AES_GCM_16)).toBe(true);
    expect(isAeadEncr(EncrId.CHACHA20_POLY1305)).toBe(true);
    expect(isAeadEncr(EncrId.AES_CBC)).toBe(false);
    expect(encrNeedsKeyLength(EncrId.AES_GCM_16)).toBe(true);
    expect(encrNeedsKeyLength(EncrId.CHACHA20_POLY1305)).toBe(false);
  });
});
