/**
 * Validation shared by both key-exchange backends. A peer's KE value is unauthenticated
 * input: any defect throws ProtocolError(INVALID_SYNTAX) (RFC 7296 §3.4, RFC 5903 §7,
 * RFC 8031 §2), never a backend-specific exception.
 */
import { ProtocolError } from '../common/errors.js';
import { KE, NOTIFY_INVALID_SYNTAX } from './ids.js';
import { MODP_PRIMES } from './modp-groups.js';
import type { KeFactory, KeyExchange } from './types.js';

export type ModpGroup = 14 | 15 | 16;
export type EcpGroup = 19 | 20 | 21;
export type MontGroup = 31 | 32;

export function isModp(g: number): g is ModpGroup {
  return g === KE.MODP_2048 || g === KE.MODP_3072 || g === KE.MODP_4096;
}
export function isEcp(g: number): g is EcpGroup {
  return g === KE.ECP_256 || g === KE.ECP_384 || g === KE.ECP_521;
}
export function isMont(g: number): g is MontGroup {
  return g === KE.CURVE25519 || g === KE.CURVE448;
}

/** Field element length in bytes (ECP coordinate length / Montgomery u length / MODP prime length). */
export const FIELD_LEN: Readonly<Record<number, number>> = {
  14: 256,
  15: 384,
  16: 512,
  19: 32,
  20: 48,
  21: 66,
  31: 32,
  32: 56,
};

/** KE payload data length: prime length (MODP), 2 × coordinate (ECP, x‖y), u length (25519/448). */
export function publicLen(group: number): number {
  const f = FIELD_LEN[group];
  if (f === undefined) throw new Error(`unsupported KE group ${group}`);
  return isEcp(group) ? 2 * f : f;
}

export function invalidKe(group: number, why: string): ProtocolError {
  return new ProtocolError(NOTIFY_INVALID_SYNTAX, `KE group ${group}: ${why}`);
}

export function checkPeerLength(group: number, peer: Uint8Array): void {
  const want = publicLen(group);
  if (peer.length !== want) throw invalidKe(group, `public value is ${peer.length} bytes, expected ${want}`);
}

export function bytesToBigInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));
}

export function bigIntToBytes(n: bigint, len: number): Uint8Array {
  const hex = n.toString(16).padStart(len * 2, '0');
  if (hex.length > len * 2) throw new Error('integer does not fit');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

const primeCache = new Map<ModpGroup, bigint>();
export function modpPrime(g: ModpGroup): bigint {
  let p = primeCache.get(g);
  if (p === undefined) {
    p = BigInt('0x' + MODP_PRIMES[g]);
    primeCache.set(g, p);
  }
  return p;
}

/** RFC 6989 §2.1 / SP 800-56A: a MODP public value y must satisfy 1 < y < p-1. */
export function checkModpPeer(g: ModpGroup, peer: Uint8Array): void {
  checkPeerLength(g, peer);
  const y = bytesToBigInt(peer);
  if (y <= 1n || y >= modpPrime(g) - 1n) throw invalidKe(g, 'public value out of range (1 < y < p-1)');
}

/** Left-pad a big-endian value to len bytes (RFC 7296 §2.14: g^ir is as long as the prime). */
export function leftPad(b: Uint8Array, len: number): Uint8Array {
  if (b.length === len) return b;
  if (b.length > len) throw new Error('value longer than field');
  const o = new Uint8Array(len);
  o.set(b, len - b.length);
  return o;
}

export function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < b.length; i++) acc |= b[i]!;
  return acc === 0;
}


/** A KeFactory that can also start from a fixed private key (test vectors, golden transcripts). */
export interface ImportableKeFactory extends KeFactory {
  /**
   * MODP: private exponent, big-endian. ECP: private scalar, big-endian, field length.
   * Curve25519/448: the RFC 7748 scalar bytes (clamped by the backend).
   */
  fromPrivateKey(priv: Uint8Array): KeyExchange;
}
