/**
 * Zod schema of the YAML config file (snake_case keys, see conf/gateway.example.yaml).
 *
 * This layer checks shapes and converts leaves (durations → ms, percentages → fractions,
 * proposal strings → transform sets, identities, traffic selectors, addresses), so each
 * problem is reported at its own key. Cross-field and cross-connection rules, defaults,
 * secrets and freezing live in config/load.ts. Every object is strict: unknown keys are
 * errors (they are usually typos of optional keys, which would otherwise silently default).
 */
import { z } from 'zod';
import { ConfigError } from '../common/errors.js';
import { formatAddress, formatPrefix, hasHostBits, maskAddr, parseAddress, parsePrefix } from '../net/prefix.js';
import { parseTs } from '../net/traffic-selector.js';
import { parseIdentity, parseRemoteIdentity } from './ids.js';
import { type Parsed, parseEspProposal, parseIkeProposal } from './proposals.js';
import type { EspProposalConfig, IdentityConfig, IkeProposalConfig, TrafficSelectorConfig } from './types.js';

// ---- leaf parsers (throw ConfigError with a message; the loader adds file:line: key:) ---

const UNITS_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/**
 * Duration: a number of seconds (30, 0.5) or a string of unit parts in descending order:
 * "30s", "10m", "4h", "1h30m", "1d", "250ms", or "30" (seconds). Result in ms.
 */
export function parseDuration(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new ConfigError(`invalid duration ${v}: must be ≥ 0 seconds`);
    return Math.round(v * 1000);
  }
  if (typeof v !== 'string') throw new ConfigError('expected a duration like 30s, 10m, 4h, 1h30m or a number of seconds');
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(s);
  if (!m || s === '') {
    throw new ConfigError(`invalid duration "${v}" (expected e.g. 30s, 10m, 4h, 1h30m or a number of seconds)`);
  }
  const [, d, h, mi, se, ms] = m;
  return (
    Number(d ?? 0) * UNITS_MS.d! +
    Number(h ?? 0) * UNITS_MS.h! +
    Number(mi ?? 0) * UNITS_MS.m! +
    Number(se ?? 0) * UNITS_MS.s! +
    Number(ms ?? 0)
  );
}

/** Percentage "10%" (or the number 0) → fraction 0..<1. */
export function parsePercent(v: unknown): number {
  if (v === 0) return 0;
  if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(v.trim());
    if (m) {
      const p = Number(m[1]);
      if (p >= 100) throw new ConfigError(`invalid percentage "${v}": must be below 100%`);
      return p / 100;
    }
  }
  throw new ConfigError(`expected a percentage such as 10% (got ${JSON.stringify(v)})`);
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Byte count: integer, or "500M", "1G", "64k", "2GB" (binary multiples). */
export function parseByteCount(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new ConfigError(`invalid byte count ${v}: must be an integer ≥ 0`);
    return v;
  }
  if (typeof v === 'string') {
    const m = /^(\d+)\s*([kKmMgGtT]?)(?:i?[bB])?$/.exec(v.trim());
    if (m) {
      const n = Number(m[1]) * BYTE_UNITS[m[2]!.toLowerCase()]!;
      if (Number.isSafeInteger(n)) return n;
    }
  }
  throw new ConfigError(`expected a byte count such as 1000000, 500M or 4G (got ${JSON.stringify(v)})`);
}

/** IP literal → canonical text. */
export function parseIpLiteral(v: unknown): string {
  if (typeof v !== 'string') throw new ConfigError(`expected an IP address literal (got ${JSON.stringify(v)})`);
  const a = parseAddress(v.trim());
  if (!a) throw new ConfigError(`"${v}" is not an IPv4 or IPv6 address literal`);
  return formatAddress(a);
}

/** Interface address "169.254.10.1/31": host bits expected; canonical text. */
export function parseIfaceCidr(v: unknown): string {
  if (typeof v !== 'string' || !v.includes('/')) {
    throw new ConfigError(`expected an address with prefix length such as 169.254.10.1/31 (got ${JSON.stringify(v)})`);
  }
  const p = parsePrefix(v.trim());
  if (!p) throw new ConfigError(`"${v}" is not a valid address/prefix`);
  return formatPrefix(p);
}

/** Route prefix "10.1.0.0/16": no host bits; canonical text. A bare address is a /32 or /128. */
export function parseRouteCidr(v: unknown): string {
  if (typeof v !== 'string') throw new ConfigError(`expected a prefix such as 10.1.0.0/16 (got ${JSON.stringify(v)})`);
  const p = parsePrefix(v.trim());
  if (!p) throw new ConfigError(`"${v}" is not a valid prefix`);
  if (hasHostBits(p.addr, p.len)) {
    throw new ConfigError(`"${v}" has host bits set; did you mean ${formatPrefix({ ...p, addr: maskAddr(p.addr, p.len) })}?`);
  }
  return formatPrefix(p);
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ConfigError(`expected ${what} as a string (got ${JSON.stringify(v)})`);
  return v;
}

/** Wrap a throwing leaf parser as a zod schema; a ConfigError becomes an issue at that key. */
function leaf<T>(parse: (v: unknown) => T) {
  return z.unknown().transform((v, ctx): T => {
    try {
      if (v === undefined) throw new ConfigError('required key is missing');
      return parse(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
      return z.NEVER;
    }
  });
}

// ---- schemas -------------------------------------------------------------------------

const port = z.number().int().min(1).max(65535);
const duration = leaf(parseDuration);

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const endpoint = (remote: boolean) =>
  z.strictObject({
    /** IP literal of this gateway / the peer (outer address) */
    address: leaf(parseIpLiteral),
    port: port.optional(),
    id: leaf<IdentityConfig | null>((v) =>
      remote ? parseRemoteIdentity(str(v, 'an identity')) : parseIdentity(str(v, 'an identity')),
    ).optional(),
  });

const lifetime = z.strictObject({
  rekey_time: duration.optional(),
  life_time: duration.optional(),
  jitter: leaf(parsePercent).optional(),
  rekey_bytes: leaf(parseByteCount).optional(),
  life_bytes: leaf(parseByteCount).optional(),
  rekey_packets: leaf(parseByteCount).optional(),
  life_packets: leaf(parseByteCount).optional(),
});

const ikeProposal = leaf<Parsed<IkeProposalConfig>>((v) => parseIkeProposal(str(v, 'a proposal')));
const espProposal = leaf<Parsed<EspProposalConfig>>((v) => parseEspProposal(str(v, 'a proposal')));
const ts = leaf<TrafficSelectorConfig>((v) => parseTs(str(v, 'a traffic selector')));

export const connectionSchema = z.strictObject({
  local: endpoint(false),
  remote: endpoint(true),
  psk: z.string({ error: 'expected a string; quote the PSK (YAML reads 0x… and plain digits as numbers)' }).optional(),
  psk_file: z.string().min(1).optional(),
  ike_proposals: z.array(ikeProposal).min(1).optional(),
  esp_proposals: z.array(espProposal).min(1).optional(),
  local_ts: z.array(ts).min(1).optional(),
  remote_ts: z.array(ts).min(1).optional(),
  start_action: z.enum(['none', 'start', 'trap']).optional(),
  encap: z.enum(['always', 'auto']).optional(),
  retransmit: z
    .strictObject({
      timeout: duration.optional(),
      base: z.number().min(1).max(10).optional(),
      tries: z.number().int().min(0).max(20).optional(),
    })
    .optional(),
  ike_lifetime: lifetime.optional(),
  child_lifetime: lifetime.optional(),
  dpd: z
    .strictObject({
      delay: duration.optional(),
      action: z.enum(['clear', 'restart', 'none']).optional(),
    })
    .optional(),
  fragmentation: z
    .strictObject({
      enabled: z.boolean().optional(),
      max_size: z.number().int().min(576).max(65535).optional(),
    })
    .optional(),
  replay_window: z.number().int().min(0).max(65536).optional(),
  nat_keepalive: duration.optional(),
  tunnel: z
    .strictObject({
      name: z.string().optional(),
      mtu: z.number().int().min(576).max(65535).optional(),
      addresses: z.array(leaf(parseIfaceCidr)).optional(),
      routes: z.array(leaf(parseRouteCidr)).optional(),
      mss_clamp: z
        .union([z.literal('auto'), z.literal('off'), z.number().int().min(64).max(65495)], {
          error: 'expected "auto", "off" or a TCP MSS in bytes (64-65495)',
        })
        .optional(),
    })
    .optional(),
});
export type RawConnection = z.output<typeof connectionSchema>;

/** Top level; each connection is validated on its own with {@link connectionSchema}. */
export const topSchema = z.strictObject({
  log: z.strictObject({ level: z.enum(LOG_LEVELS).optional() }).optional(),
  control: z.strictObject({ socket: z.string().min(1).optional() }).optional(),
  dataplane: z.strictObject({ backend: z.enum(['native', 'ts']).optional(), nice: z.number().int().min(-20).max(19).optional() }).optional(),
  cookie_threshold: z.number().int().min(0).max(1_000_000).optional(),
  connections: z.record(z.string(), z.unknown()),
});
export type RawTop = z.output<typeof topSchema>;

/** Connection names become log fields and interface-name suffixes. */
export const CONNECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Linux interface names: ≤ 15 bytes, no '/', ':' or whitespace; not "." or "..". */
export const IFNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

/**
 * Keys allowed at a path of the raw file (for "unknown key" messages), or undefined.
 * Walks the zod schema; map keys under `connections` are connection names.
 */
export function validKeysAt(path: readonly (string | number)[]): string[] | undefined {
  let schema: unknown = topSchema;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    schema = unwrap(schema);
    if (i === 0 && seg === 'connections') {
      if (path.length === 1) return undefined;
      schema = connectionSchema;
      i++; // skip the connection name
      continue;
    }
    const def = defOf(schema);
    if (def?.type === 'object') schema = (def.shape as Record<string, unknown>)[String(seg)];
    else if (def?.type === 'array') schema = def.element;
    else return undefined;
    if (schema === undefined) return undefined;
  }
  const def = defOf(unwrap(schema));
  return def?.type === 'object' ? Object.keys(def.shape as Record<string, unknown>) : undefined;
}

type AnyDef = { type: string; shape?: unknown; element?: unknown; innerType?: unknown; in?: unknown };
function defOf(s: unknown): AnyDef | undefined {
  return (s as { _zod?: { def?: AnyDef } } | undefined)?._zod?.def;
}
function unwrap(s: unknown): unknown {
  let d = defOf(s);
  while (d && (d.type === 'optional' || d.type === 'default' || d.type === 'nullable' || d.type === 'pipe')) {
    s = d.type === 'pipe' ? d.in : d.innerType;
    d = defOf(s);
  }
  return s;
}
