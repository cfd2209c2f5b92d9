/**
 * Default values applied by config/load.ts to keys the YAML file leaves out.
 * Times in ms. Sources: RFC 7296 §2.1 (retransmission), strongSwan swanctl.conf defaults
 * (rekey 4h/1h, rand_time 10 %, life = rekey × 1.1, dpd), RFC 3948 §4 (keepalive 20 s).
 */
import { IKE_PORT } from '../ike/wire/constants.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;

export const DEFAULTS = {
  log: { level: 'info' },
  control: { socket: '/run/ikegw/ikegw.sock' },
  // the packet path runs ahead of ordinary processes (bench/README.md: +10 % on a loaded 2-core box)
  dataplane: { backend: 'native' as const, nice: -10 },
  /** half-open IKE SAs before COOKIEs are demanded (RFC 7296 §2.6) */
  cookieThreshold: 10,
  port: IKE_PORT,
  /** proposal keyword lists used when a connection gives none, or says "default" */
  ikeProposals: ['aes256gcm16-prfsha256-x25519', 'aes256-sha256-prfsha256-modp2048'],
  espProposals: ['aes256gcm16', 'aes256-sha256'],
  /** both families, everything: route-based setups narrow with routes, not selectors */
  localTs: ['0.0.0.0/0', '::/0'],
  remoteTs: ['0.0.0.0/0', '::/0'],
  startAction: 'none' as const,
  encap: 'always' as const,
  /** RFC 7296 §2.1: 4 s × 1.8^n, give up after 5 retransmissions */
  retransmit: { timeoutMs: 4 * S, base: 1.8, tries: 5 },
  ikeRekeyMs: 4 * H,
  childRekeyMs: 1 * H,
  /** hard lifetime = rekey × this, when not given */
  lifeFactor: 1.1,
  /** fraction of the rekey time subtracted at random */
  jitter: 0.1,
  dpd: { delayMs: 30 * S, action: 'restart' as const },
  fragmentation: { enabled: true, maxSize: 1280 },
  replayWindow: 1024,
  natKeepaliveMs: 20 * S,
  tunnel: { namePrefix: 'ikegw-', mtu: 1400, mssClamp: 'auto' as const },
  /** Linux IFNAMSIZ - 1 */
  maxIfNameLen: 15,
  /** PSKs shorter than this are refused; shorter than `pskWarnLen` draw a warning */
  pskMinLen: 8,
  pskWarnLen: 16,
} as const;

/** Default tunnel interface name for a connection: "ikegw-<connection name>". */
export function defaultTunnelName(connectionName: string): string {
  return `${DEFAULTS.tunnel.namePrefix}${connectionName}`;
}
