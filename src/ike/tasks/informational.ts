/**
 * INFORMATIONAL exchanges (RFC 7296 §1.4, §2.4 liveness, §3.11 Delete).
 * Initiator tasks: IKE SA delete, CHILD_SA delete, liveness check (empty message).
 * Responder: answer every request, including unknown status notifies such as strongSwan's
 * unsolicited MOBIKE ADDITIONAL_*_ADDRESS / NAT-D checks, with a valid (possibly empty) response.
 */
import { ExchangeType, NotifyType, PayloadType, ProtocolId } from '../wire/constants.js';
import type { IkeMessage, Payload } from '../wire/types.js';
import type { InitiatorTask } from '../task-manager.js';
import type { IkeSa } from '../ike-sa.js';
import type { ChildSa } from '../child-sa.js';
import { spiBytes, spiFromBytes } from './child-create.js';
import { findNotify, findPayloads } from '../wire-api.js';

export class IkeDeleteTask implements InitiatorTask {
  readonly name = 'ike-delete';
  readonly exchange = ExchangeType.INFORMATIONAL;
  constructor(private readonly sa: IkeSa, private readonly reason: string) {}
  build(): Payload[] {
    this.sa.state = 'deleting';
    this.sa.log('info', `deleting IKE SA: ${this.reason}`);
    return [{ type: PayloadType.DELETE, protocolId: ProtocolId.IKE, spis: [] }];
  }
  process(_msg: IkeMessage, now: number): void {
    this.sa.die(this.reason, now);
  }
  timedOut(now: number): void {
    this.sa.die(this.reason, now);
  }
}

export class ChildDeleteTask implements InitiatorTask {
  readonly name = 'child-delete';
  readonly exchange = ExchangeType.INFORMATIONAL;
  constructor(private readonly sa: IkeSa, private readonly child: ChildSa, private readonly reason: string) {}
  build(): Payload[] | null {
    if (!this.sa.children.has(this.child.id)) return null; // already gone (peer deleted it first)
    this.child.state = 'deleting';
    return [{ type: PayloadType.DELETE, protocolId: ProtocolId.ESP, spis: [spiBytes(this.child.spiIn)] }];
  }
  process(_msg: IkeMessage): void {
    // §1.4.1: the response carries the peer's inbound SPIs for the pair; either way the pair is gone
    if (this.sa.children.has(this.child.id)) this.sa.removeChild(this.child, this.reason);
  }
}

/** An INFORMATIONAL request with given payloads (status notifies; operator-triggered checks). */
export class InformationalTask implements InitiatorTask {
  readonly name = 'informational';
  readonly exchange = ExchangeType.INFORMATIONAL;
  constructor(private readonly payloads: Payload[]) {}
  build(): Payload[] {
    return this.payloads;
  }
  process(): void {}
}

/** Liveness check (§2.4): an empty INFORMATIONAL request. */
export class DpdTask implements InitiatorTask {
  readonly name = 'dpd';
  readonly exchange = ExchangeType.INFORMATIONAL;
  constructor(private readonly sa: IkeSa) {}
  build(): Payload[] {
    return [];
  }
  process(): void {}
}

export function respondInformational(sa: IkeSa, msg: IkeMessage, now: number): Payload[] {
  if (findNotify(msg, NotifyType.AUTHENTICATION_FAILED)) {
    sa.emit({ type: 'failed', connection: sa.conn.name, ikeId: sa.id, reason: 'peer reports AUTHENTICATION_FAILED', notify: 'AUTHENTICATION_FAILED' });
    sa.log('warn', 'peer reports AUTHENTICATION_FAILED');
    sa.die('peer reports AUTHENTICATION_FAILED', now);
    return [];
  }
  const out: Payload[] = [];
  const ourSpis: Uint8Array[] = [];
  for (const d of findPayloads(msg, PayloadType.DELETE)) {
    if (d.protocolId === ProtocolId.IKE) {
      sa.log('info', 'peer deleted the IKE SA');
      // respond first (empty), then forget everything; children die with the IKE SA (§1.4.1)
      sa.die('deleted by peer', now);
      return [];
    }
    if (d.protocolId !== ProtocolId.ESP) continue;
    for (const raw of d.spis) {
      if (raw.length !== 4) continue;
      const spi = spiFromBytes(raw);
      const ch = [...sa.children.values()].find((c) => c.spiOut === spi);
      if (!ch) continue;
      // simultaneous delete: don't include SPIs we are deleting ourselves (§1.4.1)
      if (ch.state !== 'deleting') ourSpis.push(spiBytes(ch.spiIn));
      // the rekey initiator deletes the old pair once it uses the new one: switch first
      if (ch.state === 'rekeyed') activatePending(sa);
      sa.log('info', `peer deleted CHILD_SA ${ch.id} (in ${ch.spiIn.toString(16)}, out ${ch.spiOut.toString(16)})`);
      sa.removeChild(ch, 'deleted by peer');
    }
  }
  if (ourSpis.length) out.push({ type: PayloadType.DELETE, protocolId: ProtocolId.ESP, spis: ourSpis });
  // RFC 4555 §3.8 (MOBIKE return routability): COOKIE2 is copied into the response
  const cookie2 = findNotify(msg, NotifyType.COOKIE2);
  if (cookie2) out.push({ type: PayloadType.NOTIFY, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.COOKIE2, data: cookie2.data });
  return out;
}

/** Switch outbound to the newest CHILD_SA still waiting for its switch (rekey responder). */
export function activatePending(sa: IkeSa): void {
  let next: ChildSa | undefined;
  for (const c of sa.children.values()) if (c.activateAt !== undefined && (!next || c.installedAt >= next.installedAt)) next = c;
  if (!next) return;
  for (const c of sa.children.values()) c.activateAt = undefined;
  sa.out.push({ kind: 'activate-outbound', connection: sa.conn.name, spi: next.spiOut });
}
