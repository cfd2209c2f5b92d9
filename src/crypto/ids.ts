/**
 * IANA IKEv2 transform ids used by the crypto registry (RFC 7296 §3.3.2, IANA "IKEv2
 * Parameters"). The same numbers live in src/ike/wire/constants.ts; crypto/ sits below ike/
 * in the layer diagram and must not import it, so they are repeated here (a unit test checks
 * both copies agree).
 */
export const ENCR = {
  AES_CBC: 12,
  AES_GCM_16: 20,
  CHACHA20_POLY1305: 28,
} as const;

export const PRF = {
  HMAC_SHA1: 2,
  HMAC_SHA2_256: 5,
  HMAC_SHA2_384: 6,
  HMAC_SHA2_512: 7,
} as const;

export const INTEG = {
  HMAC_SHA1_96: 2,
  HMAC_SHA2_256_128: 12,
  HMAC_SHA2_384_192: 13,
  HMAC_SHA2_512_256: 14,
} as const;

export const KE = {
  MODP_2048: 14,
  MODP_3072: 15,
  MODP_4096: 16,
  ECP_256: 19,
  ECP_384: 20,
  ECP_521: 21,
  CURVE25519: 31,
  CURVE448: 32,
} as const;

/** RFC 7296 §3.10.1 INVALID_SYNTAX: what a malformed KE value is answered with. */
export const NOTIFY_INVALID_SYNTAX = 7;

/** Which implementation computes: node:crypto (OpenSSL, default) or @noble (oracle). */
export type Backend = 'node' | 'noble';

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';
