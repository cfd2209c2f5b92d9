// Small helpers shared by the native data path: byte order, socket addresses, IP/TCP
// checksums, MSS clamping. Nothing here allocates or logs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <netinet/in.h>
#include <sys/socket.h>

namespace ikegw {

static inline uint32_t rd32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
static inline uint16_t rd16(const uint8_t* p) { return uint16_t((p[0] << 8) | p[1]); }
static inline void wr32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24); p[1] = uint8_t(v >> 16); p[2] = uint8_t(v >> 8); p[3] = uint8_t(v);
}
static inline void wr16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8); p[1] = uint8_t(v); }

/** An IPv4 or IPv6 socket address (port included). */
struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family() const { return len ? ss.ss_family : AF_UNSPEC; }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&ss); }
  uint16_t port() const;
  bool isWildcard() const;
  /** same family, address and port */
  bool equals(const SockAddr& o) const;
  /** same family and address (port ignored) */
  bool sameAddr(const SockAddr& o) const;
  std::string addrString() const;
};

/** Parse "1.2.3.4" / "fe80::1" (+ port). Returns false when not a literal address. */
bool parseAddr(const std::string& addr, uint16_t port, SockAddr* out);

/** RFC 1071 one's-complement sum (not folded, not inverted). */
uint32_t csumPartial(const uint8_t* p, size_t len, uint32_t sum);
static inline uint16_t csumFold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum & 0xffff);
}

/**
 * Clamp the MSS option of a TCP SYN (or SYN-ACK) inside an IPv4 or IPv6 packet to `mss`,
 * recomputing the TCP checksum. Returns true when the packet was changed. Non-TCP, non-SYN,
 * fragmented or malformed packets are left untouched.
 */
bool clampMss(uint8_t* pkt, size_t len, uint16_t mss);

/**
 * Build an ICMP "fragmentation needed" (IPv4, RFC 792/1191) or "packet too big" (IPv6,
 * RFC 4443) for `pkt` into `out` (capacity ≥ 1280 bytes), addressed back to pkt's source.
 * Returns the length written, 0 when no error must be sent (e.g. pkt is itself an ICMP error,
 * or IPv4 without DF).
 */
size_t buildTooBig(const uint8_t* pkt, size_t len, uint32_t mtu, uint8_t* out, size_t cap);

// ---- TUN offloads: virtio_net_hdr (IFF_VNET_HDR, 10 bytes, host byte order) ----
constexpr size_t kVnetHdrLen = 10;
constexpr uint8_t kVnetNeedsCsum = 1;
constexpr uint8_t kVnetGsoNone = 0, kVnetGsoTcp4 = 1, kVnetGsoUdp = 3, kVnetGsoTcp6 = 4, kVnetGsoEcn = 0x80;
struct VnetHdr {
  uint8_t flags;
  uint8_t gsoType;
  uint16_t hdrLen;
  uint16_t gsoSize;
  uint16_t csumStart;
  uint16_t csumOffset;
};
static_assert(sizeof(VnetHdr) == kVnetHdrLen, "virtio_net_hdr is 10 bytes");

/** NEEDS_CSUM: finish the partial checksum the kernel left (non-GSO packets). false = bad offsets */
bool vnetCompleteCsum(uint8_t* pkt, size_t len, const VnetHdr& h);

/** A TCP TSO super-packet read from the TUN. */
struct TcpGso {
  bool v6;
  size_t l4off;    // TCP header offset
  size_t hdrLen;   // IP + TCP headers
  size_t payload;  // TCP payload bytes
};
bool tcpGsoParse(const uint8_t* pkt, size_t len, const VnetHdr& h, TcpGso* g);
/** Write segment `idx` (payload bytes [off, off + segLen)) as a complete IP packet at `out`:
 *  lengths, IPv4 ID + header checksum, TCP sequence number, FIN/PSH/CWR and full TCP checksum. */
void tcpGsoSegment(const uint8_t* pkt, const TcpGso& g, size_t off, size_t segLen, uint32_t idx, bool last,
                   uint8_t* out);
/** tcpGsoSegment without the payload copy: headers only at `out` (g.hdrLen bytes), the TCP
 *  checksum covering the payload read in place from pkt */
void tcpGsoHeader(const uint8_t* pkt, const TcpGso& g, size_t off, size_t segLen, uint32_t idx, bool last,
                  uint8_t* out);

/** Inbound coalescing (GRO for TUN writes): a TCP segment with payload and only ACK(/PSH). */
struct TcpSeg {
  bool v6;
  bool psh;
  size_t l4off, hdrLen, payload;
  uint32_t seq;
};
bool tcpCoalesceKey(const uint8_t* pkt, size_t len, TcpSeg* s);
/** same flow and identical headers apart from length / ID / checksum / sequence / PSH */
bool tcpSameFlow(const uint8_t* a, const TcpSeg& sa, const uint8_t* b, const TcpSeg& sb);
/** Fix lengths / IPv4 checksum of the merged packet (first segment's headers + all payloads),
 *  put the pseudo-header sum in the TCP checksum and fill the virtio_net_hdr (TCP GSO). */
void tcpCoalesceFinish(uint8_t* pkt, size_t len, const TcpSeg& first, bool psh, VnetHdr* h);

}  // namespace ikegw
