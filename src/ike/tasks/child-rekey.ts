/**
 * CHILD_SA rekeying, initiator side (RFC 7296 §1.3.3, §2.8, §2.8.1):
 *
 *   HDR, SK {N(REKEY_SA), SA, Ni, [KEi,] TSi, TSr}  -->
 *                          <--  HDR, SK {SA, Nr, [KEr,] TSi, TSr}
 *
 * The new pair is installed (inbound, outbound, switch outbound) when the response arrives,
 * then the old pair is deleted with an INFORMATIONAL exchange. Lifetime deadlines
 * (`rekeyAt` soft, `expireAt` hard) are driven from IkeSa.tick via childDeadline/childTick.
 *
 * Collisions (§2.8.1): when the peer rekeys the same CHILD_SA while our request is in
 * flight, we answer it normally (create-child.ts records the collision on this task). When
 * our exchange completes, the SA created with the lowest of the four nonces is redundant
 * and is deleted by the side that initiated the exchange that created it; the other side
 * deletes the old SA. Both sides reach the same verdict from the same four nonces.
 */
import { ExchangeType, NotifyType, PayloadType, ProtocolId, notifyName } from '../wire/constants.js';
import type { IkeMessage, Payload } from '../wire/types.js';
import type { InitiatorTask } from '../task-manager.js';
import type { ChildSa } from '../child-sa.js';
import { notifyPayload, type IkeSa } from '../ike-sa.js';
import { acceptEspAnswer, espProposalsToWire } from '../proposal.js';
import { getKe } from '../../crypto/registry.js';
import type { KeyExchange } from '../../crypto/types.js';
import { checkNarrowed, installChild, spiBytes, spiFromBytes, toWire } from './child-create.js';
import { findNotify, findPayload } from '../wire-api.js';
import { ChildDeleteTask } from './informational.js';

/** nonce length we send (§2.10: at least half the PRF key size, at least 16 octets) */
export const CHILD_NONCE_LEN = 32;
/** delay before retrying a rekey the peer refused (TEMPORARY_FAILURE, NO_PROPOSAL_CHOSEN, ...) */
export const REKEY_RETRY_MS = 10_000;
/** INVALID_KE_PAYLOAD round trips allowed per rekey attempt */
const MAX_KE_RETRIES = 2;

/** A collision recorded by the responder code: the peer rekeyed the child we are rekeying. */
export interface RekeyCollision {
  /** the pair created by the peer's exchange (we were its responder) */
  child: ChildSa;
  ni: Uint8Array;
  nr: Uint8Array;
}

/** lexicographic byte-string order (a shorter prefix sorts first) */
export function compareNonces(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** §2.8.1: is the lowest of the four nonces one of ours (those of the exchange we initiated)? */
export function ourExchangeHasLowestNonce(ours: { ni: Uint8Array; nr: Uint8Array }, theirs: { ni: Uint8Array; nr: Uint8Array }): boolean {
  const ourMin = compareNonces(ours.ni, ours.nr) <= 0 ? ours.ni : ours.nr;
  const theirMin = compareNonces(theirs.ni, theirs.nr) <= 0 ? theirs.ni : theirs.nr;
  return compareNonces(ourMin, theirMin) < 0;
}

export class ChildRekeyTask implements InitiatorTask {
  readonly name = 'child-rekey';
  readonly exchange = ExchangeType.CREATE_CHILD_SA;
  private spiIn = 0;
  private ni: Uint8Array = new Uint8Array(0);
  private ke: KeyExchange | null = null;
  private keGroup: number | null = null;
  private keRetries = 0;
  /** set by the responder code when the peer rekeyed the same child meanwhile */
  collision: RekeyCollision | null = null;

  constructor(
    private readonly sa: IkeSa,
    readonly child: ChildSa,
    keGroup?: number,
  ) {
    const first = sa.conn.espProposals[0];
    this.keGroup = keGroup ?? (first && first.ke.length ? first.ke[0]! : null);
  }

  build(): Payload[] | null {
    const sa = this.sa;
    const ch = this.child;
    if (!sa.children.has(ch.id) || ch.state !== 'installed' || sa.state !== 'established') return null; // moot
    ch.state = 'rekeying';
    this.collision = null;
    // nonce first: tests steer the nonce order with SeededRng.nextFirstByte
    this.ni = sa.deps.rng.bytes(CHILD_NONCE_LEN);
    this.spiIn = sa.deps.allocSpi();
    const withKe = this.keGroup !== null;
    const payloads: Payload[] = [
      notifyPayload(NotifyType.REKEY_SA, undefined, ProtocolId.ESP, spiBytes(ch.spiIn)),
      { type: PayloadType.SA, proposals: espProposalsToWire(sa.conn.espProposals, spiBytes(this.spiIn), withKe) },
      { type: PayloadType.NONCE, data: this.ni },
    ];
    if (this.keGroup !== null) {
      this.ke = getKe(this.keGroup).create();
      payloads.push({ type: PayloadType.KE, group: this.keGroup, data: this.ke.publicKey });
    }
    payloads.push({ type: PayloadType.TSi, selectors: toWire(ch.localTs) }, { type: PayloadType.TSr, selectors: toWire(ch.remoteTs) });
    sa.log('info', `rekeying CHILD_SA ${ch.id} (in ${ch.spiIn.toString(16)}, out ${ch.spiOut.toString(16)})`);
    return payloads;
  }

  process(msg: IkeMessage, now: number): void {
    const sa = this.sa;
    const ch = this.child;
    const err = msg.payloads.find((p) => p.type === PayloadType.NOTIFY && p.notifyType < 16384);
    if (err && err.type === PayloadType.NOTIFY) {
      const invKe = err.notifyType === NotifyType.INVALID_KE_PAYLOAD ? findNotify(msg, NotifyType.INVALID_KE_PAYLOAD) : undefined;
      if (invKe) {
        const g = invKe.data.length === 2 ? (invKe.data[0]! << 8) | invKe.data[1]! : -1;
        const ours = sa.conn.espProposals.some((p) => p.ke.includes(g));
        if (ours && g !== this.keGroup && this.keRetries < MAX_KE_RETRIES && !this.collision) {
          sa.log('info', `peer wants key exchange group ${g} for the CHILD_SA rekey, retrying`);
          this.release();
          if (ch.state === 'rekeying') ch.state = 'installed';
          const retry = new ChildRekeyTask(sa, ch, g);
          retry.keRetries = this.keRetries + 1;
          sa.queue(retry, now, true);
          return;
        }
      }
      return this.failed(`peer answered ${notifyName(err.notifyType)}`, now);
    }
    const saP = findPayload(msg, PayloadType.SA);
    const nP = findPayload(msg, PayloadType.NONCE);
    const tsi = findPayload(msg, PayloadType.TSi);
    const tsr = findPayload(msg, PayloadType.TSr);
    if (!saP || !nP || !tsi || !tsr) return this.failed('CREATE_CHILD_SA response lacks SA, Nonce or TS', now);
    const ans = acceptEspAnswer(saP.proposals, sa.conn.espProposals, false);
    if (!ans) return this.failed('responder chose an ESP proposal we did not offer', now);
    let gir: Uint8Array | null = null;
    if (ans.suite.ke !== null) {
      const keP = findPayload(msg, PayloadType.KE);
      if (!keP || !this.ke || keP.group !== ans.suite.ke || this.keGroup !== ans.suite.ke) return this.failed('PFS key exchange missing or for the wrong group', now);
      try {
        gir = this.ke.computeSecret(keP.data);
      } catch (e) {
        return this.failed(`bad KEr: ${e instanceof Error ? e.message : String(e)}`, now);
      }
    }
    this.ke = null;
    const ts = checkNarrowed(sa, tsi.selectors, tsr.selectors);
    if (!ts) return this.failed('responder returned traffic selectors outside ours', now);

    const coll = this.collision;
    const redundant = coll !== null && ourExchangeHasLowestNonce({ ni: this.ni, nr: nP.data }, coll);
    const fresh = installChild(
      sa,
      {
        suite: ans.suite,
        spiIn: this.spiIn,
        spiOut: spiFromBytes(ans.peerSpi),
        localTs: ts.local,
        remoteTs: ts.remote,
        ni: this.ni,
        nr: nP.data,
        gir,
        weInitiated: true,
        // a redundant SA never carries traffic: the pair the peer created stays active
        activate: !redundant,
      },
      now,
    );
    gir?.fill(0);
    if (redundant) {
      sa.log('info', `CHILD_SA rekey collision: our new CHILD_SA ${fresh.id} has the lowest nonce, deleting it`);
      sa.emit({ type: 'child-rekeyed', ike: sa.id, old: ch.info, child: coll.child.info });
      fresh.state = 'rekeyed';
      sa.queue(new ChildDeleteTask(sa, fresh, 'redundant CHILD_SA (rekey collision)'), now);
      return;
    }
    if (coll) {
      sa.log('info', `CHILD_SA rekey collision: the peer's CHILD_SA ${coll.child.id} has the lowest nonce, the peer deletes it`);
      // it never carries our traffic again and is not rekeyed; its hard lifetime is the backstop
      if (coll.child.state === 'installed') coll.child.state = 'rekeyed';
      coll.child.activateAt = undefined;
    }
    if (sa.children.has(ch.id)) {
      sa.emit({ type: 'child-rekeyed', ike: sa.id, old: ch.info, child: fresh.info });
      sa.log('info', `CHILD_SA ${ch.id} rekeyed as ${fresh.id} (in ${fresh.spiIn.toString(16)}, out ${fresh.spiOut.toString(16)})`);
      ch.state = 'rekeyed';
      sa.queue(new ChildDeleteTask(sa, ch, 'rekeyed'), now);
    }
  }

  private release(): void {
    this.sa.deps.releaseSpi(this.spiIn);
    this.ke = null;
  }

  private failed(reason: string, now: number): void {
    const sa = this.sa;
    const ch = this.child;
    this.release();
    if (this.collision) {
      // the peer's concurrent rekey of this child succeeded: that pair replaces it (§2.8.1)
      sa.log('info', `rekeying CHILD_SA ${ch.id} failed (${reason}), but the peer rekeyed it as ${this.collision.child.id}`);
      sa.emit({ type: 'child-rekeyed', ike: sa.id, old: ch.info, child: this.collision.child.info });
      return;
    }
    sa.log('warn', `rekeying CHILD_SA ${ch.id} failed: ${reason}; keeping the old CHILD_SA`);
    if (ch.state === 'rekeying') ch.state = 'installed';
    // retry later; the old pair keeps carrying traffic until its hard lifetime
    if (ch.state === 'installed') ch.rekeyAt = Math.min(now + REKEY_RETRY_MS, ch.expireAt);
  }

  timedOut(): void {
    this.release();
  }
}

// ---------------------------------------------------------------- deadlines (called from IkeSa)

function hasTask(sa: IkeSa, pred: (t: InitiatorTask) => boolean): boolean {
  return (sa.ex.active !== null && pred(sa.ex.active.task)) || sa.ex.queue.some(pred);
}
function rekeyTaskFor(ch: ChildSa): (t: InitiatorTask) => boolean {
  return (t) => t instanceof ChildRekeyTask && t.child === ch;
}
/** ChildDeleteTask keeps its child private; peek at it to avoid queueing a second Delete */
function deleteTaskFor(ch: ChildSa): (t: InitiatorTask) => boolean {
  return (t) => t instanceof ChildDeleteTask && (t as unknown as { child: ChildSa }).child === ch;
}

/** The active rekey request for this child, if our CREATE_CHILD_SA for it is in flight. */
export function activeRekeyOf(sa: IkeSa, ch: ChildSa): ChildRekeyTask | null {
  const t = sa.ex.active?.task;
  return t instanceof ChildRekeyTask && t.child === ch ? t : null;
}

/** earliest child lifetime deadline that still needs action */
export function childDeadline(sa: IkeSa): number | undefined {
  if (sa.state !== 'established') return undefined;
  let t: number | undefined;
  for (const ch of sa.children.values()) {
    if (ch.state === 'deleting') continue;
    if (ch.state === 'installed' && !hasTask(sa, rekeyTaskFor(ch)) && (t === undefined || ch.rekeyAt < t)) t = ch.rekeyAt;
    if (!hasTask(sa, deleteTaskFor(ch)) && (t === undefined || ch.expireAt < t)) t = ch.expireAt;
  }
  return t;
}

export function childTick(sa: IkeSa, now: number): void {
  if (sa.state !== 'established') return;
  for (const ch of [...sa.children.values()]) {
    if (ch.state === 'deleting') continue;
    if (now >= ch.expireAt) {
      if (!hasTask(sa, deleteTaskFor(ch))) {
        sa.log('info', `CHILD_SA ${ch.id} reached its hard lifetime, deleting it`);
        sa.queue(new ChildDeleteTask(sa, ch, 'expired'), now);
      }
      continue;
    }
    if (ch.state === 'installed' && now >= ch.rekeyAt && !hasTask(sa, rekeyTaskFor(ch))) {
      sa.queue(new ChildRekeyTask(sa, ch), now);
    }
  }
}
