/**
 * Dispatch of authenticated requests on an existing IKE SA to the exchange that answers it.
 * The per-exchange payload rules (wire/rules.ts) have already been checked.
 */
import { ExchangeType, NotifyType } from '../wire/constants.js';
import type { IkeMessage, Payload } from '../wire/types.js';
import { notifyPayload, type IkeSa } from '../ike-sa.js';
import { respondIkeAuth } from './ike-auth.js';
import { respondInformational } from './informational.js';
import { respondCreateChild } from './create-child.js';

export function processRequest(sa: IkeSa, msg: IkeMessage, now: number): Payload[] {
  switch (msg.header.exchangeType) {
    case ExchangeType.IKE_AUTH:
      if (sa.initiator || sa.state !== 'authenticating') return [notifyPayload(NotifyType.INVALID_SYNTAX)];
      return respondIkeAuth(sa, msg, now);
    case ExchangeType.INFORMATIONAL:
      if (sa.state !== 'established' && sa.state !== 'deleting') return [];
      return respondInformational(sa, msg, now);
    case ExchangeType.CREATE_CHILD_SA:
      if (sa.state !== 'established') return [notifyPayload(NotifyType.TEMPORARY_FAILURE)];
      return respondCreateChild(sa, msg, now);
    default:
      return [notifyPayload(NotifyType.INVALID_SYNTAX)];
  }
}
