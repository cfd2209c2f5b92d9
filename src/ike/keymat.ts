/**
 * IKEv2 key derivation and PSK authentication octets. Pure: imports only common/ and crypto/.
 *
 *  - SKEYSEED and SK_* ............ RFC 7296 §2.14
 *  - IKE SA rekey SKEYSEED ........ RFC 7296 §2.18
 *  - CHILD_SA KEYMAT .............. RFC 7296 §2.17
 *  - PSK AUTH and signed octets ... RFC 7296 §2.15
 */
import { concat, utf8 } from '../common/bytes.js';
import { prfPlus } from '../crypto/prf-plus.js';
import type { IkeKeys, Prf } from '../crypto/types.js';

export interface DeriveIkeSaInput {
  prf: Prf;
  ni: Uint8Array;
  nr: Uint8Array;
  /** g^ir, the shared KE secret */
  gir: Uint8Array;
  /** 8-byte IKE SPIs as on the wire */
  spiI: Uint8Array;
  spiR: Uint8Array;
  /** SK_e length; for AEAD this includes the 4-byte salt (RFC 5282 §7.1) */
  encKeyLen: number;
  /** SK_a length; 0 for AEAD */
  integKeyLen: number;
}

export interface DerivedIkeSa {
  skeyseed: Uint8Array;
  keys: IkeKeys;
}

/**
 * RFC 7296 §2.14:
 *   SKEYSEED = prf(Ni | Nr, g^ir)
 *   {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
 *
 * "Ni and Nr are the nonces, stripped of any headers." SK_d, SK_pi and SK_pr are as long as
 * the PRF's preferred key size (its output length for HMAC).
 *
 * Key-length rule: "For PRFs based on the HMAC construction, the preferred key size is equal
 * to the length of the output of the underlying hash function"; only fixed-key-size PRFs
 * (AES-XCBC-PRF-128, AES-CMAC-PRF-128) take half of Ni and half of Nr as the key. ikegw
 * supports HMAC PRFs only, which accept any key length, so the key is Ni | Nr in full.
 */
export function deriveIkeSa(input: DeriveIkeSaInput): DerivedIkeSa {
  const { prf, ni, nr, gir } = input;
  const skeyseed = prf.compute(concat(ni, nr), gir);
  const keys = expandIkeKeys(prf, skeyseed, input);
  return { skeyseed, keys };
}

export interface DeriveRekeyedIkeSaInput {
  /** PRF negotiated for the NEW IKE SA: used for prf+ */
  prf: Prf;
  /** PRF of the OLD IKE SA: used for SKEYSEED */
  oldPrf: Prf;
  /** SK_d of the old IKE SA */
  oldSkD: Uint8Array;
  /** g^ir (new), from the KE payloads of the CREATE_CHILD_SA exchange */
  gir: Uint8Array;
  ni: Uint8Array;
  nr: Uint8Array;
  /** the new IKE SA's SPIs */
  spiI: Uint8Array;
  spiR: Uint8Array;
  encKeyLen: number;
  integKeyLen: number;
}

/**
 * RFC 7296 §2.18:
 *   SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
 * "where g^ir (new) is the shared secret from the ephemeral Diffie-Hellman exchange of this
 * CREATE_CHILD_SA exchange ... The old and new IKE SA may have selected a different PRF.
 * Because the rekeying exchange belongs to the old IKE SA, it is the old IKE SA's PRF that is
 * used to generate SKEYSEED." The SK_* are then derived as in §2.14 with the new PRF.
 */
export function deriveRekeyedIkeSa(input: DeriveRekeyedIkeSaInput): DerivedIkeSa {
  const { oldPrf, oldSkD, gir, ni, nr } = input;
  const skeyseed = oldPrf.compute(oldSkD, concat(gir, ni, nr));
  const keys = expandIkeKeys(input.prf, skeyseed, input);
  return { skeyseed, keys };
}

function expandIkeKeys(
  prf: Prf,
  skeyseed: Uint8Array,
  p: { ni: Uint8Array; nr: Uint8Array; spiI: Uint8Array; spiR: Uint8Array; encKeyLen: number; integKeyLen: number },
): IkeKeys {
  if (p.spiI.length !== 8 || p.spiR.length !== 8) throw new RangeError('IKE SPIs must be 8 bytes');
  const dLen = prf.outLen;
  const pLen = prf.outLen;
  const a = p.integKeyLen;
  const e = p.encKeyLen;
  const total = dLen + 2 * a + 2 * e + 2 * pLen;
  const km = prfPlus(prf, skeyseed, concat(p.ni, p.nr, p.spiI, p.spiR), total);
  let off = 0;
  const take = (n: number): Uint8Array => {
    const s = km.slice(off, off + n);
    off += n;
    return s;
  };
  const keys: IkeKeys = {
    skD: take(dLen),
    skAi: take(a),
    skAr: take(a),
    skEi: take(e),
    skEr: take(e),
    skPi: take(pLen),
    skPr: take(pLen),
  };
  km.fill(0);
  return keys;
}

export interface DeriveChildKeymatInput {
  prf: Prf;
  skD: Uint8Array;
  /** g^ir (new) when the CREATE_CHILD_SA exchange carried KE payloads (PFS) */
  gir?: Uint8Array | undefined;
  ni: Uint8Array;
  nr: Uint8Array;
  /** per-direction encryption key length; AEAD includes the 4-byte salt (RFC 4106 §8.1, RFC 7634 §4) */
  encKeyLen: number;
  /** per-direction integrity key length; 0 for AEAD */
  integKeyLen: number;
}

export interface ChildKeymat {
  /** initiator → responder */
  encI: Uint8Array;
  integI: Uint8Array;
  /** responder → initiator */
  encR: Uint8Array;
  integR: Uint8Array;
}

/**
 * RFC 7296 §2.17:
 *   KEYMAT = prf+(SK_d, Ni | Nr)                   (no PFS, and the IKE_AUTH child)
 *   KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr)      (CREATE_CHILD_SA with KE)
 * "All keys for SAs carrying data from the initiator to the responder are taken before SAs
 * going from the responder to the initiator ... encryption keys MUST be taken from the first
 * bits and the integrity keys MUST be taken from the remaining bits."
 */
export function deriveChildKeymat(input: DeriveChildKeymatInput): ChildKeymat {
  const { prf, skD, gir, ni, nr, encKeyLen: e, integKeyLen: a } = input;
  const seed = gir ? concat(gir, ni, nr) : concat(ni, nr);
  const km = prfPlus(prf, skD, seed, 2 * (e + a));
  const out: ChildKeymat = {
    encI: km.slice(0, e),
    integI: km.slice(e, e + a),
    encR: km.slice(e + a, 2 * e + a),
    integR: km.slice(2 * e + a, 2 * (e + a)),
  };
  km.fill(0);
  seed.fill(0);
  return out;
}

/** The fixed pad string of RFC 7296 §2.15 (17 ASCII octets, no terminator). */
export const KEY_PAD_IKEV2 = utf8('Key Pad for IKEv2');

/**
 * RestOfIDPayload (RFC 7296 §2.15): the ID payload body from the ID Type octet on, i.e.
 * ID Type | 3 reserved zero octets | Identification Data (§3.5).
 */
export function idPayloadBody(idType: number, data: Uint8Array): Uint8Array {
  const o = new Uint8Array(4 + data.length);
  o[0] = idType & 0xff;
  o.set(data, 4);
  return o;
}

export interface SignedOctetsInput {
  /** the whole first message this side sent (IKE_SA_INIT request or response), header included */
  message: Uint8Array;
  /** the PEER's nonce data (initiator signs Nr, responder signs Ni) */
  nonce: Uint8Array;
  prf: Prf;
  /** this side's SK_p (initiator SK_pi, responder SK_pr) */
  skP: Uint8Array;
  /** this side's ID payload body (see idPayloadBody) */
  idPayloadBody: Uint8Array;
}

/**
 * RFC 7296 §2.15:
 *   InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
 *   MACedIDForI = prf(SK_pi, RestOfInitIDPayload)
 * and symmetrically for the responder.
 */
export function signedOctets(input: SignedOctetsInput): Uint8Array {
  const maced = input.prf.compute(input.skP, input.idPayloadBody);
  return concat(input.message, input.nonce, maced);
}

/**
 * RFC 7296 §2.15:
 *   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <InitiatorSignedOctets>)
 */
export function pskAuth(input: { prf: Prf; psk: Uint8Array; signedOctets: Uint8Array }): Uint8Array {
  const k = input.prf.compute(input.psk, KEY_PAD_IKEV2);
  const auth = input.prf.compute(k, input.signedOctets);
  k.fill(0);
  return auth;
}
