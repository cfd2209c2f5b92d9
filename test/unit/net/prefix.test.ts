import { describe, expect, it } from 'vitest';
import {
  addrToBigInt,
  bigIntToAddr,
  compareAddr,
  formatAddress,
  formatRange,
  hasHostBits,
  ipVersionOf,
  isFullRange,
  parseAddress,
  parseIpv4,
  parseIpv6,
  parsePrefix,
  parseRange,
  prefixContains,
  prefixRange,
  prefixesOverlap,
  rangeIntersect,
  rangeIsSubset,
  rangeToPrefixLen,
} from '../../../src/net/prefix.js';

const hex = (b: Uint8Array | null): string | null => (b ? Buffer.from(b).toString('hex') : null);

describe('parseIpv4', () => {
  it.each([
    ['0.0.0.0', '00000000'],
    ['255.255.255.255', 'ffffffff'],
    ['198.51.100.1', 'c6336401'],
    ['10.0.0.9', '0a000009'],
  ])('%s', (t, h) => expect(hex(parseIpv4(t))).toBe(h));
  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '1.2.3.4 ', 'a.b.c.d', '1..2.3', '1.2.3.4/32'])(
    'rejects %j',
    (t) => expect(parseIpv4(t)).toBeNull(),
  );
});

describe('parseIpv6 / formatAddress (RFC 5952 canonical)', () => {
  it.each([
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single 0 group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // longest run wins
    ['fe80::1:2', 'fe80::1:2'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::ffff:c000:0201', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
  ])('%s → %s', (t, canon) => {
    const a = parseIpv6(t);
    expect(a).not.toBeNull();
    expect(formatAddress(a!)).toBe(canon);
    expect(hex(parseIpv6(canon))).toBe(hex(a));
  });
  it.each([
    ':',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1::2::3',
    '12345::',
    'g::1',
    'fe80::1%eth0',
    '1:2:3:4:5:6:7:8::',
    '::1.2.3',
    '1.2.3.4::',
    ':1::',
  ])('rejects %j', (t) => expect(parseIpv6(t)).toBeNull());
});

describe('addresses', () => {
  it('parseAddress and ipVersionOf pick the family', () => {
    expect(parseAddress('10.0.0.1')!.length).toBe(4);
    expect(parseAddress('2001:db8::')!.length).toBe(16);
    expect(parseAddress('example.com')).toBeNull();
    expect(ipVersionOf('10.0.0.1')).toBe(4);
    expect(ipVersionOf('::')).toBe(6);
    expect(ipVersionOf('x')).toBe(0);
  });
  it('compareAddr is numeric order', () => {
    const a = parseAddress('10.0.0.2')!;
    const b = parseAddress('10.0.1.1')!;
    expect(compareAddr(a, b)).toBe(-1);
    expect(compareAddr(b, a)).toBe(1);
    expect(compareAddr(a, Uint8Array.from(a))).toBe(0);
  });
  it('bigint round trip', () => {
    const a = parseAddress('2001:db8::ff')!;
    expect(bigIntToAddr(addrToBigInt(a), 6)).toEqual(a);
    expect(addrToBigInt(parseAddress('0.0.1.2')!)).toBe(258n);
    expect(() => bigIntToAddr(1n << 32n, 4)).toThrow(RangeError);
  });
});

describe('prefixes and ranges', () => {
  it('parsePrefix keeps host bits; prefixRange masks them', () => {
    const p = parsePrefix('169.254.10.1/31')!;
    expect(p.len).toBe(31);
    expect(formatAddress(p.addr)).toBe('169.254.10.1');
    expect(hasHostBits(p.addr, p.len)).toBe(true);
    const r = prefixRange(p.addr, p.len);
    expect(formatAddress(r.start)).toBe('169.254.10.0');
    expect(formatAddress(r.end)).toBe('169.254.10.1');
  });
  it.each(['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '::/129', 'x/8', '10.0.0.0/-1'])('parsePrefix rejects %j', (t) =>
    expect(parsePrefix(t)).toBeNull(),
  );
  it.each([
    ['10.0.0.0/24', '10.0.0.0', '10.0.0.255'],
    ['10.1.2.3/16', '10.1.0.0', '10.1.255.255'],
    ['0.0.0.0/0', '0.0.0.0', '255.255.255.255'],
    ['10.0.0.7', '10.0.0.7', '10.0.0.7'],
    ['10.0.0.1-10.0.0.9', '10.0.0.1', '10.0.0.9'],
    ['2001:db8::/32', '2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['2001:db8::1 - 2001:db8::5', '2001:db8::1', '2001:db8::5'],
    ['::/0', '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ])('parseRange(%s)', (t, s, e) => {
    const r = parseRange(t)!;
    expect(formatAddress(r.start)).toBe(s);
    expect(formatAddress(r.end)).toBe(e);
  });
  it.each(['10.0.0.9-10.0.0.1', '10.0.0.1-::1', '10.0.0.1-', 'nope'])('parseRange rejects %j', (t) =>
    expect(parseRange(t)).toBeNull(),
  );
  it.each([
    ['10.0.0.0/24', 24],
    ['10.0.0.0-10.0.0.255', 24],
    ['10.0.0.4-10.0.0.7', 30],
    ['10.0.0.5-10.0.0.5', 32],
    ['0.0.0.0/0', 0],
    ['::/0', 0],
    ['2001:db8::/48', 48],
    ['10.0.0.1-10.0.0.9', null],
    ['10.0.0.2-10.0.0.5', null],
    ['10.0.0.0-10.0.0.6', null],
  ])('rangeToPrefixLen(%s) = %s', (t, len) => {
    const r = parseRange(t)!;
    expect(rangeToPrefixLen(r.start, r.end)).toBe(len);
  });
  it.each([
    ['10.0.0.0-10.0.0.255', '10.0.0.0/24'],
    ['10.0.0.1-10.0.0.9', '10.0.0.1-10.0.0.9'],
    ['10.0.0.5', '10.0.0.5/32'],
    ['2001:db8::-2001:db8::ff', '2001:db8::/120'],
  ])('formatRange(%s) = %s', (t, out) => expect(formatRange(parseRange(t)!)).toBe(out));

  it('containment, overlap, subset, intersection', () => {
    expect(prefixContains('10.0.0.0/8', '10.255.0.1')).toBe(true);
    expect(prefixContains('10.0.0.0/8', '11.0.0.0')).toBe(false);
    expect(prefixContains('10.0.0.0/8', '::1')).toBe(false);
    expect(prefixesOverlap('10.0.0.0/8', '10.1.0.0/16')).toBe(true);
    expect(prefixesOverlap('10.0.0.0/16', '10.1.0.0/16')).toBe(false);
    expect(prefixesOverlap('10.0.0.0-10.0.0.10', '10.0.0.10/32')).toBe(true);
    expect(prefixesOverlap('10.0.0.0-10.0.0.10', '10.0.0.11/32')).toBe(false);
    expect(prefixesOverlap('0.0.0.0/0', '::/0')).toBe(false);
    expect(rangeIsSubset(parseRange('10.1.0.0/16')!, parseRange('10.0.0.0/8')!)).toBe(true);
    expect(rangeIsSubset(parseRange('10.0.0.0/8')!, parseRange('10.1.0.0/16')!)).toBe(false);
    const i = rangeIntersect(parseRange('10.0.0.0-10.0.0.20')!, parseRange('10.0.0.16/28')!)!;
    expect(formatRange(i)).toBe('10.0.0.16-10.0.0.20');
    expect(rangeIntersect(parseRange('10.0.0.0/24')!, parseRange('10.0.1.0/24')!)).toBeNull();
    expect(isFullRange(parseRange('::/0')!)).toBe(true);
    expect(isFullRange(parseRange('0.0.0.0/1')!)).toBe(false);
    expect(() => prefixesOverlap('bogus', '10.0.0.0/8')).toThrow(RangeError);
  });
});
