/**
 * IKE_SA_INIT (RFC 7296 §1.2, §2.6 cookies, §2.7 proposals, §2.23 NAT detection,
 * §1.2/§3.4 INVALID_KE_PAYLOAD, RFC 7383 §2.3 fragmentation support).
 *
 *   Initiator                         Responder
 *   HDR, SAi1, KEi, Ni, N(NAT-D)*  -->
 *                                  <--  HDR, SAr1, KEr, Nr, N(NAT-D)*
 */
import { getKe, getPrf } from '../../crypto/registry.js';
import { deriveIkeSa } from '../keymat.js';
import { ExchangeType, IKE_PORT, NATT_PORT, NotifyType, PayloadType, notifyName } from '../wire/constants.js';
import type { IkeMessage, Payload } from '../wire/types.js';
import { acceptIkeAnswer, ikeProposalsToWire, type IkeSuite } from '../proposal.js';
import { fakeNatdHash, natdHash } from '../natd.js';
import { equal } from '../../common/bytes.js';
import { ikeKeyLengths, makeIkeCrypto } from '../sa-crypto.js';
import { ProtocolError } from '../../common/errors.js';
import type { InitiatorTask } from '../task-manager.js';
import { HALF_OPEN_TIMEOUT_MS, notifyPayload, type IkeSa } from '../ike-sa.js';
import { IkeAuthTask } from './ike-auth.js';
import { findNotify, findNotifies, findPayload } from '../wire-api.js';
import type { Endpoint } from '../../esp/port.js';

export const NONCE_LEN = 32;
const MAX_INIT_RETRIES = 3;

/** NAT_DETECTION_SOURCE_IP / _DESTINATION_IP notifies for a message we send. */
export function natdPayloads(sa: IkeSa): Payload[] {
  const src = sa.conn.encap === 'always' ? fakeNatdHash(sa.spiI, sa.spiR, sa.local) : natdHash(sa.spiI, sa.spiR, sa.local);
  return [
    notifyPayload(NotifyType.NAT_DETECTION_SOURCE_IP, src),
    notifyPayload(NotifyType.NAT_DETECTION_DESTINATION_IP, natdHash(sa.spiI, sa.spiR, sa.remote)),
  ];
}

/**
 * Evaluate the peer's NAT-D notifies (hashes computed with the SPIs as they appear in
 * that message's header). Returns undefined if the peer sent none.
 */
export function evalNatd(
  msg: IkeMessage,
  spiI: Uint8Array,
  spiR: Uint8Array,
  local: Endpoint,
  remote: Endpoint,
): { natLocal: boolean; natRemote: boolean } | undefined {
  const srcs = findNotifies(msg, NotifyType.NAT_DETECTION_SOURCE_IP);
  const dsts = findNotifies(msg, NotifyType.NAT_DETECTION_DESTINATION_IP);
  if (!srcs.length || !dsts.length) return undefined;
  const expectRemote = natdHash(spiI, spiR, remote);
  const expectLocal = natdHash(spiI, spiR, local);
  return {
    natRemote: !srcs.some((n) => equal(n.data, expectRemote)),
    natLocal: !dsts.some((n) => equal(n.data, expectLocal)),
  };
}

/** Move IKE to port 4500 (RFC 7296 §2.23) when NAT is detected or UDP encapsulation is forced. */
export function floatPorts(sa: IkeSa): void {
  if (sa.remote.port === IKE_PORT) sa.remote = { ...sa.remote, port: NATT_PORT };
  if (sa.local.port === IKE_PORT) sa.local = { ...sa.local, port: NATT_PORT };
}

export function wantsEncap(sa: IkeSa): boolean {
  return sa.natLocal || sa.natRemote || sa.conn.encap === 'always';
}

/** Derive SKEYSEED and SK_* and set up the SK protection of this IKE SA (§2.14). */
export function establishKeys(sa: IkeSa, suite: IkeSuite, gir: Uint8Array): void {
  const { encKeyLen, integKeyLen } = ikeKeyLengths(suite);
  const { keys } = deriveIkeSa({ prf: getPrf(suite.prf), ni: sa.ni, nr: sa.nr, gir, spiI: sa.spiI, spiR: sa.spiR, encKeyLen, integKeyLen });
  gir.fill(0);
  sa.suite = suite;
  sa.crypto = makeIkeCrypto(suite, keys, (n) => sa.deps.rng.bytes(n));
  sa.emit({
    type: 'keys',
    kind: 'ike',
    spiI: Buffer.from(sa.spiI).toString('hex'),
    spiR: Buffer.from(sa.spiR).toString('hex'),
    skEi: Buffer.from(keys.skEi).toString('hex'),
    skEr: Buffer.from(keys.skEr).toString('hex'),
    skAi: Buffer.from(keys.skAi).toString('hex'),
    skAr: Buffer.from(keys.skAr).toString('hex'),
    encr: sa.info().encr,
    integ: sa.info().integ,
  });
}

/** Initiator side of IKE_SA_INIT, including COOKIE and INVALID_KE_PAYLOAD retries. */
export class IkeInitTask implements InitiatorTask {
  readonly name = 'ike-init';
  readonly exchange = ExchangeType.IKE_SA_INIT;
  private cookie: Uint8Array | null = null;
  private group: number;
  private retries = 0;

  constructor(private readonly sa: IkeSa) {
    this.group = sa.conn.ikeProposals[0]?.ke[0] ?? 0;
  }

  build(): Payload[] {
    const sa = this.sa;
    if (!sa.ni.length) sa.ni = sa.deps.rng.bytes(NONCE_LEN);
    sa.ke = getKe(this.group).create();
    const payloads: Payload[] = [];
    // §2.6: the COOKIE notify MUST be the first payload when present
    if (this.cookie) payloads.push(notifyPayload(NotifyType.COOKIE, this.cookie));
    // put the group we send a KE for first in each proposal's KE list, so the responder picks it
    const proposals = sa.conn.ikeProposals.map((p) => ({ ...p, ke: [...p.ke].sort((a, b) => (a === this.group ? -1 : b === this.group ? 1 : 0)) }));
    payloads.push(
      { type: PayloadType.SA, proposals: ikeProposalsToWire(proposals) },
      { type: PayloadType.KE, group: this.group, data: sa.ke.publicKey },
      { type: PayloadType.NONCE, data: sa.ni },
      ...natdPayloads(sa),
    );
    if (sa.conn.fragmentation.enabled) payloads.push(notifyPayload(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED));
    return payloads;
  }

  private retry(now: number): void {
    this.retries++;
    this.sa.ex.myMid = 0;
    this.sa.queue(this, now, true);
  }

  private fail(reason: string, notify: number | undefined, now: number): void {
    const sa = this.sa;
    sa.emit({ type: 'failed', connection: sa.conn.name, ikeId: sa.id, reason, ...(notify !== undefined ? { notify: notifyName(notify) } : {}) });
    sa.log('warn', `IKE_SA_INIT failed: ${reason}`);
    sa.die(reason, now);
  }

  process(msg: IkeMessage, now: number): void {
    const sa = this.sa;
    const cookie = findNotify(msg, NotifyType.COOKIE);
    if (cookie) {
      if (this.retries >= MAX_INIT_RETRIES || cookie.data.length < 1 || cookie.data.length > 64) return this.fail('too many COOKIE requests', NotifyType.COOKIE, now);
      this.cookie = cookie.data;
      sa.log('info', 'responder demands a COOKIE, retrying');
      return this.retry(now);
    }
    const invKe = findNotify(msg, NotifyType.INVALID_KE_PAYLOAD);
    if (invKe) {
      const g = invKe.data.length === 2 ? (invKe.data[0]! << 8) | invKe.data[1]! : -1;
      const ours = sa.conn.ikeProposals.some((p) => p.ke.includes(g));
      if (!ours || g === this.group || this.retries >= MAX_INIT_RETRIES)
        return this.fail(`responder wants key exchange group ${g}, which we do not accept`, NotifyType.INVALID_KE_PAYLOAD, now);
      sa.log('info', `responder wants key exchange group ${g}, retrying`);
      this.group = g;
      return this.retry(now);
    }
    const err = msg.payloads.find((p) => p.type === PayloadType.NOTIFY && p.notifyType < 16384);
    if (err && err.type === PayloadType.NOTIFY) return this.fail(`peer answered ${notifyName(err.notifyType)}`, err.notifyType, now);

    const saP = findPayload(msg, PayloadType.SA);
    const keP = findPayload(msg, PayloadType.KE);
    const nP = findPayload(msg, PayloadType.NONCE);
    if (!saP || !keP || !nP) return this.fail('IKE_SA_INIT response lacks SA, KE or Nonce', NotifyType.INVALID_SYNTAX, now);
    const suite = acceptIkeAnswer(saP.proposals, sa.conn.ikeProposals);
    if (!suite) return this.fail('responder chose a proposal we did not offer', NotifyType.NO_PROPOSAL_CHOSEN, now);
    if (keP.group !== suite.ke || suite.ke !== this.group) return this.fail(`KE group ${keP.group} does not match the chosen proposal`, NotifyType.INVALID_SYNTAX, now);
    if (msg.header.spiR.every((b) => b === 0)) return this.fail('responder SPI is zero', NotifyType.INVALID_SYNTAX, now);
    sa.spiR = new Uint8Array(msg.header.spiR);
    sa.nr = new Uint8Array(nP.data);
    let gir: Uint8Array;
    try {
      gir = sa.ke!.computeSecret(keP.data);
    } catch (e) {
      return this.fail(`bad KE payload: ${e instanceof Error ? e.message : e}`, e instanceof ProtocolError ? e.notify : NotifyType.INVALID_SYNTAX, now);
    }
    sa.ke = null;
    establishKeys(sa, suite, gir);
    const nat = evalNatd(msg, sa.spiI, sa.spiR, sa.local, sa.remote);
    if (nat) {
      sa.natLocal = nat.natLocal;
      sa.natRemote = nat.natRemote;
      if (nat.natLocal) sa.log('info', 'local host is behind NAT');
      if (nat.natRemote) sa.log('info', 'remote host is behind NAT');
      if (wantsEncap(sa)) floatPorts(sa);
    }
    sa.fragmentation = sa.conn.fragmentation.enabled && !!findNotify(msg, NotifyType.IKEV2_FRAGMENTATION_SUPPORTED);
    sa.state = 'authenticating';
    sa.queue(new IkeAuthTask(sa), now, true);
  }
}

/**
 * Responder: build the IKE_SA_INIT answer on a freshly created IKE SA whose proposal has
 * been selected and whose KE group matches (the manager did the stateless checks).
 */
export function respondIkeInit(sa: IkeSa, msg: IkeMessage, request: Uint8Array, suite: IkeSuite, proposal: import('../wire/types.js').Proposal, now: number): boolean {
  const keP = findPayload(msg, PayloadType.KE)!;
  const nP = findPayload(msg, PayloadType.NONCE)!;
  sa.ni = new Uint8Array(nP.data);
  sa.nr = sa.deps.rng.bytes(NONCE_LEN);
  sa.initRequest = new Uint8Array(request);
  const ke = getKe(suite.ke).create();
  let gir: Uint8Array;
  try {
    gir = ke.computeSecret(keP.data);
  } catch (e) {
    sa.log('warn', `IKE_SA_INIT from ${sa.remote.address} has a bad KE payload: ${e instanceof Error ? e.message : e}`);
    return false;
  }
  establishKeys(sa, suite, gir);
  // NAT-D hashes in the request were computed with SPIr = 0
  const nat = evalNatd(msg, sa.spiI, new Uint8Array(8), sa.local, sa.remote);
  if (nat) {
    sa.natLocal = nat.natLocal;
    sa.natRemote = nat.natRemote;
    if (nat.natRemote) sa.log('info', 'remote host is behind NAT');
    if (nat.natLocal) sa.log('info', 'local host is behind NAT');
  }
  const peerFrag = !!findNotify(msg, NotifyType.IKEV2_FRAGMENTATION_SUPPORTED);
  sa.fragmentation = sa.conn.fragmentation.enabled && peerFrag;
  sa.state = 'authenticating';
  sa.halfOpenExpireAt = now + HALF_OPEN_TIMEOUT_MS;
  const payloads: Payload[] = [
    { type: PayloadType.SA, proposals: [proposal] },
    { type: PayloadType.KE, group: suite.ke, data: ke.publicKey },
    { type: PayloadType.NONCE, data: sa.nr },
    ...natdPayloads(sa),
  ];
  if (sa.fragmentation) payloads.push(notifyPayload(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED));
  sa.respond(ExchangeType.IKE_SA_INIT, 0, payloads);
  return true;
}
