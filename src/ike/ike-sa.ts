/**
 * One IKE SA: state, keys, children, deadlines, and the exchange plumbing.
 * handle*(…, now) methods push Actions into `out`; the exchange logic itself lives in
 * ike/tasks/*.ts (one file per exchange). No I/O, no clock, no timers here.
 */
import type { ConnectionConfig } from '../config/types.js';
import type { Endpoint } from '../esp/port.js';
import type { KeyExchange } from '../crypto/types.js';
import type { Rng } from '../common/rng.js';
import { hex } from '../common/bytes.js';
import { DecryptError, FragmentReassembler, decodeDatagram, decodeMessage, encodeMessage, checkRules, fragmentOut, messageFromReassembled } from './wire-api.js';
import { ExchangeType, NotifyType, PayloadType, exchangeName, notifyName } from './wire/constants.js';
import type { IkeHeader, IkeMessage, Payload } from './wire/types.js';
import type { Action, IkeEvent, IkeSaInfo } from './actions.js';
import type { IkeSuite } from './proposal.js';
import type { IkeCrypto } from './sa-crypto.js';
import type { ChildSa } from './child-sa.js';
import { ExchangeState, retransmitDelay, type InitiatorTask } from './task-manager.js';
import { encrIanaName as encrName, integIanaName as integName, keIanaName as keName, prfIanaName as prfName } from '../crypto/registry.js';
import { processRequest } from './tasks/responder.js';
import { DpdTask, activatePending } from './tasks/informational.js';
import { ChildRekeyTask, childDeadline, childTick } from './tasks/child-rekey.js';
import { ikeDeadline, ikeTick, salvageOnDeath } from './tasks/ike-rekey.js';

export type IkeState = 'connecting' | 'authenticating' | 'established' | 'deleting' | 'dead';

export interface IkeSaDeps {
  rng: Rng;
  allocSpi(): number;
  releaseSpi(spi: number): void;
  nextChildId(): number;
  /** manager hook: an authenticated INITIAL_CONTACT arrived (RFC 7296 §2.4) */
  onInitialContact(sa: IkeSa): void;
  /** manager hook: is there another established IKE SA for this connection? */
  hasOtherSa(sa: IkeSa): boolean;
  /** manager hook: a fresh, unused 8-octet IKE SPI of ours (IKE SA rekey, §1.3.2) */
  newIkeSpi(): Uint8Array;
  nextIkeId(): number;
  /**
   * manager hook: register the IKE SA created by a rekey (under its new SPI); for one already
   * registered, just collect its pending actions along with those of the SA being processed
   */
  adopt(fresh: IkeSa): void;
}

/** half-open responder SAs are forgotten after this long without IKE_AUTH (strongSwan: 30 s) */
export const HALF_OPEN_TIMEOUT_MS = 30_000;

export class IkeSa {
  state: IkeState = 'connecting';
  suite: IkeSuite | null = null;
  crypto: IkeCrypto | null = null;
  spiR: Uint8Array = new Uint8Array(8);
  ni: Uint8Array = new Uint8Array(0);
  nr: Uint8Array = new Uint8Array(0);
  ke: KeyExchange | null = null;
  /** RealMessage1 / RealMessage2 for AUTH (RFC 7296 §2.15) */
  initRequest: Uint8Array = new Uint8Array(0);
  initResponse: Uint8Array = new Uint8Array(0);
  natLocal = false;
  natRemote = false;
  fragmentation = false;
  peerId: { type: number; data: Uint8Array; text: string } | null = null;
  readonly children = new Map<number, ChildSa>();
  readonly ex = new ExchangeState();
  /** deadlines (monotonic ms) */
  halfOpenExpireAt: number | undefined;
  lastInboundAt = 0;
  establishedAt = 0;
  /** when this IKE SA was started (our IKE_SA_INIT sent, or the peer's received) */
  createdAt = 0;
  out: Action[] = [];
  private reassembler: FragmentReassembler | undefined;
  /** reason recorded when the SA dies */
  deathReason = '';
  /** IKE SA lifetime (§2.8): soft (start a rekey) and hard (delete) deadlines, set once established */
  ikeRekeyAt: number | undefined;
  ikeExpireAt: number | undefined;
  /**
   * Replaced by a rekey (or the redundant SA of a rekey collision): its CHILD_SAs moved to this
   * SA, so its death must not touch the data plane, and it is no "IKE SA down".
   */
  supersededBy: IkeSa | null = null;
  /** a superseded SA is forgotten silently at this time if the peer's Delete never comes */
  forgetAt: number | undefined;

  constructor(
    readonly id: number,
    readonly conn: ConnectionConfig,
    /** we are the original initiator of this IKE SA */
    readonly initiator: boolean,
    readonly spiI: Uint8Array,
    public local: Endpoint,
    public remote: Endpoint,
    readonly deps: IkeSaDeps,
  ) {}

  /** our own SPI (the key under which the manager finds us) */
  get mySpi(): Uint8Array {
    return this.initiator ? this.spiI : this.spiR;
  }

  // ---------------------------------------------------------------- events & logging
  emit(event: IkeEvent): void {
    this.out.push({ kind: 'event', event });
  }
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, extra: Record<string, unknown> = {}): void {
    this.emit({ type: 'log', level, msg, connection: this.conn.name, ikeId: this.id, ...extra });
  }

  info(): IkeSaInfo {
    const s = this.suite;
    return {
      connection: this.conn.name,
      ikeId: this.id,
      spiI: hex(this.spiI),
      spiR: hex(this.spiR),
      initiator: this.initiator,
      local: { ...this.local },
      remote: { ...this.remote },
      localId: this.conn.local.id.text,
      remoteId: this.peerId?.text ?? this.conn.remote.id?.text ?? '%any',
      encr: s ? encrName(s.encr.id, s.encr.keyBits) : '',
      integ: s && s.integ !== null ? integName(s.integ) : null,
      prf: s ? prfName(s.prf) : '',
      ke: s ? keName(s.ke) : '',
      natLocal: this.natLocal,
      natRemote: this.natRemote,
    };
  }

  // ---------------------------------------------------------------- sending
  private header(exchangeType: number, response: boolean, messageId: number): IkeHeader {
    return {
      spiI: this.spiI,
      spiR: this.spiR,
      nextPayload: 0,
      majorVersion: 2,
      minorVersion: 0,
      exchangeType,
      initiator: this.initiator,
      response,
      version: false,
      messageId,
      length: 0,
    };
  }

  /** encode (and encrypt unless IKE_SA_INIT), fragmenting when allowed (RFC 7383) */
  encode(exchangeType: number, response: boolean, messageId: number, payloads: Payload[]): Uint8Array[] {
    const encrypted = exchangeType !== ExchangeType.IKE_SA_INIT;
    const msg: IkeMessage = { header: this.header(exchangeType, response, messageId), payloads, encrypted };
    if (!encrypted) {
      const bytes = encodeMessage(msg, null);
      // keep RealMessage1/RealMessage2 for the AUTH payload (§2.15)
      if (response) this.initResponse = bytes;
      else this.initRequest = bytes;
      return [bytes];
    }
    const sk = this.initiator ? this.crypto!.skI : this.crypto!.skR;
    const whole = encodeMessage(msg, sk);
    if (this.fragmentation && this.conn.fragmentation.enabled && whole.length > this.conn.fragmentation.maxSize) {
      return fragmentOut(msg, sk, this.conn.fragmentation.maxSize);
    }
    return [whole];
  }

  send(datagrams: Uint8Array[]): void {
    this.out.push({ kind: 'send', datagrams, local: { ...this.local }, remote: { ...this.remote } });
  }

  /** queue an initiator task and start it if the window is free */
  queue(task: InitiatorTask, now: number, front = false): void {
    this.ex.enqueue(task, front);
    this.pump(now);
  }

  /** start the next queued request if none is outstanding (window size 1, §2.3) */
  pump(now: number): void {
    while (!this.ex.active && this.ex.queue.length && this.state !== 'dead') {
      const task = this.ex.queue.shift()!;
      const payloads = task.build(now);
      if (!payloads) continue;
      const mid = this.ex.myMid;
      const datagrams = this.encode(task.exchange, false, mid, payloads);
      this.ex.active = {
        task,
        messageId: mid,
        datagrams,
        retransmits: 0,
        nextAt: now + retransmitDelay(this.conn.retransmit, 0),
      };
      this.send(datagrams);
    }
  }

  /** resend the IKE_SA_INIT request in place (COOKIE / INVALID_KE retry keep message ID 0) */
  restartActive(payloads: Payload[], now: number): void {
    const a = this.ex.active!;
    a.datagrams = this.encode(a.task.exchange, false, a.messageId, payloads);
    a.retransmits = 0;
    a.nextAt = now + retransmitDelay(this.conn.retransmit, 0);
    this.send(a.datagrams);
  }

  // ---------------------------------------------------------------- receiving
  /** A datagram for this SA (header already decoded by the manager). */
  handleDatagram(header: IkeHeader, buf: Uint8Array, from: Endpoint, to: Endpoint, now: number): void {
    if (this.state === 'dead') return;
    if (header.response) this.handleResponse(header, buf, from, to, now);
    else this.handleRequest(header, buf, from, to, now);
  }

  private decode(header: IkeHeader, buf: Uint8Array): IkeMessage | null {
    if (header.exchangeType === ExchangeType.IKE_SA_INIT) {
      try {
        const m = decodeMessage(buf, null);
        if (header.response) this.initResponse = new Uint8Array(buf);
        return m;
      } catch (e) {
        this.drop('malformed', e);
        return null;
      }
    }
    if (!this.crypto) {
      this.drop('no_keys', undefined);
      return null;
    }
    // messages from the peer are protected with the peer's role keys
    const sk = header.initiator ? this.crypto.skI : this.crypto.skR;
    try {
      const d = decodeDatagram(buf, sk);
      if (d.kind === 'message') return d.message;
      // RFC 7383: authenticated fragment; reassemble before anything else looks at it
      this.reassembler ??= new FragmentReassembler();
      const whole = this.reassembler.add(d.fragment);
      return whole ? messageFromReassembled(whole) : null;
    } catch (e) {
      this.drop(e instanceof DecryptError ? 'decrypt_failed' : 'malformed', e);
      return null;
    }
  }

  drop(reason: string, e: unknown): void {
    this.emit({ type: 'drop', reason, detail: e instanceof Error ? e.message : String(e ?? ''), remote: { ...this.remote } });
  }

  private handleResponse(header: IkeHeader, buf: Uint8Array, from: Endpoint, to: Endpoint, now: number): void {
    const a = this.ex.active;
    if (!a || header.messageId !== a.messageId || header.exchangeType !== a.task.exchange) {
      this.drop('unexpected_response', `${exchangeName(header.exchangeType)} mid ${header.messageId}`);
      return;
    }
    const msg = this.decode(header, buf);
    if (!msg) return;
    const rules = checkRules(msg);
    if (!rules.ok) {
      this.drop('rule_violation', rules.reason);
      return;
    }
    this.noteAuthenticatedPeer(msg, from, to, now);
    this.ex.active = null;
    this.ex.myMid = (a.messageId + 1) >>> 0;
    a.task.process(msg, now);
    // a task may have re-armed the same request (IKE_SA_INIT retry); only pump if idle
    this.pump(now);
  }

  private handleRequest(header: IkeHeader, buf: Uint8Array, from: Endpoint, to: Endpoint, now: number): void {
    const c = this.ex.cached;
    if (c && header.messageId === c.messageId) {
      // retransmitted request: resend the cached response (§2.1), don't process again
      this.send(c.datagrams);
      return;
    }
    if (header.messageId !== this.ex.peerMid) {
      this.drop('bad_message_id', `got ${header.messageId}, expected ${this.ex.peerMid}`);
      return;
    }
    const msg = this.decode(header, buf);
    if (!msg) return;
    if (header.exchangeType !== ExchangeType.IKE_SA_INIT) this.noteAuthenticatedPeer(msg, from, to, now);
    const rules = checkRules(msg);
    let payloads: Payload[];
    if (!rules.ok) {
      this.log('warn', `invalid ${exchangeName(header.exchangeType)} request: ${rules.reason}`, { notify: notifyName(rules.notify) });
      payloads = [notifyPayload(rules.notify, rules.notify === NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD ? rules.data : undefined)];
    } else {
      payloads = processRequest(this, msg, now);
    }
    this.respond(header.exchangeType, header.messageId, payloads);
  }

  respond(exchangeType: number, messageId: number, payloads: Payload[]): void {
    const datagrams = this.encode(exchangeType, true, messageId, payloads);
    this.ex.cached = { messageId, datagrams };
    this.ex.peerMid = (messageId + 1) >>> 0;
    this.send(datagrams);
  }

  /**
   * An authenticated message arrived (it decrypted and verified). Track liveness and
   * follow the peer's NAT mapping (RFC 7296 §2.23: only the responder... both sides may
   * update when NAT is detected; we update when the peer is behind a NAT).
   */
  private noteAuthenticatedPeer(_msg: IkeMessage, from: Endpoint, to: Endpoint, now: number): void {
    this.lastInboundAt = now;
    if (this.state === 'authenticating' && !this.initiator) {
      // §2.11: answer from/to where the request came (the initiator may have floated to 4500)
      this.remote = { ...from };
      this.local = { ...to };
      return;
    }
    if (this.state !== 'established' && this.state !== 'deleting') return;
    if (this.natRemote && (from.address !== this.remote.address || from.port !== this.remote.port)) {
      this.log('info', `peer moved from ${this.remote.address}:${this.remote.port} to ${from.address}:${from.port}`);
      this.remote = { ...from };
      this.local = { ...to };
      for (const ch of this.children.values()) {
        this.out.push({ kind: 'update-sa', spi: ch.spiOut, remote: { ...from }, encap: ch.encap });
      }
    }
  }

  // ---------------------------------------------------------------- timers
  nextDeadline(): number | undefined {
    let t: number | undefined;
    const consider = (x: number | undefined) => {
      if (x !== undefined && (t === undefined || x < t)) t = x;
    };
    if (this.state === 'dead') return undefined;
    consider(this.ex.active?.nextAt);
    consider(this.halfOpenExpireAt);
    for (const c of this.children.values()) consider(c.activateAt);
    consider(this.dpdAt());
    consider(childDeadline(this));
    consider(ikeDeadline(this));
    consider(this.forgetAt);
    return t;
  }

  /** §2.4 liveness: probe after `dpd.delay` without anything authenticated from the peer */
  dpdAt(): number | undefined {
    if (this.state !== 'established' || this.conn.dpd.delayMs <= 0 || this.ex.active || this.ex.queue.length) return undefined;
    return Math.max(this.lastInboundAt, this.establishedAt) + this.conn.dpd.delayMs;
  }

  tick(now: number): void {
    if (this.state === 'dead') return;
    if (this.forgetAt !== undefined && now >= this.forgetAt) {
      this.log('info', 'forgetting the replaced IKE SA (no Delete from the peer)');
      this.die('rekeyed', now);
      return;
    }
    // IKE SA lifetime (§2.8): rekey at the soft deadline, delete at the hard one
    ikeTick(this, now);
    if ([...this.children.values()].some((c) => c.activateAt !== undefined && now >= c.activateAt)) activatePending(this);
    const dpd = this.dpdAt();
    if (dpd !== undefined && now >= dpd) this.queue(new DpdTask(this), now);
    // CHILD_SA lifetimes (§2.8): rekey at the soft deadline, delete at the hard one
    childTick(this, now);
    if (this.halfOpenExpireAt !== undefined && now >= this.halfOpenExpireAt && this.state !== 'established') {
      this.log('info', 'half-open IKE SA timed out');
      this.die('half-open timeout', now);
      return;
    }
    const a = this.ex.active;
    if (a && now >= a.nextAt) {
      if (a.retransmits >= this.conn.retransmit.tries) {
        this.log('warn', `giving up on ${exchangeName(a.task.exchange)} request ${a.messageId} after ${a.retransmits} retransmissions`);
        this.ex.active = null;
        if (a.task.timedOut) a.task.timedOut(now);
        if ((this.state as IkeState) !== 'dead') {
          this.emit({ type: 'peer-dead', connection: this.conn.name, ikeId: this.id });
          this.die('peer not responding', now);
        }
        return;
      }
      a.retransmits++;
      a.nextAt = now + retransmitDelay(this.conn.retransmit, a.retransmits);
      this.emit({ type: 'retransmit', connection: this.conn.name, ikeId: this.id, exchange: exchangeName(a.task.exchange), messageId: a.messageId, attempt: a.retransmits });
      this.send(a.datagrams);
    }
  }

  /** Start rekeying a CHILD_SA now (RFC 7296 §1.3.3); false if it is not in a rekeyable state. */
  initiateChildRekey(childId: number, now: number): boolean {
    const ch = this.children.get(childId);
    if (!ch || ch.state !== 'installed' || this.state !== 'established') return false;
    if (this.ex.hasTask('child-rekey') && [this.ex.active?.task, ...this.ex.queue].some((t) => t instanceof ChildRekeyTask && t.child === ch)) return false;
    this.queue(new ChildRekeyTask(this, ch), now);
    return true;
  }

  // ---------------------------------------------------------------- teardown
  /** Remove all children from the data plane and mark dead (no messages sent). */
  die(reason: string, now: number): void {
    if (this.state === 'dead') return;
    // an IKE rekey collision already gave us the peer's new SA: the children live on there
    salvageOnDeath(this, now);
    const wasUp = (this.state === 'established' || this.state === 'deleting') && !this.supersededBy;
    for (const ch of [...this.children.values()]) this.removeChild(ch, reason);
    this.state = 'dead';
    this.deathReason = reason;
    this.ex.active = null;
    this.ex.queue.length = 0;
    this.halfOpenExpireAt = undefined;
    this.forgetAt = undefined;
    if (this.ke) this.ke = null;
    if (wasUp) this.emit({ type: 'ike-down', connection: this.conn.name, ikeId: this.id, reason });
  }

  removeChild(ch: ChildSa, reason: string): void {
    this.out.push({ kind: 'delete-sa', spi: ch.spiOut });
    this.out.push({ kind: 'delete-sa', spi: ch.spiIn });
    this.deps.releaseSpi(ch.spiIn);
    this.children.delete(ch.id);
    this.emit({ type: 'child-down', ike: this.id, child: ch.info, reason });
  }
}

export function notifyPayload(notifyType: number, data?: Uint8Array, protocolId = 0, spi: Uint8Array = new Uint8Array(0)): Payload {
  return { type: PayloadType.NOTIFY, protocolId, spi, notifyType, data: data ?? new Uint8Array(0) };
}
