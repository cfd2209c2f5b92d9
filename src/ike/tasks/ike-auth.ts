/**
 * IKE_AUTH with a pre-shared key and the first CHILD_SA (RFC 7296 §1.2, §2.15, §2.21.2).
 *
 *   HDR, SK {IDi, [IDr,] AUTH, [N(INITIAL_CONTACT),] SAi2, TSi, TSr}  -->
 *                                  <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
 *
 * The responder verifies the initiator's AUTH before it creates any CHILD_SA state.
 */
import { AuthMethod, ExchangeType, NotifyType, PayloadType, notifyName } from '../wire/constants.js';
import type { IkeMessage, Payload } from '../wire/types.js';
import { idPayloadBody, pskAuth, signedOctets } from '../keymat.js';
import { equal, equalCt } from '../../common/bytes.js';
import { acceptEspAnswer, espProposalsToWire, selectEsp } from '../proposal.js';
import type { InitiatorTask } from '../task-manager.js';
import { notifyPayload, type IkeSa } from '../ike-sa.js';
import { checkNarrowed, installChild, narrowAsResponder, spiBytes, spiFromBytes, toWire } from './child-create.js';
import { findNotify, findPayload } from '../wire-api.js';
import { IkeDeleteTask } from './informational.js';

/** AUTH octets for the given side (§2.15). */
export function authData(sa: IkeSa, ofInitiator: boolean, idType: number, idData: Uint8Array): Uint8Array {
  const c = sa.crypto!;
  const octets = signedOctets({
    message: ofInitiator ? sa.initRequest : sa.initResponse,
    nonce: ofInitiator ? sa.nr : sa.ni,
    prf: c.prf,
    skP: ofInitiator ? c.keys.skPi : c.keys.skPr,
    idPayloadBody: idPayloadBody(idType, idData),
  });
  return pskAuth({ prf: c.prf, psk: sa.conn.psk, signedOctets: octets });
}

function idText(type: number, data: Uint8Array): string {
  if (type === 1 && data.length === 4) return [...data].join('.');
  if (type === 5 && data.length === 16) {
    const parts: string[] = [];
    for (let i = 0; i < 16; i += 2) parts.push(((data[i]! << 8) | data[i + 1]!).toString(16));
    return parts.join(':');
  }
  if (type === 2 || type === 3) return Buffer.from(data).toString('utf8').replace(/[^\x20-\x7e]/g, '?');
  return `keyid:${Buffer.from(data).toString('hex')}`;
}

function peerIdOk(sa: IkeSa, type: number, data: Uint8Array): boolean {
  const want = sa.conn.remote.id;
  return want === null || (want.type === type && equal(want.data, data));
}

export class IkeAuthTask implements InitiatorTask {
  readonly name = 'ike-auth';
  readonly exchange = ExchangeType.IKE_AUTH;
  private spiIn = 0;

  constructor(private readonly sa: IkeSa) {}

  build(): Payload[] {
    const sa = this.sa;
    const id = sa.conn.local.id;
    this.spiIn = sa.deps.allocSpi();
    const payloads: Payload[] = [{ type: PayloadType.IDi, idType: id.type, data: id.data }];
    if (sa.conn.remote.id) payloads.push({ type: PayloadType.IDr, idType: sa.conn.remote.id.type, data: sa.conn.remote.id.data });
    payloads.push({ type: PayloadType.AUTH, method: AuthMethod.SHARED_KEY_MIC, data: authData(sa, true, id.type, id.data) });
    // §2.4: tell the peer to drop state it may still hold from an earlier life of ours
    if (!sa.deps.hasOtherSa(sa)) payloads.push(notifyPayload(NotifyType.INITIAL_CONTACT));
    payloads.push(
      { type: PayloadType.SA, proposals: espProposalsToWire(sa.conn.espProposals, spiBytes(this.spiIn), false) },
      { type: PayloadType.TSi, selectors: toWire(sa.conn.localTs) },
      { type: PayloadType.TSr, selectors: toWire(sa.conn.remoteTs) },
    );
    return payloads;
  }

  private fail(reason: string, notify: number, now: number): void {
    const sa = this.sa;
    sa.deps.releaseSpi(this.spiIn);
    sa.emit({ type: 'failed', connection: sa.conn.name, ikeId: sa.id, reason, notify: notifyName(notify) });
    sa.log('warn', `IKE_AUTH failed: ${reason}`);
    sa.die(reason, now);
  }

  process(msg: IkeMessage, now: number): void {
    const sa = this.sa;
    const idr = findPayload(msg, PayloadType.IDr);
    const auth = findPayload(msg, PayloadType.AUTH);
    if (!idr || !auth) {
      const err = msg.payloads.find((p) => p.type === PayloadType.NOTIFY && p.notifyType < 16384);
      const n = err && err.type === PayloadType.NOTIFY ? err.notifyType : NotifyType.AUTHENTICATION_FAILED;
      return this.fail(`peer answered ${notifyName(n)}`, n, now);
    }
    if (!peerIdOk(sa, idr.idType, idr.data)) {
      this.notifyAuthFailed();
      return this.fail(`peer identity ${idText(idr.idType, idr.data)} is not the configured ${sa.conn.remote.id?.text}`, NotifyType.AUTHENTICATION_FAILED, now);
    }
    if (auth.method !== AuthMethod.SHARED_KEY_MIC || !equalCt(auth.data, authData(sa, false, idr.idType, idr.data))) {
      this.notifyAuthFailed();
      return this.fail('responder AUTH payload does not verify (pre-shared key mismatch?)', NotifyType.AUTHENTICATION_FAILED, now);
    }
    sa.peerId = { type: idr.idType, data: idr.data, text: idText(idr.idType, idr.data) };
    sa.state = 'established';
    sa.establishedAt = now;
    sa.emit({ type: 'ike-up', sa: sa.info() });
    sa.log('info', `IKE SA established with ${sa.peerId.text} (${sa.info().encr}/${sa.info().prf}/${sa.info().ke})`);

    // first CHILD_SA
    const saP = findPayload(msg, PayloadType.SA);
    const tsi = findPayload(msg, PayloadType.TSi);
    const tsr = findPayload(msg, PayloadType.TSr);
    if (!saP || !tsi || !tsr) {
      const err = msg.payloads.find((p) => p.type === PayloadType.NOTIFY && p.notifyType < 16384);
      const n = err && err.type === PayloadType.NOTIFY ? err.notifyType : NotifyType.NO_PROPOSAL_CHOSEN;
      return this.childFailed(`peer refused the CHILD_SA: ${notifyName(n)}`, n, now);
    }
    const ans = acceptEspAnswer(saP.proposals, sa.conn.espProposals, true);
    if (!ans) return this.childFailed('responder chose an ESP proposal we did not offer', NotifyType.NO_PROPOSAL_CHOSEN, now);
    const ts = checkNarrowed(sa, tsi.selectors, tsr.selectors);
    if (!ts) return this.childFailed('responder returned traffic selectors outside ours', NotifyType.TS_UNACCEPTABLE, now);
    installChild(
      sa,
      { suite: ans.suite, spiIn: this.spiIn, spiOut: spiFromBytes(ans.peerSpi), localTs: ts.local, remoteTs: ts.remote, ni: sa.ni, nr: sa.nr, gir: null, weInitiated: true, activate: true },
      now,
    );
  }

  /** §2.21.2: tell the responder its AUTH did not verify (one-shot INFORMATIONAL). */
  private notifyAuthFailed(): void {
    const sa = this.sa;
    sa.send(sa.encode(ExchangeType.INFORMATIONAL, false, sa.ex.myMid, [notifyPayload(NotifyType.AUTHENTICATION_FAILED)]));
  }

  /** The IKE SA is up but useless without its CHILD_SA: report and delete it. */
  private childFailed(reason: string, notify: number, now: number): void {
    const sa = this.sa;
    sa.deps.releaseSpi(this.spiIn);
    sa.emit({ type: 'failed', connection: sa.conn.name, ikeId: sa.id, reason, notify: notifyName(notify) });
    sa.log('warn', `CHILD_SA failed: ${reason}`);
    sa.queue(new IkeDeleteTask(sa, 'CHILD_SA negotiation failed'), now);
  }
}

/** Responder side of IKE_AUTH. Returns the response payloads. */
export function respondIkeAuth(sa: IkeSa, msg: IkeMessage, now: number): Payload[] {
  const idi = findPayload(msg, PayloadType.IDi);
  const auth = findPayload(msg, PayloadType.AUTH);
  const fail = (reason: string): Payload[] => {
    sa.emit({ type: 'failed', connection: sa.conn.name, ikeId: sa.id, reason, notify: 'AUTHENTICATION_FAILED' });
    sa.log('warn', `IKE_AUTH from ${sa.remote.address} failed: ${reason}`);
    sa.die(reason, now);
    return [notifyPayload(NotifyType.AUTHENTICATION_FAILED)];
  };
  if (!idi || !auth) return fail('IKE_AUTH request without IDi or AUTH');
  if (!peerIdOk(sa, idi.idType, idi.data)) return fail(`peer identity ${idText(idi.idType, idi.data)} is not the configured ${sa.conn.remote.id?.text}`);
  const idrReq = findPayload(msg, PayloadType.IDr);
  const me = sa.conn.local.id;
  if (idrReq && !(idrReq.idType === me.type && equal(idrReq.data, me.data)))
    return fail(`peer asked for identity ${idText(idrReq.idType, idrReq.data)}, we are ${me.text}`);
  if (auth.method !== AuthMethod.SHARED_KEY_MIC) return fail(`unsupported AUTH method ${auth.method} (only PSK)`);
  if (!equalCt(auth.data, authData(sa, true, idi.idType, idi.data))) return fail('initiator AUTH payload does not verify (pre-shared key mismatch?)');

  // authenticated from here on
  sa.peerId = { type: idi.idType, data: idi.data, text: idText(idi.idType, idi.data) };
  sa.state = 'established';
  sa.establishedAt = now;
  sa.halfOpenExpireAt = undefined;
  if (findNotify(msg, NotifyType.INITIAL_CONTACT)) sa.deps.onInitialContact(sa);
  sa.emit({ type: 'ike-up', sa: sa.info() });
  sa.log('info', `IKE SA established with ${sa.peerId.text} (${sa.info().encr}/${sa.info().prf}/${sa.info().ke})`);

  const out: Payload[] = [
    { type: PayloadType.IDr, idType: me.type, data: me.data },
    { type: PayloadType.AUTH, method: AuthMethod.SHARED_KEY_MIC, data: authData(sa, false, me.type, me.data) },
  ];
  const saP = findPayload(msg, PayloadType.SA);
  const tsi = findPayload(msg, PayloadType.TSi);
  const tsr = findPayload(msg, PayloadType.TSr);
  if (!saP || !tsi || !tsr) return out; // IKE SA only (childless, RFC 6023 style)
  // Transport mode is not offered: §1.3.1 lets us answer in tunnel mode without USE_TRANSPORT_MODE.
  const sel = selectEsp(saP.proposals, sa.conn.espProposals, { inIkeAuth: true });
  if (!sel) {
    sa.emit({ type: 'failed', connection: sa.conn.name, ikeId: sa.id, reason: 'no acceptable ESP proposal', notify: 'NO_PROPOSAL_CHOSEN' });
    sa.log('warn', 'CHILD_SA failed: no acceptable ESP proposal from peer');
    return [...out, notifyPayload(NotifyType.NO_PROPOSAL_CHOSEN)];
  }
  const ts = narrowAsResponder(sa, tsi.selectors, tsr.selectors);
  if (!ts) {
    sa.emit({ type: 'failed', connection: sa.conn.name, ikeId: sa.id, reason: 'traffic selectors unacceptable', notify: 'TS_UNACCEPTABLE' });
    sa.log('warn', 'CHILD_SA failed: peer traffic selectors do not match ours');
    return [...out, notifyPayload(NotifyType.TS_UNACCEPTABLE)];
  }
  const spiIn = sa.deps.allocSpi();
  installChild(
    sa,
    { suite: sel.suite, spiIn, spiOut: spiFromBytes(sel.peerSpi), localTs: ts.local, remoteTs: ts.remote, ni: sa.ni, nr: sa.nr, gir: null, weInitiated: false, activate: true },
    now,
  );
  return [
    ...out,
    { type: PayloadType.SA, proposals: [{ ...sel.proposal, spi: spiBytes(spiIn) }] },
    { type: PayloadType.TSi, selectors: toWire(ts.remote) },
    { type: PayloadType.TSr, selectors: toWire(ts.local) },
  ];
}
