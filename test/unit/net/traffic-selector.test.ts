import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/common/errors.js';
import { parseAddress } from '../../../src/net/prefix.js';
import {
  type TS,
  allCovered,
  anyTs,
  contains,
  fromConfig,
  fromWire,
  intersect,
  isSubset,
  narrow,
  parseTs,
  toWire,
  tsEquals,
  tsToString,
} from '../../../src/net/traffic-selector.js';

const ts = (t: string): TS => fromConfig(parseTs(t));
const str = (l: (TS | null)[]): (string | null)[] => l.map((x) => (x ? tsToString(x) : null));
const ip = (t: string): Uint8Array => parseAddress(t)!;

describe('parseTs / tsToString', () => {
  it.each([
    ['10.0.0.0/24', '10.0.0.0/24'],
    ['10.0.0.1/24', '10.0.0.0/24'],
    ['10.0.0.1-10.0.0.9', '10.0.0.1-10.0.0.9'],
    ['10.0.0.0-10.0.0.255', '10.0.0.0/24'],
    ['10.0.0.7', '10.0.0.7/32'],
    ['0.0.0.0/0[udp/53]', '0.0.0.0/0[udp/53]'],
    ['0.0.0.0/0[17/53]', '0.0.0.0/0[udp/53]'],
    ['10.0.0.0/8[tcp]', '10.0.0.0/8[tcp]'],
    ['10.0.0.0/8[TCP/%any]', '10.0.0.0/8[tcp]'],
    ['10.0.0.0/8[udp/1000-2000]', '10.0.0.0/8[udp/1000-2000]'],
    ['10.0.0.0/8[any/53]', '10.0.0.0/8[any/53]'],
    ['10.0.0.0/8[any]', '10.0.0.0/8'],
    ['10.0.0.0/8[99]', '10.0.0.0/8[99]'],
    ['10.0.0.0/8[udp/OPAQUE]', '10.0.0.0/8[udp/OPAQUE]'],
    ['::/0', '::/0'],
    ['2001:db8::/64[icmpv6]', '2001:db8::/64[icmpv6]'],
    [' 2001:DB8::1-2001:db8::9 ', '2001:db8::1-2001:db8::9'],
  ])('%s → %s', (input, out) => {
    const c = parseTs(input);
    expect(c.text).toBe(out);
    expect(tsToString(fromConfig(c))).toBe(out);
    expect(parseTs(out).text).toBe(out);
  });
  it('fields', () => {
    const c = parseTs('192.0.2.0/24[udp/500-4500]');
    expect(c).toMatchObject({ family: 4, ipProtocol: 17, startPort: 500, endPort: 4500 });
    expect(c.startAddr).toEqual(ip('192.0.2.0'));
    expect(c.endAddr).toEqual(ip('192.0.2.255'));
    expect(parseTs('::/0')).toMatchObject({ family: 6, ipProtocol: 0, startPort: 0, endPort: 65535 });
  });
  it.each([
    ['10.0.0.0/33', 'not an address, CIDR prefix or range'],
    ['host.example', 'not an address'],
    ['10.0.0.0/8[bogus]', 'unknown protocol "bogus"'],
    ['10.0.0.0/8[udp/70000]', 'bad port or port range "70000"'],
    ['10.0.0.0/8[udp/9-1]', 'bad port or port range "9-1"'],
    ['10.0.0.0/8[256]', 'unknown protocol "256"'],
    ['10.0.0.0/8[udp', 'invalid traffic selector'],
  ])('rejects %s', (input, msg) => {
    expect(() => parseTs(input)).toThrow(ConfigError);
    expect(() => parseTs(input)).toThrow(msg);
  });
});

describe('intersect', () => {
  it.each([
    ['10.0.0.0/8', '10.1.0.0/16', '10.1.0.0/16'],
    ['10.0.0.0-10.0.0.20', '10.0.0.16/28', '10.0.0.16-10.0.0.20'],
    ['10.0.0.0/24', '10.0.1.0/24', null],
    ['0.0.0.0/0', '::/0', null],
    ['0.0.0.0/0[udp]', '10.0.0.0/8', '10.0.0.0/8[udp]'],
    ['0.0.0.0/0[udp]', '10.0.0.0/8[tcp]', null],
    ['0.0.0.0/0[udp/50-60]', '10.0.0.0/8[udp/55-100]', '10.0.0.0/8[udp/55-60]'],
    ['0.0.0.0/0[udp/50-60]', '10.0.0.0/8[any/61-100]', null],
    ['0.0.0.0/0[udp/OPAQUE]', '10.0.0.0/8', '10.0.0.0/8[udp/OPAQUE]'],
    ['0.0.0.0/0[udp/OPAQUE]', '10.0.0.0/8[udp/OPAQUE]', '10.0.0.0/8[udp/OPAQUE]'],
    ['0.0.0.0/0[udp/OPAQUE]', '10.0.0.0/8[udp/53]', null],
    ['2001:db8::/32', '2001:db8:1::/48[tcp/22]', '2001:db8:1::/48[tcp/22]'],
  ])('%s ∩ %s = %s', (a, b, out) => {
    expect(str([intersect(ts(a), ts(b))])[0]).toBe(out);
    expect(str([intersect(ts(b), ts(a))])[0]).toBe(out);
  });
});

describe('narrow (RFC 7296 §2.9)', () => {
  it('responder narrows a broad proposal to its configuration', () => {
    const out = narrow([ts('0.0.0.0/0'), ts('::/0')], [ts('10.1.0.0/16'), ts('10.2.0.0/16[tcp]')]);
    expect(str(out)).toEqual(['10.1.0.0/16', '10.2.0.0/16[tcp]']);
  });
  it('keeps the packet selector only when no broader result covers it', () => {
    // first TS: the triggering packet (§2.9); second: the initiator's whole policy
    const covered = narrow([ts('10.1.2.3[tcp/443]'), ts('10.1.0.0/16')], [ts('10.0.0.0/8')]);
    expect(str(covered)).toEqual(['10.1.0.0/16']);
    const kept = narrow([ts('10.9.2.3[tcp/443]'), ts('10.1.0.0/16')], [ts('10.9.0.0/16'), ts('10.1.0.0/24')]);
    expect(str(kept)).toEqual(['10.9.2.3/32[tcp/443]', '10.1.0.0/24']);
  });
  it('empty when nothing matches (TS_UNACCEPTABLE)', () => {
    expect(narrow([ts('192.168.0.0/16')], [ts('10.0.0.0/8'), ts('::/0')])).toEqual([]);
    expect(narrow([], [ts('10.0.0.0/8')])).toEqual([]);
  });
  it('drops duplicates', () => {
    const out = narrow([ts('10.0.0.0/8'), ts('10.0.0.0/8')], [ts('0.0.0.0/0')]);
    expect(str(out)).toEqual(['10.0.0.0/8']);
  });
  it('allCovered', () => {
    expect(allCovered([ts('10.1.0.0/16')], [ts('10.0.0.0/8')])).toBe(true);
    expect(allCovered([ts('10.1.0.0/16'), ts('11.0.0.0/8')], [ts('10.0.0.0/8')])).toBe(false);
  });
});

describe('isSubset / contains', () => {
  it.each([
    ['10.1.0.0/16', '10.0.0.0/8', true],
    ['10.0.0.0/8', '10.1.0.0/16', false],
    ['10.1.0.0/16[tcp]', '10.0.0.0/8', true],
    ['10.1.0.0/16', '10.0.0.0/8[tcp]', false],
    ['10.1.0.0/16[udp/53]', '10.0.0.0/8[udp/1-100]', true],
    ['10.1.0.0/16[udp/53-200]', '10.0.0.0/8[udp/1-100]', false],
    ['10.1.0.0/16[udp/OPAQUE]', '10.0.0.0/8', true],
    ['10.1.0.0/16[udp/OPAQUE]', '10.0.0.0/8[udp/1-100]', false],
    ['10.1.0.0/16[udp/53]', '10.0.0.0/8[udp/OPAQUE]', false],
    ['10.1.0.0/16', '::/0', false],
  ])('%s ⊆ %s: %s', (a, b, r) => expect(isSubset(ts(a), ts(b))).toBe(r));

  it('contains', () => {
    const t = ts('10.0.0.0/24[udp/53]');
    expect(contains(t, ip('10.0.0.9'), 17, 53)).toBe(true);
    expect(contains(t, ip('10.0.0.9'), 6, 53)).toBe(false);
    expect(contains(t, ip('10.0.0.9'), 17, 54)).toBe(false);
    expect(contains(t, ip('10.0.1.9'), 17, 53)).toBe(false);
    expect(contains(t, ip('10.0.0.9'), 17)).toBe(false);
    expect(contains(t, ip('::1'), 17, 53)).toBe(false);
    const any = anyTs(4);
    expect(contains(any, ip('1.2.3.4'), 1)).toBe(true);
    expect(contains(any, ip('1.2.3.4'), 6, 80)).toBe(true);
    expect(contains(ts('0.0.0.0/0[udp/OPAQUE]'), ip('1.2.3.4'), 17)).toBe(true);
    expect(contains(ts('0.0.0.0/0[udp/OPAQUE]'), ip('1.2.3.4'), 17, 53)).toBe(false);
  });
});

describe('wire conversion (§3.13.1)', () => {
  it('IPv4 → type 7, IPv6 → type 8, round trip', () => {
    const a = ts('10.0.0.0/24[udp/53]');
    const w = toWire(a);
    expect(w).toEqual({
      tsType: 7,
      ipProtocol: 17,
      startPort: 53,
      endPort: 53,
      startAddr: ip('10.0.0.0'),
      endAddr: ip('10.0.0.255'),
    });
    expect(tsEquals(fromWire(w)!, a)).toBe(true);
    const b = ts('2001:db8::/32');
    expect(toWire(b).tsType).toBe(8);
    expect(tsEquals(fromWire(toWire(b))!, b)).toBe(true);
  });
  it('rejects unknown types and mismatched lengths', () => {
    const w = toWire(ts('10.0.0.0/24'));
    expect(fromWire({ ...w, tsType: 10 })).toBeNull();
    expect(fromWire({ ...w, tsType: 8 })).toBeNull();
    expect(fromWire({ ...w, endAddr: new Uint8Array(5) })).toBeNull();
  });
  it('copies bytes (no aliasing with config)', () => {
    const c = parseTs('10.0.0.0/24');
    const t = fromConfig(c);
    t.startAddr[0] = 99;
    expect(c.startAddr[0]).toBe(10);
  });
});
