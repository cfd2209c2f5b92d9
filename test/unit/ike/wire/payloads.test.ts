import { describe, expect, it } from 'vitest';
import { IdType, NotifyType, PayloadType as P, ProtocolId, TsType } from '../../../../src/ike/wire/constants.js';
import type { Payload } from '../../../../src/ike/wire/types.js';
import * as sa from '../../../../src/ike/wire/sa.js';
import * as ke from '../../../../src/ike/wire/ke.js';
import * as id from '../../../../src/ike/wire/id.js';
import * as auth from '../../../../src/ike/wire/auth.js';
import * as nonce from '../../../../src/ike/wire/nonce.js';
import * as notify from '../../../../src/ike/wire/notify.js';
import * as del from '../../../../src/ike/wire/delete.js';
import * as vendor from '../../../../src/ike/wire/vendor.js';
import * as ts from '../../../../src/ike/wire/ts.js';
import * as cp from '../../../../src/ike/wire/cp.js';
import { decodePayloads, encodePayloads } from '../../../../src/ike/wire/payloads.js';
import { type BadCase, catchParse, expectBad, hexb, roundTrip, wrap } from './harness.js';

const b = (n: number, v = 0xab) => new Uint8Array(n).fill(v);
const empty = new Uint8Array(0);

const good: Record<string, Payload[]> = {
  SA: [
    {
      type: P.SA,
      proposals: [
        {
          num: 1,
          protocolId: ProtocolId.IKE,
          spi: empty,
          transforms: [
            { type: 1, id: 20, keyLength: 256 },
            { type: 2, id: 5 },
            { type: 4, id: 31 },
          ],
        },
        { num: 2, protocolId: ProtocolId.IKE, spi: empty, transforms: [{ type: 1, id: 28 }] },
      ],
    },
    { type: P.SA, proposals: [{ num: 3, protocolId: ProtocolId.ESP, spi: b(4), transforms: [] }] },
    { type: P.SA, critical: true, proposals: [{ num: 1, protocolId: ProtocolId.IKE, spi: b(8), transforms: [{ type: 5, id: 0 }] }] },
  ],
  KE: [
    { type: P.KE, group: 31, data: b(32) },
    { type: P.KE, group: 0xffff, data: empty },
  ],
  ID: [
    { type: P.IDi, idType: IdType.IPV4_ADDR, data: Uint8Array.of(10, 0, 0, 1) },
    { type: P.IDr, idType: IdType.IPV6_ADDR, data: b(16, 1) },
    { type: P.IDi, idType: IdType.FQDN, data: new TextEncoder().encode('gw.example.org') },
    { type: P.IDr, idType: IdType.KEY_ID, data: empty },
  ],
  AUTH: [{ type: P.AUTH, method: 2, data: b(32) }, { type: P.AUTH, method: 14, data: empty }],
  NONCE: [{ type: P.NONCE, data: b(16) }, { type: P.NONCE, data: b(256) }],
  NOTIFY: [
    { type: P.NOTIFY, protocolId: 0, spi: empty, notifyType: NotifyType.COOKIE, data: b(32) },
    { type: P.NOTIFY, protocolId: ProtocolId.ESP, spi: b(4), notifyType: NotifyType.REKEY_SA, data: empty },
    { type: P.NOTIFY, protocolId: ProtocolId.IKE, spi: b(8), notifyType: 7, data: empty },
  ],
  DELETE: [
    { type: P.DELETE, protocolId: ProtocolId.IKE, spis: [] },
    { type: P.DELETE, protocolId: ProtocolId.ESP, spis: [b(4, 1), b(4, 2)] },
    { type: P.DELETE, protocolId: ProtocolId.AH, spis: [] },
  ],
  VENDOR: [{ type: P.VENDOR, data: b(16) }, { type: P.VENDOR, data: empty }],
  TS: [
    {
      type: P.TSi,
      selectors: [
        { tsType: TsType.IPV4_ADDR_RANGE, ipProtocol: 0, startPort: 0, endPort: 65535, startAddr: b(4, 0), endAddr: b(4, 255) },
        { tsType: TsType.IPV6_ADDR_RANGE, ipProtocol: 6, startPort: 80, endPort: 80, startAddr: b(16, 1), endAddr: b(16, 2) },
      ],
    },
    // start > end is accepted at parse time
    { type: P.TSr, selectors: [{ tsType: 7, ipProtocol: 17, startPort: 9, endPort: 1, startAddr: b(4, 9), endAddr: b(4, 1) }] },
    { type: P.TSr, selectors: [] },
  ],
  CP: [
    { type: P.CP, cfgType: 1, attributes: [{ type: 1, value: empty }, { type: 0x7fff, value: b(4) }] },
    { type: P.CP, cfgType: 2, attributes: [] },
  ],
  OPAQUE: [
    { type: P.CERT, body: b(10) },
    { type: P.CERTREQ, body: empty },
    { type: P.EAP, critical: true, body: b(5) },
  ],
  UNKNOWN: [
    { type: 'unknown', payloadType: 1, critical: false, body: b(3) },
    { type: 'unknown', payloadType: 200, critical: true, body: empty },
  ],
};

describe('round trip (hand-written cases)', () => {
  for (const [name, cases] of Object.entries(good)) {
    it.each(cases.map((c, i) => [i, c] as const))(`${name} #%i`, (_i, p) => {
      roundTrip(p);
    });
  }

  it('per-body codecs: encodingLength === bytes written and decode(encode(x))', () => {
    const s = good.SA![0]! as sa.SaPayload;
    expect(sa.encode(s).length).toBe(sa.encodingLength(s));
    expect(sa.decode(sa.encode(s))).toEqual(s);
    const k = good.KE![0]! as ke.KePayload;
    expect(ke.decode(ke.encode(k))).toEqual(k);
    const i = good.ID![1]! as id.IdPayload;
    expect(id.decode(id.encode(i), P.IDr)).toEqual(i);
    const a = good.AUTH![0]! as auth.AuthPayload;
    expect(auth.decode(auth.encode(a))).toEqual(a);
    const n = good.NONCE![0]! as nonce.NoncePayload;
    expect(nonce.decode(nonce.encode(n))).toEqual(n);
    const no = good.NOTIFY![1]! as notify.NotifyPayload;
    expect(notify.encode(no).length).toBe(notify.encodingLength(no));
    expect(notify.decode(notify.encode(no))).toEqual(no);
    const d = good.DELETE![1]! as del.DeletePayload;
    expect(del.decode(del.encode(d))).toEqual(d);
    const v = good.VENDOR![0]! as vendor.VendorPayload;
    expect(vendor.decode(vendor.encode(v))).toEqual(v);
    const t = good.TS![0]! as ts.TsPayload;
    expect(ts.encode(t).length).toBe(ts.encodingLength(t));
    expect(ts.decode(ts.encode(t), P.TSi)).toEqual(t);
    const c = good.CP![0]! as cp.CpPayload;
    expect(cp.decode(cp.encode(c))).toEqual(c);
  });

  it('SA wire form matches RFC 7296 §3.3 layout (markers 2/0 and 3/0, Key Length TV)', () => {
    const bytes = sa.encode(good.SA![0]! as sa.SaPayload);
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '02000024' + '01010003' + '0300000c' + '01000014' + '800e0100' + '03000008' + '02000005' + '00000008' + '0400001f' +
        '00000010' + '02010001' + '00000008' + '0100001c',
    );
  });

  it('SA decode skips unknown attributes in TV and TLV form', () => {
    // one proposal, one transform with [TV attr 99][TLV attr 5 len 3 'abc'][TV Key Length 128]
    const body = hexb('0000001f 01010001 00000017 01000014 8063 0001 0005 0003 616263 800e0080'.replace(/ /g, ''));
    const p = decodePayloads(P.SA, wrap(body));
    expect(p[0]).toEqual({ type: P.SA, proposals: [{ num: 1, protocolId: 1, spi: empty, transforms: [{ type: 1, id: 20, keyLength: 128 }] }] });
  });

  it('keeps the C bit of known payloads only when set, always on unknown ones', () => {
    const [v] = decodePayloads(P.VENDOR, wrap('aa', true));
    expect(v).toEqual({ type: P.VENDOR, critical: true, data: Uint8Array.of(0xaa) });
    const [u] = decodePayloads(99, wrap('aa'));
    expect(u).toEqual({ type: 'unknown', payloadType: 99, critical: false, body: Uint8Array.of(0xaa) });
  });

  it('chains several payloads with computed next-payload fields', () => {
    const chain: Payload[] = [good.NONCE![0]!, good.NOTIFY![0]!, good.UNKNOWN![0]!, good.VENDOR![1]!];
    const bytes = encodePayloads(chain);
    expect(bytes[0]).toBe(P.NOTIFY);
    expect(decodePayloads(P.NONCE, bytes)).toEqual(chain);
  });

  it('notify helpers', () => {
    expect(notify.isErrorNotify(NotifyType.INVALID_SYNTAX)).toBe(true);
    expect(notify.isErrorNotify(NotifyType.COOKIE)).toBe(false);
    expect(notify.decodeInvalidKeData(notify.encodeInvalidKeData(19))).toBe(19);
    expect(notify.decodeInvalidKeData(Uint8Array.of(1))).toBeUndefined();
  });

  it('encoders reject values that cannot be represented', () => {
    expect(() => del.encode({ protocolId: ProtocolId.IKE, spis: [b(4)] })).toThrow(RangeError);
    expect(() => del.encode({ protocolId: ProtocolId.ESP, spis: [b(8)] })).toThrow(RangeError);
    expect(() => ts.encode({ selectors: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 0, startAddr: b(16), endAddr: b(16) }] })).toThrow(RangeError);
    expect(() => ke.encode({ group: 70000, data: empty })).toThrow(RangeError);
    expect(() => encodePayloads([{ type: P.VENDOR, data: b(70000) }])).toThrow(RangeError);
  });
});

// ---- malformed input: exact ParseError layer ---------------------------------------------

const bad: BadCase[] = [
  // SA
  { name: 'SA empty', type: P.SA, body: '', layer: 'SA', detail: /no proposals/ },
  { name: 'proposal header truncated', type: P.SA, body: '0000', layer: 'SA/Proposal' },
  { name: 'proposal length < 8', type: P.SA, body: '00000004 01010000', layer: 'SA/Proposal', detail: /< 8/ },
  { name: 'proposal length beyond SA', type: P.SA, body: '00000010 01010000', layer: 'SA/Proposal' },
  { name: 'proposal marker 2 on last', type: P.SA, body: '02000008 01010000', layer: 'SA/Proposal', detail: /last proposal/ },
  { name: 'proposal marker 0 with more', type: P.SA, body: '00000008 01010000 00000008 02010000', layer: 'SA/Proposal', detail: /more follow/ },
  { name: 'proposal marker 1', type: P.SA, body: '01000008 01010000', layer: 'SA/Proposal', detail: /last-substructure/ },
  { name: 'proposal number 0', type: P.SA, body: '00000008 00010000', layer: 'SA/Proposal', detail: /number 0/ },
  { name: 'proposal numbers 1,3', type: P.SA, body: '02000008 01010000 00000008 03010000', layer: 'SA/Proposal', detail: /3 after 1/ },
  { name: 'SPI larger than proposal', type: P.SA, body: '00000008 01010400', layer: 'SA/Proposal' },
  { name: 'bytes after transforms', type: P.SA, body: '0000000a 01010000 0000', layer: 'SA/Proposal', detail: /after 0 transforms/ },
  { name: 'missing transform', type: P.SA, body: '00000008 01010001', layer: 'SA/Transform' },
  { name: 'transform marker 3 on last', type: P.SA, body: '00000010 01010001 03000008 01000014', layer: 'SA/Transform', detail: /not marked 0/ },
  { name: 'transform marker 0 with more', type: P.SA, body: '00000018 01010002 00000008 01000014 00000008 02000005', layer: 'SA/Transform', detail: /more follow/ },
  { name: 'transform length < 8', type: P.SA, body: '00000010 01010001 00000004 01000014', layer: 'SA/Transform' },
  { name: 'transform length beyond proposal', type: P.SA, body: '00000010 01010001 00000010 01000014', layer: 'SA/Transform' },
  { name: 'Key Length in TLV form', type: P.SA, body: '00000016 01010001 0000000e 01000014 000e0002 0080', layer: 'SA/Transform', detail: /TV/ },
  { name: 'duplicate Key Length', type: P.SA, body: '00000018 01010001 00000010 01000014 800e0080 800e0100', layer: 'SA/Transform', detail: /duplicate/ },
  { name: 'TLV attribute overflows', type: P.SA, body: '00000014 01010001 0000000c 01000014 00050009', layer: 'SA/Transform' },
  { name: 'attribute truncated', type: P.SA, body: '00000012 01010001 0000000a 01000014 800e', layer: 'SA/Transform' },
  // KE / ID / AUTH / NONCE
  { name: 'KE header truncated', type: P.KE, body: '001f00', layer: 'KE' },
  { name: 'IDi header truncated', type: P.IDi, body: '010000', layer: 'IDi' },
  { name: 'IDi IPv4 of 5 octets', type: P.IDi, body: '01000000 0a000001ff', layer: 'IDi', detail: /needs 4/ },
  { name: 'IDr IPv6 of 4 octets', type: P.IDr, body: '05000000 0a000001', layer: 'IDr', detail: /needs 16/ },
  { name: 'AUTH header truncated', type: P.AUTH, body: '02', layer: 'AUTH' },
  { name: 'nonce of 15', type: P.NONCE, body: '00'.repeat(15), layer: 'NONCE', detail: /< 16/ },
  { name: 'nonce of 257', type: P.NONCE, body: '00'.repeat(257), layer: 'NONCE', detail: /> 256/ },
  // NOTIFY
  { name: 'NOTIFY header truncated', type: P.NOTIFY, body: '000040', layer: 'NOTIFY' },
  { name: 'NOTIFY SPI beyond body', type: P.NOTIFY, body: '03084009 c1000001', layer: 'NOTIFY' },
  // DELETE
  { name: 'DELETE header truncated', type: P.DELETE, body: '030400', layer: 'DELETE' },
  { name: 'DELETE IKE with SPI size 4', type: P.DELETE, body: '01040000', layer: 'DELETE', detail: /SPI size 4/ },
  { name: 'DELETE IKE with SPIs', type: P.DELETE, body: '01000001', layer: 'DELETE', detail: /IKE delete with 1/ },
  { name: 'DELETE ESP with SPI size 8', type: P.DELETE, body: '03080001 0000000000000001', layer: 'DELETE', detail: /SPI size 8/ },
  { name: 'DELETE ESP num SPIs too large', type: P.DELETE, body: '03040002 c1000001', layer: 'DELETE', detail: /2 SPIs/ },
  { name: 'DELETE ESP trailing octets', type: P.DELETE, body: '03040001 c1000001 00', layer: 'DELETE' },
  { name: 'DELETE unknown protocol', type: P.DELETE, body: '07000000', layer: 'DELETE', detail: /protocol id 7/ },
  // TS
  { name: 'TS header truncated', type: P.TSi, body: '010000', layer: 'TSi' },
  { name: 'TS count beyond body', type: P.TSi, body: '01000000', layer: 'TSi' },
  { name: 'TS type 9', type: P.TSi, body: '01000000 09000010 0000ffff 00000000 ffffffff', layer: 'TSi', detail: /type 9/ },
  { name: 'TS v4 with length 40', type: P.TSr, body: '01000000 07000028 0000ffff 00000000 ffffffff', layer: 'TSr', detail: /must be 16/ },
  { name: 'TS v6 with length 16', type: P.TSr, body: '01000000 08000010 0000ffff 00000000 ffffffff', layer: 'TSr', detail: /must be 40/ },
  { name: 'TS selector truncated', type: P.TSi, body: '01000000 07000010 0000ffff 00000000', layer: 'TSi' },
  { name: 'TS trailing bytes', type: P.TSi, body: '01000000 07000010 0000ffff 00000000 ffffffff 00', layer: 'TSi', detail: /after 1 selectors/ },
  // CP
  { name: 'CP header truncated', type: P.CP, body: '0100', layer: 'CP' },
  { name: 'CP attribute beyond body', type: P.CP, body: '01000000 00010004 0a00', layer: 'CP' },
  { name: 'CP attribute header truncated', type: P.CP, body: '01000000 0001', layer: 'CP' },
];

describe('malformed payload bodies → ParseError with the exact layer', () => {
  it.each(bad.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    expectBad(c);
  });

  it('reports absolute offsets inside the datagram', () => {
    // NONCE body starts at offset 4 of the chain; base 28 simulates the IKE header before it
    const e = catchParse(() => decodePayloads(P.TSi, wrap('01000000 09000010 0000ffff 00000000 ffffffff'), 28));
    expect(e.offset).toBe(28 + 4 + 4);
  });
});

describe('malformed generic payload headers', () => {
  const cases: [string, number, string, RegExp][] = [
    ['truncated generic header', P.VENDOR, '0000', /truncated/],
    ['payload length < 4', P.VENDOR, '00000003', /< 4/],
    ['payload length beyond the data', P.VENDOR, '00000009 aabb', /exceeds/],
    ['trailing bytes after the last payload', P.VENDOR, '00000005 aa ff', /after the last payload/],
    ['next payload promised but absent', P.VENDOR, '2b000005 aa', /truncated/],
    ['SK nested in a bare chain', P.SK, '00000008 00000000', /SK\/SKF inside/],
  ];
  it.each(cases)('%s', (_n, type, hex, detail) => {
    const e = catchParse(() => decodePayloads(type, hexb(hex)));
    expect(e.layer).toBe('payload header');
    expect(e.message).toMatch(detail);
  });
});
