/** AES-CBC (RFC 3602) through node:crypto. No padding here: IKE (§3.14) and ESP pad themselves. */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Cipher } from '../types.js';
import { argsOk, checkArgs, cipherShape } from '../cipher-common.js';
import { ENCR } from '../ids.js';

const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function nodeCbc(keyBits: number): Cipher {
  if (keyBits !== 128 && keyBits !== 192 && keyBits !== 256) throw new Error(`AES-CBC key size ${keyBits} not supported`);
  const shape = cipherShape(ENCR.AES_CBC, keyBits);
  const alg = `aes-${keyBits}-cbc`;
  return {
    ...shape,
    encrypt(key, iv, plaintext, _aad) {
      checkArgs(shape, key, iv);
      if (plaintext.length % 16 !== 0) throw new RangeError('AES-CBC plaintext must be a multiple of 16 bytes');
      const c = createCipheriv(alg, view(key), view(iv));
      c.setAutoPadding(false);
      const a = c.update(view(plaintext));
      const b = c.final();
      const out = new Uint8Array(a.length + b.length);
      out.set(a, 0);
      out.set(b, a.length);
      return out;
    },
    decrypt(key, iv, ciphertext, _aad) {
      if (!argsOk(shape, key, iv) || ciphertext.length % 16 !== 0) return null;
      try {
        const d = createDecipheriv(alg, view(key), view(iv));
        d.setAutoPadding(false);
        const a = d.update(view(ciphertext));
        const b = d.final();
        const out = new Uint8Array(a.length + b.length);
        out.set(a, 0);
        out.set(b, a.length);
        return out;
      } catch {
        return null;
      }
    },
  };
}
