/**
 * Typed loader for the ikegw native data path (native/build/Release/ikegw_native.node).
 *
 * Build it with `npm run build:native` (or it is built by `npm install`/`npm ci`; a failed
 * build only prints a warning). When the addon is missing, `bindingAvailable` is false,
 * `loadError` says why, and `binding()` throws that message: callers fall back to the
 * TypeScript data path (src/esp, src/dataplane).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

export type NativeDir = 'in' | 'out';

/** Spec of one SA as the addon takes it (TS owns every decision; C++ only seals bytes). */
export interface NativeSaSpec {
  spi: number;
  dir: NativeDir;
  /** connection index returned by Engine.addConnection */
  conn: number;
  /** IANA ENCR id: 20 AES-GCM-16, 28 ChaCha20-Poly1305, 12 AES-CBC */
  encr: number;
  /** enc key ‖ 4-byte salt for AEAD; plain AES key for CBC */
  encKey: Uint8Array;
  /** IANA INTEG id: 0 (AEAD), 12/13/14 HMAC-SHA2-256/384/512 (CBC only) */
  integ?: number;
  integKey?: Uint8Array;
  esn: boolean;
  /** inbound only; 0 disables anti-replay; max 4096 */
  replayWindow?: number;
  remoteAddress: string;
  remotePort: number;
  localAddress?: string;
  localPort?: number;
  /**
   * true (default): ESP in UDP (RFC 3948) on one of the openUdp sockets; false: raw ESP, IP
   * protocol 50 (RFC 4303), on a raw socket the engine opens for the remote's family (needs
   * CAP_NET_RAW; remotePort is then ignored)
   */
  encap?: boolean;
  softBytes?: number | bigint;
  hardBytes?: number | bigint;
  softPackets?: number | bigint;
  hardPackets?: number | bigint;
  /**
   * inbound only (RFC 4301 §5.2): after decryption the inner source must lie in one of
   * remoteTs and the inner destination in one of localTs (protocol, and ports when the packet
   * has them), else the packet is dropped as policy_mismatch. At most 16 each; absent or
   * empty = no check.
   */
  localTs?: NativeTrafficSelector[];
  remoteTs?: NativeTrafficSelector[];
  /**
   * AES-GCM only. 'auto' (default): OpenSSL's GCM128 with its AES-NI routines when they are
   * exported, the CPU has AES-NI and a self-test against EVP passes; else EVP. 'evp': always
   * EVP. IKEGW_FAST_GCM=0 in the environment forces EVP for the whole process.
   */
  aesGcm?: 'auto' | 'evp';
}

export interface NativeTrafficSelector {
  family: 4 | 6;
  /** 4 or 16 bytes, network order */
  startAddr: Uint8Array;
  endAddr: Uint8Array;
  /** 0 = any */
  ipProtocol?: number;
  /** default 0..65535; startPort 65535 / endPort 0 = OPAQUE */
  startPort?: number;
  endPort?: number;
}

export interface NativeConnLimits {
  /** largest inner packet to seal (0 / absent = the mtu argument) */
  maxPacket?: number;
  /** outer path MTU (0 / absent = none) */
  pathMtu?: number;
  /**
   * addConnection only: a `trap` connection holds up to 16 packets (≤ 3 s old) while it has
   * no outbound SA; activateOutbound seals and sends them before anything else
   */
  trap?: boolean;
}

export type NativeEvent =
  | {
      kind: 'ike';
      socket: number;
      /** IKE message, non-ESP marker already stripped */
      data: Buffer;
      remoteAddress: string;
      remotePort: number;
      localAddress: string;
      localPort: number;
    }
  | { kind: 'mapping'; spi: number; remoteAddress: string; remotePort: number }
  | { kind: 'expire'; spi: number; dir: NativeDir; hard: boolean; reason: 'bytes' | 'packets' | 'seq' }
  | { kind: 'acquire'; conn: number; /** first 40 bytes of the triggering packet */ header?: Buffer };

export type NativeDropName =
  | 'malformed'
  | 'unknown_spi'
  | 'replay'
  | 'auth_failed'
  | 'policy_mismatch'
  | 'no_route'
  | 'no_sa'
  | 'too_big'
  | 'dummy'
  | 'tx_error';

export interface NativeStats {
  rxDatagrams: number;
  rxEspPackets: number;
  rxEspBytes: number;
  txEspPackets: number;
  txEspBytes: number;
  tunReadPackets: number;
  keepalivesReceived: number;
  ikeIn: number;
  ikeOut: number;
  ikeQueueFull: number;
  gsoSends: number;
  groDatagrams: number;
  tunWriteErrors: number;
  icmpTooBigSent: number;
  sendBatches: number;
  /** raw ESP (IP protocol 50) packets received / sent on the raw sockets */
  rxRawEspPackets: number;
  txRawEspPackets: number;
  /** trap connections: packets held while there was no outbound SA / sent once one came */
  trapHeldPackets: number;
  trapSentPackets: number;
  drops: Record<NativeDropName, number>;
  sas: number;
  running: boolean;
  /** nice value the data threads run at (after start) */
  threadNice?: number;
}

export interface NativeInboundResult {
  /** 'ok' or a drop reason */
  result: 'ok' | NativeDropName;
  nextHeader: number;
  seq: bigint;
  payload?: Buffer;
}

export interface NativeEngine {
  /** bind a UDP socket (IPv4 or IPv6 literal; IPV6_V6ONLY). espInUdp defaults to port !== 500. */
  openUdp(address: string, port: number, espInUdp?: boolean): number;
  socketInfo(socket: number): { address: string; port: number; espInUdp: boolean } | undefined;
  /**
   * takes ownership of tunFd (closed by removeConnection / engine destruction). Packets
   * read from the TUN larger than the connection limit (maxPacket, or mtu when 0/absent;
   * capped further by pathMtu − outer IP/UDP − ESP overhead of the active SA when pathMtu
   * is set) are answered with ICMP frag-needed (DF IPv4) / packet-too-big (IPv6) into the TUN.
   */
  /**
   * mssClamp: TCP SYN MSS clamp in both directions — a value, 0 = off, −1 = auto (the
   * connection's current packet limit − 40 for IPv4, − 60 for IPv6)
   */
  addConnection(tunFd: number, mtu: number, mssClamp: number, limits?: NativeConnLimits): number;
  setConnection(conn: number, mtu: number, mssClamp: number, limits?: NativeConnLimits): boolean;
  /** the largest inner packet the connection seals right now (0 = unknown connection) */
  connectionLimit(conn: number): number;
  removeConnection(conn: number): boolean;
  addSa(spec: NativeSaSpec): void;
  delSa(spi: number, dir: NativeDir): boolean;
  activateOutbound(conn: number, spi: number): void;
  updateSa(spi: number, dir: NativeDir, u: { remoteAddress?: string; remotePort?: number; encap?: boolean }): void;
  /** lastUsedMs is on the addon's CLOCK_MONOTONIC scale (see nowMs) */
  /** impl: which OpenSSL code seals/opens the SA — 'gcm128-aesni' (AES-GCM fast path), 'evp', 'evp+hmac' */
  querySa(spi: number, dir: NativeDir): { bytes: number; packets: number; lastUsedMs: number; impl: string } | undefined;
  /** sends an IKE message; the non-ESP marker is prepended on ESP-in-UDP sockets */
  /** raw: send without the non-ESP marker (NAT keepalive) */
  sendIke(socket: number, data: Uint8Array, remoteAddress: string, remotePort: number, localAddress?: string, raw?: boolean): void;
  /** start the two data threads; nice: their nice value (0 / absent = inherit; needs CAP_SYS_NICE to go below the current one) */
  start(opts?: { nice?: number }): void;
  /** joins both data threads; safe to call twice */
  stop(): void;
  /** stop(), delete all SAs (keys zeroized), close all TUN fds and UDP sockets */
  close(): void;
  stats(): NativeStats;
  /** drain queued events synchronously (normally delivered to the constructor callback) */
  takeEvents(): NativeEvent[];
  /** test hook: seal with outbound SA `spi` (seq forces the sequence number) */
  /** splitAt: seal payload[0, splitAt) ‖ payload[splitAt, …) from two buffers, as TSO segments are (espSealSplit) */
  testSeal(spi: number, payload: Uint8Array, nextHeader: number, seq?: number | bigint, splitAt?: number): Buffer;
  /** CPU nanoseconds for `count` seals ('out': packet = inner) / opens ('in': packet = ESP, anti-replay off) inside the addon */
  benchEsp(spi: number, dir: 'in' | 'out', packet: Uint8Array, count: number): number;
  /** test hook: run one ESP packet through the inbound path (no TUN write) */
  testInbound(packet: Uint8Array, remoteAddress?: string, remotePort?: number): NativeInboundResult;
}

export interface NativeBinding {
  abiVersion: number;
  /**
   * offload: IFF_VNET_HDR + TSO/checksum offload (the engine splits / coalesces TCP super-packets);
   * blocking: no O_NONBLOCK (the TypeScript data path reads it on libuv's thread pool)
   */
  openTun(name: string, mtu: number, offload?: boolean, blocking?: boolean): { fd: number; name: string };
  closeFd(fd: number): void;
  /** CLOCK_MONOTONIC in ms (the scale of querySa().lastUsedMs) */
  nowMs(): number;
  Engine: new (onEvents: (events: NativeEvent[]) => void) => NativeEngine;
}

const here = dirname(fileURLToPath(import.meta.url));
/** native/ whether we run from sources (native/index.ts) or from dist/native/index.js */
const nativeDir = existsSync(join(here, 'binding.gyp')) ? here : join(here, '..', '..', 'native');
/** IKEGW_NATIVE_BINDING overrides the location (e.g. code compiled to another directory) */
export const bindingPath = process.env['IKEGW_NATIVE_BINDING'] ?? join(nativeDir, 'build', 'Release', 'ikegw_native.node');

let loaded: NativeBinding | undefined;
let error: string | undefined;
try {
  // IKEGW_NO_NATIVE=1: behave as if the addon could not load (tests of the fallback paths)
  if (process.env['IKEGW_NO_NATIVE'] === '1') throw new Error('disabled by IKEGW_NO_NATIVE=1');
  const req = createRequire(import.meta.url);
  loaded = req(bindingPath) as NativeBinding;
} catch (e) {
  const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
  error = existsSync(bindingPath)
    ? `ikegw native addon at ${bindingPath} failed to load: ${why}`
    : `ikegw native addon not built (${bindingPath} missing): run \`npm run build:native\` ` +
      `(needs g++, make, python3 and the Node headers; see /work/shared/ENVIRONMENT.md)`;
}

export const bindingAvailable: boolean = loaded !== undefined;
export const loadError: string | undefined = error;

/** The loaded addon; throws a descriptive Error when it is unavailable. */
export function binding(): NativeBinding {
  if (!loaded) throw new Error(error);
  return loaded;
}
