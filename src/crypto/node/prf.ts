/** HMAC PRFs (RFC 4868 §2.1.2) through node:crypto createHmac. */
import { createHmac } from 'node:crypto';
import type { Prf } from '../types.js';
import { prfShape } from '../hmac-common.js';

const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function nodePrf(id: number): Prf {
  const s = prfShape(id);
  return {
    id: s.id,
    outLen: s.outLen,
    compute(key, data) {
      const d = createHmac(s.hash, view(key)).update(view(data)).digest();
      return new Uint8Array(d); // copy: never hand out a view of a pooled Buffer
    },
  };
}
