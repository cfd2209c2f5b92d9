// ikegw native data path.
//
// Threads and pipeline (one Engine per process; cf. wireguard-go device/{send,receive}.go):
//
//   JS thread ──control──▶ Engine (SA table, connections, sockets; writer-preferring rwlock,
//                          taken exclusively by control calls, shared by the data threads
//                          once per batch)
//
//   outbound thread:  epoll(TUN fds of all connections + stop eventfd)
//      read() ≤ 64 packets from one TUN into 64 KiB slots with 24 B headroom
//      → TUN offloads (IFF_VNET_HDR, opened by openTun(..., offload = true); detected per fd
//        with TUNGETIFF): each read starts with a virtio_net_hdr. TCP super-packets (TSO4/6,
//        up to 64 KiB) are split here, as wireguard-go does: per segment the headers are
//        rebuilt in a segment slot (IP length, IPv4 ID + checksum, TCP seq, FIN/PSH last
//        only, CWR first only, full TCP checksum) and the payload is sealed straight from the
//        super-packet (espSealSplit). Segments respect the connection limit: a DF/IPv6
//        super-packet whose segments would exceed it gets the ICMP too-big (built from its
//        first segment) and is dropped, as a single too-big packet would be. NEEDS_CSUM on a
//        plain packet: the partial checksum is completed before sealing.
//      → connection's current outbound SA (set by activateOutbound; none → drop no_sa,
//        'acquire' event at most once a second; trap connections instead hold up to 16
//        packets, ≤ 3 s old, oldest evicted as no_sa, which activateOutbound seals and sends
//        before anything else)
//      → too big for the tunnel (> connection limit: maxPacket or MTU, capped by pathMtu
//        minus outer/ESP overhead) and DF/IPv6 → ICMP frag-needed / packet-too-big with
//        that limit as next-hop MTU written back into the TUN (RFC 792/1191/4443)
//      → TCP SYN MSS clamp → ESP seal in place (header written into the headroom,
//        trailer + ICV after the payload)
//      → raw ESP SA (encap = false): sendmmsg on the family's IPPROTO_ESP raw socket, one
//        message per packet; else sendmmsg on the SA's UDP socket; runs of equal-size packets go out as one
//        message with UDP_SEGMENT (GSO), up to 64 segments / 64000 bytes; without GSO
//        support (probe at socket open, or EIO/EINVAL on first use) one message per packet.
//
//   inbound thread:  epoll(UDP sockets + raw ESP sockets + stop eventfd)
//      recvmmsg ≤ 64 datagrams per socket (64 KiB each; UDP_GRO coalesced datagrams are
//      split again by the gso_size cmsg); IP_PKTINFO gives the local address
//      → port-500 style socket (espInUdp = false): every datagram is IKE → event to JS
//      → 0xFF alone: NAT keepalive, counted and dropped (RFC 3948 §2.3)
//      → first 4 bytes zero: non-ESP marker → IKE datagram (marker stripped) → event
//      → else ESP: SPI lookup → replay check → ICV verify + decrypt in place → replay
//        commit (only now) → trailer/padding check → per-SA counters, lifetimes →
//        authenticated source ≠ SA remote → 'mapping' event (once per new endpoint)
//      → next header 4/41 → inner source/destination checked against the SA's traffic
//        selectors (remoteTs / localTs, when given; mismatch → drop policy_mismatch)
//      → MSS clamp → queued for the connection's TUN; 59 → dummy drop
//      → after each recvmmsg batch the queue is written in order (flushTun): on offload TUNs
//        runs of in-order TCP segments of one flow (same headers apart from length/ID/
//        checksum/seq, ACK only, PSH only on the last, equal sizes but the last) go out as one
//        TCP GSO super-packet (virtio_net_hdr GSO_TCPV4/6 + NEEDS_CSUM, ≤ 64 segments /
//        64 KiB) gathered with writev; everything else one write() each (virtio_net_hdr
//        zeroed in the packet's spent ESP header room). IKEGW_TUN_GRO=0: no coalescing.
//
//   Events (IKE datagrams, mapping, expire, acquire) are queued under a mutex and the
//   owner's notify() is called once per non-empty transition; the addon drains the queue
//   on the JS thread through a napi threadsafe function. Drops are counted per reason in
//   relaxed atomics; nothing is logged or allocated per ESP packet.
//
// UDP sockets are created natively (openUdp) — one per address family/port, IPV6_V6ONLY on
// IPv6 sockets — and carry both ESP-in-UDP and IKE (non-ESP marker) on 4500.
//
// Raw ESP (IP protocol 50, RFC 4303 without UDP; SAs with encap = false): one raw socket per
// address family (socket(AF_INET/AF_INET6, SOCK_RAW, IPPROTO_ESP)), opened when the first
// raw SA of that family is added (needs CAP_NET_RAW). Outbound: sealed ESP goes out with
// sendmmsg to the peer address, the kernel builds the IP header (IP_PKTINFO / IPV6_PKTINFO
// pick the source). Inbound: the UDP-reader thread polls the raw sockets too; IPv4 raw
// sockets deliver the IP header first (stripped here), IPv6 ones do not; then the same SPI
// lookup / replay / decrypt path as ESP-in-UDP (no NAT mapping events for raw SAs). This only
// sees traffic when the kernel itself does not consume ESP (no esp4/esp6 xfrm state for it).
//
// Packet-too-big: a connection's limit is maxPacket (or the TUN MTU when 0), further capped
// by pathMtu − outer IP − UDP (encap) − the current SA's ESP overhead when pathMtu is set.
#include "dataplane.h"

#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace ikegw {

namespace {
constexpr size_t kBatch = 64;
constexpr size_t kMaxPkt = 65535;
constexpr size_t kHead = 64;  // ≥ kEspHeadroom, keeps the payload 16-byte aligned
constexpr size_t kSlot = kHead + kMaxPkt + 128;
constexpr size_t kRxSlot = 65536;
constexpr size_t kMaxGsoSegs = 64;
constexpr size_t kMaxGsoBytes = 64000;
constexpr size_t kMaxEvents = 8192;
// TSO split: segment slots (headroom + segment + ESP tailroom); segments ≤ kSegMax bytes
constexpr size_t kSegMax = 16384;
constexpr size_t kSegSlot = kHead + kSegMax + 128;
constexpr size_t kSegPool = 192;
constexpr size_t kMaxOut = kBatch + kSegPool;  // packets sealed per flush
// inbound TUN write queue (packets of one recvmmsg batch, GRO segments counted singly)
constexpr size_t kTunQueue = 4096;
constexpr uint64_t kStopTag = ~uint64_t(0);
constexpr uint64_t kRawTag4 = kStopTag - 1;
constexpr uint64_t kRawTag6 = kStopTag - 2;
// soft expiry 2^26 values before the end of the (low) space, as src/esp/seq.ts
constexpr uint64_t kSeqSoftLo = 0x100000000ull - (1ull << 26);
}  // namespace

const char* counterName(int c) {
  switch (c) {
    case C_RX_DATAGRAMS: return "rxDatagrams";
    case C_RX_ESP: return "rxEspPackets";
    case C_RX_ESP_BYTES: return "rxEspBytes";
    case C_TX_ESP: return "txEspPackets";
    case C_TX_ESP_BYTES: return "txEspBytes";
    case C_TUN_READ: return "tunReadPackets";
    case C_KEEPALIVE: return "keepalivesReceived";
    case C_IKE_IN: return "ikeIn";
    case C_IKE_OUT: return "ikeOut";
    case C_IKE_QUEUE_FULL: return "ikeQueueFull";
    case C_GSO_SENDS: return "gsoSends";
    case C_GRO_DATAGRAMS: return "groDatagrams";
    case C_TUN_WRITE_ERR: return "tunWriteErrors";
    case C_ICMP_TOO_BIG: return "icmpTooBigSent";
    case C_SEND_BATCHES: return "sendBatches";
    case C_RX_RAW: return "rxRawEspPackets";
    case C_TX_RAW: return "txRawEspPackets";
    case C_TUN_GSO_READS: return "tunGsoReads";
    case C_TUN_GSO_WRITES: return "tunGsoWrites";
    case C_TRAP_HELD: return "trapHeldPackets";
    case C_TRAP_SENT: return "trapSentPackets";
    default: return "?";
  }
}

RwLock::RwLock() {
  pthread_rwlockattr_t a;
  pthread_rwlockattr_init(&a);
  pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&l_, &a);
  pthread_rwlockattr_destroy(&a);
}
RwLock::~RwLock() { pthread_rwlock_destroy(&l_); }

uint64_t Engine::nowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

Engine::Engine() {
  for (auto& c : counters_) c.store(0);
  for (auto& d : drops_) d.store(0);
  epOut_ = epoll_create1(EPOLL_CLOEXEC);
  epIn_ = epoll_create1(EPOLL_CLOEXEC);
  stopFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kStopTag;
  epoll_ctl(epOut_, EPOLL_CTL_ADD, stopFd_, &ev);
  epoll_ctl(epIn_, EPOLL_CTL_ADD, stopFd_, &ev);
}

Engine::~Engine() {
  close();
  ::close(epOut_);
  ::close(epIn_);
  ::close(stopFd_);
}

void Engine::close() {
  stop();
  UniqueGuard g(mu_);
  sas_.clear();
  saGen_++;
  for (auto& c : conns_)
    if (c && c->tunFd >= 0) ::close(c->tunFd);
  conns_.clear();
  for (auto& s : socks_)
    if (s.fd >= 0) ::close(s.fd);
  socks_.clear();
  for (int& fd : rawFd_) {
    if (fd >= 0) {
      epoll_ctl(epIn_, EPOLL_CTL_DEL, fd, nullptr);
      ::close(fd);
    }
    fd = -1;
  }
}

// caller holds mu_ exclusively
bool Engine::openRaw(int family, std::string* err) {
  int slot = family == AF_INET6 ? 1 : 0;
  if (rawFd_[slot] >= 0) return true;
  int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
  if (fd < 0) {
    *err = std::string("raw ESP socket (needs CAP_NET_RAW): ") + strerror(errno);
    return false;
  }
  int one = 1;
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  int buf = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = slot ? kRawTag6 : kRawTag4;
  if (epoll_ctl(epIn_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    *err = std::string("epoll_ctl(raw): ") + strerror(errno);
    ::close(fd);
    return false;
  }
  rawFd_[slot] = fd;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Control
// ---------------------------------------------------------------------------------------------

int Engine::openUdp(const SockAddr& bind, bool espInUdp, std::string* err) {
  int fam = bind.family();
  int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = std::string("socket: ") + strerror(errno);
    return -1;
  }
  int one = 1;
  if (fam == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
  } else {
    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
  }
  int buf = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  if (::bind(fd, bind.sa(), bind.len) != 0) {
    *err = "bind " + bind.addrString() + ":" + std::to_string(bind.port()) + ": " + strerror(errno);
    ::close(fd);
    return -1;
  }
  UdpSock s;
  s.fd = fd;
  s.espInUdp = espInUdp;
  s.bound.len = sizeof s.bound.ss;
  getsockname(fd, s.bound.sa(), &s.bound.len);
  int seg = 0;
  socklen_t sl = sizeof seg;
  s.gso = getsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, &sl) == 0;
  s.gro = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
  UniqueGuard g(mu_);
  socks_.push_back(s);
  int idx = int(socks_.size() - 1);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = uint64_t(idx);
  epoll_ctl(epIn_, EPOLL_CTL_ADD, fd, &ev);
  return idx;
}

bool Engine::sockName(int idx, SockAddr* out, bool* espInUdp) {
  UniqueGuard g(mu_);
  if (idx < 0 || size_t(idx) >= socks_.size()) return false;
  *out = socks_[idx].bound;
  *espInUdp = socks_[idx].espInUdp;
  return true;
}

int Engine::addConnection(int tunFd, uint32_t mtu, int mss, uint32_t maxPacket, uint32_t pathMtu, bool trap,
                          std::string* err) {
  UniqueGuard g(mu_);
  auto c = std::make_unique<Conn>();
  c->trap = trap;
  c->tunFd = tunFd;
  c->mtu = mtu ? mtu : 1400;
  c->mssAuto = mss < 0;
  c->mss = mss > 0 ? uint16_t(mss > 65535 ? 65535 : mss) : 0;
  c->maxPacket = maxPacket;
  c->pathMtu = pathMtu;
  c->gen = nextGen_++;
  if (tunFd >= 0) {
    ifreq ifr{};
    if (ioctl(tunFd, TUNGETIFF, &ifr) == 0) c->vnet = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
  }
  int idx = int(conns_.size());
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = (uint64_t(c->gen) << 32) | uint32_t(idx);
  // tunFd < 0: a connection without TUN (unit tests: seal/open only)
  if (tunFd >= 0 && epoll_ctl(epOut_, EPOLL_CTL_ADD, tunFd, &ev) != 0) {
    *err = std::string("epoll_ctl(tun): ") + strerror(errno);
    return -1;
  }
  conns_.push_back(std::move(c));
  return idx;
}

bool Engine::removeConnection(int idx) {
  UniqueGuard g(mu_);
  Conn* c = conn(idx);
  if (!c) return false;
  if (c->tunFd >= 0) {
    epoll_ctl(epOut_, EPOLL_CTL_DEL, c->tunFd, nullptr);
    ::close(c->tunFd);
  }
  conns_[idx].reset();  // indexes are never reused
  return true;
}

bool Engine::setConnection(int idx, uint32_t mtu, int mss, uint32_t maxPacket, uint32_t pathMtu) {
  UniqueGuard g(mu_);
  Conn* c = conn(idx);
  if (!c) return false;
  if (mtu) c->mtu = mtu;
  c->mssAuto = mss < 0;
  c->mss = mss > 0 ? uint16_t(mss > 65535 ? 65535 : mss) : 0;
  c->maxPacket = maxPacket;
  c->pathMtu = pathMtu;
  return true;
}

uint32_t Engine::packetLimit(const Conn& c, const Sa* sa) const {
  uint32_t limit = c.maxPacket ? c.maxPacket : c.mtu;
  if (c.pathMtu && sa) {
    size_t outer = (sa->p.remote.family() == AF_INET6 ? 40 : 20) + (sa->p.encap ? 8 : 0);
    size_t fit = c.pathMtu > outer ? espMaxPayload(*sa, c.pathMtu - outer) : 0;
    if (fit < limit) limit = uint32_t(fit);
  }
  return limit;
}

// TCP MSS clamp of a SYN / SYN-ACK (RFC 879 / 8200): a fixed value, or with mssAuto the
// connection's packet limit (computed once per batch by the caller) − IP (20 / 40) − TCP (20)
void Engine::clampTcp(const Conn& c, uint32_t limit, uint8_t* p, size_t len) const {
  if (!c.mss && !c.mssAuto) return;
  uint16_t mss = c.mss;
  if (c.mssAuto) {
    uint32_t hdrs = len && (p[0] >> 4) == 6 ? 60 : 40;
    mss = limit > hdrs + 64 ? uint16_t(limit - hdrs > 65535 ? 65535 : limit - hdrs) : 64;
  }
  clampMss(p, len, mss);
}

uint32_t Engine::connectionLimit(int idx) {
  SharedGuard g(mu_);
  Conn* c = conn(idx);
  return c ? packetLimit(*c, c->out) : 0;
}

Engine::Conn* Engine::conn(int idx) {
  if (idx < 0 || size_t(idx) >= conns_.size()) return nullptr;
  return conns_[idx].get();
}

Sa* Engine::findSa(uint32_t spi, bool outbound) {
  auto it = sas_.find(key(spi, outbound));
  return it == sas_.end() ? nullptr : it->second.get();
}

int Engine::pickSocket(const SaParams& p) {
  int best = -1, bestScore = -1;
  for (size_t i = 0; i < socks_.size(); i++) {
    const UdpSock& s = socks_[i];
    if (!s.espInUdp || s.bound.family() != p.remote.family()) continue;
    int score = 0;
    if (p.local.len && s.bound.port() == p.local.port()) score += 1;
    if (p.local.len && s.bound.sameAddr(p.local)) score += 2;
    else if (s.bound.isWildcard()) score += 1;
    if (score > bestScore) {
      best = int(i);
      bestScore = score;
    }
  }
  return best;
}

bool Engine::addSa(SaParams&& p, std::string* err) {
  if (p.spi < 256) {
    *err = "SPI values 0..255 are reserved (RFC 4303 §2.1)";
    return false;
  }
  if (p.replayWindow > ReplayWindow::kMax) {
    *err = "replay window larger than " + std::to_string(ReplayWindow::kMax);
    return false;
  }
  if (p.remote.family() != AF_INET && p.remote.family() != AF_INET6) {
    *err = "remote endpoint required";
    return false;
  }
  auto sa = makeSa(std::move(p), err);
  if (!sa) return false;
  UniqueGuard g(mu_);
  if (!conn(int(sa->p.conn))) {
    *err = "unknown connection index " + std::to_string(sa->p.conn);
    return false;
  }
  if (findSa(sa->p.spi, sa->p.outbound)) {
    *err = "SA already exists";
    return false;
  }
  if (!sa->p.encap) {
    if (!openRaw(sa->p.remote.family(), err)) return false;
  }
  sa->sock = pickSocket(sa->p);
  if (sa->p.outbound && sa->p.encap && sa->sock < 0) {
    *err = "no ESP-in-UDP socket of the remote's address family (openUdp first)";
    return false;
  }
  sa->lastMapping = sa->p.remote;
  uint64_t k = key(sa->p.spi, sa->p.outbound);
  sas_.emplace(k, std::move(sa));
  saGen_++;
  return true;
}

bool Engine::delSa(uint32_t spi, bool outbound) {
  UniqueGuard g(mu_);
  auto it = sas_.find(key(spi, outbound));
  if (it == sas_.end()) return false;
  for (auto& c : conns_)
    if (c && c->out == it->second.get()) c->out = nullptr;
  sas_.erase(it);  // ~Sa zeroizes keys
  saGen_++;
  return true;
}

bool Engine::activateOutbound(int idx, uint32_t spi, std::string* err) {
  UniqueGuard g(mu_);
  Conn* c = conn(idx);
  if (!c) {
    *err = "unknown connection";
    return false;
  }
  Sa* sa = findSa(spi, true);
  if (!sa) {
    *err = "unknown outbound SPI";
    return false;
  }
  if (int(sa->p.conn) != idx) {
    *err = "SA belongs to another connection";
    return false;
  }
  c->out = sa;
  if (c->heldN) sendHeld(*c, *sa);  // trap queue: the held packets go first
  return true;
}

bool Engine::updateSa(uint32_t spi, bool outbound, const SockAddr* remote, int encap, std::string* err) {
  UniqueGuard g(mu_);
  Sa* sa = findSa(spi, outbound);
  if (!sa) {
    *err = "unknown SA";
    return false;
  }
  SaParams tmp = sa->p;
  if (remote) tmp.remote = *remote;
  if (encap >= 0) tmp.encap = encap != 0;
  if (!tmp.encap && !openRaw(tmp.remote.family(), err)) return false;
  int s = pickSocket(tmp);
  if (outbound && tmp.encap && s < 0) {
    *err = "no ESP-in-UDP socket for the remote's address family";
    return false;
  }
  sa->p.remote = tmp.remote;
  sa->p.encap = tmp.encap;
  sa->sock = s;
  if (remote) sa->lastMapping = *remote;
  return true;
}

bool Engine::querySa(uint32_t spi, bool outbound, uint64_t* bytes, uint64_t* packets, uint64_t* last,
                      const char** impl) {
  SharedGuard g(mu_);
  Sa* sa = findSa(spi, outbound);
  if (!sa) return false;
  *impl = cipherImpl(*sa);
  *bytes = sa->bytes.load(std::memory_order_relaxed);
  *packets = sa->packets.load(std::memory_order_relaxed);
  *last = sa->lastUsedMs.load(std::memory_order_relaxed);
  return true;
}

size_t Engine::saCount() {
  SharedGuard g(mu_);
  return sas_.size();
}

static size_t putPktinfo(char* cb, const SockAddr& src) {
  cmsghdr* cm = reinterpret_cast<cmsghdr*>(cb);
  if (src.family() == AF_INET) {
    in_pktinfo pi{};
    pi.ipi_spec_dst = reinterpret_cast<const sockaddr_in*>(&src.ss)->sin_addr;
    cm->cmsg_level = IPPROTO_IP;
    cm->cmsg_type = IP_PKTINFO;
    cm->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(cm), &pi, sizeof pi);
    return CMSG_SPACE(sizeof pi);
  }
  in6_pktinfo pi{};
  pi.ipi6_addr = reinterpret_cast<const sockaddr_in6*>(&src.ss)->sin6_addr;
  cm->cmsg_level = IPPROTO_IPV6;
  cm->cmsg_type = IPV6_PKTINFO;
  cm->cmsg_len = CMSG_LEN(sizeof pi);
  memcpy(CMSG_DATA(cm), &pi, sizeof pi);
  return CMSG_SPACE(sizeof pi);
}

bool Engine::sendIke(int sock, const uint8_t* data, size_t len, const SockAddr& remote, const SockAddr* local,
                     std::string* err, bool raw) {
  SharedGuard g(mu_);
  if (sock < 0 || size_t(sock) >= socks_.size()) {
    *err = "unknown socket";
    return false;
  }
  const UdpSock& s = socks_[sock];
  if (remote.family() != s.bound.family()) {
    *err = "address family mismatch between socket and remote";
    return false;
  }
  static const uint8_t marker[4] = {0, 0, 0, 0};  // RFC 3948 §2.2 non-ESP marker
  iovec iov[2];
  int n = 0;
  if (s.espInUdp && !raw) iov[n++] = {const_cast<uint8_t*>(marker), 4};
  iov[n++] = {const_cast<uint8_t*>(data), len};
  msghdr h{};
  h.msg_name = const_cast<sockaddr*>(remote.sa());
  h.msg_namelen = remote.len;
  h.msg_iov = iov;
  h.msg_iovlen = n;
  alignas(cmsghdr) char cb[64];
  if (local && local->len && !local->isWildcard() && s.bound.isWildcard() && local->family() == remote.family()) {
    h.msg_control = cb;
    h.msg_controllen = putPktinfo(cb, *local);
  }
  if (sendmsg(s.fd, &h, 0) < 0) {
    *err = std::string("sendmsg: ") + strerror(errno);
    return false;
  }
  count(C_IKE_OUT);
  return true;
}

bool Engine::start(std::string* err) {
  if (running_) return true;
  uint64_t v;
  while (read(stopFd_, &v, sizeof v) > 0) {
  }
  stop_ = false;
  try {
    outThread_ = std::thread([this] { outboundLoop(); });
    inThread_ = std::thread([this] { inboundLoop(); });
  } catch (const std::exception& e) {
    *err = std::string("thread: ") + e.what();
    stop_ = true;
    uint64_t one = 1;
    if (write(stopFd_, &one, sizeof one) < 0) {
    }
    if (outThread_.joinable()) outThread_.join();
    return false;
  }
  running_ = true;
  // let the threads apply their nice value before start() returns (stats() reports it)
  for (int i = 0; i < 200 && appliedNice_.load(std::memory_order_relaxed) == INT32_MIN; i++) usleep(500);
  return true;
}

void Engine::stop() {
  if (!running_) return;
  stop_ = true;
  uint64_t one = 1;
  if (write(stopFd_, &one, sizeof one) < 0) {
  }
  if (outThread_.joinable()) outThread_.join();
  if (inThread_.joinable()) inThread_.join();
  running_ = false;
}

std::vector<Event> Engine::takeEvents() {
  std::vector<Event> out;
  std::lock_guard<std::mutex> g(evMu_);
  notifyPending_.store(false);
  out.swap(events_);
  return out;
}

void Engine::pushEvent(Event&& e) {
  {
    std::lock_guard<std::mutex> g(evMu_);
    if (events_.size() >= kMaxEvents) {
      if (e.kind == Event::IKE) count(C_IKE_QUEUE_FULL);
      return;
    }
    events_.push_back(std::move(e));
  }
  if (!notifyPending_.exchange(true) && notify) notify();
}

// ---------------------------------------------------------------------------------------------
// Shared per-packet helpers
// ---------------------------------------------------------------------------------------------

void Engine::countUse(Sa& sa, size_t bytes, uint64_t now) {
  // single writer per SA: plain load + store, no locked RMW
  uint64_t b = sa.bytes.load(std::memory_order_relaxed) + bytes;
  uint64_t p = sa.packets.load(std::memory_order_relaxed) + 1;
  sa.bytes.store(b, std::memory_order_relaxed);
  sa.packets.store(p, std::memory_order_relaxed);
  sa.lastUsedMs.store(now, std::memory_order_relaxed);
  const SaParams& q = sa.p;
  if (!sa.hardFired && ((q.hardBytes && b >= q.hardBytes) || (q.hardPackets && p >= q.hardPackets))) {
    sa.hardFired = true;
    Event e;
    e.kind = Event::EXPIRE;
    e.spi = q.spi;
    e.outbound = q.outbound;
    e.hard = true;
    e.reason = (q.hardBytes && b >= q.hardBytes) ? "bytes" : "packets";
    pushEvent(std::move(e));
  } else if (!sa.softFired && ((q.softBytes && b >= q.softBytes) || (q.softPackets && p >= q.softPackets))) {
    sa.softFired = true;
    Event e;
    e.kind = Event::EXPIRE;
    e.spi = q.spi;
    e.outbound = q.outbound;
    e.hard = false;
    e.reason = (q.softBytes && b >= q.softBytes) ? "bytes" : "packets";
    pushEvent(std::move(e));
  }
}

// Sequence space (RFC 4303 §3.3.3, never cycles): soft 'seq' expiry 2^26 values before the
// end, hard once the last value has been sent (the SA then seals nothing more).
void Engine::checkSeq(Sa& sa) {
  uint64_t lo = sa.seq & 0xffffffffull, hi = sa.seq >> 32;
  bool last = sa.p.esn ? sa.seq == ~uint64_t(0) : sa.seq >= 0xffffffffull;
  bool soft = lo >= kSeqSoftLo && (!sa.p.esn || hi == 0xffffffffull);
  if (last && !sa.seqHardFired) {
    sa.seqHardFired = true;
    sa.seqSoftFired = true;
    Event ev;
    ev.kind = Event::EXPIRE;
    ev.spi = sa.p.spi;
    ev.outbound = true;
    ev.hard = true;
    ev.reason = "seq";
    pushEvent(std::move(ev));
  } else if (soft && !sa.seqSoftFired) {
    sa.seqSoftFired = true;
    Event ev;
    ev.kind = Event::EXPIRE;
    ev.spi = sa.p.spi;
    ev.outbound = true;
    ev.hard = false;
    ev.reason = "seq";
    pushEvent(std::move(ev));
  }
}

void Engine::writeTooBig(Conn& c, const uint8_t* pkt, size_t len, uint32_t mtu) {
  uint8_t icmp[kVnetHdrLen + 1280];
  size_t n = buildTooBig(pkt, len, mtu, icmp + kVnetHdrLen, sizeof icmp - kVnetHdrLen);
  if (!n) return;
  if (c.vnet) {
    memset(icmp, 0, kVnetHdrLen);  // no offload: checksums are complete
    n += kVnetHdrLen;
    if (write(c.tunFd, icmp, n) == ssize_t(n)) count(C_ICMP_TOO_BIG);
  } else if (write(c.tunFd, icmp + kVnetHdrLen, n) == ssize_t(n)) {
    count(C_ICMP_TOO_BIG);
  }
}

// ---------------------------------------------------------------------------------------------
// Outbound: TUN → ESP → UDP
// ---------------------------------------------------------------------------------------------

// the kernel's own multicast / broadcast / link-local chatter: neither triggers an acquire nor
// waits in a trap queue
static bool isNoise(const uint8_t* p, size_t len) {
  if (len >= 20 && (p[0] >> 4) == 4) return p[16] >= 224;  // multicast, broadcast
  if (len >= 40 && (p[0] >> 4) == 6) return p[24] == 0xff || (p[24] == 0xfe && (p[25] & 0xc0) == 0x80);
  return true;
}

void Engine::sendSealed(Sa& sa, uint8_t** pkts, const size_t* lens, size_t n) {
  if (!n) return;
  if (!sa.p.encap) {
    int fd = rawFd_[sa.p.remote.family() == AF_INET6 ? 1 : 0];
    if (fd >= 0) sendRaw(fd, sa.p.remote, &sa.p.local, pkts, lens, n);
    else drops_[DROP_TX_ERROR].fetch_add(n, std::memory_order_relaxed);
  } else if (sa.sock >= 0 && size_t(sa.sock) < socks_.size()) {
    sendEsp(socks_[sa.sock], sa.p.remote, &sa.p.local, pkts, lens, n);
  } else {
    drops_[DROP_TX_ERROR].fetch_add(n, std::memory_order_relaxed);
  }
}

void Engine::holdPacket(Conn& c, const uint8_t* pkt, size_t len, uint64_t now) {
  // age out from the front, then make room by evicting the oldest
  while (c.heldN && now - c.held[c.heldHead].ms > kTrapMaxAgeMs) {
    c.heldHead = (c.heldHead + 1) % kTrapQueue;
    c.heldN--;
    drop(DROP_NO_SA);
  }
  if (c.heldN == kTrapQueue) {
    c.heldHead = (c.heldHead + 1) % kTrapQueue;
    c.heldN--;
    drop(DROP_NO_SA);
  }
  Conn::Held& h = c.held[(c.heldHead + c.heldN) % kTrapQueue];
  h.buf.resize(kHead + len + 128);
  memcpy(h.buf.data() + kHead, pkt, len);
  h.len = len;
  h.ms = now;
  c.heldN++;
  count(C_TRAP_HELD);
}

void Engine::sendHeld(Conn& c, Sa& sa) {
  uint8_t* pkts[kTrapQueue];
  size_t lens[kTrapQueue];
  size_t k = 0, bytes = 0;
  const uint64_t now = nowMs();
  const uint32_t limit = packetLimit(c, &sa);
  for (; c.heldN; c.heldN--, c.heldHead = (c.heldHead + 1) % kTrapQueue) {
    Conn::Held& h = c.held[c.heldHead];
    uint8_t* p = h.buf.data() + kHead;
    size_t len = h.len;
    if (now - h.ms > kTrapMaxAgeMs || sa.hardFired || sa.seqHardFired) {
      drop(DROP_NO_SA);
      continue;
    }
    uint8_t ver = p[0] >> 4;
    if (len > limit && (ver == 6 || (rd16(p + 6) & 0x4000))) {
      if (c.tunFd >= 0) writeTooBig(c, p, len, limit);
      drop(DROP_TOO_BIG);
      continue;
    }
    clampTcp(c, limit, p, len);
    uint8_t* out;
    size_t olen;
    int r = espSeal(sa, p, len, ver == 4 ? 4 : 41, &out, &olen);
    if (r != DROP_NONE) {
      drop(r);
      continue;
    }
    pkts[k] = out;
    lens[k] = olen;
    k++;
    bytes += len;
    countUse(sa, len, now);
  }
  c.heldHead = 0;
  if (!k) return;
  checkSeq(sa);
  count(C_TX_ESP, k);
  count(C_TX_ESP_BYTES, bytes);
  count(C_TRAP_SENT, k);
  sendSealed(sa, pkts, lens, k);
}

// The packet path runs ahead of ordinary processes (kernel IPsec would run in softirq): a
// negative nice for the two data threads (setpriority on the thread id; needs CAP_SYS_NICE,
// else they keep the inherited value, which appliedNice() then reports).
void Engine::applyNice() {
  pid_t tid = pid_t(syscall(SYS_gettid));
  if (threadNice_ != 0) setpriority(PRIO_PROCESS, id_t(tid), threadNice_);
  errno = 0;
  int now = getpriority(PRIO_PROCESS, id_t(tid));
  if (errno == 0) appliedNice_.store(now, std::memory_order_relaxed);
}

void Engine::outboundLoop() {
  applyNice();
  std::vector<uint8_t> bufv(kBatch * kSlot);
  std::vector<uint8_t> segv(kSegPool * kSegSlot);
  uint8_t* buf = bufv.data();
  uint8_t* segs = segv.data();
  size_t lens[kBatch];
  VnetHdr vh[kBatch];
  static thread_local uint8_t* pkts[kMaxOut];
  static thread_local size_t plens[kMaxOut];
  epoll_event evs[16];
  while (!stop_.load(std::memory_order_relaxed)) {
    int n = epoll_wait(epOut_, evs, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int e = 0; e < n; e++) {
      if (evs[e].data.u64 == kStopTag) continue;
      int idx = int(uint32_t(evs[e].data.u64));
      uint32_t gen = uint32_t(evs[e].data.u64 >> 32);
      SharedGuard g(mu_);
      Conn* c = conn(idx);
      if (!c || c->gen != gen) continue;
      const bool vnet = c->vnet;
      // with IFF_VNET_HDR the virtio_net_hdr lands just before the packet, in the headroom
      const size_t pre = vnet ? kVnetHdrLen : 0;
      size_t cnt = 0;
      while (cnt < kBatch) {
        uint8_t* slot = buf + cnt * kSlot + kHead;
        ssize_t r = read(c->tunFd, slot - pre, kMaxPkt + pre);
        if (r <= 0) break;
        if (size_t(r) < pre) continue;
        if (vnet) memcpy(&vh[cnt], slot - pre, kVnetHdrLen);
        lens[cnt++] = size_t(r) - pre;
      }
      if (!cnt) continue;
      count(C_TUN_READ, cnt);
      uint64_t now = nowMs();
      Sa* sa = c->out;
      if (!sa || sa->hardFired || sa->seqHardFired) {
        if (c->trap) {
          // trap: hold real traffic (plain packets; TSO super-packets only follow an
          // established TCP connection, i.e. a tunnel) until activateOutbound sends it
          for (size_t i = 0; i < cnt; i++) {
            uint8_t* p = buf + i * kSlot + kHead;
            size_t len = lens[i];
            uint8_t ver = len ? p[0] >> 4 : 0;
            bool ok = (ver == 4 && len >= 20) || (ver == 6 && len >= 40);
            if (ok && vnet) ok = (vh[i].gsoType & ~kVnetGsoEcn) == kVnetGsoNone && vnetCompleteCsum(p, len, vh[i]);
            if (!ok || isNoise(p, len)) drop(DROP_NO_SA);
            else holdPacket(*c, p, len, now);
          }
        } else {
          drops_[DROP_NO_SA].fetch_add(cnt, std::memory_order_relaxed);
        }
        // Acquire (trap): report the first packet that is real traffic, not the kernel's
        // own multicast / link-local chatter, with its header so JS can match selectors.
        if (now - c->lastAcquireMs >= 1000 || c->lastAcquireMs == 0) {
          for (size_t i = 0; i < cnt; i++) {
            const uint8_t* p = buf + i * kSlot + kHead;
            size_t len = lens[i];
            if (isNoise(p, len)) continue;
            c->lastAcquireMs = now;
            Event ev;
            ev.kind = Event::ACQUIRE;
            ev.conn = idx;
            ev.data.assign(p, p + (len < 40 ? len : 40));
            pushEvent(std::move(ev));
            break;
          }
        }
        continue;
      }
      size_t k = 0, bytes = 0, segUsed = 0;
      const uint32_t limit = packetLimit(*c, sa);
      auto flush = [&]() {
        if (k) {
          count(C_TX_ESP, k);
          count(C_TX_ESP_BYTES, bytes);
          sendSealed(*sa, pkts, plens, k);
        }
        k = 0;
        bytes = 0;
        segUsed = 0;
      };
      // one complete IP packet (headroom and tailroom around it) → seal → pkts[k]
      // body != nullptr: the packet is p[0, len) ‖ body[0, bodyLen) (a TSO segment: headers
      // built in the slot, payload still in the super-packet; never a SYN, so no clamp)
      auto seal = [&](uint8_t* p, size_t len, uint8_t ver, const uint8_t* body = nullptr, size_t bodyLen = 0) {
        if (sa->hardFired) {  // hard volume limit reached inside this batch
          drop(DROP_NO_SA);
          return;
        }
        if (!body) clampTcp(*c, limit, p, len);
        uint8_t* out;
        size_t olen;
        int r = body ? espSealSplit(*sa, p, len, body, bodyLen, ver == 4 ? 4 : 41, &out, &olen)
                     : espSeal(*sa, p, len, ver == 4 ? 4 : 41, &out, &olen);
        len += bodyLen;
        if (r != DROP_NONE) {
          drop(r);
          return;
        }
        pkts[k] = out;
        plens[k] = olen;
        k++;
        bytes += len;
        countUse(*sa, len, now);
      };
      for (size_t i = 0; i < cnt; i++) {
        uint8_t* p = buf + i * kSlot + kHead;
        size_t len = lens[i];
        uint8_t ver = len ? p[0] >> 4 : 0;
        if ((ver == 4 && len < 20) || (ver == 6 && len < 40) || (ver != 4 && ver != 6)) {
          drop(DROP_MALFORMED);
          continue;
        }
        uint8_t gsoType = vnet ? uint8_t(vh[i].gsoType & ~kVnetGsoEcn) : kVnetGsoNone;
        if (gsoType != kVnetGsoNone) {
          // TCP super-packet (TSO): split into MSS-sized IP packets, each sealed alone
          TcpGso tg;
          if (!tcpGsoParse(p, len, vh[i], &tg) || (gsoType == kVnetGsoTcp4) != (ver == 4)) {
            drop(DROP_MALFORMED);
            continue;
          }
          count(C_TUN_GSO_READS);
          size_t seg = vh[i].gsoSize;
          if (tg.hdrLen + seg > limit) {
            bool df = ver == 6 || (rd16(p + 6) & 0x4000);
            if (df) {
              // as for a single too-big packet: ICMP built from the first segment, drop all
              if (segUsed >= kSegPool) flush();
              uint8_t* first = segs + segUsed * kSegSlot + kHead;
              size_t flen = tg.hdrLen + (seg < tg.payload ? seg : tg.payload);
              if (flen > kSegMax) flen = kSegMax;
              tcpGsoSegment(p, tg, 0, flen - tg.hdrLen, 0, flen - tg.hdrLen >= tg.payload, first);
              writeTooBig(*c, first, flen, limit);
              drop(DROP_TOO_BIG);
              continue;
            }
            seg = limit > tg.hdrLen ? limit - tg.hdrLen : 0;
          }
          if (seg == 0 || tg.hdrLen + seg > kSegMax) {
            drop(DROP_MALFORMED);
            continue;
          }
          size_t nseg = (tg.payload + seg - 1) / seg;
          if (nseg > kSegPool) {
            drop(DROP_MALFORMED);
            continue;
          }
          if (segUsed + nseg > kSegPool || k + nseg > kMaxOut) flush();
          for (size_t q = 0; q < nseg; q++) {
            size_t off = q * seg;
            size_t sl = tg.payload - off < seg ? tg.payload - off : seg;
            uint8_t* sp = segs + segUsed * kSegSlot + kHead;
            segUsed++;
            tcpGsoHeader(p, tg, off, sl, uint32_t(q), q + 1 == nseg, sp);
            seal(sp, tg.hdrLen, ver, p + tg.hdrLen + off, sl);
          }
          continue;
        }
        if (vnet && !vnetCompleteCsum(p, len, vh[i])) {
          drop(DROP_MALFORMED);
          continue;
        }
        if (len > limit) {
          bool df = ver == 6 || (rd16(p + 6) & 0x4000);
          if (df) {
            writeTooBig(*c, p, len, limit);
            drop(DROP_TOO_BIG);
            continue;
          }
        }
        if (k + 1 > kMaxOut) flush();
        seal(p, len, ver);
      }
      checkSeq(*sa);
      flush();
    }
  }
}

void Engine::sendEsp(UdpSock& s, const SockAddr& dst, const SockAddr* src, uint8_t** pkts, const size_t* lens,
                     size_t n) {
  static thread_local mmsghdr msgs[kMaxOut];
  static thread_local iovec iov[kMaxOut];
  constexpr size_t kCtrl = CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(in6_pktinfo));
  alignas(cmsghdr) static thread_local char ctrl[kMaxOut][kCtrl];
  bool pktinfo = src && src->len && !src->isWildcard() && s.bound.isWildcard() && src->family() == dst.family();
  size_t m = 0, i = 0;
  while (i < n) {
    size_t seg = lens[i], j = i + 1, total = seg;
    if (s.gso) {
      while (j < n && j - i < kMaxGsoSegs && lens[j] <= seg && total + lens[j] <= kMaxGsoBytes) {
        total += lens[j];
        j++;
        if (lens[j - 1] < seg) break;  // a shorter segment ends the run
      }
    }
    for (size_t q = i; q < j; q++) iov[q] = {pkts[q], lens[q]};
    msghdr& h = msgs[m].msg_hdr;
    h = msghdr{};
    h.msg_name = const_cast<sockaddr*>(dst.sa());
    h.msg_namelen = dst.len;
    h.msg_iov = &iov[i];
    h.msg_iovlen = j - i;
    size_t clen = 0;
    char* cb = ctrl[m];
    if (j - i > 1) {
      cmsghdr* cm = reinterpret_cast<cmsghdr*>(cb);
      cm->cmsg_level = SOL_UDP;
      cm->cmsg_type = UDP_SEGMENT;
      cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t v = uint16_t(seg);
      memcpy(CMSG_DATA(cm), &v, sizeof v);
      clen += CMSG_SPACE(sizeof(uint16_t));
    }
    if (pktinfo) clen += putPktinfo(cb + clen, *src);
    h.msg_control = clen ? cb : nullptr;
    h.msg_controllen = clen;
    m++;
    i = j;
  }
  size_t done = 0;
  int tries = 0;
  while (done < m) {
    int r = sendmmsg(s.fd, msgs + done, unsigned(m - done), 0);
    count(C_SEND_BATCHES);
    if (r > 0) {
      for (size_t q = done; q < done + size_t(r); q++)
        if (msgs[q].msg_hdr.msg_iovlen > 1) count(C_GSO_SENDS);
      done += size_t(r);
      continue;
    }
    int e = errno;
    if (e == EINTR) continue;
    if (e == EAGAIN || e == ENOBUFS) {
      if (++tries > 3) break;
      pollfd p{s.fd, POLLOUT, 0};
      poll(&p, 1, 5);
      continue;
    }
    if (msgs[done].msg_hdr.msg_iovlen > 1 && (e == EIO || e == EINVAL || e == EOPNOTSUPP || e == EMSGSIZE)) {
      // GSO not usable on this path: disable it for the socket, resend the rest one by one
      s.gso = false;
      size_t first = size_t(msgs[done].msg_hdr.msg_iov - iov);
      sendEsp(s, dst, src, pkts + first, lens + first, n - first);
      return;
    }
    drops_[DROP_TX_ERROR].fetch_add(msgs[done].msg_hdr.msg_iovlen, std::memory_order_relaxed);
    done++;
  }
  for (size_t q = done; q < m; q++)
    drops_[DROP_TX_ERROR].fetch_add(msgs[q].msg_hdr.msg_iovlen, std::memory_order_relaxed);
}

// Raw ESP out: one message per packet, no GSO; the kernel adds the IP header.
void Engine::sendRaw(int fd, const SockAddr& dst0, const SockAddr* src, uint8_t** pkts, const size_t* lens,
                     size_t n) {
  static thread_local mmsghdr msgs[kMaxOut];
  static thread_local iovec iov[kMaxOut];
  alignas(cmsghdr) static thread_local char ctrl[CMSG_SPACE(sizeof(in6_pktinfo))];
  SockAddr dst = dst0;
  if (dst.family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&dst.ss)->sin6_port = 0;  // must be 0 or 50
  else reinterpret_cast<sockaddr_in*>(&dst.ss)->sin_port = 0;
  size_t clen = 0;
  if (src && src->len && !src->isWildcard() && src->family() == dst.family()) clen = putPktinfo(ctrl, *src);
  for (size_t i = 0; i < n; i++) {
    iov[i] = {pkts[i], lens[i]};
    msghdr& h = msgs[i].msg_hdr;
    h = msghdr{};
    h.msg_name = dst.sa();
    h.msg_namelen = dst.len;
    h.msg_iov = &iov[i];
    h.msg_iovlen = 1;
    h.msg_control = clen ? ctrl : nullptr;
    h.msg_controllen = clen;
  }
  size_t done = 0;
  int tries = 0;
  while (done < n) {
    int r = sendmmsg(fd, msgs + done, unsigned(n - done), 0);
    count(C_SEND_BATCHES);
    if (r > 0) {
      count(C_TX_RAW, size_t(r));
      done += size_t(r);
      continue;
    }
    int e = errno;
    if (e == EINTR) continue;
    if ((e == EAGAIN || e == ENOBUFS) && ++tries <= 3) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, 5);
      continue;
    }
    if (e == EAGAIN || e == ENOBUFS) break;
    drop(DROP_TX_ERROR);
    done++;
  }
  if (done < n) drops_[DROP_TX_ERROR].fetch_add(n - done, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------------------------
// Inbound: UDP → (IKE | keepalive | ESP → TUN)
// ---------------------------------------------------------------------------------------------

void Engine::inboundLoop() {
  applyNice();
  epoll_event evs[16];
  while (!stop_.load(std::memory_order_relaxed)) {
    int n = epoll_wait(epIn_, evs, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int e = 0; e < n; e++) {
      uint64_t tag = evs[e].data.u64;
      if (tag == kStopTag) continue;
      if (tag == kRawTag4) processRaw(AF_INET);
      else if (tag == kRawTag6) processRaw(AF_INET6);
      else processSocket(int(tag));
    }
  }
}

void Engine::processSocket(int idx) {
  static thread_local std::vector<uint8_t> bufv(kBatch * kRxSlot);
  static thread_local mmsghdr msgs[kBatch];
  static thread_local iovec iov[kBatch];
  static thread_local sockaddr_storage names[kBatch];
  alignas(cmsghdr) static thread_local char ctrl[kBatch][128];
  SharedGuard g(mu_);
  if (idx < 0 || size_t(idx) >= socks_.size()) return;
  UdpSock& s = socks_[idx];
  for (size_t i = 0; i < kBatch; i++) {
    iov[i] = {bufv.data() + i * kRxSlot, kRxSlot};
    msghdr& h = msgs[i].msg_hdr;
    h.msg_name = &names[i];
    h.msg_namelen = sizeof names[i];
    h.msg_iov = &iov[i];
    h.msg_iovlen = 1;
    h.msg_control = ctrl[i];
    h.msg_controllen = sizeof ctrl[i];
    h.msg_flags = 0;
  }
  int n = recvmmsg(s.fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
  if (n <= 0) return;
  rxNow_ = nowMs();
  for (int i = 0; i < n; i++) {
    msghdr& h = msgs[i].msg_hdr;
    size_t len = msgs[i].msg_len;
    SockAddr src;
    memcpy(&src.ss, &names[i], h.msg_namelen);
    src.len = h.msg_namelen;
    SockAddr local = s.bound;
    int gso = 0;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&h); cm; cm = CMSG_NXTHDR(&h, cm)) {
      if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
        memcpy(&gso, CMSG_DATA(cm), sizeof gso);
      } else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
        in_pktinfo pi;
        memcpy(&pi, CMSG_DATA(cm), sizeof pi);
        reinterpret_cast<sockaddr_in*>(&local.ss)->sin_addr = pi.ipi_addr;
      } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo pi;
        memcpy(&pi, CMSG_DATA(cm), sizeof pi);
        reinterpret_cast<sockaddr_in6*>(&local.ss)->sin6_addr = pi.ipi6_addr;
      }
    }
    uint8_t* d = bufv.data() + size_t(i) * kRxSlot;
    if (gso > 0 && size_t(gso) < len) {
      count(C_GRO_DATAGRAMS);
      for (size_t off = 0; off < len; off += size_t(gso))
        processDatagram(idx, d + off, len - off < size_t(gso) ? len - off : size_t(gso), src, local);
    } else {
      processDatagram(idx, d, len, src, local);
    }
  }
  flushTun();
}

void Engine::processRaw(int fam) {
  static thread_local std::vector<uint8_t> bufv(kBatch * kRxSlot);
  static thread_local mmsghdr msgs[kBatch];
  static thread_local iovec iov[kBatch];
  static thread_local sockaddr_storage names[kBatch];
  SharedGuard g(mu_);
  int fd = rawFd_[fam == AF_INET6 ? 1 : 0];
  if (fd < 0) return;
  for (size_t i = 0; i < kBatch; i++) {
    iov[i] = {bufv.data() + i * kRxSlot, kRxSlot};
    msghdr& h = msgs[i].msg_hdr;
    h = msghdr{};
    h.msg_name = &names[i];
    h.msg_namelen = sizeof names[i];
    h.msg_iov = &iov[i];
    h.msg_iovlen = 1;
  }
  int n = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
  if (n <= 0) return;
  rxNow_ = nowMs();
  for (int i = 0; i < n; i++) {
    msghdr& h = msgs[i].msg_hdr;
    size_t len = msgs[i].msg_len;
    uint8_t* d = bufv.data() + size_t(i) * kRxSlot;
    count(C_RX_RAW);
    if (fam == AF_INET) {  // IPv4 raw sockets see the IP header
      size_t ihl = len ? size_t(d[0] & 15) * 4 : 0;
      if (len < 20 || (d[0] >> 4) != 4 || ihl < 20 || ihl > len) {
        drop(DROP_MALFORMED);
        continue;
      }
      d += ihl;
      len -= ihl;
    }
    SockAddr src;
    memcpy(&src.ss, &names[i], h.msg_namelen);
    src.len = h.msg_namelen;
    uint8_t* inner;
    size_t innerLen;
    uint8_t nh;
    uint64_t seq;
    processEsp(d, len, src, true, &inner, &innerLen, &nh, &seq);
  }
  flushTun();
}

void Engine::processDatagram(int sock, uint8_t* d, size_t len, const SockAddr& src, const SockAddr& local) {
  count(C_RX_DATAGRAMS);
  const UdpSock& s = socks_[sock];
  size_t off = 0;
  if (s.espInUdp) {
    if (len == 1 && d[0] == 0xff) {
      count(C_KEEPALIVE);
      return;
    }
    if (len < 4) {
      drop(DROP_MALFORMED);
      return;
    }
    if (rd32(d) != 0) {
      uint8_t* inner;
      size_t innerLen;
      uint8_t nh;
      uint64_t seq;
      processEsp(d, len, src, true, &inner, &innerLen, &nh, &seq);
      return;
    }
    off = 4;  // non-ESP marker
  }
  Event e;
  e.kind = Event::IKE;
  e.sock = sock;
  e.remote = src;
  e.local = local;
  e.data.assign(d + off, d + len);
  count(C_IKE_IN);
  pushEvent(std::move(e));
}

int Engine::processEsp(uint8_t* d, size_t len, const SockAddr& src, bool deliver, uint8_t** inner,
                       size_t* innerLen, uint8_t* nh, uint64_t* seq) {
  if (len < 8) {
    drop(DROP_MALFORMED);
    return DROP_MALFORMED;
  }
  uint32_t spi = rd32(d);
  Sa* sa;
  if (deliver && rxCacheGen_ == saGen_ && rxCacheSpi_ == spi) {
    sa = rxCacheSa_;
  } else {
    sa = findSa(spi, false);
    if (deliver) {
      rxCacheGen_ = saGen_;
      rxCacheSpi_ = spi;
      rxCacheSa_ = sa;
    }
  }
  int r;
  if (!sa) {
    r = DROP_UNKNOWN_SPI;
  } else if (sa->hardFired) {
    r = DROP_NO_SA;
  } else {
    r = espOpen(*sa, d, len, inner, innerLen, nh, seq);
  }
  if (r != DROP_NONE) {
    drop(r);
    return r;
  }
  uint64_t now = deliver && rxNow_ ? rxNow_ : nowMs();
  countUse(*sa, *innerLen, now);
  // authenticated packet from a new address/port: report the NAT mapping change once
  if (sa->p.encap && src.len && src.port() != 0 && !src.equals(sa->p.remote) && !src.equals(sa->lastMapping)) {
    sa->lastMapping = src;
    Event e;
    e.kind = Event::MAPPING;
    e.spi = sa->p.spi;
    e.remote = src;
    pushEvent(std::move(e));
  }
  if (*nh == 59) {  // RFC 4303 §2.6 dummy packet
    drop(DROP_DUMMY);
    return DROP_DUMMY;
  }
  if (*nh != 4 && *nh != 41) {
    drop(DROP_POLICY);
    return DROP_POLICY;
  }
  uint8_t ver = *innerLen ? (*inner)[0] >> 4 : 0;
  if ((*nh == 4 && (ver != 4 || *innerLen < 20)) || (*nh == 41 && (ver != 6 || *innerLen < 40))) {
    drop(DROP_MALFORMED);
    return DROP_MALFORMED;
  }
  // RFC 4301 §5.2: the decrypted packet must match the SA's negotiated selectors
  if ((sa->p.nLocalTs || sa->p.nRemoteTs) && !tsAllowed(sa->p, *inner, *innerLen)) {
    drop(DROP_POLICY);
    return DROP_POLICY;
  }
  Conn* c = conn(int(sa->p.conn));
  if (!c) {
    drop(DROP_NO_ROUTE);
    return DROP_NO_ROUTE;
  }
  // the peer's SYN / SYN-ACK sets what our hosts send into the tunnel: clamp to our outbound limit
  if (c->mss || c->mssAuto) clampTcp(*c, c->mssAuto ? packetLimit(*c, c->out) : 0, *inner, *innerLen);
  count(C_RX_ESP);
  count(C_RX_ESP_BYTES, *innerLen);
  if (deliver) queueTun(int(sa->p.conn), *inner, *innerLen);
  return DROP_NONE;
}

// ---------------------------------------------------------------------------------------------
// Inbound TUN writes: queued per receive batch, TCP runs coalesced (IFF_VNET_HDR only)
// ---------------------------------------------------------------------------------------------

namespace {
struct TunItem {
  int conn;
  uint8_t* p;
  size_t len;
};
thread_local TunItem tunQ[kTunQueue];
thread_local size_t tunQn = 0;
// IKEGW_TUN_GRO=0 writes every packet on its own even on offload TUNs
const bool kTunGro = [] {
  const char* v = getenv("IKEGW_TUN_GRO");
  return !(v && strcmp(v, "0") == 0);
}();
}  // namespace

void Engine::queueTun(int connIdx, uint8_t* pkt, size_t len) {
  if (tunQn == kTunQueue) flushTun();
  tunQ[tunQn++] = {connIdx, pkt, len};
}

// The packet's buffer has ≥ kVnetHdrLen bytes before it that are no longer needed (the ESP
// header and IV it was decrypted from): the virtio_net_hdr goes there.
void Engine::writeTun(Conn& c, uint8_t* pkt, size_t len) {
  ssize_t r;
  if (c.vnet) {
    memset(pkt - kVnetHdrLen, 0, kVnetHdrLen);
    r = write(c.tunFd, pkt - kVnetHdrLen, len + kVnetHdrLen);
  } else {
    r = write(c.tunFd, pkt, len);
  }
  if (r < 0) count(C_TUN_WRITE_ERR);
}

void Engine::flushTun() {
  constexpr size_t kMaxRun = 64;  // segments per coalesced write (iovecs)
  iovec iov[kMaxRun];
  size_t i = 0;
  const size_t qn = tunQn;
  while (i < qn) {
    const TunItem& a = tunQ[i];
    Conn* c = conn(a.conn);
    if (!c) {
      i++;
      continue;
    }
    TcpSeg s0, sj;
    if (c->vnet && kTunGro && tcpCoalesceKey(a.p, a.len, &s0) && !s0.psh) {
      size_t j = i + 1, total = a.len;
      uint32_t nextSeq = s0.seq + uint32_t(s0.payload);
      bool psh = false;
      while (j < qn && j - i < kMaxRun && tunQ[j].conn == a.conn && tcpCoalesceKey(tunQ[j].p, tunQ[j].len, &sj) &&
             sj.seq == nextSeq && sj.payload <= s0.payload && total + sj.payload <= 65535 &&
             tcpSameFlow(a.p, s0, tunQ[j].p, sj)) {
        total += sj.payload;
        nextSeq += uint32_t(sj.payload);
        j++;
        if (sj.psh || sj.payload < s0.payload) {  // PSH or a short segment ends the run
          psh = sj.psh;
          break;
        }
      }
      if (j > i + 1) {
        // one super-packet: virtio_net_hdr (in the first packet's headroom) ‖ first packet
        // with fixed headers ‖ the other segments' payloads, gathered by writev (no copy)
        VnetHdr h;
        tcpCoalesceFinish(a.p, total, s0, psh, &h);
        memcpy(a.p - kVnetHdrLen, &h, kVnetHdrLen);
        iov[0] = {a.p - kVnetHdrLen, a.len + kVnetHdrLen};
        for (size_t m = i + 1; m < j; m++) iov[m - i] = {tunQ[m].p + s0.hdrLen, tunQ[m].len - s0.hdrLen};
        if (writev(c->tunFd, iov, int(j - i)) < 0) count(C_TUN_WRITE_ERR);
        else count(C_TUN_GSO_WRITES);
        i = j;
        continue;
      }
    }
    writeTun(*c, a.p, a.len);
    i++;
  }
  tunQn = 0;
}

// ---------------------------------------------------------------------------------------------
// Test hooks
// ---------------------------------------------------------------------------------------------

int Engine::testSeal(uint32_t spi, const uint8_t* payload, size_t len, uint8_t nh, uint64_t seq, size_t splitAt,
                     std::vector<uint8_t>* out) {
  UniqueGuard g(mu_);
  Sa* sa = findSa(spi, true);
  if (!sa) return DROP_NO_SA;
  if (len > kMaxPkt) return DROP_TOO_BIG;
  std::vector<uint8_t> buf(kHead + len + 128);
  memcpy(buf.data() + kHead, payload, len);
  if (seq) sa->seq = seq - 1;
  uint8_t* o;
  size_t olen;
  int r;
  if (splitAt && splitAt < len) {
    // as the TSO path does: head in the slot, body in a buffer of its own
    std::vector<uint8_t> body(payload + splitAt, payload + len);
    r = espSealSplit(*sa, buf.data() + kHead, splitAt, body.data(), body.size(), nh, &o, &olen);
  } else {
    r = espSeal(*sa, buf.data() + kHead, len, nh, &o, &olen);
  }
  if (r != DROP_NONE) return r;
  countUse(*sa, len, nowMs());
  checkSeq(*sa);
  out->assign(o, o + olen);
  return DROP_NONE;
}

int64_t Engine::benchEsp(uint32_t spi, bool outbound, const uint8_t* pkt, size_t len, uint64_t count, int* err) {
  UniqueGuard g(mu_);
  *err = DROP_NONE;
  Sa* sa = findSa(spi, outbound);
  if (!sa) {
    *err = DROP_UNKNOWN_SPI;
    return -1;
  }
  if (len > kMaxPkt) {
    *err = DROP_TOO_BIG;
    return -1;
  }
  const size_t slotSize = (kHead + len + 128 + 63) & ~size_t(63);
  std::vector<uint8_t> bufv(kBatch * slotSize);
  timespec t0, t1;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  for (uint64_t i = 0; i < count; i++) {
    uint8_t* slot = bufv.data() + (i % kBatch) * slotSize + kHead;
    int r;
    if (outbound) {
      memcpy(slot, pkt, len);
      uint8_t* o;
      size_t olen;
      r = espSeal(*sa, slot, len, 4, &o, &olen);
    } else {
      memcpy(slot, pkt, len);
      uint8_t* in;
      size_t inLen;
      uint8_t nh;
      uint64_t seq;
      r = espOpen(*sa, slot, len, &in, &inLen, &nh, &seq);
    }
    if (r != DROP_NONE) {
      *err = r;
      return -1;
    }
  }
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  return int64_t(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
}

int Engine::testInbound(const uint8_t* pkt, size_t len, const SockAddr& src, std::vector<uint8_t>* inner,
                        uint8_t* nh, uint64_t* seq) {
  UniqueGuard g(mu_);
  std::vector<uint8_t> buf(pkt, pkt + len);
  uint8_t* in = nullptr;
  size_t inLen = 0;
  *nh = 0;
  *seq = 0;
  int r = processEsp(buf.data(), len, src, false, &in, &inLen, nh, seq);
  if (in && (r == DROP_NONE || r == DROP_DUMMY || r == DROP_POLICY)) inner->assign(in, in + inLen);
  return r;
}

}  // namespace ikegw
