/**
 * NativeDataplane: the SadPort (src/esp/port.ts) on top of the C++ fast path in native/.
 *
 * TypeScript owns every decision (which SAs exist, keys, rekey, NAT mapping updates, TUN
 * addressing); the addon only moves and seals bytes on two native threads (see the pipeline
 * comment at the top of native/src/dataplane.cc). IKE datagrams arriving on the ESP-in-UDP
 * sockets (non-ESP marker) come back through onIke(); SA lifetime/sequence/mapping/acquire
 * notices through onEvent().
 *
 * Order of use:
 *   const dp = new NativeDataplane({ listen: [{ address: '0.0.0.0', port: 4500 }] });
 *   dp.start();                                  // binds sockets, starts the threads
 *   dp.addConnection({ name, tunName, mtu, mssClamp, addresses, routes });
 *   dp.addSa(inbound); dp.addSa(outbound); dp.activateOutbound(name, outSpi);
 *   ...
 *   dp.stop();                                   // joins threads, closes TUNs and sockets
 *
 * Outbound SAs can only be added after start() (they are bound to one of the sockets).
 * SAs with `encap: false` use raw ESP (IP protocol 50) on a raw socket per address family,
 * opened by the engine when the first such SA is added (needs CAP_NET_RAW).
 */
import { performance } from 'node:perf_hooks';
import {
  binding,
  bindingAvailable,
  loadError,
  type NativeEngine,
  type NativeEvent,
  type NativeStats,
} from '../../native/index.js';
import type { Endpoint, EspEvent, SaCounters, SadPort, SaSpec, Spi } from '../esp/port.js';
import { configureTun } from './iface.js';

export { bindingAvailable as nativeDataplaneAvailable, loadError as nativeDataplaneLoadError };

export interface NativeDataplaneOptions {
  /**
   * UDP sockets to bind at start(). Port 4500 (or any port ≠ 500 unless `espInUdp` says
   * otherwise) carries ESP-in-UDP and IKE with the non-ESP marker (RFC 3948); a port-500
   * socket hands every datagram to onIke(). Wildcard addresses work (IP_PKTINFO selects the
   * source); IPv6 sockets are IPV6_V6ONLY, so bind '0.0.0.0' and '::' separately.
   */
  listen: Array<Endpoint & { espInUdp?: boolean }>;
  /**
   * nice value of the two data threads (default 0 = inherit). The daemon passes
   * `dataplane.nice` (default −10): the packet path runs ahead of ordinary processes, as
   * kernel IPsec does in softirq. Needs CAP_SYS_NICE; without it the threads keep their nice.
   */
  nice?: number;
}

export interface ConnectionOptions {
  name: string;
  /** TUN interface name (≤ 15 chars), created by the addon */
  tunName: string;
  /** TUN MTU; also the largest inner packet unless maxPacket / pathMtu say less */
  mtu: number;
  /** IFF_VNET_HDR + TSO offloads on the TUN (default: on unless IKEGW_TUN_OFFLOAD=0) */
  tunOffload?: boolean;
  /**
   * Largest inner packet sent into the tunnel (default: mtu). Bigger DF IPv4 packets get
   * ICMP "fragmentation needed" (type 3 code 4, next-hop MTU = this value) and bigger IPv6
   * packets ICMPv6 "packet too big" written back into the TUN (counted as icmpTooBigSent).
   */
  maxPacket?: number;
  /**
   * Outer path MTU: caps the limit at what fits in one outer packet after IP (20/40), UDP (8,
   * ESP-in-UDP only) and the active SA's ESP overhead (header, IV, padding, ICV).
   */
  pathMtu?: number;
  /**
   * `start_action: trap`: while there is no outbound SA, hold up to 16 packets (≤ 3 s old,
   * oldest dropped as no_sa) and send them first once activateOutbound makes an SA current
   */
  trap?: boolean;
  /**
   * clamp the MSS of TCP SYNs in both directions: a value, 0 = off, or 'auto' = the current
   * packet limit (MTU, or pathMtu minus the SA's overhead) − 40 for IPv4 / − 60 for IPv6
   */
  mssClamp: number | 'auto';
  /** addresses to put on the TUN (`ip addr add <a> dev <tun>`), e.g. '10.1.0.1/32' */
  addresses?: string[];
  /** prefixes routed into the TUN (`ip route add <p> dev <tun>`) */
  routes?: string[];
}

const KEEPALIVE = new Uint8Array([0xff]);

/** the addon's encoding of the clamp: −1 = auto */
const nativeMss = (m: number | 'auto'): number => (m === 'auto' ? -1 : m);

export type IkeHandler = (datagram: Buffer, local: Endpoint, remote: Endpoint) => void;
export type EventHandler = (event: EspEvent) => void;

interface ConnState {
  index: number;
  opts: ConnectionOptions;
  tun: string;
}

type Dir = 'in' | 'out';

export class NativeDataplane implements SadPort {
  private readonly opts: NativeDataplaneOptions;
  private engine: NativeEngine | undefined;
  private sockets: Array<{ index: number; address: string; port: number; espInUdp: boolean }> = [];
  private readonly conns = new Map<string, ConnState>();
  private readonly connByIndex = new Map<number, string>();
  private readonly spis = new Map<Spi, Set<Dir>>();
  private ikeHandlers: IkeHandler[] = [];
  private eventHandlers: EventHandler[] = [];
  private started = false;

  constructor(opts: NativeDataplaneOptions) {
    if (!bindingAvailable) throw new Error(loadError);
    this.opts = opts;
  }

  static get available(): boolean {
    return bindingAvailable;
  }

  private get e(): NativeEngine {
    if (!this.engine) throw new Error('NativeDataplane: not started');
    return this.engine;
  }

  /** Bind the sockets and start the two native data threads. */
  start(): void {
    if (this.started) return;
    const b = binding();
    const engine = new b.Engine((evs) => this.dispatch(evs));
    try {
      for (const l of this.opts.listen) {
        const index = engine.openUdp(l.address, l.port, l.espInUdp ?? l.port !== 500);
        const info = engine.socketInfo(index)!;
        this.sockets.push({ index, ...info });
      }
      engine.start({ nice: this.opts.nice ?? 0 });
    } catch (e) {
      engine.close();
      this.sockets = [];
      throw e;
    }
    this.engine = engine;
    this.started = true;
  }

  /** Join the threads, zeroize every SA, close every TUN and socket. Idempotent. */
  stop(): void {
    if (!this.engine) return;
    const engine = this.engine;
    this.engine = undefined;
    this.started = false;
    engine.close();
    this.sockets = [];
    this.conns.clear();
    this.connByIndex.clear();
    this.spis.clear();
  }

  /** The ports actually bound (useful with port 0). */
  boundSockets(): ReadonlyArray<{ address: string; port: number; espInUdp: boolean }> {
    return this.sockets.map(({ address, port, espInUdp }) => ({ address, port, espInUdp }));
  }

  addConnection(opts: ConnectionOptions): void {
    if (this.conns.has(opts.name)) throw new Error(`connection ${opts.name} exists`);
    const b = binding();
    // TUN offloads (virtio_net_hdr, TSO super-packets in, coalesced TCP out); IKEGW_TUN_OFFLOAD=0 turns them off
    const tun = b.openTun(opts.tunName, opts.mtu, opts.tunOffload ?? process.env['IKEGW_TUN_OFFLOAD'] !== '0');
    let index: number;
    try {
      index = this.e.addConnection(tun.fd, opts.mtu, nativeMss(opts.mssClamp), { maxPacket: opts.maxPacket ?? 0, pathMtu: opts.pathMtu ?? 0, trap: opts.trap ?? false });
    } catch (e) {
      b.closeFd(tun.fd);
      throw e;
    }
    this.conns.set(opts.name, { index, opts, tun: tun.name });
    this.connByIndex.set(index, opts.name);
    try {
      configureTun(tun.name, opts.addresses ?? [], opts.routes ?? []);
    } catch (e) {
      this.removeConnection(opts.name);
      throw e;
    }
  }

  removeConnection(name: string): void {
    const c = this.conns.get(name);
    if (!c) return;
    this.e.removeConnection(c.index); // closes the TUN fd; the kernel removes the device
    this.conns.delete(name);
    this.connByIndex.delete(c.index);
  }

  /** Change MTU / MSS clamp / packet limits of a connection (the TUN device MTU is not touched). */
  setConnectionLimits(name: string, u: { mtu?: number; mssClamp?: number | 'auto'; maxPacket?: number; pathMtu?: number }): void {
    const c = this.conns.get(name);
    if (!c) throw new Error(`setConnectionLimits: unknown connection ${name}`);
    c.opts = { ...c.opts, ...u };
    this.e.setConnection(c.index, c.opts.mtu, nativeMss(c.opts.mssClamp), { maxPacket: c.opts.maxPacket ?? 0, pathMtu: c.opts.pathMtu ?? 0 });
  }

  /** Largest inner packet the connection currently seals (see maxPacket / pathMtu). */
  packetLimit(name: string): number | undefined {
    const c = this.conns.get(name);
    return c ? this.e.connectionLimit(c.index) : undefined;
  }

  /** TUN device name of a connection */
  tunName(name: string): string | undefined {
    return this.conns.get(name)?.tun;
  }

  // ---- SadPort ----

  addSa(spec: SaSpec): void {
    const c = this.conns.get(spec.connection);
    if (!c) throw new Error(`addSa: unknown connection ${spec.connection}`);
    this.e.addSa({
      spi: spec.spi,
      dir: spec.dir,
      conn: c.index,
      encr: spec.suite.encr,
      integ: spec.suite.integ,
      encKey: spec.encKey,
      integKey: spec.integKey,
      esn: spec.esn,
      replayWindow: spec.replayWindow,
      remoteAddress: spec.remote.address,
      remotePort: spec.remote.port,
      localAddress: spec.local.address,
      localPort: spec.local.port,
      encap: spec.encap,
      ...(spec.lifetime.soft.bytes !== undefined ? { softBytes: spec.lifetime.soft.bytes } : {}),
      ...(spec.lifetime.hard.bytes !== undefined ? { hardBytes: spec.lifetime.hard.bytes } : {}),
      ...(spec.lifetime.soft.packets !== undefined ? { softPackets: spec.lifetime.soft.packets } : {}),
      ...(spec.lifetime.hard.packets !== undefined ? { hardPackets: spec.lifetime.hard.packets } : {}),
      ...(spec.dir === 'in' && spec.localTs?.length ? { localTs: [...spec.localTs] } : {}),
      ...(spec.dir === 'in' && spec.remoteTs?.length ? { remoteTs: [...spec.remoteTs] } : {}),
    });
    let dirs = this.spis.get(spec.spi);
    if (!dirs) this.spis.set(spec.spi, (dirs = new Set()));
    dirs.add(spec.dir);
  }

  activateOutbound(connection: string, spi: Spi): void {
    const c = this.conns.get(connection);
    if (!c) throw new Error(`activateOutbound: unknown connection ${connection}`);
    this.e.activateOutbound(c.index, spi);
  }

  updateSa(spi: Spi, u: { remote?: Endpoint; encap?: boolean }): void {
    for (const dir of this.spis.get(spi) ?? []) {
      this.e.updateSa(spi, dir, {
        ...(u.remote ? { remoteAddress: u.remote.address, remotePort: u.remote.port } : {}),
        ...(u.encap !== undefined ? { encap: u.encap } : {}),
      });
    }
  }

  /**
   * Removes (and zeroizes) the SA. SadPort addresses SAs by SPI only; should an outbound SPI
   * (chosen by the peer) equal one of our inbound SPIs, pass `dir` to remove just one.
   */
  delSa(spi: Spi, dir?: Dir): void {
    const dirs = this.spis.get(spi);
    if (!dirs || !this.engine) return;
    for (const d of [...dirs]) {
      if (dir !== undefined && d !== dir) continue;
      this.engine.delSa(spi, d);
      dirs.delete(d);
    }
    if (dirs.size === 0) this.spis.delete(spi);
  }

  /** Counters of the SA (inbound preferred when both directions share the SPI). */
  querySa(spi: Spi, dir?: Dir): SaCounters | undefined {
    const dirs = this.spis.get(spi);
    if (!dirs || !this.engine) return undefined;
    const d: Dir = dir ?? (dirs.has('in') ? 'in' : 'out');
    const q = this.engine.querySa(spi, d);
    if (!q) return undefined;
    // native CLOCK_MONOTONIC ms → performance.now() scale
    const lastUsedMs = q.lastUsedMs === 0 ? 0 : Math.max(0, performance.now() - (binding().nowMs() - q.lastUsedMs));
    return { bytes: q.bytes, packets: q.packets, lastUsedMs, impl: q.impl };
  }

  // ---- IKE and events ----

  /** Send an IKE message from `local` (a bound socket's port) to `remote`. */
  sendIke(datagram: Uint8Array, local: Endpoint, remote: Endpoint, raw = false): void {
    const v6 = remote.address.includes(':');
    const cands = this.sockets.filter((s) => s.port === local.port && s.address.includes(':') === v6);
    const s = cands.find((c) => c.address === local.address) ?? cands[0];
    if (!s) throw new Error(`sendIke: no socket bound to port ${local.port} for ${v6 ? 'IPv6' : 'IPv4'}`);
    const wildcard = local.address === '0.0.0.0' || local.address === '::' || local.address === '';
    this.e.sendIke(s.index, datagram, remote.address, remote.port, wildcard ? undefined : local.address, raw);
  }

  /** RFC 3948 §2.3 NAT keepalive: one 0xFF octet on the ESP-in-UDP socket. */
  sendKeepalive(local: Endpoint, remote: Endpoint): void {
    this.sendIke(KEEPALIVE, local, remote, true);
  }

  onIke(cb: IkeHandler): () => void {
    this.ikeHandlers.push(cb);
    return () => {
      this.ikeHandlers = this.ikeHandlers.filter((h) => h !== cb);
    };
  }

  onEvent(cb: EventHandler): () => void {
    this.eventHandlers.push(cb);
    return () => {
      this.eventHandlers = this.eventHandlers.filter((h) => h !== cb);
    };
  }

  stats(): NativeStats | undefined {
    return this.engine?.stats();
  }

  private dispatch(evs: NativeEvent[]): void {
    for (const ev of evs) {
      switch (ev.kind) {
        case 'ike': {
          const local = { address: ev.localAddress, port: ev.localPort };
          const remote = { address: ev.remoteAddress, port: ev.remotePort };
          for (const h of this.ikeHandlers) h(ev.data, local, remote);
          break;
        }
        case 'mapping':
          this.emit({ kind: 'mapping', spi: ev.spi, remote: { address: ev.remoteAddress, port: ev.remotePort } });
          break;
        case 'expire':
          this.emit({ kind: 'expire', spi: ev.spi, hard: ev.hard, reason: ev.reason });
          break;
        case 'acquire': {
          const connection = this.connByIndex.get(ev.conn);
          if (connection !== undefined) this.emit({ kind: 'acquire', connection, ...(ev.header ? { dst: packetDst(ev.header) } : {}) });
          break;
        }
      }
    }
  }

  private emit(e: EspEvent): void {
    for (const h of this.eventHandlers) h(e);
  }
}

/** destination address of an IPv4/IPv6 header, as text ('' if unreadable); acquire events carry
 *  only the first 40 bytes, so net/ip's ipDst (which checks the total length) does not fit */
function packetDst(h: Uint8Array): string {
  const v = h.length ? h[0]! >> 4 : 0;
  if (v === 4 && h.length >= 20) return `${h[16]}.${h[17]}.${h[18]}.${h[19]}`;
  if (v === 6 && h.length >= 40) {
    const parts: string[] = [];
    for (let i = 24; i < 40; i += 2) parts.push(((h[i]! << 8) | h[i + 1]!).toString(16));
    return parts.join(':');
  }
  return '';
}
