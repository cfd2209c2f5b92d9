import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/common/errors.js';
import {
  formatIdentity,
  identityEquals,
  identityFromAddress,
  parseIdentity,
  parseRemoteIdentity,
} from '../../../src/config/ids.js';
import { IdType } from '../../../src/ike/wire/constants.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): string => Buffer.from(s, 'ascii').toString('hex');

describe('parseIdentity', () => {
  it.each([
    ['198.51.100.1', IdType.IPV4_ADDR, 'c6336401', '198.51.100.1'],
    ['ipv4:10.0.0.1', IdType.IPV4_ADDR, '0a000001', '10.0.0.1'],
    ['2001:db8::1', IdType.IPV6_ADDR, '20010db8000000000000000000000001', '2001:db8::1'],
    ['2001:DB8:0::1', IdType.IPV6_ADDR, '20010db8000000000000000000000001', '2001:db8::1'],
    ['ipv6:::1', IdType.IPV6_ADDR, '00000000000000000000000000000001', '::1'],
    ['gw-a.example.com', IdType.FQDN, ascii('gw-a.example.com'), 'gw-a.example.com'],
    ['@gw-a.example.com', IdType.FQDN, ascii('gw-a.example.com'), 'gw-a.example.com'],
    ['@gw', IdType.FQDN, ascii('gw'), 'gw'],
    ['fqdn:vpn.example.org', IdType.FQDN, ascii('vpn.example.org'), 'vpn.example.org'],
    ['fqdn:@vpn.example.org', IdType.FQDN, ascii('vpn.example.org'), 'vpn.example.org'],
    ['vpn@example.com', IdType.RFC822_ADDR, ascii('vpn@example.com'), 'vpn@example.com'],
    ['email:ops@example.com', IdType.RFC822_ADDR, ascii('ops@example.com'), 'ops@example.com'],
    ['@#0a0B0c', IdType.KEY_ID, '0a0b0c', '@#0a0b0c'],
    ['keyid:#cafe', IdType.KEY_ID, 'cafe', '@#cafe'],
    ['keyid:site-b', IdType.KEY_ID, ascii('site-b'), `@#${ascii('site-b')}`],
    ['  gw.example.com ', IdType.FQDN, ascii('gw.example.com'), 'gw.example.com'],
  ])('%j', (input, type, data, text) => {
    const id = parseIdentity(input);
    expect(id.type).toBe(type);
    expect(hex(id.data)).toBe(data);
    expect(id.text).toBe(text);
  });
  it.each([
    ['', 'empty identity'],
    ['%any', 'only allowed for the remote identity'],
    ['1.2.3.256', 'invalid IPv4 address'],
    ['ipv4:::1', 'invalid IPv4 address'],
    ['ipv6:1.2.3.4', 'invalid IPv6 address'],
    ['2001:db8:::1', 'invalid IPv6 address'],
    ['@#abc', 'even number of hex digits'],
    ['@#zz', 'even number of hex digits'],
    ['@', 'empty FQDN'],
    ['gw example.com', 'only printable ASCII'],
    ['fqdn:bücher.example', 'only printable ASCII'],
    ['keyid:', 'empty key id'],
  ])('rejects %j', (input, msg) => {
    expect(() => parseIdentity(input)).toThrow(ConfigError);
    expect(() => parseIdentity(input)).toThrow(msg);
  });
});

describe('remote identity, defaults, comparison, formatting', () => {
  it('%any → null', () => {
    expect(parseRemoteIdentity('%any')).toBeNull();
    expect(parseRemoteIdentity('peer.example.com')!.type).toBe(IdType.FQDN);
  });
  it('identityFromAddress', () => {
    expect(identityFromAddress('198.51.100.2')).toEqual(parseIdentity('198.51.100.2'));
    expect(identityFromAddress('2001:db8::2').type).toBe(IdType.IPV6_ADDR);
  });
  it('identityEquals compares type and octets', () => {
    expect(identityEquals(parseIdentity('@gw'), parseIdentity('fqdn:gw'))).toBe(true);
    expect(identityEquals(parseIdentity('@gw'), parseIdentity('keyid:gw'))).toBe(false);
    expect(identityEquals(parseIdentity('10.0.0.1'), parseIdentity('10.0.0.2'))).toBe(false);
  });
  it('formatIdentity for received ids', () => {
    expect(formatIdentity(IdType.IPV4_ADDR, Uint8Array.of(10, 0, 0, 1))).toBe('10.0.0.1');
    expect(formatIdentity(IdType.FQDN, new TextEncoder().encode('a.example'))).toBe('a.example');
    expect(formatIdentity(IdType.KEY_ID, Uint8Array.of(1, 2))).toBe('@#0102');
    expect(formatIdentity(IdType.IPV4_ADDR, Uint8Array.of(1, 2))).toBe('id1:#0102');
    expect(formatIdentity(IdType.DER_ASN1_DN, Uint8Array.of(0x30))).toBe('id9:#30');
  });
});
