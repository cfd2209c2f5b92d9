// Engine: the per-process native data path. See the pipeline description at the top of
// dataplane.cc. The Engine knows nothing about N-API; addon.cc wraps it.
#pragma once
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "esp.h"
#include "netutil.h"

namespace ikegw {

/** Writer-preferring rwlock: data threads hold it shared per batch, control calls exclusively. */
class RwLock {
 public:
  RwLock();
  ~RwLock();
  void lockShared() { pthread_rwlock_rdlock(&l_); }
  void lock() { pthread_rwlock_wrlock(&l_); }
  void unlock() { pthread_rwlock_unlock(&l_); }

 private:
  pthread_rwlock_t l_;
};
struct SharedGuard {
  explicit SharedGuard(RwLock& l) : l_(l) { l_.lockShared(); }
  ~SharedGuard() { l_.unlock(); }
  RwLock& l_;
};
struct UniqueGuard {
  explicit UniqueGuard(RwLock& l) : l_(l) { l_.lock(); }
  ~UniqueGuard() { l_.unlock(); }
  RwLock& l_;
};

struct Event {
  enum Kind { IKE, MAPPING, EXPIRE, ACQUIRE } kind = IKE;
  uint32_t spi = 0;
  bool outbound = false;
  bool hard = false;
  const char* reason = "";
  int conn = -1;
  int sock = -1;
  SockAddr remote, local;
  std::vector<uint8_t> data;
};

enum Counter : int {
  C_RX_DATAGRAMS,   // UDP datagrams (GRO segments counted individually)
  C_RX_ESP,         // ESP packets decrypted and accepted
  C_RX_ESP_BYTES,   // inner bytes delivered to TUNs
  C_TX_ESP,         // ESP packets sealed and handed to the socket
  C_TX_ESP_BYTES,   // inner bytes sealed
  C_TUN_READ,       // packets read from TUNs
  C_KEEPALIVE,      // NAT keepalives (RFC 3948 §2.3) received
  C_IKE_IN,         // IKE datagrams handed to JS
  C_IKE_OUT,        // IKE datagrams sent for JS
  C_IKE_QUEUE_FULL, // IKE datagrams dropped because JS did not drain events
  C_GSO_SENDS,      // sendmmsg messages carrying more than one segment (UDP_SEGMENT)
  C_GRO_DATAGRAMS,  // received coalesced (UDP_GRO) datagrams
  C_TUN_WRITE_ERR,  // failed writes to a TUN
  C_ICMP_TOO_BIG,   // ICMP frag-needed / packet-too-big written back into a TUN
  C_SEND_BATCHES,   // sendmmsg calls
  C_RX_RAW,         // raw ESP (IP protocol 50) packets received on the raw sockets
  C_TX_RAW,         // raw ESP packets handed to the raw sockets
  C_TUN_GSO_READS,  // TCP super-packets (TSO, IFF_VNET_HDR) read from TUNs and split here
  C_TUN_GSO_WRITES, // coalesced TCP super-packets written to TUNs
  C_TRAP_HELD,      // packets held by trap connections while they had no outbound SA
  C_TRAP_SENT,      // held packets sealed and sent when an outbound SA became current
  C__COUNT
};
const char* counterName(int c);

class Engine {
 public:
  Engine();
  ~Engine();

  /** Called (from any thread) when events become pending; the owner then calls takeEvents(). */
  std::function<void()> notify;

  // ---- control (JS thread) ----
  int openUdp(const SockAddr& bind, bool espInUdp, std::string* err);
  bool sockName(int idx, SockAddr* out, bool* espInUdp);
  /** maxPacket: largest inner packet sent into the tunnel (0 = mtu); pathMtu: outer path MTU
   *  (0 = none), which further caps it at what fits in one outer packet with the current SA's
   *  ESP (and UDP) overhead. Bigger DF IPv4 / any IPv6 packets get ICMP too-big back.
   *  trap: while the connection has no usable outbound SA, up to kTrapQueue packets (none older
   *  than kTrapMaxAgeMs) are held instead of dropped and sent first by activateOutbound. */
  int addConnection(int tunFd, uint32_t mtu, int mss, uint32_t maxPacket, uint32_t pathMtu, bool trap,
                    std::string* err);
  static constexpr size_t kTrapQueue = 16;
  static constexpr uint64_t kTrapMaxAgeMs = 3000;
  bool removeConnection(int idx);
  bool setConnection(int idx, uint32_t mtu, int mss, uint32_t maxPacket, uint32_t pathMtu);
  /** largest inner packet the connection currently seals (0 = unknown connection) */
  uint32_t connectionLimit(int idx);
  bool addSa(SaParams&& p, std::string* err);
  bool delSa(uint32_t spi, bool outbound);
  bool activateOutbound(int conn, uint32_t spi, std::string* err);
  bool updateSa(uint32_t spi, bool outbound, const SockAddr* remote, int encap, std::string* err);
  bool querySa(uint32_t spi, bool outbound, uint64_t* bytes, uint64_t* packets, uint64_t* lastUsedMs,
               const char** impl);
  // raw = true: no non-ESP marker (NAT keepalive, RFC 3948 §2.3)
  bool sendIke(int sock, const uint8_t* data, size_t len, const SockAddr& remote, const SockAddr* local,
               std::string* err, bool raw = false);
  bool start(std::string* err);
  void stop();
  /** stop(), then delete every SA (keys zeroized), close every TUN fd and UDP socket */
  void close();
  bool running() const { return running_; }
  /** nice value for the two data threads, applied when they start (0 = inherit) */
  void setThreadNice(int n) { threadNice_ = n; }
  /** nice value the data threads actually run at (INT32_MIN before start) */
  int appliedNice() const { return appliedNice_.load(std::memory_order_relaxed); }
  std::vector<Event> takeEvents();
  uint64_t counter(int c) const { return counters_[c].load(std::memory_order_relaxed); }
  uint64_t drops(int d) const { return drops_[d].load(std::memory_order_relaxed); }
  size_t saCount();

  // ---- test hooks (JS thread, synchronous, exclusive lock) ----
  /** seal `payload` with outbound SA `spi`; seq != 0 forces that sequence number */
  int testSeal(uint32_t spi, const uint8_t* payload, size_t len, uint8_t nh, uint64_t seq, size_t splitAt,
               std::vector<uint8_t>* out);
  /** run one UDP payload through the inbound path (as if received from `src` on socket
   *  `sock`, or as a bare ESP packet when sock < 0); the inner packet is returned instead of
   *  being written to the TUN */
  int testInbound(const uint8_t* pkt, size_t len, const SockAddr& src, std::vector<uint8_t>* inner,
                  uint8_t* nh, uint64_t* seq);

  /** micro-benchmark of the data path's seal/open (no N-API per packet): `count` times copy
   *  `pkt` into one of 64 slots and seal it (outbound SA; pkt = inner packet) or open it
   *  (inbound SA; pkt = ESP packet, anti-replay must be off). Returns the calling thread's CPU
   *  nanoseconds, or -1 when a packet fails (*err = drop reason). */
  int64_t benchEsp(uint32_t spi, bool outbound, const uint8_t* pkt, size_t len, uint64_t count, int* err);

  static uint64_t nowMs();

 private:
  struct UdpSock {
    int fd = -1;
    SockAddr bound;
    bool espInUdp = true;
    bool gso = false;
    bool gro = false;
  };
  struct Conn {
    int tunFd = -1;
    uint32_t gen = 0;
    uint32_t mtu = 1400;
    uint16_t mss = 0;        // fixed clamp; 0 = off (unless mssAuto)
    bool mssAuto = false;    // clamp = packet limit − 40 (IPv4) / − 60 (IPv6), see clampTcp
    uint32_t maxPacket = 0;  // 0 = mtu
    uint32_t pathMtu = 0;    // 0 = no outer path MTU cap
    bool vnet = false;       // TUN opened with IFF_VNET_HDR (offloads): virtio_net_hdr on every packet
    Sa* out = nullptr;
    uint64_t lastAcquireMs = 0;
    // trap connections: packets held while there is no outbound SA (ring, oldest at heldHead;
    // touched by the outbound thread under the shared lock, by control calls exclusively)
    bool trap = false;
    struct Held {
      std::vector<uint8_t> buf;  // kHead headroom ‖ packet ‖ ESP tailroom; capacity reused
      size_t len = 0;
      uint64_t ms = 0;
    };
    Held held[kTrapQueue];
    size_t heldHead = 0, heldN = 0;
  };
  static uint64_t key(uint32_t spi, bool outbound) { return (uint64_t(outbound) << 32) | spi; }
  Sa* findSa(uint32_t spi, bool outbound);
  Conn* conn(int idx);
  int pickSocket(const SaParams& p);
  void outboundLoop();
  void inboundLoop();
  void processTun(int idx, uint32_t gen);
  void processSocket(int idx);
  void processRaw(int fam);
  bool openRaw(int family, std::string* err);
  void sendRaw(int fd, const SockAddr& dst, const SockAddr* src, uint8_t** pkts, const size_t* lens, size_t n);
  uint32_t packetLimit(const Conn& c, const Sa* sa) const;
  /** clamp the MSS of a TCP SYN in p per the connection's setting; limit = packetLimit() (auto only) */
  void clampTcp(const Conn& c, uint32_t limit, uint8_t* p, size_t len) const;
  void processDatagram(int sock, uint8_t* d, size_t len, const SockAddr& src, const SockAddr& local);
  int processEsp(uint8_t* d, size_t len, const SockAddr& src, bool deliver, uint8_t** inner,
                 size_t* innerLen, uint8_t* nh, uint64_t* seq);
  void sendEsp(UdpSock& s, const SockAddr& dst, const SockAddr* src, uint8_t** pkts, const size_t* lens,
               size_t n);
  void countUse(Sa& sa, size_t bytes, uint64_t now);
  void checkSeq(Sa& sa);
  void pushEvent(Event&& e);
  void writeTooBig(Conn& c, const uint8_t* pkt, size_t len, uint32_t mtu);
  /** outbound thread: hold one packet of a trap connection without SA (oldest evicted) */
  void holdPacket(Conn& c, const uint8_t* pkt, size_t len, uint64_t now);
  /** exclusive lock: seal and send the held packets with the connection's new current SA */
  void sendHeld(Conn& c, Sa& sa);
  /** hand sealed ESP packets of `sa` to its socket (UDP or raw) */
  void sendSealed(Sa& sa, uint8_t** pkts, const size_t* lens, size_t n);
  /** data threads: queue a decrypted packet for the connection's TUN (written by flushTun) */
  void queueTun(int conn, uint8_t* pkt, size_t len);
  /** write the queued packets in order; with IFF_VNET_HDR runs of TCP segments go as one */
  void flushTun();
  void writeTun(Conn& c, uint8_t* pkt, size_t len);
  void drop(int reason) { drops_[reason].fetch_add(1, std::memory_order_relaxed); }
  void count(int c, uint64_t n = 1) { counters_[c].fetch_add(n, std::memory_order_relaxed); }

  RwLock mu_;
  std::unordered_map<uint64_t, std::unique_ptr<Sa>> sas_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<UdpSock> socks_;
  int rawFd_[2] = {-1, -1};  // raw ESP sockets (IPPROTO_ESP): [0] IPv4, [1] IPv6; opened on demand
  uint32_t nextGen_ = 1;
  // inbound thread: clock read once per receive batch; last-SPI cache, valid while saGen_
  // (bumped under the exclusive lock whenever the SA table changes) is unchanged
  uint64_t rxNow_ = 0;
  uint64_t saGen_ = 1;
  uint64_t rxCacheGen_ = 0;
  uint32_t rxCacheSpi_ = 0;
  Sa* rxCacheSa_ = nullptr;

  int epOut_ = -1, epIn_ = -1, stopFd_ = -1;
  std::atomic<bool> stop_{false};
  bool running_ = false;
  int threadNice_ = 0;
  std::atomic<int> appliedNice_{INT32_MIN};
  void applyNice();
  std::thread outThread_, inThread_;

  std::mutex evMu_;
  std::vector<Event> events_;
  std::atomic<bool> notifyPending_{false};

  std::atomic<uint64_t> counters_[C__COUNT];
  std::atomic<uint64_t> drops_[DROP__COUNT];
};

}  // namespace ikegw
