/**
 * Drive a strongSwan 5.9.8 charon inside a network namespace as an interop peer.
 *
 * Recipe (see conf/interop/README.md and /work/shared/ENVIRONMENT.md):
 *  - one charon per namespace, each with its own `/run` (charon hard-codes /var/run/charon.pid
 *    and refuses to start while the PID in it lives - even one in another namespace), obtained
 *    with `unshare --mount --propagation private sh -c 'mount --bind DIR/run /run && exec charon'`;
 *  - its own strongswan.conf via STRONGSWAN_CONF: `load_modular = no` + explicit plugin list with
 *    kernel-libipsec (the kernel has XFRM but no ESP), vici socket in DIR, filelog at ike=4 /
 *    chd=4 so SKEYSEED and all derived keys are logged (golden values);
 *  - swanctl runs in the root namespace and talks to the vici unix socket in DIR.
 *
 * The charon PID is the PID of the spawned process (ip netns exec / unshare / sh all exec), it
 * is tracked by netns.ts so that topology teardown and the exit hook kill it.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHARON_PATH, exec, spawnIn, stopChild, type ExecResult } from './netns.js';
import { parseListSas, type ParsedSa } from './vici-dump.js';

export type { ParsedSa, ParsedChildSa } from './vici-dump.js';

/**
 * Plugins charon loads. Differs from the list in ENVIRONMENT.md only by dropping `curve25519`
 * and `chapoly`: Debian builds them into `openssl` (x25519, chacha20poly1305), so listing them
 * just logs "failed to load". Never add bypass-lan: it black-holes IKE.
 */
export const CHARON_PLUGINS =
  'random nonce openssl pem pkcs1 x509 revocation constraints pubkey sha2 hmac kdf gcm aes kernel-libipsec kernel-netlink socket-default vici updown';
/** plugins swanctl (the client) loads - only what parsing credentials needs */
export const SWANCTL_PLUGINS = 'random nonce openssl pem pkcs1 x509 revocation constraints pubkey sha2 hmac';

export type SettingValue = string | number | boolean | readonly string[] | SettingsTree;
export interface SettingsTree {
  [key: string]: SettingValue;
}

/** Default filelog levels: ike=4 prints SKEYSEED/SK_*, chd=4 the CHILD_SA keys. */
export const DEFAULT_LOG_LEVELS: Readonly<Record<string, number>> = {
  default: 1,
  ike: 4,
  chd: 4,
  knl: 2,
  cfg: 2,
  net: 1,
  enc: 1,
  lib: 1,
};

export interface SwanctlChildOpts {
  name: string;
  /** e.g. ['172.30.1.0/24'] ('dynamic' = the IKE address) */
  localTs: string | readonly string[];
  remoteTs: string | readonly string[];
  /** default ['aes256gcm16'] */
  espProposals?: string | readonly string[];
  /** none | trap | start (default none) */
  startAction?: 'none' | 'trap' | 'start';
  closeAction?: 'none' | 'trap' | 'start';
  dpdAction?: 'clear' | 'trap' | 'restart';
  /** seconds or strongSwan time strings ('1h', '30s'); 0 disables */
  rekeyTime?: number | string;
  lifeTime?: number | string;
  randTime?: number | string;
  rekeyBytes?: number;
  lifeBytes?: number;
  rekeyPackets?: number;
  mode?: 'tunnel' | 'transport';
  replayWindow?: number;
  /** raw extra settings for this child (swanctl.conf names) */
  extra?: SettingsTree;
}

export interface SwanctlConnOpts {
  /** connection name (default 'gw') */
  name?: string;
  localAddrs: string | readonly string[];
  remoteAddrs: string | readonly string[];
  localPort?: number;
  remotePort?: number;
  /** IKE identities; default: strongSwan's default (the IP address) */
  localId?: string;
  remoteId?: string;
  /** pre-shared key (both sides use PSK auth) */
  psk: string;
  /** IKE proposals, default ['aes256gcm16-prfsha256-x25519'] */
  proposals?: string | readonly string[];
  children: readonly SwanctlChildOpts[];
  /** default 2 */
  version?: 0 | 1 | 2;
  rekeyTime?: number | string;
  reauthTime?: number | string;
  overTime?: number | string;
  randTime?: number | string;
  dpdDelay?: number | string;
  dpdTimeout?: number | string;
  /** force UDP encapsulation (NAT-D faking) */
  encap?: boolean;
  mobike?: boolean;
  fragmentation?: 'yes' | 'no' | 'accept' | 'force';
  keyingtries?: number;
  unique?: 'no' | 'never' | 'keep' | 'replace';
  /** raw extra settings for the connection section */
  extra?: SettingsTree;
}

export interface StrongSwanStartOptions {
  /** namespace to run charon in */
  ns: string;
  /** working directory (created); default: a fresh /tmp/ikt-sw-XXXX. Keep it short: the vici
   *  socket path must fit in 108 bytes. */
  dir?: string;
  conf: SwanctlConnOpts | readonly SwanctlConnOpts[];
  /** override filelog levels (merged over DEFAULT_LOG_LEVELS) */
  logLevels?: Record<string, number>;
  /** extra settings merged into `charon { }` of strongswan.conf, e.g. { retransmit_tries: 2 } */
  charon?: SettingsTree;
  /** ms to wait for the vici socket (default 10 000) */
  startTimeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Config rendering
// ---------------------------------------------------------------------------------------------

function isTree(v: SettingValue): v is SettingsTree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fmtValue(v: Exclude<SettingValue, SettingsTree>): string {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

/** Render a strongswan.conf / swanctl.conf style tree. Keys containing '.' become nested. */
export function renderSettings(tree: SettingsTree, indent = 0): string {
  const pad = '  '.repeat(indent);
  let out = '';
  for (const [k, v] of Object.entries(tree)) {
    if (k.includes('.')) {
      const [head, ...rest] = k.split('.');
      out += renderSettings({ [head!]: { [rest.join('.')]: v } }, indent);
      continue;
    }
    if (isTree(v)) out += `${pad}${k} {\n${renderSettings(v, indent + 1)}${pad}}\n`;
    else {
      const s = fmtValue(v);
      if (/[\n{}]/.test(s)) throw new Error(`invalid setting value for ${k}: ${JSON.stringify(s)}`);
      out += `${pad}${k} = ${s}\n`;
    }
  }
  return out;
}

function mergeTrees(a: SettingsTree, b: SettingsTree): SettingsTree {
  const out: SettingsTree = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = cur !== undefined && isTree(cur) && isTree(v) ? mergeTrees(cur, v) : v;
  }
  return out;
}

const arr = (v: string | readonly string[]): readonly string[] => (typeof v === 'string' ? [v] : v);

export function strongswanConf(dir: string, opts: Pick<StrongSwanStartOptions, 'logLevels' | 'charon'> = {}): string {
  const levels = { ...DEFAULT_LOG_LEVELS, ...(opts.logLevels ?? {}) };
  let charon: SettingsTree = {
    load_modular: false,
    load: CHARON_PLUGINS,
    // not needed with libipsec, and keeps the namespaces' routing predictable
    install_virtual_ip: false,
    plugins: {
      vici: { socket: `unix://${dir}/charon.vici` },
    },
    filelog: {
      main: {
        path: join(dir, 'charon.log'),
        time_format: '%s',
        time_add_ms: true,
        append: false,
        flush_line: true,
        ...levels,
      },
    },
    syslog: { identifier: 'charon-ikt', daemon: { default: -1 } },
  };
  if (opts.charon) charon = mergeTrees(charon, opts.charon);
  return renderSettings({ charon, swanctl: { load: SWANCTL_PLUGINS } });
}

function childTree(c: SwanctlChildOpts): SettingsTree {
  const t: SettingsTree = {
    local_ts: arr(c.localTs),
    remote_ts: arr(c.remoteTs),
    esp_proposals: arr(c.espProposals ?? 'aes256gcm16'),
    start_action: c.startAction ?? 'none',
  };
  if (c.closeAction !== undefined) t['close_action'] = c.closeAction;
  if (c.dpdAction !== undefined) t['dpd_action'] = c.dpdAction;
  if (c.rekeyTime !== undefined) t['rekey_time'] = c.rekeyTime;
  if (c.lifeTime !== undefined) t['life_time'] = c.lifeTime;
  if (c.randTime !== undefined) t['rand_time'] = c.randTime;
  if (c.rekeyBytes !== undefined) t['rekey_bytes'] = c.rekeyBytes;
  if (c.lifeBytes !== undefined) t['life_bytes'] = c.lifeBytes;
  if (c.rekeyPackets !== undefined) t['rekey_packets'] = c.rekeyPackets;
  if (c.mode !== undefined) t['mode'] = c.mode;
  if (c.replayWindow !== undefined) t['replay_window'] = c.replayWindow;
  return c.extra ? mergeTrees(t, c.extra) : t;
}

/** Render swanctl.conf (connections + PSK secrets) for one or more connections. */
export function swanctlConf(confs: SwanctlConnOpts | readonly SwanctlConnOpts[]): string {
  const list: readonly SwanctlConnOpts[] = Array.isArray(confs) ? confs : [confs as SwanctlConnOpts];
  const connections: SettingsTree = {};
  const secrets: SettingsTree = {};
  list.forEach((c, i) => {
    const name = c.name ?? 'gw';
    const local: SettingsTree = { auth: 'psk' };
    const remote: SettingsTree = { auth: 'psk' };
    if (c.localId !== undefined) local['id'] = c.localId;
    if (c.remoteId !== undefined) remote['id'] = c.remoteId;
    const children: SettingsTree = {};
    for (const ch of c.children) children[ch.name] = childTree(ch);
    let t: SettingsTree = {
      version: c.version ?? 2,
      local_addrs: arr(c.localAddrs),
      remote_addrs: arr(c.remoteAddrs),
      proposals: arr(c.proposals ?? 'aes256gcm16-prfsha256-x25519'),
    };
    const opt: [keyof SwanctlConnOpts, string][] = [
      ['localPort', 'local_port'],
      ['remotePort', 'remote_port'],
      ['rekeyTime', 'rekey_time'],
      ['reauthTime', 'reauth_time'],
      ['overTime', 'over_time'],
      ['randTime', 'rand_time'],
      ['dpdDelay', 'dpd_delay'],
      ['dpdTimeout', 'dpd_timeout'],
      ['encap', 'encap'],
      ['mobike', 'mobike'],
      ['fragmentation', 'fragmentation'],
      ['keyingtries', 'keyingtries'],
      ['unique', 'unique'],
    ];
    for (const [k, sk] of opt) {
      const v = c[k];
      if (v !== undefined) t[sk] = v as SettingValue;
    }
    t = { ...t, local, remote, children };
    if (c.extra) t = mergeTrees(t, c.extra);
    connections[name] = t;
    if (/[\n"]/.test(c.psk)) throw new Error('psk must not contain newlines or quotes');
    const sec: SettingsTree = {};
    if (c.localId !== undefined) sec['id-1'] = c.localId;
    if (c.remoteId !== undefined) sec['id-2'] = c.remoteId;
    sec['secret'] = `"${c.psk}"`;
    secrets[`ike-${i}-${name}`] = sec;
  });
  return renderSettings({ connections, secrets });
}

// ---------------------------------------------------------------------------------------------
// Key extraction from the ike=4 / chd=4 filelog
// ---------------------------------------------------------------------------------------------

/** lower-case hex strings */
export interface IkeKeys {
  /** charon worker thread that derived them */
  thread: number;
  dhSecret?: string;
  skeyseed: string;
  skD?: string;
  skAi?: string;
  skAr?: string;
  skEi?: string;
  skEr?: string;
  skPi?: string;
  skPr?: string;
}

export interface ChildKeys {
  thread: number;
  /** initiator/responder = role in the CREATE_CHILD_SA / IKE_AUTH exchange that made the SA */
  encrI?: string;
  encrR?: string;
  integI?: string;
  integR?: string;
  /** SPIs charon installed right after deriving these keys (8 hex digits) */
  spiIn?: string;
  spiOut?: string;
}

export interface LogKeys {
  /** in order of derivation (initial IKE SA first, then IKE rekeys) */
  ike: IkeKeys[];
  /** in order of derivation */
  child: ChildKeys[];
}

const IKE_LABELS: Record<string, keyof IkeKeys> = {
  'shared Diffie Hellman secret': 'dhSecret',
  SKEYSEED: 'skeyseed',
  'Sk_d secret': 'skD',
  'Sk_ai secret': 'skAi',
  'Sk_ar secret': 'skAr',
  'Sk_ei secret': 'skEi',
  'Sk_er secret': 'skEr',
  'Sk_pi secret': 'skPi',
  'Sk_pr secret': 'skPr',
};
const CHILD_LABELS: Record<string, keyof ChildKeys> = {
  'encryption initiator key': 'encrI',
  'encryption responder key': 'encrR',
  'integrity initiator key': 'integI',
  'integrity responder key': 'integR',
};

/**
 * Extract key material from a charon filelog written at ike >= 4 (IKE keys) / chd >= 4 (CHILD
 * keys). charon prints a header `<label> => <n> bytes @ 0x<addr>` followed by hexdump lines
 * `   0: 34 5E 52 ...  4^R.` (16 bytes each, ASCII column after two spaces). Lines of
 * concurrent worker threads interleave, so dumps are collected per thread id (`15[IKE]`).
 */
export function parseKeysFromLog(log: string): LogKeys {
  const res: LogKeys = { ike: [], child: [] };
  const pendingDump = new Map<number, { label: string; bytes: number; hex: string[] }>();
  const pendingDh = new Map<number, string>();
  const curIke = new Map<number, IkeKeys>();
  const curChild = new Map<number, ChildKeys>();
  const expectSpi = new Map<number, 'spiIn' | 'spiOut'>();

  const finish = (thread: number): void => {
    const d = pendingDump.get(thread);
    if (!d) return;
    pendingDump.delete(thread);
    const hex = d.hex.join('').slice(0, d.bytes * 2).toLowerCase();
    const ikeField = IKE_LABELS[d.label];
    const childField = CHILD_LABELS[d.label];
    if (ikeField === 'dhSecret') pendingDh.set(thread, hex);
    else if (ikeField === 'skeyseed') {
      const k: IkeKeys = { thread, skeyseed: hex };
      const dh = pendingDh.get(thread);
      if (dh !== undefined) k.dhSecret = dh;
      pendingDh.delete(thread);
      res.ike.push(k);
      curIke.set(thread, k);
    } else if (ikeField) {
      const k = curIke.get(thread);
      if (k && k[ikeField] === undefined) (k as unknown as Record<string, unknown>)[ikeField] = hex;
    } else if (childField) {
      let k = curChild.get(thread);
      if (!k || k[childField] !== undefined || k.spiIn !== undefined || k.spiOut !== undefined) {
        k = { thread };
        res.child.push(k);
        curChild.set(thread, k);
      }
      (k as unknown as Record<string, unknown>)[childField] = hex;
    }
  };

  for (const line of log.split('\n')) {
    const m = /(\d+)\[([A-Z]{2,4})\] ?(.*)$/.exec(line);
    if (!m) continue;
    const thread = Number(m[1]);
    const msg = m[3]!;
    const dump = /^\s*(\d+): ((?:[0-9A-F]{2} )*[0-9A-F]{2})/.exec(msg);
    const pd = pendingDump.get(thread);
    if (dump && pd) {
      pd.hex.push(dump[2]!.replace(/ /g, ''));
      continue;
    }
    finish(thread);
    const hdr = /^(.+?) => (\d+) bytes @ (?:0x)?[0-9a-fA-F]+$/.exec(msg);
    if (hdr && (IKE_LABELS[hdr[1]!] || CHILD_LABELS[hdr[1]!])) {
      pendingDump.set(thread, { label: hdr[1]!, bytes: Number(hdr[2]), hex: [] });
      continue;
    }
    if (/^adding inbound (ESP|AH) SA/.test(msg)) expectSpi.set(thread, 'spiIn');
    else if (/^adding outbound (ESP|AH) SA/.test(msg)) expectSpi.set(thread, 'spiOut');
    else {
      const spi = /^\s*SPI 0x([0-9a-f]+)/.exec(msg);
      const which = expectSpi.get(thread);
      if (spi && which) {
        expectSpi.delete(thread);
        const k = curChild.get(thread);
        if (k && k[which] === undefined) k[which] = spi[1]!;
      }
    }
  }
  for (const t of [...pendingDump.keys()]) finish(t);
  return res;
}

// ---------------------------------------------------------------------------------------------
// The StrongSwan instance
// ---------------------------------------------------------------------------------------------

export class StrongSwan {
  ns = '';
  dir = '';
  private child: ChildProcess | undefined;
  private exitInfo: string | undefined;

  /** Convenience: `await StrongSwan.launch(opts)` = new + start. */
  static async launch(opts: StrongSwanStartOptions): Promise<StrongSwan> {
    const s = new StrongSwan();
    await s.start(opts);
    return s;
  }

  get viciUri(): string {
    return `unix://${this.dir}/charon.vici`;
  }
  get logPath(): string {
    return join(this.dir, 'charon.log');
  }
  get confPath(): string {
    return join(this.dir, 'strongswan.conf');
  }
  get swanctlConfPath(): string {
    return join(this.dir, 'swanctl', 'swanctl.conf');
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Write strongswan.conf + swanctl.conf into `dir`, start charon in `ns`, wait for its vici
   * socket and load the configuration (`swanctl --load-all`). Throws (after stopping charon)
   * with the log tail when anything fails.
   */
  async start(opts: StrongSwanStartOptions): Promise<void> {
    if (this.child) throw new Error('already started');
    this.ns = opts.ns;
    this.dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ikt-sw-'));
    if (`${this.dir}/charon.vici`.length > 100) throw new Error(`dir '${this.dir}' too long for a unix socket path`);
    const runDir = join(this.dir, 'run');
    mkdirSync(runDir, { recursive: true });
    // swanctl scans these next to swanctl.conf; creating them silences "opening directory" noise
    for (const d of ['x509', 'x509ca', 'x509ocsp', 'x509aa', 'x509ac', 'x509crl', 'pubkey', 'private', 'rsa', 'ecdsa', 'bliss', 'pkcs8', 'pkcs12'])
      mkdirSync(join(this.dir, 'swanctl', d), { recursive: true });
    for (const stale of [join(this.dir, 'charon.vici'), join(runDir, 'charon.pid'), join(runDir, 'charon.ctl')])
      rmSync(stale, { force: true });
    writeFileSync(this.confPath, strongswanConf(this.dir, opts));
    writeFileSync(this.swanctlConfPath, swanctlConf(opts.conf));

    const out = openSync(join(this.dir, 'charon.out'), 'w');
    try {
      this.child = spawnIn(
        opts.ns,
        ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /run && exec "$1"', runDir, CHARON_PATH],
        { env: { ...process.env, STRONGSWAN_CONF: this.confPath }, stdio: ['ignore', out, out] },
      );
    } finally {
      closeSync(out);
    }
    this.child.once('exit', (code, sig) => {
      this.exitInfo = `charon exited (code ${code}, signal ${sig})`;
    });

    try {
      const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
      while (!existsSync(join(this.dir, 'charon.vici'))) {
        if (!this.alive()) throw new Error(this.exitInfo ?? 'charon died');
        if (Date.now() > deadline) throw new Error('timeout waiting for the vici socket');
        await sleep(50);
      }
      this.loadAll();
    } catch (e) {
      const msg = `strongSwan start in ${opts.ns} failed: ${(e as Error).message}\n--- charon.out ---\n${this.readFile('charon.out')}\n--- log tail ---\n${this.logTail(40)}`;
      await this.stop();
      throw new Error(msg);
    }
  }

  /** Run swanctl against this instance (root namespace, vici socket in dir). */
  swanctl(args: readonly string[], timeoutMs = 15_000): ExecResult {
    return exec(null, ['swanctl', ...args, '--uri', this.viciUri], {
      env: { ...process.env, STRONGSWAN_CONF: this.confPath },
      timeoutMs,
    });
  }

  private check(r: ExecResult, what: string): ExecResult {
    if (r.code !== 0)
      throw new Error(`${what} failed (code ${r.code}):\n${r.stdout}\n${r.stderr}\n--- log tail ---\n${this.logTail(30)}`);
    return r;
  }

  /** (Re)load connections and secrets from swanctl.conf in dir. */
  loadAll(): ExecResult {
    return this.check(this.swanctl(['--load-all', '--file', this.swanctlConfPath]), 'swanctl --load-all');
  }

  /** Replace the configuration and reload it. */
  reconfigure(conf: SwanctlConnOpts | readonly SwanctlConnOpts[]): ExecResult {
    writeFileSync(this.swanctlConfPath, swanctlConf(conf));
    return this.loadAll();
  }

  /**
   * `swanctl --initiate --child <child>` (blocks until established or failed). Throws on failure
   * unless `check: false`.
   */
  initiate(child: string, opts: { ike?: string; timeoutS?: number; check?: boolean } = {}): ExecResult {
    const args = ['--initiate', '--child', child, '--timeout', String(opts.timeoutS ?? 10)];
    if (opts.ike !== undefined) args.push('--ike', opts.ike);
    const r = this.swanctl(args, ((opts.timeoutS ?? 10) + 5) * 1000);
    return opts.check === false ? r : this.check(r, `initiate ${child}`);
  }

  /** `swanctl --terminate --ike <ike>` (or a single child with `child`). */
  terminate(ike: string, opts: { child?: string; force?: boolean; timeoutS?: number; check?: boolean } = {}): ExecResult {
    const args = opts.child !== undefined ? ['--terminate', '--child', opts.child] : ['--terminate', '--ike', ike];
    if (opts.force) args.push('--force');
    args.push('--timeout', String(opts.timeoutS ?? 10));
    const r = this.swanctl(args, ((opts.timeoutS ?? 10) + 5) * 1000);
    return opts.check === false ? r : this.check(r, `terminate ${ike}`);
  }

  /** `swanctl --rekey --child|--ike` */
  rekey(which: { child: string } | { ike: string }, check = true): ExecResult {
    const args = 'child' in which ? ['--rekey', '--child', which.child] : ['--rekey', '--ike', which.ike];
    const r = this.swanctl(args);
    return check ? this.check(r, 'rekey') : r;
  }

  /** Current SAs from `swanctl --list-sas --raw` (or --pretty, which copes with DN ids). */
  listSas(format: 'raw' | 'pretty' = 'raw'): ParsedSa[] {
    const r = this.check(this.swanctl(['--list-sas', `--${format}`]), 'list-sas');
    return parseListSas(r.stdout);
  }

  /**
   * Poll listSas() every `intervalMs` until `predicate` holds; returns that list. Throws with
   * the last SA list and the log tail on timeout or when charon died.
   */
  async waitFor(predicate: (sas: ParsedSa[]) => unknown, timeoutMs = 10_000, intervalMs = 100): Promise<ParsedSa[]> {
    const deadline = Date.now() + timeoutMs;
    let last: ParsedSa[] = [];
    while (true) {
      if (!this.alive()) throw new Error(`waitFor: ${this.exitInfo ?? 'charon not running'}\n${this.logTail(30)}`);
      last = this.listSas();
      if (predicate(last)) return last;
      if (Date.now() > deadline) {
        const brief = last.map((s) => ({ name: s.name, state: s.state, children: s.children.map((c) => `${c.name}:${c.state}`) }));
        throw new Error(`waitFor timed out after ${timeoutMs} ms in ${this.ns}; SAs: ${JSON.stringify(brief)}\n--- log tail ---\n${this.logTail(30)}`);
      }
      await sleep(intervalMs);
    }
  }

  /** Full charon filelog text. */
  log(): string {
    return this.readFile('charon.log');
  }

  logTail(lines: number): string {
    return this.log().split('\n').slice(-lines - 1).join('\n');
  }

  /** IKE and CHILD keys printed in the log (see parseKeysFromLog). */
  keysFromLog(): LogKeys {
    return parseKeysFromLog(this.log());
  }

  private readFile(name: string): string {
    try {
      return readFileSync(join(this.dir, name), 'utf8');
    } catch {
      return '';
    }
  }

  /** SIGTERM charon, SIGKILL after 3 s; resolves once it has exited. Idempotent. */
  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, 3000);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
