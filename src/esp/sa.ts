/**
 * EspSa: one direction of a Child SA as the TypeScript data path holds it — resolved
 * crypto (via crypto/registry), owned key copies, outbound sequence counter or inbound
 * replay window, traffic counters and volume lifetime.
 */
import type { Cipher, Integ } from '../crypto/types.js';
import type { Backend } from '../crypto/ids.js';
import { getCipher, getInteg } from '../crypto/registry.js';
import { zeroize } from '../common/bytes.js';
import type { Endpoint, SaSpec, SaTrafficSelector, Spi } from './port.js';
import type { EspCodecSa } from './packet.js';
import { ReplayWindow } from './replay.js';
import { OutboundSeq } from './seq.js';
import { LifetimeCounter } from './lifetime.js';

const INTEG_NONE = 0;

export interface EspSa extends EspCodecSa {
  readonly spi: Spi;
  readonly dir: 'in' | 'out';
  readonly connection: string;
  readonly childId: number;
  readonly esn: boolean;
  readonly cipher: Cipher;
  readonly encKey: Uint8Array;
  readonly integ: Integ | null;
  readonly integKey: Uint8Array | null;
  local: Endpoint;
  remote: Endpoint;
  encap: boolean;
  /** outbound only */
  readonly seq: OutboundSeq | null;
  /** inbound only */
  readonly replay: ReplayWindow | null;
  readonly life: LifetimeCounter;
  /** monotonic ms of the last packet, 0 if never used */
  lastUsedMs: number;
  /** hard-expired (volume or sequence space): no more traffic */
  dead: boolean;
  /** inbound: last endpoint reported in a 'mapping' event (avoids repeating it per packet) */
  lastMapping: Endpoint | null;
  /** inbound: negotiated selectors enforced after decryption (RFC 4301 §5.2); null = no check */
  readonly policy: { readonly localTs: readonly SaTrafficSelector[]; readonly remoteTs: readonly SaTrafficSelector[] } | null;
}

/**
 * Validate a spec and build the SA. Throws (control plane, not packet path) on an
 * unsupported suite or wrong key lengths. Keys are copied: the SA owns and zeroizes them.
 */
export function createEspSa(spec: SaSpec, backend?: Backend): EspSa {
  const spi = spec.spi >>> 0;
  if (spi !== spec.spi || spi < 256) throw new RangeError(`invalid SPI ${spec.spi} (RFC 4303 §2.1: 256..2^32-1)`);
  const cipher = getCipher(spec.suite.encr, spec.suite.encrKeyBits, backend);
  if (spec.encKey.length !== cipher.keyLen) {
    throw new RangeError(`SA ${spi.toString(16)}: encryption key must be ${cipher.keyLen} bytes, got ${spec.encKey.length}`);
  }
  let integ: Integ | null = null;
  let integKey: Uint8Array | null = null;
  if (cipher.aead) {
    if (spec.suite.integ !== INTEG_NONE) throw new RangeError('AEAD suites take no integrity algorithm (RFC 7296 §3.3)');
  } else {
    if (spec.suite.integ === INTEG_NONE) throw new RangeError('a non-AEAD cipher needs an integrity algorithm');
    integ = getInteg(spec.suite.integ, backend);
    if (spec.integKey.length !== integ.keyLen) {
      throw new RangeError(`SA ${spi.toString(16)}: integrity key must be ${integ.keyLen} bytes, got ${spec.integKey.length}`);
    }
    integKey = new Uint8Array(spec.integKey);
  }
  return {
    spi,
    dir: spec.dir,
    connection: spec.connection,
    childId: spec.childId,
    esn: spec.esn,
    cipher,
    encKey: new Uint8Array(spec.encKey),
    integ,
    integKey,
    local: { ...spec.local },
    remote: { ...spec.remote },
    encap: spec.encap,
    seq: spec.dir === 'out' ? new OutboundSeq(spec.esn) : null,
    replay: spec.dir === 'in' ? new ReplayWindow(spec.replayWindow, spec.esn) : null,
    life: new LifetimeCounter(spec.lifetime),
    lastUsedMs: 0,
    dead: false,
    lastMapping: null,
    policy: spec.dir === 'in' && (spec.localTs?.length || spec.remoteTs?.length) ? { localTs: spec.localTs ?? [], remoteTs: spec.remoteTs ?? [] } : null,
  };
}

/** Zeroize key material and mark the SA unusable. */
export function destroyEspSa(sa: EspSa): void {
  zeroize(sa.encKey);
  zeroize(sa.integKey);
  sa.dead = true;
  sa.replay?.reset();
}
