/**
 * Delete payload body, RFC 7296 §3.11.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Protocol ID   |   SPI Size    |          Num of SPIs          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~               Security Parameter Index(es) (SPI)              ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * "For an IKE SA, the SPI Size MUST be zero ... [and] Num of SPIs ... zero";
 * "The SPI Size MUST be 4 for AH and ESP". Other protocol ids are rejected.
 */
import { Reader } from './reader.js';
import { Writer, assertUint } from './writer.js';
import { PayloadType, ProtocolId } from './constants.js';
import type { PayloadOf } from './types.js';

export type DeletePayload = PayloadOf<typeof PayloadType.DELETE>;

function spiSizeFor(protocolId: number): number {
  if (protocolId === ProtocolId.IKE) return 0;
  if (protocolId === ProtocolId.ESP || protocolId === ProtocolId.AH) return 4;
  return -1;
}

export function encodingLength(p: Pick<DeletePayload, 'spis'>): number {
  let n = 4;
  for (const s of p.spis) n += s.length;
  return n;
}
export function write(p: Pick<DeletePayload, 'protocolId' | 'spis'>, w: Writer): void {
  const size = spiSizeFor(p.protocolId);
  if (size < 0) throw new RangeError(`DELETE: protocol id ${p.protocolId}`);
  if (size === 0 && p.spis.length !== 0) throw new RangeError('DELETE: IKE delete carries no SPIs');
  for (const s of p.spis) if (s.length !== size) throw new RangeError(`DELETE: SPI must be ${size} octets`);
  assertUint(p.spis.length, 16, 'num SPIs');
  w.u8(p.protocolId).u8(size).u16(p.spis.length);
  for (const s of p.spis) w.bytes(s);
}
export function encode(p: Pick<DeletePayload, 'protocolId' | 'spis'>): Uint8Array {
  const w = Writer.alloc(encodingLength(p));
  write(p, w);
  return w.finish();
}
export function decode(body: Uint8Array, base = 0): DeletePayload {
  const r = new Reader(body, 'DELETE', base);
  const protocolId = r.u8('DELETE header');
  const spiSize = r.u8('DELETE header');
  const num = r.u16('DELETE header');
  const want = spiSizeFor(protocolId);
  if (want < 0) r.fail(`protocol id ${protocolId}`, 0, 0, base);
  if (spiSize !== want) r.fail(`SPI size ${spiSize} for protocol ${protocolId} (must be ${want})`, 0, 0, base + 1);
  if (want === 0 && num !== 0) r.fail(`IKE delete with ${num} SPIs`, 0, 0, base + 2);
  if (r.remaining !== num * spiSize) r.fail(`${num} SPIs of ${spiSize} octets`, num * spiSize, r.remaining);
  const spis: Uint8Array[] = [];
  for (let i = 0; i < num; i++) spis.push(r.bytes(spiSize));
  return { type: PayloadType.DELETE, protocolId, spis };
}
