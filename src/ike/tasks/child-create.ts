/**
 * CHILD_SA creation shared by IKE_AUTH and CREATE_CHILD_SA (RFC 7296 §1.3, §2.9 traffic
 * selector narrowing, §2.17 KEYMAT). Emits InstallSa actions: inbound first, then
 * outbound, then the outbound switch (make-before-break).
 */
import { getCipher, getInteg, encrIanaName as encrName, integIanaName as integName, keIanaName as keName } from '../../crypto/registry.js';
import { deriveChildKeymat } from '../keymat.js';
import type { EspSuiteSel } from '../proposal.js';
import type { TrafficSelectorConfig } from '../../config/types.js';
import type { TrafficSelectorWire } from '../wire/types.js';
import type { SaSpec, Spi } from '../../esp/port.js';
import type { ChildSa } from '../child-sa.js';
import type { ChildSaInfo } from '../actions.js';
import type { IkeSa } from '../ike-sa.js';
import { wantsEncap } from './ike-init.js';
import { narrow, isSubset, fromWire as tsFromWire, toWire as tsToWire, tsToString, type TS } from '../../net/traffic-selector.js';
import { hex, u32be } from '../../common/bytes.js';

export function spiBytes(spi: Spi): Uint8Array {
  return u32be(spi);
}
export function spiFromBytes(b: Uint8Array): Spi {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function toWire(ts: readonly TrafficSelectorConfig[]): TrafficSelectorWire[] {
  return ts.map(tsToWire);
}
export function fromWire(ts: readonly TrafficSelectorWire[]): TrafficSelectorConfig[] {
  const out: TrafficSelectorConfig[] = [];
  for (const w of ts) {
    const t = tsFromWire(w);
    if (t) out.push(withText(t));
  }
  return out;
}

function withText(t: TS): TrafficSelectorConfig {
  return { ...t, text: tsToString(t) };
}

/**
 * Responder narrowing (§2.9): TSi against our remote selectors, TSr against our local ones.
 * Returns null when either side narrows to nothing (→ TS_UNACCEPTABLE).
 */
export function narrowAsResponder(
  sa: IkeSa,
  tsi: readonly TrafficSelectorWire[],
  tsr: readonly TrafficSelectorWire[],
): { remote: TrafficSelectorConfig[]; local: TrafficSelectorConfig[] } | null {
  const remote = narrow(fromWire(tsi), sa.conn.remoteTs).map(withText);
  const local = narrow(fromWire(tsr), sa.conn.localTs).map(withText);
  if (!remote.length || !local.length) return null;
  return { remote, local };
}

/** Initiator: the responder's selectors must lie within what we proposed. */
export function checkNarrowed(
  sa: IkeSa,
  tsi: readonly TrafficSelectorWire[],
  tsr: readonly TrafficSelectorWire[],
): { local: TrafficSelectorConfig[]; remote: TrafficSelectorConfig[] } | null {
  const local = fromWire(tsi);
  const remote = fromWire(tsr);
  if (!local.length || !remote.length) return null;
  if (!local.every((t) => sa.conn.localTs.some((c) => isSubset(t, c)))) return null;
  if (!remote.every((t) => sa.conn.remoteTs.some((c) => isSubset(t, c)))) return null;
  return { local, remote };
}

export interface ChildParams {
  suite: EspSuiteSel;
  spiIn: Spi;
  spiOut: Spi;
  localTs: TrafficSelectorConfig[];
  remoteTs: TrafficSelectorConfig[];
  ni: Uint8Array;
  nr: Uint8Array;
  gir: Uint8Array | null;
  /** we initiated the exchange that creates this child (decides KEYMAT direction) */
  weInitiated: boolean;
  /** don't switch outbound yet (rekey initiator activates after the exchange) */
  activate: boolean;
}

export function childLifetimes(sa: IkeSa, now: number): { rekeyAt: number; expireAt: number } {
  const c = sa.conn.child;
  const jitter = Math.floor(c.rekeyMs * c.jitter * sa.deps.rng.float());
  return { rekeyAt: now + c.rekeyMs - jitter, expireAt: now + c.lifeMs };
}

/** Derive KEYMAT and emit the install actions; returns the new ChildSa (already recorded on sa). */
export function installChild(sa: IkeSa, p: ChildParams, now: number): ChildSa {
  const cipher = getCipher(p.suite.encr.id, p.suite.encr.keyBits);
  const integ = p.suite.integ !== null ? getInteg(p.suite.integ) : null;
  const km = deriveChildKeymat({
    prf: sa.crypto!.prf,
    skD: sa.crypto!.keys.skD,
    ...(p.gir ? { gir: p.gir } : {}),
    ni: p.ni,
    nr: p.nr,
    encKeyLen: cipher.keyLen,
    integKeyLen: integ ? integ.keyLen : 0,
  });
  const out = p.weInitiated ? { enc: km.encI, integ: km.integI } : { enc: km.encR, integ: km.integR };
  const inn = p.weInitiated ? { enc: km.encR, integ: km.integR } : { enc: km.encI, integ: km.integI };
  const encap = wantsEncap(sa);
  const c = sa.conn.child;
  const lifetime = {
    soft: { ...(c.rekeyBytes ? { bytes: c.rekeyBytes } : {}), ...(c.rekeyPackets ? { packets: c.rekeyPackets } : {}) },
    hard: { ...(c.lifeBytes ? { bytes: c.lifeBytes } : {}), ...(c.lifePackets ? { packets: c.lifePackets } : {}) },
  };
  const id = sa.deps.nextChildId();
  const base = {
    connection: sa.conn.name,
    childId: id,
    suite: { encr: p.suite.encr.id, encrKeyBits: p.suite.encr.keyBits, integ: p.suite.integ ?? 0 },
    esn: p.suite.esn,
    local: { ...sa.local },
    remote: { ...sa.remote },
    encap,
    lifetime,
  };
  // inbound: the data plane drops decrypted packets outside the negotiated selectors (RFC 4301 §5.2)
  const specIn: SaSpec = { ...base, spi: p.spiIn, dir: 'in', encKey: inn.enc, integKey: inn.integ, replayWindow: sa.conn.replayWindow, localTs: p.localTs, remoteTs: p.remoteTs };
  const specOut: SaSpec = { ...base, spi: p.spiOut, dir: 'out', encKey: out.enc, integKey: out.integ, replayWindow: 0 };
  sa.out.push({ kind: 'install-sa', spec: specIn });
  sa.out.push({ kind: 'install-sa', spec: specOut });
  if (p.activate) sa.out.push({ kind: 'activate-outbound', connection: sa.conn.name, spi: p.spiOut });

  const encr = encrName(p.suite.encr.id, p.suite.encr.keyBits);
  const integName_ = p.suite.integ !== null ? integName(p.suite.integ) : null;
  for (const [spec, keys] of [[specIn, inn], [specOut, out]] as const) {
    sa.emit({
      type: 'keys',
      kind: 'esp',
      spi: p.spiIn === spec.spi ? hex(spiBytes(p.spiIn)) : hex(spiBytes(p.spiOut)),
      dir: spec.dir,
      encKey: hex(keys.enc),
      integKey: hex(keys.integ),
      encr,
      integ: integName_,
      src: spec.dir === 'out' ? sa.local.address : sa.remote.address,
      dst: spec.dir === 'out' ? sa.remote.address : sa.local.address,
    });
  }
  const info: ChildSaInfo = {
    connection: sa.conn.name,
    childId: id,
    spiIn: p.spiIn,
    spiOut: p.spiOut,
    encr,
    integ: integName_,
    ke: p.suite.ke !== null ? keName(p.suite.ke) : null,
    esn: p.suite.esn,
    localTs: p.localTs.map(tsToString),
    remoteTs: p.remoteTs.map(tsToString),
    encap,
  };
  const lt = childLifetimes(sa, now);
  const child: ChildSa = {
    id,
    spiIn: p.spiIn,
    spiOut: p.spiOut,
    suite: p.suite,
    localTs: p.localTs,
    remoteTs: p.remoteTs,
    state: 'installed',
    encap,
    installedAt: now,
    rekeyAt: lt.rekeyAt,
    expireAt: lt.expireAt,
    info,
  };
  sa.children.set(id, child);
  // the key buffers now belong to the install actions; the data plane zeroizes them on delete
  sa.emit({ type: 'child-up', ike: sa.id, child: info });
  return child;
}
