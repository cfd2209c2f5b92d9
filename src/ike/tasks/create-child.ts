/**
 * CREATE_CHILD_SA responder (RFC 7296 §1.3.1 new CHILD_SA, §1.3.3 CHILD_SA rekey, §2.8).
 *
 *   HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], TSi, TSr}  -->
 *                             <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
 *
 * The new pair is installed (inbound, then outbound) before our response leaves
 * (make-before-break); our outbound traffic switches to it when the initiator deletes the
 * old pair (it has installed its inbound SA by then), or after a short fallback delay. The
 * old pair is marked `rekeyed` and stays installed until that Delete arrives.
 *
 * Collisions (§2.8.1): a rekey request for a child we are rekeying ourselves is answered
 * normally and recorded on our in-flight ChildRekeyTask, which settles the redundant pair
 * when its own response arrives (see child-rekey.ts). A rekey request for a child we are
 * deleting (or have already replaced) gets TEMPORARY_FAILURE.
 *
 * IKE SA rekeying (§1.3.2: an SA proposal for protocol IKE) is answered by ike-rekey.ts.
 * While our own IKE SA rekey is in flight, CHILD_SA requests are still answered here (the
 * children stay on the old SA until the IKE rekey completes, and the peer refuses that
 * rekey with TEMPORARY_FAILURE while its CHILD_SA exchange is outstanding); once the IKE SA
 * has been replaced, the old one refuses them with TEMPORARY_FAILURE (§2.8.2).
 */
import { NotifyType, PayloadType, ProtocolId, notifyName } from '../wire/constants.js';
import type { IkeMessage, Payload } from '../wire/types.js';
import { notifyPayload, type IkeSa } from '../ike-sa.js';
import { selectEsp } from '../proposal.js';
import { getKe } from '../../crypto/registry.js';
import { installChild, narrowAsResponder, spiBytes, spiFromBytes, toWire } from './child-create.js';
import { findNotify, findPayload } from '../wire-api.js';
import { CHILD_NONCE_LEN, activeRekeyOf } from './child-rekey.js';
import type { ChildSa } from '../child-sa.js';

/** rekey responder: switch to the new outbound SA at the latest this long after answering */
export const RESPONDER_SWITCH_FALLBACK_MS = 3000;
import { respondIkeRekey } from './ike-rekey.js';

export function respondCreateChild(sa: IkeSa, msg: IkeMessage, now: number): Payload[] {
  const saP = findPayload(msg, PayloadType.SA);
  const niP = findPayload(msg, PayloadType.NONCE);
  if (!saP || !niP) return [notifyPayload(NotifyType.INVALID_SYNTAX)];
  if (saP.proposals.some((p) => p.protocolId === ProtocolId.IKE)) return respondIkeRekey(sa, msg, now);
  if (sa.supersededBy) {
    sa.log('info', 'CREATE_CHILD_SA on an IKE SA that has been rekeyed: TEMPORARY_FAILURE');
    return [notifyPayload(NotifyType.TEMPORARY_FAILURE)];
  }

  // §1.3.3: N(REKEY_SA) names the SA being replaced by the SPI the peer uses inbound (our outbound)
  let old: ChildSa | null = null;
  const rekey = findNotify(msg, NotifyType.REKEY_SA);
  if (rekey) {
    if (rekey.protocolId !== ProtocolId.ESP || rekey.spi.length !== 4) {
      sa.log('warn', `CREATE_CHILD_SA rekey for protocol ${rekey.protocolId}: not supported`);
      return [notifyPayload(NotifyType.NO_PROPOSAL_CHOSEN)];
    }
    const spi = spiFromBytes(rekey.spi);
    old = [...sa.children.values()].find((c) => c.spiOut === spi) ?? null;
    if (!old) {
      sa.log('info', `peer wants to rekey CHILD_SA with SPI ${spi.toString(16)}, which we do not have`);
      return [notifyPayload(NotifyType.CHILD_SA_NOT_FOUND, undefined, ProtocolId.ESP, rekey.spi)];
    }
    if (old.state === 'deleting' || old.state === 'rekeyed') {
      sa.log('info', `peer wants to rekey CHILD_SA ${old.id}, which is being ${old.state === 'deleting' ? 'deleted' : 'replaced'}: TEMPORARY_FAILURE`);
      return [notifyPayload(NotifyType.TEMPORARY_FAILURE)];
    }
  }
  const what = old ? `rekey of CHILD_SA ${old.id}` : 'new CHILD_SA';
  const refuse = (notify: number, reason: string, data?: Uint8Array): Payload[] => {
    sa.log('warn', `CREATE_CHILD_SA (${what}) refused: ${reason}`, { notify: notifyName(notify) });
    if (!old) sa.emit({ type: 'failed', connection: sa.conn.name, ikeId: sa.id, reason, notify: notifyName(notify) });
    return [notifyPayload(notify, data)];
  };

  const sel = selectEsp(saP.proposals, sa.conn.espProposals, { inIkeAuth: false });
  if (!sel) return refuse(NotifyType.NO_PROPOSAL_CHOSEN, 'no acceptable ESP proposal');
  const keP = findPayload(msg, PayloadType.KE);
  if (sel.suite.ke !== null && (!keP || keP.group !== sel.suite.ke)) {
    // §1.3: the KE group must be the one of the chosen proposal; tell the peer which one we want
    return refuse(NotifyType.INVALID_KE_PAYLOAD, `peer sent KE for group ${keP?.group ?? 'none'}, we want ${sel.suite.ke}`, new Uint8Array([(sel.suite.ke >> 8) & 0xff, sel.suite.ke & 0xff]));
  }
  const tsi = findPayload(msg, PayloadType.TSi);
  const tsr = findPayload(msg, PayloadType.TSr);
  if (!tsi || !tsr) return refuse(NotifyType.INVALID_SYNTAX, 'request lacks TSi or TSr');
  const ts = narrowAsResponder(sa, tsi.selectors, tsr.selectors);
  if (!ts) return refuse(NotifyType.TS_UNACCEPTABLE, 'traffic selectors unacceptable');

  let gir: Uint8Array | null = null;
  let ker: Payload | null = null;
  if (sel.suite.ke !== null && keP) {
    const ke = getKe(sel.suite.ke).create();
    try {
      gir = ke.computeSecret(keP.data);
    } catch (e) {
      return refuse(NotifyType.INVALID_SYNTAX, `bad KEi: ${e instanceof Error ? e.message : String(e)}`);
    }
    ker = { type: PayloadType.KE, group: sel.suite.ke, data: ke.publicKey };
  }
  // nonce before the SPI: tests steer the nonce order with SeededRng.nextFirstByte
  const nr = sa.deps.rng.bytes(CHILD_NONCE_LEN);
  const spiIn = sa.deps.allocSpi();
  // The initiator installs its inbound SA for the new pair only when our response arrives:
  // keep sending on the current pair until it deletes the old one (as strongSwan does), so
  // nothing we send in between hits an SPI it does not know yet. With no pair carrying
  // traffic switch at once. On a collision (§2.8.1) the same holds: if our own pair wins,
  // our task cancels this pending switch; if the peer's wins, its Delete of the old pair
  // switches us.
  // an existing pair that is not being deleted still carries our traffic (also while it is
  // 'rekeying' under our own request, or 'rekeyed' but not yet switched away from)
  const carrying = [...sa.children.values()].some((c) => c.state !== 'deleting');
  const defer = carrying;
  const fresh = installChild(
    sa,
    { suite: sel.suite, spiIn, spiOut: spiFromBytes(sel.peerSpi), localTs: ts.local, remoteTs: ts.remote, ni: niP.data, nr, gir, weInitiated: false, activate: !defer },
    now,
  );
  if (defer) fresh.activateAt = now + RESPONDER_SWITCH_FALLBACK_MS;
  gir?.fill(0);
  if (old) {
    const mine = activeRekeyOf(sa, old);
    if (mine) {
      // §2.8.1 simultaneous rekey: settled when our own exchange completes
      mine.collision = { child: fresh, ni: niP.data, nr };
      sa.log('info', `CHILD_SA rekey collision on CHILD_SA ${old.id}: answering the peer's request`);
    }
    old.state = 'rekeyed';
    // on a collision the 'child-rekeyed' event waits for the verdict (ChildRekeyTask)
    if (!mine) sa.emit({ type: 'child-rekeyed', ike: sa.id, old: old.info, child: fresh.info });
    sa.log('info', `CHILD_SA ${old.id} rekeyed by the peer as ${fresh.id} (in ${fresh.spiIn.toString(16)}, out ${fresh.spiOut.toString(16)})`);
  }
  return [
    { type: PayloadType.SA, proposals: [{ ...sel.proposal, spi: spiBytes(spiIn) }] },
    { type: PayloadType.NONCE, data: nr },
    ...(ker ? [ker] : []),
    { type: PayloadType.TSi, selectors: toWire(ts.remote) },
    { type: PayloadType.TSr, selectors: toWire(ts.local) },
  ];
}
