/**
 * Whole IKEv2 messages, RFC 7296 §3: header + payload chain, with the SK envelope (§3.14)
 * handled transparently and SKF fragments (RFC 7383) surfaced separately.
 *
 * Decoding contract (what the engine relies on):
 * - Every malformed input throws ParseError (src/common/errors.ts) naming the layer;
 *   failed authentication of SK/SKF throws DecryptError (sk.ts). Nothing else is thrown
 *   for any input bytes.
 * - decodeHeader(buf) parses the 28-octet header and requires header.length ===
 *   buf.length. It does NOT reject other major versions (the engine answers those
 *   with INVALID_MAJOR_VERSION, §2.5).
 * - decodeMessage(buf, sk) additionally requires major version 2 (the payload format of
 *   other versions is unknown) and parses the chain. If the chain ends in SK: with sk it
 *   verifies, decrypts and returns the inner payloads with encrypted=true (plaintext
 *   payloads before SK, never seen in practice, are placed first); with sk === null it
 *   throws ParseError(layer "SK"). If the chain ends in SKF it throws
 *   FragmentPayloadError (a ParseError subclass, layer "SKF"): call decodeFragment() and
 *   feed a FragmentReassembler instead — or use decodeDatagram(), which does the
 *   dispatch and returns a tagged union.
 * - The returned header is the wire header (nextPayload = SK for encrypted messages).
 *
 * Encoding: encodeMessage computes Next Payload chaining and all lengths itself (the
 * caller's header.nextPayload / header.length are ignored) and builds SK when
 * msg.encrypted (sk required then). For big encrypted messages use fragmentMessage().
 */
import { ParseError } from '../../common/errors.js';
import type { SkCrypto } from '../../crypto/types.js';
import type { IkeHeader, IkeMessage, Payload, PayloadOf } from './types.js';
import { PayloadType } from './constants.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { IKE_HEADER_LEN, LAYER_HEADER, readHeader, writeHeader } from './header.js';
import {
  GENERIC_HEADER_LEN,
  chainLength,
  decodeChain,
  decodePayloads,
  encodePayloads,
  firstPayloadType,
  writeChain,
} from './payloads.js';
import { buildSkMessage, open, skMessageLength } from './sk.js';
import { decodeFragment, type Fragment, type Reassembled } from './skf.js';

export { encodePayloads, decodePayloads, payloadTypeOf, firstPayloadType } from './payloads.js';
export { DecryptError } from './sk.js';
export { decodeFragment, fragmentMessage, FragmentReassembler } from './skf.js';
export type { Fragment, Reassembled } from './skf.js';
export { IKE_HEADER_LEN } from './header.js';

/** decodeMessage found an SKF payload: the datagram is a fragment (use decodeFragment). */
export class FragmentPayloadError extends ParseError {
  constructor(offset: number) {
    super('SKF', offset, 0, 0, 'message is a fragment; use decodeFragment');
  }
}

/** §3.1 header; ParseError if shorter than 28 octets or Length ≠ buf.length. */
export function decodeHeader(buf: Uint8Array): IkeHeader {
  const r = new Reader(buf, LAYER_HEADER, 0);
  const h = readHeader(r);
  if (h.length !== buf.length) {
    throw new ParseError(LAYER_HEADER, 24, h.length, buf.length, `length field ${h.length} != datagram ${buf.length}`);
  }
  return h;
}

export function decodeMessage(buf: Uint8Array, sk: SkCrypto | null): IkeMessage {
  const header = decodeHeader(buf);
  if (header.majorVersion !== 2) {
    throw new ParseError(LAYER_HEADER, 17, 0, 0, `unsupported major version ${header.majorVersion}`);
  }
  const { payloads, envelope } = decodeChain(header.nextPayload, buf.subarray(IKE_HEADER_LEN), IKE_HEADER_LEN, true);
  if (!envelope) return { header, payloads, encrypted: false };
  const at = IKE_HEADER_LEN + envelope.offset;
  if (envelope.type === PayloadType.SKF) throw new FragmentPayloadError(at);
  if (!sk) throw new ParseError('SK', at, 0, 0, 'encrypted payload but no keys');
  const bodyStart = at + GENERIC_HEADER_LEN;
  const inner = open(sk, buf, bodyStart, 'SK');
  // inner offsets are reported relative to the ciphertext start (they line up for CBC/AEAD)
  const innerPayloads = decodePayloads(envelope.innerFirst, inner, bodyStart + sk.cipher.ivLen);
  return { header, payloads: payloads.concat(innerPayloads), encrypted: true };
}

export type Datagram = { kind: 'message'; message: IkeMessage } | { kind: 'fragment'; fragment: Fragment };

/** decodeMessage, or decodeFragment when the datagram carries SKF (which needs sk). */
export function decodeDatagram(buf: Uint8Array, sk: SkCrypto | null): Datagram {
  try {
    return { kind: 'message', message: decodeMessage(buf, sk) };
  } catch (e) {
    if (!(e instanceof FragmentPayloadError)) throw e;
    if (!sk) throw new ParseError('SKF', e.offset, 0, 0, 'fragment but no keys');
    return { kind: 'fragment', fragment: decodeFragment(buf, sk) };
  }
}

/** IkeMessage from a completed reassembly (encrypted = true; header as of fragment 1). */
export function messageFromReassembled(r: Reassembled): IkeMessage {
  return { header: { ...r.header }, payloads: decodePayloads(r.firstPayload, r.data), encrypted: true };
}

/** exact datagram length; encrypted messages need sk (padding depends on the cipher) */
export function encodingLength(msg: IkeMessage, sk?: SkCrypto | null): number {
  if (!msg.encrypted) return IKE_HEADER_LEN + chainLength(msg.payloads);
  if (!sk) throw new TypeError('encodingLength: encrypted message needs SkCrypto');
  return skMessageLength(sk, chainLength(msg.payloads));
}

export function encodeMessage(msg: IkeMessage, sk: SkCrypto | null): Uint8Array {
  if (msg.encrypted) {
    if (!sk) throw new TypeError('encodeMessage: encrypted message needs SkCrypto');
    return buildSkMessage(msg.header, firstPayloadType(msg.payloads), encodePayloads(msg.payloads), sk);
  }
  const total = IKE_HEADER_LEN + chainLength(msg.payloads);
  const w = Writer.alloc(total);
  writeHeader(msg.header, w, firstPayloadType(msg.payloads), total);
  writeChain(msg.payloads, w);
  return w.finish();
}

type KnownType = Exclude<Payload['type'], 'unknown'>;

export function findPayload<T extends KnownType>(msg: IkeMessage, type: T): PayloadOf<T> | undefined {
  return msg.payloads.find((p): p is PayloadOf<T> => p.type === type);
}
export function findPayloads<T extends KnownType>(msg: IkeMessage, type: T): PayloadOf<T>[] {
  return msg.payloads.filter((p): p is PayloadOf<T> => p.type === type);
}
export function findNotify(msg: IkeMessage, notifyType: number): PayloadOf<typeof PayloadType.NOTIFY> | undefined {
  return msg.payloads.find(
    (p): p is PayloadOf<typeof PayloadType.NOTIFY> => p.type === PayloadType.NOTIFY && p.notifyType === notifyType,
  );
}
export function findNotifies(msg: IkeMessage, notifyType: number): PayloadOf<typeof PayloadType.NOTIFY>[] {
  return msg.payloads.filter(
    (p): p is PayloadOf<typeof PayloadType.NOTIFY> => p.type === PayloadType.NOTIFY && p.notifyType === notifyType,
  );
}
