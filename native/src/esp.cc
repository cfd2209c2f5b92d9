#include "esp.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/modes.h>
#include <openssl/rand.h>

#include <dlfcn.h>
#include <cstdlib>
#include <cstring>

namespace ikegw {

// ---------------------------------------------------------------------------------------------
// AES-GCM fast path (the default for AES-GCM SAs). OpenSSL 3's EVP costs ~200-300 ns per
// packet in OSSL_PARAM plumbing (EVP_EncryptInit_ex with an IV asks the provider for the IV
// length, the tag is fetched with a ctrl → get_params, each a run of strcmp). GCM128 (public,
// openssl/modes.h) with the AES-NI primitives that Node's statically linked OpenSSL exports
// (aesni_set_encrypt_key, aesni_encrypt, aesni_ctr32_encrypt_blocks; looked up with dlsym)
// does the same GCM with plain calls: ~30 % more tunnel throughput here (bench/README.md).
// Nothing is implemented here: the cipher, the counter mode and GHASH are OpenSSL's.
// Used for an SA only when the symbols exist, the CPU has AES-NI and a self-test against EVP
// at SA creation (one-shot and split updates, odd lengths, tag, decrypt) matches bit for bit;
// otherwise the SA stays on EVP. IKEGW_FAST_GCM=0 (process) or aesGcm 'evp' (per SA) forces EVP.
// ---------------------------------------------------------------------------------------------
namespace {
struct alignas(64) AesKey {
  uint32_t rdKey[60];
  int rounds;
};
using SetKeyFn = int (*)(const unsigned char*, int, AesKey*);
// aesni_gcm_{en,de}crypt(in, out, len, key, Yi, Xi) → bytes done (stitched AES-CTR + GHASH)
using StitchFn = size_t (*)(const unsigned char*, unsigned char*, size_t, const void*, unsigned char*, uint64_t*);
struct FastGcm {
  SetKeyFn setKey = nullptr;
  block128_f block = nullptr;
  ctr128_f ctr = nullptr;
  bool ok = false;
  // stitched bulk as OpenSSL 3.0's provider does it (AES_GCM_ASM): needs the 3.0
  // gcm128_context layout; used only when the context's ghash pointer is gcm_ghash_avx where
  // that layout puts it (and the self-test passes)
  StitchFn enc = nullptr, dec = nullptr;
  void* ghashAvx = nullptr;
};
// OpenSSL 3.0 struct gcm128_context: Yi, EKi, EK0, len, Xi, H (16 bytes each), Htable[16]
// (256), gmult, ghash, mres, ares, block, key
constexpr size_t kGcmYi = 0, kGcmLen = 48, kGcmXi = 64, kGcmGhash = 96 + 256 + 8, kGcmMres = kGcmGhash + 8;
const FastGcm& fastGcm() {
  static const FastGcm f = [] {
    FastGcm f;
    // on unless IKEGW_FAST_GCM=0: it reaches below EVP (exported but internal AES-NI
    // routines), so operators keep a switch back to plain EVP
    const char* v = getenv("IKEGW_FAST_GCM");
    if (v && strcmp(v, "0") == 0) return f;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("aes")) return f;
    f.setKey = reinterpret_cast<SetKeyFn>(dlsym(RTLD_DEFAULT, "aesni_set_encrypt_key"));
    f.block = reinterpret_cast<block128_f>(dlsym(RTLD_DEFAULT, "aesni_encrypt"));
    f.ctr = reinterpret_cast<ctr128_f>(dlsym(RTLD_DEFAULT, "aesni_ctr32_encrypt_blocks"));
    f.ok = f.setKey && f.block && f.ctr;
    // the stitched bulk depends on OpenSSL 3.0's private gcm128_context layout: opt-in only
    const char* st = getenv("IKEGW_FAST_GCM_STITCH");
    if ((st && strcmp(st, "1") == 0) && strncmp(OpenSSL_version(OPENSSL_VERSION_STRING), "3.0.", 4) == 0) {
      f.enc = reinterpret_cast<StitchFn>(dlsym(RTLD_DEFAULT, "aesni_gcm_encrypt"));
      f.dec = reinterpret_cast<StitchFn>(dlsym(RTLD_DEFAULT, "aesni_gcm_decrypt"));
      f.ghashAvx = dlsym(RTLD_DEFAULT, "gcm_ghash_avx");
      if (!f.enc || !f.dec || !f.ghashAvx) f.enc = f.dec = nullptr;
    }
#endif
    return f;
  }();
  return f;
}

// CRYPTO_gcm128_{en,de}crypt_ctr32 with the stitched bulk in front (OpenSSL 3.0
// generic_aes_gcm_cipher_update): ≥ 288 bytes (encrypt) / 96 (decrypt) go through
// aesni_gcm_{en,de}crypt when the SA may use it
int gcmCrypt(Sa& sa, const uint8_t* in, uint8_t* out, size_t len, bool enc) {
  const FastGcm& f = fastGcm();
  size_t bulk = 0;
  if (sa.gcmStitch && len >= (enc ? 288u : 96u)) {
    uint8_t* g = reinterpret_cast<uint8_t*>(sa.gcm);
    unsigned int mres;
    memcpy(&mres, g + kGcmMres, sizeof mres);
    size_t res = (16 - mres) % 16;
    if (res > len) res = len;
    if ((enc ? CRYPTO_gcm128_encrypt : CRYPTO_gcm128_decrypt)(sa.gcm, in, out, res) != 0) return -1;
    bulk = (enc ? f.enc : f.dec)(in + res, out + res, len - res, sa.gcmKey, g + kGcmYi, reinterpret_cast<uint64_t*>(g + kGcmXi));
    uint64_t* lenU1 = reinterpret_cast<uint64_t*>(g + kGcmLen + 8);
    *lenU1 += bulk;
    bulk += res;
  }
  return (enc ? CRYPTO_gcm128_encrypt_ctr32 : CRYPTO_gcm128_decrypt_ctr32)(sa.gcm, in + bulk, out + bulk, len - bulk, f.ctr);
}
int gcmEncrypt(Sa& sa, const uint8_t* in, uint8_t* out, size_t len) { return gcmCrypt(sa, in, out, len, true); }
int gcmDecrypt(Sa& sa, const uint8_t* in, uint8_t* out, size_t len) { return gcmCrypt(sa, in, out, len, false); }

void releaseFast(Sa& sa) {
  sa.gcmStitch = false;
  if (sa.gcm) CRYPTO_gcm128_release(sa.gcm);  // cleanses
  sa.gcm = nullptr;
  if (sa.gcmKey) {
    OPENSSL_cleanse(sa.gcmKey, sizeof(AesKey));
    free(sa.gcmKey);
  }
  sa.gcmKey = nullptr;
}

// Key the fast path and check it against a fresh EVP context: one-shot and split updates,
// odd lengths, tag included. Any difference leaves the SA on EVP.
void setupFast(Sa& sa, const EVP_CIPHER* cipher, const uint8_t* key, size_t keyLen) {
  const FastGcm& f = fastGcm();
  if (!f.ok) return;
  void* mem = aligned_alloc(64, sizeof(AesKey));
  if (!mem) return;
  sa.gcmKey = mem;
  if (f.setKey(key, int(keyLen * 8), static_cast<AesKey*>(mem)) != 0 ||
      !(sa.gcm = CRYPTO_gcm128_new(mem, f.block))) {
    releaseFast(sa);
    return;
  }
  if (f.enc) {
    void* gh = nullptr;
    memcpy(&gh, reinterpret_cast<uint8_t*>(sa.gcm) + kGcmGhash, sizeof gh);
    sa.gcmStitch = gh == f.ghashAvx;
  }
  EVP_CIPHER_CTX* ref = EVP_CIPHER_CTX_new();
  bool same = ref != nullptr;
  uint8_t nonce[12], aad[12], a[1500], b[1500], ta[16], tb[16];
  for (size_t i = 0; i < sizeof nonce; i++) nonce[i] = uint8_t(0xa5 ^ i);
  for (size_t i = 0; i < sizeof aad; i++) aad[i] = uint8_t(i * 7);
  const size_t lens[] = {1, 15, 300, 1403};
  for (size_t li = 0; same && li < 4; li++) {
    size_t n = lens[li];
    for (size_t i = 0; i < n; i++) a[i] = b[i] = uint8_t(i * 13 + li);
    int outl = 0, outl2 = 0;
    same = EVP_EncryptInit_ex(ref, cipher, nullptr, nullptr, nullptr) == 1 &&
           EVP_CIPHER_CTX_ctrl(ref, EVP_CTRL_AEAD_SET_IVLEN, 12, nullptr) == 1 &&
           EVP_EncryptInit_ex(ref, nullptr, nullptr, key, nonce) == 1 &&
           EVP_EncryptUpdate(ref, nullptr, &outl, aad, 12) == 1 && EVP_EncryptUpdate(ref, a, &outl, a, int(n)) == 1 &&
           EVP_EncryptFinal_ex(ref, a + outl, &outl2) == 1 &&
           EVP_CIPHER_CTX_ctrl(ref, EVP_CTRL_AEAD_GET_TAG, 16, ta) == 1;
    if (!same) break;
    CRYPTO_gcm128_setiv(sa.gcm, nonce, 12);
    same = CRYPTO_gcm128_aad(sa.gcm, aad, 12) == 0;
    size_t h = n > 52 ? 52 : n / 2, t = n > 60 ? 3 : 0;  // split like espSealSplit
    same = same && gcmEncrypt(sa, b, b, h) == 0 && gcmEncrypt(sa, b + h, b + h, n - h - t) == 0 &&
           gcmEncrypt(sa, b + n - t, b + n - t, t) == 0;
    CRYPTO_gcm128_tag(sa.gcm, tb, 16);
    same = same && memcmp(a, b, n) == 0 && memcmp(ta, tb, 16) == 0;
    // and back: decrypt + tag check gives the plaintext again
    CRYPTO_gcm128_setiv(sa.gcm, nonce, 12);
    same = same && CRYPTO_gcm128_aad(sa.gcm, aad, 12) == 0 && gcmDecrypt(sa, b, b, n) == 0 &&
           CRYPTO_gcm128_finish(sa.gcm, tb, 16) == 0;
    for (size_t i = 0; same && i < n; i++) same = b[i] == uint8_t(i * 13 + li);
  }
  if (ref) EVP_CIPHER_CTX_free(ref);
  OPENSSL_cleanse(a, sizeof a);
  if (!same) releaseFast(sa);
}
}  // namespace

const char* cipherImpl(const Sa& sa) {
  if (sa.gcm) return sa.gcmStitch ? "gcm128-aesni-stitched" : "gcm128-aesni";
  return sa.aead ? "evp" : "evp+hmac";
}

const char* dropName(int d) {
  switch (d) {
    case DROP_MALFORMED: return "malformed";
    case DROP_UNKNOWN_SPI: return "unknown_spi";
    case DROP_REPLAY: return "replay";
    case DROP_AUTH_FAILED: return "auth_failed";
    case DROP_POLICY: return "policy_mismatch";
    case DROP_NO_ROUTE: return "no_route";
    case DROP_NO_SA: return "no_sa";
    case DROP_TOO_BIG: return "too_big";
    case DROP_DUMMY: return "dummy";
    case DROP_TX_ERROR: return "tx_error";
    default: return "none";
  }
}

// ---------------------------------------------------------------------------------------------
// Replay window
// ---------------------------------------------------------------------------------------------

void ReplayWindow::init(uint32_t size, bool esn) {
  size_ = size;
  esn_ = esn;
  w_ = size == 0 ? 64 : size;
  top_ = 0;
  // N 64-bit words, N a power of two, (N - 1) * 64 >= W  (RFC 6479 §2 with 64-bit blocks)
  uint32_t need = (w_ + 63) / 64 + 1;
  uint32_t n = 2;
  while (n < need) n <<= 1;
  bits_.assign(n, 0);
  mask_ = n - 1;
}

bool ReplayWindow::checkFull(uint64_t s) const {
  if (s == 0) return false;  // RFC 4303 §3.3.3: the first packet is 1
  if (size_ == 0) return true;
  if (s > top_) return true;
  if (top_ - s >= size_) return false;  // S <= T - W: too old
  return !(bits_[(s >> 6) & mask_] & (uint64_t(1) << (s & 63)));
}

bool ReplayWindow::check(uint32_t seqLow, uint64_t* seq) const {
  uint64_t s;
  if (!esn_) {
    s = seqLow;
  } else {
    // RFC 4303 Appendix A2.2
    uint32_t tl = uint32_t(top_), th = uint32_t(top_ >> 32), w = w_;
    uint32_t hi;
    if (tl >= w - 1) {  // case A
      if (seqLow >= tl - w + 1) {
        hi = th;
      } else {
        if (th == 0xffffffffu) return false;
        hi = th + 1;
      }
    } else {  // case B
      if (seqLow >= uint32_t(tl - w + 1)) {
        if (th == 0) return false;
        hi = th - 1;
      } else {
        hi = th;
      }
    }
    s = (uint64_t(hi) << 32) | seqLow;
  }
  *seq = s;
  return checkFull(s);
}

bool ReplayWindow::commit(uint64_t s) {
  if (!checkFull(s)) return false;
  if (size_ == 0) {
    if (s > top_) top_ = s;
    return true;
  }
  if (s > top_) {
    uint64_t oldBlock = top_ >> 6, newBlock = s >> 6;
    uint64_t diff = newBlock - oldBlock;
    if (diff > uint64_t(mask_) + 1) diff = uint64_t(mask_) + 1;
    for (uint64_t i = 1; i <= diff; i++) bits_[(oldBlock + i) & mask_] = 0;
    top_ = s;
  }
  bits_[(s >> 6) & mask_] |= uint64_t(1) << (s & 63);
  return true;
}

// ---------------------------------------------------------------------------------------------
// SA setup
// ---------------------------------------------------------------------------------------------

Sa::~Sa() {
  releaseFast(*this);
  if (ctx) EVP_CIPHER_CTX_free(ctx);  // cleanses the key schedule
  if (mac) EVP_MAC_CTX_free(mac);
  if (!p.encKey.empty()) OPENSSL_cleanse(p.encKey.data(), p.encKey.size());
  if (!p.integKey.empty()) OPENSSL_cleanse(p.integKey.data(), p.integKey.size());
  OPENSSL_cleanse(salt, sizeof salt);
}

std::unique_ptr<Sa> makeSa(SaParams&& params, std::string* err) {
  auto sa = std::make_unique<Sa>();
  sa->p = std::move(params);
  SaParams& p = sa->p;
  const EVP_CIPHER* cipher = nullptr;
  size_t ek = p.encKey.size();
  if (p.encr == ENCR_AES_GCM_16 || p.encr == ENCR_CHACHA20_POLY1305) {
    if (p.integ != INTEG_NONE) { *err = "AEAD suites take no integrity algorithm"; return nullptr; }
    if (p.encr == ENCR_AES_GCM_16) {
      cipher = ek == 20 ? EVP_aes_128_gcm() : ek == 28 ? EVP_aes_192_gcm() : ek == 36 ? EVP_aes_256_gcm() : nullptr;
    } else {
      cipher = ek == 36 ? EVP_chacha20_poly1305() : nullptr;
    }
    if (!cipher) { *err = "bad AEAD key length (enc key ‖ 4-byte salt expected)"; return nullptr; }
    sa->aead = true;
    sa->ivLen = 8;
    sa->icvLen = 16;
    sa->block = 4;
    memcpy(sa->salt, p.encKey.data() + ek - 4, 4);
  } else if (p.encr == ENCR_AES_CBC) {
    cipher = ek == 16 ? EVP_aes_128_cbc() : ek == 24 ? EVP_aes_192_cbc() : ek == 32 ? EVP_aes_256_cbc() : nullptr;
    if (!cipher) { *err = "bad AES-CBC key length"; return nullptr; }
    const char* digest;
    size_t klen;
    switch (p.integ) {
      case INTEG_HMAC_SHA2_256_128: digest = "SHA256"; klen = 32; sa->icvLen = 16; break;
      case INTEG_HMAC_SHA2_384_192: digest = "SHA384"; klen = 48; sa->icvLen = 24; break;
      case INTEG_HMAC_SHA2_512_256: digest = "SHA512"; klen = 64; sa->icvLen = 32; break;
      default: *err = "AES-CBC needs HMAC-SHA2-256/384/512 integrity"; return nullptr;
    }
    if (p.integKey.size() != klen) { *err = "bad integrity key length"; return nullptr; }
    sa->aead = false;
    sa->ivLen = 16;
    sa->block = 16;
    EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (!m) { *err = "HMAC unavailable in OpenSSL"; return nullptr; }
    sa->mac = EVP_MAC_CTX_new(m);
    EVP_MAC_free(m);
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
                            OSSL_PARAM_construct_end()};
    if (!sa->mac || EVP_MAC_init(sa->mac, p.integKey.data(), p.integKey.size(), params) != 1) {
      *err = "HMAC init failed";
      return nullptr;
    }
  } else {
    *err = "unsupported ESP encryption algorithm " + std::to_string(p.encr);
    return nullptr;
  }
  sa->ctx = EVP_CIPHER_CTX_new();
  if (!sa->ctx || EVP_CipherInit_ex(sa->ctx, cipher, nullptr, nullptr, nullptr, p.outbound ? 1 : 0) != 1) {
    *err = "cipher init failed";
    return nullptr;
  }
  if (sa->aead && EVP_CIPHER_CTX_ctrl(sa->ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, nullptr) != 1) {
    *err = "cipher IV length";
    return nullptr;
  }
  if (EVP_CipherInit_ex(sa->ctx, nullptr, nullptr, p.encKey.data(), nullptr, -1) != 1) {
    *err = "cipher key init failed";
    return nullptr;
  }
  if (!sa->aead) EVP_CIPHER_CTX_set_padding(sa->ctx, 0);
  if (p.encr == ENCR_AES_GCM_16 && !p.forceEvp) setupFast(*sa, cipher, p.encKey.data(), p.encKey.size() - 4);
  sa->replay.init(p.replayWindow, p.esn);
  return sa;
}

size_t espMaxPayload(const Sa& sa, size_t budget) {
  size_t fixed = 8 + sa.ivLen + sa.icvLen;
  if (budget < fixed + sa.block) return 0;
  size_t avail = budget - fixed;
  avail -= avail % sa.block;
  return avail - 2;
}

// ---------------------------------------------------------------------------------------------
// Seal / open
// ---------------------------------------------------------------------------------------------

int espSeal(Sa& sa, uint8_t* payload, size_t len, uint8_t nextHeader, uint8_t** out, size_t* outLen) {
  return espSealSplit(sa, payload, len, nullptr, 0, nextHeader, out, outLen);
}

int espSealSplit(Sa& sa, uint8_t* payload, size_t headLen, const uint8_t* body, size_t bodyLen, uint8_t nextHeader,
                 uint8_t** out, size_t* outLen) {
  if (body && !sa.aead) {  // block ciphers buffer partial blocks: gather first
    memcpy(payload + headLen, body, bodyLen);
    headLen += bodyLen;
    body = nullptr;
    bodyLen = 0;
  }
  const size_t len = headLen + bodyLen;
  // AEAD split: move the first bytes of the body up to the head's 16-byte boundary and the
  // body's last partial block down next to the trailer, so the cipher runs on three
  // block-aligned pieces (head ‖ body start | body middle straight from its buffer | body
  // tail ‖ trailer) and computes one partial keystream block instead of three.
  size_t aLen = headLen, mLen = bodyLen;
  if (body) {
    size_t r = (16 - headLen % 16) % 16;
    if (r > bodyLen) r = bodyLen;
    memcpy(payload + headLen, body, r);
    aLen = headLen + r;
    mLen = bodyLen - r;
    size_t tail = mLen % 16;
    mLen -= tail;
    memcpy(payload + aLen + mLen, body + r + mLen, tail);
    body += r;
  }
  uint64_t next = sa.seq + 1;
  // RFC 4303 §3.3.3: the counter must not cycle; the SA is dead once it is exhausted.
  if ((!sa.p.esn && next > 0xffffffffull) || next == 0) return DROP_NO_SA;
  sa.seq = next;
  size_t pad = (sa.block - ((len + 2) % sa.block)) % sa.block;
  uint8_t* t = payload + len;
  for (size_t i = 0; i < pad; i++) t[i] = uint8_t(i + 1);
  t[pad] = uint8_t(pad);
  t[pad + 1] = nextHeader;
  size_t ctLen = len + pad + 2;
  uint8_t* hdr = payload - sa.ivLen - 8;
  uint32_t spi = sa.p.spi, lo = uint32_t(next), hi = uint32_t(next >> 32);
  wr32(hdr, spi);
  wr32(hdr + 4, lo);
  uint8_t* iv = hdr + 8;
  int outl = 0, outl2 = 0;
  if (sa.aead) {
    wr32(iv, hi);
    wr32(iv + 4, lo);
    uint8_t nonce[12];
    memcpy(nonce, sa.salt, 4);
    memcpy(nonce + 4, iv, 8);
    uint8_t aad[12];
    int aadLen;
    wr32(aad, spi);
    if (sa.p.esn) {
      wr32(aad + 4, hi);
      wr32(aad + 8, lo);
      aadLen = 12;
    } else {
      wr32(aad + 4, lo);
      aadLen = 8;
    }
    if (sa.gcm) {
      CRYPTO_gcm128_setiv(sa.gcm, nonce, 12);
      if (CRYPTO_gcm128_aad(sa.gcm, aad, size_t(aadLen)) != 0) return DROP_TX_ERROR;
      if (body) {
        if (gcmEncrypt(sa, payload, payload, aLen) != 0 || (mLen && gcmEncrypt(sa, body, payload + aLen, mLen) != 0) ||
            gcmEncrypt(sa, payload + aLen + mLen, payload + aLen + mLen, ctLen - aLen - mLen) != 0)
          return DROP_TX_ERROR;
      } else if (gcmEncrypt(sa, payload, payload, ctLen) != 0) {
        return DROP_TX_ERROR;
      }
      CRYPTO_gcm128_tag(sa.gcm, payload + ctLen, 16);
      *out = hdr;
      *outLen = 8 + sa.ivLen + ctLen + sa.icvLen;
      return DROP_NONE;
    }
    if (EVP_EncryptInit_ex(sa.ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
        EVP_EncryptUpdate(sa.ctx, nullptr, &outl, aad, aadLen) != 1)
      return DROP_TX_ERROR;
    if (body) {
      // stream cipher (AEAD): head in place, body from its own buffer, then the trailer
      int o1 = 0, o2 = 0, o3 = 0;
      if ((aLen && EVP_EncryptUpdate(sa.ctx, payload, &o1, payload, int(aLen)) != 1) ||
          (mLen && EVP_EncryptUpdate(sa.ctx, payload + aLen, &o2, body, int(mLen)) != 1) ||
          EVP_EncryptUpdate(sa.ctx, payload + aLen + mLen, &o3, payload + aLen + mLen, int(ctLen - aLen - mLen)) != 1)
        return DROP_TX_ERROR;
      outl = o1 + o2 + o3;
    } else if (EVP_EncryptUpdate(sa.ctx, payload, &outl, payload, int(ctLen)) != 1) {
      return DROP_TX_ERROR;
    }
    if (EVP_EncryptFinal_ex(sa.ctx, payload + outl, &outl2) != 1 ||
        EVP_CIPHER_CTX_ctrl(sa.ctx, EVP_CTRL_AEAD_GET_TAG, 16, payload + ctLen) != 1)
      return DROP_TX_ERROR;
  } else {
    if (RAND_bytes(iv, 16) != 1) return DROP_TX_ERROR;
    if (EVP_EncryptInit_ex(sa.ctx, nullptr, nullptr, nullptr, iv) != 1 ||
        EVP_EncryptUpdate(sa.ctx, payload, &outl, payload, int(ctLen)) != 1 ||
        EVP_EncryptFinal_ex(sa.ctx, payload + outl, &outl2) != 1)
      return DROP_TX_ERROR;
    uint8_t md[64];
    size_t mdLen = 0;
    uint8_t seqHi[4];
    wr32(seqHi, hi);
    if (EVP_MAC_init(sa.mac, nullptr, 0, nullptr) != 1 || EVP_MAC_update(sa.mac, hdr, 8 + 16 + ctLen) != 1 ||
        (sa.p.esn && EVP_MAC_update(sa.mac, seqHi, 4) != 1) || EVP_MAC_final(sa.mac, md, &mdLen, sizeof md) != 1)
      return DROP_TX_ERROR;
    memcpy(payload + ctLen, md, sa.icvLen);
  }
  *out = hdr;
  *outLen = 8 + sa.ivLen + ctLen + sa.icvLen;
  return DROP_NONE;
}

int espOpen(Sa& sa, uint8_t* pkt, size_t len, uint8_t** inner, size_t* innerLen, uint8_t* nextHeader,
            uint64_t* seqOut) {
  size_t hdr = 8 + sa.ivLen;
  if (len < hdr + sa.icvLen + (sa.aead ? 4 : 16)) return DROP_MALFORMED;
  size_t ctLen = len - hdr - sa.icvLen;
  if (!sa.aead && ctLen % 16 != 0) return DROP_MALFORMED;
  uint32_t lo = rd32(pkt + 4);
  uint64_t s;
  if (!sa.replay.check(lo, &s)) return DROP_REPLAY;
  uint32_t hi = uint32_t(s >> 32);
  uint8_t* ct = pkt + hdr;
  uint8_t* icv = ct + ctLen;
  int outl = 0, outl2 = 0;
  if (sa.aead) {
    uint8_t nonce[12];
    memcpy(nonce, sa.salt, 4);
    memcpy(nonce + 4, pkt + 8, 8);
    uint8_t aad[12];
    int aadLen;
    memcpy(aad, pkt, 4);
    if (sa.p.esn) {
      wr32(aad + 4, hi);
      wr32(aad + 8, lo);
      aadLen = 12;
    } else {
      wr32(aad + 4, lo);
      aadLen = 8;
    }
    if (sa.gcm) {
      CRYPTO_gcm128_setiv(sa.gcm, nonce, 12);
      if (CRYPTO_gcm128_aad(sa.gcm, aad, size_t(aadLen)) != 0 ||
          gcmDecrypt(sa, ct, ct, ctLen) != 0)
        return DROP_MALFORMED;
      if (CRYPTO_gcm128_finish(sa.gcm, icv, 16) != 0) return DROP_AUTH_FAILED;
    } else {
      if (EVP_DecryptInit_ex(sa.ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
          EVP_DecryptUpdate(sa.ctx, nullptr, &outl, aad, aadLen) != 1 ||
          EVP_CIPHER_CTX_ctrl(sa.ctx, EVP_CTRL_AEAD_SET_TAG, 16, icv) != 1 ||
          EVP_DecryptUpdate(sa.ctx, ct, &outl, ct, int(ctLen)) != 1)
        return DROP_MALFORMED;
      if (EVP_DecryptFinal_ex(sa.ctx, ct + outl, &outl2) != 1) return DROP_AUTH_FAILED;
    }
  } else {
    uint8_t md[64];
    size_t mdLen = 0;
    uint8_t seqHi[4];
    wr32(seqHi, hi);
    if (EVP_MAC_init(sa.mac, nullptr, 0, nullptr) != 1 || EVP_MAC_update(sa.mac, pkt, hdr + ctLen) != 1 ||
        (sa.p.esn && EVP_MAC_update(sa.mac, seqHi, 4) != 1) || EVP_MAC_final(sa.mac, md, &mdLen, sizeof md) != 1)
      return DROP_MALFORMED;
    if (CRYPTO_memcmp(md, icv, sa.icvLen) != 0) return DROP_AUTH_FAILED;
    if (EVP_DecryptInit_ex(sa.ctx, nullptr, nullptr, nullptr, pkt + 8) != 1 ||
        EVP_DecryptUpdate(sa.ctx, ct, &outl, ct, int(ctLen)) != 1 ||
        EVP_DecryptFinal_ex(sa.ctx, ct + outl, &outl2) != 1)
      return DROP_MALFORMED;
  }
  // authenticated: only now may the window move (RFC 4303 §3.4.3)
  if (!sa.replay.commit(s)) return DROP_REPLAY;
  if (ctLen < 2) return DROP_MALFORMED;
  size_t padLen = ct[ctLen - 2];
  if (padLen + 2 > ctLen) return DROP_MALFORMED;
  const uint8_t* pad = ct + ctLen - 2 - padLen;
  for (size_t i = 0; i < padLen; i++)
    if (pad[i] != uint8_t(i + 1)) return DROP_MALFORMED;
  *inner = ct;
  *innerLen = ctLen - 2 - padLen;
  *nextHeader = ct[ctLen - 1];
  *seqOut = s;
  return DROP_NONE;
}

// ---------------------------------------------------------------------------------------------
// Inbound traffic-selector check (RFC 4301 §5.2 / RFC 7296 §2.9)
// ---------------------------------------------------------------------------------------------

namespace {
bool addrIn(const TsSel& t, const uint8_t* a, size_t alen) {
  return memcmp(a, t.start, alen) >= 0 && memcmp(a, t.end, alen) <= 0;
}
bool tsListMatch(const TsSel* l, size_t n, uint8_t fam, const uint8_t* addr, size_t alen, uint8_t proto,
                 bool hasPort, uint16_t port) {
  for (size_t i = 0; i < n; i++) {
    const TsSel& t = l[i];
    if (t.family != fam) continue;
    if (t.proto && t.proto != proto) continue;
    if (hasPort && (port < t.startPort || port > t.endPort)) continue;
    if (addrIn(t, addr, alen)) return true;
  }
  return false;
}
}  // namespace

bool tsAllowed(const SaParams& p, const uint8_t* pkt, size_t len) {
  if (!p.nLocalTs && !p.nRemoteTs) return true;
  if (len < 1) return false;
  uint8_t ver = pkt[0] >> 4;
  const uint8_t *src, *dst;
  size_t alen, l4;
  uint8_t proto;
  bool frag = false;
  if (ver == 4) {
    if (len < 20) return false;
    size_t ihl = size_t(pkt[0] & 15) * 4;
    if (ihl < 20 || ihl > len) return false;
    src = pkt + 12;
    dst = pkt + 16;
    alen = 4;
    proto = pkt[9];
    frag = (((pkt[6] << 8) | pkt[7]) & 0x3fff) != 0;  // MF or offset
    l4 = ihl;
  } else if (ver == 6) {
    if (len < 40) return false;
    src = pkt + 8;
    dst = pkt + 24;
    alen = 16;
    proto = pkt[6];
    l4 = 40;
    // skip extension headers (hop-by-hop, routing, destination options, fragment)
    for (int guard = 0; guard < 8; guard++) {
      if (proto == 0 || proto == 43 || proto == 60) {
        if (l4 + 8 > len) break;
        uint8_t nx = pkt[l4];
        l4 += (size_t(pkt[l4 + 1]) + 1) * 8;
        proto = nx;
      } else if (proto == 44) {
        if (l4 + 8 > len) break;
        frag = true;
        proto = pkt[l4];
        l4 += 8;
      } else {
        break;
      }
    }
  } else {
    return false;
  }
  bool hasPorts = !frag && (proto == 6 || proto == 17 || proto == 132 || proto == 136) && l4 + 4 <= len;
  uint16_t sport = hasPorts ? uint16_t((pkt[l4] << 8) | pkt[l4 + 1]) : 0;
  uint16_t dport = hasPorts ? uint16_t((pkt[l4 + 2] << 8) | pkt[l4 + 3]) : 0;
  uint8_t fam = ver == 4 ? 4 : 6;
  // an empty list on one side leaves that side unchecked
  if (p.nRemoteTs && !tsListMatch(p.remoteTs, p.nRemoteTs, fam, src, alen, proto, hasPorts, sport)) return false;
  if (p.nLocalTs && !tsListMatch(p.localTs, p.nLocalTs, fam, dst, alen, proto, hasPorts, dport)) return false;
  return true;
}

}  // namespace ikegw
