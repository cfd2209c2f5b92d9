/**
 * strongSwan-style proposal strings → transform sets (IANA ids).
 *
 * Format (docs.strongswan.org "Algorithm Proposals"): algorithm keywords separated by
 * dashes; several of one kind are allowed and listed in preference order; the order of
 * different kinds does not matter. "aes256gcm16-prfsha384-ecp384" is one proposal.
 * "default" alone stands for ikegw's default proposals (config/defaults.ts).
 *
 * Rules (modelled on strongSwan's proposal checks, written from its documentation):
 *  - AEAD and non-AEAD ciphers may not share a proposal (RFC 7296 §3.3: an AEAD proposal
 *    carries no integrity transform); use two proposals.
 *  - Non-AEAD (CBC) needs an integrity algorithm.
 *  - With AEAD, integrity keywords only serve to derive the PRF (IKE) and are dropped.
 *  - IKE needs a PRF: given by prf* keywords, else derived from the integrity algorithms
 *    (sha256 → prfsha256, …); AEAD with neither gets prfsha256 and a note for the log.
 *  - IKE needs a key exchange method. In ESP, key exchange methods mean PFS.
 *  - esn/noesn only in ESP (default noesn); prf* only in IKE.
 *
 * ChaCha20-Poly1305 has a fixed key: keyBits is 256 for information only, and the Key
 * Length attribute must not be sent for it (RFC 7634 §3; see {@link encrNeedsKeyLength}).
 */
import { ConfigError } from '../common/errors.js';
import { EncrId, IntegId, KeId, PrfId } from '../ike/wire/constants.js';
import { DEFAULTS } from './defaults.js';
import type { EspProposalConfig, IkeProposalConfig } from './types.js';

type Encr = { id: number; keyBits: number; aead: boolean };

const ENCR: Record<string, Encr> = {
  aes128: { id: EncrId.AES_CBC, keyBits: 128, aead: false },
  aes192: { id: EncrId.AES_CBC, keyBits: 192, aead: false },
  aes256: { id: EncrId.AES_CBC, keyBits: 256, aead: false },
  aes: { id: EncrId.AES_CBC, keyBits: 128, aead: false },
  aes128gcm16: { id: EncrId.AES_GCM_16, keyBits: 128, aead: true },
  aes192gcm16: { id: EncrId.AES_GCM_16, keyBits: 192, aead: true },
  aes256gcm16: { id: EncrId.AES_GCM_16, keyBits: 256, aead: true },
  aes128gcm: { id: EncrId.AES_GCM_16, keyBits: 128, aead: true },
  aes192gcm: { id: EncrId.AES_GCM_16, keyBits: 192, aead: true },
  aes256gcm: { id: EncrId.AES_GCM_16, keyBits: 256, aead: true },
  chacha20poly1305: { id: EncrId.CHACHA20_POLY1305, keyBits: 256, aead: true },
};

const INTEG: Record<string, number> = {
  sha1: IntegId.HMAC_SHA1_96,
  sha: IntegId.HMAC_SHA1_96,
  sha256: IntegId.HMAC_SHA2_256_128,
  sha2_256: IntegId.HMAC_SHA2_256_128,
  sha384: IntegId.HMAC_SHA2_384_192,
  sha2_384: IntegId.HMAC_SHA2_384_192,
  sha512: IntegId.HMAC_SHA2_512_256,
  sha2_512: IntegId.HMAC_SHA2_512_256,
};

const PRF: Record<string, number> = {
  prfsha1: PrfId.HMAC_SHA1,
  prfsha256: PrfId.HMAC_SHA2_256,
  prfsha384: PrfId.HMAC_SHA2_384,
  prfsha512: PrfId.HMAC_SHA2_512,
};

const KE: Record<string, number> = {
  modp2048: KeId.MODP_2048,
  modp3072: KeId.MODP_3072,
  modp4096: KeId.MODP_4096,
  ecp256: KeId.ECP_256,
  ecp384: KeId.ECP_384,
  ecp521: KeId.ECP_521,
  x25519: KeId.CURVE25519,
  curve25519: KeId.CURVE25519,
  x448: KeId.CURVE448,
  curve448: KeId.CURVE448,
};

const ESN: Record<string, boolean> = { esn: true, noesn: false };

/** PRF that matches an integrity algorithm (same hash). */
const INTEG_TO_PRF = new Map<number, number>([
  [IntegId.HMAC_SHA1_96, PrfId.HMAC_SHA1],
  [IntegId.HMAC_SHA2_256_128, PrfId.HMAC_SHA2_256],
  [IntegId.HMAC_SHA2_384_192, PrfId.HMAC_SHA2_384],
  [IntegId.HMAC_SHA2_512_256, PrfId.HMAC_SHA2_512],
]);

const AEAD_IDS = new Set<number>([EncrId.AES_GCM_8, EncrId.AES_GCM_12, EncrId.AES_GCM_16, EncrId.CHACHA20_POLY1305]);

export function isAeadEncr(id: number): boolean {
  return AEAD_IDS.has(id);
}

/** Whether the SA payload carries a Key Length attribute for this cipher (RFC 7296 §3.3.5). */
export function encrNeedsKeyLength(id: number): boolean {
  return id === EncrId.AES_CBC || id === EncrId.AES_GCM_8 || id === EncrId.AES_GCM_12 || id === EncrId.AES_GCM_16;
}

/** Valid keywords for IKE proposals, in documentation order. */
export const IKE_KEYWORDS: readonly string[] = [
  ...Object.keys(ENCR),
  ...Object.keys(INTEG),
  ...Object.keys(PRF),
  ...Object.keys(KE),
  'default',
];
/** Valid keywords for ESP proposals. */
export const ESP_KEYWORDS: readonly string[] = [
  ...Object.keys(ENCR),
  ...Object.keys(INTEG),
  ...Object.keys(KE),
  ...Object.keys(ESN),
  'default',
];

/** A parse result: the proposals (more than one only for "default") and log-worthy notes. */
export interface Parsed<T> {
  proposals: T[];
  notes: string[];
}

interface Collected {
  encr: Encr[];
  integ: number[];
  prf: number[];
  ke: number[];
  esn: boolean[];
}

function pushUnique<T>(list: T[], v: T, eq: (a: T, b: T) => boolean = (a, b) => a === b): void {
  if (!list.some((x) => eq(x, v))) list.push(v);
}

function collect(text: string, kind: 'IKE' | 'ESP'): Collected {
  const trimmed = text.trim();
  if (trimmed === '') throw new ConfigError(`empty ${kind} proposal`);
  const c: Collected = { encr: [], integ: [], prf: [], ke: [], esn: [] };
  const valid = kind === 'IKE' ? IKE_KEYWORDS : ESP_KEYWORDS;
  for (const raw of trimmed.split('-')) {
    const kw = raw.trim().toLowerCase();
    if (kw === '') throw new ConfigError(`empty algorithm in ${kind} proposal "${text}" (stray "-")`);
    if (kw === 'default') {
      throw new ConfigError(`"default" must stand alone, not inside ${kind} proposal "${text}"`);
    }
    const e = ENCR[kw];
    if (e) {
      pushUnique(c.encr, e, (a, b) => a.id === b.id && a.keyBits === b.keyBits);
      continue;
    }
    const i = INTEG[kw];
    if (i !== undefined) {
      pushUnique(c.integ, i);
      continue;
    }
    const p = PRF[kw];
    if (p !== undefined) {
      if (kind === 'ESP') {
        throw new ConfigError(`"${kw}" is a PRF, which only IKE proposals take (in ESP proposal "${text}")`);
      }
      pushUnique(c.prf, p);
      continue;
    }
    const k = KE[kw];
    if (k !== undefined) {
      pushUnique(c.ke, k);
      continue;
    }
    const s = ESN[kw];
    if (s !== undefined) {
      if (kind === 'IKE') {
        throw new ConfigError(`"${kw}" only applies to ESP proposals (in IKE proposal "${text}")`);
      }
      pushUnique(c.esn, s);
      continue;
    }
    throw new ConfigError(`unknown algorithm "${raw.trim()}" (valid: ${valid.join(', ')})`);
  }
  if (c.encr.length === 0) {
    throw new ConfigError(`${kind} proposal "${text}" has no encryption algorithm (e.g. aes256gcm16)`);
  }
  const aead = c.encr.filter((x) => x.aead).length;
  if (aead !== 0 && aead !== c.encr.length) {
    throw new ConfigError(
      `${kind} proposal "${text}" mixes AEAD and non-AEAD ciphers; put them in separate proposals`,
    );
  }
  if (aead === 0 && c.integ.length === 0) {
    throw new ConfigError(`${kind} proposal "${text}" uses a non-AEAD cipher and needs an integrity algorithm (e.g. sha256)`);
  }
  return c;
}

function encrOut(c: Collected): { id: number; keyBits: number }[] {
  return c.encr.map((e) => ({ id: e.id, keyBits: e.keyBits }));
}

/** One IKE proposal string → transform sets ("default" expands to the defaults). */
export function parseIkeProposal(text: string): Parsed<IkeProposalConfig> {
  if (text.trim().toLowerCase() === 'default') return parseIkeProposals(DEFAULTS.ikeProposals);
  const c = collect(text, 'IKE');
  const notes: string[] = [];
  const aead = c.encr[0]!.aead;
  let prf = c.prf;
  if (prf.length === 0) {
    prf = [];
    for (const i of c.integ) pushUnique(prf, INTEG_TO_PRF.get(i)!);
    if (prf.length === 0) {
      prf = [PrfId.HMAC_SHA2_256];
      notes.push(`IKE proposal "${text}" names no PRF; using prfsha256`);
    }
  }
  if (c.ke.length === 0) {
    throw new ConfigError(`IKE proposal "${text}" needs a key exchange method (e.g. x25519, ecp256, modp2048)`);
  }
  return { proposals: [{ encr: encrOut(c), integ: aead ? [] : c.integ, prf, ke: c.ke }], notes };
}

/** One ESP proposal string → transform sets ("default" expands to the defaults). */
export function parseEspProposal(text: string): Parsed<EspProposalConfig> {
  if (text.trim().toLowerCase() === 'default') return parseEspProposals(DEFAULTS.espProposals);
  const c = collect(text, 'ESP');
  const aead = c.encr[0]!.aead;
  const notes: string[] = [];
  if (aead && c.integ.length > 0) notes.push(`ESP proposal "${text}": integrity algorithms are ignored with AEAD`);
  return {
    proposals: [{ encr: encrOut(c), integ: aead ? [] : c.integ, ke: c.ke, esn: c.esn.length ? c.esn : [false] }],
    notes,
  };
}

function parseList<T>(list: readonly string[], one: (s: string) => Parsed<T>): Parsed<T> {
  const out: Parsed<T> = { proposals: [], notes: [] };
  for (const s of list) {
    const r = one(s);
    out.proposals.push(...r.proposals);
    out.notes.push(...r.notes);
  }
  return out;
}

export function parseIkeProposals(list: readonly string[]): Parsed<IkeProposalConfig> {
  return parseList(list, parseIkeProposal);
}
export function parseEspProposals(list: readonly string[]): Parsed<EspProposalConfig> {
  return parseList(list, parseEspProposal);
}

// ---- back to text (status output, logs) -----------------------------------------------

function encrName(e: { id: number; keyBits: number }): string {
  switch (e.id) {
    case EncrId.AES_CBC:
      return `aes${e.keyBits}`;
    case EncrId.AES_GCM_16:
      return `aes${e.keyBits}gcm16`;
    case EncrId.AES_GCM_12:
      return `aes${e.keyBits}gcm12`;
    case EncrId.AES_GCM_8:
      return `aes${e.keyBits}gcm8`;
    case EncrId.CHACHA20_POLY1305:
      return 'chacha20poly1305';
    default:
      return `encr${e.id}`;
  }
}
const firstKey = (table: Record<string, number>, v: number, fallback: string): string =>
  Object.keys(table).find((k) => table[k] === v) ?? fallback;

export function integName(id: number): string {
  return firstKey(INTEG, id, `integ${id}`);
}
export function prfName(id: number): string {
  return firstKey(PRF, id, `prf${id}`);
}
export function keName(id: number): string {
  return firstKey(KE, id, `ke${id}`);
}

/** Canonical keyword string, e.g. "aes256gcm16-prfsha256-x25519". */
export function formatIkeProposal(p: IkeProposalConfig): string {
  return [...p.encr.map(encrName), ...p.integ.map(integName), ...p.prf.map(prfName), ...p.ke.map(keName)].join('-');
}
/** Canonical keyword string, e.g. "aes256gcm16-x25519-esn". noesn alone is left implicit. */
export function formatEspProposal(p: EspProposalConfig): string {
  const esn = p.esn.length === 1 && p.esn[0] === false ? [] : p.esn.map((e) => (e ? 'esn' : 'noesn'));
  return [...p.encr.map(encrName), ...p.integ.map(integName), ...p.ke.map(keName), ...esn].join('-');
}
