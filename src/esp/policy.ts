/**
 * Inbound selector check (RFC 4301 §5.2, RFC 7296 §2.9): after an ESP packet authenticates
 * and decrypts, its inner source must lie in one of the CHILD_SA's remote selectors and its
 * destination in one of the local ones. The protocol must match when a selector names one;
 * ports are compared for unfragmented TCP, UDP, SCTP and UDP-Lite. Packets without ports
 * (ICMP, fragments, other protocols) are matched on addresses and protocol only. An empty
 * list leaves its side unchecked. Same rule, bit for bit, as the native path
 * (native/src/esp.cc tsAllowed; test/property/policy.property.test.ts compares them).
 */
import type { SaTrafficSelector } from './port.js';

const PORTED = new Set([6, 17, 132, 136]);

/** true when the inner IPv4/IPv6 packet `pkt` is inside the selectors */
export function innerPacketAllowed(localTs: readonly SaTrafficSelector[], remoteTs: readonly SaTrafficSelector[], pkt: Uint8Array): boolean {
  if (localTs.length === 0 && remoteTs.length === 0) return true;
  if (pkt.length < 1) return false;
  const ver = pkt[0]! >>> 4;
  let src: Uint8Array;
  let dst: Uint8Array;
  let proto: number;
  let l4: number;
  let frag = false;
  if (ver === 4) {
    if (pkt.length < 20) return false;
    const ihl = (pkt[0]! & 15) * 4;
    if (ihl < 20 || ihl > pkt.length) return false;
    src = pkt.subarray(12, 16);
    dst = pkt.subarray(16, 20);
    proto = pkt[9]!;
    frag = (((pkt[6]! << 8) | pkt[7]!) & 0x3fff) !== 0; // MF or an offset
    l4 = ihl;
  } else if (ver === 6) {
    if (pkt.length < 40) return false;
    src = pkt.subarray(8, 24);
    dst = pkt.subarray(24, 40);
    proto = pkt[6]!;
    l4 = 40;
    // extension headers: hop-by-hop (0), routing (43), destination options (60), fragment (44)
    for (let guard = 0; guard < 8; guard++) {
      if (proto === 0 || proto === 43 || proto === 60) {
        if (l4 + 8 > pkt.length) break;
        const next = pkt[l4]!;
        l4 += (pkt[l4 + 1]! + 1) * 8;
        proto = next;
      } else if (proto === 44) {
        if (l4 + 8 > pkt.length) break;
        frag = true;
        proto = pkt[l4]!;
        l4 += 8;
      } else break;
    }
  } else {
    return false;
  }
  const hasPorts = !frag && PORTED.has(proto) && l4 + 4 <= pkt.length;
  const sport = hasPorts ? (pkt[l4]! << 8) | pkt[l4 + 1]! : 0;
  const dport = hasPorts ? (pkt[l4 + 2]! << 8) | pkt[l4 + 3]! : 0;
  const family = ver === 4 ? 4 : 6;
  const match = (list: readonly SaTrafficSelector[], addr: Uint8Array, port: number) =>
    list.some(
      (s) =>
        s.family === family &&
        (s.ipProtocol === 0 || s.ipProtocol === proto) &&
        (!hasPorts || (port >= s.startPort && port <= s.endPort)) &&
        cmp(s.startAddr, addr) <= 0 &&
        cmp(addr, s.endAddr) <= 0,
    );
  if (remoteTs.length > 0 && !match(remoteTs, src, sport)) return false;
  if (localTs.length > 0 && !match(localTs, dst, dport)) return false;
  return true;
}

function cmp(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
