/**
 * Crypto interfaces shared by IKE and ESP. Synchronous, Uint8Array in/out.
 * Backends: crypto/node (node:crypto, default) and crypto/noble (@noble/*, oracle).
 * Never hand-roll a primitive.
 */

/** Pseudo-random function (RFC 7296 §2.13), e.g. HMAC-SHA2-256. */
export interface Prf {
  readonly id: number; // PrfId
  /** output length in bytes, and preferred key length */
  readonly outLen: number;
  compute(key: Uint8Array, data: Uint8Array): Uint8Array;
}

/** Integrity algorithm (RFC 4868 truncated HMAC), keyed. */
export interface Integ {
  readonly id: number; // IntegId
  readonly keyLen: number;
  readonly icvLen: number;
  /** returns the truncated ICV */
  sign(key: Uint8Array, data: Uint8Array): Uint8Array;
}

/**
 * Encryption algorithm as used in IKE SK payloads and ESP.
 * AEAD (GCM-16, ChaCha20-Poly1305): key = encr key ‖ salt; nonce = salt ‖ iv (RFC 4106/5282/7634).
 * CBC: key = encr key; iv is the full block; no padding is added here (callers pad).
 */
export interface Cipher {
  readonly id: number; // EncrId
  readonly aead: boolean;
  /** key bytes including salt (AEAD: encr key + 4) */
  readonly keyLen: number;
  readonly saltLen: number;
  /** explicit IV carried on the wire: 8 for AEAD, 16 for AES-CBC */
  readonly ivLen: number;
  /** AEAD tag length (16) or 0 for CBC */
  readonly icvLen: number;
  /** block size for padding: 16 for CBC, 4 alignment for AEAD (ESP), 1 for IKE AEAD */
  readonly blockLen: number;
  /** AEAD: ciphertext ‖ tag. CBC: ciphertext (plaintext length must be a multiple of 16). */
  encrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** null on authentication failure (AEAD) or bad length (CBC). Never throws. */
  decrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array | null;
}

/** Diffie-Hellman / key exchange (RFC 7296 §3.4; RFC 5903 for ECP; RFC 8031 for 25519/448). */
export interface KeyExchange {
  readonly group: number; // KeId
  /** our public value as it goes in the KE payload (ECP: x‖y, no 0x04 prefix) */
  readonly publicKey: Uint8Array;
  /** shared secret g^ir (ECP: x-coordinate only); throws ProtocolError(INVALID_SYNTAX) on bad peer value */
  computeSecret(peerPublic: Uint8Array): Uint8Array;
}

export interface KeFactory {
  readonly group: number;
  readonly publicLen: number;
  create(): KeyExchange;
}

/** The keys of an established IKE SA (RFC 7296 §2.14). */
export interface IkeKeys {
  skD: Uint8Array;
  skAi: Uint8Array;
  skAr: Uint8Array;
  skEi: Uint8Array; // includes salt for AEAD
  skEr: Uint8Array;
  skPi: Uint8Array;
  skPr: Uint8Array;
}

/** What the SK codec needs to protect one direction of an IKE SA. */
export interface SkCrypto {
  cipher: Cipher;
  encKey: Uint8Array;
  integ: Integ | null; // null for AEAD
  integKey: Uint8Array | null;
  /** random IV source (injected Rng.bytes) */
  iv(n: number): Uint8Array;
}
