/**
 * Network-namespace helpers for interop tests.
 *
 * Everything created here carries a per-run unique prefix (`ikt<pid%10000><3 random chars>`,
 * 10 characters) so that parallel test files and other engineers' runs never collide, and
 * link names stay within IFNAMSIZ (15 chars): `<prefix><role><n>` e.g. `ikt4711qzxw3`.
 *
 * Safety rules (see /work/shared/ENVIRONMENT.md):
 *  - nothing is ever configured in the root namespace except transient veth ends that are
 *    immediately moved into a test namespace;
 *  - only private test ranges are used (172.30.0.0/16, fd00:30::/32) - never 192.0.2.0/24,
 *    203.0.113.0/24 or 10.255.255.0/24;
 *  - every namespace and every process we start is recorded and removed by `teardown()`, and
 *    again (synchronously) from a `process.on('exit')` / SIGINT / SIGTERM hook.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

// ---------------------------------------------------------------------------------------------
// Process execution
// ---------------------------------------------------------------------------------------------

export interface ExecResult {
  /** exit code; null when killed by a signal or on timeout */
  code: number | null;
  stdout: string;
  stderr: string;
  /** true when the command hit its timeout */
  timedOut: boolean;
  /** the full argv that ran, for error messages */
  argv: string[];
}

export interface ExecOptions {
  /** milliseconds before SIGKILL (default 10 000) */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** throw when the exit code is not 0 (default false) */
  check?: boolean;
}

/** argv prefix that runs a command inside `ns` (or the root namespace when ns is null). */
export function nsArgv(ns: string | null, cmd: readonly string[]): string[] {
  return ns === null ? [...cmd] : ['ip', 'netns', 'exec', ns, ...cmd];
}

/**
 * Run `cmd` inside namespace `ns` (null = root namespace), synchronously, with a timeout.
 * Never throws unless `check: true`.
 */
export function exec(ns: string | null, cmd: readonly string[], opts: ExecOptions = {}): ExecResult {
  const argv = nsArgv(ns, cmd);
  const r = spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 10_000,
    killSignal: 'SIGKILL',
    env: opts.env ?? process.env,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    maxBuffer: 64 * 1024 * 1024,
  });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  const res: ExecResult = {
    code: r.status,
    stdout: r.stdout ?? '',
    stderr: (r.stderr ?? '') + (r.error && !timedOut ? String(r.error) : ''),
    timedOut,
    argv,
  };
  if (opts.check && res.code !== 0) {
    throw new Error(
      `command failed (code ${res.code}${timedOut ? ', timed out' : ''}): ${argv.join(' ')}\n` +
        `stdout: ${res.stdout}\nstderr: ${res.stderr}`,
    );
  }
  return res;
}

/** exec() with check: true - throws on non-zero exit. */
export function run(ns: string | null, cmd: readonly string[], opts: Omit<ExecOptions, 'check'> = {}): ExecResult {
  return exec(ns, cmd, { ...opts, check: true });
}

// ---------------------------------------------------------------------------------------------
// Global registry (for the exit hook)
// ---------------------------------------------------------------------------------------------

interface TrackedProc {
  pid: number;
  ns: string | null;
  child: ChildProcess;
  exited: boolean;
}

const trackedProcs = new Set<TrackedProc>();
const liveTopologies = new Set<Topology>();
let hooksInstalled = false;

function killSync(p: TrackedProc): void {
  if (p.exited) return;
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

function emergencyCleanup(): void {
  for (const p of trackedProcs) killSync(p);
  trackedProcs.clear();
  for (const t of liveTopologies) t.teardownSync();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', emergencyCleanup);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      emergencyCleanup();
      // re-raise with the default action unless someone else (e.g. the test runner) handles it
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

export interface SpawnInOptions {
  env?: NodeJS.ProcessEnv;
  /** stdio passed to child_process.spawn (default: ignore stdin, pipe stdout/stderr) */
  stdio?: SpawnOptions['stdio'];
  cwd?: string;
}

/**
 * Start a long-running process inside `ns`. Its PID is recorded: `killTracked()`,
 * `Topology.teardown()` and the exit hook stop it. `ip netns exec` exec()s the command, so
 * `child.pid` is the PID of `cmd[0]` itself (not of a wrapper).
 */
export function spawnIn(ns: string | null, cmd: readonly string[], opts: SpawnInOptions = {}): ChildProcess {
  installHooks();
  const argv = nsArgv(ns, cmd);
  const child = spawn(argv[0]!, argv.slice(1), {
    env: opts.env ?? process.env,
    stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
  });
  if (child.pid === undefined) throw new Error(`spawn failed: ${argv.join(' ')}`);
  const t: TrackedProc = { pid: child.pid, ns, child, exited: false };
  trackedProcs.add(t);
  child.once('exit', () => {
    t.exited = true;
    trackedProcs.delete(t);
  });
  child.on('error', () => {
    t.exited = true;
    trackedProcs.delete(t);
  });
  return child;
}

/**
 * Stop one child: SIGTERM, wait up to `graceMs` (default 3 s), then SIGKILL and wait for exit.
 * Safe to call on an already exited child.
 */
export async function stopChild(child: ChildProcess, graceMs = 3000, signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    child.kill(signal);
  } catch {
    /* gone */
  }
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
  if ((await Promise.race([exited, timer])) === 'timeout') {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}

/** Stop every tracked process (optionally only those in the given namespaces). */
export async function killTracked(namespaces?: ReadonlySet<string>): Promise<void> {
  const victims = [...trackedProcs].filter((p) => !namespaces || (p.ns !== null && namespaces.has(p.ns)));
  await Promise.all(victims.map((p) => stopChild(p.child)));
}

// ---------------------------------------------------------------------------------------------
// Environment checks
// ---------------------------------------------------------------------------------------------

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export const CHARON_PATH = '/usr/lib/ipsec/charon';

export function haveCommand(name: string): boolean {
  return exec(null, ['sh', '-c', `command -v ${name}`]).code === 0;
}

export function haveStrongSwan(): boolean {
  return existsSync(CHARON_PATH) && haveCommand('swanctl') && existsSync('/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so');
}

export interface InteropGate {
  ok: boolean;
  /** why the interop tests cannot run ('' when ok) */
  reason: string;
}

/**
 * Decide whether interop tests can run here. When they cannot, prints a loud warning and
 * returns `ok: false`; use it as `describe.skipIf(!gate.ok)(...)`. Set IKEGW_INTEROP_REQUIRED=1
 * (e.g. in CI) to turn a skip into a hard failure.
 *
 * @param needs extra requirements: 'strongswan' (default on), 'nft', 'ping', 'conntrack', ...
 */
export function requireInterop(
  what: string,
  needs: { strongswan?: boolean; commands?: string[] } = {},
): InteropGate {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push('not Linux');
  else if (!isRoot()) problems.push('not running as root (network namespaces need CAP_NET_ADMIN + CAP_SYS_ADMIN)');
  if (needs.strongswan !== false && !haveStrongSwan())
    problems.push(`strongSwan missing (${CHARON_PATH}, swanctl, kernel-libipsec plugin)`);
  for (const c of ['ip', 'unshare', ...(needs.commands ?? [])]) if (!haveCommand(c)) problems.push(`command '${c}' missing`);
  const reason = problems.join('; ');
  if (reason) {
    const msg = `\n*** INTEROP TESTS SKIPPED: ${what}: ${reason} ***\n`;
    if (process.env['IKEGW_INTEROP_REQUIRED'] === '1') throw new Error(msg);
    console.warn(msg);
  }
  return { ok: reason === '', reason };
}

// ---------------------------------------------------------------------------------------------
// Topology builder
// ---------------------------------------------------------------------------------------------

function makePrefix(): string {
  const alpha = 'abcdefghijklmnopqrstuvwxyz';
  const r = randomBytes(3);
  let s = '';
  for (const b of r) s += alpha[b % 26];
  return `ikt${String(process.pid % 10000).padStart(4, '0')}${s}`;
}

function isV6(addr: string): boolean {
  return addr.includes(':');
}

export interface LinkEnd {
  ns: string;
  dev: string;
}

export interface VethOptions {
  /** addresses with prefix length for end A / end B, e.g. ['172.30.1.1/24', 'fd00:30:1::1/64'] */
  addrsA?: string[];
  addrsB?: string[];
  mtu?: number;
}

/**
 * Low-level builder. Every method runs `ip` immediately and throws with the command output on
 * failure. All resources are recorded and removed by `teardown()` / `teardownSync()`.
 */
export class Topology {
  readonly prefix: string;
  readonly namespaces: string[] = [];
  private readonly rootLinks: string[] = [];
  private linkCounter = 0;
  private torn = false;

  constructor(prefix: string = makePrefix()) {
    if (prefix.length > 11) throw new Error(`prefix '${prefix}' too long for 15-char link names`);
    this.prefix = prefix;
    installHooks();
    liveTopologies.add(this);
  }

  /** Create namespace `<prefix><role>` with `lo` up; returns its name. */
  addNs(role: string): string {
    const name = `${this.prefix}${role}`;
    run(null, ['ip', 'netns', 'add', name]);
    this.namespaces.push(name);
    run(name, ['ip', 'link', 'set', 'lo', 'up']);
    // deterministic behaviour regardless of distro defaults
    this.sysctl(name, 'net.ipv4.conf.all.rp_filter', '0');
    this.sysctl(name, 'net.ipv4.conf.default.rp_filter', '0');
    this.sysctl(name, 'net.ipv6.conf.all.accept_dad', '0');
    this.sysctl(name, 'net.ipv6.conf.default.accept_dad', '0');
    return name;
  }

  sysctl(ns: string, key: string, value: string): void {
    run(ns, ['sysctl', '-q', '-w', `${key}=${value}`]);
  }

  /** Enable IPv4 and IPv6 forwarding in `ns`. */
  forwarding(ns: string): void {
    this.sysctl(ns, 'net.ipv4.ip_forward', '1');
    this.sysctl(ns, 'net.ipv6.conf.all.forwarding', '1');
  }

  /**
   * Create a veth pair between two namespaces. Device names are `<prefix><n>a` / `<prefix><n>b`
   * unless `names` is given (each ≤ 15 chars). Both ends are brought up.
   */
  veth(nsA: string, nsB: string, opts: VethOptions = {}, names?: [string, string]): [LinkEnd, LinkEnd] {
    const n = this.linkCounter++;
    const devA = names?.[0] ?? `${this.prefix}${n}a`;
    const devB = names?.[1] ?? `${this.prefix}${n}b`;
    for (const d of [devA, devB]) if (d.length > 15) throw new Error(`link name '${d}' longer than 15 chars`);
    run(null, ['ip', 'link', 'add', devA, 'type', 'veth', 'peer', 'name', devB]);
    this.rootLinks.push(devA);
    run(null, ['ip', 'link', 'set', devA, 'netns', nsA]);
    run(null, ['ip', 'link', 'set', devB, 'netns', nsB]);
    this.rootLinks.pop();
    for (const [ns, dev, addrs] of [
      [nsA, devA, opts.addrsA ?? []],
      [nsB, devB, opts.addrsB ?? []],
    ] as const) {
      if (opts.mtu !== undefined) run(ns, ['ip', 'link', 'set', dev, 'mtu', String(opts.mtu)]);
      for (const a of addrs) this.addr(ns, dev, a);
      run(ns, ['ip', 'link', 'set', dev, 'up']);
    }
    return [
      { ns: nsA, dev: devA },
      { ns: nsB, dev: devB },
    ];
  }

  /** Add an address (CIDR). IPv6 addresses get `nodad` so they are usable at once. */
  addr(ns: string, dev: string, cidr: string): void {
    const extra = isV6(cidr) ? ['nodad'] : [];
    run(ns, ['ip', ...(isV6(cidr) ? ['-6'] : []), 'addr', 'add', cidr, 'dev', dev, ...extra]);
  }

  /**
   * Add a route. `dst` may be 'default'; give `via` (gateway) and/or `dev`.
   * `family` is inferred from dst/via ('default' with no via needs `v6: true` for IPv6).
   */
  route(ns: string, dst: string, r: { via?: string; dev?: string; table?: number | string; src?: string; v6?: boolean }): void {
    const v6 = r.v6 ?? (isV6(dst) || (r.via !== undefined && isV6(r.via)));
    const argv = ['ip', ...(v6 ? ['-6'] : ['-4']), 'route', 'add', dst];
    if (r.via !== undefined) argv.push('via', r.via);
    if (r.dev !== undefined) argv.push('dev', r.dev);
    if (r.src !== undefined) argv.push('src', r.src);
    if (r.table !== undefined) argv.push('table', String(r.table));
    run(ns, argv);
  }

  exec(ns: string, cmd: readonly string[], opts?: ExecOptions): ExecResult {
    return exec(ns, cmd, opts);
  }

  spawnIn(ns: string, cmd: readonly string[], opts?: SpawnInOptions): ChildProcess {
    return spawnIn(ns, cmd, opts);
  }

  /**
   * Stop all processes started in our namespaces (SIGTERM, SIGKILL after 3 s), then delete
   * the namespaces (which removes their veths) and any veth still in the root namespace.
   */
  async teardown(): Promise<void> {
    if (this.torn) return;
    await killTracked(new Set(this.namespaces));
    this.teardownSync();
  }

  /** Synchronous variant (SIGKILL only) used from the exit hook. Idempotent. */
  teardownSync(): void {
    if (this.torn) return;
    this.torn = true;
    for (const p of trackedProcs) if (p.ns !== null && this.namespaces.includes(p.ns)) killSync(p);
    for (const l of this.rootLinks) exec(null, ['ip', 'link', 'del', l]);
    for (const ns of [...this.namespaces].reverse()) exec(null, ['ip', 'netns', 'del', ns]);
    liveTopologies.delete(this);
  }
}

// ---------------------------------------------------------------------------------------------
// ping
// ---------------------------------------------------------------------------------------------

export interface PingOptions {
  /** echo requests (default 3) */
  count?: number;
  /** overall deadline in seconds (ping -w; default count + 2) */
  timeoutS?: number;
  /** ICMP payload size (ping -s; default 56) */
  size?: number;
  /** set DF / forbid fragmentation (ping -M do); false = allow fragmentation (-M dont) */
  df?: boolean;
  /** source address or interface (ping -I) */
  source?: string;
  /** interval in seconds (default 0.2) */
  intervalS?: number;
}

export interface PingResult {
  ok: boolean;
  transmitted: number;
  received: number;
  /** average RTT in ms, NaN when nothing came back */
  avgRttMs: number;
  output: string;
}

/** ping from inside `ns` (iputils ping; IPv4 or IPv6 by address). ok = at least one reply. */
export function ping(ns: string, addr: string, opts: PingOptions = {}): PingResult {
  const count = opts.count ?? 3;
  const deadline = opts.timeoutS ?? count + 2;
  const argv = ['ping', '-n', '-c', String(count), '-w', String(deadline), '-W', '1', '-i', String(opts.intervalS ?? 0.2)];
  if (isV6(addr)) argv.push('-6');
  if (opts.size !== undefined) argv.push('-s', String(opts.size));
  if (opts.df !== undefined) argv.push('-M', opts.df ? 'do' : 'dont');
  if (opts.source !== undefined) argv.push('-I', opts.source);
  argv.push(addr);
  const r = exec(ns, argv, { timeoutMs: (deadline + 5) * 1000 });
  const out = r.stdout + r.stderr;
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(out);
  const transmitted = m ? Number(m[1]) : 0;
  const received = m ? Number(m[2]) : 0;
  return { ok: received > 0, transmitted, received, avgRttMs: rtt ? Number(rtt[1]) : NaN, output: out };
}

// ---------------------------------------------------------------------------------------------
// Standard topologies
// ---------------------------------------------------------------------------------------------

export interface Dual {
  v4: string;
  v6: string;
}

export interface TwoGateways {
  topo: Topology;
  ns: { hostA: string; gwA: string; nat?: string; gwB: string; hostB: string };
  /** device names, per namespace */
  dev: {
    hostA: string; // hostA's LAN device
    gwALan: string;
    gwAWan: string;
    natIn?: string; // NAT side facing gwA
    natOut?: string; // NAT side facing gwB
    gwBWan: string;
    gwBLan: string;
    hostB: string;
  };
  /** host addresses (no prefix length) */
  addr: {
    hostA: Dual;
    gwALan: Dual;
    gwAWan: Dual; // gwA's own WAN address (private side of the NAT when nat: true)
    natIn?: Dual;
    natOut?: Dual; // the NAT's public address = gwA as seen by gwB
    gwBWan: Dual;
    gwBLan: Dual;
    hostB: Dual;
  };
  /** LAN prefixes (= natural traffic selectors) */
  net: { lanA: Dual; lanB: Dual };
  /**
   * Outer (IKE/ESP) addresses to configure, in the family chosen by `ipv6Outer`:
   * gwA.local = what gwA binds to, gwA.seenByB = what gwB sees as gwA's address (NAT public
   * address when nat: true), gwB = gwB's WAN address.
   */
  outer: { gwALocal: string; gwASeenByB: string; gwB: string };
  teardown(): Promise<void>;
}

export interface TwoGatewaysOptions {
  /** put gwA behind a masquerading NAT namespace (default false) */
  nat?: boolean;
  /** NAT picks random source ports (nft `masquerade random`), so gwB sees a port ≠ 500/4500 */
  natRandomPorts?: boolean;
  /** select IPv6 for the `outer` addresses (all links are dual-stack either way) */
  ipv6Outer?: boolean;
  /** reuse an existing Topology (e.g. to add more namespaces); default: a new one */
  topo?: Topology;
}

/**
 * Two gateways with one host behind each; every link is dual-stack.
 *
 * ```
 *   lanA 172.30.1.0/24              wan 172.30.0.0/24                lanB 172.30.2.0/24
 *        fd00:30:1::/64                 fd00:30::/64                     fd00:30:2::/64
 * +-------+  .2      .1 +-----+ .1                      .2 +-----+ .1      .2 +-------+
 * | hostA |-------------| gwA |----------------------------| gwB |-------------| hostB |
 * +-------+             +-----+                            +-----+             +-------+
 *
 * nat: true - gwA sits behind a masquerading NAT:
 *
 *                       inside 172.30.10.0/24
 *                              fd00:30:10::/64
 * +-------+  .2      .1 +-----+ .2        .1 +-----+ .1   .2 +-----+ .1      .2 +-------+
 * | hostA |-------------| gwA |--------------| nat |---------| gwB |-------------| hostB |
 * +-------+             +-----+              +-----+  wan    +-----+             +-------+
 *                                     nft masquerade oif wan (ip + ip6)
 * ```
 * IPv6 host parts mirror IPv4 ones (`.2` -> `::2`).
 *
 * Routing: hosts have default routes (v4+v6) to their gateway. With NAT, gwA has default
 * routes to the NAT. The gateways deliberately have NO route to the far LAN: only the tunnel
 * (libipsec routes in table 220 via ipsec0) can carry hostA ⇄ hostB traffic, so a successful
 * ping proves the tunnel works. Each gateway's LAN address lies inside its LAN prefix, which
 * is what libipsec needs as route source ("a local address inside the local TS").
 * Forwarding is on in gwA, gwB and nat.
 */
export function twoGateways(opts: TwoGatewaysOptions = {}): TwoGateways {
  const topo = opts.topo ?? new Topology();
  try {
    return buildTwoGateways(topo, opts);
  } catch (e) {
    topo.teardownSync();
    throw e;
  }
}

function buildTwoGateways(topo: Topology, opts: TwoGatewaysOptions): TwoGateways {
  const nat = opts.nat ?? false;
  const d = (v4: string, v6: string): Dual => ({ v4, v6 });
  const hostA = topo.addNs('ha');
  const gwA = topo.addNs('ga');
  const natNs = nat ? topo.addNs('nat') : undefined;
  const gwB = topo.addNs('gb');
  const hostB = topo.addNs('hb');
  for (const g of [gwA, gwB, ...(natNs ? [natNs] : [])]) topo.forwarding(g);

  const p = topo.prefix;
  const addr: TwoGateways['addr'] = {
    hostA: d('172.30.1.2', 'fd00:30:1::2'),
    gwALan: d('172.30.1.1', 'fd00:30:1::1'),
    gwAWan: nat ? d('172.30.10.2', 'fd00:30:10::2') : d('172.30.0.1', 'fd00:30::1'),
    gwBWan: d('172.30.0.2', 'fd00:30::2'),
    gwBLan: d('172.30.2.1', 'fd00:30:2::1'),
    hostB: d('172.30.2.2', 'fd00:30:2::2'),
  };
  if (nat) {
    addr.natIn = d('172.30.10.1', 'fd00:30:10::1');
    addr.natOut = d('172.30.0.1', 'fd00:30::1');
  }
  const c = (a: Dual, v4len: number, v6len: number) => [`${a.v4}/${v4len}`, `${a.v6}/${v6len}`];

  const [lA1, lA2] = topo.veth(hostA, gwA, { addrsA: c(addr.hostA, 24, 64), addrsB: c(addr.gwALan, 24, 64) }, [
    `${p}ha`,
    `${p}gal`,
  ]);
  const [lB1, lB2] = topo.veth(gwB, hostB, { addrsA: c(addr.gwBLan, 24, 64), addrsB: c(addr.hostB, 24, 64) }, [
    `${p}gbl`,
    `${p}hb`,
  ]);
  const dev: TwoGateways['dev'] = {
    hostA: lA1.dev,
    gwALan: lA2.dev,
    gwAWan: `${p}gaw`,
    gwBWan: `${p}gbw`,
    gwBLan: lB1.dev,
    hostB: lB2.dev,
  };
  if (nat && natNs) {
    dev.natIn = `${p}ni`;
    dev.natOut = `${p}no`;
    topo.veth(gwA, natNs, { addrsA: c(addr.gwAWan, 24, 64), addrsB: c(addr.natIn!, 24, 64) }, [dev.gwAWan, dev.natIn]);
    topo.veth(natNs, gwB, { addrsA: c(addr.natOut!, 24, 64), addrsB: c(addr.gwBWan, 24, 64) }, [dev.natOut, dev.gwBWan]);
    topo.route(gwA, 'default', { via: addr.natIn!.v4 });
    topo.route(gwA, 'default', { via: addr.natIn!.v6, v6: true });
    const rnd = opts.natRandomPorts ? ' random' : '';
    const ruleset = [
      'table inet ikt_nat {',
      '  chain post {',
      '    type nat hook postrouting priority srcnat; policy accept;',
      `    oifname "${dev.natOut}" masquerade${rnd}`,
      '  }',
      '}',
    ].join('\n');
    run(natNs, ['nft', '-f', '-'], { input: ruleset });
    // fresh namespace => empty conntrack table; flush anyway in case a caller rebuilt rules
    if (haveCommand('conntrack')) exec(natNs, ['conntrack', '-F']);
  } else {
    topo.veth(gwA, gwB, { addrsA: c(addr.gwAWan, 24, 64), addrsB: c(addr.gwBWan, 24, 64) }, [dev.gwAWan, dev.gwBWan]);
  }
  topo.route(hostA, 'default', { via: addr.gwALan.v4 });
  topo.route(hostA, 'default', { via: addr.gwALan.v6, v6: true });
  topo.route(hostB, 'default', { via: addr.gwBLan.v4 });
  topo.route(hostB, 'default', { via: addr.gwBLan.v6, v6: true });

  const fam = opts.ipv6Outer ? 'v6' : 'v4';
  const ns: TwoGateways['ns'] = { hostA, gwA, gwB, hostB };
  if (natNs) ns.nat = natNs;
  return {
    topo,
    ns,
    dev,
    addr,
    net: { lanA: d('172.30.1.0/24', 'fd00:30:1::/64'), lanB: d('172.30.2.0/24', 'fd00:30:2::/64') },
    outer: {
      gwALocal: addr.gwAWan[fam],
      gwASeenByB: (nat ? addr.natOut! : addr.gwAWan)[fam],
      gwB: addr.gwBWan[fam],
    },
    teardown: () => topo.teardown(),
  };
}
