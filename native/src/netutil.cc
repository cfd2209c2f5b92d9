#include "netutil.h"

#include <arpa/inet.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ikegw {

uint16_t SockAddr::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

bool SockAddr::isWildcard() const {
  if (family() == AF_INET) return reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr.s_addr == 0;
  if (family() == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr;
    return IN6_IS_ADDR_UNSPECIFIED(&a);
  }
  return true;
}

bool SockAddr::sameAddr(const SockAddr& o) const {
  if (family() != o.family()) return false;
  if (family() == AF_INET)
    return reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(&o.ss)->sin_addr.s_addr;
  if (family() == AF_INET6)
    return memcmp(&reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr,
                  &reinterpret_cast<const sockaddr_in6*>(&o.ss)->sin6_addr, 16) == 0;
  return false;
}

bool SockAddr::equals(const SockAddr& o) const { return sameAddr(o) && port() == o.port(); }

std::string SockAddr::addrString() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (family() == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  else if (family() == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  return buf;
}

bool parseAddr(const std::string& addr, uint16_t port, SockAddr* out) {
  *out = SockAddr{};
  sockaddr_in v4{};
  if (inet_pton(AF_INET, addr.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    memcpy(&out->ss, &v4, sizeof v4);
    out->len = sizeof v4;
    return true;
  }
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET6, addr.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    memcpy(&out->ss, &v6, sizeof v6);
    out->len = sizeof v6;
    return true;
  }
  return false;
}

#if defined(__x86_64__)
// sum of the 32-bit little-endian words of p[0, n), n a multiple of 32
__attribute__((target("avx2"))) static uint64_t sum32Avx2(const uint8_t* p, size_t n) {
  const __m256i zero = _mm256_setzero_si256();
  __m256i a0 = zero, a1 = zero;
  for (; n >= 32; n -= 32, p += 32) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    a0 = _mm256_add_epi64(a0, _mm256_unpacklo_epi32(v, zero));
    a1 = _mm256_add_epi64(a1, _mm256_unpackhi_epi32(v, zero));
  }
  a0 = _mm256_add_epi64(a0, a1);
  alignas(32) uint64_t l[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), a0);
  return l[0] + l[1] + l[2] + l[3];
}
static const bool kHaveAvx2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}();
#endif

uint32_t csumPartial(const uint8_t* p, size_t len, uint32_t sum) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  // 64-bit native-order accumulation with end-around carry; the one's-complement sum is
  // byte-order independent up to a final byte swap (RFC 1071 §2(B)).
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#if defined(__x86_64__)
  if (kHaveAvx2 && len >= 64) {
    size_t n = len & ~size_t(31);
    s0 = sum32Avx2(p, n);
    p += n;
    len -= n;
  }
#endif
  // ≤ 2^32 32-bit words per accumulator cannot overflow 64 bits
  while (len >= 16) {
    uint32_t a, b, c, d;
    memcpy(&a, p, 4);
    memcpy(&b, p + 4, 4);
    memcpy(&c, p + 8, 4);
    memcpy(&d, p + 12, 4);
    s0 += a;
    s1 += b;
    s2 += c;
    s3 += d;
    p += 16;
    len -= 16;
  }
  uint64_t s = s0 + s1 + s2 + s3;  // each < len/16 · 2^32: no overflow for any packet
  while (len >= 8) {
    uint32_t a, b;
    memcpy(&a, p, 4);
    memcpy(&b, p + 4, 4);
    s += uint64_t(a) + b;
    p += 8;
    len -= 8;
  }
  uint64_t t = 0;
  if (len >= 4) {
    uint32_t v;
    memcpy(&v, p, 4);
    t += v;
    p += 4;
    len -= 4;
  }
  if (len >= 2) {
    uint16_t v;
    memcpy(&v, p, 2);
    t += v;
    p += 2;
    len -= 2;
  }
  if (len) t += p[0];
  s += t;
  s += (s < t);
  s = (s & 0xffffffffull) + (s >> 32);
  s = (s & 0xffffffffull) + (s >> 32);
  uint32_t f = uint32_t(s);
  f = (f & 0xffff) + (f >> 16);
  f = (f & 0xffff) + (f >> 16);
  f = ((f & 0xff) << 8) | (f >> 8);
  uint64_t r = uint64_t(f) + sum;
  r = (r & 0xffffffffull) + (r >> 32);
  return uint32_t(r);
#else
  uint64_t s = sum;
  while (len >= 2) {
    s += uint32_t((p[0] << 8) | p[1]);
    p += 2;
    len -= 2;
  }
  if (len) s += uint32_t(p[0] << 8);
  while (s >> 32) s = (s & 0xffffffffu) + (s >> 32);
  return uint32_t(s);
#endif
}

// Pseudo-header sum for TCP/UDP/ICMPv6 (RFC 793 / RFC 8200 §8.1).
static uint32_t pseudoSum(const uint8_t* ip, bool v6, uint8_t proto, uint32_t l4len) {
  uint32_t s = 0;
  if (v6) {
    s = csumPartial(ip + 8, 32, 0);
  } else {
    s = csumPartial(ip + 12, 8, 0);
  }
  s += proto;
  s += l4len >> 16;
  s += l4len & 0xffff;
  return s;
}

bool clampMss(uint8_t* pkt, size_t len, uint16_t mss) {
  if (mss == 0 || len < 20) return false;
  uint8_t ver = pkt[0] >> 4;
  size_t l4off, l4len;
  bool v6;
  if (ver == 4) {
    size_t ihl = size_t(pkt[0] & 15) * 4;
    if (ihl < 20 || len < ihl || pkt[9] != 6) return false;
    if ((rd16(pkt + 6) & 0x3fff) != 0) return false;  // fragment
    size_t tot = rd16(pkt + 2);
    if (tot > len || tot < ihl) return false;
    l4off = ihl;
    l4len = tot - ihl;
    v6 = false;
  } else if (ver == 6) {
    if (len < 40 || pkt[6] != 6) return false;  // no extension headers handled
    size_t pl = rd16(pkt + 4);
    if (40 + pl > len) return false;
    l4off = 40;
    l4len = pl;
    v6 = true;
  } else {
    return false;
  }
  if (l4len < 20) return false;
  uint8_t* tcp = pkt + l4off;
  if (!(tcp[13] & 0x02)) return false;  // not SYN
  size_t doff = size_t(tcp[12] >> 4) * 4;
  if (doff < 20 || doff > l4len) return false;
  // gVisor-style bounds-checked option walk
  size_t i = 20;
  bool changed = false;
  while (i < doff) {
    uint8_t kind = tcp[i];
    if (kind == 0) break;
    if (kind == 1) { i++; continue; }
    if (i + 1 >= doff) break;
    uint8_t olen = tcp[i + 1];
    if (olen < 2 || i + olen > doff) break;
    if (kind == 2 && olen == 4) {
      uint16_t cur = rd16(tcp + i + 2);
      if (cur > mss) {
        wr16(tcp + i + 2, mss);
        changed = true;
      }
    }
    i += olen;
  }
  if (!changed) return false;
  tcp[16] = tcp[17] = 0;
  uint32_t s = pseudoSum(pkt, v6, 6, uint32_t(l4len));
  s = csumPartial(tcp, l4len, s);
  wr16(tcp + 16, csumFold(s));
  return true;
}

size_t buildTooBig(const uint8_t* pkt, size_t len, uint32_t mtu, uint8_t* out, size_t cap) {
  if (len < 20 || cap < 1280) return 0;
  uint8_t ver = pkt[0] >> 4;
  if (ver == 4) {
    size_t ihl = size_t(pkt[0] & 15) * 4;
    if (ihl < 20 || len < ihl) return 0;
    if (!(rd16(pkt + 6) & 0x4000)) return 0;  // DF not set: the caller fragments / lets it through
    if (pkt[9] == 1 && len >= ihl + 1) {
      uint8_t t = pkt[ihl];
      if (t == 3 || t == 11 || t == 12 || t == 4 || t == 5) return 0;  // never answer an ICMP error
    }
    size_t quote = ihl + 8 < len ? ihl + 8 : len;  // RFC 792: IP header + 64 bits
    size_t total = 20 + 8 + quote;
    memset(out, 0, 28);
    out[0] = 0x45;
    wr16(out + 2, uint16_t(total));
    out[8] = 64;
    out[9] = 1;
    memcpy(out + 12, pkt + 16, 4);  // src = original dst
    memcpy(out + 16, pkt + 12, 4);  // dst = original src
    wr16(out + 10, csumFold(csumPartial(out, 20, 0)));
    uint8_t* ic = out + 20;
    ic[0] = 3;  // destination unreachable
    ic[1] = 4;  // fragmentation needed and DF set
    wr16(ic + 6, uint16_t(mtu > 0xffff ? 0xffff : mtu));  // RFC 1191 next-hop MTU
    memcpy(ic + 8, pkt, quote);
    wr16(ic + 2, csumFold(csumPartial(ic, 8 + quote, 0)));
    return total;
  }
  if (ver == 6) {
    if (len < 40) return 0;
    if (pkt[6] == 58 && len > 40 && pkt[40] < 128) return 0;  // ICMPv6 error
    if (mtu < 1280) mtu = 1280;
    size_t quote = len;
    if (40 + 8 + quote > 1280) quote = 1280 - 48;  // RFC 4443 §2.4(c): not exceed min MTU
    size_t plen = 8 + quote;
    memset(out, 0, 48);
    out[0] = 0x60;
    wr16(out + 4, uint16_t(plen));
    out[6] = 58;
    out[7] = 64;
    memcpy(out + 8, pkt + 24, 16);   // src = original dst
    memcpy(out + 24, pkt + 8, 16);   // dst = original src
    uint8_t* ic = out + 40;
    ic[0] = 2;  // packet too big
    ic[1] = 0;
    wr32(ic + 4, mtu);
    memcpy(ic + 8, pkt, quote);
    uint32_t s = pseudoSum(out, true, 58, uint32_t(plen));
    s = csumPartial(ic, plen, s);
    wr16(ic + 2, csumFold(s));
    return 40 + plen;
  }
  return 0;
}

}  // namespace ikegw

namespace ikegw {

// ---------------------------------------------------------------------------------------------
// TUN offloads (virtio_net_hdr)
// ---------------------------------------------------------------------------------------------

bool vnetCompleteCsum(uint8_t* pkt, size_t len, const VnetHdr& h) {
  if (!(h.flags & kVnetNeedsCsum)) return true;
  size_t start = h.csumStart, off = h.csumOffset;
  if (start + off + 2 > len) return false;
  uint16_t c = csumFold(csumPartial(pkt + start, len - start, 0));
  // UDP: a computed 0 is sent as 0xffff (RFC 768); TCP offset is 16, UDP 6
  if (c == 0 && off == 6) c = 0xffff;
  wr16(pkt + start + off, c);
  return true;
}

bool tcpGsoParse(const uint8_t* pkt, size_t len, const VnetHdr& h, TcpGso* g) {
  if (len < 20) return false;
  uint8_t ver = pkt[0] >> 4;
  if (h.gsoType == kVnetGsoTcp4) {
    if (ver != 4) return false;
    size_t ihl = size_t(pkt[0] & 15) * 4;
    if (ihl < 20 || pkt[9] != 6) return false;
    g->v6 = false;
    g->l4off = ihl;
  } else if (h.gsoType == kVnetGsoTcp6) {
    if (ver != 6 || len < 40) return false;
    g->v6 = true;
    g->l4off = (h.flags & kVnetNeedsCsum) ? h.csumStart : 40;
    if (g->l4off < 40 || (g->l4off == 40 && pkt[6] != 6)) return false;
  } else {
    return false;
  }
  if (g->l4off + 20 > len) return false;
  size_t thl = size_t(pkt[g->l4off + 12] >> 4) * 4;
  if (thl < 20) return false;
  g->hdrLen = g->l4off + thl;
  if (g->hdrLen >= len || h.gsoSize == 0) return false;
  g->payload = len - g->hdrLen;
  return true;
}

void tcpGsoHeader(const uint8_t* pkt, const TcpGso& g, size_t off, size_t segLen, uint32_t idx, bool last,
                  uint8_t* out) {
  memcpy(out, pkt, g.hdrLen);
  size_t total = g.hdrLen + segLen;
  if (!g.v6) {
    wr16(out + 2, uint16_t(total));
    wr16(out + 4, uint16_t(rd16(pkt + 4) + idx));
    wr16(out + 10, 0);
    wr16(out + 10, csumFold(csumPartial(out, g.l4off, 0)));
  } else {
    wr16(out + 4, uint16_t(total - 40));
  }
  uint8_t* th = out + g.l4off;
  wr32(th + 4, rd32(th + 4) + uint32_t(off));
  if (!last) th[13] &= uint8_t(~0x09);  // FIN, PSH only on the last segment
  if (idx) th[13] &= uint8_t(~0x80);    // CWR only on the first
  wr16(th + 16, 0);
  size_t l4len = total - g.l4off;
  size_t thl = g.hdrLen - g.l4off;  // even (multiple of 4): the sums concatenate
  uint32_t sum = csumPartial(th, thl, pseudoSum(out, g.v6, 6, uint32_t(l4len)));
  sum = csumPartial(pkt + g.hdrLen + off, segLen, sum);
  wr16(th + 16, csumFold(sum));
}

void tcpGsoSegment(const uint8_t* pkt, const TcpGso& g, size_t off, size_t segLen, uint32_t idx, bool last,
                   uint8_t* out) {
  tcpGsoHeader(pkt, g, off, segLen, idx, last, out);
  memcpy(out + g.hdrLen, pkt + g.hdrLen + off, segLen);
}

bool tcpCoalesceKey(const uint8_t* pkt, size_t len, TcpSeg* s) {
  if (len < 40) return false;
  uint8_t ver = pkt[0] >> 4;
  size_t l4off;
  if (ver == 4) {
    if ((pkt[0] & 15) != 5 || pkt[9] != 6) return false;
    if ((rd16(pkt + 6) & 0x3fff) != 0) return false;  // fragment
    if (rd16(pkt + 2) != len) return false;
    l4off = 20;
  } else if (ver == 6) {
    if (len < 60 || pkt[6] != 6 || size_t(rd16(pkt + 4)) + 40 != len) return false;
    l4off = 40;
  } else {
    return false;
  }
  const uint8_t* th = pkt + l4off;
  size_t thl = size_t(th[12] >> 4) * 4;
  if (thl < 20 || l4off + thl >= len) return false;  // no payload: nothing to coalesce
  uint8_t fl = th[13];
  if ((fl & ~0x18) != 0 || !(fl & 0x10)) return false;  // ACK, optionally PSH; nothing else
  s->v6 = ver == 6;
  s->l4off = l4off;
  s->hdrLen = l4off + thl;
  s->payload = len - s->hdrLen;
  s->seq = rd32(th + 4);
  s->psh = (fl & 0x08) != 0;
  return true;
}

bool tcpSameFlow(const uint8_t* a, const TcpSeg& sa, const uint8_t* b, const TcpSeg& sb) {
  if (sa.v6 != sb.v6 || sa.hdrLen != sb.hdrLen) return false;
  if (!sa.v6) {
    // TOS, flags/fragment, TTL, protocol, addresses (not length, ID, checksum)
    if (a[1] != b[1] || a[6] != b[6] || a[7] != b[7] || a[8] != b[8] || memcmp(a + 12, b + 12, 8) != 0) return false;
  } else {
    if (memcmp(a, b, 4) != 0 || a[7] != b[7] || memcmp(a + 8, b + 8, 32) != 0) return false;
  }
  const uint8_t* ta = a + sa.l4off;
  const uint8_t* tb = b + sb.l4off;
  // ports, ack, data offset, window, options (flags checked by the caller)
  return memcmp(ta, tb, 4) == 0 && memcmp(ta + 8, tb + 8, 5) == 0 && memcmp(ta + 14, tb + 14, 2) == 0 &&
         memcmp(ta + 20, tb + 20, sa.hdrLen - sa.l4off - 20) == 0;
}

void tcpCoalesceFinish(uint8_t* pkt, size_t len, const TcpSeg& s, bool psh, VnetHdr* h) {
  if (!s.v6) {
    wr16(pkt + 2, uint16_t(len));
    wr16(pkt + 10, 0);
    wr16(pkt + 10, csumFold(csumPartial(pkt, 20, 0)));
  } else {
    wr16(pkt + 4, uint16_t(len - 40));
  }
  uint8_t* th = pkt + s.l4off;
  if (psh) th[13] |= 0x08;
  uint32_t l4len = uint32_t(len - s.l4off);
  // NEEDS_CSUM: the field holds the folded, not inverted, pseudo-header sum
  uint32_t ps = pseudoSum(pkt, s.v6, 6, l4len);
  while (ps >> 16) ps = (ps & 0xffff) + (ps >> 16);
  wr16(th + 16, uint16_t(ps));
  h->flags = kVnetNeedsCsum;
  h->gsoType = s.v6 ? kVnetGsoTcp6 : kVnetGsoTcp4;
  h->hdrLen = uint16_t(s.hdrLen);
  h->gsoSize = uint16_t(s.payload);
  h->csumStart = uint16_t(s.l4off);
  h->csumOffset = 16;
}

}  // namespace ikegw
