/** Truncated HMAC integrity (RFC 4868 §2.1.1, RFC 2404) through node:crypto. */
import { createHmac } from 'node:crypto';
import type { Integ } from '../types.js';
import { integShape } from '../hmac-common.js';

const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function nodeInteg(id: number): Integ {
  const s = integShape(id);
  return {
    id: s.id,
    keyLen: s.keyLen,
    icvLen: s.icvLen,
    sign(key, data) {
      if (key.length !== s.keyLen) throw new RangeError(`integ ${s.id}: key is ${key.length} bytes, expected ${s.keyLen}`);
      const d = createHmac(s.hash, view(key)).update(view(data)).digest();
      return new Uint8Array(d.subarray(0, s.icvLen)); // copy of the truncated ICV
    },
  };
}
