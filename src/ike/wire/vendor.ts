/**
 * Vendor ID payload body, RFC 7296 §3.12.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                        Vendor ID (VID)                        ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { PayloadType } from './constants.js';
import type { PayloadOf } from './types.js';

export type VendorPayload = PayloadOf<typeof PayloadType.VENDOR>;

export function encodingLength(p: Pick<VendorPayload, 'data'>): number {
  return p.data.length;
}
export function write(p: Pick<VendorPayload, 'data'>, w: Writer): void {
  w.bytes(p.data);
}
export function encode(p: Pick<VendorPayload, 'data'>): Uint8Array {
  return Writer.alloc(encodingLength(p)).bytes(p.data).finish();
}
export function decode(body: Uint8Array, base = 0): VendorPayload {
  return { type: PayloadType.VENDOR, data: new Reader(body, 'VENDOR', base).rest() };
}
