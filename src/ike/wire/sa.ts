/**
 * Security Association payload body, RFC 7296 §3.3.
 *
 * SA payload body = one or more Proposal substructures (§3.3.1):
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Last Substruc |   RESERVED    |         Proposal Length       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                        SPI (variable)                         ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                        <Transforms>                           ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Last Substruc: 0 on the last proposal, 2 when another follows.
 * "the first Proposal MUST have a Proposal Num of one ... subsequent proposals MUST be one
 * more than the previous" (a response carries the single accepted number, so only
 * "non-zero, consecutive" is checked here; rules.ts checks "starts at 1" for requests).
 *
 * Transform substructure (§3.3.2):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Last Substruc |   RESERVED    |        Transform Length       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Transform Type |   RESERVED    |          Transform ID         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                      Transform Attributes                     ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Last Substruc: 0 on the last transform, 3 when another follows.
 *
 * Transform attribute (§3.3.5):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |A|       Attribute Type        |    AF=0  Attribute Length     |
 * |F|                             |    AF=1  Attribute Value      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   AF=0  Attribute Value                       |
 * |                   AF=1  Not Transmitted                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Key Length (type 14) is the only attribute defined and MUST use TV form (AF=1).
 * Other attributes are skipped on decode (TV: 4 bytes; TLV: 4 + length).
 */
import { Reader } from './reader.js';
import { Writer, assertUint } from './writer.js';
import { ATTR_KEY_LENGTH, PayloadType } from './constants.js';
import type { PayloadOf, Proposal, Transform } from './types.js';

export type SaPayload = PayloadOf<typeof PayloadType.SA>;

const LAST = 0;
const MORE_PROPOSALS = 2;
const MORE_TRANSFORMS = 3;
const AF_TV = 0x8000;

function transformLength(t: Transform): number {
  return 8 + (t.keyLength !== undefined ? 4 : 0);
}
function proposalLength(p: Proposal): number {
  let n = 8 + p.spi.length;
  for (const t of p.transforms) n += transformLength(t);
  return n;
}

export function encodingLength(p: Pick<SaPayload, 'proposals'>): number {
  let n = 0;
  for (const pr of p.proposals) n += proposalLength(pr);
  return n;
}

export function write(p: Pick<SaPayload, 'proposals'>, w: Writer): void {
  p.proposals.forEach((pr, i) => {
    const len = proposalLength(pr);
    assertUint(len, 16, 'proposal length');
    assertUint(pr.num, 8, 'proposal num');
    assertUint(pr.protocolId, 8, 'protocol id');
    assertUint(pr.spi.length, 8, 'SPI size');
    assertUint(pr.transforms.length, 8, 'num transforms');
    w.u8(i === p.proposals.length - 1 ? LAST : MORE_PROPOSALS).u8(0).u16(len);
    w.u8(pr.num).u8(pr.protocolId).u8(pr.spi.length).u8(pr.transforms.length).bytes(pr.spi);
    pr.transforms.forEach((t, j) => {
      assertUint(t.type, 8, 'transform type');
      assertUint(t.id, 16, 'transform id');
      w.u8(j === pr.transforms.length - 1 ? LAST : MORE_TRANSFORMS).u8(0).u16(transformLength(t));
      w.u8(t.type).u8(0).u16(t.id);
      if (t.keyLength !== undefined) {
        assertUint(t.keyLength, 16, 'key length');
        w.u16(AF_TV | ATTR_KEY_LENGTH).u16(t.keyLength);
      }
    });
  });
}

export function encode(p: Pick<SaPayload, 'proposals'>): Uint8Array {
  const w = Writer.alloc(encodingLength(p));
  write(p, w);
  return w.finish();
}

function readTransform(outer: Reader, isLast: boolean): Transform {
  // the transform is parsed with its own layer name, then the proposal cursor advances
  const r = new Reader(outer.buf.subarray(outer.pos), 'SA/Transform', outer.offset);
  const start = r.offset;
  const marker = r.u8('transform header');
  r.skip(1, 'transform header');
  const len = r.u16('transform header');
  if (marker !== LAST && marker !== MORE_TRANSFORMS) r.fail(`bad last-substructure value ${marker}`, 0, 0, start);
  if (isLast !== (marker === LAST)) {
    r.fail(isLast ? 'last transform not marked 0' : 'transform marked last but more follow', 0, 0, start);
  }
  if (len < 8) r.fail(`transform length ${len} < 8`, 8, len, start + 2);
  const tr = r.sub(len - 4, 'SA/Transform', 'transform');
  outer.pos += len;
  const type = tr.u8('transform type');
  tr.skip(1);
  const id = tr.u16('transform id');
  const t: Transform = { type, id };
  while (!tr.done) {
    const aStart = tr.offset;
    const at = tr.u16('attribute header');
    const v = tr.u16('attribute header');
    const tv = (at & AF_TV) !== 0;
    const atype = at & 0x7fff;
    if (atype === ATTR_KEY_LENGTH) {
      if (!tv) tr.fail('Key Length attribute must be TV (AF=1)', 0, 0, aStart);
      if (t.keyLength !== undefined) tr.fail('duplicate Key Length attribute', 0, 0, aStart);
      t.keyLength = v;
    } else if (!tv) {
      tr.skip(v, 'attribute value');
    }
  }
  return t;
}

function readProposal(r: Reader): Proposal {
  const start = r.offset;
  const marker = r.u8('proposal header');
  r.skip(1);
  const len = r.u16('proposal header');
  if (marker !== LAST && marker !== MORE_PROPOSALS) r.fail(`bad last-substructure value ${marker}`, 0, 0, start);
  if (len < 8) r.fail(`proposal length ${len} < 8`, 8, len, start + 2);
  const pr = r.sub(len - 4, 'SA/Proposal', 'proposal');
  if ((marker === LAST) !== r.done) {
    pr.fail(marker === LAST ? 'proposal marked last but more follow' : 'last proposal not marked 0', 0, 0, start);
  }
  const num = pr.u8('proposal num');
  const protocolId = pr.u8('protocol id');
  const spiSize = pr.u8('SPI size');
  const numTransforms = pr.u8('num transforms');
  const spi = pr.bytes(spiSize, 'SPI');
  const transforms: Transform[] = [];
  for (let i = 0; i < numTransforms; i++) transforms.push(readTransform(pr, i === numTransforms - 1));
  pr.end(`${pr.remaining} bytes after ${numTransforms} transforms`);
  return { num, protocolId, spi, transforms };
}

/** decode an SA payload body; base = absolute offset of body[0] (errors only) */
export function decode(body: Uint8Array, base = 0): SaPayload {
  const r = new Reader(body, 'SA/Proposal', base);
  if (r.done) throw new Reader(body, 'SA', base).fail('no proposals', 8, 0);
  const proposals: Proposal[] = [];
  while (!r.done) {
    const at = r.offset;
    const p = readProposal(r);
    if (p.num === 0) r.fail('proposal number 0', 0, 0, at + 4);
    const prev = proposals[proposals.length - 1];
    if (prev && p.num !== prev.num + 1) r.fail(`proposal number ${p.num} after ${prev.num}`, 0, 0, at + 4);
    proposals.push(p);
  }
  return { type: PayloadType.SA, proposals };
}
