/**
 * Validated, frozen configuration as the rest of ikegw sees it (camelCase, times in ms).
 * Produced by config/load.ts from the YAML file; see conf/gateway.example.yaml.
 */

/** One transform set, IANA ids (see ike/wire/constants.ts). */
export interface IkeProposalConfig {
  /** each list is "any of" (strongSwan keyword syntax can list several per proposal) */
  encr: { id: number; keyBits: number }[];
  integ: number[]; // empty for AEAD
  prf: number[];
  ke: number[];
}
export interface EspProposalConfig {
  encr: { id: number; keyBits: number }[];
  integ: number[]; // empty for AEAD
  ke: number[]; // PFS groups; empty = no PFS
  esn: boolean[]; // [false] default; [true] for "esn"; [true,false] for "esn-noesn"
}

export interface IdentityConfig {
  /** IdType number (IPV4_ADDR, IPV6_ADDR, FQDN, RFC822_ADDR, KEY_ID) */
  type: number;
  /** encoded identification data as on the wire */
  data: Uint8Array;
  /** printable form, for logs and status */
  text: string;
}

export interface TrafficSelectorConfig {
  /** 4 or 6 */
  family: 4 | 6;
  startAddr: Uint8Array;
  endAddr: Uint8Array;
  ipProtocol: number; // 0 any
  startPort: number; // 0
  endPort: number; // 65535
  text: string;
}

export interface LifetimeConfig {
  rekeyMs: number; // soft: start rekey
  lifeMs: number; // hard: delete
  jitter: number; // 0..1 fraction of rekeyMs subtracted at random
  rekeyBytes?: number;
  lifeBytes?: number;
  rekeyPackets?: number;
  lifePackets?: number;
}

export interface ConnectionConfig {
  name: string;
  local: { address: string; port: number; id: IdentityConfig };
  remote: { address: string; port: number; id: IdentityConfig | null /* null = accept any */ };
  /** the PSK itself; never log it */
  psk: Uint8Array;
  ikeProposals: IkeProposalConfig[];
  espProposals: EspProposalConfig[];
  localTs: TrafficSelectorConfig[];
  remoteTs: TrafficSelectorConfig[];
  startAction: 'none' | 'start' | 'trap';
  encap: 'always' | 'auto';
  retransmit: { timeoutMs: number; base: number; tries: number };
  ike: LifetimeConfig;
  child: LifetimeConfig;
  dpd: { delayMs: number; action: 'clear' | 'restart' | 'none' };
  fragmentation: { enabled: boolean; maxSize: number };
  replayWindow: number;
  natKeepaliveMs: number;
  tunnel: {
    name: string;
    mtu: number;
    addresses: string[]; // CIDR
    routes: string[]; // CIDR
    mssClamp: number | 'auto' | 'off';
  };
}

export interface GatewayConfig {
  log: { level: string };
  control: { socket: string };
  /** nice: of the native data threads (−20..19; 0 = inherit) */
  dataplane: { backend: 'native' | 'ts'; nice: number };
  /** half-open IKE SAs (per responder) above which COOKIEs are demanded (RFC 7296 §2.6) */
  cookieThreshold: number;
  connections: ConnectionConfig[];
  /** path of the file it came from */
  source?: string;
  /** non-fatal findings of the loader (short PSK, inline PSK, implied PRF, …), for the log */
  warnings?: string[];
}
