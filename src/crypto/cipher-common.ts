/** Descriptor fields and argument checks shared by the Cipher implementations of both backends. */
import { ENCR } from './ids.js';

export interface CipherShape {
  readonly id: number;
  readonly aead: boolean;
  readonly keyLen: number;
  readonly saltLen: number;
  readonly ivLen: number;
  readonly icvLen: number;
  readonly blockLen: number;
}

/** RFC 4106 / RFC 5282 (GCM-16), RFC 7634 (ChaCha20-Poly1305), RFC 3602 (CBC). */
export function cipherShape(id: number, keyBits: number): CipherShape {
  if (id === ENCR.AES_GCM_16 || id === ENCR.CHACHA20_POLY1305) {
    return { id, aead: true, keyLen: keyBits / 8 + 4, saltLen: 4, ivLen: 8, icvLen: 16, blockLen: 1 };
  }
  if (id === ENCR.AES_CBC) return { id, aead: false, keyLen: keyBits / 8, saltLen: 0, ivLen: 16, icvLen: 0, blockLen: 16 };
  throw new Error(`unsupported ENCR ${id}`);
}

/** AEAD key split: encr key ‖ 4-byte salt; nonce = salt ‖ 8-byte IV (RFC 4106 §4, RFC 7634 §2). */
export function aeadNonce(salt: Uint8Array, iv: Uint8Array): Uint8Array {
  const n = new Uint8Array(12);
  n.set(salt, 0);
  n.set(iv, 4);
  return n;
}

export function checkArgs(s: CipherShape, key: Uint8Array, iv: Uint8Array): void {
  if (key.length !== s.keyLen) throw new RangeError(`cipher ${s.id}: key is ${key.length} bytes, expected ${s.keyLen}`);
  if (iv.length !== s.ivLen) throw new RangeError(`cipher ${s.id}: IV is ${iv.length} bytes, expected ${s.ivLen}`);
}

/** For decrypt: same checks, as a boolean (decrypt never throws). */
export function argsOk(s: CipherShape, key: Uint8Array, iv: Uint8Array): boolean {
  return key.length === s.keyLen && iv.length === s.ivLen;
}
