/**
 * ICMP "packet too big" replies for packets that do not fit the tunnel (PMTUD):
 *
 * - ICMPv4 Destination Unreachable, code 4 "fragmentation needed and DF set" with the
 *   next-hop MTU (RFC 792, RFC 1191 §4). Quote: as much of the offending datagram as fits
 *   in 576 bytes (RFC 1812 §4.3.2.3), at least its header + 8 bytes (RFC 792).
 * - ICMPv6 Packet Too Big, type 2 code 0, 32-bit MTU (RFC 4443 §3.2). Quote: as much as
 *   fits in the minimum IPv6 MTU, 1280 bytes (RFC 4443 §2.4(c)).
 *
 * The reply goes to the offending packet's source; the caller supplies our source
 * address. Returns null instead of an error reply where the RFCs forbid one
 * (RFC 1122 §3.2.2 / RFC 1812 §4.3.2.7, RFC 4443 §2.4(e)): offending packet invalid, an
 * ICMP error itself, a non-first fragment, or from an unspecified / multicast /
 * broadcast / loopback source. Never throws.
 */
import { findTransport, ipPacketLength, ipv4HeaderLength, transportOffset, transportProto, IpProto } from './ip.js';
import { internetChecksum, pseudoHeaderSum } from './checksum.js';

export const ICMPV4_MAX_REPLY = 576;
export const ICMPV6_MAX_REPLY = 1280;
const DEFAULT_TTL = 64;

/** ICMPv4 error types (RFC 1122 §3.2.2): never answer these with an error. */
const ICMPV4_ERRORS = new Set([3, 4, 5, 11, 12]);

export function buildIcmpv4FragNeeded(offending: Uint8Array, ourSrc: Uint8Array, mtu: number): Uint8Array | null {
  if (ourSrc.length !== 4) return null;
  const len = ipPacketLength(offending);
  if (len < 0 || offending[0]! >>> 4 !== 4) return null;
  const ihl = ipv4HeaderLength(offending);
  const fragOff = ((offending[6]! & 0x1f) << 8) | offending[7]!;
  if (fragOff !== 0) return null;
  const s0 = offending[12]!;
  const src = offending.subarray(12, 16);
  if (s0 === 0 || s0 === 127 || s0 >= 224) return null; // 0/8, loopback, multicast, 255.255.255.255
  if (offending[9] === IpProto.ICMP) {
    // RFC 1122: no error about an ICMP error; if we cannot see the type, stay silent
    if (len < ihl + 1) return null;
    if (ICMPV4_ERRORS.has(offending[ihl]!)) return null;
  }
  const quoteLen = Math.min(len, ICMPV4_MAX_REPLY - 20 - 8);
  const total = 20 + 8 + quoteLen;
  const out = new Uint8Array(total);
  out[0] = 0x45;
  out[1] = 0xc0; // precedence "internetwork control" (RFC 1812 §4.3.2.5)
  out[2] = total >>> 8;
  out[3] = total & 0xff;
  out[8] = DEFAULT_TTL;
  out[9] = IpProto.ICMP;
  out.set(ourSrc, 12);
  out.set(src, 16);
  const hc = internetChecksum(out, 0, 20);
  out[10] = hc >>> 8;
  out[11] = hc & 0xff;
  out[20] = 3; // destination unreachable
  out[21] = 4; // fragmentation needed and DF set
  const m = Math.max(0, Math.min(0xffff, mtu | 0));
  out[26] = m >>> 8;
  out[27] = m & 0xff;
  out.set(offending.subarray(0, quoteLen), 28);
  const ic = internetChecksum(out, 20, total - 20);
  out[22] = ic >>> 8;
  out[23] = ic & 0xff;
  return out;
}

export function buildIcmpv6PacketTooBig(offending: Uint8Array, ourSrc: Uint8Array, mtu: number): Uint8Array | null {
  if (ourSrc.length !== 16) return null;
  const len = ipPacketLength(offending);
  if (len < 0 || offending[0]! >>> 4 !== 6) return null;
  const src = offending.subarray(8, 24);
  if (src[0] === 0xff) return null; // multicast source
  let allZero = true;
  let loopback = true;
  for (let i = 0; i < 16; i++) {
    if (src[i] !== 0) allZero = false;
    if (src[i] !== (i === 15 ? 1 : 0)) loopback = false;
  }
  if (allZero || loopback) return null;
  const loc = findTransport(offending);
  if (loc >= 0 && transportProto(loc) === IpProto.ICMPV6) {
    const t = transportOffset(loc);
    // RFC 4443 §2.4(e.1): not in response to an ICMPv6 error (types 0..127)
    if (t >= len || offending[t]! < 128) return null;
  }
  const quoteLen = Math.min(len, ICMPV6_MAX_REPLY - 40 - 8);
  const icmpLen = 8 + quoteLen;
  const out = new Uint8Array(40 + icmpLen);
  out[0] = 0x60;
  out[4] = icmpLen >>> 8;
  out[5] = icmpLen & 0xff;
  out[6] = IpProto.ICMPV6;
  out[7] = DEFAULT_TTL;
  out.set(ourSrc, 8);
  out.set(src, 24);
  out[40] = 2; // packet too big
  out[41] = 0;
  const m = Math.max(0, Math.min(0xffff_ffff, Math.floor(mtu))) >>> 0;
  out[44] = m >>> 24;
  out[45] = (m >>> 16) & 0xff;
  out[46] = (m >>> 8) & 0xff;
  out[47] = m & 0xff;
  out.set(offending.subarray(0, quoteLen), 48);
  const c = internetChecksum(out, 40, icmpLen, pseudoHeaderSum(ourSrc, src, IpProto.ICMPV6, icmpLen));
  out[42] = c >>> 8;
  out[43] = c & 0xff;
  return out;
}
