/** HMAC-based PRF (RFC 4868 §2.1.2 / RFC 2104) and truncated-HMAC integrity (RFC 4868 §2.1.1, RFC 2404) shapes. */
import { INTEG, PRF, type HashName } from './ids.js';

export interface PrfShape { readonly id: number; readonly hash: HashName; readonly outLen: number }
export interface IntegShape { readonly id: number; readonly hash: HashName; readonly keyLen: number; readonly icvLen: number }

export const PRF_SHAPES: Readonly<Record<number, PrfShape>> = {
  [PRF.HMAC_SHA1]: { id: PRF.HMAC_SHA1, hash: 'sha1', outLen: 20 },
  [PRF.HMAC_SHA2_256]: { id: PRF.HMAC_SHA2_256, hash: 'sha256', outLen: 32 },
  [PRF.HMAC_SHA2_384]: { id: PRF.HMAC_SHA2_384, hash: 'sha384', outLen: 48 },
  [PRF.HMAC_SHA2_512]: { id: PRF.HMAC_SHA2_512, hash: 'sha512', outLen: 64 },
};

export const INTEG_SHAPES: Readonly<Record<number, IntegShape>> = {
  [INTEG.HMAC_SHA1_96]: { id: INTEG.HMAC_SHA1_96, hash: 'sha1', keyLen: 20, icvLen: 12 },
  [INTEG.HMAC_SHA2_256_128]: { id: INTEG.HMAC_SHA2_256_128, hash: 'sha256', keyLen: 32, icvLen: 16 },
  [INTEG.HMAC_SHA2_384_192]: { id: INTEG.HMAC_SHA2_384_192, hash: 'sha384', keyLen: 48, icvLen: 24 },
  [INTEG.HMAC_SHA2_512_256]: { id: INTEG.HMAC_SHA2_512_256, hash: 'sha512', keyLen: 64, icvLen: 32 },
};

export function prfShape(id: number): PrfShape {
  const s = PRF_SHAPES[id];
  if (!s) throw new Error(`unsupported PRF ${id}`);
  return s;
}
export function integShape(id: number): IntegShape {
  const s = INTEG_SHAPES[id];
  if (!s) throw new Error(`unsupported INTEG ${id}`);
  return s;
}
