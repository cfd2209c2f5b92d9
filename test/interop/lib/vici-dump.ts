/**
 * Parser for the text dumps `swanctl ... --raw` and `swanctl ... --pretty` print (libvici's
 * vici_dump()). Both are a sequence of messages `<message name> { <entries> }`, where an entry is
 *
 *   key=value            raw   |  key = value            pretty (one per line)
 *   name {entries}       section
 *   key=[a b c]          raw list   |  key = [\n a\n b\n ]   pretty list
 *
 * e.g. `list-sa event {gw {uniqueid=1 version=2 state=ESTABLISHED child-sas {gw-1 {...}}}}`.
 *
 * Values are printed unquoted. In pretty mode a value ends at the end of the line (robust). In
 * raw mode a value ends at `}` or at a space followed by something that looks like the next key
 * (`[a-z0-9][a-z0-9_.-]*=` or `name {`), so values containing " lowercase-word=" (e.g. a DN
 * with `dc=`) are ambiguous there: prefer --pretty when ids may be DNs.
 */

export type ViciValue = string | string[] | ViciSection;
export interface ViciSection {
  [key: string]: ViciValue;
}
export interface ViciMessage {
  /** e.g. 'list-sa event', 'list-sas reply' */
  name: string;
  body: ViciSection;
}

const NEXT_KEY_RAW = /^ +[a-z0-9][a-z0-9_.-]*(=| ?\{)/;

class Cursor {
  pos = 0;
  /** pretty dumps open sections with '{' + newline; values then end at the end of the line */
  readonly pretty: boolean;
  constructor(readonly s: string) {
    this.pretty = /\{\n/.test(s);
  }
  peek(): string {
    return this.s[this.pos] ?? '';
  }
  eof(): boolean {
    return this.pos >= this.s.length;
  }
  skipWs(): void {
    while (!this.eof() && /\s/.test(this.peek())) this.pos++;
  }
  skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
  fail(msg: string): never {
    const ctx = this.s.slice(Math.max(0, this.pos - 40), this.pos + 40);
    throw new Error(`vici dump parse error at ${this.pos}: ${msg} near ${JSON.stringify(ctx)}`);
  }
}

/** Parse every message in a swanctl --raw / --pretty dump. Non-message text lines are ignored. */
export function parseViciDump(text: string): ViciMessage[] {
  const c = new Cursor(text);
  const out: ViciMessage[] = [];
  while (true) {
    c.skipWs();
    if (c.eof()) break;
    const lineEnd = text.indexOf('\n', c.pos);
    const brace = text.indexOf('{', c.pos);
    if (brace < 0) break;
    if (lineEnd >= 0 && lineEnd < brace) {
      // a line without a section opener (e.g. a warning printed by swanctl) - skip it
      c.pos = lineEnd + 1;
      continue;
    }
    const name = text.slice(c.pos, brace).trim();
    c.pos = brace + 1;
    out.push({ name, body: parseEntries(c) });
  }
  return out;
}

/** parse entries up to and including the closing '}' */
function parseEntries(c: Cursor): ViciSection {
  const sec: ViciSection = {};
  while (true) {
    c.skipWs();
    if (c.eof()) c.fail('unterminated section');
    if (c.peek() === '}') {
      c.pos++;
      return sec;
    }
    const start = c.pos;
    while (!c.eof() && !/[\s={}]/.test(c.peek())) c.pos++;
    const key = c.s.slice(start, c.pos);
    if (!key) c.fail('expected key');
    c.skipSpaces();
    if (c.peek() === '{') {
      c.pos++;
      sec[key] = parseEntries(c);
      continue;
    }
    if (c.peek() !== '=') c.fail(`expected '=' or '{' after '${key}'`);
    c.pos++;
    c.skipSpaces();
    if (c.peek() === '[') {
      c.pos++;
      sec[key] = parseList(c);
      continue;
    }
    sec[key] = parseValue(c);
  }
}

function parseList(c: Cursor): string[] {
  c.skipSpaces();
  // pretty: '[' ends the line and every item has a line of its own (items may contain spaces);
  // raw: items are separated by single spaces on one line
  const pretty = c.peek() === '\n';
  const items: string[] = [];
  while (true) {
    c.skipWs();
    if (c.eof()) c.fail('unterminated list');
    if (c.peek() === ']') {
      c.pos++;
      return items;
    }
    const start = c.pos;
    while (!c.eof() && c.peek() !== '\n' && c.peek() !== ']' && (pretty || c.peek() !== ' ')) c.pos++;
    items.push(c.s.slice(start, c.pos).trim());
  }
}

function parseValue(c: Cursor): string {
  const start = c.pos;
  const s = c.s;
  while (!c.eof()) {
    const ch = c.peek();
    if (ch === '\n') break;
    if (ch === '}' && !c.pretty) break;
    if (ch === ' ' && !c.pretty) {
      const rest = s.slice(c.pos, c.pos + 80);
      // raw mode: stop where the next key starts
      if (NEXT_KEY_RAW.test(rest) || /^ +\}/.test(rest)) break;
    }
    c.pos++;
  }
  return s.slice(start, c.pos).trim();
}

// ---------------------------------------------------------------------------------------------
// Typed view of list-sas
// ---------------------------------------------------------------------------------------------

export interface ParsedChildSa {
  /** key in the child-sas section, e.g. 'net-1' */
  key: string;
  name: string;
  uniqueid: number;
  reqid: number;
  /** INSTALLED, REKEYING, REKEYED, DELETING, ... */
  state: string;
  /** TUNNEL / TRANSPORT */
  mode: string;
  /** ESP / AH */
  protocol: string;
  /** UDP encapsulation in use */
  encap: boolean;
  /** hex, no 0x (as printed by swanctl) */
  spiIn: string;
  spiOut: string;
  encrAlg?: string;
  encrKeysize?: number;
  integAlg?: string;
  integKeysize?: number;
  dhGroup?: string;
  bytesIn: number;
  packetsIn: number;
  bytesOut: number;
  packetsOut: number;
  localTs: string[];
  remoteTs: string[];
  raw: ViciSection;
}

export interface ParsedSa {
  /** connection name */
  name: string;
  uniqueid: number;
  version: number;
  /** CONNECTING, ESTABLISHED, REKEYING, REKEYED, DELETING, ... */
  state: string;
  localHost: string;
  localPort: number;
  localId: string;
  remoteHost: string;
  remotePort: number;
  remoteId: string;
  initiator: boolean;
  /** IKE SPIs, 16 hex digits */
  spiI: string;
  spiR: string;
  /** local host is behind NAT (its NAT-D hash did not match) */
  natLocal: boolean;
  /** remote host is behind NAT - always true with kernel-libipsec (it fakes the hash) */
  natRemote: boolean;
  natFake: boolean;
  natAny: boolean;
  encrAlg?: string;
  encrKeysize?: number;
  integAlg?: string;
  integKeysize?: number;
  prfAlg?: string;
  dhGroup?: string;
  children: ParsedChildSa[];
  raw: ViciSection;
}

function str(s: ViciSection, k: string): string {
  const v = s[k];
  return typeof v === 'string' ? v : '';
}
function num(s: ViciSection, k: string): number {
  const v = s[k];
  return typeof v === 'string' && v !== '' ? Number(v) : NaN;
}
function optStr<T extends object>(o: T, field: keyof T & string, s: ViciSection, k: string): void {
  const v = s[k];
  if (typeof v === 'string') (o as Record<string, unknown>)[field] = v;
}
function optNum<T extends object>(o: T, field: keyof T & string, s: ViciSection, k: string): void {
  const v = s[k];
  if (typeof v === 'string' && v !== '') (o as Record<string, unknown>)[field] = Number(v);
}
function list(s: ViciSection, k: string): string[] {
  const v = s[k];
  return Array.isArray(v) ? v : typeof v === 'string' && v ? [v] : [];
}
function isSection(v: ViciValue | undefined): v is ViciSection {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function toChildSa(key: string, s: ViciSection): ParsedChildSa {
  const c: ParsedChildSa = {
    key,
    name: str(s, 'name') || key.replace(/-\d+$/, ''),
    uniqueid: num(s, 'uniqueid'),
    reqid: num(s, 'reqid'),
    state: str(s, 'state'),
    mode: str(s, 'mode'),
    protocol: str(s, 'protocol'),
    encap: str(s, 'encap') === 'yes',
    spiIn: str(s, 'spi-in'),
    spiOut: str(s, 'spi-out'),
    bytesIn: num(s, 'bytes-in'),
    packetsIn: num(s, 'packets-in'),
    bytesOut: num(s, 'bytes-out'),
    packetsOut: num(s, 'packets-out'),
    localTs: list(s, 'local-ts'),
    remoteTs: list(s, 'remote-ts'),
    raw: s,
  };
  optStr(c, 'encrAlg', s, 'encr-alg');
  optNum(c, 'encrKeysize', s, 'encr-keysize');
  optStr(c, 'integAlg', s, 'integ-alg');
  optNum(c, 'integKeysize', s, 'integ-keysize');
  optStr(c, 'dhGroup', s, 'dh-group');
  return c;
}

export function toSa(name: string, s: ViciSection): ParsedSa {
  const children: ParsedChildSa[] = [];
  const cs = s['child-sas'];
  if (isSection(cs)) for (const [k, v] of Object.entries(cs)) if (isSection(v)) children.push(toChildSa(k, v));
  const sa: ParsedSa = {
    name,
    uniqueid: num(s, 'uniqueid'),
    version: num(s, 'version'),
    state: str(s, 'state'),
    localHost: str(s, 'local-host'),
    localPort: num(s, 'local-port'),
    localId: str(s, 'local-id'),
    remoteHost: str(s, 'remote-host'),
    remotePort: num(s, 'remote-port'),
    remoteId: str(s, 'remote-id'),
    initiator: str(s, 'initiator') === 'yes',
    spiI: str(s, 'initiator-spi'),
    spiR: str(s, 'responder-spi'),
    natLocal: str(s, 'nat-local') === 'yes',
    natRemote: str(s, 'nat-remote') === 'yes',
    natFake: str(s, 'nat-fake') === 'yes',
    natAny: str(s, 'nat-any') === 'yes',
    children,
    raw: s,
  };
  optStr(sa, 'encrAlg', s, 'encr-alg');
  optNum(sa, 'encrKeysize', s, 'encr-keysize');
  optStr(sa, 'integAlg', s, 'integ-alg');
  optNum(sa, 'integKeysize', s, 'integ-keysize');
  optStr(sa, 'prfAlg', s, 'prf-alg');
  optStr(sa, 'dhGroup', s, 'dh-group');
  return sa;
}

/** Parse `swanctl --list-sas --raw|--pretty` output into typed IKE SAs. */
export function parseListSas(text: string): ParsedSa[] {
  const out: ParsedSa[] = [];
  for (const m of parseViciDump(text)) {
    if (m.name !== 'list-sa event') continue;
    for (const [name, v] of Object.entries(m.body)) if (isSection(v)) out.push(toSa(name, v));
  }
  return out;
}
