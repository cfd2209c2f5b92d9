/**
 * Notify payload body, RFC 7296 §3.10.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Protocol ID  |   SPI Size    |      Notify Message Type      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                Security Parameter Index (SPI)                 ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                       Notification Data                       ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Error types are < 16384, status types >= 16384 (§3.10.1).
 * Typed data helpers below: INVALID_KE_PAYLOAD carries the 2-octet accepted group;
 * COOKIE 1..64 octets; NAT_DETECTION_* a 20-octet SHA-1; REKEY_SA uses the SPI field.
 */
import { Reader } from './reader.js';
import { Writer, assertUint } from './writer.js';
import { PayloadType } from './constants.js';
import type { PayloadOf } from './types.js';

export type NotifyPayload = PayloadOf<typeof PayloadType.NOTIFY>;

/** §3.10.1: "Types in the range 0 - 16383 are intended for reporting errors" */
export const NOTIFY_STATUS_MIN = 16384;
export function isErrorNotify(notifyType: number): boolean {
  return notifyType > 0 && notifyType < NOTIFY_STATUS_MIN;
}

export function encodingLength(p: Pick<NotifyPayload, 'spi' | 'data'>): number {
  return 4 + p.spi.length + p.data.length;
}
export function write(p: Omit<NotifyPayload, 'type' | 'critical'>, w: Writer): void {
  assertUint(p.protocolId, 8, 'notify protocol id');
  assertUint(p.spi.length, 8, 'notify SPI size');
  assertUint(p.notifyType, 16, 'notify type');
  w.u8(p.protocolId).u8(p.spi.length).u16(p.notifyType).bytes(p.spi).bytes(p.data);
}
export function encode(p: Omit<NotifyPayload, 'type' | 'critical'>): Uint8Array {
  const w = Writer.alloc(encodingLength(p));
  write(p, w);
  return w.finish();
}
export function decode(body: Uint8Array, base = 0): NotifyPayload {
  const r = new Reader(body, 'NOTIFY', base);
  const protocolId = r.u8('NOTIFY header');
  const spiSize = r.u8('NOTIFY header');
  const notifyType = r.u16('NOTIFY header');
  const spi = r.bytes(spiSize, 'NOTIFY SPI');
  return { type: PayloadType.NOTIFY, protocolId, spi, notifyType, data: r.rest() };
}

/** INVALID_KE_PAYLOAD notification data: the accepted group (2 octets, §3.10.1) */
export function encodeInvalidKeData(group: number): Uint8Array {
  assertUint(group, 16, 'KE group');
  return Uint8Array.of(group >>> 8, group & 0xff);
}
/** undefined unless data is exactly 2 octets */
export function decodeInvalidKeData(data: Uint8Array): number | undefined {
  return data.length === 2 ? (data[0]! << 8) | data[1]! : undefined;
}
