/**
 * Test-only SkCrypto instances for the wire codec.
 * - `nodeSk(kind)`: built directly on node:crypto, independent of src/crypto (oracle).
 * - `registrySk(kind)`: the production backends from src/crypto/registry.ts.
 * Both use a deterministic IV source so encodings are reproducible.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import type { Cipher, Integ, SkCrypto } from '../../src/crypto/types.js';
import { SeededRng } from '../../src/common/rng.js';
import { EncrId, IntegId } from '../../src/ike/wire/constants.js';
import { getCipher, getInteg } from '../../src/crypto/registry.js';

export type SkKind = 'gcm' | 'cbc';

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** AES-256-GCM-16 per RFC 5282: key = 32-octet key ‖ 4-octet salt, nonce = salt ‖ 8-octet IV */
export const nodeGcm256: Cipher = {
  id: EncrId.AES_GCM_16,
  aead: true,
  keyLen: 36,
  saltLen: 4,
  ivLen: 8,
  icvLen: 16,
  blockLen: 1,
  encrypt(key, iv, pt, aad) {
    const c = createCipheriv('aes-256-gcm', key.subarray(0, 32), Buffer.concat([key.subarray(32), iv]));
    c.setAAD(aad);
    return u8(Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]));
  },
  decrypt(key, iv, ct, aad) {
    if (ct.length < 16 || iv.length !== 8) return null;
    try {
      const d = createDecipheriv('aes-256-gcm', key.subarray(0, 32), Buffer.concat([key.subarray(32), iv]));
      d.setAAD(aad);
      d.setAuthTag(ct.subarray(ct.length - 16));
      return u8(Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]));
    } catch {
      return null;
    }
  },
};

export const nodeCbc256: Cipher = {
  id: EncrId.AES_CBC,
  aead: false,
  keyLen: 32,
  saltLen: 0,
  ivLen: 16,
  icvLen: 0,
  blockLen: 16,
  encrypt(key, iv, pt) {
    const c = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
    return u8(Buffer.concat([c.update(pt), c.final()]));
  },
  decrypt(key, iv, ct) {
    if (ct.length % 16 !== 0 || iv.length !== 16) return null;
    try {
      const d = createDecipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
      return u8(Buffer.concat([d.update(ct), d.final()]));
    } catch {
      return null;
    }
  },
};

export const nodeHmacSha256_128: Integ = {
  id: IntegId.HMAC_SHA2_256_128,
  keyLen: 32,
  icvLen: 16,
  sign: (key, data) => u8(createHmac('sha256', key).update(data).digest().subarray(0, 16)),
};

function key(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}

function build(kind: SkKind, cipher: Cipher, integ: Integ | null, seed: number): SkCrypto {
  const rng = new SeededRng(seed);
  return {
    cipher,
    encKey: key(cipher.keyLen, seed),
    integ: kind === 'cbc' ? integ : null,
    integKey: kind === 'cbc' ? key(32, seed + 1) : null,
    iv: (n) => rng.bytes(n),
  };
}

export function nodeSk(kind: SkKind, seed = 1): SkCrypto {
  return kind === 'gcm' ? build(kind, nodeGcm256, null, seed) : build(kind, nodeCbc256, nodeHmacSha256_128, seed);
}

export function registrySk(kind: SkKind, seed = 1): SkCrypto {
  return kind === 'gcm'
    ? build(kind, getCipher(EncrId.AES_GCM_16, 256), null, seed)
    : build(kind, getCipher(EncrId.AES_CBC, 256), getInteg(IntegId.HMAC_SHA2_256_128), seed);
}
