/**
 * Identification payloads IDi / IDr body, RFC 7296 §3.5.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   ID Type     |                 RESERVED                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                   Identification Data                         ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ID_IPV4_ADDR data is exactly 4 octets and ID_IPV6_ADDR exactly 16; other types
 * (FQDN, RFC822, KEY_ID, DN, GN) are opaque octets. Note: the AUTH computation (§2.15)
 * signs the body including the 3 RESERVED octets; we always send zeros there.
 */
import { Reader } from './reader.js';
import { Writer, assertUint } from './writer.js';
import { IdType, PayloadType } from './constants.js';
import type { PayloadOf } from './types.js';

export type IdPayload = PayloadOf<typeof PayloadType.IDi | typeof PayloadType.IDr>;

export function encodingLength(p: Pick<IdPayload, 'data'>): number {
  return 4 + p.data.length;
}
export function write(p: Pick<IdPayload, 'idType' | 'data'>, w: Writer): void {
  assertUint(p.idType, 8, 'ID type');
  w.u8(p.idType).zeros(3).bytes(p.data);
}
export function encode(p: Pick<IdPayload, 'idType' | 'data'>): Uint8Array {
  const w = Writer.alloc(encodingLength(p));
  write(p, w);
  return w.finish();
}
export function decode(
  body: Uint8Array,
  type: typeof PayloadType.IDi | typeof PayloadType.IDr,
  base = 0,
): IdPayload {
  const layer = type === PayloadType.IDi ? 'IDi' : 'IDr';
  const r = new Reader(body, layer, base);
  const idType = r.u8('ID header');
  r.skip(3, 'ID header');
  const need = idType === IdType.IPV4_ADDR ? 4 : idType === IdType.IPV6_ADDR ? 16 : -1;
  if (need >= 0 && r.remaining !== need) r.fail(`ID type ${idType} needs ${need} octets`, need, r.remaining);
  return { type, idType, data: r.rest() };
}
