/**
 * Decoded IKEv2 message model (RFC 7296 §3). Plain data; codecs live in the sibling files.
 * Every payload is a discriminated union member keyed by `type` (PayloadType numbers).
 * Byte fields are Uint8Array. `critical` is the C bit of the generic payload header (§3.2).
 */
import type { PayloadType } from './constants.js';

/** §3.1 IKE header. `length` is filled by the encoder; decoder reports what was on the wire. */
export interface IkeHeader {
  spiI: Uint8Array; // 8 octets
  spiR: Uint8Array; // 8 octets (zero in first IKE_SA_INIT request)
  nextPayload: number;
  majorVersion: number; // 2
  minorVersion: number; // 0
  exchangeType: number;
  /** flags: I (initiator of the IKE SA), R (response), V (higher version) */
  initiator: boolean;
  response: boolean;
  version: boolean;
  messageId: number;
  length: number;
}

/** §3.3.5 transform attributes beyond Key Length are kept raw */
export interface Transform {
  type: number; // TransformType
  id: number;
  keyLength?: number; // bits, from attribute 14 (TV)
}

/** §3.3.1 */
export interface Proposal {
  num: number; // 1-based
  protocolId: number; // ProtocolId
  spi: Uint8Array; // 0 (IKE_SA_INIT), 8 (IKE rekey) or 4 (ESP) octets
  transforms: Transform[];
}

/** §3.13.1 */
export interface TrafficSelectorWire {
  tsType: number; // 7 IPv4 / 8 IPv6
  ipProtocol: number; // 0 = any
  startPort: number;
  endPort: number;
  startAddr: Uint8Array; // 4 or 16 octets
  endAddr: Uint8Array;
}

export interface CpAttribute {
  type: number;
  value: Uint8Array;
}

export type Payload =
  | { type: typeof PayloadType.SA; critical?: boolean; proposals: Proposal[] }
  | { type: typeof PayloadType.KE; critical?: boolean; group: number; data: Uint8Array }
  | { type: typeof PayloadType.IDi | typeof PayloadType.IDr; critical?: boolean; idType: number; data: Uint8Array }
  | { type: typeof PayloadType.AUTH; critical?: boolean; method: number; data: Uint8Array }
  | { type: typeof PayloadType.NONCE; critical?: boolean; data: Uint8Array }
  | {
      type: typeof PayloadType.NOTIFY;
      critical?: boolean;
      protocolId: number; // 0 unless about an SA
      spi: Uint8Array; // empty, 4 (ESP) or 8 (IKE)
      notifyType: number;
      data: Uint8Array;
    }
  | { type: typeof PayloadType.DELETE; critical?: boolean; protocolId: number; spis: Uint8Array[] }
  | { type: typeof PayloadType.VENDOR; critical?: boolean; data: Uint8Array }
  | { type: typeof PayloadType.TSi | typeof PayloadType.TSr; critical?: boolean; selectors: TrafficSelectorWire[] }
  | { type: typeof PayloadType.CP; critical?: boolean; cfgType: number; attributes: CpAttribute[] }
  | { type: typeof PayloadType.CERT | typeof PayloadType.CERTREQ | typeof PayloadType.EAP; critical?: boolean; body: Uint8Array }
  /** any other payload type: kept raw (§2.5). */
  | { type: 'unknown'; payloadType: number; critical: boolean; body: Uint8Array };

/** Narrow helper: payload of a given numeric type. */
export type PayloadOf<T extends number> = Payload extends infer P ? (P extends { type: infer X } ? (T extends X ? P : never) : never) : never;

/**
 * A whole message. `payloads` are the plaintext payloads: for messages carried in SK
 * (everything after IKE_SA_INIT) they are the *inner* payloads and `encrypted` is true;
 * the codec builds/strips the SK (or SKF) envelope.
 */
export interface IkeMessage {
  header: IkeHeader;
  payloads: Payload[];
  encrypted: boolean;
}
