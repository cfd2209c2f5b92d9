/**
 * Identity strings → IDi/IDr content (RFC 7296 §3.5), strongSwan-like syntax:
 *
 *   198.51.100.1          ID_IPV4_ADDR (4 octets)
 *   2001:db8::1           ID_IPV6_ADDR (16 octets)
 *   @#0a0b0c              ID_KEY_ID (hex octets)
 *   @gw.example.com       ID_FQDN ("@" = take the name literally)
 *   gw.example.com        ID_FQDN (any other plain name)
 *   vpn@example.com       ID_RFC822_ADDR
 *   fqdn:… email:… keyid:… (keyid:#hex for hex) ipv4:… ipv6:…   explicit types
 *   %any                  (remote only) accept any identity → null
 *
 * FQDN and RFC822 data is the ASCII text without terminator (§3.5).
 */
import { ConfigError } from '../common/errors.js';
import { IdType } from '../ike/wire/constants.js';
import { formatAddress, parseIpv4, parseIpv6 } from '../net/prefix.js';
import type { IdentityConfig } from './types.js';

const enc = new TextEncoder();

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function hexBytes(hex: string, original: string): Uint8Array {
  const h = hex.replace(/[:\s]/g, '');
  if (h.length === 0 || h.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(h)) {
    throw new ConfigError(`invalid key id "${original}": expected an even number of hex digits`);
  }
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function printable(s: string, what: string, original: string): void {
  if (s.length === 0) throw new ConfigError(`empty ${what} in identity "${original}"`);
  // §3.5: FQDN/RFC822 are strings; keep them to printable ASCII so logs and matching are sane
  if (!/^[\x21-\x7e]+$/.test(s)) {
    throw new ConfigError(`invalid ${what} "${original}": only printable ASCII without spaces is allowed`);
  }
}

function fqdn(name: string, original: string): IdentityConfig {
  printable(name, 'FQDN', original);
  return { type: IdType.FQDN, data: enc.encode(name), text: name };
}

function rfc822(addr: string, original: string): IdentityConfig {
  printable(addr, 'email address', original);
  return { type: IdType.RFC822_ADDR, data: enc.encode(addr), text: addr };
}

function v4(text: string, original: string): IdentityConfig {
  const a = parseIpv4(text);
  if (!a) throw new ConfigError(`invalid IPv4 address in identity "${original}"`);
  return { type: IdType.IPV4_ADDR, data: a, text: formatAddress(a) };
}

function v6(text: string, original: string): IdentityConfig {
  const a = parseIpv6(text);
  if (!a) throw new ConfigError(`invalid IPv6 address in identity "${original}"`);
  return { type: IdType.IPV6_ADDR, data: a, text: formatAddress(a) };
}

function keyId(data: Uint8Array): IdentityConfig {
  return { type: IdType.KEY_ID, data, text: `@#${toHex(data)}` };
}

/** Parse an identity string. Throws ConfigError (the loader adds file, line and key). */
export function parseIdentity(input: string): IdentityConfig {
  const text = input.trim();
  if (text === '') throw new ConfigError('empty identity');
  if (text === '%any') throw new ConfigError('"%any" is only allowed for the remote identity');
  const colon = text.indexOf(':');
  if (colon > 0) {
    const prefix = text.slice(0, colon).toLowerCase();
    const rest = text.slice(colon + 1);
    switch (prefix) {
      case 'fqdn':
        return fqdn(rest.startsWith('@') ? rest.slice(1) : rest, text);
      case 'email':
      case 'rfc822':
        return rfc822(rest, text);
      case 'keyid':
        if (rest.startsWith('#')) return keyId(hexBytes(rest.slice(1), text));
        if (rest.length === 0) throw new ConfigError(`empty key id in identity "${text}"`);
        return keyId(enc.encode(rest));
      case 'ipv4':
        return v4(rest, text);
      case 'ipv6':
        return v6(rest, text);
      default:
        break; // maybe an IPv6 literal
    }
  }
  if (text.startsWith('@#')) return keyId(hexBytes(text.slice(2), text));
  if (text.startsWith('@')) return fqdn(text.slice(1), text);
  if (text.includes(':')) return v6(text, text);
  const a4 = parseIpv4(text);
  if (a4) return { type: IdType.IPV4_ADDR, data: a4, text: formatAddress(a4) };
  if (/^[0-9.]+$/.test(text)) throw new ConfigError(`invalid IPv4 address in identity "${text}"`);
  if (text.includes('@')) return rfc822(text, text);
  return fqdn(text, text);
}

/** Remote identity: "%any" (or absent, handled by the loader) → null = accept any. */
export function parseRemoteIdentity(input: string): IdentityConfig | null {
  if (input.trim() === '%any') return null;
  return parseIdentity(input);
}

/** ID_IPV4_ADDR / ID_IPV6_ADDR from an address literal (default identities). */
export function identityFromAddress(address: string): IdentityConfig {
  const a4 = parseIpv4(address);
  if (a4) return v4(address, address);
  return v6(address, address);
}

/** Same type and same octets (RFC 7296 §2.15: identities are compared as sent). */
export function identityEquals(a: { type: number; data: Uint8Array }, b: { type: number; data: Uint8Array }): boolean {
  if (a.type !== b.type || a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

/** Printable form of a received identity (type + data), for logs and status. */
export function formatIdentity(type: number, data: Uint8Array): string {
  switch (type) {
    case IdType.IPV4_ADDR:
    case IdType.IPV6_ADDR:
      if (data.length === 4 || data.length === 16) return formatAddress(data);
      break;
    case IdType.FQDN:
    case IdType.RFC822_ADDR: {
      const s = new TextDecoder().decode(data);
      if (/^[\x20-\x7e]*$/.test(s)) return s;
      break;
    }
    case IdType.KEY_ID:
      return `@#${toHex(data)}`;
    default:
      break;
  }
  return `id${type}:#${toHex(data)}`;
}
