/**
 * Key Exchange payload body, RFC 7296 §3.4.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Diffie-Hellman Group Num    |           RESERVED            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                       Key Exchange Data                       ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * The length of the data for a given group is checked by crypto/ (INVALID_SYNTAX there).
 */
import { Reader } from './reader.js';
import { Writer, assertUint } from './writer.js';
import { PayloadType } from './constants.js';
import type { PayloadOf } from './types.js';

export type KePayload = PayloadOf<typeof PayloadType.KE>;

export function encodingLength(p: Pick<KePayload, 'data'>): number {
  return 4 + p.data.length;
}
export function write(p: Pick<KePayload, 'group' | 'data'>, w: Writer): void {
  assertUint(p.group, 16, 'KE group');
  w.u16(p.group).u16(0).bytes(p.data);
}
export function encode(p: Pick<KePayload, 'group' | 'data'>): Uint8Array {
  const w = Writer.alloc(encodingLength(p));
  write(p, w);
  return w.finish();
}
export function decode(body: Uint8Array, base = 0): KePayload {
  const r = new Reader(body, 'KE', base);
  const group = r.u16('KE header');
  r.skip(2, 'KE header');
  return { type: PayloadType.KE, group, data: r.rest() };
}
