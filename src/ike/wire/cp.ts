/**
 * Configuration payload body, RFC 7296 §3.15 (parsed so it can be ignored safely).
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   CFG Type    |                    RESERVED                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                   Configuration Attributes                    ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Configuration attribute (§3.15.1):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|         Attribute Type      |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                             Value                             ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * The R bit is reserved (sent 0, ignored on receipt).
 */
import { Reader } from './reader.js';
import { Writer, assertUint } from './writer.js';
import { PayloadType } from './constants.js';
import type { CpAttribute, PayloadOf } from './types.js';

export type CpPayload = PayloadOf<typeof PayloadType.CP>;

export function encodingLength(p: Pick<CpPayload, 'attributes'>): number {
  let n = 4;
  for (const a of p.attributes) n += 4 + a.value.length;
  return n;
}
export function write(p: Pick<CpPayload, 'cfgType' | 'attributes'>, w: Writer): void {
  assertUint(p.cfgType, 8, 'CFG type');
  w.u8(p.cfgType).zeros(3);
  for (const a of p.attributes) {
    if (!Number.isInteger(a.type) || a.type < 0 || a.type > 0x7fff) throw new RangeError(`CP attribute type ${a.type}`);
    assertUint(a.value.length, 16, 'CP attribute length');
    w.u16(a.type).u16(a.value.length).bytes(a.value);
  }
}
export function encode(p: Pick<CpPayload, 'cfgType' | 'attributes'>): Uint8Array {
  const w = Writer.alloc(encodingLength(p));
  write(p, w);
  return w.finish();
}
export function decode(body: Uint8Array, base = 0): CpPayload {
  const r = new Reader(body, 'CP', base);
  const cfgType = r.u8('CP header');
  r.skip(3, 'CP header');
  const attributes: CpAttribute[] = [];
  while (!r.done) {
    const type = r.u16('attribute header') & 0x7fff;
    const len = r.u16('attribute header');
    attributes.push({ type, value: r.bytes(len, 'attribute value') });
  }
  return { type: PayloadType.CP, cfgType, attributes };
}
