/**
 * IKE SA rekeying (RFC 7296 §1.3.2, §2.8, §2.18, §2.8.2), both roles.
 *
 *   HDR(old SA), SK {SA(IKE, SPIi'), Ni, KEi}  -->
 *                            <--  HDR(old SA), SK {SA(IKE, SPIr'), Nr, KEr}
 *
 * The new IKE SA's keys: SKEYSEED = prf_old(SK_d_old, g^ir | Ni | Nr), SK_* from prf+ of the
 * new PRF over Ni | Nr | SPIi' | SPIr' (keymat.ts deriveRekeyedIkeSa). The party that sent
 * the CREATE_CHILD_SA request is the new SA's initiator, whatever its role on the old SA.
 * The new SA inherits connection, endpoints, NAT state, fragmentation, peer identity and
 * every CHILD_SA (moved, not rekeyed: the data plane is not touched); its message IDs start
 * at 0. The rekey initiator then deletes the old SA with an INFORMATIONAL Delete on it; the
 * old SA dies without deleting the moved children (IkeSa.supersededBy).
 *
 * Collisions (§2.8.2): if the peer's IKE rekey request for this SA arrives while ours is in
 * flight, it is answered normally and recorded on our IkeRekeyTask; children stay on the old
 * SA until our own exchange completes. Then the new SA created with the lowest of the four
 * nonces is redundant and is deleted by its initiator; the initiator of the surviving SA
 * deletes the old one. An IKE rekey request crossing one of our CHILD_SA exchanges (create,
 * rekey, delete) is refused with TEMPORARY_FAILURE; the refused side retries after a short
 * random delay.
 */
import { ExchangeType, NotifyType, PayloadType, ProtocolId, notifyName } from '../wire/constants.js';
import type { IkeMessage, Payload, Proposal } from '../wire/types.js';
import type { InitiatorTask } from '../task-manager.js';
import { retransmitDelay } from '../task-manager.js';
import { IkeSa, notifyPayload } from '../ike-sa.js';
import { acceptIkeAnswer, ikeProposalsToWire, selectIke, type IkeSuite } from '../proposal.js';
import { getKe, getPrf } from '../../crypto/registry.js';
import type { KeyExchange } from '../../crypto/types.js';
import { deriveRekeyedIkeSa } from '../keymat.js';
import { ikeKeyLengths, makeIkeCrypto } from '../sa-crypto.js';
import { findNotify, findPayload } from '../wire-api.js';
import { hex } from '../../common/bytes.js';
import { ChildDeleteTask, IkeDeleteTask } from './informational.js';
import { ChildRekeyTask, ourExchangeHasLowestNonce } from './child-rekey.js';
import type { ChildSa } from '../child-sa.js';

/** nonce length we send (§2.10) */
export const IKE_REKEY_NONCE_LEN = 32;
/** retry after a refusal other than TEMPORARY_FAILURE */
export const IKE_REKEY_RETRY_MS = 10_000;
/** TEMPORARY_FAILURE (§2.8.2: "retry after a short random delay") */
export const IKE_REKEY_TEMP_RETRY_MIN_MS = 1_000;
export const IKE_REKEY_TEMP_RETRY_SPAN_MS = 4_000;
const MAX_KE_RETRIES = 2;

/** the peer's IKE rekey of this SA, answered while our own was in flight */
export interface IkeRekeyCollision {
  /** the new IKE SA created by the peer's exchange (we were its responder) */
  sa: IkeSa;
  ni: Uint8Array;
  nr: Uint8Array;
}

// ---------------------------------------------------------------- lifetimes

/** Arm the IKE SA's soft (rekey) and hard (expire) deadlines from `base` (RFC 7296 §2.8). */
export function armIkeLifetime(sa: IkeSa, base: number): void {
  const c = sa.conn.ike;
  const jitter = c.jitter > 0 ? Math.floor(c.rekeyMs * c.jitter * sa.deps.rng.float()) : 0;
  sa.ikeRekeyAt = base + c.rekeyMs - jitter;
  sa.ikeExpireAt = c.lifeMs > c.rekeyMs ? base + c.lifeMs : undefined;
}

function windowIdle(sa: IkeSa): boolean {
  return !sa.ex.active && sa.ex.queue.length === 0;
}

export function ikeDeadline(sa: IkeSa): number | undefined {
  if (sa.state !== 'established' || sa.supersededBy) return undefined;
  let t = sa.ikeExpireAt;
  if (sa.ikeRekeyAt !== undefined && windowIdle(sa) && (t === undefined || sa.ikeRekeyAt < t)) t = sa.ikeRekeyAt;
  return t;
}

export function ikeTick(sa: IkeSa, now: number): void {
  if (sa.state !== 'established' || sa.supersededBy) return;
  if (sa.ikeExpireAt !== undefined && now >= sa.ikeExpireAt) {
    sa.log('warn', 'IKE SA reached its hard lifetime without a successful rekey, deleting it');
    sa.ikeExpireAt = undefined;
    sa.ikeRekeyAt = undefined;
    if (sa.ex.active) {
      sa.die('IKE SA lifetime expired', now);
      return;
    }
    sa.ex.queue.length = 0;
    sa.queue(new IkeDeleteTask(sa, 'IKE SA lifetime expired'), now);
    return;
  }
  if (sa.ikeRekeyAt !== undefined && now >= sa.ikeRekeyAt && windowIdle(sa)) {
    // leave CHILD_SA exchanges in progress (a rekeyed pair awaiting its Delete) to finish first
    if ([...sa.children.values()].some((c) => c.state === 'rekeying' || c.state === 'deleting')) {
      sa.ikeRekeyAt = now + IKE_REKEY_TEMP_RETRY_MIN_MS;
      return;
    }
    sa.queue(new IkeRekeyTask(sa), now);
  }
}

/** how long an old SA waits for the peer's Delete before it is forgotten silently */
function forgetDelay(sa: IkeSa): number {
  let t = 0;
  for (let n = 0; n <= sa.conn.retransmit.tries; n++) t += retransmitDelay(sa.conn.retransmit, n);
  return t + 5_000;
}

// ---------------------------------------------------------------- the new SA

interface NewSaParams {
  /** we sent the CREATE_CHILD_SA request (we are the new SA's initiator) */
  weInitiated: boolean;
  spiI: Uint8Array;
  spiR: Uint8Array;
  ni: Uint8Array;
  nr: Uint8Array;
  suite: IkeSuite;
  gir: Uint8Array;
}

/** Derive the new SA's keys (§2.18) and build it; registered with the manager, no children yet. */
function createRekeyedSa(old: IkeSa, p: NewSaParams, now: number): IkeSa {
  const fresh = new IkeSa(old.deps.nextIkeId(), old.conn, p.weInitiated, new Uint8Array(p.spiI), { ...old.local }, { ...old.remote }, old.deps);
  fresh.spiR = new Uint8Array(p.spiR);
  fresh.ni = new Uint8Array(p.ni);
  fresh.nr = new Uint8Array(p.nr);
  const { encKeyLen, integKeyLen } = ikeKeyLengths(p.suite);
  const { keys } = deriveRekeyedIkeSa({
    prf: getPrf(p.suite.prf),
    oldPrf: old.crypto!.prf,
    oldSkD: old.crypto!.keys.skD,
    gir: p.gir,
    ni: p.ni,
    nr: p.nr,
    spiI: p.spiI,
    spiR: p.spiR,
    encKeyLen,
    integKeyLen,
  });
  p.gir.fill(0);
  fresh.suite = p.suite;
  fresh.crypto = makeIkeCrypto(p.suite, keys, (n) => old.deps.rng.bytes(n));
  fresh.natLocal = old.natLocal;
  fresh.natRemote = old.natRemote;
  fresh.fragmentation = old.fragmentation;
  fresh.peerId = old.peerId;
  fresh.state = 'established';
  fresh.createdAt = now;
  fresh.establishedAt = now;
  fresh.lastInboundAt = now;
  armIkeLifetime(fresh, now);
  fresh.emit({
    type: 'keys',
    kind: 'ike',
    spiI: hex(fresh.spiI),
    spiR: hex(fresh.spiR),
    skEi: hex(keys.skEi),
    skEr: hex(keys.skEr),
    skAi: hex(keys.skAi),
    skAr: hex(keys.skAr),
    encr: fresh.info().encr,
    integ: fresh.info().integ,
  });
  old.deps.adopt(fresh);
  return fresh;
}

/** peek at the child a queued CHILD_SA task works on (ChildDeleteTask keeps it private) */
function taskChild(t: InitiatorTask): { child: ChildSa; reason: string } | null {
  const x = t as unknown as { child?: ChildSa; reason?: string };
  if ((t instanceof ChildDeleteTask || t instanceof ChildRekeyTask) && x.child) return { child: x.child, reason: x.reason ?? 'rekeyed' };
  return null;
}

/**
 * The old SA is replaced by `to`: move every CHILD_SA (and the CHILD_SA work queued for them),
 * mark the old SA superseded so that its death leaves the data plane alone.
 */
function supersede(old: IkeSa, to: IkeSa, now: number): void {
  for (const ch of [...old.children.values()]) {
    old.children.delete(ch.id);
    to.children.set(ch.id, ch);
  }
  for (const t of old.ex.queue) {
    const tc = taskChild(t);
    if (!tc || !to.children.has(tc.child.id)) continue;
    if (t instanceof ChildDeleteTask) to.queue(new ChildDeleteTask(to, tc.child, tc.reason), now);
    // a queued CHILD_SA rekey is re-armed by childTick on the new SA (its rekeyAt has passed)
  }
  old.ex.queue.length = 0;
  old.supersededBy = to;
  old.state = 'deleting';
  old.ikeRekeyAt = undefined;
  old.ikeExpireAt = undefined;
  to.emit({ type: 'ike-rekeyed', connection: old.conn.name, oldIkeId: old.id, sa: to.info() });
  // `to` may have been registered in an earlier exchange: have its actions collected now
  old.deps.adopt(to);
  old.log('info', `IKE SA rekeyed as IKE SA ${to.id} (SPIs ${hex(to.spiI)}_i ${hex(to.spiR)}_r, ${to.children.size} CHILD_SA(s) moved)`);
}

/** The peer deletes the old SA (it initiated the surviving rekey); forget it if it never does. */
function awaitPeerDelete(old: IkeSa, now: number): void {
  old.forgetAt = now + forgetDelay(old);
}

/** The redundant SA of a collision: never used, deleted by its initiator. */
function markRedundant(sa: IkeSa, winner: IkeSa): void {
  sa.supersededBy = winner;
  // no new work on it (CHILD_SA requests get TEMPORARY_FAILURE, no liveness checks); its Delete is pending
  sa.state = 'deleting';
  sa.ikeRekeyAt = undefined;
  sa.ikeExpireAt = undefined;
}

// ---------------------------------------------------------------- initiator

export class IkeRekeyTask implements InitiatorTask {
  readonly name = 'ike-rekey';
  readonly exchange = ExchangeType.CREATE_CHILD_SA;
  private ni: Uint8Array = new Uint8Array(0);
  private spiI: Uint8Array = new Uint8Array(0);
  private ke: KeyExchange | null = null;
  private readonly group: number;
  private keRetries = 0;
  /** set by the responder code when the peer rekeyed this IKE SA meanwhile */
  collision: IkeRekeyCollision | null = null;

  constructor(
    private readonly sa: IkeSa,
    group?: number,
  ) {
    this.group = group ?? sa.suite?.ke ?? sa.conn.ikeProposals[0]?.ke[0] ?? 0;
  }

  build(): Payload[] | null {
    const sa = this.sa;
    if (sa.state !== 'established' || sa.supersededBy || !sa.crypto) return null;
    this.collision = null;
    // nonce first: tests steer the nonce order with SeededRng.nextFirstByte
    this.ni = sa.deps.rng.bytes(IKE_REKEY_NONCE_LEN);
    this.spiI = sa.deps.newIkeSpi();
    this.ke = getKe(this.group).create();
    const g = this.group;
    const proposals = sa.conn.ikeProposals.map((p) => ({ ...p, ke: [...p.ke].sort((a, b) => (a === g ? -1 : b === g ? 1 : 0)) }));
    sa.log('info', `rekeying IKE SA (new SPIi ${hex(this.spiI)})`);
    return [
      { type: PayloadType.SA, proposals: ikeProposalsToWire(proposals, this.spiI) },
      { type: PayloadType.NONCE, data: this.ni },
      { type: PayloadType.KE, group: g, data: this.ke.publicKey },
    ];
  }

  process(msg: IkeMessage, now: number): void {
    const sa = this.sa;
    if (sa.state !== 'established' || sa.supersededBy) return;
    const err = msg.payloads.find((p) => p.type === PayloadType.NOTIFY && p.notifyType < 16384);
    if (err && err.type === PayloadType.NOTIFY) {
      if (!this.collision && err.notifyType === NotifyType.INVALID_KE_PAYLOAD) {
        const n = findNotify(msg, NotifyType.INVALID_KE_PAYLOAD)!;
        const g = n.data.length === 2 ? (n.data[0]! << 8) | n.data[1]! : -1;
        if (g !== this.group && this.keRetries < MAX_KE_RETRIES && sa.conn.ikeProposals.some((p) => p.ke.includes(g))) {
          sa.log('info', `peer wants key exchange group ${g} for the IKE SA rekey, retrying`);
          this.ke = null;
          const retry = new IkeRekeyTask(sa, g);
          retry.keRetries = this.keRetries + 1;
          sa.queue(retry, now, true);
          return;
        }
      }
      return this.failed(`peer answered ${notifyName(err.notifyType)}`, now, err.notifyType === NotifyType.TEMPORARY_FAILURE);
    }
    const saP = findPayload(msg, PayloadType.SA);
    const nP = findPayload(msg, PayloadType.NONCE);
    const keP = findPayload(msg, PayloadType.KE);
    if (!saP || !nP || !keP) return this.failed('IKE rekey response lacks SA, Nonce or KE', now);
    const suite = acceptIkeAnswer(saP.proposals, sa.conn.ikeProposals);
    const spiR = saP.proposals[0]?.spi;
    if (!suite) return this.failed('responder chose an IKE proposal we did not offer', now);
    if (!spiR || spiR.length !== 8 || spiR.every((b) => b === 0)) return this.failed('responder sent no valid 8-octet IKE SPI', now);
    if (keP.group !== suite.ke || suite.ke !== this.group || !this.ke) return this.failed(`KE group ${keP.group} does not match the chosen proposal`, now);
    let gir: Uint8Array;
    try {
      gir = this.ke.computeSecret(keP.data);
    } catch (e) {
      return this.failed(`bad KEr: ${e instanceof Error ? e.message : String(e)}`, now);
    }
    this.ke = null;
    const fresh = createRekeyedSa(sa, { weInitiated: true, spiI: this.spiI, spiR, ni: this.ni, nr: nP.data, suite, gir }, now);
    const coll = this.collision;
    if (coll && coll.sa.state !== 'dead') {
      if (ourExchangeHasLowestNonce({ ni: this.ni, nr: nP.data }, coll)) {
        // ours is redundant: we delete it; the peer (initiator of the survivor) deletes the old SA
        sa.log('info', `IKE SA rekey collision: our new IKE SA ${fresh.id} has the lowest nonce, deleting it; IKE SA ${coll.sa.id} survives`);
        markRedundant(fresh, coll.sa);
        fresh.queue(new IkeDeleteTask(fresh, 'redundant IKE SA (rekey collision)'), now);
        supersede(sa, coll.sa, now);
        awaitPeerDelete(sa, now);
        return;
      }
      sa.log('info', `IKE SA rekey collision: the peer's IKE SA ${coll.sa.id} has the lowest nonce, the peer deletes it`);
      markRedundant(coll.sa, fresh);
      // backstop should the peer's Delete never come
      coll.sa.forgetAt = now + forgetDelay(coll.sa);
    }
    supersede(sa, fresh, now);
    sa.queue(new IkeDeleteTask(sa, 'rekeyed'), now);
  }

  private failed(reason: string, now: number, temporary = false): void {
    const sa = this.sa;
    this.ke = null;
    const coll = this.collision;
    if (coll && coll.sa.state !== 'dead') {
      // the peer's concurrent rekey succeeded: its new SA replaces this one (§2.8.2)
      sa.log('info', `rekeying the IKE SA failed (${reason}), but the peer rekeyed it as IKE SA ${coll.sa.id}`);
      supersede(sa, coll.sa, now);
      awaitPeerDelete(sa, now);
      return;
    }
    const delay = temporary ? IKE_REKEY_TEMP_RETRY_MIN_MS + Math.floor(IKE_REKEY_TEMP_RETRY_SPAN_MS * sa.deps.rng.float()) : IKE_REKEY_RETRY_MS;
    const at = now + delay;
    sa.ikeRekeyAt = sa.ikeExpireAt !== undefined ? Math.min(at, sa.ikeExpireAt) : at;
    sa.log('warn', `rekeying the IKE SA failed: ${reason}; keeping it, retrying in ${Math.round(delay / 100) / 10} s`);
  }

  timedOut(now: number): void {
    this.ke = null;
    const coll = this.collision;
    // the old SA is about to die as unresponsive; if the peer's rekey got through, keep its SA
    if (coll && coll.sa.state !== 'dead') {
      supersede(this.sa, coll.sa, now);
      this.sa.die('rekeyed', now);
    }
  }
}

/** our IKE rekey request in flight on this SA, if any */
function activeIkeRekey(sa: IkeSa): IkeRekeyTask | null {
  const t = sa.ex.active?.task;
  return t instanceof IkeRekeyTask ? t : null;
}

// ---------------------------------------------------------------- responder

/** CREATE_CHILD_SA request whose SA payload proposes protocol IKE (§1.3.2). */
export function respondIkeRekey(sa: IkeSa, msg: IkeMessage, now: number): Payload[] {
  const saP = findPayload(msg, PayloadType.SA)!;
  const niP = findPayload(msg, PayloadType.NONCE)!;
  if (sa.supersededBy || sa.state !== 'established' || !sa.crypto) {
    sa.log('info', 'peer wants to rekey an IKE SA that is being replaced or deleted: TEMPORARY_FAILURE');
    return [notifyPayload(NotifyType.TEMPORARY_FAILURE)];
  }
  const busy = sa.ex.active?.task;
  if (busy && (busy.name === 'child-rekey' || busy.name === 'child-create' || busy.name === 'child-delete' || busy.exchange === ExchangeType.CREATE_CHILD_SA) && !(busy instanceof IkeRekeyTask)) {
    // §2.8.2: don't move CHILD_SAs under an exchange that is changing them
    sa.log('info', `peer wants to rekey the IKE SA while our ${busy.name} exchange is in progress: TEMPORARY_FAILURE`);
    return [notifyPayload(NotifyType.TEMPORARY_FAILURE)];
  }
  const refuse = (notify: number, reason: string, data?: Uint8Array): Payload[] => {
    sa.log('warn', `IKE SA rekey refused: ${reason}`, { notify: notifyName(notify) });
    return [notifyPayload(notify, data)];
  };
  const offered: Proposal[] = saP.proposals.filter((p) => p.protocolId === ProtocolId.IKE && p.spi.length === 8 && p.spi.some((b) => b !== 0));
  const sel = selectIke(offered, sa.conn.ikeProposals);
  if (!sel) return refuse(NotifyType.NO_PROPOSAL_CHOSEN, 'no acceptable IKE proposal');
  const keP = findPayload(msg, PayloadType.KE);
  if (!keP || keP.group !== sel.suite.ke) {
    return refuse(NotifyType.INVALID_KE_PAYLOAD, `peer sent KE for group ${keP?.group ?? 'none'}, we want ${sel.suite.ke}`, new Uint8Array([(sel.suite.ke >> 8) & 0xff, sel.suite.ke & 0xff]));
  }
  const ke = getKe(sel.suite.ke).create();
  let gir: Uint8Array;
  try {
    gir = ke.computeSecret(keP.data);
  } catch (e) {
    return refuse(NotifyType.INVALID_SYNTAX, `bad KEi: ${e instanceof Error ? e.message : String(e)}`);
  }
  // nonce before the SPI: tests steer the nonce order with SeededRng.nextFirstByte
  const nr = sa.deps.rng.bytes(IKE_REKEY_NONCE_LEN);
  const spiR = sa.deps.newIkeSpi();
  const spiI = new Uint8Array(sel.proposal.spi);
  const ni = new Uint8Array(niP.data);
  const fresh = createRekeyedSa(sa, { weInitiated: false, spiI, spiR, ni, nr, suite: sel.suite, gir }, now);
  const mine = activeIkeRekey(sa);
  if (mine) {
    // §2.8.2 simultaneous rekey: settled when our own exchange completes
    mine.collision = { sa: fresh, ni, nr };
    sa.log('info', `IKE SA rekey collision: answering the peer's request (its new IKE SA is ${fresh.id})`);
  } else {
    sa.log('info', `IKE SA rekeyed by the peer as IKE SA ${fresh.id}`);
    supersede(sa, fresh, now);
    awaitPeerDelete(sa, now);
  }
  return [
    { type: PayloadType.SA, proposals: [{ ...sel.proposal, spi: spiR }] },
    { type: PayloadType.NONCE, data: nr },
    { type: PayloadType.KE, group: sel.suite.ke, data: ke.publicKey },
  ];
}

/**
 * The SA dies (peer's Delete, lifetime, ...) while our rekey of it is in flight and the peer's
 * concurrent rekey already gave us its new SA: hand the children over instead of losing them.
 */
export function salvageOnDeath(sa: IkeSa, now: number): void {
  const mine = activeIkeRekey(sa);
  if (mine?.collision && mine.collision.sa.state !== 'dead' && !sa.supersededBy) supersede(sa, mine.collision.sa, now);
}
