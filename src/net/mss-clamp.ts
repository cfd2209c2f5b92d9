/**
 * TCP MSS clamping for tunnelled traffic: lower the MSS option (RFC 9293 §3.7.1, kind 2,
 * length 4) of SYN and SYN-ACK segments to what fits through the tunnel, in place,
 * fixing the TCP checksum incrementally (RFC 1624). IPv4 and IPv6 (extension headers
 * skipped). Never throws; anything malformed or truncated is left untouched.
 *
 * Option walk (as gVisor's ParseSynOptions): kind 0 = end, kind 1 = NOP, otherwise a
 * length byte ≥ 2 that must stay inside the TCP header (data offset); the walk stops at
 * the first inconsistency without writing anything.
 */
import { findTransport, ipPacketLength, transportOffset, transportProto, IpProto } from './ip.js';
import { swap16, updateChecksum16 } from './checksum.js';

const TCP_MIN_HEADER = 20;
const TCP_FLAG_SYN = 0x02;
const OPT_END = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;

/**
 * If `pkt` is a TCP SYN (or SYN-ACK) whose MSS option exceeds `mss`, rewrite it to `mss`
 * and patch the checksum. Returns true if the packet was modified.
 */
export function clampMss(pkt: Uint8Array, mss: number): boolean {
  if (!(mss > 0 && mss <= 0xffff)) return false;
  const loc = findTransport(pkt);
  if (loc < 0 || transportProto(loc) !== IpProto.TCP) return false;
  const total = ipPacketLength(pkt);
  const tcp = transportOffset(loc);
  if (tcp + TCP_MIN_HEADER > total) return false;
  if ((pkt[tcp + 13]! & TCP_FLAG_SYN) === 0) return false;
  const hdrLen = (pkt[tcp + 12]! >>> 4) * 4;
  if (hdrLen < TCP_MIN_HEADER || tcp + hdrLen > total) return false;

  const end = tcp + hdrLen;
  let i = tcp + TCP_MIN_HEADER;
  while (i < end) {
    const kind = pkt[i]!;
    if (kind === OPT_END) return false;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return false;
    const len = pkt[i + 1]!;
    if (len < 2 || i + len > end) return false;
    if (kind === OPT_MSS) {
      if (len !== 4) return false;
      const old = (pkt[i + 2]! << 8) | pkt[i + 3]!;
      if (old <= mss) return false;
      pkt[i + 2] = mss >>> 8;
      pkt[i + 3] = mss & 0xff;
      const csum = (pkt[tcp + 16]! << 8) | pkt[tcp + 17]!;
      // the field is word-aligned relative to the TCP header iff its offset is even
      const odd = ((i + 2 - tcp) & 1) === 1;
      const next = odd ? updateChecksum16(csum, swap16(old), swap16(mss)) : updateChecksum16(csum, old, mss);
      pkt[tcp + 16] = next >>> 8;
      pkt[tcp + 17] = next & 0xff;
      return true;
    }
    i += len;
  }
  return false;
}
