/**
 * TsSad: the TypeScript reference Security Association Database and ESP data path
 * (strongSwan libipsec's ipsec_sa_mgr + esp_packet, minus the kernel). It implements the
 * same SadPort as the native path.
 *
 * - Inbound: Map<SPI, EspSa>. `open()` = SPI lookup → replay check (no state change) →
 *   decrypt/verify → replay commit → counters/lifetime → 'mapping' event if the
 *   authenticated packet came from a new endpoint.
 * - Outbound: per connection a `current` and a `previous` slot (wireguard-go keypairs).
 *   `addSa(out)` installs without switching (except for a connection's first SA, which
 *   becomes current at once); `activateOutbound()` switches, the old one moves to
 *   `previous` until IKE deletes it (make-before-break, ARCHITECTURE.md §3).
 * - Never throws on the packet path: drops are returned and counted per DropReason.
 * - Events (`expire` soft/hard by bytes/packets/seq, `acquire`, `mapping`) are queued and
 *   collected with `drainEvents()`; time comes from the injected Clock.
 *
 * SPI namespace: inbound SPIs are ours, outbound ones the peer's, and the two may
 * coincide. They live in separate maps; `updateSa`/`delSa`/`querySa` take only an SPI
 * (SadPort), so they act on every SA with that SPI — inbound first for `querySa`.
 */
import type { Clock } from '../common/clock.js';
import type { Rng } from '../common/rng.js';
import { DropReason } from '../common/errors.js';
import { readU32 } from '../common/bytes.js';
import type { Backend } from '../crypto/ids.js';
import type { Endpoint, EspEvent, SadPort, SaCounters, SaSpec, Spi } from './port.js';
import { type DropResult, decapsulate, dropResult, encapsulate } from './packet.js';
import { type EspSa, createEspSa, destroyEspSa } from './sa.js';
import { SeqStep } from './seq.js';
import { LifetimeHit } from './lifetime.js';
import { NextHeader } from './trailer.js';
import { innerPacketAllowed } from './policy.js';

export interface TsSadOptions {
  clock: Clock;
  /** CBC IVs and SPI allocation */
  rng: Rng;
  /** crypto backend; registry default when omitted */
  backend?: Backend;
}

export type SealResult =
  | { ok: true; datagram: Uint8Array; remote: Endpoint; local: Endpoint; encap: boolean; spi: Spi }
  | DropResult;

export type OpenResult = { ok: true; inner: Uint8Array; connection: string; childId: number; spi: Spi } | DropResult;

export interface SadStats {
  drops: Record<DropReason, number>;
  inboundSas: number;
  outboundSas: number;
}

interface OutSlots {
  current: EspSa | undefined;
  previous: EspSa | undefined;
  /** an 'acquire' was queued since the last activation (one per gap, not per packet) */
  acquired: boolean;
}

export class TsSad implements SadPort {
  private readonly inbound = new Map<number, EspSa>();
  private readonly outbound = new Map<number, EspSa>();
  private readonly conns = new Map<string, OutSlots>();
  private readonly reserved = new Set<number>();
  private events: EspEvent[] = [];
  private readonly drops = {} as Record<DropReason, number>;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly backend: Backend | undefined;

  constructor(opts: TsSadOptions) {
    this.clock = opts.clock;
    this.rng = opts.rng;
    this.backend = opts.backend;
    for (const r of Object.values(DropReason)) this.drops[r] = 0;
  }

  // ───────────────────────────── control plane (SadPort) ─────────────────────────────

  /** A fresh inbound SPI (≥ 256, not in use, reserved until added). */
  allocSpi(): Spi {
    for (;;) {
      const b = this.rng.bytes(4);
      const spi = readU32(b, 0);
      if (spi < 256 || this.inbound.has(spi) || this.reserved.has(spi)) continue;
      this.reserved.add(spi);
      return spi;
    }
  }

  addSa(spec: SaSpec): void {
    const map = spec.dir === 'in' ? this.inbound : this.outbound;
    if (map.has(spec.spi >>> 0)) throw new Error(`SA ${(spec.spi >>> 0).toString(16)} (${spec.dir}) already installed`);
    const sa = createEspSa(spec, this.backend);
    map.set(sa.spi, sa);
    if (sa.dir === 'in') {
      this.reserved.delete(sa.spi);
      return;
    }
    const slots = this.slots(sa.connection);
    if (slots.current === undefined) this.makeCurrent(slots, sa);
  }

  activateOutbound(connection: string, spi: Spi): void {
    const sa = this.outbound.get(spi >>> 0);
    if (sa === undefined || sa.connection !== connection) {
      throw new Error(`activateOutbound: no outbound SA ${(spi >>> 0).toString(16)} for ${connection}`);
    }
    const slots = this.slots(connection);
    if (slots.current === sa) return;
    this.makeCurrent(slots, sa);
  }

  updateSa(spi: Spi, u: { remote?: Endpoint; encap?: boolean }): void {
    for (const sa of this.bySpi(spi)) {
      if (u.remote !== undefined) {
        sa.remote = { address: u.remote.address, port: u.remote.port };
        sa.lastMapping = null;
      }
      if (u.encap !== undefined) sa.encap = u.encap;
    }
  }

  delSa(spi: Spi): void {
    const key = spi >>> 0;
    const sin = this.inbound.get(key);
    if (sin !== undefined) {
      this.inbound.delete(key);
      destroyEspSa(sin);
    }
    const sout = this.outbound.get(key);
    if (sout !== undefined) {
      this.outbound.delete(key);
      const slots = this.conns.get(sout.connection);
      if (slots !== undefined) {
        if (slots.previous === sout) slots.previous = undefined;
        if (slots.current === sout) {
          // fall back to the previous SA if it is still usable
          slots.current = slots.previous !== undefined && !slots.previous.dead ? slots.previous : undefined;
          slots.previous = undefined;
        }
        if (slots.current === undefined && slots.previous === undefined) this.conns.delete(sout.connection);
      }
      destroyEspSa(sout);
    }
  }

  querySa(spi: Spi): SaCounters | undefined {
    const sa = this.inbound.get(spi >>> 0) ?? this.outbound.get(spi >>> 0);
    if (sa === undefined) return undefined;
    return { bytes: sa.life.bytes, packets: sa.life.packets, lastUsedMs: sa.lastUsedMs };
  }

  /** The SA object itself (diagnostics and tests; not for the data path). */
  getSa(spi: Spi, dir: 'in' | 'out'): EspSa | undefined {
    return (dir === 'in' ? this.inbound : this.outbound).get(spi >>> 0);
  }

  /** SPI of a connection's current outbound SA (diagnostics, tests). */
  currentOutbound(connection: string): Spi | undefined {
    return this.conns.get(connection)?.current?.spi;
  }

  /** Queued events, oldest first; the queue is emptied. */
  drainEvents(): EspEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  stats(): SadStats {
    return { drops: { ...this.drops }, inboundSas: this.inbound.size, outboundSas: this.outbound.size };
  }

  // ──────────────────────────────────── data path ────────────────────────────────────

  /** Encrypt an inner IP packet for `connection` with its current outbound SA. */
  seal(connection: string, inner: Uint8Array): SealResult {
    const slots = this.conns.get(connection);
    const sa = slots?.current;
    if (sa === undefined || sa.dead) {
      if (slots === undefined || !slots.acquired) {
        this.events.push({ kind: 'acquire', connection });
        if (slots !== undefined) slots.acquired = true;
        else this.conns.set(connection, { current: undefined, previous: undefined, acquired: true });
      }
      return this.drop(DropReason.NoSa);
    }
    const v = inner.length > 0 ? inner[0]! >>> 4 : 0;
    if (v !== 4 && v !== 6) return this.drop(DropReason.Malformed);

    const seq = sa.seq!;
    const step = seq.next();
    if (step === SeqStep.Exhausted) {
      sa.dead = true;
      return this.drop(DropReason.NoSa);
    }
    let datagram: Uint8Array;
    try {
      const iv = sa.cipher.aead ? undefined : this.rng.bytes(sa.cipher.ivLen);
      datagram = encapsulate(sa, inner, seq.cur, iv);
    } catch {
      return this.drop(DropReason.Malformed);
    }
    if (step === SeqStep.Soft) this.events.push({ kind: 'expire', spi: sa.spi, hard: false, reason: 'seq' });
    else if (step === SeqStep.Last) {
      sa.dead = true;
      this.events.push({ kind: 'expire', spi: sa.spi, hard: true, reason: 'seq' });
    }
    this.account(sa, inner.length);
    return { ok: true, datagram, remote: sa.remote, local: sa.local, encap: sa.encap, spi: sa.spi };
  }

  /**
   * Authenticate and decrypt an ESP payload (from the SPI on; outer IP / UDP headers
   * already stripped) received from `from`.
   */
  open(esp: Uint8Array, from: Endpoint): OpenResult {
    if (esp.length < 8) return this.drop(DropReason.Malformed);
    const sa = this.inbound.get(readU32(esp, 0));
    if (sa === undefined) return this.drop(DropReason.UnknownSpi);
    if (sa.dead) return this.drop(DropReason.NoSa);
    const replay = sa.replay!;
    const seqLow = readU32(esp, 4);
    const hi = replay.check(seqLow);
    if (hi < 0) return this.drop(DropReason.Replay);
    const r = decapsulate(sa, esp, hi);
    if (!r.ok) {
      // a dummy packet (RFC 4303 §2.6) is authentic: it consumes its sequence number
      if (r.reason === DropReason.Dummy) replay.commit(hi, seqLow);
      return this.drop(r.reason);
    }
    if (!replay.commit(r.seqHi, r.seqLo)) return this.drop(DropReason.Replay);
    // tunnel mode: Next Header must name the inner packet's IP version
    const inner = r.inner;
    const v = inner.length > 0 ? inner[0]! >>> 4 : 0;
    if (!((r.nextHeader === NextHeader.IPV4 && v === 4) || (r.nextHeader === NextHeader.IPV6 && v === 6))) {
      return this.drop(DropReason.Malformed);
    }
    // RFC 4301 §5.2: the inner packet must match the CHILD_SA's selectors
    if (sa.policy !== null && !innerPacketAllowed(sa.policy.localTs, sa.policy.remoteTs, inner)) return this.drop(DropReason.PolicyMismatch);
    this.account(sa, inner.length);
    this.checkMapping(sa, from);
    return { ok: true, inner, connection: sa.connection, childId: sa.childId, spi: sa.spi };
  }

  // ───────────────────────────────────── helpers ─────────────────────────────────────

  private drop(reason: DropReason): DropResult {
    this.drops[reason]++;
    return dropResult(reason);
  }

  private account(sa: EspSa, bytes: number): void {
    sa.lastUsedMs = this.clock.now();
    const hit = sa.life.count(bytes);
    if (hit === LifetimeHit.None) return;
    const hard = hit === LifetimeHit.Hard;
    if (hard) sa.dead = true;
    this.events.push({ kind: 'expire', spi: sa.spi, hard, reason: sa.life.reason });
  }

  /** RFC 7296 §2.23 / RFC 3948: report a changed peer endpoint once (IKE decides). */
  private checkMapping(sa: EspSa, from: Endpoint): void {
    const r = sa.remote;
    if (from.address === r.address && (!sa.encap || from.port === r.port)) return;
    const m = sa.lastMapping;
    if (m !== null && m.address === from.address && m.port === from.port) return;
    sa.lastMapping = { address: from.address, port: from.port };
    this.events.push({ kind: 'mapping', spi: sa.spi, remote: { address: from.address, port: from.port } });
  }

  private slots(connection: string): OutSlots {
    let s = this.conns.get(connection);
    if (s === undefined) {
      s = { current: undefined, previous: undefined, acquired: false };
      this.conns.set(connection, s);
    }
    return s;
  }

  private makeCurrent(slots: OutSlots, sa: EspSa): void {
    slots.previous = slots.current;
    slots.current = sa;
    slots.acquired = false;
  }

  private *bySpi(spi: Spi): Iterable<EspSa> {
    const a = this.inbound.get(spi >>> 0);
    if (a !== undefined) yield a;
    const b = this.outbound.get(spi >>> 0);
    if (b !== undefined) yield b;
  }
}
