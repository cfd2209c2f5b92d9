/**
 * In-process two-gateway simulation: two IkeSaManagers, a ManualClock and an in-memory
 * "network" that carries their send actions to each other. Deterministic: SeededRng.
 * Endpoints: A is 10.0.0.1, B is 10.0.0.2 unless a NAT is simulated (B then sees A as
 * 100.64.0.1:<natPort>).
 */
import { parseConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { ManualClock } from '../../src/common/clock.js';
import { SeededRng } from '../../src/common/rng.js';
import { IkeSaManager } from '../../src/ike/manager.js';
import type { Action, IkeEvent, Output } from '../../src/ike/actions.js';
import type { Endpoint, SaSpec } from '../../src/esp/port.js';
import { decodeHeader } from '../../src/ike/wire/message.js';

export interface SideOpts {
  ike?: string[];
  esp?: string[];
  psk?: string;
  localTs?: string[];
  remoteTs?: string[];
  localId?: string;
  remoteId?: string;
  extra?: string; // raw YAML lines appended to the connection (indented 4)
  cookieThreshold?: number;
  startAction?: 'none' | 'start';
}

export function sideConfig(local: string, remote: string, o: SideOpts): GatewayConfig {
  const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  const yaml = `
cookie_threshold: ${o.cookieThreshold ?? 10}
connections:
  peer:
    local: { address: ${local}, id: ${JSON.stringify(o.localId ?? local)} }
    remote: { address: ${remote}, id: ${JSON.stringify(o.remoteId ?? remote)} }
    psk: ${JSON.stringify(o.psk ?? 'a fine shared secret for tests')}
    ike_proposals: ${list(o.ike ?? ['aes256gcm16-prfsha256-x25519'])}
    esp_proposals: ${list(o.esp ?? ['aes256gcm16'])}
    local_ts: ${list(o.localTs ?? ['10.1.0.0/16'])}
    remote_ts: ${list(o.remoteTs ?? ['10.2.0.0/16'])}
    start_action: ${o.startAction ?? 'none'}
${o.extra ?? ''}
`;
  return parseConfig(yaml, 'sim.yaml');
}

export interface Side {
  name: 'A' | 'B';
  mgr: IkeSaManager;
  addr: string;
  events: IkeEvent[];
  installed: SaSpec[];
  deleted: number[];
  sent: { at: number; bytes: Uint8Array; local: Endpoint; remote: Endpoint }[];
  /** the manager's rng (set nextFirstByte to steer nonce order) */
  rng: SeededRng;
  /** SPIs switched to by activate-outbound actions */
  activated: number[];
  /** data-plane actions in order */
  dataplane: { op: 'install' | 'activate' | 'delete'; spi: number; dir?: 'in' | 'out'; at: number }[];
}

export interface Pair {
  clock: ManualClock;
  a: Side;
  b: Side;
  /** return false to drop a datagram (direction 'AB' or 'BA') */
  filter: (dir: 'AB' | 'BA', bytes: Uint8Array, n: number) => boolean;
  /** how B sees A (NAT) */
  natA: Endpoint | null;
  initiate(): void;
  /** both sides initiate at the same moment (simultaneous initiation) */
  initiateBoth(): void;
  /**
   * make-before-break violations: a side switched its outbound to an SPI the other side had
   * not installed inbound (packets sent then would be lost as unknown SPI)
   */
  violations: string[];
  /** feed an Output obtained by calling a side's manager directly through the sim */
  deliver(side: Side, out: Output): void;
  terminate(): void;
  run(maxSteps?: number): void;
  advance(ms: number): void;
  exchanges(dir: 'AB' | 'BA'): { exchange: number; response: boolean; mid: number }[];
  /** called just before a datagram is handed to the receiving side */
  beforeDeliver: (to: Side, bytes: Uint8Array) => void;
}

export function makePair(aOpts: SideOpts, bOpts: SideOpts = aOpts, opts: { nat?: boolean; seed?: number } = {}): Pair {
  const clock = new ManualClock(1000);
  const mkSide = (name: 'A' | 'B', local: string, remote: string, so: SideOpts, seed: number): Side => {
    const rng = new SeededRng(seed);
    return {
      name,
      addr: local,
      mgr: new IkeSaManager(sideConfig(local, remote, so).connections, { rng, cookieThreshold: so.cookieThreshold ?? 10 }, clock.now()),
      events: [],
      installed: [],
      deleted: [],
      sent: [],
      rng,
      activated: [],
      dataplane: [],
    };
  };
  const natA: Endpoint | null = opts.nat ? { address: '100.64.0.1', port: 0 } : null;
  // with NAT, B is configured with A's public address
  const a = mkSide('A', '10.0.0.1', '10.0.0.2', aOpts, opts.seed ?? 11);
  const bMirror: SideOpts = bOpts === aOpts ? stripUndef({ ...aOpts, localTs: aOpts.remoteTs ?? ['10.2.0.0/16'], remoteTs: aOpts.localTs ?? ['10.1.0.0/16'], localId: aOpts.remoteId, remoteId: aOpts.localId }) as SideOpts : bOpts;
  const bo: SideOpts = { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'], ...stripUndef(bMirror) };
  const b = mkSide('B', '10.0.0.2', natA ? natA.address : '10.0.0.1', { ...bo, remoteId: bo.remoteId ?? aOpts.localId ?? '10.0.0.1', localId: bo.localId ?? aOpts.remoteId ?? '10.0.0.2' }, (opts.seed ?? 11) + 1);
  const queue: { to: Side; bytes: Uint8Array; local: Endpoint; remote: Endpoint }[] = [];
  const counters = { AB: 0, BA: 0 };
  const wake: { A: number | undefined; B: number | undefined } = { A: undefined, B: undefined };
  const pair: Pair = {
    clock,
    a,
    b,
    filter: () => true,
    beforeDeliver: () => {},
    natA,
    initiate() {
      apply(a, a.mgr.initiate('peer', clock.now()));
    },
    violations: [],
    deliver(side: Side, out: Output) {
      apply(side, out);
    },
    initiateBoth() {
      apply(a, a.mgr.initiate('peer', clock.now()));
      apply(b, b.mgr.initiate('peer', clock.now()));
    },
    terminate() {
      apply(a, a.mgr.terminate('peer', clock.now()));
    },
    run(maxSteps = 1000) {
      for (let i = 0; i < maxSteps && queue.length; i++) {
        const m = queue.shift()!;
        pair.beforeDeliver(m.to, m.bytes);
        apply(m.to, m.to.mgr.handleDatagram(m.bytes, m.local, m.remote, clock.now()));
      }
    },
    advance(ms: number) {
      const end = clock.now() + ms;
      for (;;) {
        const next = Math.min(wake.A ?? Infinity, wake.B ?? Infinity);
        if (next > end) break;
        clock.set(Math.max(clock.now(), next));
        if (wake.A !== undefined && wake.A <= clock.now()) apply(a, a.mgr.tick(clock.now()));
        if (wake.B !== undefined && wake.B <= clock.now()) apply(b, b.mgr.tick(clock.now()));
        pair.run();
      }
      clock.set(end);
      pair.run();
    },
    exchanges(dir) {
      const side = dir === 'AB' ? a : b;
      return side.sent.map((s) => {
        const h = decodeHeader(s.bytes);
        return { exchange: h.exchangeType, response: h.response, mid: h.messageId };
      });
    },
  };
  // A's NAT mapping: port 500 → 3500, 4500 → 34500
  const natPort = (p: number) => (p === 500 ? 3500 : 34500);
  const liveIn = new Map<Side, Set<number>>([
    [a, new Set()],
    [b, new Set()],
  ]);
  function apply(side: Side, out: Output): void {
    wake[side.name] = out.wakeAt;
    for (const act of out.actions) handle(side, act);
  }
  function handle(side: Side, act: Action): void {
    switch (act.kind) {
      case 'send': {
        const to = side === a ? b : a;
        const dir = side === a ? 'AB' : 'BA';
        for (const d of act.datagrams) {
          side.sent.push({ at: clock.now(), bytes: d, local: act.local, remote: act.remote });
          const n = counters[dir]++;
          if (!pair.filter(dir, d, n)) continue;
          let from = act.local;
          let dst = act.remote;
          if (natA && side === a) from = { address: natA.address, port: natPort(act.local.port) };
          if (natA && side === b) dst = { address: '10.0.0.1', port: act.remote.port === 3500 ? 500 : 4500 };
          queue.push({ to, bytes: d, local: dst, remote: from });
        }
        return;
      }
      case 'install-sa':
        side.installed.push(act.spec);
        side.dataplane.push({ op: 'install', spi: act.spec.spi, dir: act.spec.dir, at: clock.now() });
        if (act.spec.dir === 'in') liveIn.get(side)!.add(act.spec.spi);
        return;
      case 'activate-outbound':
        side.activated.push(act.spi);
        side.dataplane.push({ op: 'activate', spi: act.spi, at: clock.now() });
        {
          const other = side === a ? b : a;
          // a first CHILD_SA has no older pair to keep using; only switches away from one count
          const switching = side.dataplane.filter((d) => d.op === 'activate').length > 1;
          if (switching && !liveIn.get(other)!.has(act.spi)) pair.violations.push(`${side.name} switched to ${act.spi.toString(16)} at ${clock.now()} before ${other.name} installed it inbound`);
        }
        return;
      case 'delete-sa':
        side.deleted.push(act.spi);
        side.dataplane.push({ op: 'delete', spi: act.spi, at: clock.now() });
        liveIn.get(side)!.delete(act.spi);
        return;
      case 'event':
        side.events.push(act.event);
        return;
      default:
        return;
    }
  }
  return pair;
}

export function eventsOf<T extends IkeEvent['type']>(s: Side, type: T): Extract<IkeEvent, { type: T }>[] {
  return s.events.filter((e) => e.type === type) as Extract<IkeEvent, { type: T }>[];
}

function stripUndef<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
