/**
 * The one interface between IKE (control plane) and ESP (data plane), in the spirit of
 * strongSwan's kernel_ipsec_t. IKE emits intents (actions); the runtime calls this port.
 * Both the native fast path and the TypeScript reference path implement SadPort.
 */

export type Spi = number; // 32-bit unsigned, never 0..255 (RFC 4303 §2.1)

export interface Endpoint {
  address: string; // IPv4 dotted or IPv6 textual
  port: number;
}

export interface Lifetime {
  soft: { bytes?: number; packets?: number };
  hard: { bytes?: number; packets?: number };
}

/** ESP algorithm suite, by IANA transform IDs. */
export interface EspSuite {
  encr: number; // EncrId: AES_GCM_16, CHACHA20_POLY1305, AES_CBC
  encrKeyBits: number; // 128/192/256 (256 for ChaCha20)
  integ: number; // IntegId (NONE for AEAD)
}

/** A traffic selector as the data plane enforces it (structurally a TrafficSelectorConfig). */
export interface SaTrafficSelector {
  family: 4 | 6;
  startAddr: Uint8Array;
  endAddr: Uint8Array;
  ipProtocol: number; // 0 any
  startPort: number;
  endPort: number;
}

export interface SaSpec {
  spi: Spi;
  dir: 'in' | 'out';
  /** connection / Child SA this SA belongs to (route-based: one TUN per connection) */
  connection: string;
  childId: number;
  suite: EspSuite;
  /** encryption key (‖ 4-byte salt for AEAD), KEYMAT order per RFC 7296 §2.17 */
  encKey: Uint8Array;
  /** integrity key for CBC+HMAC suites, empty for AEAD */
  integKey: Uint8Array;
  esn: boolean;
  replayWindow: number; // 0 disables anti-replay (inbound only)
  local: Endpoint;
  remote: Endpoint;
  /** UDP encapsulation (RFC 3948) on port 4500, else raw ESP (IP proto 50) */
  encap: boolean;
  lifetime: Lifetime;
  /**
   * inbound SAs: the negotiated selectors (RFC 4301 §5.2, RFC 7296 §2.9). A decrypted packet
   * whose source is in none of remoteTs or whose destination is in none of localTs is
   * dropped (policy_mismatch). Absent / empty = not checked (manual keys).
   */
  localTs?: readonly SaTrafficSelector[];
  remoteTs?: readonly SaTrafficSelector[];
}

export interface SaCounters {
  bytes: number;
  packets: number;
  lastUsedMs: number; // monotonic ms, 0 if never used
  /** native data plane: which OpenSSL code seals/opens the SA ('gcm128-aesni', 'evp', 'evp+hmac') */
  impl?: string;
}

export interface SadPort {
  addSa(spec: SaSpec): void;
  /** make-before-break switch: this outbound SA becomes the connection's current one */
  activateOutbound(connection: string, spi: Spi): void;
  /** NAT mapping change (RFC 7296 §2.23) */
  updateSa(spi: Spi, u: { remote?: Endpoint; encap?: boolean }): void;
  /** removes and zeroizes keys; unknown SPIs are ignored */
  delSa(spi: Spi): void;
  querySa(spi: Spi): SaCounters | undefined;
}

export type EspEvent =
  | { kind: 'expire'; spi: Spi; hard: boolean; reason: 'bytes' | 'packets' | 'seq' }
  | { kind: 'acquire'; connection: string; /** destination of the triggering packet, when known */ dst?: string }
  | { kind: 'mapping'; spi: Spi; remote: Endpoint };
