/**
 * CHILD_SA rekeying under load: ikegw ⇄ strongSwan 5.9.8 (kernel-libipsec) and ikegw ⇄ ikegw,
 * with short CHILD lifetimes and a steady UDP stream (test/tools/seqstream) of ≥ 2,000 pps in
 * each direction (hostA → hostB and hostB → hostA) across several rekeys. Asserts 0 lost and
 * 0 duplicated datagrams, the stream rate, and that the number of rekeys seen is the one the
 * lifetimes imply (ikegw's `rekeyed`/child-rekeyed log events, strongSwan's
 * `CHILD_SA net{n} established` log lines).
 *
 * Cases: (a) ikegw rekeys, (b) strongSwan rekeys, (c) both sides with equal lifetimes (rekey
 * collisions possible), (d) PFS (esp aes256gcm16-x25519), (e) ikegw ⇄ ikegw; ikegw as IKE
 * initiator and as responder across them. Default: 3 rekeys per case with 4 s rekey times (≈ 90 s for the file);
 * IKEGW_LONG=1: ≥ 10 rekeys per case (6 s) and every case in both roles.
 * IKE SA rekeying under load runs by default too (IKEGW_IKE_REKEY=0 skips it).
 *
 * Every case prints one line `[rekey] <case>: ...` with the figures.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, ping, requireInterop, spawnIn, stopChild, twoGateways, type TwoGateways } from './lib/netns.js';
import { StrongSwan, type ParsedSa } from './lib/strongswan.js';
import { Ikegw, REPO, rekeyCounts, type StatusSa } from './lib/ikegw.js';
import type { RecvSummary, SendSummary } from '../tools/seqstream.js';

const gate = requireInterop('CHILD_SA rekey under load', { strongswan: true });
const PSK = 'rekey-secret-0123456789abcdef';
const SEQSTREAM = join(REPO, 'dist/test/tools/seqstream.js');
const LONG = process.env['IKEGW_LONG'] === '1';
const IKE_REKEY = process.env['IKEGW_IKE_REKEY'] !== '0';
/** CHILD rekey interval on the side(s) that should rekey (seconds; no jitter) */
const R = LONG ? 6 : 4;
/** rekeys to see per case */
const N = LONG ? 10 : 3;
const RATE = 2500;
const IKE = 'aes256gcm16-prfsha256-x25519';

const upSw = (sas: ParsedSa[]) => sas.length === 1 && sas[0]!.state === 'ESTABLISHED' && sas[0]!.children.some((c) => c.state === 'INSTALLED');
const upGw = (sas: StatusSa[]) => sas.length === 1 && sas[0]!.ike.state === 'established' && sas[0]!.children.length >= 1;
const oneChild = (sas: StatusSa[]) => sas.length === 1 && sas[0]!.ike.state === 'established' && sas[0]!.children.length === 1;

const gwLifetime = (rekey: number | null) =>
  rekey === null ? '    child_lifetime: { rekey_time: 1h, life_time: 2h, jitter: 0% }' : `    child_lifetime: { rekey_time: ${rekey}s, life_time: ${rekey * 3}s, jitter: 0% }`;
const LONG_IKE = '    ike_lifetime: { rekey_time: 4h, life_time: 5h, jitter: 0% }';

// ---------------------------------------------------------------------------------------------
// seqstream processes
// ---------------------------------------------------------------------------------------------

function collect(child: ChildProcess): { out: () => string; err: () => string; exit: Promise<number | null> } {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => (out += d.toString()));
  child.stderr?.on('data', (d) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { out: () => out, err: () => err, exit };
}

interface Stream {
  label: string;
  send: Promise<SendSummary>;
  recv: Promise<RecvSummary>;
  procs: ChildProcess[];
}

/** Start a receiver in `toNs` on `port`, wait until it listens, then the sender in `fromNs`. */
async function startStream(label: string, fromNs: string, toNs: string, toAddr: string, port: number, seconds: number): Promise<Stream> {
  const rp = spawnIn(toNs, [process.execPath, SEQSTREAM, 'recv', '--port', String(port), '--seconds', String(seconds + 20), '--json']);
  const rc = collect(rp);
  const until = Date.now() + 10_000;
  while (!rc.err().includes('"listening"')) {
    if (rp.exitCode !== null || Date.now() > until) throw new Error(`seqstream recv did not start: ${rc.err()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const to = toAddr.includes(':') ? `[${toAddr}]:${port}` : `${toAddr}:${port}`;
  const sp = spawnIn(fromNs, [process.execPath, SEQSTREAM, 'send', '--to', to, '--rate', String(RATE), '--seconds', String(seconds), '--json']);
  const sc = collect(sp);
  const parse = async <T,>(c: ReturnType<typeof collect>, what: string): Promise<T> => {
    const code = await c.exit;
    const line = c.out().trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(line) as T;
    } catch {
      throw new Error(`seqstream ${what} (${label}) exited ${code} without a summary: ${c.out()} ${c.err()}`);
    }
  };
  return { label, send: parse<SendSummary>(sc, 'send'), recv: parse<RecvSummary>(rc, 'recv'), procs: [rp, sp] };
}

interface StreamResult {
  label: string;
  send: SendSummary;
  recv: RecvSummary;
}

/** traffic both ways for `seconds`; resolves when both senders finished and receivers reported */
/** UDP RcvbufErrors in a namespace */
function rcvbufErrors(ns: string): number {
  return drops(ns)['udp.RcvbufErrors'] ?? 0;
}

/** non-zero ikegw data-plane drop counters */
async function gwDrops(gw: Ikegw): Promise<Record<string, number>> {
  try {
    const r = await gw.ctl({ cmd: 'status' });
    const d = ((r.result as { stats?: { dataplane?: { drops?: Record<string, number> } } }).stats?.dataplane?.drops ?? {}) as Record<string, number>;
    return Object.fromEntries(Object.entries(d).filter(([, v]) => v > 0));
  } catch (e) {
    return { statusError: 1 };
  }
}

async function trafficBothWays(net: TwoGateways, seconds: number, onSendersDone: () => void): Promise<StreamResult[]> {
  const { ns, addr } = net;
  const streams = [
    await startStream('A→B', ns.hostA, ns.hostB, addr.hostB.v4, 5001, seconds),
    await startStream('B→A', ns.hostB, ns.hostA, addr.hostA.v4, 5002, seconds),
  ];
  try {
    const sends = await Promise.all(streams.map((s) => s.send));
    onSendersDone();
    const recvs = await Promise.all(streams.map((s) => s.recv));
    return streams.map((s, i) => ({ label: s.label, send: sends[i]!, recv: recvs[i]! }));
  } finally {
    for (const s of streams) for (const p of s.procs) await stopChild(p, 1000);
  }
}

/** kernel drop counters in a namespace: UDP receive-buffer errors and per-link rx/tx drops (non-zero only) */
function drops(ns: string): Record<string, number> {
  const out: Record<string, number> = {};
  const snmp = exec(ns, ['cat', '/proc/net/snmp']).stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  if (snmp.length === 2) {
    const keys = snmp[0]!.split(/\s+/);
    const vals = snmp[1]!.split(/\s+/);
    for (const k of ['InErrors', 'RcvbufErrors', 'SndbufErrors']) {
      const v = Number(vals[keys.indexOf(k)]);
      if (v) out[`udp.${k}`] = v;
    }
  }
  try {
    const links = JSON.parse(exec(ns, ['ip', '-s', '-j', 'link']).stdout) as { ifname: string; stats64?: { rx: { dropped: number }; tx: { dropped: number } } }[];
    for (const l of links) {
      if (l.stats64?.rx.dropped) out[`${l.ifname}.rxDrop`] = l.stats64.rx.dropped;
      if (l.stats64?.tx.dropped) out[`${l.ifname}.txDrop`] = l.stats64.tx.dropped;
    }
  } catch {
    /* old iproute2 */
  }
  return out;
}

function allDrops(net: TwoGateways): string {
  const parts: string[] = [];
  for (const [role, ns] of Object.entries(net.ns)) {
    const d = drops(ns);
    if (Object.keys(d).length) parts.push(`${role} ${JSON.stringify(d)}`);
  }
  return parts.length ? parts.join(' ') : 'none';
}

function fmt(r: StreamResult): string {
  const v = r.recv;
  return `${r.label} sent ${r.send.sent} @${r.send.pps} pps (send errors ${r.send.errors}), recv ${v.received} @${v.pps} pps: lost ${v.lost}, dup ${v.duplicated}, reordered ${v.reordered}, max gap ${v.maxGapMs} ms${v.jumps.length ? ` gaps [first,last,epoch ms] ${JSON.stringify(v.jumps.slice(0, 8))}` : ''}`;
}

/**
 * @param excused per stream label: datagrams lost outside ikegw that the kernel accounted for
 *   (UDP receive-buffer overflow of charon's libipsec socket on a starved, shared 2-core machine)
 */
/** the daemon silently runs control-plane-only when native/build is missing (e.g. being rebuilt by someone) */
function requireDataPlane(...gws: Ikegw[]): void {
  for (const g of gws) expect(g.log(), 'ikegw started without its native data plane (native/build missing or being rebuilt?)').not.toMatch(/native data plane not available/);
}

/** pino `time` of the first `CHILD_SA installed` line (ms) */
function firstChildAt(log: string): number {
  const m = /"time":(\d+),[^\n]*"msg":"CHILD_SA installed"/.exec(log);
  if (!m) throw new Error('no CHILD_SA installed line in the ikegw log');
  return Number(m[1]);
}

/**
 * Rekeys the lifetimes imply between the first CHILD_SA and `end` (ms): one per R seconds, each
 * generation starting a few ms after the previous one (exchange time); ±500 ms slack for clocks/logging.
 */
function expectedRekeys(upAt: number, end: number): { lo: number; hi: number } {
  const span = end - upAt;
  return { lo: Math.floor((span - 500 - 60 * N) / (R * 1000)), hi: Math.floor((span + 500) / (R * 1000)) };
}

function checkStreams(label: string, results: StreamResult[], excused: Record<string, number> = {}): void {
  for (const r of results) {
    const v = r.recv;
    const ex = Math.min(excused[r.label] ?? 0, v.lost);
    expect(r.send.errors, `${label} ${r.label}: send errors (${r.send.firstError})`).toBe(0);
    expect(v.sentByPeer, `${label} ${r.label}: end marker received`).toBe(r.send.sent);
    expect(r.send.pps, `${label} ${r.label}: sender rate`).toBeGreaterThanOrEqual(2000);
    expect(v.pps, `${label} ${r.label}: receive rate`).toBeGreaterThanOrEqual(2000);
    expect(v.lost - ex, `${label} ${r.label}: lost datagrams (${ex} excused as strongSwan rcvbuf overflow), gaps ${JSON.stringify(v.jumps)}`).toBe(0);
    expect(v.duplicated, `${label} ${r.label}: duplicated datagrams`).toBe(0);
  }
}

/** strongSwan: CHILD_SAs established (initial + rekeys, collision losers included), collisions */
function swCounts(sw: StrongSwan): { established: number; collisions: number; rekeying: number } {
  const log = sw.log();
  // rekeys log `inbound CHILD_SA net{n} established ...` and later `outbound CHILD_SA net{n} ...`:
  // count distinct unique ids
  const ids = new Set([...log.matchAll(/CHILD_SA \S+\{(\d+)\} established with SPIs/g)].map((m) => m[1]));
  return {
    established: ids.size,
    collisions: (log.match(/detected CHILD_REKEY collision/g) ?? []).length,
    rekeying: (log.match(/rekeying CHILD_SA/gi) ?? []).length,
  };
}

// ---------------------------------------------------------------------------------------------
// cases
// ---------------------------------------------------------------------------------------------

type Rekeyer = 'ikegw' | 'strongswan' | 'both';
interface SwCase {
  name: string;
  /** who initiates the IKE SA */
  initiator: 'ikegw' | 'strongswan';
  rekeyer: Rekeyer;
  pfs?: boolean;
}

const SW_CASES: SwCase[] = [
  { name: '(a) ikegw rekeys, ikegw initiator', initiator: 'ikegw', rekeyer: 'ikegw' },
  { name: '(b) strongSwan rekeys, ikegw responder', initiator: 'strongswan', rekeyer: 'strongswan' },
  { name: '(c) both rekey (equal lifetimes), ikegw initiator', initiator: 'ikegw', rekeyer: 'both' },
  { name: '(d) PFS x25519, ikegw rekeys, ikegw responder', initiator: 'strongswan', rekeyer: 'ikegw', pfs: true },
];
if (LONG) {
  SW_CASES.push(
    { name: '(a2) ikegw rekeys, ikegw responder', initiator: 'strongswan', rekeyer: 'ikegw' },
    { name: '(b2) strongSwan rekeys, ikegw initiator', initiator: 'ikegw', rekeyer: 'strongswan' },
    { name: '(c2) both rekey (equal lifetimes), ikegw responder', initiator: 'strongswan', rekeyer: 'both' },
    { name: '(d2) PFS x25519, strongSwan rekeys, ikegw initiator', initiator: 'ikegw', rekeyer: 'strongswan', pfs: true },
    { name: '(d3) PFS x25519, both rekey, ikegw initiator', initiator: 'ikegw', rekeyer: 'both', pfs: true },
  );
}

/** traffic seconds: N rekeys at R, 2R, ... NR after the CHILD_SA came up, and 1.5 s beyond */
const TRAFFIC_S = N * R + 1.5;
const CASE_TIMEOUT = (TRAFFIC_S + 40) * 1000;

describe.skipIf(!gate.ok)('CHILD_SA rekey under load', () => {
  let base = '';
  beforeAll(() => {
    if (!existsSync(SEQSTREAM)) throw new Error(`${SEQSTREAM} missing: run npm run build`);
    base = mkdtempSync(join(tmpdir(), 'ikt-rk-'));
  });
  afterAll(() => {
    if (base && !process.env['IKEGW_KEEP_LOGS']) rmSync(base, { recursive: true, force: true });
  });

  for (const c of SW_CASES) {
    it(`ikegw ⇄ strongSwan ${c.name}: ${N} CHILD rekeys, ${RATE} pps both ways, 0 lost / 0 dup`, async () => {
      const tag = c.name.slice(1, c.name.indexOf(')'));
      const net = twoGateways({});
      const gw = new Ikegw();
      const sw = new StrongSwan();
      try {
        const { ns, outer } = net;
        const esp = c.pfs ? 'aes256gcm16-x25519' : 'aes256gcm16';
        const gwRekeys = c.rekeyer !== 'strongswan';
        const swRekeys = c.rekeyer !== 'ikegw';
        await Promise.all([
          gw.start(ns.gwA, join(base, `${tag}-gw`), [
            { local: outer.gwALocal, remote: outer.gwB, localId: 'ikegw.test', remoteId: 'swan.test', psk: PSK, ike: [IKE], esp: [esp], localTs: [net.net.lanA.v4], remoteTs: [net.net.lanB.v4], extra: `${gwLifetime(gwRekeys ? R : null)}\n${LONG_IKE}` },
          ], { logLevel: 'info' }),
          sw.start({
            ns: ns.gwB,
            dir: join(base, `${tag}-sw`),
            // chd=2/ike=2: the key dumps at level 4 would cost CPU the stream needs
            logLevels: { ike: 2, chd: 2, knl: 1, cfg: 1 },
            conf: {
              name: 'gw', localAddrs: outer.gwB, remoteAddrs: outer.gwALocal, localId: 'swan.test', remoteId: 'ikegw.test', psk: PSK, proposals: IKE,
              rekeyTime: '4h', reauthTime: 0, overTime: '1h', randTime: 0,
              children: [{ name: 'net', espProposals: esp, localTs: [net.net.lanB.v4], remoteTs: [net.net.lanA.v4], ...(swRekeys ? { rekeyTime: R, lifeTime: R * 3, randTime: 0 } : { rekeyTime: '1h', lifeTime: '2h', randTime: 0 }) }],
            },
          }),
        ]);
        requireDataPlane(gw);
        if (c.initiator === 'ikegw') expect((await gw.ctl({ cmd: 'up', name: 'gw' })).ok).toBe(true);
        else sw.initiate('net');
        await sw.waitFor(upSw, 10_000);
        const [g0] = await gw.waitFor(upGw, 10_000);
        expect(g0!.children[0]!.encr).toBeDefined();
        // warm up (neighbour caches on both LANs)
        expect(ping(ns.hostA, net.addr.hostB.v4, { count: 2, timeoutS: 3, intervalS: 0.1 }).received).toBeGreaterThanOrEqual(1);
        expect(ping(ns.hostB, net.addr.hostA.v4, { count: 2, timeoutS: 3, intervalS: 0.1 }).received).toBeGreaterThanOrEqual(1);

        let atEnd = { gw: rekeyCounts(''), sw: swCounts(sw), t: 0 };
        const rcvbuf0 = rcvbufErrors(ns.gwB);
        const results = await trafficBothWays(net, TRAFFIC_S, () => {
          atEnd = { gw: rekeyCounts(gw.log()), sw: swCounts(sw), t: Date.now() };
        });
        const want = expectedRekeys(firstChildAt(gw.log()), atEnd.t);
        // A→B ESP reaches charon's UDP socket on gwB; B→A ESP reaches ikegw on gwA
        const swRcvbuf = rcvbufErrors(ns.gwB) - rcvbuf0;
        const dpDrops = await gwDrops(gw);
        const swRekeysSeen = atEnd.sw.established - 1;
        console.log(
          `[rekey] ${c.name}: ikegw child-rekeyed ${atEnd.gw.childRekeyed} (installed ${atEnd.gw.childInstalled}, deleted ${atEnd.gw.childDeleted}, collisions ${atEnd.gw.collisions}); ` +
            `strongSwan CHILD_SAs established ${atEnd.sw.established} (collisions ${atEnd.sw.collisions}); expected ${want.lo === want.hi ? want.lo : `${want.lo}-${want.hi}`}; ${results.map(fmt).join('; ')}; kernel drops: ${allDrops(net)}; ikegw data-plane drops ${JSON.stringify(dpDrops)}`,
        );
        expect(gw.alive(), 'ikegw still running').toBe(true);
        checkStreams(c.name, results, { 'A→B': swRcvbuf });
        // one generation per R seconds; equal lifetimes may add a collision loser on strongSwan's side
        expect(want.lo).toBeGreaterThanOrEqual(N);
        const gwMsg = `ikegw rekeys seen (expected ${want.lo}..${want.hi})\n${gw.log().split('\n').filter((l) => /rekey|CHILD_SA/.test(l)).slice(-20).join('\n')}`;
        expect(atEnd.gw.childRekeyed, gwMsg).toBeGreaterThanOrEqual(want.lo);
        expect(atEnd.gw.childRekeyed, gwMsg).toBeLessThanOrEqual(want.hi);
        // strongSwan: one CHILD_SA per generation, plus the redundant one of each collision
        expect(swRekeysSeen, 'strongSwan CHILD_SAs established - 1').toBeGreaterThanOrEqual(want.lo);
        expect(swRekeysSeen, 'strongSwan CHILD_SAs established - 1').toBeLessThanOrEqual(want.hi + atEnd.sw.collisions + atEnd.gw.collisions);
        // afterwards: exactly one CHILD_SA pair left, SPIs agree, the tunnel still carries traffic
        const [g] = await gw.waitFor(oneChild, 4000);
        // charon keeps a rekeyed CHILD_SA in state DELETED for a while: look at INSTALLED ones
        const installed = (sas: ParsedSa[]) => sas[0]?.children.filter((ch) => ch.state === 'INSTALLED') ?? [];
        const [s] = await sw.waitFor((sas) => upSw(sas) && installed(sas).length === 1, 4000);
        const gc = g!.children[0]!;
        const sc = installed([s!])[0]!;
        expect(gc.spiIn).toBe(sc.spiOut);
        expect(gc.spiOut).toBe(sc.spiIn);
        expect(gc.spiIn).not.toBe(g0!.children[0]!.spiIn);
        expect(ping(ns.hostA, net.addr.hostB.v4, { count: 2, timeoutS: 3, intervalS: 0.1 }).received).toBeGreaterThanOrEqual(1);
      } finally {
        await gw.stop();
        await sw.stop();
        await net.teardown();
      }
    }, CASE_TIMEOUT);
  }

  const GG_CASES: { name: string; aRekey: number | null; bRekey: number | null; ikeRekey?: number }[] = [
    { name: '(e) ikegw ⇄ ikegw, the IKE responder rekeys', aRekey: null, bRekey: R },
    // CHILD rekeys by A every R s and IKE SA rekeys by B every 2R+1 s, interleaved
    { name: '(f) ikegw ⇄ ikegw, CHILD and IKE SA rekeys', aRekey: R, bRekey: null, ikeRekey: 2 * R + 1 },
    ...(LONG ? [{ name: '(e2) ikegw ⇄ ikegw, equal lifetimes', aRekey: R, bRekey: R }] : []),
  ];
  for (const c of GG_CASES) {
    it(`${c.name}: ${N} CHILD rekeys, ${RATE} pps both ways, 0 lost / 0 dup`, async () => {
      const tag = c.name.slice(1, c.name.indexOf(')'));
      const net = twoGateways({});
      const a = new Ikegw();
      const b = new Ikegw();
      try {
        const { ns, outer } = net;
        const conn = { psk: PSK, ike: [IKE], esp: ['aes256gcm16'] };
        const bIke = c.ikeRekey ? `    ike_lifetime: { rekey_time: ${c.ikeRekey}s, life_time: ${c.ikeRekey * 4}s, jitter: 0% }` : LONG_IKE;
        await b.start(ns.gwB, join(base, `${tag}-b`), [{ ...conn, local: outer.gwB, remote: outer.gwALocal, localId: 'b.test', remoteId: 'a.test', localTs: [net.net.lanB.v4], remoteTs: [net.net.lanA.v4], extra: `${gwLifetime(c.bRekey)}\n${bIke}` }], { logLevel: 'info' });
        await a.start(ns.gwA, join(base, `${tag}-a`), [{ ...conn, local: outer.gwALocal, remote: outer.gwB, localId: 'a.test', remoteId: 'b.test', localTs: [net.net.lanA.v4], remoteTs: [net.net.lanB.v4], startAction: 'start', extra: `${gwLifetime(c.aRekey)}\n${LONG_IKE}` }], { logLevel: 'info' });
        requireDataPlane(a, b);
        const [a0] = await a.waitFor(upGw);
        await b.waitFor(upGw);
        expect(ping(ns.hostA, net.addr.hostB.v4, { count: 2, timeoutS: 3, intervalS: 0.1 }).received).toBeGreaterThanOrEqual(1);
        expect(ping(ns.hostB, net.addr.hostA.v4, { count: 2, timeoutS: 3, intervalS: 0.1 }).received).toBeGreaterThanOrEqual(1);
        let atEnd = { a: rekeyCounts(''), b: rekeyCounts(''), t: 0 };
        const results = await trafficBothWays(net, TRAFFIC_S, () => {
          atEnd = { a: rekeyCounts(a.log()), b: rekeyCounts(b.log()), t: Date.now() };
        });
        const want = expectedRekeys(firstChildAt(a.log()), atEnd.t);
        const [da, db] = [await gwDrops(a), await gwDrops(b)];
        console.log(
          `[rekey] ${c.name}: A child-rekeyed ${atEnd.a.childRekeyed} (collisions ${atEnd.a.collisions}), B child-rekeyed ${atEnd.b.childRekeyed} (collisions ${atEnd.b.collisions}); expected ${want.lo === want.hi ? want.lo : `${want.lo}-${want.hi}`}; ${results.map(fmt).join('; ')}; kernel drops: ${allDrops(net)}; data-plane drops A ${JSON.stringify(da)} B ${JSON.stringify(db)}`,
        );
        expect(a.alive() && b.alive(), 'both daemons running').toBe(true);
        checkStreams(c.name, results);
        expect(want.lo).toBeGreaterThanOrEqual(N);
        for (const [who, n] of [['A', atEnd.a.childRekeyed], ['B', atEnd.b.childRekeyed]] as const) {
          expect(n, `${who} rekeys seen (expected ${want.lo}..${want.hi})`).toBeGreaterThanOrEqual(want.lo);
          expect(n, `${who} rekeys seen (expected ${want.lo}..${want.hi})`).toBeLessThanOrEqual(want.hi);
        }
        if (c.ikeRekey) {
          const ikeSeen = Math.max(atEnd.a.ikeRekeyed, atEnd.b.ikeRekeyed);
          console.log(`[rekey] ${c.name}: IKE SA rekeyed ${ikeSeen} times`);
          expect(ikeSeen).toBeGreaterThanOrEqual(Math.floor((TRAFFIC_S - 1) / c.ikeRekey));
        }
        const [ga] = await a.waitFor(oneChild, 4000);
        const [gb] = await b.waitFor(oneChild, 4000);
        expect(ga!.children[0]!.spiOut).toBe(gb!.children[0]!.spiIn);
        expect(ga!.ike.spiI).toBe(gb!.ike.spiI);
        expect(ga!.children[0]!.spiIn).toBe(gb!.children[0]!.spiOut);
        expect(ga!.children[0]!.spiIn).not.toBe(a0!.children[0]!.spiIn);
      } finally {
        await a.stop();
        await b.stop();
        await net.teardown();
      }
    }, CASE_TIMEOUT);
  }

  // IKE SA rekeying is not implemented in ikegw yet (it answers NO_ADDITIONAL_SAS): opt-in only.
  it.skipIf(!IKE_REKEY)('IKE SA rekey under load: ikegw and strongSwan each rekey the IKE SA, CHILD_SAs carry on, 0 lost / 0 dup', async () => {
    const net = twoGateways({});
    const gw = new Ikegw();
    const sw = new StrongSwan();
    try {
      const { ns, outer } = net;
      // ikegw rekeys the IKE SA at R s, strongSwan at 2R+2 s; CHILD lifetimes long
      await Promise.all([
        gw.start(ns.gwA, join(base, 'ike-gw'), [
          { local: outer.gwALocal, remote: outer.gwB, localId: 'ikegw.test', remoteId: 'swan.test', psk: PSK, ike: [IKE], esp: ['aes256gcm16'], localTs: [net.net.lanA.v4], remoteTs: [net.net.lanB.v4], extra: `${gwLifetime(null)}\n    ike_lifetime: { rekey_time: ${R}s, life_time: ${R * 4}s, jitter: 0% }` },
        ], { logLevel: 'info' }),
        sw.start({
          ns: ns.gwB,
          dir: join(base, 'ike-sw'),
          logLevels: { ike: 2, chd: 2, knl: 1, cfg: 1 },
          conf: { name: 'gw', localAddrs: outer.gwB, remoteAddrs: outer.gwALocal, localId: 'swan.test', remoteId: 'ikegw.test', psk: PSK, proposals: IKE, rekeyTime: 2 * R + 2, reauthTime: 0, overTime: '1h', randTime: 0, children: [{ name: 'net', espProposals: 'aes256gcm16', localTs: [net.net.lanB.v4], remoteTs: [net.net.lanA.v4], rekeyTime: '1h', lifeTime: '2h', randTime: 0 }] },
        }),
      ]);
      expect((await gw.ctl({ cmd: 'up', name: 'gw' })).ok).toBe(true);
      await sw.waitFor(upSw, 10_000);
      await gw.waitFor(upGw, 10_000);
      expect(ping(ns.hostA, net.addr.hostB.v4, { count: 2, timeoutS: 3, intervalS: 0.1 }).received).toBeGreaterThanOrEqual(1);
      let ikeRekeys = 0;
      const results = await trafficBothWays(net, 3 * R + 1.5, () => {
        ikeRekeys = rekeyCounts(gw.log()).ikeRekeyed;
      });
      console.log(`[rekey] IKE rekey: ikegw ike-rekeyed ${ikeRekeys}; strongSwan "IKE_SA gw[n] rekeyed" ${(sw.log().match(/IKE_SA \S+\[\d+\] rekeyed/g) ?? []).length}; ${results.map(fmt).join('; ')}`);
      checkStreams('IKE rekey', results);
      expect(ikeRekeys).toBeGreaterThanOrEqual(2);
      await sw.waitFor(upSw, 4000);
      await gw.waitFor(oneChild, 4000);
    } finally {
      await gw.stop();
      await sw.stop();
      await net.teardown();
    }
  }, (3 * R + 40) * 1000);

  /**
   * Soak (nightly, not in CI): `npm run soak` (IKEGW_SOAK_MINUTES, default 30). CHILD_SAs
   * rekey every 15 s and the IKE SA every 60 s on both ends against strongSwan, with traffic
   * both ways the whole time: 0 lost, 0 duplicated, and the daemon's RSS at start and end.
   */
  const SOAK_MIN = Number(process.env['IKEGW_SOAK_MINUTES'] ?? 0);
  it.skipIf(!(SOAK_MIN > 0))(`soak: ${SOAK_MIN} min, CHILD 15 s / IKE 60 s against strongSwan, 0 lost, RSS flat`, async () => {
    const net = twoGateways({});
    const gw = new Ikegw();
    const sw = new StrongSwan();
    const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    try {
      const { ns, outer } = net;
      await Promise.all([
        gw.start(ns.gwA, join(base, 'soak-gw'), [
          { local: outer.gwALocal, remote: outer.gwB, localId: 'ikegw.test', remoteId: 'swan.test', psk: PSK, ike: [IKE], esp: ['aes256gcm16-x25519'], localTs: [net.net.lanA.v4], remoteTs: [net.net.lanB.v4], extra: '    child_lifetime: { rekey_time: 15s, life_time: 30s, jitter: 10% }\n    ike_lifetime: { rekey_time: 60s, life_time: 120s, jitter: 10% }' },
        ], { logLevel: 'info' }),
        sw.start({
          ns: ns.gwB,
          dir: join(base, 'soak-sw'),
          logLevels: { ike: 1, chd: 1, knl: 1, cfg: 1 },
          conf: { name: 'gw', localAddrs: outer.gwB, remoteAddrs: outer.gwALocal, localId: 'swan.test', remoteId: 'ikegw.test', psk: PSK, proposals: IKE, rekeyTime: 60, reauthTime: 0, overTime: 60, randTime: 6, children: [{ name: 'net', espProposals: 'aes256gcm16-x25519', localTs: [net.net.lanB.v4], remoteTs: [net.net.lanA.v4], rekeyTime: 15, lifeTime: 30, randTime: 2 }] },
        }),
      ]);
      expect((await gw.ctl({ cmd: 'up', name: 'gw' })).ok).toBe(true);
      await sw.waitFor(upSw, 10_000);
      await gw.waitFor(upGw, 10_000);
      const pid = gw.child!.pid!;
      const rssStart = rss(pid);
      const results = await trafficBothWays(net, SOAK_MIN * 60, () => {});
      const rssEnd = rss(pid);
      const counts = rekeyCounts(gw.log());
      console.log(`[soak] ${SOAK_MIN} min: ikegw child-rekeyed ${counts.childRekeyed}, ike-rekeyed ${counts.ikeRekeyed}; RSS start ${rssStart} kB, end ${rssEnd} kB; ${results.map(fmt).join('; ')}`);
      checkStreams('soak', results);
      expect(counts.childRekeyed).toBeGreaterThanOrEqual(Math.floor((SOAK_MIN * 60) / 30));
    } finally {
      await gw.stop();
      await sw.stop();
      await net.teardown();
    }
  }, (SOAK_MIN * 60 + 120) * 1000);
});
