/**
 * Child SA volume lifetimes (RFC 4301 §4.4.2.1 "SA Lifetime"): soft and hard limits on
 * bytes and packets, counted per SA. Time-based lifetimes are IKE's (rekey timers live in
 * the IKE core); jitter is applied by IKE before the spec reaches the SAD.
 *
 * `count()` is called once per packet *after* it has been authenticated (inbound) or
 * sealed (outbound). The packet that reaches a limit is still delivered; each limit
 * fires exactly once. After the hard limit the SA is dead: the SAD drops further traffic
 * on it (DropReason.NoSa) until IKE deletes it.
 */
import type { Lifetime } from './port.js';

export const LifetimeHit = {
  None: 0,
  Soft: 1,
  Hard: 2,
} as const;
export type LifetimeHit = (typeof LifetimeHit)[keyof typeof LifetimeHit];

export class LifetimeCounter {
  bytes = 0;
  packets = 0;
  softFired = false;
  hardFired = false;
  /** which limit fired last ('bytes' | 'packets'), for the expire event */
  reason: 'bytes' | 'packets' = 'bytes';
  private readonly softBytes: number;
  private readonly softPackets: number;
  private readonly hardBytes: number;
  private readonly hardPackets: number;

  constructor(lt: Lifetime) {
    this.softBytes = limit(lt.soft.bytes);
    this.softPackets = limit(lt.soft.packets);
    this.hardBytes = limit(lt.hard.bytes);
    this.hardPackets = limit(lt.hard.packets);
  }

  /** Add one packet of `bytes`; returns the highest limit newly reached by it. */
  count(bytes: number): LifetimeHit {
    this.bytes += bytes;
    this.packets += 1;
    if (!this.hardFired) {
      if (this.bytes >= this.hardBytes) return this.fire(true, 'bytes');
      if (this.packets >= this.hardPackets) return this.fire(true, 'packets');
    }
    if (!this.softFired) {
      if (this.bytes >= this.softBytes) return this.fire(false, 'bytes');
      if (this.packets >= this.softPackets) return this.fire(false, 'packets');
    }
    return LifetimeHit.None;
  }

  private fire(hard: boolean, reason: 'bytes' | 'packets'): LifetimeHit {
    this.reason = reason;
    if (hard) {
      // a hard expiry implies the soft one: never report soft after hard
      this.hardFired = true;
      this.softFired = true;
      return LifetimeHit.Hard;
    }
    this.softFired = true;
    return LifetimeHit.Soft;
  }
}

/** undefined or 0 → no limit */
function limit(v: number | undefined): number {
  return v === undefined || v <= 0 ? Infinity : v;
}
