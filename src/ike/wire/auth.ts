/**
 * Authentication payload body, RFC 7296 §3.8.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Auth Method   |                RESERVED                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                      Authentication Data                      ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { Reader } from './reader.js';
import { Writer, assertUint } from './writer.js';
import { PayloadType } from './constants.js';
import type { PayloadOf } from './types.js';

export type AuthPayload = PayloadOf<typeof PayloadType.AUTH>;

export function encodingLength(p: Pick<AuthPayload, 'data'>): number {
  return 4 + p.data.length;
}
export function write(p: Pick<AuthPayload, 'method' | 'data'>, w: Writer): void {
  assertUint(p.method, 8, 'auth method');
  w.u8(p.method).zeros(3).bytes(p.data);
}
export function encode(p: Pick<AuthPayload, 'method' | 'data'>): Uint8Array {
  const w = Writer.alloc(encodingLength(p));
  write(p, w);
  return w.finish();
}
export function decode(body: Uint8Array, base = 0): AuthPayload {
  const r = new Reader(body, 'AUTH', base);
  const method = r.u8('AUTH header');
  r.skip(3, 'AUTH header');
  return { type: PayloadType.AUTH, method, data: r.rest() };
}
