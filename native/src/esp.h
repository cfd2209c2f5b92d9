// ESP (RFC 4303) sealing and opening for one SA, in place, with OpenSSL EVP from Node's own
// binary. Byte format (must match src/esp/packet.ts):
//
//   SPI(4) ‖ Seq low 32 (4) ‖ IV ‖ ciphertext(payload ‖ pad 1,2,3,… ‖ padLen ‖ nextHeader) ‖ ICV
//
// AEAD (AES-GCM-16 RFC 4106, ChaCha20-Poly1305 RFC 7634): key = enc key ‖ 4-byte salt;
//   IV (8) = 64-bit sequence number big-endian; nonce = salt ‖ IV;
//   AAD = SPI ‖ SeqLow (8) or, with ESN, SPI ‖ SeqHi ‖ SeqLow (12);
//   pad so that payload+2 is a multiple of 4, minimal monotonic pad 1,2,3,…; ICV 16.
// AES-CBC (RFC 3602) + HMAC-SHA2 (RFC 4868): 16-byte random IV; pad to 16;
//   ICV = HMAC over SPI ‖ Seq ‖ IV ‖ ciphertext (‖ SeqHi with ESN), truncated to 16/24/32.
//
// An Sa is used by exactly one data thread (outbound SAs by the TUN reader, inbound SAs by
// the UDP reader); its EVP contexts are keyed once at creation and only re-IV'd per packet.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "netutil.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;
typedef struct gcm128_context GCM128_CONTEXT;

namespace ikegw {

// IANA transform IDs (src/ike/wire/constants.ts)
enum : int { ENCR_AES_CBC = 12, ENCR_AES_GCM_16 = 20, ENCR_CHACHA20_POLY1305 = 28 };
enum : int {
  INTEG_NONE = 0,
  INTEG_HMAC_SHA2_256_128 = 12,
  INTEG_HMAC_SHA2_384_192 = 13,
  INTEG_HMAC_SHA2_512_256 = 14
};

/** Drop reasons, numbered; names match DropReason in src/common/errors.ts. */
enum Drop : int {
  DROP_NONE = 0,
  DROP_MALFORMED,
  DROP_UNKNOWN_SPI,
  DROP_REPLAY,
  DROP_AUTH_FAILED,
  DROP_POLICY,
  DROP_NO_ROUTE,
  DROP_NO_SA,
  DROP_TOO_BIG,
  DROP_DUMMY,
  DROP_TX_ERROR,
  DROP__COUNT
};
const char* dropName(int d);

/** RFC 4303 §3.4.3 anti-replay with an RFC 6479 bitmap and Appendix A2.2 ESN inference. */
class ReplayWindow {
 public:
  static constexpr uint32_t kMax = 4096;
  void init(uint32_t size, bool esn);
  /** no state change; false = replayed / too old / zero. *seq gets the inferred 64-bit value */
  bool check(uint32_t seqLow, uint64_t* seq) const;
  /** re-checks, then records seq. false = drop as replay */
  bool commit(uint64_t seq);
  uint64_t top() const { return top_; }

 private:
  bool checkFull(uint64_t s) const;
  uint32_t size_ = 0;   // W; 0 = disabled
  uint32_t w_ = 64;     // window used for ESN inference
  bool esn_ = false;
  uint64_t top_ = 0;
  uint32_t mask_ = 0;   // N - 1 (64-bit words)
  std::vector<uint64_t> bits_;
};

/** One traffic selector (RFC 7296 §3.13.1) as the inbound policy check uses it. */
struct TsSel {
  uint8_t family = 4;     // 4 or 6
  uint8_t proto = 0;      // 0 = any
  uint16_t startPort = 0, endPort = 65535;  // start > end: OPAQUE (matches only packets without ports)
  uint8_t start[16] = {0}, end[16] = {0};   // big-endian, 4 or 16 bytes used
};
constexpr size_t kMaxTs = 16;

/** true when the inner IP packet's source ∈ one of p.remoteTs and destination ∈ one of p.localTs
 *  (protocol and ports too; packets without ports — ICMP, fragments, other protocols — are
 *  matched on addresses and protocol only). Always true when both lists are empty. */
struct SaParams;
bool tsAllowed(const SaParams& p, const uint8_t* pkt, size_t len);

struct SaParams {
  uint32_t spi = 0;
  bool outbound = false;
  uint32_t conn = 0;
  int encr = 0;
  int integ = 0;
  std::vector<uint8_t> encKey;    // ‖ salt for AEAD
  std::vector<uint8_t> integKey;  // CBC only
  bool esn = false;
  uint32_t replayWindow = 0;
  SockAddr local, remote;
  bool encap = true;
  uint64_t softBytes = 0, hardBytes = 0, softPackets = 0, hardPackets = 0;  // 0 = none
  // inbound traffic selectors (RFC 4301 §5.2): after decryption the inner source must lie in
  // one of remoteTs and the inner destination in one of localTs; none on either side = no check
  uint8_t nLocalTs = 0, nRemoteTs = 0;
  TsSel localTs[kMaxTs], remoteTs[kMaxTs];
  // AES-GCM only: true = always EVP; false = the GCM128 fast path when usable (esp.cc)
  bool forceEvp = false;
};

struct Sa {
  SaParams p;
  EVP_CIPHER_CTX* ctx = nullptr;
  EVP_MAC_CTX* mac = nullptr;
  // AES-GCM fast path (see esp.cc): OpenSSL's GCM128 + AES-NI key schedule, no EVP/OSSL_PARAM
  // plumbing per packet; nullptr = EVP
  GCM128_CONTEXT* gcm = nullptr;
  void* gcmKey = nullptr;
  bool gcmStitch = false;  // stitched AES-NI/AVX bulk (aesni_gcm_encrypt/decrypt) usable
  bool aead = true;
  uint8_t salt[4] = {0};
  size_t ivLen = 8, icvLen = 16, block = 4;
  // outbound: last sequence number used (next = seq + 1)
  uint64_t seq = 0;
  // inbound
  ReplayWindow replay;
  int sock = -1;  // index of the Engine UDP socket used to send (outbound)
  // counters (single writer; relaxed loads from the JS thread)
  std::atomic<uint64_t> bytes{0}, packets{0}, lastUsedMs{0};
  bool softFired = false, hardFired = false, seqSoftFired = false, seqHardFired = false;
  SockAddr lastMapping;  // last remote endpoint reported in a mapping event

  ~Sa();
};

/** Which OpenSSL code seals/opens this SA: "gcm128-aesni" (AES-GCM fast path), "evp", "evp+hmac". */
const char* cipherImpl(const Sa& sa);

/** Create and key an SA; returns nullptr and sets *err on bad parameters. */
std::unique_ptr<Sa> makeSa(SaParams&& p, std::string* err);

/** Space ESP needs in front of the payload (SPI, Seq, IV) and after it (pad, trailer, ICV). */
constexpr size_t kEspHeadroom = 8 + 16;
constexpr size_t kEspTailroom = 15 + 2 + 32;

/** Largest inner payload that still fits in `outerMtu` bytes of ESP. */
size_t espMaxPayload(const Sa& sa, size_t espBudget);

/**
 * Seal `len` bytes at `payload` in place (needs kEspHeadroom before and kEspTailroom after).
 * Uses sequence number sa.seq + 1. On success *out / *outLen describe the ESP packet.
 * Returns DROP_NONE, or DROP_NO_SA when the sequence space is exhausted.
 */
int espSeal(Sa& sa, uint8_t* payload, size_t len, uint8_t nextHeader, uint8_t** out, size_t* outLen);

/**
 * espSeal of the payload headLen bytes at `payload` ‖ bodyLen bytes at `body` (a separate
 * buffer, e.g. a TSO super-packet): the result lands at `payload` as with espSeal (room for
 * headLen + bodyLen + kEspTailroom after it). AEAD encrypts the body straight from its
 * buffer; CBC copies it first.
 */
int espSealSplit(Sa& sa, uint8_t* payload, size_t headLen, const uint8_t* body, size_t bodyLen, uint8_t nextHeader,
                 uint8_t** out, size_t* outLen);

/**
 * Open the ESP packet `pkt` in place (authenticate, replay-check, decrypt, strip trailer).
 * Returns DROP_NONE and sets *inner / *innerLen / *nextHeader / *seq, or a drop reason.
 * The replay window is committed only after the ICV has verified.
 */
int espOpen(Sa& sa, uint8_t* pkt, size_t len, uint8_t** inner, size_t* innerLen, uint8_t* nextHeader,
            uint64_t* seq);

}  // namespace ikegw
