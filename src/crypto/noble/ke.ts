/**
 * Key exchange through @noble/curves: the oracle for node/ke.ts.
 * MODP uses the modular exponentiation of @noble/curves/abstract/modular (not constant-time:
 * test and interop use only; the default backend is OpenSSL).
 */
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { x448 } from '@noble/curves/ed448.js';
import { pow } from '@noble/curves/abstract/modular.js';
import { randomBytes } from '@noble/hashes/utils.js';
import type { KeyExchange } from '../types.js';
import {
  FIELD_LEN,
  bigIntToBytes,
  bytesToBigInt,
  checkModpPeer,
  checkPeerLength,
  invalidKe,
  isAllZero,
  isEcp,
  isModp,
  isMont,
  modpPrime,
  publicLen,
  type EcpGroup,
  type ImportableKeFactory,
  type ModpGroup,
  type MontGroup,
} from '../ke-common.js';
import { MODP_GENERATOR } from '../modp-groups.js';

/** Private exponent length for MODP: 2 × the group's symmetric strength (RFC 3526 §8, NIST SP 800-57). */
const MODP_EXP_BYTES: Record<ModpGroup, number> = { 14: 32, 15: 48, 16: 64 };

function modp(g: ModpGroup, priv?: Uint8Array): KeyExchange {
  const p = modpPrime(g);
  const len = FIELD_LEN[g]!;
  let x = priv ? bytesToBigInt(priv) : 0n;
  while (!priv && x < 2n) x = bytesToBigInt(randomBytes(MODP_EXP_BYTES[g]));
  const publicKey = bigIntToBytes(pow(BigInt(MODP_GENERATOR), x, p), len);
  return {
    group: g,
    publicKey,
    computeSecret(peer) {
      checkModpPeer(g, peer);
      return bigIntToBytes(pow(bytesToBigInt(peer), x, p), len);
    },
  };
}

const CURVES = { 19: p256, 20: p384, 21: p521 } as const;

function ecp(g: EcpGroup, priv?: Uint8Array): KeyExchange {
  const c = CURVES[g];
  const sk = priv ?? c.utils.randomSecretKey();
  const publicKey = c.getPublicKey(sk, false).slice(1);
  return {
    group: g,
    publicKey,
    computeSecret(peer) {
      checkPeerLength(g, peer);
      const sec1 = new Uint8Array(peer.length + 1);
      sec1[0] = 0x04;
      sec1.set(peer, 1);
      try {
        // compressed form: 0x02/0x03 ‖ x; the shared secret is x (RFC 5903 §7)
        return c.getSharedSecret(sk, sec1, true).slice(1);
      } catch (e) {
        throw invalidKe(g, `invalid point: ${(e as Error).message}`);
      }
    },
  };
}

function mont(g: MontGroup, priv?: Uint8Array): KeyExchange {
  const c = g === 31 ? x25519 : x448;
  if (priv && priv.length !== FIELD_LEN[g]) throw new RangeError(`KE ${g}: private key must be ${FIELD_LEN[g]} bytes`);
  const sk = priv ?? c.utils.randomSecretKey();
  const publicKey = c.getPublicKey(sk);
  return {
    group: g,
    publicKey,
    computeSecret(peer) {
      checkPeerLength(g, peer);
      let s: Uint8Array;
      try {
        s = c.getSharedSecret(sk, peer); // noble refuses an all-zero result
      } catch (e) {
        throw invalidKe(g, `agreement failed (low-order point?): ${(e as Error).message}`);
      }
      if (isAllZero(s)) throw invalidKe(g, 'all-zero shared secret (RFC 8031 §2)');
      return s;
    },
  };
}

export function nobleKe(group: number): ImportableKeFactory {
  const pl = publicLen(group);
  const make = (priv?: Uint8Array): KeyExchange => {
    if (isModp(group)) return modp(group, priv);
    if (isEcp(group)) return ecp(group, priv);
    if (isMont(group)) return mont(group, priv);
    throw new Error(`unsupported KE group ${group}`);
  };
  return { group, publicLen: pl, create: () => make(), fromPrivateKey: (priv) => make(priv) };
}
