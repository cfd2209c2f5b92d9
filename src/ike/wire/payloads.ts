/**
 * Generic payload header and payload chains, RFC 7296 §3.2.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Payload Length includes these 4 octets. C = critical bit (§2.5). The chain is
 * terminated by Next Payload = 0; the SK (§3.14) and SKF (RFC 7383) payloads must be
 * last, and their Next Payload names the first *inner* payload instead.
 *
 * encodePayloads/decodePayloads work on a bare chain (the plaintext inside SK/SKF);
 * decodeChain is the outer-chain variant used by message.ts that stops at SK/SKF.
 */
import { ParseError } from '../../common/errors.js';
import { Reader } from './reader.js';
import { Writer, assertUint } from './writer.js';
import { PayloadType } from './constants.js';
import type { Payload } from './types.js';
import * as sa from './sa.js';
import * as ke from './ke.js';
import * as id from './id.js';
import * as auth from './auth.js';
import * as nonce from './nonce.js';
import * as notify from './notify.js';
import * as del from './delete.js';
import * as vendor from './vendor.js';
import * as ts from './ts.js';
import * as cp from './cp.js';
import * as unknown from './unknown.js';

export const GENERIC_HEADER_LEN = 4;
export const LAYER_CHAIN = 'payload header';
const CRITICAL = 0x80;

/** the numeric payload type of a decoded payload */
export function payloadTypeOf(p: Payload): number {
  return p.type === 'unknown' ? p.payloadType : p.type;
}

/** payload types this codec parses or keeps as recognised opaque bodies */
export function isKnownPayloadType(t: number): boolean {
  return (t >= PayloadType.SA && t <= PayloadType.EAP) || t === PayloadType.SKF;
}

/** body length of one payload (without the 4-octet generic header) */
export function bodyLength(p: Payload): number {
  switch (p.type) {
    case PayloadType.SA: return sa.encodingLength(p);
    case PayloadType.KE: return ke.encodingLength(p);
    case PayloadType.IDi:
    case PayloadType.IDr: return id.encodingLength(p);
    case PayloadType.AUTH: return auth.encodingLength(p);
    case PayloadType.NONCE: return nonce.encodingLength(p);
    case PayloadType.NOTIFY: return notify.encodingLength(p);
    case PayloadType.DELETE: return del.encodingLength(p);
    case PayloadType.VENDOR: return vendor.encodingLength(p);
    case PayloadType.TSi:
    case PayloadType.TSr: return ts.encodingLength(p);
    case PayloadType.CP: return cp.encodingLength(p);
    case PayloadType.CERT:
    case PayloadType.CERTREQ:
    case PayloadType.EAP:
    case 'unknown': return unknown.encodingLength(p);
  }
}

function writeBody(p: Payload, w: Writer): void {
  switch (p.type) {
    case PayloadType.SA: return sa.write(p, w);
    case PayloadType.KE: return ke.write(p, w);
    case PayloadType.IDi:
    case PayloadType.IDr: return id.write(p, w);
    case PayloadType.AUTH: return auth.write(p, w);
    case PayloadType.NONCE: return nonce.write(p, w);
    case PayloadType.NOTIFY: return notify.write(p, w);
    case PayloadType.DELETE: return del.write(p, w);
    case PayloadType.VENDOR: return vendor.write(p, w);
    case PayloadType.TSi:
    case PayloadType.TSr: return ts.write(p, w);
    case PayloadType.CP: return cp.write(p, w);
    case PayloadType.CERT:
    case PayloadType.CERTREQ:
    case PayloadType.EAP:
    case 'unknown': {
      w.bytes(p.body);
      return;
    }
  }
}

/** decode one payload body; base = absolute offset of body[0] for error messages */
export function decodeBody(type: number, critical: boolean, body: Uint8Array, base: number): Payload {
  let p: Payload;
  switch (type) {
    case PayloadType.SA: p = sa.decode(body, base); break;
    case PayloadType.KE: p = ke.decode(body, base); break;
    case PayloadType.IDi:
    case PayloadType.IDr: p = id.decode(body, type, base); break;
    case PayloadType.AUTH: p = auth.decode(body, base); break;
    case PayloadType.NONCE: p = nonce.decode(body, base); break;
    case PayloadType.NOTIFY: p = notify.decode(body, base); break;
    case PayloadType.DELETE: p = del.decode(body, base); break;
    case PayloadType.VENDOR: p = vendor.decode(body, base); break;
    case PayloadType.TSi:
    case PayloadType.TSr: p = ts.decode(body, type, base); break;
    case PayloadType.CP: p = cp.decode(body, base); break;
    case PayloadType.CERT:
    case PayloadType.CERTREQ:
    case PayloadType.EAP: p = unknown.decodeOpaque(type, body); break;
    default: return unknown.decodeUnknown(type, critical, body);
  }
  // known payloads: the C bit is kept only when set, so plain objects round-trip
  if (critical) p.critical = true;
  return p;
}

/** length of a chain including every generic header */
export function chainLength(payloads: readonly Payload[]): number {
  let n = 0;
  for (const p of payloads) n += GENERIC_HEADER_LEN + bodyLength(p);
  return n;
}

/** write a chain; the last payload's Next Payload is `lastNext` (0, or SK when SK follows) */
export function writeChain(payloads: readonly Payload[], w: Writer, lastNext = 0): void {
  for (let i = 0; i < payloads.length; i++) {
    const p = payloads[i]!;
    const t = payloadTypeOf(p);
    if (t === PayloadType.SK || t === PayloadType.SKF) throw new RangeError('SK/SKF are built by the codec, not passed in');
    assertUint(t, 8, 'payload type');
    const next = i + 1 < payloads.length ? payloadTypeOf(payloads[i + 1]!) : lastNext;
    const len = GENERIC_HEADER_LEN + bodyLength(p);
    assertUint(len, 16, 'payload length');
    const start = w.pos;
    w.u8(next).u8(p.critical ? CRITICAL : 0).u16(len);
    writeBody(p, w);
    if (w.pos - start !== len) throw new RangeError(`payload ${t}: encodingLength mismatch`);
  }
}

/** encode a bare payload chain (last Next Payload = 0); the first type is payloadTypeOf(payloads[0]) */
export function encodePayloads(payloads: readonly Payload[]): Uint8Array {
  const w = Writer.alloc(chainLength(payloads));
  writeChain(payloads, w);
  return w.finish();
}

/** the Next Payload value that introduces this chain (0 when empty) */
export function firstPayloadType(payloads: readonly Payload[]): number {
  return payloads.length ? payloadTypeOf(payloads[0]!) : PayloadType.NONE;
}

/** where an outer chain reached an SK or SKF payload */
export interface EnvelopeRef {
  type: typeof PayloadType.SK | typeof PayloadType.SKF;
  /** offset of the SK/SKF generic header in `bytes` */
  offset: number;
  /** Next Payload of SK/SKF = first inner payload type */
  innerFirst: number;
  critical: boolean;
}

/**
 * Walk a chain. With allowEnvelope, an SK/SKF payload ends the walk (it must span the
 * rest of the bytes); otherwise SK/SKF is a ParseError (no nesting).
 * base = absolute offset of bytes[0] in the datagram, for errors.
 */
export function decodeChain(
  firstType: number,
  bytes: Uint8Array,
  base: number,
  allowEnvelope: boolean,
): { payloads: Payload[]; envelope?: EnvelopeRef } {
  const r = new Reader(bytes, LAYER_CHAIN, base);
  const payloads: Payload[] = [];
  let type = firstType;
  while (type !== PayloadType.NONE) {
    const at = r.pos;
    const next = r.u8('generic payload header');
    const flags = r.u8('generic payload header');
    const len = r.u16('generic payload header');
    const critical = (flags & CRITICAL) !== 0;
    if (len < GENERIC_HEADER_LEN) r.fail(`payload ${type} length ${len} < 4`, GENERIC_HEADER_LEN, len, base + at + 2);
    if (len - GENERIC_HEADER_LEN > r.remaining) {
      r.fail(`payload ${type} length ${len} exceeds message`, len - GENERIC_HEADER_LEN, r.remaining, base + at + 2);
    }
    if (type === PayloadType.SK || type === PayloadType.SKF) {
      if (!allowEnvelope) throw new ParseError(LAYER_CHAIN, base + at, 0, 0, 'SK/SKF inside encrypted payload');
      if (at + len !== bytes.length) {
        throw new ParseError(LAYER_CHAIN, base + at + 2, len, bytes.length - at, 'SK/SKF must be the last payload');
      }
      return { payloads, envelope: { type, offset: at, innerFirst: next, critical } };
    }
    const body = r.view(len - GENERIC_HEADER_LEN);
    payloads.push(decodeBody(type, critical, body, base + at + GENERIC_HEADER_LEN));
    type = next;
  }
  if (!r.done) r.fail(`${r.remaining} bytes after the last payload`, 0, r.remaining);
  return { payloads };
}

/** decode a bare payload chain (the inside of SK/SKF); SK/SKF inside is a ParseError */
export function decodePayloads(firstType: number, bytes: Uint8Array, base = 0): Payload[] {
  return decodeChain(firstType, bytes, base, false).payloads;
}
