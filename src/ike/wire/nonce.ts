/**
 * Nonce payload body (Ni, Nr), RFC 7296 §3.9.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                            Nonce Data                         ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * "The size of the Nonce Data MUST be between 16 and 256 octets, inclusive."
 */
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { PayloadType } from './constants.js';
import type { PayloadOf } from './types.js';

export type NoncePayload = PayloadOf<typeof PayloadType.NONCE>;
export const NONCE_MIN = 16;
export const NONCE_MAX = 256;

export function encodingLength(p: Pick<NoncePayload, 'data'>): number {
  return p.data.length;
}
export function write(p: Pick<NoncePayload, 'data'>, w: Writer): void {
  w.bytes(p.data);
}
export function encode(p: Pick<NoncePayload, 'data'>): Uint8Array {
  const w = Writer.alloc(encodingLength(p));
  write(p, w);
  return w.finish();
}
export function decode(body: Uint8Array, base = 0): NoncePayload {
  const r = new Reader(body, 'NONCE', base);
  if (body.length < NONCE_MIN) r.fail(`nonce of ${body.length} octets < ${NONCE_MIN}`, NONCE_MIN, body.length);
  if (body.length > NONCE_MAX) r.fail(`nonce of ${body.length} octets > ${NONCE_MAX}`, NONCE_MAX, body.length);
  return { type: PayloadType.NONCE, data: r.rest() };
}
