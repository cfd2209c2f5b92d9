/**
 * Which OpenSSL code the native data path should pick for an SA (native/src/esp.cc): AES-GCM
 * goes through GCM128 + the AES-NI routines Node exports ('gcm128-aesni') on x86-64 CPUs with
 * AES-NI unless the SA asks for EVP or IKEGW_FAST_GCM=0; everything else is EVP.
 * Tests assert it, so a silent fall-back to EVP (or a fast path nobody tests) shows up.
 */
import { readFileSync } from 'node:fs';

function cpuHasAesNi(): boolean {
  if (process.arch !== 'x64') return false;
  try {
    return /^flags\s*:.*\baes\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

export const AES_GCM_MODES = ['auto', 'evp'] as const;
export type AesGcmMode = (typeof AES_GCM_MODES)[number];

export function expectedImpl(encr: number, mode: AesGcmMode = 'auto'): string {
  if (encr === 12) return 'evp+hmac';
  if (encr !== 20) return 'evp';
  if (!(mode === 'auto' && process.env['IKEGW_FAST_GCM'] !== '0' && cpuHasAesNi())) return 'evp';
  // opt-in stitched bulk (OpenSSL 3.0 layout, as Node 20 ships)
  return process.env['IKEGW_FAST_GCM_STITCH'] === '1' ? 'gcm128-aesni-stitched' : 'gcm128-aesni';
}
