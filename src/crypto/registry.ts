/**
 * Crypto registry: IANA transform ids (RFC 7296 §3.3.2) → descriptors and implementations.
 *
 * Two backends: 'node' (node:crypto / OpenSSL, the default) and 'noble' (@noble/*, the
 * differential-test oracle). Objects are stateless (keys are passed per call) and cached, so
 * `getCipher(...)` in a loop costs a Map lookup.
 *
 * Names follow strongSwan: `encrName` & co. give the proposal keywords used in configs
 * ("aes256gcm16", "prfsha256", "sha256", "x25519"); `*IanaName` give the transform names
 * charon prints in logs and `swanctl --list-sas` ("AES_GCM_16_256", "PRF_HMAC_SHA2_256",
 * "HMAC_SHA2_256_128", "CURVE_25519").
 *
 * Unsupported ids throw a plain Error: callers select proposals with the isSupported*
 * functions first, so reaching a throw here is a programming error.
 */
import type { Cipher, Integ, KeFactory, Prf } from './types.js';
import { ENCR, INTEG, KE, PRF, type Backend } from './ids.js';
import { cipherShape, type CipherShape } from './cipher-common.js';
import { INTEG_SHAPES, PRF_SHAPES } from './hmac-common.js';
import { FIELD_LEN, isEcp, publicLen, type ImportableKeFactory } from './ke-common.js';
import { nodeAead } from './node/aead.js';
import { nodeCbc } from './node/cbc.js';
import { nodePrf } from './node/prf.js';
import { nodeInteg } from './node/integ.js';
import { nodeKe } from './node/ke.js';
import { nobleAead } from './noble/aead.js';
import { nobleCbc } from './noble/cbc.js';
import { nobleInteg, noblePrf } from './noble/hmac.js';
import { nobleKe } from './noble/ke.js';

export type { Backend } from './ids.js';
export type { ImportableKeFactory } from './ke-common.js';
export { ENCR, PRF, INTEG, KE } from './ids.js';

export const BACKENDS: readonly Backend[] = ['node', 'noble'];
export const DEFAULT_BACKEND: Backend = 'node';

// ---- supported tables -----------------------------------------------------------------------

/** ENCR id → allowed key sizes in bits (the Key Length attribute, RFC 7296 §3.3.5). */
export const SUPPORTED_ENCR: ReadonlyMap<number, readonly number[]> = new Map([
  [ENCR.AES_GCM_16, [128, 192, 256]],
  [ENCR.CHACHA20_POLY1305, [256]],
  [ENCR.AES_CBC, [128, 192, 256]],
]);
export const SUPPORTED_PRF: readonly number[] = [PRF.HMAC_SHA2_256, PRF.HMAC_SHA2_384, PRF.HMAC_SHA2_512, PRF.HMAC_SHA1];
export const SUPPORTED_INTEG: readonly number[] = [
  INTEG.HMAC_SHA2_256_128,
  INTEG.HMAC_SHA2_384_192,
  INTEG.HMAC_SHA2_512_256,
  INTEG.HMAC_SHA1_96,
];
export const SUPPORTED_KE: readonly number[] = [
  KE.CURVE25519,
  KE.CURVE448,
  KE.ECP_256,
  KE.ECP_384,
  KE.ECP_521,
  KE.MODP_2048,
  KE.MODP_3072,
  KE.MODP_4096,
];

export function isSupportedEncr(id: number, keyBits: number): boolean {
  return SUPPORTED_ENCR.get(id)?.includes(keyBits) ?? false;
}
/** AEAD transforms carry their own integrity: proposals with them have no INTEG (RFC 5282 §8). */
export function isAeadEncr(id: number): boolean {
  return id === ENCR.AES_GCM_16 || id === ENCR.CHACHA20_POLY1305;
}
/** ChaCha20-Poly1305 has a fixed key size and MUST NOT carry a Key Length attribute (RFC 7634 §3). */
export function encrNeedsKeyLength(id: number): boolean {
  return id === ENCR.AES_GCM_16 || id === ENCR.AES_CBC;
}
export function isSupportedPrf(id: number): boolean {
  return SUPPORTED_PRF.includes(id);
}
export function isSupportedInteg(id: number): boolean {
  return SUPPORTED_INTEG.includes(id);
}
export function isSupportedKe(id: number): boolean {
  return SUPPORTED_KE.includes(id);
}

// ---- descriptors ----------------------------------------------------------------------------

export type EncrDescriptor = CipherShape & { readonly keyBits: number };
export function encrDescriptor(id: number, keyBits: number): EncrDescriptor {
  if (!isSupportedEncr(id, keyBits)) throw new Error(`unsupported ENCR ${id} with ${keyBits}-bit key`);
  return { ...cipherShape(id, keyBits), keyBits };
}
export function prfDescriptor(id: number): { id: number; outLen: number } {
  const s = PRF_SHAPES[id];
  if (!s) throw new Error(`unsupported PRF ${id}`);
  return { id, outLen: s.outLen };
}
export function integDescriptor(id: number): { id: number; keyLen: number; icvLen: number } {
  const s = INTEG_SHAPES[id];
  if (!s) throw new Error(`unsupported INTEG ${id}`);
  return { id, keyLen: s.keyLen, icvLen: s.icvLen };
}
/** publicLen: KE payload data length; secretLen: length of g^ir. */
export function keDescriptor(id: number): { id: number; publicLen: number; secretLen: number } {
  if (!isSupportedKe(id)) throw new Error(`unsupported KE group ${id}`);
  return { id, publicLen: publicLen(id), secretLen: FIELD_LEN[id]! };
}

// ---- factories ------------------------------------------------------------------------------

const cache = new Map<string, unknown>();
function cached<T>(k: string, make: () => T): T {
  let v = cache.get(k) as T | undefined;
  if (v === undefined) {
    v = make();
    cache.set(k, v);
  }
  return v;
}

export function getCipher(encrId: number, keyBits: number, backend: Backend = DEFAULT_BACKEND): Cipher {
  if (!isSupportedEncr(encrId, keyBits)) throw new Error(`unsupported ENCR ${encrId} with ${keyBits}-bit key`);
  return cached(`e/${encrId}/${keyBits}/${backend}`, () => {
    if (encrId === ENCR.AES_CBC) return backend === 'node' ? nodeCbc(keyBits) : nobleCbc(keyBits);
    return backend === 'node' ? nodeAead(encrId, keyBits) : nobleAead(encrId, keyBits);
  });
}

export function getInteg(integId: number, backend: Backend = DEFAULT_BACKEND): Integ {
  if (!isSupportedInteg(integId)) throw new Error(`unsupported INTEG ${integId}`);
  return cached(`i/${integId}/${backend}`, () => (backend === 'node' ? nodeInteg(integId) : nobleInteg(integId)));
}

export function getPrf(prfId: number, backend: Backend = DEFAULT_BACKEND): Prf {
  if (!isSupportedPrf(prfId)) throw new Error(`unsupported PRF ${prfId}`);
  return cached(`p/${prfId}/${backend}`, () => (backend === 'node' ? nodePrf(prfId) : noblePrf(prfId)));
}

/** The returned factory is also an ImportableKeFactory (fixed private keys for vectors). */
export function getKe(group: number, backend: Backend = DEFAULT_BACKEND): KeFactory & ImportableKeFactory {
  if (!isSupportedKe(group)) throw new Error(`unsupported KE group ${group}`);
  return cached(`k/${group}/${backend}`, () => (backend === 'node' ? nodeKe(group) : nobleKe(group)));
}

// ---- names ----------------------------------------------------------------------------------

/** strongSwan proposal keyword: "aes256gcm16", "aes128", "chacha20poly1305". */
export function encrName(id: number, keyBits: number): string {
  switch (id) {
    case ENCR.AES_GCM_16:
      return `aes${keyBits}gcm16`;
    case ENCR.AES_CBC:
      return `aes${keyBits}`;
    case ENCR.CHACHA20_POLY1305:
      return 'chacha20poly1305';
    default:
      return `encr${id}-${keyBits}`;
  }
}
/** strongSwan keyword: "prfsha256". */
export function prfName(id: number): string {
  const s = PRF_SHAPES[id];
  return s ? `prf${s.hash}` : `prf${id}`;
}
/** strongSwan keyword for the truncated HMAC: "sha256" = HMAC_SHA2_256_128, "sha1" = HMAC_SHA1_96. */
export function integName(id: number): string {
  const s = INTEG_SHAPES[id];
  return s ? s.hash : `integ${id}`;
}
const KE_KEYWORD: Readonly<Record<number, string>> = {
  14: 'modp2048',
  15: 'modp3072',
  16: 'modp4096',
  19: 'ecp256',
  20: 'ecp384',
  21: 'ecp521',
  31: 'x25519',
  32: 'x448',
};
/** strongSwan keyword: "x25519", "ecp256", "modp2048". */
export function keName(id: number): string {
  return KE_KEYWORD[id] ?? `ke${id}`;
}

/** strongSwan/IANA transform name as charon logs it: "AES_GCM_16_256", "AES_CBC_128", "CHACHA20_POLY1305". */
export function encrIanaName(id: number, keyBits: number): string {
  switch (id) {
    case ENCR.AES_GCM_16:
      return `AES_GCM_16_${keyBits}`;
    case ENCR.AES_CBC:
      return `AES_CBC_${keyBits}`;
    case ENCR.CHACHA20_POLY1305:
      return 'CHACHA20_POLY1305';
    default:
      return `ENCR_${id}_${keyBits}`;
  }
}
const HASH_IANA = { sha1: 'SHA1', sha256: 'SHA2_256', sha384: 'SHA2_384', sha512: 'SHA2_512' } as const;
/** "PRF_HMAC_SHA2_256". */
export function prfIanaName(id: number): string {
  const s = PRF_SHAPES[id];
  return s ? `PRF_HMAC_${HASH_IANA[s.hash]}` : `PRF_${id}`;
}
/** "HMAC_SHA2_256_128", "HMAC_SHA1_96". */
export function integIanaName(id: number): string {
  const s = INTEG_SHAPES[id];
  return s ? `HMAC_${HASH_IANA[s.hash]}_${s.icvLen * 8}` : `INTEG_${id}`;
}
/** "CURVE_25519", "ECP_256", "MODP_2048". */
export function keIanaName(id: number): string {
  if (id === KE.CURVE25519) return 'CURVE_25519';
  if (id === KE.CURVE448) return 'CURVE_448';
  if (isEcp(id)) return `ECP_${id === 19 ? 256 : id === 20 ? 384 : 521}`;
  const k = KE_KEYWORD[id];
  return k ? `MODP_${k.slice(4)}` : `KE_${id}`;
}

/** A parsed strongSwan proposal keyword. */
export type Keyword =
  | { type: 'encr'; id: number; keyBits: number }
  | { type: 'prf'; id: number }
  | { type: 'integ'; id: number }
  | { type: 'ke'; id: number };

const KEYWORDS = new Map<string, Keyword>();
for (const [id, sizes] of SUPPORTED_ENCR) {
  for (const bits of sizes) KEYWORDS.set(encrName(id, bits), { type: 'encr', id, keyBits: bits });
}
for (const bits of [128, 192, 256]) {
  // strongSwan aliases: aesNNNgcm = aesNNNgcm128 = aesNNNgcm16
  KEYWORDS.set(`aes${bits}gcm`, { type: 'encr', id: ENCR.AES_GCM_16, keyBits: bits });
  KEYWORDS.set(`aes${bits}gcm128`, { type: 'encr', id: ENCR.AES_GCM_16, keyBits: bits });
}
KEYWORDS.set('aes', { type: 'encr', id: ENCR.AES_CBC, keyBits: 128 });
for (const id of SUPPORTED_PRF) KEYWORDS.set(prfName(id), { type: 'prf', id });
for (const id of SUPPORTED_INTEG) KEYWORDS.set(integName(id), { type: 'integ', id });
KEYWORDS.set('sha', { type: 'integ', id: INTEG.HMAC_SHA1_96 });
KEYWORDS.set('sha2_256', { type: 'integ', id: INTEG.HMAC_SHA2_256_128 });
KEYWORDS.set('sha2_384', { type: 'integ', id: INTEG.HMAC_SHA2_384_192 });
KEYWORDS.set('sha2_512', { type: 'integ', id: INTEG.HMAC_SHA2_512_256 });
for (const id of SUPPORTED_KE) KEYWORDS.set(keName(id), { type: 'ke', id });
KEYWORDS.set('curve25519', { type: 'ke', id: KE.CURVE25519 });
KEYWORDS.set('curve448', { type: 'ke', id: KE.CURVE448 });

/** Look up one strongSwan proposal keyword ("aes256gcm16", "prfsha384", "ecp256" …); undefined if unknown. */
export function parseKeyword(kw: string): Keyword | undefined {
  return KEYWORDS.get(kw.toLowerCase());
}
