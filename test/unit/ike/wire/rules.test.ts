import { describe, expect, it } from 'vitest';
import { ExchangeType as X, NotifyType, PayloadType as P } from '../../../../src/ike/wire/constants.js';
import type { IkeMessage, Payload } from '../../../../src/ike/wire/types.js';
import { MESSAGE_RULES, checkRules } from '../../../../src/ike/wire/rules.js';
import { hdr, sampleMessages } from '../../../helpers/wire-arb.js';

const s = sampleMessages();
const notify = (notifyType: number): Payload => ({ type: P.NOTIFY, protocolId: 0, spi: new Uint8Array(0), notifyType, data: new Uint8Array(0) });
const without = (m: IkeMessage, t: number): IkeMessage => ({ ...m, payloads: m.payloads.filter((p) => p.type !== t) });
const plus = (m: IkeMessage, ...p: Payload[]): IkeMessage => ({ ...m, payloads: [...m.payloads, ...p] });

describe('checkRules', () => {
  it.each(Object.entries(s))('sample %s is valid', (_n, m) => {
    expect(checkRules(m)).toEqual({ ok: true });
  });

  it('covers all four exchanges in both directions', () => {
    expect(MESSAGE_RULES.map((r) => `${r.exchange}/${r.response}`).sort()).toEqual(
      ['34/false', '34/true', '35/false', '35/true', '36/false', '36/true', '37/false', '37/true'],
    );
  });

  const bad: [string, IkeMessage, RegExp][] = [
    ['IKE_SA_INIT request without KE', without(s.initReq!, P.KE), /missing payload 34/],
    ['IKE_SA_INIT request without SA', without(s.initReq!, P.SA), /missing payload 33/],
    ['IKE_SA_INIT request with two nonces', plus(s.initReq!, { type: P.NONCE, data: new Uint8Array(16) }), /2 payloads of type 40/],
    ['IKE_SA_INIT request encrypted', { ...s.initReq!, encrypted: true }, /must not be encrypted/],
    ['IKE_SA_INIT request with AUTH', plus(s.initReq!, { type: P.AUTH, method: 2, data: new Uint8Array(1) }), /payload 39 not allowed/],
    ['IKE_SA_INIT request with error notify still needs SA/KE/Ni', plus(without(s.initReq!, P.KE), notify(7)), /missing/],
    ['IKE_SA_INIT response with status notify only', { ...s.initRespCookie!, payloads: [notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED)] }, /missing/],
    ['IKE_AUTH request in plaintext', { ...s.authReq!, encrypted: false }, /must be encrypted/],
    ['IKE_AUTH request without AUTH', without(s.authReq!, P.AUTH), /missing payload 39/],
    ['IKE_AUTH request without IDi', without(s.authReq!, P.IDi), /missing payload 35/],
    ['IKE_AUTH request with two TSi', plus(s.authReq!, s.authReq!.payloads.find((p) => p.type === P.TSi)!), /2 payloads of type 44/],
    ['IKE_AUTH request with KE', plus(s.authReq!, { type: P.KE, group: 31, data: new Uint8Array(32) }), /not allowed/],
    ['IKE_AUTH response with only status notify', { ...s.authRespFail!, payloads: [notify(NotifyType.INITIAL_CONTACT)] }, /missing payload 36/],
    ['CREATE_CHILD_SA request without nonce', without(s.childReq!, P.NONCE), /missing payload 40/],
    ['INFORMATIONAL with SA', plus(s.infoDelete!, s.initResp!.payloads[0]!), /payload 33 not allowed/],
    ['INFORMATIONAL plaintext', { ...s.infoDelete!, encrypted: false }, /must be encrypted/],
    ['too many notifies', plus(s.infoEmpty!, ...Array.from({ length: 33 }, () => notify(NotifyType.INITIAL_CONTACT))), /33 payloads/],
    ['unknown exchange type', { ...s.infoEmpty!, header: hdr(99, false, 1) }, /unknown exchange/],
    ['request SA not starting at proposal 1', {
      ...s.initReq!,
      payloads: s.initReq!.payloads.map((p) => (p.type === P.SA ? { ...p, proposals: p.proposals.map((q) => ({ ...q, num: q.num + 1 })) } : p)),
    }, /first proposal number/],
    ['response SA with 2 proposals', {
      ...s.initResp!,
      payloads: s.initResp!.payloads.map((p) => (p.type === P.SA ? s.initReq!.payloads[0]! : p)),
    }, /SA with 2 proposals/],
  ];
  it.each(bad)('%s → INVALID_SYNTAX', (_n, m, reason) => {
    const r = checkRules(m);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.notify).toBe(NotifyType.INVALID_SYNTAX);
      expect(r.reason).toMatch(reason);
    }
  });

  it.each<[string, IkeMessage]>([
    ['IKE_SA_INIT response: only INVALID_KE_PAYLOAD', s.initRespInvalidKe!],
    ['IKE_SA_INIT response: only COOKIE', s.initRespCookie!],
    ['IKE_SA_INIT response: only NO_PROPOSAL_CHOSEN', { ...s.initRespCookie!, payloads: [notify(NotifyType.NO_PROPOSAL_CHOSEN)] }],
    ['IKE_AUTH response: only AUTHENTICATION_FAILED', s.authRespFail!],
    ['IKE_AUTH response: IDr+AUTH+child error (no SA/TS)', { ...without(without(without(s.authResp!, P.SA), P.TSi), P.TSr), payloads: [...without(without(without(s.authResp!, P.SA), P.TSi), P.TSr).payloads, notify(NotifyType.TS_UNACCEPTABLE)] }],
    ['CREATE_CHILD_SA response: only NO_ADDITIONAL_SAS', { header: hdr(X.CREATE_CHILD_SA, true, 2, false), encrypted: true, payloads: [notify(NotifyType.NO_ADDITIONAL_SAS)] }],
    ['INFORMATIONAL request: empty (liveness)', { header: hdr(X.INFORMATIONAL, false, 5), encrypted: true, payloads: [] }],
    ['unknown non-critical payload is ignored', plus(s.authReq!, { type: 'unknown', payloadType: 99, critical: false, body: new Uint8Array(0) })],
    ['CERT/CERTREQ in IKE_AUTH', plus(s.authReq!, { type: P.CERT, body: new Uint8Array(3) }, { type: P.CERTREQ, body: new Uint8Array(0) })],
  ])('%s is valid', (_n, m) => {
    expect(checkRules(m)).toEqual({ ok: true });
  });

  it('unknown critical payload → UNSUPPORTED_CRITICAL_PAYLOAD with the 1-octet type as data', () => {
    const r = checkRules(plus(s.initReq!, { type: 'unknown', payloadType: 130, critical: true, body: new Uint8Array(0) }));
    expect(r).toMatchObject({ ok: false, notify: NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD });
    if (!r.ok) expect(r.data).toEqual(Uint8Array.of(130));
  });

  it('a critical bit on a known payload is not an error', () => {
    const m = { ...s.initReq!, payloads: s.initReq!.payloads.map((p) => ({ ...p, critical: true })) };
    expect(checkRules(m)).toEqual({ ok: true });
  });
});
