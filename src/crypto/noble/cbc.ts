/** AES-CBC (RFC 3602) through @noble/ciphers, padding disabled (callers pad). */
import { cbc } from '@noble/ciphers/aes.js';
import type { Cipher } from '../types.js';
import { argsOk, checkArgs, cipherShape } from '../cipher-common.js';
import { ENCR } from '../ids.js';

export function nobleCbc(keyBits: number): Cipher {
  if (keyBits !== 128 && keyBits !== 192 && keyBits !== 256) throw new Error(`AES-CBC key size ${keyBits} not supported`);
  const shape = cipherShape(ENCR.AES_CBC, keyBits);
  return {
    ...shape,
    encrypt(key, iv, plaintext, _aad) {
      checkArgs(shape, key, iv);
      if (plaintext.length % 16 !== 0) throw new RangeError('AES-CBC plaintext must be a multiple of 16 bytes');
      if (plaintext.length === 0) return new Uint8Array(0);
      return cbc(key, iv, { disablePadding: true }).encrypt(plaintext);
    },
    decrypt(key, iv, ciphertext, _aad) {
      if (!argsOk(shape, key, iv) || ciphertext.length % 16 !== 0) return null;
      if (ciphertext.length === 0) return new Uint8Array(0);
      try {
        return cbc(key, iv, { disablePadding: true }).decrypt(ciphertext);
      } catch {
        return null;
      }
    },
  };
}
