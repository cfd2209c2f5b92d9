/**
 * Glue between negotiated suites and crypto objects for one IKE SA:
 * SK_* → SkCrypto per direction (RFC 7296 §2.14), PRF handle, key lengths.
 */
import { getCipher, getInteg, getPrf } from '../crypto/registry.js';
import type { IkeKeys, Prf, SkCrypto } from '../crypto/types.js';
import type { IkeSuite } from './proposal.js';

export interface IkeCrypto {
  prf: Prf;
  /** protects messages sent by the original initiator */
  skI: SkCrypto;
  /** protects messages sent by the original responder */
  skR: SkCrypto;
  keys: IkeKeys;
}

export function ikeKeyLengths(s: IkeSuite): { encKeyLen: number; integKeyLen: number } {
  const c = getCipher(s.encr.id, s.encr.keyBits);
  const i = s.integ !== null ? getInteg(s.integ) : null;
  return { encKeyLen: c.keyLen, integKeyLen: i ? i.keyLen : 0 };
}

export function makeIkeCrypto(s: IkeSuite, keys: IkeKeys, iv: (n: number) => Uint8Array): IkeCrypto {
  const cipher = getCipher(s.encr.id, s.encr.keyBits);
  const integ = s.integ !== null ? getInteg(s.integ) : null;
  return {
    prf: getPrf(s.prf),
    keys,
    skI: { cipher, encKey: keys.skEi, integ, integKey: integ ? keys.skAi : null, iv },
    skR: { cipher, encKey: keys.skEr, integ, integKey: integ ? keys.skAr : null, iv },
  };
}
