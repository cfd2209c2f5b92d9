/**
 * Encrypted payload SK, RFC 7296 §3.14, with AEAD framing per RFC 5282.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Initialization Vector                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                    Encrypted IKE Payloads                     ~
 * +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               |             Padding (0-255 octets)            |
 * +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
 * |                                               |  Pad Length   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                    Integrity Checksum Data                    ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Next Payload = type of the first inner payload. SK MUST be the last payload.
 * - encr + integ (CBC): plaintext = payloads ‖ padding ‖ pad length, padded to the block
 *   size; random IV of one block; "The checksum MUST be computed over the encrypted
 *   message" — ICV = integ(SK_a, datagram from the IKE header up to, not including, the
 *   ICV), truncated by the Integ backend. Integrity is checked before decrypting.
 * - AEAD (RFC 5282 §5): IV = explicit IV (8 octets); the ICV is the AEAD tag appended by
 *   the cipher; AAD = datagram from the IKE header through the SK generic header (so it
 *   includes the Length fields, which must therefore be final before sealing).
 * Padding content is not checked on receipt ("the recipient MUST NOT check"), only that
 * Pad Length fits. Padding is 0 on send for AEAD unless cipher.blockLen asks for more.
 *
 * The same framing (with a longer header) protects SKF fragments, see skf.ts.
 * Failures of authentication throw DecryptError (count and drop silently, §2.21.1);
 * structural problems throw ParseError.
 */
import { ParseError } from '../../common/errors.js';
import { equalCt } from '../../common/bytes.js';
import type { SkCrypto } from '../../crypto/types.js';
import type { IkeHeader } from './types.js';
import { Writer } from './writer.js';
import { IKE_HEADER_LEN, writeHeader } from './header.js';
import { GENERIC_HEADER_LEN } from './payloads.js';
import { PayloadType } from './constants.js';

/** Authentication of SK/SKF failed (bad ICV / AEAD tag). Distinct from ParseError on purpose. */
export class DecryptError extends Error {
  override readonly name = 'DecryptError';
  constructor(
    readonly layer: 'SK' | 'SKF',
    readonly reason: string,
  ) {
    super(`${layer}: ${reason}`);
  }
}

function icvLen(sk: SkCrypto): number {
  if (sk.cipher.aead) return sk.cipher.icvLen;
  if (!sk.integ || !sk.integKey) throw new TypeError('SkCrypto: non-AEAD cipher needs integ and integKey');
  return sk.integ.icvLen;
}
function block(sk: SkCrypto): number {
  return Math.max(1, sk.cipher.blockLen);
}
function paddedLength(sk: SkCrypto, innerLen: number): number {
  const b = block(sk);
  return Math.ceil((innerLen + 1) / b) * b;
}

/** octets after the SK/SKF header fields: IV ‖ encrypted (payloads ‖ pad ‖ padlen) ‖ ICV */
export function sealedLength(sk: SkCrypto, innerLen: number): number {
  return sk.cipher.ivLen + paddedLength(sk, innerLen) + icvLen(sk);
}

/** largest inner length whose sealed form fits in `room` octets (−1 if none) */
export function maxInnerFor(sk: SkCrypto, room: number): number {
  const avail = room - sk.cipher.ivLen - icvLen(sk);
  const b = block(sk);
  return Math.floor(avail / b) * b - 1;
}

/**
 * Seal `inner` into out[bodyStart..]. out[0..bodyStart) must already hold the final IKE
 * header and SK/SKF header fields (lengths included): they are the AEAD AAD, and the CBC
 * ICV covers them. out.length must be bodyStart + sealedLength(sk, inner.length).
 */
export function seal(sk: SkCrypto, out: Uint8Array, bodyStart: number, inner: Uint8Array): void {
  const { cipher } = sk;
  const padded = paddedLength(sk, inner.length);
  const icv = icvLen(sk);
  if (out.length !== bodyStart + cipher.ivLen + padded + icv) throw new RangeError('seal: output size mismatch');
  const padLen = padded - inner.length - 1;
  if (padLen > 255) throw new RangeError('seal: cipher block too large for 1-octet pad length');
  const pt = new Uint8Array(padded);
  pt.set(inner, 0);
  pt[padded - 1] = padLen;
  const iv = sk.iv(cipher.ivLen);
  if (iv.length !== cipher.ivLen) throw new RangeError('seal: iv source returned wrong length');
  out.set(iv, bodyStart);
  const ctStart = bodyStart + cipher.ivLen;
  if (cipher.aead) {
    const ct = cipher.encrypt(sk.encKey, iv, pt, out.subarray(0, bodyStart));
    if (ct.length !== padded + icv) throw new RangeError('seal: AEAD output length mismatch');
    out.set(ct, ctStart);
  } else {
    const ct = cipher.encrypt(sk.encKey, iv, pt, new Uint8Array(0));
    if (ct.length !== padded) throw new RangeError('seal: CBC output length mismatch');
    out.set(ct, ctStart);
    const mac = sk.integ!.sign(sk.integKey!, out.subarray(0, out.length - icv));
    if (mac.length !== icv) throw new RangeError('seal: integ returned wrong ICV length');
    out.set(mac, out.length - icv);
  }
  pt.fill(0);
}

/**
 * Verify and decrypt msg[bodyStart..] (IV ‖ C ‖ ICV, to the end of msg). Returns the inner
 * payload bytes (padding and pad length stripped).
 */
export function open(sk: SkCrypto, msg: Uint8Array, bodyStart: number, layer: 'SK' | 'SKF' = 'SK'): Uint8Array {
  const { cipher } = sk;
  const icv = icvLen(sk);
  const bodyLen = msg.length - bodyStart;
  const minCt = cipher.aead ? 1 : block(sk);
  const need = cipher.ivLen + minCt + icv;
  if (bodyLen < need) throw new ParseError(layer, bodyStart, need, bodyLen, 'encrypted body too short');
  const iv = msg.subarray(bodyStart, bodyStart + cipher.ivLen);
  const ctStart = bodyStart + cipher.ivLen;
  let pt: Uint8Array | null;
  if (cipher.aead) {
    pt = cipher.decrypt(sk.encKey, iv, msg.subarray(ctStart), msg.subarray(0, bodyStart));
    if (!pt) throw new DecryptError(layer, 'AEAD authentication failed');
  } else {
    const ctLen = bodyLen - cipher.ivLen - icv;
    if (ctLen % block(sk) !== 0) {
      throw new ParseError(layer, ctStart, block(sk), ctLen, `ciphertext not a multiple of ${block(sk)}`);
    }
    const mac = sk.integ!.sign(sk.integKey!, msg.subarray(0, msg.length - icv));
    if (!equalCt(mac, msg.subarray(msg.length - icv))) throw new DecryptError(layer, 'ICV mismatch');
    pt = cipher.decrypt(sk.encKey, iv, msg.subarray(ctStart, ctStart + ctLen), new Uint8Array(0));
    if (!pt) throw new DecryptError(layer, 'decryption failed');
  }
  if (pt.length < 1) throw new ParseError(layer, ctStart, 1, 0, 'empty plaintext');
  const padLen = pt[pt.length - 1]!;
  if (padLen + 1 > pt.length) {
    throw new ParseError(layer, ctStart + pt.length - 1, padLen + 1, pt.length, `pad length ${padLen} exceeds plaintext`);
  }
  return pt.subarray(0, pt.length - 1 - padLen);
}

/** total datagram length of a message carrying `outerLen` octets of plaintext payloads then SK */
export function skMessageLength(sk: SkCrypto, innerLen: number, outerLen = 0): number {
  return IKE_HEADER_LEN + outerLen + GENERIC_HEADER_LEN + sealedLength(sk, innerLen);
}

/**
 * Build a complete message: IKE header ‖ [outer plaintext chain] ‖ SK(inner).
 * `inner` is an encoded payload chain whose first type is `innerFirst`; `outer` (rarely
 * used) is an already-encoded chain whose first payload type is `outerFirst` and whose
 * last Next Payload must already be SK (46).
 */
export function buildSkMessage(
  header: IkeHeader,
  innerFirst: number,
  inner: Uint8Array,
  sk: SkCrypto,
  outer?: { first: number; bytes: Uint8Array },
): Uint8Array {
  const outerLen = outer?.bytes.length ?? 0;
  const total = skMessageLength(sk, inner.length, outerLen);
  const w = Writer.alloc(total);
  writeHeader(header, w, outer && outerLen ? outer.first : PayloadType.SK, total);
  if (outer && outerLen) w.bytes(outer.bytes);
  const skLen = total - IKE_HEADER_LEN - outerLen;
  if (skLen > 0xffff) throw new RangeError(`SK payload of ${skLen} octets exceeds 65535`);
  w.u8(innerFirst).u8(0).u16(skLen);
  seal(sk, w.buf, w.pos, inner);
  return w.buf;
}
