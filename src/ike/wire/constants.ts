/**
 * IANA IKEv2 registries used by ikegw (RFC 7296 §3, IANA "Internet Key Exchange
 * Version 2 (IKEv2) Parameters"). Numbers only; no logic.
 */

/** RFC 7296 §3.1 Exchange Types */
export const ExchangeType = {
  IKE_SA_INIT: 34,
  IKE_AUTH: 35,
  CREATE_CHILD_SA: 36,
  INFORMATIONAL: 37,
} as const;
export type ExchangeType = (typeof ExchangeType)[keyof typeof ExchangeType];

/** RFC 7296 §3.2 Payload Types (+ RFC 7383 SKF) */
export const PayloadType = {
  NONE: 0,
  SA: 33,
  KE: 34,
  IDi: 35,
  IDr: 36,
  CERT: 37,
  CERTREQ: 38,
  AUTH: 39,
  NONCE: 40,
  NOTIFY: 41,
  DELETE: 42,
  VENDOR: 43,
  TSi: 44,
  TSr: 45,
  SK: 46,
  CP: 47,
  EAP: 48,
  SKF: 53,
} as const;
export type PayloadType = (typeof PayloadType)[keyof typeof PayloadType];

/** RFC 7296 §3.1 header flags */
export const HeaderFlag = {
  INITIATOR: 0x08,
  VERSION: 0x10,
  RESPONSE: 0x20,
} as const;

/** RFC 7296 §3.3.1 Protocol IDs */
export const ProtocolId = {
  IKE: 1,
  AH: 2,
  ESP: 3,
} as const;

/** RFC 7296 §3.3.2 Transform Types */
export const TransformType = {
  ENCR: 1,
  PRF: 2,
  INTEG: 3,
  KE: 4, // "D-H" in RFC 7296
  ESN: 5,
} as const;

/** Transform Type 1 IDs */
export const EncrId = {
  AES_CBC: 12,
  AES_GCM_8: 18,
  AES_GCM_12: 19,
  AES_GCM_16: 20,
  CHACHA20_POLY1305: 28,
} as const;

/** Transform Type 2 IDs */
export const PrfId = {
  HMAC_SHA1: 2,
  HMAC_SHA2_256: 5,
  HMAC_SHA2_384: 6,
  HMAC_SHA2_512: 7,
} as const;

/** Transform Type 3 IDs */
export const IntegId = {
  NONE: 0,
  HMAC_SHA1_96: 2,
  HMAC_SHA2_256_128: 12,
  HMAC_SHA2_384_192: 13,
  HMAC_SHA2_512_256: 14,
} as const;

/** Transform Type 4 IDs (Diffie-Hellman / Key Exchange groups) */
export const KeId = {
  NONE: 0,
  MODP_2048: 14,
  MODP_3072: 15,
  MODP_4096: 16,
  ECP_256: 19,
  ECP_384: 20,
  ECP_521: 21,
  CURVE25519: 31,
  CURVE448: 32,
} as const;

/** Transform Type 5 IDs */
export const EsnId = {
  NO_ESN: 0,
  ESN: 1,
} as const;

/** RFC 7296 §3.3.5 Transform Attribute: Key Length (TV format, AF bit set) */
export const ATTR_KEY_LENGTH = 14;

/** RFC 7296 §3.5 ID Types */
export const IdType = {
  IPV4_ADDR: 1,
  FQDN: 2,
  RFC822_ADDR: 3,
  IPV6_ADDR: 5,
  DER_ASN1_DN: 9,
  DER_ASN1_GN: 10,
  KEY_ID: 11,
} as const;

/** RFC 7296 §3.8 Authentication Methods */
export const AuthMethod = {
  RSA_SIG: 1,
  SHARED_KEY_MIC: 2,
  DSS_SIG: 3,
  DIGITAL_SIGNATURE: 14, // RFC 7427
} as const;

/** RFC 7296 §3.13.1 Traffic Selector Types */
export const TsType = {
  IPV4_ADDR_RANGE: 7,
  IPV6_ADDR_RANGE: 8,
} as const;

/** RFC 7296 §3.15 Configuration types / attributes (parsed, ignored) */
export const CfgType = {
  CFG_REQUEST: 1,
  CFG_REPLY: 2,
  CFG_SET: 3,
  CFG_ACK: 4,
} as const;

/** RFC 7296 §3.10.1 Notify Message Types (errors < 16384, status >= 16384) */
export const NotifyType = {
  // errors
  UNSUPPORTED_CRITICAL_PAYLOAD: 1,
  INVALID_IKE_SPI: 4,
  INVALID_MAJOR_VERSION: 5,
  INVALID_SYNTAX: 7,
  INVALID_MESSAGE_ID: 9,
  INVALID_SPI: 11,
  NO_PROPOSAL_CHOSEN: 14,
  INVALID_KE_PAYLOAD: 17,
  AUTHENTICATION_FAILED: 24,
  SINGLE_PAIR_REQUIRED: 34,
  NO_ADDITIONAL_SAS: 35,
  INTERNAL_ADDRESS_FAILURE: 36,
  FAILED_CP_REQUIRED: 37,
  TS_UNACCEPTABLE: 38,
  INVALID_SELECTORS: 39,
  TEMPORARY_FAILURE: 43,
  CHILD_SA_NOT_FOUND: 44,
  // status
  INITIAL_CONTACT: 16384,
  SET_WINDOW_SIZE: 16385,
  ADDITIONAL_TS_POSSIBLE: 16386,
  IPCOMP_SUPPORTED: 16387,
  NAT_DETECTION_SOURCE_IP: 16388,
  NAT_DETECTION_DESTINATION_IP: 16389,
  COOKIE: 16390,
  USE_TRANSPORT_MODE: 16391,
  HTTP_CERT_LOOKUP_SUPPORTED: 16392,
  REKEY_SA: 16393,
  ESP_TFC_PADDING_NOT_SUPPORTED: 16394,
  NON_FIRST_FRAGMENTS_ALSO: 16395,
  MOBIKE_SUPPORTED: 16396,
  ADDITIONAL_IP4_ADDRESS: 16397,
  ADDITIONAL_IP6_ADDRESS: 16398,
  NO_ADDITIONAL_ADDRESSES: 16399,
  UPDATE_SA_ADDRESSES: 16400,
  COOKIE2: 16401,
  NO_NATS_ALLOWED: 16402,
  AUTH_LIFETIME: 16403,
  MULTIPLE_AUTH_SUPPORTED: 16404,
  ANOTHER_AUTH_FOLLOWS: 16405,
  REDIRECT_SUPPORTED: 16406,
  IKEV2_FRAGMENTATION_SUPPORTED: 16430,
  SIGNATURE_HASH_ALGORITHMS: 16431,
} as const;

export function notifyName(n: number): string {
  for (const [k, v] of Object.entries(NotifyType)) if (v === n) return k;
  return `NOTIFY_${n}`;
}
export function exchangeName(n: number): string {
  for (const [k, v] of Object.entries(ExchangeType)) if (v === n) return k;
  return `EXCHANGE_${n}`;
}

/** IKE ports (RFC 7296 §2; RFC 3948) */
export const IKE_PORT = 500;
export const NATT_PORT = 4500;
/** RFC 3948 §2.2 non-ESP marker length (4 zero octets before an IKE header on port 4500) */
export const NON_ESP_MARKER_LEN = 4;
