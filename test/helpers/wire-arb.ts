/**
 * fast-check arbitraries for the IKEv2 wire model (src/ike/wire/types.ts) and a set of
 * realistic sample messages. Every arbitrary yields values in *decoded* form: what the
 * decoder returns for their encoding (critical present only when true, Transform.keyLength
 * only when present, ID_IPV4/IPV6 data of the right size, consecutive proposal numbers).
 */
import fc from 'fast-check';
import {
  AuthMethod,
  ExchangeType,
  IdType,
  NotifyType,
  PayloadType,
  ProtocolId,
  TransformType,
  TsType,
} from '../../src/ike/wire/constants.js';
import type { IkeHeader, IkeMessage, Payload, Proposal, Transform, TrafficSelectorWire } from '../../src/ike/wire/types.js';
import { isKnownPayloadType } from '../../src/ike/wire/payloads.js';

const P = PayloadType;
export const bytes = (minLength: number, maxLength: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength, maxLength });
const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const crit = fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

function withCrit<T extends object>(p: T, c: boolean): T {
  return c ? { ...p, critical: true } : p;
}

export const transformArb: fc.Arbitrary<Transform> = fc
  .record({ type: u8, id: u16, keyLength: fc.option(u16, { nil: undefined }) })
  .map(({ type, id, keyLength }) => (keyLength === undefined ? { type, id } : { type, id, keyLength }));

const proposalBody = fc.record({
  protocolId: u8,
  spi: fc.oneof(fc.constant(new Uint8Array(0)), bytes(4, 4), bytes(8, 8), bytes(0, 12)),
  transforms: fc.array(transformArb, { maxLength: 6 }),
});

export const saArb: fc.Arbitrary<Payload> = fc
  .record({ first: fc.integer({ min: 1, max: 250 }), props: fc.array(proposalBody, { minLength: 1, maxLength: 4 }), c: crit })
  .map(({ first, props, c }) =>
    withCrit({ type: P.SA, proposals: props.map((p, i): Proposal => ({ num: first + i, ...p })) }, c),
  );

export const keArb: fc.Arbitrary<Payload> = fc
  .record({ group: u16, data: bytes(0, 300), c: crit })
  .map(({ group, data, c }) => withCrit({ type: P.KE, group, data }, c));

export const idArb: fc.Arbitrary<Payload> = fc
  .record({
    type: fc.constantFrom(P.IDi, P.IDr),
    idType: fc.oneof(fc.constantFrom(1, 2, 3, 5, 9, 11), u8),
    data: bytes(0, 64),
    v4: bytes(4, 4),
    v6: bytes(16, 16),
    c: crit,
  })
  .map(({ type, idType, data, v4, v6, c }) =>
    withCrit({ type, idType, data: idType === IdType.IPV4_ADDR ? v4 : idType === IdType.IPV6_ADDR ? v6 : data }, c),
  );

export const authArb: fc.Arbitrary<Payload> = fc
  .record({ method: u8, data: bytes(0, 100), c: crit })
  .map(({ method, data, c }) => withCrit({ type: P.AUTH, method, data }, c));

export const nonceArb: fc.Arbitrary<Payload> = fc
  .record({ data: bytes(16, 256), c: crit })
  .map(({ data, c }) => withCrit({ type: P.NONCE, data }, c));

export const notifyArb: fc.Arbitrary<Payload> = fc
  .record({
    protocolId: fc.oneof(fc.constantFrom(0, 1, 3), u8),
    spi: fc.oneof(fc.constant(new Uint8Array(0)), bytes(4, 4), bytes(8, 8), bytes(0, 16)),
    notifyType: fc.oneof(fc.constantFrom(...Object.values(NotifyType)), u16),
    data: bytes(0, 64),
    c: crit,
  })
  .map(({ c, ...n }) => withCrit({ type: P.NOTIFY, ...n }, c));

export const deleteArb: fc.Arbitrary<Payload> = fc
  .oneof(
    fc.constant({ protocolId: ProtocolId.IKE as number, spis: [] as Uint8Array[] }),
    fc.record({ protocolId: fc.constantFrom<number>(ProtocolId.ESP, ProtocolId.AH), spis: fc.array(bytes(4, 4), { maxLength: 10 }) }),
  )
  .chain((d) => crit.map((c) => withCrit({ type: P.DELETE, ...d }, c)));

export const vendorArb: fc.Arbitrary<Payload> = fc
  .record({ data: bytes(0, 32), c: crit })
  .map(({ data, c }) => withCrit({ type: P.VENDOR, data }, c));

export const selectorArb: fc.Arbitrary<TrafficSelectorWire> = fc.oneof(
  fc.record({
    tsType: fc.constant<number>(TsType.IPV4_ADDR_RANGE),
    ipProtocol: u8,
    startPort: u16,
    endPort: u16,
    startAddr: bytes(4, 4),
    endAddr: bytes(4, 4),
  }),
  fc.record({
    tsType: fc.constant<number>(TsType.IPV6_ADDR_RANGE),
    ipProtocol: u8,
    startPort: u16,
    endPort: u16,
    startAddr: bytes(16, 16),
    endAddr: bytes(16, 16),
  }),
);

export const tsArb: fc.Arbitrary<Payload> = fc
  .record({ type: fc.constantFrom(P.TSi, P.TSr), selectors: fc.array(selectorArb, { maxLength: 5 }), c: crit })
  .map(({ type, selectors, c }) => withCrit({ type, selectors }, c));

export const cpArb: fc.Arbitrary<Payload> = fc
  .record({
    cfgType: u8,
    attributes: fc.array(fc.record({ type: fc.integer({ min: 0, max: 0x7fff }), value: bytes(0, 20) }), { maxLength: 5 }),
    c: crit,
  })
  .map(({ cfgType, attributes, c }) => withCrit({ type: P.CP, cfgType, attributes }, c));

export const opaqueArb: fc.Arbitrary<Payload> = fc
  .record({ type: fc.constantFrom(P.CERT, P.CERTREQ, P.EAP), body: bytes(0, 64), c: crit })
  .map(({ type, body, c }) => withCrit({ type, body }, c));

export const unknownArb: fc.Arbitrary<Payload> = fc
  .record({
    payloadType: fc.integer({ min: 1, max: 255 }).filter((t) => !isKnownPayloadType(t)),
    critical: fc.boolean(),
    body: bytes(0, 40),
  })
  .map((u) => ({ type: 'unknown' as const, ...u }));

/** name → arbitrary, for per-payload property tests */
export const payloadArbs: Record<string, fc.Arbitrary<Payload>> = {
  SA: saArb,
  KE: keArb,
  ID: idArb,
  AUTH: authArb,
  NONCE: nonceArb,
  NOTIFY: notifyArb,
  DELETE: deleteArb,
  VENDOR: vendorArb,
  TS: tsArb,
  CP: cpArb,
  OPAQUE: opaqueArb,
  UNKNOWN: unknownArb,
};
export const payloadArb: fc.Arbitrary<Payload> = fc.oneof(...Object.values(payloadArbs));

export const headerArb: fc.Arbitrary<IkeHeader> = fc.record({
  spiI: bytes(8, 8),
  spiR: bytes(8, 8),
  nextPayload: fc.constant(0),
  majorVersion: fc.constant(2),
  minorVersion: fc.integer({ min: 0, max: 15 }),
  exchangeType: fc.oneof(fc.constantFrom(34, 35, 36, 37), u8),
  initiator: fc.boolean(),
  response: fc.boolean(),
  version: fc.boolean(),
  messageId: u32,
  length: fc.constant(0),
});

export const messageArb = (encrypted: boolean): fc.Arbitrary<IkeMessage> =>
  fc.record({ header: headerArb, payloads: fc.array(payloadArb, { maxLength: 8 }), encrypted: fc.constant(encrypted) });

// ---- realistic samples ------------------------------------------------------------------

const fill = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

export function hdr(exchangeType: number, response: boolean, messageId: number, initiator = !response): IkeHeader {
  return {
    spiI: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
    spiR: exchangeType === ExchangeType.IKE_SA_INIT && !response ? fill(8, 0) : Uint8Array.of(9, 10, 11, 12, 13, 14, 15, 16),
    nextPayload: 0,
    majorVersion: 2,
    minorVersion: 0,
    exchangeType,
    initiator,
    response,
    version: false,
    messageId,
    length: 0,
  };
}

const ikeProposal = (num: number): Proposal => ({
  num,
  protocolId: ProtocolId.IKE,
  spi: new Uint8Array(0),
  transforms: [
    { type: TransformType.ENCR, id: 20, keyLength: 256 },
    { type: TransformType.PRF, id: 5 },
    { type: TransformType.KE, id: 31 },
  ],
});
const espProposal = (num: number): Proposal => ({
  num,
  protocolId: ProtocolId.ESP,
  spi: Uint8Array.of(0xc1, 0, 0, num),
  transforms: [
    { type: TransformType.ENCR, id: 20, keyLength: 128 },
    { type: TransformType.ESN, id: 0 },
  ],
});
const v4ts = (a: number): TrafficSelectorWire => ({
  tsType: TsType.IPV4_ADDR_RANGE,
  ipProtocol: 0,
  startPort: 0,
  endPort: 65535,
  startAddr: Uint8Array.of(10, a, 0, 0),
  endAddr: Uint8Array.of(10, a, 255, 255),
});
const n = (notifyType: number, data: Uint8Array = new Uint8Array(0)): Payload => ({
  type: P.NOTIFY,
  protocolId: 0,
  spi: new Uint8Array(0),
  notifyType,
  data,
});

export function sampleMessages(): Record<string, IkeMessage> {
  return {
    initReq: {
      header: hdr(ExchangeType.IKE_SA_INIT, false, 0),
      encrypted: false,
      payloads: [
        { type: P.SA, proposals: [ikeProposal(1), { ...ikeProposal(2), transforms: [{ type: 1, id: 28 }, { type: 2, id: 7 }, { type: 4, id: 19 }] }] },
        { type: P.KE, group: 31, data: fill(32, 0x11) },
        { type: P.NONCE, data: fill(32, 0x22) },
        n(NotifyType.NAT_DETECTION_SOURCE_IP, fill(20, 0x33)),
        n(NotifyType.NAT_DETECTION_DESTINATION_IP, fill(20, 0x44)),
        n(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED),
        { type: P.VENDOR, data: fill(16, 0x55) },
      ],
    },
    initResp: {
      header: hdr(ExchangeType.IKE_SA_INIT, true, 0, false),
      encrypted: false,
      payloads: [
        { type: P.SA, proposals: [ikeProposal(1)] },
        { type: P.KE, group: 31, data: fill(32, 0x66) },
        { type: P.NONCE, data: fill(32, 0x77) },
        n(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED),
      ],
    },
    initRespInvalidKe: {
      header: hdr(ExchangeType.IKE_SA_INIT, true, 0, false),
      encrypted: false,
      payloads: [n(NotifyType.INVALID_KE_PAYLOAD, Uint8Array.of(0, 19))],
    },
    initRespCookie: {
      header: hdr(ExchangeType.IKE_SA_INIT, true, 0, false),
      encrypted: false,
      payloads: [n(NotifyType.COOKIE, fill(32, 0x99))],
    },
    authReq: {
      header: hdr(ExchangeType.IKE_AUTH, false, 1),
      encrypted: true,
      payloads: [
        { type: P.IDi, idType: IdType.FQDN, data: new TextEncoder().encode('moon.strongswan.org') },
        n(NotifyType.INITIAL_CONTACT),
        { type: P.IDr, idType: IdType.IPV4_ADDR, data: Uint8Array.of(192, 168, 0, 2) },
        { type: P.AUTH, method: AuthMethod.SHARED_KEY_MIC, data: fill(32, 0xaa) },
        { type: P.SA, proposals: [espProposal(1), espProposal(2)] },
        { type: P.TSi, selectors: [v4ts(1)] },
        { type: P.TSr, selectors: [v4ts(2)] },
        { type: P.CP, cfgType: 1, attributes: [{ type: 1, value: new Uint8Array(0) }] },
      ],
    },
    authResp: {
      header: hdr(ExchangeType.IKE_AUTH, true, 1, false),
      encrypted: true,
      payloads: [
        { type: P.IDr, idType: IdType.FQDN, data: new TextEncoder().encode('sun.strongswan.org') },
        { type: P.AUTH, method: AuthMethod.SHARED_KEY_MIC, data: fill(32, 0xbb) },
        { type: P.SA, proposals: [espProposal(1)] },
        { type: P.TSi, selectors: [v4ts(1)] },
        { type: P.TSr, selectors: [v4ts(2)] },
      ],
    },
    authRespFail: {
      header: hdr(ExchangeType.IKE_AUTH, true, 1, false),
      encrypted: true,
      payloads: [n(NotifyType.AUTHENTICATION_FAILED)],
    },
    childReq: {
      header: hdr(ExchangeType.CREATE_CHILD_SA, false, 2),
      encrypted: true,
      payloads: [
        { type: P.NOTIFY, protocolId: ProtocolId.ESP, spi: Uint8Array.of(0xc1, 0, 0, 1), notifyType: NotifyType.REKEY_SA, data: new Uint8Array(0) },
        { type: P.SA, proposals: [espProposal(1)] },
        { type: P.NONCE, data: fill(32, 0xcc) },
        { type: P.KE, group: 31, data: fill(32, 0xdd) },
        { type: P.TSi, selectors: [v4ts(1)] },
        { type: P.TSr, selectors: [v4ts(2)] },
      ],
    },
    infoDelete: {
      header: hdr(ExchangeType.INFORMATIONAL, false, 3),
      encrypted: true,
      payloads: [{ type: P.DELETE, protocolId: ProtocolId.ESP, spis: [Uint8Array.of(0xc1, 0, 0, 1), Uint8Array.of(0xc1, 0, 0, 2)] }],
    },
    infoDeleteIke: {
      header: hdr(ExchangeType.INFORMATIONAL, false, 4),
      encrypted: true,
      payloads: [{ type: P.DELETE, protocolId: ProtocolId.IKE, spis: [] }],
    },
    infoEmpty: { header: hdr(ExchangeType.INFORMATIONAL, true, 4, false), encrypted: true, payloads: [] },
  };
}
