/**
 * Config loading: YAML text → validated, defaulted, deep-frozen GatewayConfig.
 *
 * All problems are collected and reported together, one per line, as
 *   conf/x.yaml:14: connections.site-b.esp_proposals[0]: unknown algorithm "aes256gcm17" (valid: …)
 * Lines are 1-based and come from the YAML node of the key (or its nearest present parent).
 * Secrets: psk_file is read here (mode must be 0600 or stricter); PSKs never appear in
 * messages.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { type Document, LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { ConfigError } from '../common/errors.js';
import { type AddrRange, familyOf, isFullRange, parseAddress, parseRange, rangesOverlap } from '../net/prefix.js';
import { DEFAULTS, defaultTunnelName } from './defaults.js';
import { identityFromAddress } from './ids.js';
import { parseEspProposals, parseIkeProposals } from './proposals.js';
import {
  CONNECTION_NAME,
  IFNAME,
  type RawConnection,
  connectionSchema,
  topSchema,
  validKeysAt,
} from './schema.js';
import type {
  ConnectionConfig,
  EspProposalConfig,
  GatewayConfig,
  IkeProposalConfig,
  LifetimeConfig,
  TrafficSelectorConfig,
} from './types.js';

export type ConfigPath = readonly (string | number)[];

/** One problem found in a config file. */
export interface ConfigIssue {
  path: ConfigPath;
  /** dotted key, e.g. connections.site-b.esp_proposals[0] */
  key: string;
  line: number | undefined;
  message: string;
}

/** Thrown by the loader; `message` lists every issue, one per line. `file/line/key` are the first's. */
export class ConfigValidationError extends ConfigError {
  constructor(
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    const first = issues[0]!;
    const rest = issues.slice(1).map((i) => formatIssue(source, i));
    super([first.message, ...rest].join('\n'), source, first.line, first.key || undefined);
  }
}

export function formatIssue(source: string, i: ConfigIssue): string {
  return `${source}${i.line !== undefined ? `:${i.line}` : ''}: ${i.key ? `${i.key}: ` : ''}${i.message}`;
}

export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

export interface ParseOptions {
  /** directory that relative psk_file paths are resolved against; default: the source's directory */
  baseDir?: string;
}

/** Read and validate a config file. Throws ConfigError (ConfigValidationError) on any problem. */
export function loadConfigFile(path: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file: ${(e as Error).message}`, path);
  }
  return parseConfig(text, path, { baseDir: dirname(resolve(path)) });
}

/** Validate config text; `source` names it in messages (usually its path). */
export function parseConfig(text: string, source: string, opts: ParseOptions = {}): GatewayConfig {
  const baseDir = opts.baseDir ?? dirname(resolve(source));
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const lineOf = (path: ConfigPath): number | undefined => locate(doc, lineCounter, path);
  const add = (path: ConfigPath, message: string): void => {
    issues.push({ path, key: formatPath(path), line: lineOf(path), message });
  };
  const fail = (): never => {
    const sorted = issues
      .map((i, n) => ({ i, n }))
      .sort((a, b) => (a.i.line ?? 0) - (b.i.line ?? 0) || a.n - b.n)
      .map((x) => x.i);
    throw new ConfigValidationError(source, sorted);
  };

  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const line = e.linePos?.[0]?.line ?? (e.pos ? lineCounter.linePos(e.pos[0]).line : undefined);
      issues.push({ path: [], key: '', line, message: `YAML: ${e.message.split('\n')[0]}` });
    }
    fail();
  }
  const js: unknown = doc.toJS({ maxAliasCount: 100 });
  if (js === null || js === undefined) {
    add([], 'the config file is empty (expected at least a "connections" map)');
    fail();
  }

  // ---- top level shape
  const top = topSchema.safeParse(js);
  if (!top.success) {
    for (const iss of top.error.issues) {
      // each connection gets its own, more precise, pass below
      if (iss.path[0] === 'connections' && iss.path.length > 1) continue;
      addZodIssue(iss, [], add);
    }
  }
  const rawConns =
    js !== null && typeof js === 'object' && !Array.isArray(js) && isPlainObject((js as Record<string, unknown>).connections)
      ? ((js as Record<string, unknown>).connections as Record<string, unknown>)
      : {};
  if (top.success && Object.keys(rawConns).length === 0) add(['connections'], 'at least one connection is required');

  // ---- each connection
  const conns: { conn: ConnectionConfig; raw: RawConnection; path: ConfigPath }[] = [];
  for (const [name, raw] of Object.entries(rawConns)) {
    const base: ConfigPath = ['connections', name];
    if (!CONNECTION_NAME.test(name)) {
      add(base, `invalid connection name "${name}" (letters, digits, "-" and "_", at most 64, starting with a letter or digit)`);
    }
    const r = connectionSchema.safeParse(raw);
    if (r.success) {
      conns.push({ conn: buildConnection(name, r.data, base, baseDir, add, warnings), raw: r.data, path: base });
      continue;
    }
    for (const iss of r.error.issues) addZodIssue(iss, base, add);
    // Still run the cross-field checks on what is valid: drop the offending keys and retry,
    // keeping only findings that cannot be consequences of the dropped keys.
    const partial = salvage(raw, r.error.issues);
    if (partial) {
      const extra: ConfigIssue[] = [];
      const conn = buildConnection(
        name,
        partial.data,
        base,
        baseDir,
        (path, message) => {
          if (!partial.dropped.some((d) => dependsOn(path.slice(base.length), d))) {
            extra.push({ path, key: formatPath(path), line: lineOf(path), message });
          }
        },
        [],
      );
      issues.push(...extra);
      conns.push({ conn, raw: partial.data, path: base });
    }
  }

  // ---- across connections
  checkTunnelNames(conns, add);
  checkInnerOverlaps(conns, add);
  checkLanOverlaps(conns, add);
  // raw ESP (IP protocol 50) needs a raw socket, which only the native data plane has
  if (top.data?.dataplane?.backend === 'ts') {
    for (const { conn, raw, path } of conns) {
      if (raw.encap === 'auto') add([...path, 'encap'], `encap: auto (raw ESP without NAT) needs the native data plane; connection "${conn.name}" runs on dataplane.backend ts: use encap: always`);
    }
  }

  if (issues.length > 0) fail();
  const t = top.data!;
  const cfg: GatewayConfig = {
    log: { level: t.log?.level ?? DEFAULTS.log.level },
    control: { socket: t.control?.socket ?? DEFAULTS.control.socket },
    dataplane: { backend: t.dataplane?.backend ?? DEFAULTS.dataplane.backend, nice: t.dataplane?.nice ?? DEFAULTS.dataplane.nice },
    cookieThreshold: t.cookie_threshold ?? DEFAULTS.cookieThreshold,
    connections: conns.map((c) => c.conn),
    source,
    warnings,
  };
  return deepFreeze(cfg);
}

// ---------------------------------------------------------------------------------------

type Add = (path: ConfigPath, message: string) => void;

/**
 * Remove the keys zod complained about (the whole top-level key for array items) and
 * re-validate, a few rounds at most. Undefined if a required key had to go.
 */
function salvage(
  raw: unknown,
  issues: readonly { path: PropertyKey[]; code: string; keys?: string[] }[],
): { data: RawConnection; dropped: ConfigPath[] } | undefined {
  if (!isPlainObject(raw)) return undefined;
  let cur: Record<string, unknown> = structuredClone(raw);
  const dropped: ConfigPath[] = [];
  let pending = issues;
  for (let round = 0; round < 4; round++) {
    for (const iss of pending) {
      let path = iss.path.map((p) => (typeof p === 'number' ? p : String(p)));
      if (iss.code === 'unrecognized_keys' && iss.keys) {
        // extra keys change nothing else: drop them without recording a dependency
        for (const k of iss.keys) deletePath(cur, [...path, k]);
        continue;
      }
      const firstNum = path.findIndex((p) => typeof p === 'number');
      if (firstNum !== -1) path = path.slice(0, firstNum);
      if (path.length === 0) return undefined;
      deletePath(cur, path);
      dropped.push(path);
    }
    const r = connectionSchema.safeParse(cur);
    if (r.success) return { data: r.data, dropped };
    pending = r.error.issues;
    cur = structuredClone(cur);
  }
  return undefined;
}

function deletePath(obj: Record<string, unknown>, path: readonly (string | number)[]): void {
  let o: unknown = obj;
  for (let i = 0; i < path.length - 1; i++) {
    o = (o as Record<string | number, unknown> | undefined)?.[path[i]!];
    if (o === null || typeof o !== 'object') return;
  }
  delete (o as Record<string | number, unknown>)[path[path.length - 1]!];
}

/**
 * Could a finding at `path` (relative to the connection) be caused by dropping `dropped`?
 * Yes if it is at or below it, a sibling inside the same sub-object (ike_lifetime.*), or a
 * connection-level finding after a connection-level key (psk, local, remote) went.
 */
function dependsOn(path: ConfigPath, dropped: ConfigPath): boolean {
  const starts = (p: ConfigPath, pre: ConfigPath): boolean => pre.every((x, i) => p[i] === x);
  if (starts(path, dropped)) return true;
  if (dropped.length >= 2 && starts(path, dropped.slice(0, -1))) return true;
  if (dropped.length === 1 && path.length === 0) return true;
  if (dropped[0] === 'local' || dropped[0] === 'remote') return path[0] === 'local' || path[0] === 'remote';
  return false;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function addZodIssue(
  iss: { code: string; path: PropertyKey[]; message: string; keys?: string[] },
  base: ConfigPath,
  add: Add,
): void {
  const path = [...base, ...iss.path.map((p) => (typeof p === 'number' ? p : String(p)))];
  if (iss.code === 'unrecognized_keys' && iss.keys) {
    const valid = validKeysAt(path);
    for (const k of iss.keys) add([...path, k], `unknown key${valid ? ` (valid: ${valid.join(', ')})` : ''}`);
    return;
  }
  add(path, iss.message);
}

/** 1-based line of the YAML node at `path`, or of the closest parent that exists. */
function locate(doc: Document, lc: LineCounter, path: ConfigPath): number | undefined {
  let node: unknown = doc.contents;
  const lineAt = (n: unknown): number | undefined => {
    const r = (n as { range?: [number, number, number] } | null)?.range;
    return r ? lc.linePos(r[0]).line : undefined;
  };
  let line = lineAt(node);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) break;
      line = lineAt(pair.key) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) break;
      line = lineAt(item) ?? line;
      node = item;
    } else break;
  }
  return line;
}

const PSK_MODE_MASK = 0o077;

/** strongSwan secret syntax: "0x…" hex, "0s…" base64, else the UTF-8 text itself. */
function decodePsk(text: string): Uint8Array | string {
  if (/^0x/i.test(text)) {
    const h = text.slice(2);
    if (h.length === 0 || h.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(h)) return 'PSK starting with 0x must be hex digits';
    return Uint8Array.from(Buffer.from(h, 'hex'));
  }
  if (/^0s/.test(text)) {
    const b = text.slice(2);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b)) return 'PSK starting with 0s must be base64';
    return Uint8Array.from(Buffer.from(b, 'base64'));
  }
  return new TextEncoder().encode(text);
}

function readPsk(
  raw: RawConnection,
  base: ConfigPath,
  baseDir: string,
  add: Add,
  warnings: string[],
  name: string,
): Uint8Array | undefined {
  const hasInline = raw.psk !== undefined;
  const hasFile = raw.psk_file !== undefined;
  if (hasInline === hasFile) {
    add(base, hasInline ? 'give either psk or psk_file, not both' : 'a pre-shared key is required: set psk_file (preferred) or psk');
    return undefined;
  }
  let text: string;
  let where: ConfigPath;
  if (hasFile) {
    where = [...base, 'psk_file'];
    const file = isAbsolute(raw.psk_file!) ? raw.psk_file! : resolve(baseDir, raw.psk_file!);
    try {
      const st = statSync(file);
      if (!st.isFile()) {
        add(where, `${file} is not a regular file`);
        return undefined;
      }
      if ((st.mode & PSK_MODE_MASK) !== 0) {
        const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
        add(where, `${file} has mode ${mode}; a PSK file must be mode 0600 or stricter (chmod 600 ${file})`);
        return undefined;
      }
      text = readFileSync(file, 'utf8');
    } catch (e) {
      add(where, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return undefined;
    }
    text = text.replace(/\r?\n$/, '').trim();
  } else {
    where = [...base, 'psk'];
    text = raw.psk!;
  }
  const psk = decodePsk(text);
  if (typeof psk === 'string') {
    add(where, psk);
    return undefined;
  }
  if (psk.length < DEFAULTS.pskMinLen) {
    add(where, `PSK is too short (${psk.length} bytes; at least ${DEFAULTS.pskMinLen} required, ${DEFAULTS.pskWarnLen}+ random bytes recommended)`);
    return undefined;
  }
  if (psk.length < DEFAULTS.pskWarnLen) {
    warnings.push(`connection ${name}: PSK is only ${psk.length} bytes; use at least ${DEFAULTS.pskWarnLen} random bytes`);
  }
  if (hasInline) warnings.push(`connection ${name}: PSK is inline in the config file; prefer psk_file with mode 0600`);
  return psk;
}

function lifetimeOf(
  raw: RawConnection['ike_lifetime'],
  defRekeyMs: number,
  path: ConfigPath,
  add: Add,
): LifetimeConfig | undefined {
  const rekeyMs = raw?.rekey_time ?? defRekeyMs;
  const lifeMs = raw?.life_time ?? Math.round(rekeyMs * DEFAULTS.lifeFactor);
  let ok = true;
  if (rekeyMs <= 0) {
    add([...path, 'rekey_time'], 'rekey_time must be greater than 0');
    ok = false;
  }
  if (lifeMs <= rekeyMs) {
    add(
      [...path, raw?.life_time !== undefined ? 'life_time' : 'rekey_time'],
      `life_time (${fmtMs(lifeMs)}) must be greater than rekey_time (${fmtMs(rekeyMs)})`,
    );
    ok = false;
  }
  const out: LifetimeConfig = { rekeyMs, lifeMs, jitter: raw?.jitter ?? DEFAULTS.jitter };
  const pair = (rk: 'rekey_bytes' | 'rekey_packets', lk: 'life_bytes' | 'life_packets'): [number | undefined, number | undefined] => {
    let r = raw?.[rk];
    let l = raw?.[lk];
    if (r === 0) r = undefined;
    if (l === 0) l = undefined;
    if (r !== undefined && l === undefined) l = Math.floor(r * DEFAULTS.lifeFactor);
    if (r !== undefined && l !== undefined && l <= r) {
      add([...path, lk], `${lk} (${l}) must be greater than ${rk} (${r})`);
      ok = false;
    }
    return [r, l];
  };
  const [rb, lb] = pair('rekey_bytes', 'life_bytes');
  const [rp, lp] = pair('rekey_packets', 'life_packets');
  if (rb !== undefined) out.rekeyBytes = rb;
  if (lb !== undefined) out.lifeBytes = lb;
  if (rp !== undefined) out.rekeyPackets = rp;
  if (lp !== undefined) out.lifePackets = lp;
  return ok ? out : undefined;
}

function fmtMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function buildConnection(
  name: string,
  raw: RawConnection,
  base: ConfigPath,
  baseDir: string,
  add: Add,
  warnings: string[],
): ConnectionConfig {
  const localFam = familyOf(parseAddress(raw.local.address)!);
  const remoteFam = familyOf(parseAddress(raw.remote.address)!);
  if (localFam !== remoteFam) {
    add(
      [...base, 'remote', 'address'],
      `address family differs from local.address (${raw.local.address} is IPv${localFam}, ${raw.remote.address} is IPv${remoteFam})`,
    );
  }
  const psk = readPsk(raw, base, baseDir, add, warnings, name);

  const note = (list: string[]): void => {
    for (const n of list) warnings.push(`connection ${name}: ${n}`);
  };
  let ikeProposals: IkeProposalConfig[];
  if (raw.ike_proposals) {
    ikeProposals = raw.ike_proposals.flatMap((p) => p.proposals);
    note(raw.ike_proposals.flatMap((p) => p.notes));
  } else {
    const d = parseIkeProposals(DEFAULTS.ikeProposals);
    ikeProposals = d.proposals;
  }
  let espProposals: EspProposalConfig[];
  if (raw.esp_proposals) {
    espProposals = raw.esp_proposals.flatMap((p) => p.proposals);
    note(raw.esp_proposals.flatMap((p) => p.notes));
  } else {
    espProposals = parseEspProposals(DEFAULTS.espProposals).proposals;
  }

  const defTs = (list: readonly string[]): TrafficSelectorConfig[] =>
    list.map((t) => {
      const r = parseRange(t)!;
      return { family: r.family, startAddr: r.start, endAddr: r.end, ipProtocol: 0, startPort: 0, endPort: 65535, text: t };
    });
  const localTs = raw.local_ts ?? defTs(DEFAULTS.localTs);
  const remoteTs = raw.remote_ts ?? defTs(DEFAULTS.remoteTs);

  const retransmit = {
    timeoutMs: raw.retransmit?.timeout ?? DEFAULTS.retransmit.timeoutMs,
    base: raw.retransmit?.base ?? DEFAULTS.retransmit.base,
    tries: raw.retransmit?.tries ?? DEFAULTS.retransmit.tries,
  };
  if (retransmit.timeoutMs <= 0) add([...base, 'retransmit', 'timeout'], 'timeout must be greater than 0');

  const ike = lifetimeOf(raw.ike_lifetime, DEFAULTS.ikeRekeyMs, [...base, 'ike_lifetime'], add);
  const child = lifetimeOf(raw.child_lifetime, DEFAULTS.childRekeyMs, [...base, 'child_lifetime'], add);

  const tunnelName = raw.tunnel?.name ?? defaultTunnelName(name);
  if (tunnelName.length > DEFAULTS.maxIfNameLen) {
    if (raw.tunnel?.name !== undefined) {
      add([...base, 'tunnel', 'name'], `"${tunnelName}" is longer than ${DEFAULTS.maxIfNameLen} characters (Linux interface name limit)`);
    } else {
      add(
        base,
        `default tunnel name "${tunnelName}" is longer than ${DEFAULTS.maxIfNameLen} characters (Linux interface name limit); set tunnel.name`,
      );
    }
  } else if (
    (raw.tunnel?.name !== undefined || CONNECTION_NAME.test(name)) &&
    (!IFNAME.test(tunnelName) || tunnelName === '.' || tunnelName === '..')
  ) {
    add([...base, 'tunnel', 'name'], `"${tunnelName}" is not a valid interface name (letters, digits, "_", "-", ".")`);
  }
  const mtu = raw.tunnel?.mtu ?? DEFAULTS.tunnel.mtu;
  if (mtu < 1280 && [...localTs, ...remoteTs].some((t) => t.family === 6)) {
    warnings.push(`connection ${name}: tunnel mtu ${mtu} is below 1280, so IPv6 will not work over ${tunnelName}`);
  }

  // returned even when invalid, so cross-connection checks still see it; the loader only
  // produces a config when there are no issues at all
  const remoteId = raw.remote.id === undefined ? identityFromAddress(raw.remote.address) : raw.remote.id;
  return {
    name,
    local: {
      address: raw.local.address,
      port: raw.local.port ?? DEFAULTS.port,
      id: raw.local.id ?? identityFromAddress(raw.local.address),
    },
    remote: { address: raw.remote.address, port: raw.remote.port ?? DEFAULTS.port, id: remoteId },
    psk: psk ?? new Uint8Array(0),
    ikeProposals,
    espProposals,
    localTs,
    remoteTs,
    startAction: raw.start_action ?? DEFAULTS.startAction,
    encap: raw.encap ?? DEFAULTS.encap,
    retransmit,
    ike: ike ?? { rekeyMs: DEFAULTS.ikeRekeyMs, lifeMs: 0, jitter: 0 },
    child: child ?? { rekeyMs: DEFAULTS.childRekeyMs, lifeMs: 0, jitter: 0 },
    dpd: { delayMs: raw.dpd?.delay ?? DEFAULTS.dpd.delayMs, action: raw.dpd?.action ?? DEFAULTS.dpd.action },
    fragmentation: {
      enabled: raw.fragmentation?.enabled ?? DEFAULTS.fragmentation.enabled,
      maxSize: raw.fragmentation?.max_size ?? DEFAULTS.fragmentation.maxSize,
    },
    replayWindow: raw.replay_window ?? DEFAULTS.replayWindow,
    natKeepaliveMs: raw.nat_keepalive ?? DEFAULTS.natKeepaliveMs,
    tunnel: {
      name: tunnelName,
      mtu,
      addresses: raw.tunnel?.addresses ?? [],
      routes: raw.tunnel?.routes ?? [],
      mssClamp: raw.tunnel?.mss_clamp ?? DEFAULTS.tunnel.mssClamp,
    },
  };
}

type Built = { conn: ConnectionConfig; raw: RawConnection; path: ConfigPath };

function checkTunnelNames(conns: readonly Built[], add: Add): void {
  const seen = new Map<string, string>();
  for (const { conn, raw, path } of conns) {
    const other = seen.get(conn.tunnel.name);
    if (other !== undefined) {
      add(
        raw.tunnel?.name !== undefined ? [...path, 'tunnel', 'name'] : path,
        `tunnel name "${conn.tunnel.name}" is already used by connection "${other}"`,
      );
    } else seen.set(conn.tunnel.name, conn.name);
  }
}

type PrefixItem = { range: AddrRange; text: string; path: ConfigPath };
const tsRange = (t: { family: 4 | 6; startAddr: Uint8Array; endAddr: Uint8Array }): AddrRange => ({ family: t.family, start: t.startAddr, end: t.endAddr });

/** What a connection sends into its tunnel: its routes and remote_ts, minus the catch-alls. */
function remotePrefixes({ conn, raw, path }: Built): PrefixItem[] {
  return [
    ...conn.tunnel.routes.map((r, i) => ({ range: parseRange(r)!, text: r, path: [...path, 'tunnel', 'routes', i] })),
    // defaulted selectors have no node of their own; point at the connection
    ...conn.remoteTs.map((t, i) => ({ range: tsRange(t), text: t.text, path: raw.remote_ts ? [...path, 'remote_ts', i] : path })),
  ].filter((x) => !isFullRange(x.range));
}

/**
 * Inner prefixes (tunnel routes and remote_ts) of two connections must not overlap: the
 * SPD and the routing table could not tell which tunnel a packet belongs to. The catch-all
 * 0.0.0.0/0 and ::/0 are exempt (route-based setups pick the tunnel by route).
 */
function checkInnerOverlaps(conns: readonly Built[], add: Add): void {
  const all = conns.map(remotePrefixes);
  for (let j = 1; j < conns.length; j++) {
    for (let i = 0; i < j; i++) {
      const reported = new Set<string>();
      for (const b of all[j]!) {
        if (reported.has(b.text)) continue;
        const hits = all[i]!.filter((a) => rangesOverlap(a.range, b.range));
        if (hits.length === 0) continue;
        reported.add(b.text);
        const seen = new Set<string>();
        const list = hits
          .filter((a) => !seen.has(a.text) && seen.add(a.text))
          .map((a) => `${a.text} (${formatPath(a.path)})`)
          .join(', ');
        add(
          b.path,
          `inner prefix ${b.text} of connection "${conns[j]!.conn.name}" overlaps connection "${conns[i]!.conn.name}": ${list}`,
        );
      }
    }
  }
}

/**
 * The local LAN (every connection's non-catch-all local_ts) must not be reached through a
 * tunnel: a remote prefix (tunnel route or remote_ts) overlapping it would send this site's
 * own traffic into a tunnel, or accept packets from the peer claiming local addresses (the
 * clouds' "CIDR conflict" rule for VPC peering).
 */
function checkLanOverlaps(conns: readonly Built[], add: Add): void {
  for (const r of conns) {
    const reported = new Set<string>();
    for (const b of remotePrefixes(r)) {
      if (reported.has(b.text)) continue;
      for (const l of conns) {
        const hits = l.conn.localTs.filter((t) => !isFullRange(tsRange(t)) && rangesOverlap(tsRange(t), b.range));
        if (hits.length === 0) continue;
        reported.add(b.text);
        const where = l === r ? 'its own local_ts' : `local_ts of connection "${l.conn.name}"`;
        add(b.path, `remote prefix ${b.text} of connection "${r.conn.name}" overlaps the local network ${hits.map((t) => t.text).join(', ')} (${where})`);
        break;
      }
    }
  }
}

/** Object.freeze all the way down; typed arrays cannot be frozen and are left as they are. */
export function deepFreeze<T>(v: T): T {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || Object.isFrozen(v)) return v;
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  return Object.freeze(v);
}
