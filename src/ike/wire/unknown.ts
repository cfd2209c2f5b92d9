/**
 * Payloads kept raw, RFC 7296 §2.5 / §3.2.
 *
 * Any payload type this codec does not understand is kept as
 * `{ type: 'unknown', payloadType, critical, body }`. §2.5: "If the critical flag is set
 * and the payload type is unrecognized, the message MUST be rejected and the response to
 * the IKE request containing that payload MUST include a Notify payload
 * UNSUPPORTED_CRITICAL_PAYLOAD ... the Notification Data contains the one-octet payload
 * type" (rules.ts does that); non-critical unknown payloads are skipped.
 * CERT (§3.6), CERTREQ (§3.7) and EAP (§3.16) are recognised but kept as opaque bodies.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                        (body, opaque)                         ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { PayloadType } from './constants.js';
import type { Payload, PayloadOf } from './types.js';

export type UnknownPayload = Extract<Payload, { type: 'unknown' }>;
export type OpaquePayload = PayloadOf<typeof PayloadType.CERT | typeof PayloadType.CERTREQ | typeof PayloadType.EAP>;

export function encodingLength(p: { body: Uint8Array }): number {
  return p.body.length;
}
export function encode(p: { body: Uint8Array }): Uint8Array {
  return p.body.slice();
}
export function decodeUnknown(payloadType: number, critical: boolean, body: Uint8Array): UnknownPayload {
  return { type: 'unknown', payloadType, critical, body: body.slice() };
}
export function decodeOpaque(
  type: typeof PayloadType.CERT | typeof PayloadType.CERTREQ | typeof PayloadType.EAP,
  body: Uint8Array,
): OpaquePayload {
  return { type, body: body.slice() };
}
