/**
 * Composition root and driver: builds the IKE core, the UDP transport, the SAD and the
 * scheduler; feeds inputs (datagrams, timer ticks, commands) to the core and carries out
 * the returned actions. Every side effect of the daemon happens here.
 */
import { writeFileSync, appendFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import type { GatewayConfig } from '../config/types.js';
import type { SadPort, SaSpec, Spi, Endpoint } from '../esp/port.js';
import { SystemClock, type Clock } from '../common/clock.js';
import { CryptoRng, type Rng } from '../common/rng.js';
import type { Logger } from '../common/log.js';
import { IkeSaManager } from '../ike/manager.js';
import type { Action, IkeEvent, Output } from '../ike/actions.js';
import { UdpTransport } from '../dataplane/udp.js';
import { NativeDataplane, nativeDataplaneAvailable, nativeDataplaneLoadError } from '../dataplane/native.js';
import { TsDataplane } from '../dataplane/ts.js';
import type { EspEvent } from '../esp/port.js';
import { Scheduler } from './scheduler.js';
import { parseAddress, rangeContains } from '../net/prefix.js';

/** Control-plane-only SAD: remembers installed SAs (no traffic). Used when no data plane is attached. */
export class MemorySad implements SadPort {
  readonly sas = new Map<Spi, Omit<SaSpec, 'encKey' | 'integKey'>>();
  readonly active = new Map<string, Spi>();
  addSa(spec: SaSpec): void {
    const { encKey: _e, integKey: _i, ...rest } = spec;
    this.sas.set(spec.spi, rest);
  }
  activateOutbound(connection: string, spi: Spi): void {
    this.active.set(connection, spi);
  }
  updateSa(spi: Spi, u: { remote?: Endpoint; encap?: boolean }): void {
    const s = this.sas.get(spi);
    if (s) this.sas.set(spi, { ...s, ...(u.remote ? { remote: u.remote } : {}), ...(u.encap !== undefined ? { encap: u.encap } : {}) });
  }
  delSa(spi: Spi): void {
    this.sas.delete(spi);
  }
  querySa(spi: Spi) {
    return this.sas.has(spi) ? { bytes: 0, packets: 0, lastUsedMs: 0 } : undefined;
  }
}

export interface GatewayOptions {
  logger: Logger;
  clock?: Clock;
  rng?: Rng;
  sad?: SadPort;
  /** debug only: append IKE and ESP keys (Wireshark-friendly JSON lines) to this file */
  keylog?: string;
}

export class Gateway {
  readonly clock: Clock;
  readonly manager: IkeSaManager;
  readonly udp: UdpTransport;
  sad: SadPort;
  /** the native data plane when it is attached (it then owns the IKE sockets too) */
  native: NativeDataplane | undefined;
  /** the TypeScript data plane (`dataplane.backend: ts`): TUNs here, UDP in `udp` */
  tsdp: TsDataplane | undefined;
  private readonly scheduler: Scheduler;
  private readonly log: Logger;
  private stopped = false;
  /** backend native without the addon: running on the TypeScript data plane instead */
  readonly tsFallback: boolean;
  readonly counters = { eventsFailed: 0, ikeUp: 0, childUp: 0 };

  constructor(readonly config: GatewayConfig, private readonly opts: GatewayOptions) {
    this.clock = opts.clock ?? SystemClock;
    this.log = opts.logger;
    this.sad = opts.sad ?? new MemorySad();
    // no addon: the TypeScript data plane stands in for the native one, ESP-in-UDP only
    this.tsFallback = !opts.sad && config.dataplane.backend === 'native' && !NativeDataplane.available;
    const conns = this.tsFallback ? config.connections.map((c) => (c.encap === 'auto' ? { ...c, encap: 'always' as const } : c)) : config.connections;
    this.manager = new IkeSaManager(conns, { rng: opts.rng ?? CryptoRng, cookieThreshold: config.cookieThreshold }, this.clock.now());
    this.udp = new UdpTransport({
      ike: (buf, local, remote) => this.run(() => this.manager.handleDatagram(buf, local, remote, this.clock.now())),
      esp: (buf, local, remote) => this.tsdp?.inbound(buf, local, remote),
      error: (err, where) => this.log.error({ where, err: err.message }, 'socket error'),
    });
    this.scheduler = new Scheduler(this.clock, (now) => this.run(() => this.manager.tick(now)));
    if (opts.keylog) {
      writeFileSync(opts.keylog, '', { mode: 0o600 });
      this.log.warn({ keylog: opts.keylog }, 'key logging is ON: secret keys are written to this file (debugging only)');
    }
  }

  async start(): Promise<void> {
    if (!this.opts.sad && !this.tsFallback && this.config.dataplane.backend === 'native') {
      await this.startNative();
      this.run(() => this.manager.start(this.clock.now()));
      return;
    }
    const seen = new Set<string>();
    for (const c of this.config.connections) {
      const key = `${c.local.address}|${c.local.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      await this.udp.bind(c.local.address, c.local.port);
      this.log.info({ address: c.local.address, ports: [c.local.port, 4500] }, 'listening');
    }
    if (!this.opts.sad) {
      if (this.tsFallback) {
        const raw = this.config.connections.filter((c) => c.encap === 'auto').map((c) => c.name);
        this.log.warn(
          { err: nativeDataplaneLoadError, ...(raw.length ? { encapForced: raw } : {}) },
          'native data plane not available: using the TypeScript data plane (one packet at a time, ESP-in-UDP only; TUNs through the addon or a perl relay)',
        );
      }
      await this.startTs();
    }
    this.run(() => this.manager.start(this.clock.now()));
  }

  /** The TypeScript data plane: TUNs read one packet at a time (tun.ts), ESP-in-UDP on this.udp's 4500 sockets. */
  private async startTs(): Promise<void> {
    const dp = new TsDataplane({ clock: this.clock, rng: this.opts.rng ?? CryptoRng, send: (d, local, remote) => this.udp.sendRaw(d, local, remote) });
    const via = nativeDataplaneAvailable ? 'addon' : 'perl relay';
    await this.addTunnels(dp, `tunnel interface up (TypeScript data plane, TUN via ${via})`);
    dp.onEvent((ev) => this.onEspEvent(ev));
    this.tsdp = dp;
    this.sad = dp;
    this.startKeepalives();
  }

  /** The native data plane owns UDP 500/4500 and one TUN per connection. */
  private async startNative(): Promise<void> {
    const listen: { address: string; port: number; espInUdp: boolean }[] = [];
    for (const c of this.config.connections) {
      for (const port of [c.local.port, 4500]) {
        if (!listen.some((l) => l.address === c.local.address && l.port === port)) listen.push({ address: c.local.address, port, espInUdp: port === 4500 });
      }
    }
    const dp = new NativeDataplane({ listen, nice: this.config.dataplane.nice });
    try {
      dp.start();
    } catch (e) {
      throw new Error(`cannot bind UDP ${listen.map((l) => `${l.address}:${l.port}`).join(", ")}: ${e instanceof Error ? e.message : e} (needs root or CAP_NET_BIND_SERVICE; is another IKE daemon running?)`);
    }
    await this.addTunnels(dp, 'tunnel interface up');
    dp.onIke((d, local, remote) => this.run(() => this.manager.handleDatagram(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), local, remote, this.clock.now())));
    dp.onEvent((ev) => this.onEspEvent(ev));
    this.native = dp;
    this.startKeepalives();
    this.sad = dp;
    const nice = dp.stats()?.threadNice;
    this.log.info({ sockets: dp.boundSockets(), threadNice: nice }, 'listening (native data plane)');
    if (nice !== undefined && this.config.dataplane.nice !== 0 && nice !== this.config.dataplane.nice) this.log.warn({ wanted: this.config.dataplane.nice, got: nice }, 'could not set the data threads\' nice value (needs CAP_SYS_NICE)');
  }

  /** One TUN per connection, on either data plane; on failure the data plane is stopped. */
  private async addTunnels(dp: NativeDataplane | TsDataplane, msg: string): Promise<void> {
    try {
      for (const c of this.config.connections) {
        const mss = tunnelMss(c);
        // routes attract traffic: a `trap` connection needs them while down; the others get
        // them when a CHILD_SA is up and lose them when the last one goes (failover, BGP)
        await dp.addConnection({ name: c.name, tunName: c.tunnel.name, mtu: c.tunnel.mtu, mssClamp: mss, addresses: [...c.tunnel.addresses], routes: c.startAction === 'trap' ? [...c.tunnel.routes] : [], trap: c.startAction === 'trap' });
        quietIpv6(c);
        this.log.info({ connection: c.name, tun: c.tunnel.name, mtu: c.tunnel.mtu, mss, routes: c.tunnel.routes }, msg);
      }
    } catch (e) {
      dp.stop();
      throw new Error(`cannot create the tunnel interfaces: ${e instanceof Error ? e.message : e} (needs CAP_NET_ADMIN and /dev/net/tun)`);
    }
  }

  private keepaliveTimer: NodeJS.Timeout | undefined;

  /** RFC 3948 §2.3: the side behind a NAT keeps its mapping alive with 0xFF keepalives */
  private startKeepalives(): void {
    this.keepaliveTimer = setInterval(() => this.sendKeepalives(), 1000);
    this.keepaliveTimer.unref();
  }
  private readonly lastKeepalive = new Map<number, number>();
  readonly keepalivesSent = { count: 0 };

  private sendKeepalives(): void {
    const dp = this.native ?? this.tsdp;
    if (!dp || this.stopped) return;
    const now = this.clock.now();
    for (const { ike } of this.manager.list()) {
      const c = this.config.connections.find((x) => x.name === ike.connection);
      if (!c || c.natKeepaliveMs <= 0 || !ike.natLocal || ike.state !== 'established' || ike.local.port !== 4500) continue;
      const last = this.lastKeepalive.get(ike.ikeId) ?? now;
      if (!this.lastKeepalive.has(ike.ikeId)) this.lastKeepalive.set(ike.ikeId, now);
      if (now - last < c.natKeepaliveMs) continue;
      this.lastKeepalive.set(ike.ikeId, now);
      try {
        dp.sendKeepalive(ike.local, ike.remote);
        this.keepalivesSent.count++;
      } catch (e) {
        this.log.debug({ err: e instanceof Error ? e.message : String(e) }, 'keepalive failed');
      }
    }
  }

  private onEspEvent(ev: EspEvent): void {
    switch (ev.kind) {
      case 'acquire': {
        const c = this.config.connections.find((x) => x.name === ev.connection);
        if (c?.startAction !== 'trap') return;
        // only traffic our remote selectors cover brings the tunnel up
        const dst = ev.dst !== undefined ? parseAddress(ev.dst) : null;
        if (ev.dst !== undefined && (!dst || !c.remoteTs.some((t) => t.startAddr.length === dst.length && rangeContains({ family: t.family, start: t.startAddr, end: t.endAddr }, dst)))) return;
        this.log.info({ connection: c.name, dst: ev.dst }, 'traffic for a trapped connection: initiating');
        this.run(() => this.manager.acquire(ev.connection, this.clock.now()));
        return;
      }
      case 'expire':
        this.log.info({ spi: hex32(ev.spi), hard: ev.hard, reason: ev.reason }, 'ESP SA lifetime reached');
        this.run(() => this.manager.espExpire(ev.spi, ev.hard, ev.reason, this.clock.now()));
        return;
      case 'mapping':
        this.run(() => this.manager.espMapping(ev.spi, ev.remote, this.clock.now()));
        return;
    }
  }

  /** Delete every SA (INFORMATIONAL Delete), wait briefly for answers, then close sockets. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.stopped) return;
    this.run(() => this.manager.terminateAll(this.clock.now()));
    const until = Date.now() + graceMs;
    while (Date.now() < until && this.manager.list().length > 0) await new Promise((r) => setTimeout(r, 50));
    this.stopped = true;
    this.scheduler.stop();
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    await this.udp.close();
    this.native?.stop();
    this.tsdp?.stop();
    this.log.info('stopped');
  }

  up(name: string): boolean {
    if (!this.config.connections.some((c) => c.name === name)) return false;
    this.run(() => this.manager.initiate(name, this.clock.now()));
    return true;
  }
  down(name: string): boolean {
    if (!this.config.connections.some((c) => c.name === name)) return false;
    this.run(() => this.manager.terminate(name, this.clock.now()));
    return true;
  }

  /** Execute one core call; never lets an exception escape into the event loop. */
  run(fn: () => Output): void {
    if (this.stopped) return;
    let out: Output;
    try {
      out = fn();
    } catch (e) {
      // a bug, not bad input: log it with the stack, keep serving
      this.log.error({ err: e instanceof Error ? e.stack : String(e) }, 'internal error in IKE core');
      return;
    }
    for (const a of out.actions) {
      try {
        this.execute(a);
      } catch (e) {
        this.log.error({ action: a.kind, err: e instanceof Error ? e.message : String(e) }, 'action failed');
      }
    }
    this.scheduler.set(out.wakeAt);
  }

  private execute(a: Action): void {
    switch (a.kind) {
      case 'send':
        if (this.native) for (const d of a.datagrams) this.native.sendIke(d, a.local, a.remote);
        else this.udp.sendIke(a.datagrams, a.local, a.remote);
        return;
      case 'install-sa':
        try {
          this.sad.addSa(a.spec);
        } catch (e) {
          this.log.error({ spi: hex32(a.spec.spi), dir: a.spec.dir, err: e instanceof Error ? e.message : String(e) }, 'data plane refused the SA');
        }
        return;
      case 'activate-outbound':
        this.sad.activateOutbound(a.connection, a.spi);
        return;
      case 'update-sa':
        this.sad.updateSa(a.spi, { ...(a.remote ? { remote: a.remote } : {}), ...(a.encap !== undefined ? { encap: a.encap } : {}) });
        return;
      case 'delete-sa':
        this.sad.delSa(a.spi);
        return;
      case 'event':
        this.onEvent(a.event);
        return;
    }
  }

  private onEvent(e: IkeEvent): void {
    const L = this.log;
    switch (e.type) {
      case 'log': {
        const { type: _t, level, msg, ...rest } = e;
        L[level](rest, msg);
        return;
      }
      case 'ike-up':
        this.counters.ikeUp++;
        L.info({ connection: e.sa.connection, ike: e.sa.ikeId, spiI: e.sa.spiI, spiR: e.sa.spiR, local: e.sa.local, remote: e.sa.remote, encr: e.sa.encr, integ: e.sa.integ, prf: e.sa.prf, ke: e.sa.ke, natLocal: e.sa.natLocal, natRemote: e.sa.natRemote }, 'IKE SA established');
        return;
      case 'ike-down':
        L.info({ connection: e.connection, ike: e.ikeId, reason: e.reason }, 'IKE SA down');
        return;
      case 'child-up':
        this.counters.childUp++;
        this.childCount(e.child.connection, +1);
        L.info({ connection: e.child.connection, ike: e.ike, child: e.child.childId, spiIn: hex32(e.child.spiIn), spiOut: hex32(e.child.spiOut), encr: e.child.encr, integ: e.child.integ, esn: e.child.esn, localTs: e.child.localTs, remoteTs: e.child.remoteTs, encap: e.child.encap }, 'CHILD_SA installed');
        return;
      case 'child-down':
        this.childCount(e.child.connection, -1);
        L.info({ connection: e.child.connection, ike: e.ike, child: e.child.childId, spiIn: hex32(e.child.spiIn), spiOut: hex32(e.child.spiOut), reason: e.reason }, 'CHILD_SA deleted');
        return;
      case 'child-rekeyed':
      case 'ike-rekeyed':
        L.info({ event: e.type }, 'rekeyed');
        return;
      case 'failed':
        this.counters.eventsFailed++;
        L.warn({ connection: e.connection, ike: e.ikeId, notify: e.notify }, `negotiation failed: ${e.reason}`);
        return;
      case 'retransmit':
        L.info({ connection: e.connection, ike: e.ikeId, exchange: e.exchange, mid: e.messageId, attempt: e.attempt }, 'retransmitting request');
        return;
      case 'peer-dead':
        L.warn({ connection: e.connection, ike: e.ikeId }, 'peer is not responding: declared dead');
        return;
      case 'drop':
        L.debug({ reason: e.reason, detail: e.detail, remote: e.remote }, 'IKE message dropped');
        return;
      case 'keys':
        if (this.opts.keylog) appendFileSync(this.opts.keylog, JSON.stringify(e) + '\n');
        return;
    }
  }

  private readonly liveChildren = new Map<string, number>();

  /** Install the connection's routes with its first CHILD_SA, withdraw them with its last. */
  private childCount(conn: string, delta: number): void {
    const before = this.liveChildren.get(conn) ?? 0;
    const after = Math.max(0, before + delta);
    this.liveChildren.set(conn, after);
    const c = this.config.connections.find((x) => x.name === conn);
    if ((!this.native && !this.tsdp) || !c || c.startAction === 'trap' || !c.tunnel.routes.length) return;
    if (before === 0 && after > 0) this.routes(c.tunnel.name, c.tunnel.routes, 'replace');
    else if (before > 0 && after === 0) this.routes(c.tunnel.name, c.tunnel.routes, 'del');
  }

  private routes(dev: string, prefixes: readonly string[], op: 'replace' | 'del'): void {
    for (const p of prefixes) {
      const r = spawnSync('ip', [...(p.includes(':') ? ['-6'] : []), 'route', op, p, 'dev', dev], { encoding: 'utf8', timeout: 5000 });
      if (r.status !== 0 && !(op === 'del' && /No such process|Cannot find device/.test(r.stderr ?? ''))) this.log.warn({ route: p, dev, op, err: (r.stderr ?? '').trim() }, 'route change failed');
    }
    this.log.info({ dev, routes: prefixes, op: op === 'del' ? 'withdrawn' : 'installed' }, 'tunnel routes');
  }

  status() {
    return {
      connections: this.manager.connections(),
      sas: this.manager.list().map((s) => ({
        ...s,
        children: s.children.map((c) => ({ ...c, spiIn: hex32(c.spiIn), spiOut: hex32(c.spiOut), counters: { in: this.sad.querySa(c.spiIn), out: this.sad.querySa(c.spiOut) } })),
      })),
      stats: { ike: this.manager.stats, udp: this.udp.counters, natKeepalivesSent: this.keepalivesSent.count, dataplane: this.native?.stats() ?? this.tsdp?.stats() },
    };
  }
}

/** TCP MSS clamp of a connection's tunnel: off (0), auto (the data plane derives it per family from its packet limit) or a value */
function tunnelMss(c: GatewayConfig['connections'][number]): number | 'auto' {
  return c.tunnel.mssClamp === 'off' ? 0 : c.tunnel.mssClamp;
}

/**
 * No IPv6 selectors or addresses: keep the kernel's IPv6 link-local chatter (RS, MLD) out of
 * the tunnel, where it would only be dropped, or trigger a `trap` connection.
 */
function quietIpv6(c: GatewayConfig['connections'][number]): void {
  const v6 = [...c.localTs, ...c.remoteTs].some((t) => t.family === 6) || c.tunnel.addresses.some((a) => a.includes(':'));
  if (v6) return;
  try {
    writeFileSync(`/proc/sys/net/ipv6/conf/${c.tunnel.name}/disable_ipv6`, '1');
  } catch {
    /* IPv6 disabled on this host already */
  }
}

export function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}
