/**
 * Traffic Selector payloads TSi / TSr body, RFC 7296 §3.13.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Number of TSs |                 RESERVED                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                       <Traffic Selectors>                     ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Traffic Selector (§3.13.1):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   TS Type     |IP Protocol ID |       Selector Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Start Port          |           End Port            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                         Starting Address                      ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                         Ending Address                        ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * TS_IPV4_ADDR_RANGE (7): selector length 16; TS_IPV6_ADDR_RANGE (8): 40.
 * Other TS types are rejected. start ≤ end is NOT checked here (narrowing handles it).
 */
import { Reader } from './reader.js';
import { Writer, assertUint } from './writer.js';
import { PayloadType, TsType } from './constants.js';
import type { PayloadOf, TrafficSelectorWire } from './types.js';

export type TsPayload = PayloadOf<typeof PayloadType.TSi | typeof PayloadType.TSr>;

function addrLen(tsType: number): number {
  return tsType === TsType.IPV4_ADDR_RANGE ? 4 : tsType === TsType.IPV6_ADDR_RANGE ? 16 : -1;
}
export function selectorLength(tsType: number): number {
  const a = addrLen(tsType);
  return a < 0 ? -1 : 8 + 2 * a;
}

export function encodingLength(p: Pick<TsPayload, 'selectors'>): number {
  let n = 4;
  for (const s of p.selectors) n += 8 + s.startAddr.length + s.endAddr.length;
  return n;
}
export function write(p: Pick<TsPayload, 'selectors'>, w: Writer): void {
  assertUint(p.selectors.length, 8, 'number of TSs');
  w.u8(p.selectors.length).zeros(3);
  for (const s of p.selectors) {
    const a = addrLen(s.tsType);
    if (a < 0) throw new RangeError(`TS: unsupported type ${s.tsType}`);
    if (s.startAddr.length !== a || s.endAddr.length !== a) throw new RangeError(`TS: addresses must be ${a} octets`);
    assertUint(s.ipProtocol, 8, 'TS ip protocol');
    assertUint(s.startPort, 16, 'TS start port');
    assertUint(s.endPort, 16, 'TS end port');
    w.u8(s.tsType).u8(s.ipProtocol).u16(8 + 2 * a).u16(s.startPort).u16(s.endPort).bytes(s.startAddr).bytes(s.endAddr);
  }
}
export function encode(p: Pick<TsPayload, 'selectors'>): Uint8Array {
  const w = Writer.alloc(encodingLength(p));
  write(p, w);
  return w.finish();
}
export function decode(
  body: Uint8Array,
  type: typeof PayloadType.TSi | typeof PayloadType.TSr,
  base = 0,
): TsPayload {
  const r = new Reader(body, type === PayloadType.TSi ? 'TSi' : 'TSr', base);
  const count = r.u8('TS header');
  r.skip(3, 'TS header');
  const selectors: TrafficSelectorWire[] = [];
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    const tsType = r.u8('selector header');
    const ipProtocol = r.u8('selector header');
    const len = r.u16('selector header');
    const want = selectorLength(tsType);
    if (want < 0) r.fail(`unsupported TS type ${tsType}`, 0, 0, at);
    if (len !== want) r.fail(`selector length ${len} for TS type ${tsType} (must be ${want})`, want, len, at + 2);
    const startPort = r.u16('selector');
    const endPort = r.u16('selector');
    const a = (want - 8) / 2;
    const startAddr = r.bytes(a, 'selector');
    const endAddr = r.bytes(a, 'selector');
    selectors.push({ tsType, ipProtocol, startPort, endPort, startAddr, endAddr });
  }
  r.end(`${r.remaining} bytes after ${count} selectors`);
  return { type, selectors };
}
