/**
 * IP address, CIDR prefix and address-range helpers for traffic selectors, routes and
 * config validation. Addresses are network-order bytes: 4 octets (IPv4) or 16 (IPv6).
 *
 * Pure: no node:net (ike/ may import this file, and ike/ must not touch node:net).
 * Text forms: IPv4 dotted quad (RFC 791; leading zeros rejected, they read as octal
 * elsewhere), IPv6 per RFC 4291 §2.2 on input and RFC 5952 canonical form on output.
 */

export type Family = 4 | 6;

/** An inclusive address range [start, end]; both ends of the same family. */
export interface AddrRange {
  family: Family;
  start: Uint8Array;
  end: Uint8Array;
}

/** A CIDR prefix as written: `addr` may have host bits set (see {@link prefixRange}). */
export interface Prefix {
  family: Family;
  addr: Uint8Array;
  len: number;
}

const V4_PART = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parse a dotted-quad IPv4 address; null if malformed. */
export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!V4_PART.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

/** Parse an IPv6 address (RFC 4291 §2.2, incl. `::` and a trailing dotted quad); no zone ids. */
export function parseIpv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45) return null;
  const dbl = text.indexOf('::');
  if (dbl !== -1 && text.indexOf('::', dbl + 1) !== -1) return null;
  const splitGroups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  let head: string[];
  let tail: string[];
  if (dbl === -1) {
    head = splitGroups(text);
    tail = [];
  } else {
    head = splitGroups(text.slice(0, dbl));
    tail = splitGroups(text.slice(dbl + 2));
  }
  const words: number[] = [];
  const tailWords: number[] = [];
  const parseGroups = (groups: string[], into: number[], last: boolean): boolean => {
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (last && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (!v4) return false;
        into.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!HEX_GROUP.test(g)) return false;
      into.push(parseInt(g, 16));
    }
    return true;
  };
  if (dbl === -1) {
    if (!parseGroups(head, words, true)) return null;
    if (words.length !== 8) return null;
  } else {
    if (!parseGroups(head, words, false)) return null;
    if (!parseGroups(tail, tailWords, true)) return null;
    // "::" stands for at least one zero group
    if (words.length + tailWords.length > 7) return null;
    while (words.length + tailWords.length < 8) words.push(0);
    words.push(...tailWords);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

/** Parse an IPv4 or IPv6 literal to 4 or 16 bytes; null if it is neither. */
export function parseAddress(text: string): Uint8Array | null {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

/** 4 or 6 for an address literal, 0 otherwise (same contract as node:net isIP). */
export function ipVersionOf(text: string): 0 | Family {
  const a = parseAddress(text);
  return a ? familyOf(a) : 0;
}

export function familyOf(addr: Uint8Array): Family {
  if (addr.length === 4) return 4;
  if (addr.length === 16) return 6;
  throw new RangeError(`address must be 4 or 16 bytes, got ${addr.length}`);
}

export function addrLen(family: Family): 4 | 16 {
  return family === 4 ? 4 : 16;
}

/** Text form: dotted quad, or RFC 5952 canonical IPv6 (lowercase, longest zero run compressed). */
export function formatAddress(addr: Uint8Array): string {
  if (familyOf(addr) === 4) return `${addr[0]}.${addr[1]}.${addr[2]}.${addr[3]}`;
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((addr[2 * i]! << 8) | addr[2 * i + 1]!);
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${addr[12]}.${addr[13]}.${addr[14]}.${addr[15]}`;
  }
  // RFC 5952 §4.2: compress the longest run (≥ 2) of zero groups, the first one on a tie
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((x) => x.toString(16)).join(':');
  if (bestAt === -1) return hex(w);
  return `${hex(w.slice(0, bestAt))}::${hex(w.slice(bestAt + bestLen))}`;
}

/** Lexicographic (= numeric) comparison of two same-family addresses: -1, 0 or 1. */
export function compareAddr(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return 0;
}

export function addrEquals(a: Uint8Array, b: Uint8Array): boolean {
  return compareAddr(a, b) === 0;
}

export function minAddr(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareAddr(a, b) <= 0 ? a : b;
}
export function maxAddr(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareAddr(a, b) >= 0 ? a : b;
}

/** Address as an unsigned integer (for arithmetic in tests and tools). */
export function addrToBigInt(addr: Uint8Array): bigint {
  let v = 0n;
  for (const b of addr) v = (v << 8n) | BigInt(b);
  return v;
}

export function bigIntToAddr(v: bigint, family: Family): Uint8Array {
  const n = addrLen(family);
  if (v < 0n || v >> BigInt(8 * n) !== 0n) throw new RangeError('address value out of range');
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Network address: `addr` with all bits after `len` cleared (a copy). */
export function maskAddr(addr: Uint8Array, len: number): Uint8Array {
  const out = Uint8Array.from(addr);
  for (let i = 0; i < out.length; i++) {
    const bits = Math.max(0, Math.min(8, len - 8 * i));
    out[i] = out[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/** Last address of the prefix: `addr` with all bits after `len` set (a copy). */
export function lastAddr(addr: Uint8Array, len: number): Uint8Array {
  const out = Uint8Array.from(addr);
  for (let i = 0; i < out.length; i++) {
    const bits = Math.max(0, Math.min(8, len - 8 * i));
    out[i] = out[i]! | (0xff >> bits);
  }
  return out;
}

/** The range a prefix covers; host bits of `addr` are ignored. */
export function prefixRange(addr: Uint8Array, len: number): AddrRange {
  const family = familyOf(addr);
  if (!Number.isInteger(len) || len < 0 || len > addr.length * 8) {
    throw new RangeError(`prefix length ${len} out of range for IPv${family}`);
  }
  return { family, start: maskAddr(addr, len), end: lastAddr(addr, len) };
}

/** True if `addr` has bits set after `len` (e.g. 10.0.0.1/24). */
export function hasHostBits(addr: Uint8Array, len: number): boolean {
  return !addrEquals(addr, maskAddr(addr, len));
}

/**
 * Parse "addr/len" (len optional: a bare address is a /32 or /128). The address is kept
 * as written (host bits allowed; interface addresses such as 169.254.10.1/31 need them).
 */
export function parsePrefix(text: string): Prefix | null {
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const addr = parseAddress(addrText);
  if (!addr) return null;
  const family = familyOf(addr);
  const max = addr.length * 8;
  let len = max;
  if (slash !== -1) {
    const lt = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(lt)) return null;
    len = Number(lt);
    if (len > max) return null;
  }
  return { family, addr, len };
}

/** "addr/len" with the address as given. */
export function formatPrefix(p: Prefix): string {
  return `${formatAddress(p.addr)}/${p.len}`;
}

/**
 * Parse "a.b.c.d/len", "start-end" or a single address to an inclusive range.
 * Null if malformed, if the families differ, or if start > end.
 */
export function parseRange(text: string): AddrRange | null {
  const dash = text.indexOf('-');
  if (dash !== -1) {
    const s = parseAddress(text.slice(0, dash).trim());
    const e = parseAddress(text.slice(dash + 1).trim());
    if (!s || !e || s.length !== e.length) return null;
    if (compareAddr(s, e) > 0) return null;
    return { family: familyOf(s), start: s, end: e };
  }
  const p = parsePrefix(text);
  return p ? prefixRange(p.addr, p.len) : null;
}

/** Prefix length if [start,end] is exactly one CIDR block, else null. */
export function rangeToPrefixLen(start: Uint8Array, end: Uint8Array): number | null {
  if (start.length !== end.length) return null;
  let len = 0;
  let i = 0;
  // common leading bits
  for (; i < start.length; i++) {
    const x = start[i]! ^ end[i]!;
    if (x === 0) {
      len += 8;
      continue;
    }
    len += Math.clz32(x) - 24;
    break;
  }
  if (len === start.length * 8) return len;
  return addrEquals(start, maskAddr(start, len)) && addrEquals(end, lastAddr(start, len)) ? len : null;
}

/** "10.0.0.0/24" if the range is a CIDR block, else "10.0.0.1-10.0.0.9". */
export function formatRange(r: { start: Uint8Array; end: Uint8Array }): string {
  const len = rangeToPrefixLen(r.start, r.end);
  if (len !== null) return `${formatAddress(r.start)}/${len}`;
  return `${formatAddress(r.start)}-${formatAddress(r.end)}`;
}

export function rangeContains(r: AddrRange, addr: Uint8Array): boolean {
  return (
    addr.length === r.start.length && compareAddr(r.start, addr) <= 0 && compareAddr(addr, r.end) <= 0
  );
}

/** a ⊆ b */
export function rangeIsSubset(a: AddrRange, b: AddrRange): boolean {
  return a.family === b.family && compareAddr(b.start, a.start) <= 0 && compareAddr(a.end, b.end) <= 0;
}

export function rangesOverlap(a: AddrRange, b: AddrRange): boolean {
  return a.family === b.family && compareAddr(a.start, b.end) <= 0 && compareAddr(b.start, a.end) <= 0;
}

/** Intersection of two ranges, or null if disjoint (or of different families). */
export function rangeIntersect(a: AddrRange, b: AddrRange): AddrRange | null {
  if (!rangesOverlap(a, b)) return null;
  return { family: a.family, start: maxAddr(a.start, b.start), end: minAddr(a.end, b.end) };
}

/** The whole address space of a family (0.0.0.0/0 or ::/0)? */
export function isFullRange(r: { start: Uint8Array; end: Uint8Array }): boolean {
  return r.start.every((b) => b === 0) && r.end.every((b) => b === 0xff);
}

/**
 * Do two prefixes (or ranges, or their text forms) overlap? Text that does not parse
 * makes this throw, since the caller has validated it already.
 */
export function prefixesOverlap(a: string | Prefix | AddrRange, b: string | Prefix | AddrRange): boolean {
  return rangesOverlap(toRange(a), toRange(b));
}

/** Is `addr` (bytes or text) inside the prefix/range? */
export function prefixContains(p: string | Prefix | AddrRange, addr: Uint8Array | string): boolean {
  const a = typeof addr === 'string' ? parseAddress(addr) : addr;
  return a !== null && rangeContains(toRange(p), a);
}

function toRange(x: string | Prefix | AddrRange): AddrRange {
  if (typeof x === 'string') {
    const r = parseRange(x);
    if (!r) throw new RangeError(`not an address, prefix or range: "${x}"`);
    return r;
  }
  return 'len' in x ? prefixRange(x.addr, x.len) : x;
}
