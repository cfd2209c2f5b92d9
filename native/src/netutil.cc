#include "netutil.h"

#include <arpa/inet.h>

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

uint32_t csumPartial(const uint8_t* p, size_t len, uint32_t sum) {
  uint64_t s = sum;
  while (len >= 2) {
    s += uint32_t((p[0] << 8) | p[1]);
    p += 2;
    len -= 2;
  }
  if (len) s += uint32_t(p[0] << 8);
  while (s >> 32) s = (s & 0xffffffffu) + (s >> 32);
  return uint32_t(s);
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
