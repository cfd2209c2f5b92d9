/**
 * IKE header, RFC 7296 §3.1.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       IKE SA Initiator's SPI                  |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       IKE SA Responder's SPI                  |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Message ID                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                            Length                             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Flags: X X R V I X X X  (R = Response 0x20, V = Version 0x10, I = Initiator 0x08).
 * "X" bits MUST be sent as zero and MUST be ignored on receipt.
 *
 * The major version is reported, not enforced, here: a receiver answers a higher major
 * version with INVALID_MAJOR_VERSION (§2.5) and that is the engine's call.
 */
import { Reader } from './reader.js';
import { Writer, assertUint } from './writer.js';
import { HeaderFlag } from './constants.js';
import type { IkeHeader } from './types.js';

export const IKE_HEADER_LEN = 28;
export const LAYER_HEADER = 'IKE header';

/** Parse the fixed 28 octets. Does not compare Length with the datagram (message.ts does). */
export function readHeader(r: Reader): IkeHeader {
  r.need(IKE_HEADER_LEN, 'IKE header');
  const spiI = r.bytes(8);
  const spiR = r.bytes(8);
  const nextPayload = r.u8();
  const ver = r.u8();
  const exchangeType = r.u8();
  const flags = r.u8();
  const messageId = r.u32();
  const length = r.u32();
  return {
    spiI,
    spiR,
    nextPayload,
    majorVersion: ver >>> 4,
    minorVersion: ver & 0x0f,
    exchangeType,
    initiator: (flags & HeaderFlag.INITIATOR) !== 0,
    response: (flags & HeaderFlag.RESPONSE) !== 0,
    version: (flags & HeaderFlag.VERSION) !== 0,
    messageId,
    length,
  };
}

export function flagsByte(h: Pick<IkeHeader, 'initiator' | 'response' | 'version'>): number {
  return (
    (h.initiator ? HeaderFlag.INITIATOR : 0) | (h.response ? HeaderFlag.RESPONSE : 0) | (h.version ? HeaderFlag.VERSION : 0)
  );
}

/** Write 28 octets with explicit nextPayload/length (the caller's header fields for those are ignored). */
export function writeHeader(h: IkeHeader, w: Writer, nextPayload: number, length: number): void {
  if (h.spiI.length !== 8 || h.spiR.length !== 8) throw new RangeError('IKE header: SPIs must be 8 octets');
  assertUint(h.majorVersion, 8, 'majorVersion');
  assertUint(h.minorVersion, 8, 'minorVersion');
  if (h.majorVersion > 15 || h.minorVersion > 15) throw new RangeError('IKE header: version nibble out of range');
  assertUint(h.exchangeType, 8, 'exchangeType');
  assertUint(h.messageId, 32, 'messageId');
  assertUint(length, 32, 'length');
  w.bytes(h.spiI).bytes(h.spiR).u8(nextPayload).u8((h.majorVersion << 4) | h.minorVersion).u8(h.exchangeType);
  w.u8(flagsByte(h)).u32(h.messageId).u32(length);
}

/** Standalone encode of a header as given (nextPayload and length taken from h). */
export function encodeHeader(h: IkeHeader): Uint8Array {
  const w = Writer.alloc(IKE_HEADER_LEN);
  writeHeader(h, w, h.nextPayload, h.length);
  return w.finish();
}

/** Standalone decode of the first 28 octets; no length check against the buffer. */
export function decodeHeaderOnly(buf: Uint8Array): IkeHeader {
  return readHeader(new Reader(buf, LAYER_HEADER, 0));
}
