/** HMAC PRFs and truncated-HMAC integrity through @noble/hashes. */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { sha1 } from '@noble/hashes/legacy.js';
import type { Integ, Prf } from '../types.js';
import type { HashName } from '../ids.js';
import { integShape, prfShape } from '../hmac-common.js';

const HASH = { sha1, sha256, sha384, sha512 } as const;
function mac(h: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(HASH[h], key, data);
}

export function noblePrf(id: number): Prf {
  const s = prfShape(id);
  return { id: s.id, outLen: s.outLen, compute: (key, data) => mac(s.hash, key, data) };
}

export function nobleInteg(id: number): Integ {
  const s = integShape(id);
  return {
    id: s.id,
    keyLen: s.keyLen,
    icvLen: s.icvLen,
    sign(key, data) {
      if (key.length !== s.keyLen) throw new RangeError(`integ ${s.id}: key is ${key.length} bytes, expected ${s.keyLen}`);
      return mac(s.hash, key, data).slice(0, s.icvLen);
    },
  };
}
