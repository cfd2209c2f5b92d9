/**
 * IKEv2 message fragmentation, RFC 7383.
 *
 * Encrypted Fragment payload SKF (RFC 7383 §2.5), payload type 53:
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Fragment Number        |        Total Fragments        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Initialization Vector                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                      Encrypted content                        ~
 * +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               |             Padding (0-255 octets)            |
 * +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
 * |                                               |  Pad Length   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                    Integrity Checksum Data                    ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Next Payload: first inner payload type in fragment 1, 0 in the others.
 * Fragment Number is 1-based, ≤ Total Fragments; neither may be 0.
 * Each fragment is a complete IKE message (same header fields as the original: SPIs,
 * exchange, flags, Message ID), protected independently exactly like SK (sk.ts); for AEAD
 * the AAD is IKE header ‖ the 8 octets of SKF header incl. Fragment Number/Total.
 *
 * API
 * - fragmentMessage(msg, sk, maxDatagram): Uint8Array[]
 *     Encodes an encrypted message. If the SK form fits in maxDatagram octets (the IKE
 *     message, excluding IP/UDP and any non-ESP marker) it returns [that one datagram];
 *     otherwise N datagrams each carrying one SKF. Keep the array to retransmit.
 * - decodeFragment(buf, sk): Fragment  (also re-exported from message.ts)
 *     Checks the header (length = buf.length), requires SKF as the only payload, validates
 *     the numbers, verifies+decrypts. ParseError for structure, DecryptError for auth.
 * - class FragmentReassembler — one per IKE SA, holds at most one partial message per
 *   direction (requests we receive and responses we receive have separate Message ID
 *   spaces, keyed by the header's R flag). Only feed it authenticated fragments
 *   (decodeFragment output). add(frag) returns the Reassembled message when the last
 *   missing fragment arrives, else undefined (see `lastDrop` for why a fragment was
 *   dropped). Rules: Total ≤ maxFragments (32), sum of fragment plaintext ≤ maxBytes
 *   (64 KiB, exceeding it discards the set), duplicates ignored, a fragment for a newer
 *   Message ID discards the older set, older Message IDs are ignored; a larger Total for
 *   the same Message ID restarts the set (sender re-fragmented after PMTU, RFC 7383
 *   §2.5.2), a smaller Total is ignored.
 *   Turn the result into an IkeMessage with messageFromReassembled() in message.ts.
 */
import { ParseError } from '../../common/errors.js';
import { concat } from '../../common/bytes.js';
import type { SkCrypto } from '../../crypto/types.js';
import type { IkeHeader, IkeMessage } from './types.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { IKE_HEADER_LEN, LAYER_HEADER, readHeader, writeHeader } from './header.js';
import { encodePayloads, firstPayloadType } from './payloads.js';
import { PayloadType } from './constants.js';
import { buildSkMessage, maxInnerFor, open, seal, sealedLength, skMessageLength } from './sk.js';

export const SKF_HEADER_LEN = 8;
export const MAX_FRAGMENTS = 32;
export const MAX_REASSEMBLED_BYTES = 64 * 1024;

export interface Fragment {
  header: IkeHeader;
  fragNum: number;
  total: number;
  /** SKF Next Payload: first inner payload type (meaningful in fragment 1 only) */
  firstNextPayload: number;
  /** decrypted content of this fragment (a piece of the inner payload chain) */
  data: Uint8Array;
}

export interface Reassembled {
  /** header of fragment 1 (nextPayload = SKF and length as on the wire) */
  header: IkeHeader;
  firstPayload: number;
  /** the complete inner payload chain */
  data: Uint8Array;
}

/** Encode `msg` (must be msg.encrypted) as one SK datagram or as SKF fragments. */
export function fragmentMessage(msg: IkeMessage, sk: SkCrypto, maxDatagram: number): Uint8Array[] {
  if (!msg.encrypted) throw new RangeError('fragmentMessage: only encrypted messages can be fragmented');
  const inner = encodePayloads(msg.payloads);
  const first = firstPayloadType(msg.payloads);
  if (skMessageLength(sk, inner.length) <= maxDatagram) return [buildSkMessage(msg.header, first, inner, sk)];
  const chunk = maxInnerFor(sk, maxDatagram - IKE_HEADER_LEN - SKF_HEADER_LEN);
  if (chunk < 1) throw new RangeError(`fragmentMessage: maxDatagram ${maxDatagram} leaves no room for content`);
  const total = Math.ceil(inner.length / chunk);
  if (total > 0xffff) throw new RangeError('fragmentMessage: more than 65535 fragments');
  const out: Uint8Array[] = [];
  for (let i = 0; i < total; i++) {
    const piece = inner.subarray(i * chunk, Math.min(inner.length, (i + 1) * chunk));
    const skfLen = SKF_HEADER_LEN + sealedLength(sk, piece.length);
    const len = IKE_HEADER_LEN + skfLen;
    const w = Writer.alloc(len);
    writeHeader(msg.header, w, PayloadType.SKF, len);
    w.u8(i === 0 ? first : 0).u8(0).u16(skfLen).u16(i + 1).u16(total);
    seal(sk, w.buf, w.pos, piece);
    out.push(w.buf);
  }
  return out;
}

/** Decode, check and decrypt one datagram carrying an SKF payload. */
export function decodeFragment(buf: Uint8Array, sk: SkCrypto): Fragment {
  const r = new Reader(buf, LAYER_HEADER, 0);
  const header = readHeader(r);
  if (header.length !== buf.length) {
    r.fail(`length field ${header.length} != datagram ${buf.length}`, header.length, buf.length, 24);
  }
  if (header.nextPayload !== PayloadType.SKF) r.fail(`first payload ${header.nextPayload} is not SKF`, 0, 0, 16);
  const s = new Reader(buf.subarray(IKE_HEADER_LEN), 'SKF', IKE_HEADER_LEN);
  const firstNextPayload = s.u8('SKF header');
  s.skip(1, 'SKF header');
  const len = s.u16('SKF header');
  const fragNum = s.u16('SKF header');
  const total = s.u16('SKF header');
  if (len !== buf.length - IKE_HEADER_LEN) {
    throw new ParseError('SKF', IKE_HEADER_LEN + 2, len, buf.length - IKE_HEADER_LEN, 'SKF must be the only payload');
  }
  if (total === 0 || fragNum === 0 || fragNum > total) {
    throw new ParseError('SKF', IKE_HEADER_LEN + 4, 0, 0, `fragment ${fragNum} of ${total}`);
  }
  const data = open(sk, buf, IKE_HEADER_LEN + SKF_HEADER_LEN, 'SKF').slice();
  return { header, fragNum, total, firstNextPayload: fragNum === 1 ? firstNextPayload : 0, data };
}

interface Slot {
  messageId: number;
  total: number;
  parts: (Uint8Array | undefined)[];
  count: number;
  bytes: number;
  first?: Fragment;
}

export class FragmentReassembler {
  readonly maxFragments: number;
  readonly maxBytes: number;
  /** why the last add() returned undefined without progress (undefined when it progressed) */
  lastDrop: string | undefined;
  private readonly slots: [Slot | undefined, Slot | undefined] = [undefined, undefined];
  /** highest Message ID seen per direction; older fragments are ignored */
  private readonly highest: [number, number] = [-1, -1];

  constructor(limits: { maxFragments?: number; maxBytes?: number } = {}) {
    this.maxFragments = limits.maxFragments ?? MAX_FRAGMENTS;
    this.maxBytes = limits.maxBytes ?? MAX_REASSEMBLED_BYTES;
  }

  /** number of fragments held for the partial message in the given direction */
  pending(response: boolean): number {
    return this.slots[response ? 1 : 0]?.count ?? 0;
  }

  clear(): void {
    this.slots[0] = this.slots[1] = undefined;
  }

  add(f: Fragment): Reassembled | undefined {
    this.lastDrop = undefined;
    const dir = f.header.response ? 1 : 0;
    const mid = f.header.messageId;
    if (f.total < 1 || f.fragNum < 1 || f.fragNum > f.total) return this.drop('bad fragment number');
    if (f.total > this.maxFragments) return this.drop(`total ${f.total} > ${this.maxFragments} fragments`);
    if (mid < this.highest[dir]) return this.drop('older message id');
    let slot = this.slots[dir];
    if (slot && slot.messageId !== mid) slot = undefined; // newer message id: discard old set
    if (slot && f.total < slot.total) return this.drop('smaller total fragments');
    if (!slot || f.total > slot.total) {
      slot = { messageId: mid, total: f.total, parts: new Array(f.total).fill(undefined), count: 0, bytes: 0 };
      this.slots[dir] = slot;
    }
    this.highest[dir] = mid;
    if (slot.parts[f.fragNum - 1]) return this.drop('duplicate fragment');
    if (slot.bytes + f.data.length > this.maxBytes) {
      this.slots[dir] = undefined;
      return this.drop(`reassembled size exceeds ${this.maxBytes}`);
    }
    slot.parts[f.fragNum - 1] = f.data;
    slot.count++;
    slot.bytes += f.data.length;
    if (f.fragNum === 1) slot.first = f;
    if (slot.count < slot.total) return undefined;
    this.slots[dir] = undefined;
    const first = slot.first!;
    return { header: first.header, firstPayload: first.firstNextPayload, data: concat(...(slot.parts as Uint8Array[])) };
  }

  private drop(reason: string): undefined {
    this.lastDrop = reason;
    return undefined;
  }
}
