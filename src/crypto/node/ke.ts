/**
 * Key exchange through node:crypto (OpenSSL):
 *  - MODP 14/15/16 (RFC 3526) with createDiffieHellman; g^ir left-padded to the prime length.
 *  - ECP 19/20/21 (RFC 5903) with createECDH; KE data = x‖y (no 0x04), secret = x.
 *  - Curve25519/448 (RFC 8031) with KeyObjects; raw keys wrapped in their fixed DER prefixes.
 */
import {
  createDiffieHellman,
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import type { KeyExchange } from '../types.js';
import {
  FIELD_LEN,
  checkModpPeer,
  checkPeerLength,
  invalidKe,
  isAllZero,
  isEcp,
  isModp,
  isMont,
  leftPad,
  publicLen,
  type EcpGroup,
  type ImportableKeFactory,
  type ModpGroup,
  type MontGroup,
} from '../ke-common.js';
import { MODP_GENERATOR, MODP_PRIMES } from '../modp-groups.js';

const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const copy = (b: Buffer): Uint8Array => new Uint8Array(b);

// ---- MODP ---------------------------------------------------------------------------------

const primeBuf = new Map<ModpGroup, Buffer>();
function prime(g: ModpGroup): Buffer {
  let p = primeBuf.get(g);
  if (!p) {
    p = Buffer.from(MODP_PRIMES[g], 'hex');
    primeBuf.set(g, p);
  }
  return p;
}

function modp(g: ModpGroup, priv?: Uint8Array): KeyExchange {
  const len = FIELD_LEN[g]!;
  const dh = createDiffieHellman(prime(g), Buffer.from([MODP_GENERATOR]));
  if (priv) dh.setPrivateKey(view(priv));
  dh.generateKeys(); // with a private key set, OpenSSL derives the public value from it
  const publicKey = leftPad(copy(dh.getPublicKey()), len);
  return {
    group: g,
    publicKey,
    computeSecret(peer) {
      checkModpPeer(g, peer);
      let s: Buffer;
      try {
        s = dh.computeSecret(view(peer));
      } catch (e) {
        throw invalidKe(g, `rejected by OpenSSL: ${(e as Error).message}`);
      }
      return leftPad(copy(s), len);
    },
  };
}

// ---- ECP ----------------------------------------------------------------------------------

const CURVE: Record<EcpGroup, string> = { 19: 'prime256v1', 20: 'secp384r1', 21: 'secp521r1' };

function ecp(g: EcpGroup, priv?: Uint8Array): KeyExchange {
  const ecdh = createECDH(CURVE[g]);
  if (priv) ecdh.setPrivateKey(view(priv));
  else ecdh.generateKeys();
  const pub = ecdh.getPublicKey(); // 0x04 ‖ x ‖ y, coordinates at field length
  const publicKey = copy(pub.subarray(1));
  const flen = FIELD_LEN[g]!;
  return {
    group: g,
    publicKey,
    computeSecret(peer) {
      checkPeerLength(g, peer);
      const sec1 = Buffer.allocUnsafe(peer.length + 1);
      sec1[0] = 0x04;
      sec1.set(peer, 1);
      let s: Buffer;
      try {
        s = ecdh.computeSecret(sec1); // validates that the point is on the curve
      } catch (e) {
        throw invalidKe(g, `invalid point: ${(e as Error).message}`);
      }
      return leftPad(copy(s), flen);
    },
  };
}

// ---- Curve25519 / Curve448 ----------------------------------------------------------------

/** RFC 8410 DER prefixes: SubjectPublicKeyInfo and PKCS#8 PrivateKeyInfo around the raw key. */
const SPKI_PREFIX: Record<MontGroup, Buffer> = {
  31: Buffer.from('302a300506032b656e032100', 'hex'),
  32: Buffer.from('3042300506032b656f033900', 'hex'),
};
const PKCS8_PREFIX: Record<MontGroup, Buffer> = {
  31: Buffer.from('302e020100300506032b656e04220420', 'hex'),
  32: Buffer.from('3046020100300506032b656f043a0438', 'hex'),
};

function mont(g: MontGroup, priv?: Uint8Array): KeyExchange {
  const len = FIELD_LEN[g]!;
  let privateKey: KeyObject;
  let publicKeyObj: KeyObject;
  if (priv) {
    if (priv.length !== len) throw new RangeError(`KE ${g}: private key must be ${len} bytes`);
    privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX[g], view(priv)]), format: 'der', type: 'pkcs8' });
    publicKeyObj = createPublicKey(privateKey);
  } else {
    const kp = g === 31 ? generateKeyPairSync('x25519') : generateKeyPairSync('x448');
    privateKey = kp.privateKey;
    publicKeyObj = kp.publicKey;
  }
  const spki = publicKeyObj.export({ format: 'der', type: 'spki' });
  const publicKey = copy(spki.subarray(spki.length - len));
  return {
    group: g,
    publicKey,
    computeSecret(peer) {
      checkPeerLength(g, peer);
      let s: Buffer;
      try {
        const pk = createPublicKey({ key: Buffer.concat([SPKI_PREFIX[g], view(peer)]), format: 'der', type: 'spki' });
        s = diffieHellman({ privateKey, publicKey: pk });
      } catch (e) {
        // OpenSSL refuses an all-zero result itself (RFC 7748 §6.1); report it the same way.
        throw invalidKe(g, `agreement failed (low-order point?): ${(e as Error).message}`);
      }
      const out = copy(s);
      if (isAllZero(out)) throw invalidKe(g, 'all-zero shared secret (RFC 8031 §2)');
      return out;
    },
  };
}

export function nodeKe(group: number): ImportableKeFactory {
  const pl = publicLen(group);
  const make = (priv?: Uint8Array): KeyExchange => {
    if (isModp(group)) return modp(group, priv);
    if (isEcp(group)) return ecp(group, priv);
    if (isMont(group)) return mont(group, priv);
    throw new Error(`unsupported KE group ${group}`);
  };
  return {
    group,
    publicLen: pl,
    create: () => make(),
    fromPrivateKey: (priv) => make(priv),
  };
}
