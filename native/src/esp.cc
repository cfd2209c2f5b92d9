#include "esp.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

namespace ikegw {

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
    if (EVP_EncryptInit_ex(sa.ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
        EVP_EncryptUpdate(sa.ctx, nullptr, &outl, aad, aadLen) != 1 ||
        EVP_EncryptUpdate(sa.ctx, payload, &outl, payload, int(ctLen)) != 1 ||
        EVP_EncryptFinal_ex(sa.ctx, payload + outl, &outl2) != 1 ||
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
    if (EVP_DecryptInit_ex(sa.ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
        EVP_DecryptUpdate(sa.ctx, nullptr, &outl, aad, aadLen) != 1 ||
        EVP_CIPHER_CTX_ctrl(sa.ctx, EVP_CTRL_AEAD_SET_TAG, 16, icv) != 1 ||
        EVP_DecryptUpdate(sa.ctx, ct, &outl, ct, int(ctLen)) != 1)
      return DROP_MALFORMED;
    if (EVP_DecryptFinal_ex(sa.ctx, ct + outl, &outl2) != 1) return DROP_AUTH_FAILED;
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

}  // namespace ikegw
