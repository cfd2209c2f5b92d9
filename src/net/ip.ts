/**
 * Minimal IPv4 (RFC 791) / IPv6 (RFC 8200) header accessors. Zero-copy, bounds-checked,
 * never throw: invalid input yields null / −1.
 *
 * IPv4:  0 ver/IHL  1 TOS  2-3 total length  4-5 id  6-7 flags/frag offset  8 TTL
 *        9 protocol  10-11 header checksum  12-15 src  16-19 dst  [options]
 * IPv6:  0-3 ver/TC/flow  4-5 payload length  6 next header  7 hop limit
 *        8-23 src  24-39 dst  [extension headers]
 */

export const IPV4_HEADER_LEN = 20;
export const IPV6_HEADER_LEN = 40;

export const IpProto = {
  HOPOPT: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  IPV6_ROUTE: 43,
  IPV6_FRAG: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  IPV6_NONXT: 59,
  IPV6_OPTS: 60,
  MOBILITY: 135,
  HIP: 139,
  SHIM6: 140,
} as const;

/** 4, 6, or 0 for anything else (including an empty buffer). */
export function ipVersion(pkt: Uint8Array): 0 | 4 | 6 {
  if (pkt.length === 0) return 0;
  const v = pkt[0]! >>> 4;
  return v === 4 ? 4 : v === 6 ? 6 : 0;
}

/**
 * Validated length of the IP packet at the start of `pkt` (total length for IPv4, 40 +
 * payload length for IPv6), or −1 if the header is invalid or the buffer too short.
 * Trailing bytes beyond the IP length (link padding) are allowed.
 */
export function ipPacketLength(pkt: Uint8Array): number {
  const v = ipVersion(pkt);
  if (v === 4) {
    if (pkt.length < IPV4_HEADER_LEN) return -1;
    const ihl = (pkt[0]! & 0x0f) * 4;
    const total = (pkt[2]! << 8) | pkt[3]!;
    if (ihl < IPV4_HEADER_LEN || total < ihl || total > pkt.length) return -1;
    return total;
  }
  if (v === 6) {
    if (pkt.length < IPV6_HEADER_LEN) return -1;
    const total = IPV6_HEADER_LEN + ((pkt[4]! << 8) | pkt[5]!);
    // payload length 0 = jumbogram (RFC 2675): not supported here
    if (total > pkt.length) return -1;
    return total;
  }
  return -1;
}

/** IPv4 header length in bytes (no validation beyond the nibble). */
export function ipv4HeaderLength(pkt: Uint8Array): number {
  return (pkt[0]! & 0x0f) * 4;
}

/** Source address view (4 or 16 bytes), or null if the header is invalid. */
export function ipSrc(pkt: Uint8Array): Uint8Array | null {
  if (ipPacketLength(pkt) < 0) return null;
  return pkt[0]! >>> 4 === 4 ? pkt.subarray(12, 16) : pkt.subarray(8, 24);
}

/** Destination address view (4 or 16 bytes), or null if the header is invalid. */
export function ipDst(pkt: Uint8Array): Uint8Array | null {
  if (ipPacketLength(pkt) < 0) return null;
  return pkt[0]! >>> 4 === 4 ? pkt.subarray(16, 20) : pkt.subarray(24, 40);
}

/**
 * Locate the transport header. Returns `offset * 256 + protocol` (decode with
 * `transportOffset` / `transportProto`), or −1 when the packet is invalid, a non-first
 * fragment, or the header chain is truncated / ends in ESP or No Next Header.
 * IPv6 extension headers walked: Hop-by-Hop, Routing, Fragment, Destination Options,
 * AH (RFC 4302 length rule), Mobility, HIP, Shim6.
 * Packed into a number so the hot path (MSS clamping) allocates nothing.
 */
export function findTransport(pkt: Uint8Array): number {
  const total = ipPacketLength(pkt);
  if (total < 0) return -1;
  if (pkt[0]! >>> 4 === 4) {
    const ihl = ipv4HeaderLength(pkt);
    const fragOff = ((pkt[6]! & 0x1f) << 8) | pkt[7]!;
    if (fragOff !== 0) return -1;
    return ihl * 256 + pkt[9]!;
  }
  let nh = pkt[6]!;
  let off = IPV6_HEADER_LEN;
  for (let hops = 0; hops < 16; hops++) {
    switch (nh) {
      case IpProto.HOPOPT:
      case IpProto.IPV6_ROUTE:
      case IpProto.IPV6_OPTS:
      case IpProto.MOBILITY:
      case IpProto.HIP:
      case IpProto.SHIM6: {
        if (off + 2 > total) return -1;
        const next = pkt[off]!;
        off += (pkt[off + 1]! + 1) * 8;
        nh = next;
        break;
      }
      case IpProto.AH: {
        if (off + 2 > total) return -1;
        const next = pkt[off]!;
        off += (pkt[off + 1]! + 2) * 4;
        nh = next;
        break;
      }
      case IpProto.IPV6_FRAG: {
        if (off + 8 > total) return -1;
        const fragOff = ((pkt[off + 2]! << 8) | pkt[off + 3]!) >>> 3;
        if (fragOff !== 0) return -1;
        nh = pkt[off]!;
        off += 8;
        break;
      }
      case IpProto.ESP:
      case IpProto.IPV6_NONXT:
        return -1;
      default:
        if (off > total) return -1;
        return off * 256 + nh;
    }
  }
  return -1;
}

export function transportOffset(packed: number): number {
  return Math.floor(packed / 256);
}
export function transportProto(packed: number): number {
  return packed & 0xff;
}

/** Textual form of a 4- or 16-byte address (IPv6 without zero compression). */
export function addrToString(a: Uint8Array): string {
  if (a.length === 4) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((a[i]! << 8) | a[i + 1]!).toString(16));
  return parts.join(':');
}
