/**
 * Per-exchange payload rules (structure after strongSwan's message.c rule tables; our own
 * code and numbers). For each (exchange type, request|response) the table lists which
 * payload types may appear, how often, and whether the message must be protected by SK.
 *
 * checkRules(msg) runs after a successful decodeMessage (so after authentication for
 * encrypted messages) and before any state changes:
 * - unknown payload type with the critical bit → UNSUPPORTED_CRITICAL_PAYLOAD, data = the
 *   one-octet payload type (RFC 7296 §2.5); unknown non-critical payloads are ignored;
 * - IKE_SA_INIT must be plaintext, every other exchange must be inside SK (§3.14 / §1.2);
 * - a known payload type not allowed in this message, or above its max count, or a
 *   required payload missing → INVALID_SYNTAX (§2.21 / §3.10.1 "INVALID_SYNTAX");
 * - required payloads are waived in responses carrying an error notify (type < 16384,
 *   e.g. an IKE_AUTH response that is just AUTHENTICATION_FAILED, an IKE_SA_INIT response
 *   with only NO_PROPOSAL_CHOSEN or INVALID_KE_PAYLOAD) and in IKE_SA_INIT responses
 *   carrying COOKIE (§2.6);
 * - SA payload: "the first Proposal MUST have a Proposal Num of one" in requests (sa.ts
 *   already enforces consecutive numbering); a response carries exactly one proposal
 *   ("the responder MUST ... return ... a single proposal", §2.7).
 * Payload order is not enforced on receipt (§2.5 gives no ordering rule except SK last).
 */
import { ExchangeType, NotifyType, PayloadType, exchangeName } from './constants.js';
import type { IkeMessage } from './types.js';
import { isErrorNotify } from './notify.js';
import { payloadTypeOf } from './payloads.js';

export interface PayloadRule {
  type: number;
  min: number;
  max: number;
}
export interface MessageRule {
  exchange: number;
  response: boolean;
  /** all payloads must be inside SK (true) / no SK allowed (false) */
  encrypted: boolean;
  payloads: readonly PayloadRule[];
}
export type RuleResult = { ok: true } | { ok: false; notify: number; reason: string; data?: Uint8Array };

export const MAX_NOTIFY = 32;
export const MAX_VENDOR = 32;
export const MAX_DELETE = 32;
export const MAX_CERT = 8;
export const MAX_CERTREQ = 8;

const P = PayloadType;
const r = (type: number, min: number, max: number): PayloadRule => ({ type, min, max });
const notifies = r(P.NOTIFY, 0, MAX_NOTIFY);
const vendors = r(P.VENDOR, 0, MAX_VENDOR);

export const MESSAGE_RULES: readonly MessageRule[] = [
  {
    exchange: ExchangeType.IKE_SA_INIT,
    response: false,
    encrypted: false,
    payloads: [r(P.SA, 1, 1), r(P.KE, 1, 1), r(P.NONCE, 1, 1), notifies, vendors, r(P.CERTREQ, 0, MAX_CERTREQ)],
  },
  {
    exchange: ExchangeType.IKE_SA_INIT,
    response: true,
    encrypted: false,
    payloads: [r(P.SA, 1, 1), r(P.KE, 1, 1), r(P.NONCE, 1, 1), notifies, vendors, r(P.CERTREQ, 0, MAX_CERTREQ)],
  },
  {
    exchange: ExchangeType.IKE_AUTH,
    response: false,
    encrypted: true,
    payloads: [
      r(P.IDi, 1, 1),
      r(P.AUTH, 1, 1),
      r(P.IDr, 0, 1),
      r(P.CERT, 0, MAX_CERT),
      r(P.CERTREQ, 0, MAX_CERTREQ),
      r(P.SA, 0, 1),
      r(P.TSi, 0, 1),
      r(P.TSr, 0, 1),
      r(P.CP, 0, 1),
      notifies,
      vendors,
    ],
  },
  {
    exchange: ExchangeType.IKE_AUTH,
    response: true,
    encrypted: true,
    payloads: [
      r(P.IDr, 1, 1),
      r(P.AUTH, 1, 1),
      r(P.CERT, 0, MAX_CERT),
      r(P.SA, 0, 1),
      r(P.TSi, 0, 1),
      r(P.TSr, 0, 1),
      r(P.CP, 0, 1),
      notifies,
      vendors,
    ],
  },
  {
    exchange: ExchangeType.CREATE_CHILD_SA,
    response: false,
    encrypted: true,
    payloads: [r(P.SA, 1, 1), r(P.NONCE, 1, 1), r(P.KE, 0, 1), r(P.TSi, 0, 1), r(P.TSr, 0, 1), notifies, vendors],
  },
  {
    exchange: ExchangeType.CREATE_CHILD_SA,
    response: true,
    encrypted: true,
    payloads: [r(P.SA, 1, 1), r(P.NONCE, 1, 1), r(P.KE, 0, 1), r(P.TSi, 0, 1), r(P.TSr, 0, 1), notifies, vendors],
  },
  {
    exchange: ExchangeType.INFORMATIONAL,
    response: false,
    encrypted: true,
    payloads: [notifies, r(P.DELETE, 0, MAX_DELETE), r(P.CP, 0, 1), vendors],
  },
  {
    exchange: ExchangeType.INFORMATIONAL,
    response: true,
    encrypted: true,
    payloads: [notifies, r(P.DELETE, 0, MAX_DELETE), r(P.CP, 0, 1), vendors],
  },
];

export function findRule(exchange: number, response: boolean): MessageRule | undefined {
  return MESSAGE_RULES.find((m) => m.exchange === exchange && m.response === response);
}

function fail(notify: number, reason: string, data?: Uint8Array): RuleResult {
  return data ? { ok: false, notify, reason, data } : { ok: false, notify, reason };
}
const syntax = (reason: string): RuleResult => fail(NotifyType.INVALID_SYNTAX, reason);

export function checkRules(msg: IkeMessage): RuleResult {
  const h = msg.header;
  const what = `${exchangeName(h.exchangeType)} ${h.response ? 'response' : 'request'}`;
  // §2.5: an unrecognised payload with the critical bit rejects the whole message
  for (const p of msg.payloads) {
    if (p.type === 'unknown' && p.critical) {
      return fail(
        NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD,
        `${what}: unsupported critical payload ${p.payloadType}`,
        Uint8Array.of(p.payloadType & 0xff),
      );
    }
  }
  const rule = findRule(h.exchangeType, h.response);
  if (!rule) return syntax(`${what}: unknown exchange type`);
  if (rule.encrypted !== msg.encrypted) {
    return syntax(`${what}: must ${rule.encrypted ? '' : 'not '}be encrypted`);
  }
  const counts = new Map<number, number>();
  for (const p of msg.payloads) {
    if (p.type === 'unknown') continue;
    const t = payloadTypeOf(p);
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  for (const [t, n] of counts) {
    const pr = rule.payloads.find((x) => x.type === t);
    if (!pr) return syntax(`${what}: payload ${t} not allowed`);
    if (n > pr.max) return syntax(`${what}: ${n} payloads of type ${t} (max ${pr.max})`);
  }
  let waive = false;
  if (h.response) {
    for (const p of msg.payloads) {
      if (p.type !== PayloadType.NOTIFY) continue;
      if (isErrorNotify(p.notifyType)) waive = true;
      if (h.exchangeType === ExchangeType.IKE_SA_INIT && p.notifyType === NotifyType.COOKIE) waive = true;
    }
  }
  if (!waive) {
    for (const pr of rule.payloads) {
      if ((counts.get(pr.type) ?? 0) < pr.min) return syntax(`${what}: missing payload ${pr.type}`);
    }
  }
  for (const p of msg.payloads) {
    if (p.type !== PayloadType.SA) continue;
    if (h.response && p.proposals.length !== 1) return syntax(`${what}: SA with ${p.proposals.length} proposals`);
    if (!h.response && p.proposals[0]?.num !== 1) return syntax(`${what}: first proposal number is not 1`);
  }
  return { ok: true };
}
