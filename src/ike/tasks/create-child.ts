/**
 * CREATE_CHILD_SA responder (RFC 7296 §1.3). Rekeying of CHILD and IKE SAs (§1.3.2, §1.3.3,
 * §2.8) is not implemented yet: we refuse additional SAs with NO_ADDITIONAL_SAS, which the
 * RFC allows (§1.3) and which makes a peer fall back to re-establishing.
 * TODO(issue 5): child rekey, IKE rekey, collisions.
 */
import { NotifyType } from '../wire/constants.js';
import type { IkeMessage, Payload } from '../wire/types.js';
import { notifyPayload, type IkeSa } from '../ike-sa.js';

export function respondCreateChild(sa: IkeSa, _msg: IkeMessage, _now: number): Payload[] {
  sa.log('warn', 'peer requested CREATE_CHILD_SA, not supported yet: answering NO_ADDITIONAL_SAS');
  return [notifyPayload(NotifyType.NO_ADDITIONAL_SAS)];
}
