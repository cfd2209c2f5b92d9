/**
 * AES-GCM-16 (RFC 4106/5282) and ChaCha20-Poly1305 (RFC 7634) through node:crypto (OpenSSL).
 * Stateless: one EVP context per call, which is plenty for IKE; ESP's fast path is native.
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes, type CipherChaCha20Poly1305Types } from 'node:crypto';
import type { Cipher } from '../types.js';
import { ENCR } from '../ids.js';
import { aeadNonce, argsOk, checkArgs, cipherShape } from '../cipher-common.js';

type AeadAlg = CipherGCMTypes | CipherChaCha20Poly1305Types;

function algName(id: number, keyBits: number): AeadAlg {
  if (id === ENCR.CHACHA20_POLY1305) {
    if (keyBits !== 256) throw new Error('ChaCha20-Poly1305 takes a 256-bit key');
    return 'chacha20-poly1305';
  }
  if (keyBits === 128) return 'aes-128-gcm';
  if (keyBits === 192) return 'aes-192-gcm';
  if (keyBits === 256) return 'aes-256-gcm';
  throw new Error(`AES-GCM key size ${keyBits} not supported`);
}

const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function nodeAead(id: number, keyBits: number): Cipher {
  const shape = cipherShape(id, keyBits);
  const alg = algName(id, keyBits);
  const encLen = keyBits / 8;
  const tagLen = shape.icvLen;
  return {
    ...shape,
    encrypt(key, iv, plaintext, aad) {
      checkArgs(shape, key, iv);
      const nonce = aeadNonce(key.subarray(encLen), iv);
      const c = createCipheriv(alg as CipherGCMTypes, view(key.subarray(0, encLen)), nonce, { authTagLength: tagLen });
      c.setAAD(view(aad), { plaintextLength: plaintext.length });
      const a = c.update(view(plaintext));
      const b = c.final();
      const tag = c.getAuthTag();
      const out = new Uint8Array(a.length + b.length + tag.length);
      out.set(a, 0);
      out.set(b, a.length);
      out.set(tag, a.length + b.length);
      return out;
    },
    decrypt(key, iv, ciphertext, aad) {
      if (!argsOk(shape, key, iv) || ciphertext.length < tagLen) return null;
      try {
        const nonce = aeadNonce(key.subarray(encLen), iv);
        const ctLen = ciphertext.length - tagLen;
        const d = createDecipheriv(alg as CipherGCMTypes, view(key.subarray(0, encLen)), nonce, { authTagLength: tagLen });
        d.setAuthTag(view(ciphertext.subarray(ctLen)));
        d.setAAD(view(aad), { plaintextLength: ctLen });
        const a = d.update(view(ciphertext.subarray(0, ctLen)));
        const b = d.final(); // throws on tag mismatch
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
