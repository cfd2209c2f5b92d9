/**
 * End-to-end tunnel throughput: iperf3 TCP hostA → hostB (one stream) through
 *   (a) ikegw ⇄ ikegw      — the real daemon (dist/src/main.js, native data plane) on both
 *                            gateways, PSK, IKE aes256gcm16-prfsha256-x25519, ESP aes256gcm16,
 *                            routes into the TUN;
 *   (b) strongSwan ⇄ strongSwan — charon 5.9.8 with kernel-libipsec, same algorithms;
 *   (c) plain routed path  — no tunnel, static routes between the LANs on the gateways.
 * Each scenario gets a fresh twoGateways() topology (test/interop/lib/netns.ts) that is torn
 * down afterwards, also on errors and on SIGINT/SIGTERM (netns.ts exit hooks).
 *
 * The three run in turn, IKEGW_BENCH_RUNS rounds (default 3); each path is reported by its
 * median run and the ratios come from the medians (and are printed per round too).
 *
 * Needs root. Run: npm run bench:tunnel   (IKEGW_BENCH_SECONDS=10 per iperf3 run;
 * IKEGW_BENCH_ONLY=ikegw,strongswan,plain to pick scenarios; IKEGW_BENCH_STATS=1 prints the
 * gateways' data-plane counters after each ikegw run; IKEGW_BENCH_NICE=0 runs the daemons'
 * data threads at the inherited priority instead of dataplane.nice's default −10)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { exec, haveCommand, haveStrongSwan, isRoot, ping, spawnIn, stopChild, twoGateways, type TwoGateways } from '../test/interop/lib/netns.js';
import { StrongSwan } from '../test/interop/lib/strongswan.js';
import { Ikegw } from '../test/interop/lib/ikegw.js';

const SECONDS = Math.max(1, Number(process.env['IKEGW_BENCH_SECONDS'] ?? 10));
const ONLY = (process.env['IKEGW_BENCH_ONLY'] ?? 'ikegw,strongswan,plain').split(',');
/** IKEGW_BENCH_NICE: dataplane.nice for both daemons (default: the daemon's default, −10) */
const NICE = process.env['IKEGW_BENCH_NICE'] !== undefined ? { nice: Number(process.env['IKEGW_BENCH_NICE']) } : {};
/** rounds: each scenario runs once per round; the table shows each path's median */
const RUNS = Math.max(1, Math.floor(Number(process.env['IKEGW_BENCH_RUNS'] ?? 3)));
const PSK = 'bench-secret-0123456789abcdef';
const IKE = 'aes256gcm16-prfsha256-x25519';
const ESP = 'aes256gcm16';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result {
  gbps: number;
  retransmits: number;
  note: string;
}

/** iperf3 -s -1 in hostB, client in hostA; returns receiver-side Gbit/s */
async function iperf(net: TwoGateways): Promise<Result> {
  const srv = spawnIn(net.ns.hostB, ['iperf3', '-s', '-1', '-B', net.addr.hostB.v4]);
  try {
    // wait until the server listens
    for (let i = 0; i < 50; i++) {
      const r = exec(net.ns.hostB, ['ss', '-ltnH', 'sport = :5201']);
      if (r.stdout.trim()) break;
      await sleep(50);
    }
    const r = exec(net.ns.hostA, ['iperf3', '-c', net.addr.hostB.v4, '-t', String(SECONDS), '-J'], { timeoutMs: (SECONDS + 20) * 1000 });
    let j: { end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } }; error?: string };
    try {
      j = JSON.parse(r.stdout);
    } catch {
      throw new Error(`iperf3 output unparsable (code ${r.code}): ${r.stdout.slice(0, 400)} ${r.stderr.slice(0, 400)}`);
    }
    if (j.error || !j.end?.sum_received) throw new Error(`iperf3 failed: ${j.error ?? r.stderr}`);
    return { gbps: j.end.sum_received.bits_per_second / 1e9, retransmits: j.end.sum_sent?.retransmits ?? 0, note: '' };
  } finally {
    await stopChild(srv, 1000);
  }
}

function mustPing(net: TwoGateways, what: string): void {
  const p = ping(net.ns.hostA, net.addr.hostB.v4, { count: 3, timeoutS: 4, intervalS: 0.2 });
  if (!p.ok) throw new Error(`${what}: hostA cannot ping hostB through the path\n${p.output}`);
}

async function scenarioIkegw(base: string): Promise<Result> {
  const net = twoGateways();
  const a = new Ikegw();
  const b = new Ikegw();
  try {
    const { ns, outer } = net;
    const common = { psk: PSK, ike: [IKE], esp: [ESP] };
    await Promise.all([
      a.start(ns.gwA, join(base, 'ikegw-a'), [{ ...common, local: outer.gwALocal, remote: outer.gwB, localId: 'a.bench', remoteId: 'b.bench', localTs: [net.net.lanA.v4], remoteTs: [net.net.lanB.v4] }], { logLevel: 'info', ...NICE }),
      b.start(ns.gwB, join(base, 'ikegw-b'), [{ ...common, local: outer.gwB, remote: outer.gwASeenByB, localId: 'b.bench', remoteId: 'a.bench', localTs: [net.net.lanB.v4], remoteTs: [net.net.lanA.v4] }], { logLevel: 'info', ...NICE }),
    ]);
    const up = await a.ctl({ cmd: 'up', name: 'gw' });
    if (!up.ok) throw new Error(`ikegw up failed: ${up.error}`);
    const ready = (sas: { ike: { state: string }; children: unknown[] }[]) => sas.length === 1 && sas[0]!.ike.state === 'established' && sas[0]!.children.length === 1;
    await a.waitFor(ready, 10_000);
    await b.waitFor(ready, 10_000);
    mustPing(net, 'ikegw ⇄ ikegw');
    const r = await iperf(net);
    for (const g of [a, b]) if (!g.alive()) throw new Error(`ikegw died during the run:\n${g.log().split('\n').slice(-20).join('\n')}`);
    if (process.env['IKEGW_BENCH_STATS']) {
      // data-plane counters of both gateways after the run (batching: GSO/GRO, TUN super-packets)
      for (const [n, g] of [['gwA', a], ['gwB', b]] as const) {
        const st = (await g.ctl({ cmd: 'status' })).result as { stats?: { dataplane?: unknown } } | undefined;
        console.error(`[bench] ${n} data plane: ${JSON.stringify(st?.stats?.dataplane)}`);
      }
    }
    // traffic only flows with the native data plane (the daemon has no TS data path attached)
    r.note = 'native data plane, ESP-in-UDP 4500, TUN';
    return r;
  } finally {
    await a.stop();
    await b.stop();
    await net.teardown();
  }
}

async function scenarioStrongSwan(base: string): Promise<Result> {
  const net = twoGateways();
  const a = new StrongSwan();
  const b = new StrongSwan();
  try {
    const { ns, outer } = net;
    const quiet = { ike: 1, chd: 1, knl: 1, cfg: 1 };
    await Promise.all([
      a.start({ ns: ns.gwA, dir: join(base, 'sw-a'), logLevels: quiet, conf: { name: 'gw', localAddrs: outer.gwALocal, remoteAddrs: outer.gwB, psk: PSK, proposals: IKE, children: [{ name: 'net', espProposals: ESP, localTs: net.net.lanA.v4, remoteTs: net.net.lanB.v4 }] } }),
      b.start({ ns: ns.gwB, dir: join(base, 'sw-b'), logLevels: quiet, conf: { name: 'gw', localAddrs: outer.gwB, remoteAddrs: outer.gwASeenByB, psk: PSK, proposals: IKE, children: [{ name: 'net', espProposals: ESP, localTs: net.net.lanB.v4, remoteTs: net.net.lanA.v4 }] } }),
    ]);
    a.initiate('net');
    const upSw = (sas: { state: string; children: { state: string }[] }[]) => sas.length === 1 && sas[0]!.state === 'ESTABLISHED' && sas[0]!.children.some((c) => c.state === 'INSTALLED');
    await a.waitFor(upSw, 10_000);
    await b.waitFor(upSw, 10_000);
    mustPing(net, 'strongSwan ⇄ strongSwan');
    const r = await iperf(net);
    r.note = 'kernel-libipsec (ipsec0, MTU 1400)';
    return r;
  } finally {
    await a.stop();
    await b.stop();
    await net.teardown();
  }
}

async function scenarioPlain(): Promise<Result> {
  const net = twoGateways();
  try {
    net.topo.route(net.ns.gwA, net.net.lanB.v4, { via: net.addr.gwBWan.v4 });
    net.topo.route(net.ns.gwB, net.net.lanA.v4, { via: net.addr.gwAWan.v4 });
    mustPing(net, 'plain routed');
    const r = await iperf(net);
    r.note = 'veth, kernel forwarding';
    return r;
  } finally {
    await net.teardown();
  }
}

async function main(): Promise<number> {
  if (process.platform !== 'linux' || !isRoot()) {
    console.log('bench:tunnel SKIPPED: must run as root on Linux (network namespaces need CAP_NET_ADMIN + CAP_SYS_ADMIN)');
    return 0;
  }
  for (const c of ['ip', 'iperf3', 'ss', 'unshare', 'ping']) {
    if (!haveCommand(c)) {
      console.log(`bench:tunnel SKIPPED: command '${c}' missing`);
      return 0;
    }
  }
  console.log(`ikegw tunnel benchmark — Node ${process.version}, ${cpus()[0]?.model ?? '?'} (${cpus().length} cores), iperf3 TCP 1 stream, ${SECONDS} s, hostA → hostB, ${RUNS} round(s)`);
  console.log(`IKE ${IKE}, ESP ${ESP}, PSK; everything in fresh network namespaces per scenario\n`);
  const base = mkdtempSync(join(tmpdir(), 'ikb-'));
  const results = new Map<string, Result[] | Error>();
  const scenarios: [string, string, () => Promise<Result>][] = [
    ['ikegw', 'ikegw ⇄ ikegw', () => scenarioIkegw(base)],
    ['strongswan', 'strongSwan ⇄ strongSwan', () => (haveStrongSwan() ? scenarioStrongSwan(base) : Promise.reject(new Error('strongSwan not installed (charon, swanctl, kernel-libipsec)')))],
    ['plain', 'plain routed', () => scenarioPlain()],
  ];
  // rounds: every scenario once per round, in turn, so that load from elsewhere on a shared
  // machine falls on all three alike; each path is reported by its median run
  try {
    for (let round = 1; round <= RUNS; round++) {
      for (const [key, label, fn] of scenarios) {
        if (!ONLY.includes(key)) continue;
        const prev = results.get(key);
        if (prev instanceof Error) continue;
        const t0 = Date.now();
        try {
          const r = await fn();
          results.set(key, [...(prev ?? []), r]);
          process.stderr.write(`  [${round}/${RUNS}] ${label}: ${r.gbps.toFixed(3)} Gbit/s (${((Date.now() - t0) / 1000).toFixed(1)} s incl. setup)\n`);
        } catch (e) {
          results.set(key, e as Error);
          process.stderr.write(`  [${round}/${RUNS}] ${label}: FAILED: ${(e as Error).message}\n`);
        }
      }
    }
  } finally {
    if (!process.env['IKEGW_KEEP_LOGS']) rmSync(base, { recursive: true, force: true });
  }

  const median = (xs: number[]): number => {
    const v = [...xs].sort((a, b) => a - b);
    const m = v.length >> 1;
    return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
  };
  console.log(`| path                     | Gbit/s (median of ${RUNS}) | runs (Gbit/s)          | TCP retransmits | note`);
  console.log('|--------------------------|-------------------:|------------------------|----------------:|-----');
  for (const [key, label] of scenarios) {
    const r = results.get(key);
    if (r === undefined) continue;
    if (r instanceof Error) {
      console.log(`| ${label.padEnd(24)} |             FAILED |                        |                 | ${r.message.split('\n')[0]}`);
      continue;
    }
    const runs = r.map((x) => x.gbps.toFixed(2)).join(' ');
    console.log(`| ${label.padEnd(24)} | ${median(r.map((x) => x.gbps)).toFixed(3).padStart(18)} | ${runs.padEnd(22)} | ${String(median(r.map((x) => x.retransmits))).padStart(15)} | ${r[0]!.note}`);
  }
  const g = (k: string) => {
    const r = results.get(k);
    return r && !(r instanceof Error) ? median(r.map((x) => x.gbps)) : NaN;
  };
  const ratio = (x: number, y: number) => (Number.isFinite(x) && Number.isFinite(y) && y > 0 ? `${(x / y).toFixed(2)}x` : 'n/a');
  console.log(`\nikegw/strongSwan = ${ratio(g('ikegw'), g('strongswan'))}   ikegw/plain = ${ratio(g('ikegw'), g('plain'))}   (medians)`);
  // the same ratios round by round (each round measured the three paths back to back)
  const per = (k: string) => {
    const r = results.get(k);
    return r && !(r instanceof Error) ? r.map((x) => x.gbps) : [];
  };
  const [gi, gs, gp] = [per('ikegw'), per('strongswan'), per('plain')];
  if (RUNS > 1 && gi.length === RUNS && (gs.length === RUNS || gp.length === RUNS)) {
    const rounds = gi.map((x, i) => `${gs[i] ? (x / gs[i]!).toFixed(1) : '-'}x / ${gp[i] ? (x / gp[i]!).toFixed(2) : '-'}x`);
    console.log(`per round (ikegw/strongSwan / ikegw/plain): ${rounds.join(', ')}`);
  }
  return [...results.values()].some((r) => r instanceof Error) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
