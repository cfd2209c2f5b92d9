/**
 * ESP packet codec (RFC 4303 §2) — pure functions, no state, no I/O, never throws on
 * packet input (drops are returned as a DropReason).
 *
 * ## Wire layout (the native C++ path must produce exactly these bytes)
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |               Security Parameters Index (SPI)                 |  4, big-endian
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |              Sequence Number (low 32 bits with ESN)           |  4, big-endian
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    IV (8 bytes AEAD, 16 bytes AES-CBC)        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   ~  encrypted: inner IP packet ‖ padding 01 02 03 … ‖ padLen ‖ NH ~
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  ICV: 16-byte AEAD tag, or truncated HMAC (RFC 4868) for CBC  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * - Next Header: 4 for an IPv4 inner packet, 41 for IPv6 (taken from the inner version
 *   nibble unless given), 59 for a dummy packet (dropped with DropReason.Dummy on receive).
 * - Padding: minimum to make (inner + pad + 2) a multiple of 4 (AEAD) or 16 (CBC); the
 *   pad bytes are 1, 2, 3, … (RFC 4303 §2.4). No TFC padding.
 *
 * ### AEAD: AES-GCM-16 (RFC 4106), ChaCha20-Poly1305 (RFC 7634)
 * - key = KEYMAT encr key ‖ 4-byte salt (RFC 4106 §8.1, RFC 7634 §2)
 * - nonce (12 bytes) = salt ‖ IV
 * - **IV convention: IV = the 64-bit sequence number, big-endian (hi ‖ lo; hi = 0 without
 *   ESN).** RFC 4106 §3.1 / RFC 7634 §2 only require uniqueness per key; the sequence
 *   number is unique per SA because it never wraps (seq.ts). Example: 32-bit seq 5 →
 *   IV 00 00 00 00 00 00 00 05. An explicit IV may be passed (test vectors do).
 * - AAD = SPI ‖ seq(32)  (8 bytes), or with ESN SPI ‖ seqHi ‖ seqLow (12 bytes)
 *   (RFC 4106 §5, RFC 7634 §2.1). seqHi is never sent.
 * - AEAD output ciphertext ‖ tag is written right after the IV; no separate ICV.
 *
 * ### AES-CBC (RFC 3602) + HMAC-SHA2 (RFC 4868)
 * - IV: 16 random bytes from the injected Rng (RFC 3602 §2.3: unpredictable).
 * - ICV = HMAC(integKey, SPI ‖ Seq(low 32) ‖ IV ‖ ciphertext [‖ seqHi with ESN])
 *   truncated to icvLen; seqHi is appended to the ICV input only, never sent
 *   (RFC 4303 §2.2.1, §3.3.2.1). Encrypt-then-MAC; the receiver verifies the ICV
 *   (constant time) before decrypting.
 */
import type { Cipher, Integ } from '../crypto/types.js';
import { DropReason } from '../common/errors.js';
import { equalCt, readU32 } from '../common/bytes.js';
import { type SeqNo, writeSeq64 } from './seq.js';
import { NextHeader, checkTrailer, padLength, writeTrailer } from './trailer.js';

/** The part of an SA the codec needs. */
export interface EspCodecSa {
  readonly spi: number;
  readonly esn: boolean;
  readonly cipher: Cipher;
  /** AEAD: encr key ‖ salt; CBC: encr key */
  readonly encKey: Uint8Array;
  /** null for AEAD suites */
  readonly integ: Integ | null;
  readonly integKey: Uint8Array | null;
}

export type DropResult = { readonly ok: false; readonly reason: DropReason };

export type DecapResult =
  | {
      ok: true;
      /** the inner packet (a view into the decrypted buffer) */
      inner: Uint8Array;
      nextHeader: number;
      seqHi: number;
      seqLo: number;
      /** seqHi·2^32 + seqLo (exact below 2^53) */
      seq: number;
    }
  | DropResult;

const DROPS = new Map<DropReason, DropResult>();
for (const r of Object.values(DropReason)) DROPS.set(r, Object.freeze({ ok: false as const, reason: r }));

/** Pre-allocated, frozen drop result for `reason` (no allocation on the drop path). */
export function dropResult(reason: DropReason): DropResult {
  return DROPS.get(reason)!;
}

const EMPTY = new Uint8Array(0);
export const ESP_HEADER_LEN = 8;

function icvLenOf(sa: EspCodecSa): number {
  return sa.cipher.aead ? 0 : sa.integ!.icvLen;
}

/** Bytes `encapsulate` will produce for an inner packet of `innerLen` bytes. */
export function encapsulatedLength(sa: EspCodecSa, innerLen: number): number {
  const c = sa.cipher;
  const align = c.aead ? 4 : c.blockLen;
  const plainLen = innerLen + padLength(innerLen, align) + 2;
  return ESP_HEADER_LEN + c.ivLen + plainLen + c.icvLen + icvLenOf(sa);
}

function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = v >>> 16;
  b[off + 2] = v >>> 8;
  b[off + 3] = v;
}

function aeadAad(sa: EspCodecSa, hi: number, lo: number): Uint8Array {
  const aad = new Uint8Array(sa.esn ? 12 : 8);
  writeU32(aad, 0, sa.spi);
  if (sa.esn) {
    writeU32(aad, 4, hi);
    writeU32(aad, 8, lo);
  } else {
    writeU32(aad, 4, lo);
  }
  return aad;
}

/**
 * Build an ESP payload (SPI … ICV, without outer IP/UDP headers).
 * @param seq  sequence number of this packet (hi ignored without ESN)
 * @param iv   explicit IV; default for AEAD is the 64-bit sequence number (see above).
 *             Required for CBC (the SAD supplies random bytes).
 * @param out  optional buffer; used when large enough, the result is then a view into it
 * @param nextHeader  default: 41 if the inner version nibble is 6, else 4
 * Throws RangeError only on programmer error (missing CBC IV, wrong IV length).
 */
export function encapsulate(
  sa: EspCodecSa,
  inner: Uint8Array,
  seq: SeqNo,
  iv?: Uint8Array,
  out?: Uint8Array,
  nextHeader?: number,
): Uint8Array {
  const c = sa.cipher;
  const ivLen = c.ivLen;
  const nh = nextHeader ?? (inner.length > 0 && inner[0]! >>> 4 === 6 ? NextHeader.IPV6 : NextHeader.IPV4);
  const hi = sa.esn ? seq.hi >>> 0 : 0;
  const lo = seq.lo >>> 0;

  let ivBytes: Uint8Array;
  if (iv !== undefined) {
    if (iv.length !== ivLen) throw new RangeError(`ESP IV must be ${ivLen} bytes`);
    ivBytes = iv;
  } else if (c.aead && ivLen === 8) {
    ivBytes = new Uint8Array(8);
    writeSeq64(ivBytes, 0, hi, lo);
  } else {
    throw new RangeError('ESP: an explicit IV is required for non-AEAD ciphers');
  }

  const align = c.aead ? 4 : c.blockLen;
  const pad = padLength(inner.length, align);
  const plain = new Uint8Array(inner.length + pad + 2);
  plain.set(inner, 0);
  writeTrailer(plain, inner.length, pad, nh);

  const ct = c.encrypt(sa.encKey, ivBytes, plain, c.aead ? aeadAad(sa, hi, lo) : EMPTY);
  const integ = sa.integ;
  const icvLen = c.aead ? 0 : integ!.icvLen;
  const total = ESP_HEADER_LEN + ivLen + ct.length + icvLen;
  const dst = out !== undefined && out.length >= total ? out.subarray(0, total) : new Uint8Array(total);
  writeU32(dst, 0, sa.spi);
  writeU32(dst, 4, lo);
  dst.set(ivBytes, 8);
  dst.set(ct, 8 + ivLen);
  if (!c.aead) {
    const covered = 8 + ivLen + ct.length;
    let icv: Uint8Array;
    if (sa.esn) {
      // ICV input = SPI ‖ Seq ‖ IV ‖ ct ‖ seqHi: borrow the ICV slot (≥ 12 bytes) for seqHi
      writeU32(dst, covered, hi);
      icv = integ!.sign(sa.integKey!, dst.subarray(0, covered + 4));
    } else {
      icv = integ!.sign(sa.integKey!, dst.subarray(0, covered));
    }
    dst.set(icv.subarray(0, icvLen), covered);
  }
  return dst;
}

/**
 * Authenticate, decrypt and unwrap an ESP payload (starting at the SPI).
 * @param seqHi  the high 32 bits inferred by the replay window (ESN; 0 otherwise)
 * No state changes: the caller commits the replay window only after `ok`.
 * Drops: Malformed (too short, bad lengths, bad padding), UnknownSpi (SPI ≠ sa.spi),
 * AuthFailed (tag / ICV), Dummy (Next Header 59, authenticated).
 */
export function decapsulate(sa: EspCodecSa, esp: Uint8Array, seqHi = 0): DecapResult {
  const c = sa.cipher;
  const ivLen = c.ivLen;
  const integ = sa.integ;
  const icvLen = c.aead ? c.icvLen : integ === null ? 0 : integ.icvLen;
  const minCt = c.aead ? 2 : c.blockLen;
  const len = esp.length;
  if (len < ESP_HEADER_LEN + ivLen + minCt + icvLen) return dropResult(DropReason.Malformed);
  if (!c.aead && integ === null) return dropResult(DropReason.Malformed);
  const spi = readU32(esp, 0);
  if (spi !== sa.spi >>> 0) return dropResult(DropReason.UnknownSpi);
  const lo = readU32(esp, 4);
  const hi = sa.esn ? seqHi >>> 0 : 0;
  const iv = esp.subarray(8, 8 + ivLen);

  let plain: Uint8Array | null;
  try {
    if (c.aead) {
      // AAD without ESN is exactly the first 8 bytes on the wire (zero copy)
      const aad = sa.esn ? aeadAad(sa, hi, lo) : esp.subarray(0, 8);
      plain = c.decrypt(sa.encKey, iv, esp.subarray(8 + ivLen), aad);
      if (plain === null) return dropResult(DropReason.AuthFailed);
    } else {
      const covered = len - icvLen;
      const ctLen = covered - 8 - ivLen;
      if (ctLen % c.blockLen !== 0) return dropResult(DropReason.Malformed);
      let input = esp.subarray(0, covered);
      if (sa.esn) {
        const tmp = new Uint8Array(covered + 4);
        tmp.set(input, 0);
        writeU32(tmp, covered, hi);
        input = tmp;
      }
      const mac = integ!.sign(sa.integKey!, input);
      if (!equalCt(mac.subarray(0, icvLen), esp.subarray(covered))) return dropResult(DropReason.AuthFailed);
      plain = c.decrypt(sa.encKey, iv, esp.subarray(8 + ivLen, covered), EMPTY);
      if (plain === null) return dropResult(DropReason.Malformed);
    }
  } catch {
    // a backend must not throw on bad input, but the packet path never propagates it
    return dropResult(DropReason.Malformed);
  }

  const payloadLen = checkTrailer(plain);
  if (payloadLen < 0) return dropResult(DropReason.Malformed);
  const nextHeader = plain[plain.length - 1]!;
  if (nextHeader === NextHeader.NO_NEXT) return dropResult(DropReason.Dummy);
  return {
    ok: true,
    inner: plain.subarray(0, payloadLen),
    nextHeader,
    seqHi: hi,
    seqLo: lo,
    seq: hi * 0x1_0000_0000 + lo,
  };
}
