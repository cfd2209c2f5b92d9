/**
 * Traffic selectors (RFC 7296 §2.9, §3.13.1): an IP protocol, a port range and an address
 * range. Pure helpers for narrowing, matching and conversion to and from the wire struct.
 *
 * Conventions:
 *  - ipProtocol 0 means "any protocol" (§3.13.1).
 *  - ports are an inclusive range; 0..65535 is "any port". startPort 65535 / endPort 0 is
 *    OPAQUE (RFC 4301 §4.4.1.1: the ports cannot be known, e.g. non-initial fragments).
 *    ANY covers OPAQUE; OPAQUE covers no concrete port.
 *  - ICMP type/code packed into the port fields (RFC 4301 §4.4.1.3) are treated as
 *    ordinary 16-bit port ranges here.
 */
import { ConfigError } from '../common/errors.js';
/**
 * The TSi/TSr substructure as the IKE codec models it (RFC 7296 §3.13.1); declared here
 * structurally so that net/ does not depend on ike/ (ike/wire/types.ts has the same shape).
 */
export interface TrafficSelectorWire {
  tsType: number;
  ipProtocol: number;
  startPort: number;
  endPort: number;
  startAddr: Uint8Array;
  endAddr: Uint8Array;
}
import {
  type AddrRange,
  type Family,
  addrEquals,
  compareAddr,
  familyOf,
  formatRange,
  maxAddr,
  minAddr,
  parseRange,
} from './prefix.js';

/** Same fields as TrafficSelectorConfig minus its `text`. */
export interface TrafficSelector {
  family: Family;
  ipProtocol: number;
  startPort: number;
  endPort: number;
  startAddr: Uint8Array;
  endAddr: Uint8Array;
}
export type TS = TrafficSelector;
/** A selector with its config text; structurally the same as config/types TrafficSelectorConfig. */
export interface NamedTrafficSelector extends TrafficSelector {
  text: string;
}

/** RFC 7296 §3.13.1 TS Type */
export const TS_IPV4_ADDR_RANGE = 7;
export const TS_IPV6_ADDR_RANGE = 8;

const PROTO_NAMES: Record<string, number> = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  'ipv6-icmp': 58,
  sctp: 132,
};
const PROTO_BY_NUMBER = new Map<number, string>([
  [1, 'icmp'],
  [6, 'tcp'],
  [17, 'udp'],
  [47, 'gre'],
  [50, 'esp'],
  [51, 'ah'],
  [58, 'icmpv6'],
  [132, 'sctp'],
]);

export function isAnyPort(ts: { startPort: number; endPort: number }): boolean {
  return ts.startPort === 0 && ts.endPort === 65535;
}
export function isOpaquePort(ts: { startPort: number; endPort: number }): boolean {
  return ts.startPort === 65535 && ts.endPort === 0;
}

/** The whole address space of a family, any protocol, any port. */
export function anyTs(family: Family): TS {
  const n = family === 4 ? 4 : 16;
  return {
    family,
    ipProtocol: 0,
    startPort: 0,
    endPort: 65535,
    startAddr: new Uint8Array(n),
    endAddr: new Uint8Array(n).fill(0xff),
  };
}

/** A TS for an address range (any protocol and port unless given). */
export function tsFromRange(r: AddrRange, ipProtocol = 0, startPort = 0, endPort = 65535): TS {
  return { family: r.family, ipProtocol, startPort, endPort, startAddr: r.start, endAddr: r.end };
}

export function tsEquals(a: TS, b: TS): boolean {
  return (
    a.family === b.family &&
    a.ipProtocol === b.ipProtocol &&
    a.startPort === b.startPort &&
    a.endPort === b.endPort &&
    addrEquals(a.startAddr, b.startAddr) &&
    addrEquals(a.endAddr, b.endAddr)
  );
}

function portsIntersect(a: TS, b: TS): [number, number] | null {
  const ao = isOpaquePort(a);
  const bo = isOpaquePort(b);
  if (ao || bo) {
    // OPAQUE ∩ ANY = OPAQUE; OPAQUE ∩ OPAQUE = OPAQUE; OPAQUE ∩ a concrete range = ∅
    if ((ao && (bo || isAnyPort(b))) || (bo && isAnyPort(a))) return [65535, 0];
    return null;
  }
  const lo = Math.max(a.startPort, b.startPort);
  const hi = Math.min(a.endPort, b.endPort);
  return lo <= hi ? [lo, hi] : null;
}

/**
 * Intersection of two selectors, or null if it is empty (different families, protocols,
 * disjoint ports or addresses). Protocol 0 (any) yields the other side's protocol.
 */
export function intersect(a: TS, b: TS): TS | null {
  if (a.family !== b.family) return null;
  let proto: number;
  if (a.ipProtocol === 0) proto = b.ipProtocol;
  else if (b.ipProtocol === 0 || b.ipProtocol === a.ipProtocol) proto = a.ipProtocol;
  else return null;
  const ports = portsIntersect(a, b);
  if (!ports) return null;
  const start = maxAddr(a.startAddr, b.startAddr);
  const end = minAddr(a.endAddr, b.endAddr);
  if (compareAddr(start, end) > 0) return null;
  return {
    family: a.family,
    ipProtocol: proto,
    startPort: ports[0],
    endPort: ports[1],
    startAddr: Uint8Array.from(start),
    endAddr: Uint8Array.from(end),
  };
}

/** a ⊆ b: every packet a matches, b matches too. */
export function isSubset(a: TS, b: TS): boolean {
  if (a.family !== b.family) return false;
  if (b.ipProtocol !== 0 && a.ipProtocol !== b.ipProtocol) return false;
  if (isOpaquePort(a)) {
    if (!isOpaquePort(b) && !isAnyPort(b)) return false;
  } else if (isOpaquePort(b)) {
    return false;
  } else if (a.startPort < b.startPort || a.endPort > b.endPort) {
    return false;
  }
  return compareAddr(b.startAddr, a.startAddr) <= 0 && compareAddr(a.endAddr, b.endAddr) <= 0;
}

/**
 * Does the selector match a packet? `port` undefined means the port is unknown (not a
 * port-carrying protocol, or a non-initial fragment): only ANY and OPAQUE ranges match then.
 */
export function contains(ts: TS, addr: Uint8Array, proto: number, port?: number): boolean {
  if (addr.length !== ts.startAddr.length) return false;
  if (ts.ipProtocol !== 0 && ts.ipProtocol !== proto) return false;
  if (port === undefined) {
    if (!isAnyPort(ts) && !isOpaquePort(ts)) return false;
  } else if (port < ts.startPort || port > ts.endPort) {
    return false;
  }
  return compareAddr(ts.startAddr, addr) <= 0 && compareAddr(addr, ts.endAddr) <= 0;
}

/** Drop exact duplicates and selectors contained in another one; keeps the first of equals. */
export function removeRedundant(list: readonly TS[]): TS[] {
  const out: TS[] = [];
  for (let i = 0; i < list.length; i++) {
    const t = list[i]!;
    let redundant = false;
    for (let j = 0; j < list.length && !redundant; j++) {
      if (i === j) continue;
      const o = list[j]!;
      if (isSubset(t, o) && (!isSubset(o, t) || j < i)) redundant = true;
    }
    if (!redundant) out.push(t);
  }
  return out;
}

/**
 * Responder narrowing (RFC 7296 §2.9): every proposed selector intersected with every
 * configured one, empties dropped, then duplicates and selectors covered by another
 * result removed (as strongSwan's child_cfg does). Order: proposed-major, then configured.
 * The first proposed TS may be the triggering packet's selector (§2.9); it needs no special
 * case: it is either covered by a broader result or kept as is.
 * An empty result means TS_UNACCEPTABLE.
 */
export function narrow(proposed: readonly TS[], configured: readonly TS[]): TS[] {
  const all: TS[] = [];
  for (const p of proposed) {
    for (const c of configured) {
      const i = intersect(p, c);
      if (i) all.push(i);
    }
  }
  return removeRedundant(all);
}

/** Is every selector of `inner` contained in some selector of `outer`? */
export function allCovered(inner: readonly TS[], outer: readonly TS[]): boolean {
  return inner.every((t) => outer.some((o) => isSubset(t, o)));
}

export function protoName(proto: number): string {
  return PROTO_BY_NUMBER.get(proto) ?? String(proto);
}

/**
 * Text form, strongSwan style: "10.0.0.0/24", "10.0.0.1-10.0.0.9", "0.0.0.0/0[udp/53]",
 * "10.0.0.0/8[tcp]", "10.0.0.0/8[udp/1000-2000]", "10.0.0.0/8[any/53]", "...[udp/OPAQUE]".
 */
export function tsToString(ts: TS): string {
  const addr = formatRange({ start: ts.startAddr, end: ts.endAddr });
  if (ts.ipProtocol === 0 && isAnyPort(ts)) return addr;
  const proto = ts.ipProtocol === 0 ? 'any' : protoName(ts.ipProtocol);
  let ports = '';
  if (isOpaquePort(ts)) ports = '/OPAQUE';
  else if (!isAnyPort(ts)) {
    ports = ts.startPort === ts.endPort ? `/${ts.startPort}` : `/${ts.startPort}-${ts.endPort}`;
  }
  return `${addr}[${proto}${ports}]`;
}

function parsePort(s: string): number | null {
  if (!/^[0-9]{1,5}$/.test(s)) return null;
  const v = Number(s);
  return v <= 65535 ? v : null;
}

/**
 * Parse the config text form of a selector (see {@link tsToString}): an address range
 * (CIDR, "a-b" or a single address) optionally followed by "[proto]" or "[proto/ports]",
 * proto a name (tcp, udp, icmp, …), a number or "any"; ports a number, "lo-hi", "%any"
 * or "OPAQUE". Host bits in a CIDR are cleared (10.1.2.3/16 → 10.1.0.0/16).
 * Throws ConfigError (without file/line; the loader adds them).
 */
export function parseTs(text: string): NamedTrafficSelector {
  const t = text.trim();
  const m = /^([^[\]]+?)(?:\[([^[\]/]*)(?:\/([^[\]]*))?\])?$/.exec(t);
  if (!m) throw new ConfigError(`invalid traffic selector "${text}" (expected e.g. 10.0.0.0/24 or 10.0.0.0/24[udp/53])`);
  const range = parseRange(m[1]!.trim());
  if (!range) {
    throw new ConfigError(`invalid traffic selector "${text}": "${m[1]}" is not an address, CIDR prefix or range`);
  }
  let ipProtocol = 0;
  let startPort = 0;
  let endPort = 65535;
  if (m[2] !== undefined) {
    const p = m[2].trim().toLowerCase();
    if (p === 'any' || p === '%any' || p === '') ipProtocol = 0;
    else if (p in PROTO_NAMES) ipProtocol = PROTO_NAMES[p]!;
    else if (/^[0-9]{1,3}$/.test(p) && Number(p) <= 255) ipProtocol = Number(p);
    else {
      throw new ConfigError(
        `invalid traffic selector "${text}": unknown protocol "${m[2]}" (use a number 0-255 or one of ${Object.keys(PROTO_NAMES).join(', ')})`,
      );
    }
    if (m[3] !== undefined) {
      const ps = m[3].trim();
      if (ps === '%any' || ps === 'any' || ps === '') {
        /* any */
      } else if (ps.toUpperCase() === 'OPAQUE' || ps === '%opaque') {
        startPort = 65535;
        endPort = 0;
      } else {
        const dash = ps.indexOf('-');
        const lo = parsePort(dash === -1 ? ps : ps.slice(0, dash));
        const hi = parsePort(dash === -1 ? ps : ps.slice(dash + 1));
        if (lo === null || hi === null || lo > hi) {
          throw new ConfigError(`invalid traffic selector "${text}": bad port or port range "${ps}" (0-65535, lo-hi)`);
        }
        startPort = lo;
        endPort = hi;
      }
    }
  }
  const ts: TS = { family: range.family, ipProtocol, startPort, endPort, startAddr: range.start, endAddr: range.end };
  return { ...ts, text: tsToString(ts) };
}

/** Config selector (TrafficSelectorConfig) → TS (drops `text`; the byte arrays are copied). */
export function fromConfig(c: TS): TS {
  return {
    family: c.family,
    ipProtocol: c.ipProtocol,
    startPort: c.startPort,
    endPort: c.endPort,
    startAddr: Uint8Array.from(c.startAddr),
    endAddr: Uint8Array.from(c.endAddr),
  };
}

/** TS → TSi/TSr wire struct (§3.13.1): TS Type 7 for IPv4, 8 for IPv6. */
export function toWire(ts: TS): TrafficSelectorWire {
  return {
    tsType: ts.family === 4 ? TS_IPV4_ADDR_RANGE : TS_IPV6_ADDR_RANGE,
    ipProtocol: ts.ipProtocol,
    startPort: ts.startPort,
    endPort: ts.endPort,
    startAddr: Uint8Array.from(ts.startAddr),
    endAddr: Uint8Array.from(ts.endAddr),
  };
}

/**
 * Wire struct → TS. Null for a TS Type we do not handle (e.g. 10, TS_FC_ADDR_RANGE,
 * RFC 4595) or address lengths that do not match the type; the caller skips those.
 * An address range with start > end is returned as is and simply matches nothing.
 */
export function fromWire(w: TrafficSelectorWire): TS | null {
  let family: Family;
  if (w.tsType === TS_IPV4_ADDR_RANGE) family = 4;
  else if (w.tsType === TS_IPV6_ADDR_RANGE) family = 6;
  else return null;
  const n = family === 4 ? 4 : 16;
  if (w.startAddr.length !== n || w.endAddr.length !== n) return null;
  return {
    family,
    ipProtocol: w.ipProtocol,
    startPort: w.startPort,
    endPort: w.endPort,
    startAddr: Uint8Array.from(w.startAddr),
    endAddr: Uint8Array.from(w.endAddr),
  };
}

/** Convenience: family of a selector computed from its bytes (sanity checks). */
export function tsFamily(ts: { startAddr: Uint8Array }): Family {
  return familyOf(ts.startAddr);
}
