/**
 * IkeSaManager: the IKE core's front door. Finds the IKE SA a datagram belongs to, does the
 * cheap stateless checks on new IKE_SA_INIT requests before any state exists (parse,
 * payload rules, connection lookup, COOKIE under load, proposal and KE group), and owns the
 * connection-level policy (initiate, terminate, reconnect with backoff, INITIAL_CONTACT).
 *
 * Pure: every entry point takes `now` and returns { actions, wakeAt }.
 */
import type { ConnectionConfig } from '../config/types.js';
import type { Endpoint } from '../esp/port.js';
import type { Rng } from '../common/rng.js';
import { hex } from '../common/bytes.js';
import { ExchangeType, NotifyType, PayloadType, notifyName } from './wire/constants.js';
import type { IkeHeader, Payload } from './wire/types.js';
import { checkRules, decodeHeader, decodeMessage, encodeMessage, findNotify, findPayload } from './wire-api.js';
import type { Action, ChildSaInfo, IkeSaInfo, Output } from './actions.js';
import { IkeSa, notifyPayload, type IkeSaDeps } from './ike-sa.js';
import { IkeInitTask, respondIkeInit } from './tasks/ike-init.js';
import { ChildDeleteTask, IkeDeleteTask, InformationalTask } from './tasks/informational.js';
import { armIkeLifetime } from './tasks/ike-rekey.js';
import { selectIke } from './proposal.js';
import { CookieJar } from './cookie.js';
import { addrEquals, parseAddress } from '../net/prefix.js';

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseAddress(a), y = parseAddress(b);
  return !!x && !!y && addrEquals(x, y);
}

export interface ManagerOptions {
  rng: Rng;
  /** half-open SAs at which COOKIEs are demanded (RFC 7296 §2.6) */
  cookieThreshold: number;
  /** hard cap on half-open SAs; new IKE_SA_INIT requests are dropped beyond it */
  maxHalfOpen?: number;
}

export interface ManagerStats {
  drops: Record<string, number>;
  ikeSaInitReceived: number;
  cookiesSent: number;
}

interface ConnState {
  conn: ConnectionConfig;
  /** user asked for the connection to be up (start action or `up`) */
  wanted: boolean;
  reconnectAt: number | undefined;
  backoffMs: number;
}

const RECONNECT_MIN_MS = 2_000;
const RECONNECT_MAX_MS = 120_000;

export class IkeSaManager {
  private readonly sas = new Map<number, IkeSa>();
  private readonly bySpi = new Map<string, IkeSa>();
  private readonly halfOpen = new Map<string, IkeSa>();
  private readonly conns = new Map<string, ConnState>();
  private readonly usedSpis = new Set<number>();
  private readonly cookies: CookieJar;
  private nextIkeId = 1;
  private nextChildId = 1;
  private out: Action[] = [];
  readonly stats: ManagerStats = { drops: {}, ikeSaInitReceived: 0, cookiesSent: 0 };
  private readonly deps: IkeSaDeps;

  constructor(connections: readonly ConnectionConfig[], private readonly opts: ManagerOptions, now: number) {
    for (const c of connections) this.conns.set(c.name, { conn: c, wanted: false, reconnectAt: undefined, backoffMs: RECONNECT_MIN_MS });
    this.cookies = new CookieJar((n) => opts.rng.bytes(n), now);
    this.deps = {
      rng: opts.rng,
      allocSpi: () => this.allocSpi(),
      releaseSpi: (spi) => this.usedSpis.delete(spi),
      nextChildId: () => this.nextChildId++,
      onInitialContact: (sa) => this.initialContact(sa),
      hasOtherSa: (sa) => [...this.sas.values()].some((o) => o !== sa && o.conn.name === sa.conn.name && o.state === 'established'),
      newIkeSpi: () => this.newIkeSpi(),
      nextIkeId: () => this.nextIkeId++,
      adopt: (fresh) => this.adopt(fresh),
    };
  }

  // ---------------------------------------------------------------- public API
  /** start actions: call once after construction */
  start(now: number): Output {
    for (const cs of this.conns.values()) if (cs.conn.startAction === 'start') this.initiateConn(cs, now);
    return this.flush();
  }

  initiate(name: string, now: number): Output {
    const cs = this.conns.get(name);
    if (cs) this.initiateConn(cs, now);
    return this.flush();
  }

  /** Delete the connection's IKE SAs (sends Delete) and stop reconnecting. */
  terminate(name: string, now: number): Output {
    const cs = this.conns.get(name);
    if (cs) {
      cs.wanted = false;
      cs.reconnectAt = undefined;
      for (const sa of this.sas.values()) if (sa.conn.name === name) this.deleteSa(sa, 'terminated by user', now);
    }
    return this.flush();
  }

  /** Graceful shutdown: Delete every IKE SA. */
  terminateAll(now: number): Output {
    for (const cs of this.conns.values()) {
      cs.wanted = false;
      cs.reconnectAt = undefined;
    }
    for (const sa of this.sas.values()) this.deleteSa(sa, 'shutdown', now);
    return this.flush();
  }

  /** the trap path: a packet wants the connection (start action `trap`) */
  acquire(name: string, now: number): Output {
    const cs = this.conns.get(name);
    if (cs && !this.hasLiveSa(name)) this.initiateConn(cs, now);
    return this.flush();
  }

  handleDatagram(buf: Uint8Array, local: Endpoint, remote: Endpoint, now: number): Output {
    let header: IkeHeader;
    try {
      header = decodeHeader(buf);
    } catch {
      this.count('malformed');
      return this.flush();
    }
    if (header.majorVersion !== 2) {
      this.count('bad_version');
      return this.flush();
    }
    let sa: IkeSa | undefined;
    if (header.exchangeType === ExchangeType.IKE_SA_INIT && !header.response && header.initiator) {
      sa = this.halfOpen.get(halfOpenKey(remote, header.spiI)) ?? this.bySpi.get(hex(header.spiR));
      if (!sa) {
        this.newInitRequest(header, buf, local, remote, now);
        return this.flush();
      }
    } else {
      // the SPI we chose is SPIi if we are the original initiator (I flag clear on their side)
      sa = this.bySpi.get(hex(header.initiator ? header.spiR : header.spiI));
    }
    if (!sa) {
      this.count('unknown_spi');
      return this.flush();
    }
    sa.handleDatagram(header, buf, remote, local, now);
    this.collect(sa, now);
    return this.flush();
  }

  tick(now: number): Output {
    for (const sa of [...this.sas.values()]) {
      const d = sa.nextDeadline();
      if (d !== undefined && d <= now) {
        sa.tick(now);
        this.collect(sa, now);
      }
    }
    for (const cs of this.conns.values()) {
      if (cs.reconnectAt !== undefined && now >= cs.reconnectAt) {
        cs.reconnectAt = undefined;
        if (cs.wanted && !this.hasLiveSa(cs.conn.name)) {
          this.initiateConn(cs, now);
        }
      }
    }
    return this.flush();
  }

  nextDeadline(): number | undefined {
    let t: number | undefined;
    for (const sa of this.sas.values()) {
      const d = sa.nextDeadline();
      if (d !== undefined && (t === undefined || d < t)) t = d;
    }
    for (const cs of this.conns.values()) if (cs.reconnectAt !== undefined && (t === undefined || cs.reconnectAt < t)) t = cs.reconnectAt;
    return t;
  }

  list(): { ike: IkeSaInfo & { state: string }; children: ChildSaInfo[] }[] {
    return [...this.sas.values()].map((sa) => ({ ike: { ...sa.info(), state: sa.state }, children: [...sa.children.values()].map((c) => c.info) }));
  }

  connections(): { name: string; state: 'down' | 'connecting' | 'up'; wanted: boolean }[] {
    return [...this.conns.values()].map((cs) => {
      const sas = [...this.sas.values()].filter((s) => s.conn.name === cs.conn.name);
      const up = sas.some((s) => s.state === 'established' && s.children.size > 0);
      return { name: cs.conn.name, state: up ? 'up' : sas.length ? 'connecting' : 'down', wanted: cs.wanted };
    });
  }

  /**
   * The data plane saw an authenticated ESP packet on inbound SA `spi` from a new address or
   * port (RFC 3948 §3.5, RFC 7296 §2.23): when the peer is behind a NAT, follow it.
   */
  espMapping(spi: number, remote: Endpoint, now: number): Output {
    for (const sa of this.sas.values()) {
      const ch = [...sa.children.values()].find((c) => c.spiIn === spi);
      if (!ch) continue;
      if (!sa.natRemote || sa.state !== 'established') break;
      if (sa.remote.address === remote.address && sa.remote.port === remote.port) break;
      sa.log('info', `peer's NAT mapping changed to ${remote.address}:${remote.port} (ESP)`);
      sa.remote = { ...remote };
      for (const c of sa.children.values()) sa.out.push({ kind: 'update-sa', spi: c.spiOut, remote: { ...remote }, encap: c.encap });
      this.collect(sa, now);
      break;
    }
    return this.flush();
  }

  /**
   * The data plane reports an SA's lifetime by bytes, packets or sequence numbers
   * (soft → rekey the CHILD_SA, hard → delete it). RFC 4303 §3.3.3: never let the
   * sequence number cycle.
   */
  espExpire(spi: number, hard: boolean, reason: string, now: number): Output {
    for (const sa of this.sas.values()) {
      const ch = [...sa.children.values()].find((c) => c.spiIn === spi || c.spiOut === spi);
      if (!ch) continue;
      if (hard) {
        if (ch.state !== 'deleting') {
          sa.log('info', `CHILD_SA ${ch.id} reached its hard ${reason} limit: deleting`);
          sa.queue(new ChildDeleteTask(sa, ch, `hard ${reason} limit`), now);
        }
      } else if (sa.initiateChildRekey(ch.id, now)) {
        sa.log('info', `CHILD_SA ${ch.id} reached its soft ${reason} limit: rekeying`);
      }
      this.collect(sa, now);
      break;
    }
    return this.flush();
  }

  /** Send an INFORMATIONAL request on an established IKE SA (liveness check, status notifies). */
  informational(ikeId: number, payloads: Payload[], now: number): Output {
    const sa = this.sas.get(ikeId);
    if (sa && sa.state === 'established') {
      sa.queue(new InformationalTask(payloads), now);
      this.collect(sa, now);
    }
    return this.flush();
  }

  /** for tests and the key log: direct access to an SA */
  ikeSa(id: number): IkeSa | undefined {
    return this.sas.get(id);
  }

  // ---------------------------------------------------------------- internals
  private count(reason: string): void {
    this.stats.drops[reason] = (this.stats.drops[reason] ?? 0) + 1;
  }

  private flush(): Output {
    const actions = this.out;
    this.out = [];
    return { actions, wakeAt: this.nextDeadline() };
  }

  private allocSpi(): number {
    for (;;) {
      const b = this.opts.rng.bytes(4);
      const spi = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      if (spi < 0x100 || this.usedSpis.has(spi)) continue; // RFC 4303 §2.1: 1..255 reserved
      this.usedSpis.add(spi);
      return spi;
    }
  }

  private newIkeSpi(): Uint8Array {
    for (;;) {
      const s = this.opts.rng.bytes(8);
      if (s.some((b) => b !== 0) && !this.bySpi.has(hex(s))) return s;
    }
  }

  private hasLiveSa(name: string): boolean {
    return [...this.sas.values()].some((s) => s.conn.name === name && s.state !== 'dead' && s.state !== 'deleting');
  }

  private initiateConn(cs: ConnState, now: number): void {
    cs.wanted = true;
    if (this.hasLiveSa(cs.conn.name)) return;
    const c = cs.conn;
    const sa = new IkeSa(this.nextIkeId++, c, true, this.newIkeSpi(), { address: c.local.address, port: c.local.port }, { address: c.remote.address, port: c.remote.port }, this.deps);
    sa.createdAt = now;
    this.register(sa);
    sa.log('info', `initiating IKE SA to ${c.remote.address}:${c.remote.port}`);
    sa.queue(new IkeInitTask(sa), now);
    this.collect(sa, now);
  }

  private register(sa: IkeSa): void {
    this.sas.set(sa.id, sa);
    this.bySpi.set(hex(sa.mySpi), sa);
  }

  /**
   * IKE SA rekey (RFC 7296 §1.3.2): the new SA is registered under its new SPI; it is not a
   * duplicate from simultaneous initiation (rekey collisions are settled in ike-rekey.ts).
   * Its actions are collected right after those of the SA whose exchange created it.
   */
  private readonly adopted: IkeSa[] = [];
  private adopt(fresh: IkeSa): void {
    if (!this.sas.has(fresh.id)) {
      this.register(fresh);
      this.dupChecked.add(fresh.id);
    }
    if (!this.adopted.includes(fresh)) this.adopted.push(fresh);
  }

  private deleteSa(sa: IkeSa, reason: string, now: number): void {
    if (sa.state === 'dead') return;
    if (sa.state === 'established') {
      // jump the queue: a Delete is sent as soon as the window is free
      sa.ex.queue.length = 0;
      sa.queue(new IkeDeleteTask(sa, reason), now);
    } else sa.die(reason, now);
    this.collect(sa, now);
  }

  /** Move an SA's pending actions out and forget it when dead. */
  private collect(sa: IkeSa, now: number): void {
    if (sa.out.length) {
      this.out.push(...sa.out);
      sa.out = [];
    }
    const deleted = this.out.some((a) => a.kind === 'delete-sa');
    if (sa.state === 'established' && sa.ikeRekeyAt === undefined && sa.ikeExpireAt === undefined && !sa.supersededBy) armIkeLifetime(sa, sa.establishedAt || now);
    if (sa.state === 'established') {
      if (!sa.initiator) for (const [k, v] of this.halfOpen) if (v === sa) this.halfOpen.delete(k);
      const cs = this.conns.get(sa.conn.name);
      if (cs && sa.initiator) cs.backoffMs = RECONNECT_MIN_MS;
      if (!this.dupChecked.has(sa.id)) {
        this.dupChecked.add(sa.id);
        this.resolveDuplicate(sa, now);
      }
    }
    if (sa.state === 'dead') this.forget(sa, now);
    if (deleted) this.reactivate(sa.conn.name);
    while (this.adopted.length) this.collect(this.adopted.shift()!, now);
  }

  private readonly dupChecked = new Set<number>();

  /**
   * Simultaneous initiation: both ends started an IKE SA at the same moment and each is up.
   * Like a rekey collision (RFC 7296 §2.8.1), the SA holding the lowest of the four nonces is
   * redundant and deleted by its initiator; the other end does nothing, so both agree.
   */
  private resolveDuplicate(sa: IkeSa, now: number): void {
    for (const o of this.sas.values()) {
      if (o === sa || o.conn.name !== sa.conn.name || o.state !== 'established' || o.initiator === sa.initiator) continue;
      if (!sameAddress(o.remote.address, sa.remote.address)) continue;
      const loser = compareBytes(minNonce(sa), minNonce(o)) < 0 ? sa : o;
      loser.log('info', `duplicate IKE SA from simultaneous initiation: ${loser.initiator ? 'deleting ours' : 'the peer deletes this one'}`);
      if (loser.initiator) {
        // move the winner's traffic first: its newest CHILD_SA carries the connection
        this.deleteSa(loser, 'duplicate IKE SA (simultaneous initiation)', now);
      }
      return;
    }
  }

  /** After a delete, make sure the connection's newest installed CHILD_SA is the outbound one. */
  private reactivate(conn: string): void {
    let best: { spi: number; at: number; id: number } | undefined;
    for (const o of this.sas.values()) {
      if (o.conn.name !== conn || o.state === 'dead') continue;
      for (const c of o.children.values()) {
        if (c.state !== 'installed') continue;
        if (!best || c.installedAt > best.at || (c.installedAt === best.at && c.id > best.id)) best = { spi: c.spiOut, at: c.installedAt, id: c.id };
      }
    }
    if (best) this.out.push({ kind: 'activate-outbound', connection: conn, spi: best.spi });
  }

  private forget(sa: IkeSa, now: number): void {
    if (!this.sas.has(sa.id)) return;
    this.sas.delete(sa.id);
    if (this.bySpi.get(hex(sa.mySpi)) === sa) this.bySpi.delete(hex(sa.mySpi));
    for (const [k, v] of this.halfOpen) if (v === sa) this.halfOpen.delete(k);
    // reconnect policy: keep a wanted connection up
    const cs = this.conns.get(sa.conn.name);
    const restart = cs && (cs.wanted || (sa.deathReason === 'peer not responding' && sa.conn.dpd.action === 'restart' && sa.establishedAt > 0));
    if (cs && restart && !this.hasLiveSa(cs.conn.name) && sa.deathReason !== 'terminated by user' && sa.deathReason !== 'shutdown' && sa.deathReason !== 'replaced (INITIAL_CONTACT)') {
      cs.wanted = true;
      cs.reconnectAt = now + cs.backoffMs;
      cs.backoffMs = Math.min(cs.backoffMs * 2, RECONNECT_MAX_MS);
      this.out.push({ kind: 'event', event: { type: 'log', level: 'info', msg: `reconnecting in ${Math.round((cs.reconnectAt - now) / 1000)} s`, connection: cs.conn.name } });
    }
  }

  /** §2.4: INITIAL_CONTACT: the peer lost its state; drop every other IKE SA with it. */
  private initialContact(sa: IkeSa): void {
    for (const o of this.sas.values()) {
      if (o === sa || o.conn.name !== sa.conn.name) continue;
      if (!sameAddress(o.remote.address, sa.remote.address) && o.peerId?.text !== sa.peerId?.text) continue;
      // only state that predates the peer's new IKE_SA_INIT is stale; an SA that came up
      // meanwhile (simultaneous initiation) is live on both ends
      if (o.state !== 'established' || o.establishedAt >= sa.createdAt) continue;
      o.log('info', 'peer sent INITIAL_CONTACT: dropping this stale IKE SA');
      o.die('replaced (INITIAL_CONTACT)', 0);
      if (o.out.length) {
        this.out.push(...o.out);
        o.out = [];
      }
      this.forget(o, 0);
    }
  }

  private findConnection(local: Endpoint, remote: Endpoint): ConnectionConfig | undefined {
    let anyRemote: ConnectionConfig | undefined;
    for (const { conn } of this.conns.values()) {
      if (!sameAddress(conn.local.address, local.address) && !isAnyAddr(conn.local.address)) continue;
      if (sameAddress(conn.remote.address, remote.address)) return conn;
      if (isAnyAddr(conn.remote.address)) anyRemote ??= conn;
    }
    return anyRemote;
  }

  private sendStateless(req: IkeHeader, payloads: Payload[], local: Endpoint, remote: Endpoint): void {
    const bytes = encodeMessage(
      {
        header: { spiI: req.spiI, spiR: new Uint8Array(8), nextPayload: 0, majorVersion: 2, minorVersion: 0, exchangeType: ExchangeType.IKE_SA_INIT, initiator: false, response: true, version: false, messageId: 0, length: 0 },
        payloads,
        encrypted: false,
      },
      null,
    );
    this.out.push({ kind: 'send', datagrams: [bytes], local: { ...local }, remote: { ...remote } });
  }

  private fail(conn: ConnectionConfig | null, reason: string, notify?: number): void {
    this.out.push({ kind: 'event', event: { type: 'failed', connection: conn?.name ?? null, reason, ...(notify !== undefined ? { notify: notifyName(notify) } : {}) } });
    this.out.push({ kind: 'event', event: { type: 'log', level: 'warn', msg: reason, ...(conn ? { connection: conn.name } : {}) } });
  }

  /** IKE_SA_INIT request with no SA yet: stateless checks first (RFC 7296 §2.6, §2.7). */
  private newInitRequest(header: IkeHeader, buf: Uint8Array, local: Endpoint, remote: Endpoint, now: number): void {
    this.stats.ikeSaInitReceived++;
    if (header.messageId !== 0 || !header.spiR.every((b) => b === 0)) return this.count('bad_init');
    const max = this.opts.maxHalfOpen ?? 1000;
    if (this.halfOpen.size >= max) return this.count('half_open_limit');
    let msg;
    try {
      msg = decodeMessage(buf, null);
    } catch {
      return this.count('malformed');
    }
    if (!checkRules(msg).ok) return this.count('rule_violation');
    const conn = this.findConnection(local, remote);
    if (!conn) {
      this.count('no_connection');
      this.out.push({ kind: 'event', event: { type: 'log', level: 'warn', msg: `IKE_SA_INIT from ${remote.address}:${remote.port} matches no connection` } });
      return;
    }
    const nonce = findPayload(msg, PayloadType.NONCE)!;
    if (this.halfOpen.size >= this.opts.cookieThreshold) {
      const first = msg.payloads[0];
      const cookie = first && first.type === PayloadType.NOTIFY && first.notifyType === NotifyType.COOKIE ? first.data : null;
      if (!cookie || !this.cookies.verify(now, cookie, nonce.data, remote.address, header.spiI)) {
        if (cookie) this.count('bad_cookie');
        this.stats.cookiesSent++;
        this.sendStateless(header, [notifyPayload(NotifyType.COOKIE, this.cookies.make(now, nonce.data, remote.address, header.spiI))], local, remote);
        return;
      }
    }
    const saP = findPayload(msg, PayloadType.SA)!;
    const sel = selectIke(saP.proposals, conn.ikeProposals);
    if (!sel) {
      this.fail(conn, `IKE_SA_INIT from ${remote.address}: no acceptable IKE proposal`, NotifyType.NO_PROPOSAL_CHOSEN);
      this.sendStateless(header, [notifyPayload(NotifyType.NO_PROPOSAL_CHOSEN)], local, remote);
      return;
    }
    const ke = findPayload(msg, PayloadType.KE)!;
    if (ke.group !== sel.suite.ke) {
      // §1.2: tell the initiator which group we want; no state is kept
      const g = new Uint8Array([sel.suite.ke >> 8, sel.suite.ke & 0xff]);
      this.out.push({ kind: 'event', event: { type: 'log', level: 'info', msg: `IKE_SA_INIT from ${remote.address} with KE group ${ke.group}, asking for ${sel.suite.ke}`, connection: conn.name } });
      this.sendStateless(header, [notifyPayload(NotifyType.INVALID_KE_PAYLOAD, g)], local, remote);
      return;
    }
    void findNotify;
    const sa = new IkeSa(this.nextIkeId++, conn, false, new Uint8Array(header.spiI), { ...local }, { ...remote }, this.deps);
    sa.spiR = this.newIkeSpi();
    sa.createdAt = now;
    if (!respondIkeInit(sa, msg, buf, sel.suite, { ...sel.proposal, spi: new Uint8Array(0) }, now)) {
      this.count('bad_ke');
      sa.die('bad KE payload', now);
      this.out.push(...sa.out);
      return;
    }
    this.register(sa);
    this.halfOpen.set(halfOpenKey(remote, header.spiI), sa);
    this.collect(sa, now);
  }
}

function minNonce(sa: IkeSa): Uint8Array {
  return compareBytes(sa.ni, sa.nr) <= 0 ? sa.ni : sa.nr;
}
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function halfOpenKey(remote: Endpoint, spiI: Uint8Array): string {
  return `${remote.address}|${remote.port}|${hex(spiI)}`;
}
function isAnyAddr(a: string): boolean {
  return a === '%any' || a === '0.0.0.0' || a === '::';
}
