/** AES-GCM-16 and ChaCha20-Poly1305 through @noble/ciphers: the oracle for node/aead.ts. */
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import type { Cipher } from '../types.js';
import { ENCR } from '../ids.js';
import { aeadNonce, argsOk, checkArgs, cipherShape } from '../cipher-common.js';

export function nobleAead(id: number, keyBits: number): Cipher {
  const shape = cipherShape(id, keyBits);
  if (id === ENCR.CHACHA20_POLY1305 && keyBits !== 256) throw new Error('ChaCha20-Poly1305 takes a 256-bit key');
  if (id === ENCR.AES_GCM_16 && keyBits !== 128 && keyBits !== 192 && keyBits !== 256) {
    throw new Error(`AES-GCM key size ${keyBits} not supported`);
  }
  const encLen = keyBits / 8;
  const make = id === ENCR.CHACHA20_POLY1305 ? chacha20poly1305 : gcm;
  return {
    ...shape,
    encrypt(key, iv, plaintext, aad) {
      checkArgs(shape, key, iv);
      const nonce = aeadNonce(key.subarray(encLen), iv);
      return make(key.slice(0, encLen), nonce, aad).encrypt(plaintext);
    },
    decrypt(key, iv, ciphertext, aad) {
      if (!argsOk(shape, key, iv) || ciphertext.length < shape.icvLen) return null;
      try {
        const nonce = aeadNonce(key.subarray(encLen), iv);
        return make(key.slice(0, encLen), nonce, aad).decrypt(ciphertext);
      } catch {
        return null;
      }
    },
  };
}
