/**
 * Internet checksum (RFC 1071), incremental update (RFC 1624) and the TCP/UDP/ICMPv6
 * pseudo-headers (RFC 793 §3.1 / RFC 768, RFC 8200 §8.1).
 *
 * Sums are kept unfolded in a JS number (exact far beyond any packet size) and folded
 * once at the end.
 */

/** Add the 16-bit big-endian words of buf[off, off+len) to `acc` (odd tail padded with 0). */
export function sumWords(buf: Uint8Array, off: number, len: number, acc = 0): number {
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) acc += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) acc += buf[i]! << 8;
  return acc;
}

/** Fold an unfolded sum to 16 bits with end-around carry. */
export function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
}

/** The checksum field value: ~fold(sum) (RFC 1071). */
export function finish(acc: number): number {
  return ~fold(acc) & 0xffff;
}

/** Checksum of buf[off, off+len) with an optional initial (pseudo-header) sum. */
export function internetChecksum(buf: Uint8Array, off = 0, len = buf.length - off, initial = 0): number {
  return finish(sumWords(buf, off, len, initial));
}

/**
 * Pseudo-header sum for TCP/UDP/ICMPv6: src and dst (4 or 16 bytes each), the protocol
 * and the upper-layer length (IPv4: 16-bit field; IPv6: 32-bit; the sum is the same).
 */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, proto: number, l4Len: number): number {
  let acc = sumWords(src, 0, src.length) + sumWords(dst, 0, dst.length);
  acc += proto;
  acc += Math.floor(l4Len / 0x10000) + (l4Len & 0xffff);
  return acc;
}

/**
 * RFC 1624 eqn. 3: new checksum after a 16-bit word (aligned on an even offset from the
 * start of the checksummed data) changes from `oldWord` to `newWord`:
 *   HC' = ~(~HC + ~m + m')
 * For a field at an odd offset pass both values byte-swapped (RFC 1071 §2(B)).
 */
export function updateChecksum16(check: number, oldWord: number, newWord: number): number {
  const acc = (~check & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~fold(acc) & 0xffff;
}

/** Swap the bytes of a 16-bit value. */
export function swap16(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

/**
 * Slow, obviously-correct reference (RFC 1071 §4.1 C code, transcribed literally): used
 * by tests as the oracle for the fast paths above.
 */
export function referenceChecksum(data: Uint8Array): number {
  let sum = 0;
  let count = data.length;
  let i = 0;
  while (count > 1) {
    sum += data[i]! * 256 + data[i + 1]!;
    sum = sum >>> 0;
    i += 2;
    count -= 2;
  }
  if (count > 0) sum += data[i]! * 256;
  while (sum >>> 16) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
