/**
 * Proposal construction and selection (RFC 7296 §2.7, §3.3).
 *
 * The responder picks exactly one proposal and one transform of each type; we prefer our
 * own configured order (like strongSwan's prefer_configured_proposals). The initiator
 * checks the responder's choice is one of the things it offered.
 */
import { EncrId, IntegId, KeId, ProtocolId, TransformType, EsnId } from './wire/constants.js';
import type { Proposal, Transform } from './wire/types.js';
import type { EspProposalConfig, IkeProposalConfig } from '../config/types.js';

export interface IkeSuite {
  encr: { id: number; keyBits: number };
  integ: number | null;
  prf: number;
  ke: number;
}
export interface EspSuiteSel {
  encr: { id: number; keyBits: number };
  integ: number | null;
  ke: number | null; // PFS group
  esn: boolean;
}

export function isAead(encrId: number): boolean {
  return encrId === EncrId.AES_GCM_16 || encrId === EncrId.AES_GCM_12 || encrId === EncrId.AES_GCM_8 || encrId === EncrId.CHACHA20_POLY1305;
}

function encrTransform(e: { id: number; keyBits: number }): Transform {
  // ChaCha20-Poly1305 has a fixed key size and MUST NOT carry the Key Length attribute (RFC 7634 §2).
  return e.id === EncrId.CHACHA20_POLY1305 ? { type: TransformType.ENCR, id: e.id } : { type: TransformType.ENCR, id: e.id, keyLength: e.keyBits };
}

export function ikeProposalsToWire(cfgs: readonly IkeProposalConfig[], spi: Uint8Array = new Uint8Array(0)): Proposal[] {
  return cfgs.map((c, i) => ({
    num: i + 1,
    protocolId: ProtocolId.IKE,
    spi,
    transforms: [
      ...c.encr.map(encrTransform),
      ...c.prf.map((id) => ({ type: TransformType.PRF, id })),
      ...c.integ.map((id) => ({ type: TransformType.INTEG, id })),
      ...c.ke.map((id) => ({ type: TransformType.KE, id })),
    ],
  }));
}

/** ESP proposals; `withKe` false drops the KE transforms (first Child SA in IKE_AUTH, RFC 7296 §1.2). */
export function espProposalsToWire(cfgs: readonly EspProposalConfig[], spi: Uint8Array, withKe: boolean): Proposal[] {
  return cfgs.map((c, i) => ({
    num: i + 1,
    protocolId: ProtocolId.ESP,
    spi,
    transforms: [
      ...c.encr.map(encrTransform),
      ...c.integ.map((id) => ({ type: TransformType.INTEG, id })),
      ...(withKe ? c.ke.map((id) => ({ type: TransformType.KE, id })) : []),
      ...(c.esn.length ? c.esn : [false]).map((e) => ({ type: TransformType.ESN, id: e ? EsnId.ESN : EsnId.NO_ESN })),
    ],
  }));
}

function encrMatches(t: Transform, e: { id: number; keyBits: number }): boolean {
  if (t.type !== TransformType.ENCR || t.id !== e.id) return false;
  if (e.id === EncrId.CHACHA20_POLY1305) return t.keyLength === undefined || t.keyLength === 256;
  return t.keyLength === e.keyBits;
}
function has(p: Proposal, type: number, id: number): boolean {
  return p.transforms.some((t) => t.type === type && t.id === id);
}
function typesIn(p: Proposal, type: number): Transform[] {
  return p.transforms.filter((t) => t.type === type);
}

/** Responder: choose an IKE proposal. Returns the answer proposal (single transforms) and the suite. */
export function selectIke(peer: readonly Proposal[], ours: readonly IkeProposalConfig[]): { proposal: Proposal; suite: IkeSuite } | null {
  for (const c of ours) {
    for (const p of peer) {
      if (p.protocolId !== ProtocolId.IKE) continue;
      const encr = c.encr.find((e) => p.transforms.some((t) => encrMatches(t, e)));
      if (!encr) continue;
      const prf = c.prf.find((id) => has(p, TransformType.PRF, id));
      if (prf === undefined) continue;
      const ke = c.ke.find((id) => has(p, TransformType.KE, id));
      if (ke === undefined) continue;
      let integ: number | null = null;
      if (!isAead(encr.id)) {
        const i = c.integ.find((id) => has(p, TransformType.INTEG, id));
        if (i === undefined) continue;
        integ = i;
      } else if (typesIn(p, TransformType.INTEG).some((t) => t.id !== IntegId.NONE)) {
        // RFC 5282 §8: AEAD proposals carry no integrity transform (or NONE); ignore extras only if NONE offered
        if (!has(p, TransformType.INTEG, IntegId.NONE) && typesIn(p, TransformType.ENCR).every((t) => isAead(t.id))) continue;
      }
      const suite: IkeSuite = { encr, integ, prf, ke };
      return { proposal: ikeSuiteToProposal(suite, p.num, p.spi), suite };
    }
  }
  return null;
}

export function ikeSuiteToProposal(s: IkeSuite, num: number, spi: Uint8Array): Proposal {
  return {
    num,
    protocolId: ProtocolId.IKE,
    spi,
    transforms: [
      encrTransform(s.encr),
      { type: TransformType.PRF, id: s.prf },
      ...(s.integ !== null ? [{ type: TransformType.INTEG, id: s.integ }] : []),
      { type: TransformType.KE, id: s.ke },
    ],
  };
}

/** Initiator: parse the responder's single chosen IKE proposal and check we offered it. */
export function acceptIkeAnswer(answer: readonly Proposal[], ours: readonly IkeProposalConfig[]): IkeSuite | null {
  if (answer.length !== 1) return null;
  const p = answer[0]!;
  if (p.protocolId !== ProtocolId.IKE) return null;
  const e = typesIn(p, TransformType.ENCR), pr = typesIn(p, TransformType.PRF), k = typesIn(p, TransformType.KE), ig = typesIn(p, TransformType.INTEG);
  if (e.length !== 1 || pr.length !== 1 || k.length !== 1 || ig.length > 1) return null;
  const encrT = e[0]!;
  const encr = { id: encrT.id, keyBits: encrT.keyLength ?? (encrT.id === EncrId.CHACHA20_POLY1305 ? 256 : 0) };
  const integ = ig.length && ig[0]!.id !== IntegId.NONE ? ig[0]!.id : null;
  const suite: IkeSuite = { encr, integ, prf: pr[0]!.id, ke: k[0]!.id };
  const offered = ours.some(
    (c) =>
      c.encr.some((x) => x.id === encr.id && x.keyBits === encr.keyBits) &&
      c.prf.includes(suite.prf) &&
      c.ke.includes(suite.ke) &&
      (isAead(encr.id) ? integ === null : integ !== null && c.integ.includes(integ)),
  );
  return offered ? suite : null;
}

/**
 * Responder: choose an ESP proposal. `keRequired`: the exchange carries a KE payload of
 * this group (CREATE_CHILD_SA with PFS); null in IKE_AUTH (no KE there, §1.2: the KE
 * transforms are ignored for the first Child SA).
 */
export function selectEsp(
  peer: readonly Proposal[],
  ours: readonly EspProposalConfig[],
  ke: { inIkeAuth: boolean },
): { proposal: Proposal; suite: EspSuiteSel; peerSpi: Uint8Array } | null {
  for (const c of ours) {
    for (const p of peer) {
      if (p.protocolId !== ProtocolId.ESP || p.spi.length !== 4) continue;
      const encr = c.encr.find((e) => p.transforms.some((t) => encrMatches(t, e)));
      if (!encr) continue;
      let integ: number | null = null;
      if (!isAead(encr.id)) {
        const i = c.integ.find((id) => has(p, TransformType.INTEG, id));
        if (i === undefined) continue;
        integ = i;
      }
      const peerEsn = typesIn(p, TransformType.ESN).map((t) => t.id === EsnId.ESN);
      const ourEsn = c.esn.length ? c.esn : [false];
      const esn = ourEsn.find((e) => (peerEsn.length ? peerEsn.includes(e) : e === false));
      if (esn === undefined) continue;
      let keSel: number | null = null;
      if (!ke.inIkeAuth) {
        const peerKe = typesIn(p, TransformType.KE).map((t) => t.id).filter((id) => id !== KeId.NONE);
        if (c.ke.length) {
          const g = c.ke.find((id) => peerKe.includes(id));
          if (g === undefined) continue;
          keSel = g;
        } else if (peerKe.length && !has(p, TransformType.KE, KeId.NONE)) {
          continue; // peer insists on PFS, we have none configured
        }
      }
      const suite: EspSuiteSel = { encr, integ, ke: keSel, esn };
      return { proposal: espSuiteToProposal(suite, p.num, p.spi), suite, peerSpi: p.spi };
    }
  }
  return null;
}

export function espSuiteToProposal(s: EspSuiteSel, num: number, spi: Uint8Array): Proposal {
  return {
    num,
    protocolId: ProtocolId.ESP,
    spi,
    transforms: [
      encrTransform(s.encr),
      ...(s.integ !== null ? [{ type: TransformType.INTEG, id: s.integ }] : []),
      ...(s.ke !== null ? [{ type: TransformType.KE, id: s.ke }] : []),
      { type: TransformType.ESN, id: s.esn ? EsnId.ESN : EsnId.NO_ESN },
    ],
  };
}

/** Initiator: parse the responder's single chosen ESP proposal and check we offered it. */
export function acceptEspAnswer(
  answer: readonly Proposal[],
  ours: readonly EspProposalConfig[],
  inIkeAuth: boolean,
): { suite: EspSuiteSel; peerSpi: Uint8Array } | null {
  if (answer.length !== 1) return null;
  const p = answer[0]!;
  if (p.protocolId !== ProtocolId.ESP || p.spi.length !== 4) return null;
  const e = typesIn(p, TransformType.ENCR), ig = typesIn(p, TransformType.INTEG), k = typesIn(p, TransformType.KE), es = typesIn(p, TransformType.ESN);
  if (e.length !== 1 || ig.length > 1 || k.length > 1 || es.length > 1) return null;
  const encrT = e[0]!;
  const encr = { id: encrT.id, keyBits: encrT.keyLength ?? (encrT.id === EncrId.CHACHA20_POLY1305 ? 256 : 0) };
  const integ = ig.length && ig[0]!.id !== IntegId.NONE ? ig[0]!.id : null;
  const keId = k.length && k[0]!.id !== KeId.NONE ? k[0]!.id : null;
  const esn = es.length ? es[0]!.id === EsnId.ESN : false;
  const ok = ours.some(
    (c) =>
      c.encr.some((x) => x.id === encr.id && x.keyBits === encr.keyBits) &&
      (isAead(encr.id) ? integ === null : integ !== null && c.integ.includes(integ)) &&
      (c.esn.length ? c.esn : [false]).includes(esn) &&
      (inIkeAuth || keId === null ? keId === null || c.ke.includes(keId) : c.ke.includes(keId)),
  );
  if (!ok) return null;
  if (!inIkeAuth) {
    // with PFS configured the responder must have chosen a group we offered
    const wantPfs = ours.every((c) => c.ke.length > 0);
    if (wantPfs && keId === null) return null;
  }
  return { suite: { encr, integ, ke: inIkeAuth ? null : keId, esn }, peerSpi: p.spi };
}
