/**
 * prf+ (RFC 7296 §2.13):
 *
 *   prf+ (K,S) = T1 | T2 | T3 | T4 | ...
 *   T1 = prf (K, S | 0x01)
 *   T2 = prf (K, T1 | S | 0x02)
 *   ...
 *
 * "The prf+ function is not defined beyond 255 times the size of the prf function output."
 */
import type { Prf } from './types.js';

export function prfPlus(prf: Prf, key: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`prf+: invalid length ${length}`);
  if (length > 255 * prf.outLen) throw new RangeError(`prf+: ${length} bytes exceeds 255 × ${prf.outLen}`);
  const out = new Uint8Array(length);
  const buf = new Uint8Array(prf.outLen + seed.length + 1);
  let t: Uint8Array = new Uint8Array(0);
  let off = 0;
  for (let n = 1; off < length; n++) {
    // input = T(n-1) | S | n ; T0 is empty
    buf.set(t, 0);
    buf.set(seed, t.length);
    buf[t.length + seed.length] = n;
    t = prf.compute(key, buf.subarray(0, t.length + seed.length + 1));
    const take = Math.min(t.length, length - off);
    out.set(t.subarray(0, take), off);
    off += take;
  }
  buf.fill(0);
  return out;
}
