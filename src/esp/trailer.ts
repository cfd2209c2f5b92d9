/**
 * ESP trailer (RFC 4303 §2.4–§2.6), the last bytes of the encrypted payload:
 *
 *   payload ‖ Padding (0–255 bytes: 1, 2, 3, …) ‖ Pad Length (1 byte) ‖ Next Header (1 byte)
 *
 * The padded length (payload + padding + 2) is a multiple of `align`:
 * 4 for AEAD suites (RFC 4303 §2.4: "the Pad Length and Next Header fields are right
 * aligned within a 4-byte word"), the block size (16) for AES-CBC (RFC 3602 §2.4).
 * The minimum padding is always used (no traffic-flow-confidentiality padding).
 */

/** Next Header values seen in tunnel mode (IANA protocol numbers). */
export const NextHeader = {
  IPV4: 4, // IP-in-IP
  IPV6: 41,
  NO_NEXT: 59, // dummy packet (RFC 4303 §2.6): decrypt, then discard silently
} as const;

/** Number of padding bytes for a payload of `payloadLen` bytes. */
export function padLength(payloadLen: number, align: number): number {
  const r = (payloadLen + 2) % align;
  return r === 0 ? 0 : align - r;
}

/** Write padding 1..padLen, Pad Length and Next Header at `off`; returns the end offset. */
export function writeTrailer(out: Uint8Array, off: number, padLen: number, nextHeader: number): number {
  for (let i = 1; i <= padLen; i++) out[off++] = i;
  out[off++] = padLen;
  out[off++] = nextHeader;
  return off;
}

/**
 * Validate the trailer of a decrypted payload `plain`. Returns the payload length, or −1
 * if the Pad Length overruns the data or the padding is not 1, 2, 3, … (RFC 4303 §2.4:
 * the receiver SHOULD inspect the Padding field; a mismatch means a corrupt or forged
 * packet — it can only happen here after authentication, i.e. with a broken peer).
 * The Next Header is `plain[plain.length - 1]`.
 */
export function checkTrailer(plain: Uint8Array): number {
  const n = plain.length;
  if (n < 2) return -1;
  const padLen = plain[n - 2]!;
  const payloadLen = n - 2 - padLen;
  if (payloadLen < 0) return -1;
  for (let i = 0; i < padLen; i++) if (plain[payloadLen + i] !== i + 1) return -1;
  return payloadLen;
}
