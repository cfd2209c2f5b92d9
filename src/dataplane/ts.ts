/**
 * TsDataplane: the daemon's data plane in readable TypeScript — the fallback and oracle of
 * the native fast path (`dataplane: { backend: ts }`). Same SadPort, same connection
 * options, same events; one packet at a time, on node:crypto through TsSad.
 *
 * Pipeline (one per connection, all on the JS thread except the blocking TUN read):
 *
 *   outbound  TUN ─read (tun.ts: addon fd on libuv's thread pool, or the relay's pipe)→ MSS clamp → TsSad.seal (current SA) →
 *             UdpTransport.sendRaw (ESP-in-UDP, port 4500)
 *             no SA yet: `trap` connections hold up to 16 packets (≤ 3 s) and send them
 *             when an outbound SA becomes current; others drop (no_sa) and raise `acquire`
 *   inbound   UdpTransport (port 4500, not IKE, not keepalive) → TsSad.open (SPI → replay
 *             check → decrypt/verify → replay commit → selector check) → MSS clamp →
 *             write into the connection's TUN
 *
 * What the native path does and this one does not: raw ESP (IP protocol 50 needs a raw
 * socket, which Node has not — config refuses `encap: auto` with this backend), TUN
 * offloads, batching, ICMP too-big generation (the TUN MTU bounds what the kernel gives us;
 * bigger packets are dropped as too_big). The TUN is opened by the addon's small openTun()
 * when the addon loads, else by a Perl relay process (src/dataplane/tun.ts): TUNSETIFF is an
 * ioctl, which Node cannot issue.
 *
 * Never throws on the packet path: every drop is counted by reason.
 */
import type { Clock } from '../common/clock.js';
import type { Rng } from '../common/rng.js';
import { DropReason } from '../common/errors.js';
import { TsSad } from '../esp/sad.js';
import type { Endpoint, EspEvent, SaCounters, SadPort, SaSpec, Spi } from '../esp/port.js';
import { clampMss } from '../net/mss-clamp.js';
import { addrToString, ipDst } from '../net/ip.js';
import type { ConnectionOptions } from './native.js';
import { configureTun } from './iface.js';
import { openTunDevice, type TunDevice } from './tun.js';

export interface TsDataplaneOptions {
  clock: Clock;
  rng: Rng;
  /** ESP-in-UDP out of the 4500 socket bound to `local` (UdpTransport.sendRaw) */
  send(datagram: Uint8Array, local: Endpoint, remote: Endpoint): void;
}

export interface TsDataplaneStats {
  tunReadPackets: number;
  tunWritePackets: number;
  tunWriteErrors: number;
  tunReadErrors: number;
  txEspPackets: number;
  rxEspPackets: number;
  trapHeldPackets: number;
  trapSentPackets: number;
  drops: Record<string, number>;
  inboundSas: number;
  outboundSas: number;
}

const TRAP_QUEUE = 16;
const TRAP_MAX_AGE_MS = 3000;

interface Conn {
  opts: ConnectionOptions;
  dev: TunDevice | undefined;
  closed: boolean;
  held: { pkt: Uint8Array; at: number }[];
  lastAcquire: number | undefined;
}

export class TsDataplane implements SadPort {
  readonly sad: TsSad;
  private readonly conns = new Map<string, Conn>();
  private handlers: ((e: EspEvent) => void)[] = [];
  private readonly c = { tunReadPackets: 0, tunWritePackets: 0, tunWriteErrors: 0, tunReadErrors: 0, txEspPackets: 0, rxEspPackets: 0, trapHeldPackets: 0, trapSentPackets: 0, tooBig: 0 };

  constructor(private readonly o: TsDataplaneOptions) {
    this.sad = new TsSad({ clock: o.clock, rng: o.rng });
  }

  // ───────────────────────────── connections ─────────────────────────────

  /** Create the connection's TUN (addon or relay, see tun.ts), put addresses and routes on it, start reading. */
  async addConnection(opts: ConnectionOptions): Promise<void> {
    if (this.conns.has(opts.name)) throw new Error(`connection ${opts.name} exists`);
    const c: Conn = { opts, dev: undefined, closed: false, held: [], lastAcquire: undefined };
    this.conns.set(opts.name, c);
    try {
      c.dev = await openTunDevice(opts.tunName, opts.mtu, {
        packet: (pkt) => {
          if (c.closed) return;
          this.c.tunReadPackets++;
          this.outbound(c, pkt);
        },
        readError: () => this.c.tunReadErrors++,
      });
      if (c.closed) c.dev.close();
      else configureTun(c.dev.name, opts.addresses ?? [], opts.routes ?? []);
    } catch (e) {
      this.removeConnection(opts.name);
      throw e;
    }
  }

  /** Close the TUN (the device goes with it). */
  removeConnection(name: string): void {
    const c = this.conns.get(name);
    if (!c) return;
    this.conns.delete(name);
    c.closed = true;
    c.dev?.close();
  }

  tunName(name: string): string | undefined {
    return this.conns.get(name)?.dev?.name;
  }

  /** how the connection's TUN was opened: 'addon' or 'relay' */
  tunKind(name: string): 'addon' | 'relay' | undefined {
    return this.conns.get(name)?.dev?.kind;
  }

  stop(): void {
    for (const name of [...this.conns.keys()]) this.removeConnection(name);
  }

  // ─────────────────────────────── SadPort ───────────────────────────────

  addSa(spec: SaSpec): void {
    if (!this.conns.has(spec.connection)) throw new Error(`addSa: unknown connection ${spec.connection}`);
    if (spec.dir === 'out' && !spec.encap) throw new Error('the TypeScript data path sends ESP-in-UDP only (raw ESP needs the native backend)');
    this.sad.addSa(spec);
    if (spec.dir === 'out') this.flushHeld(spec.connection);
  }

  activateOutbound(connection: string, spi: Spi): void {
    this.sad.activateOutbound(connection, spi);
    this.flushHeld(connection);
  }

  updateSa(spi: Spi, u: { remote?: Endpoint; encap?: boolean }): void {
    this.sad.updateSa(spi, u);
  }

  delSa(spi: Spi): void {
    this.sad.delSa(spi);
  }

  querySa(spi: Spi): SaCounters | undefined {
    return this.sad.querySa(spi);
  }

  // ──────────────────────────────── packets ────────────────────────────────

  /** One ESP-in-UDP datagram from the 4500 socket (non-ESP marker and keepalives already removed). */
  inbound(esp: Uint8Array, _local: Endpoint, remote: Endpoint): void {
    const r = this.sad.open(esp, remote);
    this.drainEvents();
    if (!r.ok) return;
    this.c.rxEspPackets++;
    const conn = this.conns.get(r.connection);
    if (!conn || conn.closed) return;
    const mssIn = mssFor(conn.opts, r.inner);
    if (mssIn > 0) clampMss(r.inner, mssIn);
    if (conn.dev?.write(r.inner)) this.c.tunWritePackets++;
    else this.c.tunWriteErrors++;
  }

  /** RFC 3948 §2.3 NAT keepalive: one 0xFF octet from port 4500. */
  sendKeepalive(local: Endpoint, remote: Endpoint): void {
    this.o.send(new Uint8Array([0xff]), local, remote);
  }

  onEvent(cb: (e: EspEvent) => void): () => void {
    this.handlers.push(cb);
    return () => {
      this.handlers = this.handlers.filter((h) => h !== cb);
    };
  }

  stats(): TsDataplaneStats {
    const s = this.sad.stats();
    const { tooBig, ...c } = this.c;
    return { ...c, drops: { ...s.drops, too_big: (s.drops[DropReason.TooBig] ?? 0) + tooBig }, inboundSas: s.inboundSas, outboundSas: s.outboundSas };
  }

  private outbound(c: Conn, pkt: Uint8Array): void {
    const limit = c.opts.maxPacket ?? c.opts.mtu;
    if (pkt.length > limit) {
      this.c.tooBig++;
      return;
    }
    const mss = mssFor(c.opts, pkt);
    if (mss > 0) clampMss(pkt, mss);
    const r = this.sad.seal(c.opts.name, pkt);
    this.drainEvents();
    if (r.ok) {
      this.o.send(r.datagram, r.local, r.remote);
      this.c.txEspPackets++;
      return;
    }
    if (r.reason !== DropReason.NoSa || isNoise(pkt)) return;
    // no SA: report the first real packet (not the kernel's multicast / link-local chatter)
    // at most once a second with its destination, so the gateway can match selectors; a
    // trap connection also holds it until the SA is up
    const now = this.o.clock.now();
    if (c.lastAcquire === undefined || now - c.lastAcquire >= 1000) {
      c.lastAcquire = now;
      const d = ipDst(pkt);
      this.emit({ kind: 'acquire', connection: c.opts.name, ...(d ? { dst: addrToString(d) } : {}) });
    }
    if (c.opts.trap) {
      while (c.held.length > 0 && now - c.held[0]!.at > TRAP_MAX_AGE_MS) c.held.shift();
      if (c.held.length >= TRAP_QUEUE) c.held.shift();
      c.held.push({ pkt: Uint8Array.from(pkt), at: now });
      this.c.trapHeldPackets++;
    }
  }

  /** a trap connection got its outbound SA: send what waited (≤ 3 s old), oldest first */
  private flushHeld(connection: string): void {
    const c = this.conns.get(connection);
    if (!c || c.held.length === 0 || this.sad.currentOutbound(connection) === undefined) return;
    const now = this.o.clock.now();
    const held = c.held;
    c.held = [];
    for (const h of held) {
      if (now - h.at > TRAP_MAX_AGE_MS) continue;
      const r = this.sad.seal(connection, h.pkt);
      if (!r.ok) continue;
      this.o.send(r.datagram, r.local, r.remote);
      this.c.txEspPackets++;
      this.c.trapSentPackets++;
    }
    this.drainEvents();
  }

  /** hand TsSad's queued events to the gateway (its own once-per-gap acquire is replaced by ours) */
  private drainEvents(): void {
    for (const e of this.sad.drainEvents()) if (e.kind !== 'acquire') this.emit(e);
  }

  private emit(e: EspEvent): void {
    for (const h of this.handlers) h(e);
  }
}

/** multicast, broadcast and IPv6 link-local destinations: the kernel's own chatter on the TUN */
function isNoise(p: Uint8Array): boolean {
  const v = p.length > 0 ? p[0]! >>> 4 : 0;
  if (v === 4 && p.length >= 20) return p[16]! >= 224;
  if (v === 6 && p.length >= 40) return p[24] === 0xff || (p[24] === 0xfe && (p[25]! & 0xc0) === 0x80);
  return true;
}

/** the clamp for this packet: a value, 0 = off, 'auto' = packet limit − 40 (IPv4) / − 60 (IPv6) */
export function mssFor(o: Pick<ConnectionOptions, 'mssClamp' | 'mtu' | 'maxPacket'>, pkt: Uint8Array): number {
  if (o.mssClamp !== 'auto') return o.mssClamp;
  return (o.maxPacket ?? o.mtu) - ((pkt[0] ?? 0) >> 4 === 6 ? 60 : 40);
}
