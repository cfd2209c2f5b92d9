/**
 * Runs the real ikegw daemon (dist/src/main.js) inside a test namespace, with a generated
 * YAML config, a key log (debug feature) and the control socket in a private directory.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawnIn, stopChild } from './netns.js';
import { request } from '../../../src/control/cli.js';

/** the repository root (works from test/ and from the compiled dist/test/) */
function findRepo(): string {
  let d = import.meta.dirname;
  while (!existsSync(join(d, 'package.json')) || existsSync(join(d, 'tsconfig.build.json')) === false) {
    const up = resolve(d, '..');
    if (up === d) throw new Error('repository root not found');
    d = up;
  }
  return d;
}
export const REPO = findRepo();
export const MAIN = join(REPO, 'dist/src/main.js');

export interface IkegwConnOpts {
  name?: string;
  local: string;
  remote: string;
  localId?: string;
  remoteId?: string;
  psk: string;
  ike: string[];
  esp: string[];
  localTs: string[];
  remoteTs: string[];
  startAction?: 'none' | 'start' | 'trap';
  encap?: 'always' | 'auto';
  /** extra YAML lines for the connection (indented 4 spaces) */
  extra?: string;
  /** routes into the connection's TUN (default: remoteTs) */
  routes?: string[];
  /** inner addresses on the connection's TUN (e.g. a BGP /31) */
  tunnelAddresses?: string[];
}

export interface StatusSa {
  ike: { connection: string; state: string; spiI: string; spiR: string; encr: string; integ: string | null; prf: string; ke: string; natLocal: boolean; natRemote: boolean; local: { address: string; port: number }; remote: { address: string; port: number }; initiator: boolean };
  children: {
    spiIn: string; spiOut: string; encr: string; integ: string | null; localTs: string[]; remoteTs: string[]; encap: boolean;
    /** data-plane counters per direction; impl = the OpenSSL code sealing/opening it (native) */
    counters?: { in?: { packets: number; bytes: number; impl?: string }; out?: { packets: number; bytes: number; impl?: string } };
  }[];
}

export class Ikegw {
  child: ChildProcess | undefined;
  dir = '';
  private out = '';

  /** opts.env: extra environment for the daemon (e.g. IKEGW_NO_NATIVE=1) */
  async start(ns: string, dir: string, conns: IkegwConnOpts[], opts: { logLevel?: string; backend?: 'native' | 'ts'; nice?: number; env?: Record<string, string> } = {}): Promise<void> {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} missing: run npm run build`);
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
    let yaml = `log: { level: ${opts.logLevel ?? 'debug'} }\ncontrol: { socket: ${join(dir, 'ctl.sock')} }\ndataplane: { backend: ${opts.backend ?? 'native'}${opts.nice !== undefined ? `, nice: ${opts.nice}` : ''} }\nconnections:\n`;
    for (const c of conns) {
      yaml += `  ${c.name ?? 'gw'}:
    local: { address: ${JSON.stringify(c.local)}${c.localId ? `, id: ${JSON.stringify(c.localId)}` : ''} }
    remote: { address: ${JSON.stringify(c.remote)}${c.remoteId ? `, id: ${JSON.stringify(c.remoteId)}` : ''} }
    psk: ${JSON.stringify(c.psk)}
    ike_proposals: ${list(c.ike)}
    esp_proposals: ${list(c.esp)}
    local_ts: ${list(c.localTs)}
    remote_ts: ${list(c.remoteTs)}
    start_action: ${c.startAction ?? 'none'}
    encap: ${c.encap ?? 'always'}
    tunnel: { routes: ${list(c.routes ?? c.remoteTs)}${c.tunnelAddresses ? `, addresses: ${list(c.tunnelAddresses)}` : ''} }
${c.extra ?? ''}
`;
    }
    writeFileSync(join(dir, 'ikegw.yaml'), yaml, { mode: 0o600 });
    this.child = spawnIn(ns, [process.execPath, MAIN, '-c', join(dir, 'ikegw.yaml'), '--keylog', join(dir, 'keys.jsonl')], { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}) });
    this.child.stdout?.on('data', (d) => (this.out += d.toString()));
    this.child.stderr?.on('data', (d) => (this.out += d.toString()));
    const until = Date.now() + 10_000;
    for (;;) {
      try {
        await request(join(this.dir, 'ctl.sock'), { cmd: 'status' }, 1000);
        return;
      } catch (e) {
        if (this.child.exitCode !== null || Date.now() > until) throw new Error(`ikegw did not start: ${e}\n${this.out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async ctl(req: object): Promise<{ ok: boolean; result?: unknown; error?: string }> {
    return request(join(this.dir, 'ctl.sock'), req, 3000);
  }

  async status(): Promise<{ connections: { name: string; state: string }[]; sas: StatusSa[] }> {
    const r = await this.ctl({ cmd: 'status' });
    if (!r.ok) throw new Error(r.error);
    return r.result as { connections: { name: string; state: string }[]; sas: StatusSa[] };
  }

  async waitFor(pred: (sas: StatusSa[]) => boolean, timeoutMs = 10_000): Promise<StatusSa[]> {
    const until = Date.now() + timeoutMs;
    let last: StatusSa[] = [];
    while (Date.now() < until) {
      last = (await this.status()).sas;
      if (pred(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`ikegw: condition not met in ${timeoutMs} ms; SAs: ${JSON.stringify(last)}\nlog tail:\n${this.log().split('\n').slice(-30).join('\n')}`);
  }

  /** ESP keys from the key log: spi (hex) → {encKey, integKey, dir} */
  espKeys(): Map<string, { encKey: string; integKey: string; dir: string }> {
    const m = new Map<string, { encKey: string; integKey: string; dir: string }>();
    if (!existsSync(join(this.dir, 'keys.jsonl'))) return m;
    for (const line of readFileSync(join(this.dir, 'keys.jsonl'), 'utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line);
      if (e.kind === 'esp') m.set(e.spi, { encKey: e.encKey, integKey: e.integKey, dir: e.dir });
    }
    return m;
  }

  log(): string {
    return this.out;
  }

  alive(): boolean {
    return !!this.child && this.child.exitCode === null;
  }

  /** stop the daemon with SIGTERM (or SIGINT), SIGKILL after 5 s; returns its exit code */
  async stop(signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM'): Promise<number | null> {
    if (!this.child) return null;
    await stopChild(this.child, 5000, signal);
    // keep the daemon's log next to its config (tests delete the directory unless IKEGW_KEEP_LOGS)
    try {
      writeFileSync(join(this.dir, 'ikegw.log'), this.out);
    } catch {
      /* directory gone */
    }
    return this.child.exitCode;
  }
}

/** The daemon's pino JSON log lines (non-JSON lines are skipped). */
export function parseLogLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* partial line */
    }
  }
  return out;
}

/** Counters read from an ikegw log: CHILD/IKE rekeys completed, CHILD_SAs installed/deleted, rekey collisions settled. */
export function rekeyCounts(log: string): { childRekeyed: number; ikeRekeyed: number; childInstalled: number; childDeleted: number; collisions: number } {
  let childRekeyed = 0;
  let ikeRekeyed = 0;
  let childInstalled = 0;
  let childDeleted = 0;
  let collisions = 0;
  for (const e of parseLogLines(log)) {
    const msg = String(e['msg'] ?? '');
    if (msg === 'rekeyed' && e['event'] === 'child-rekeyed') childRekeyed++;
    else if (msg === 'rekeyed' && e['event'] === 'ike-rekeyed') ikeRekeyed++;
    else if (msg === 'CHILD_SA installed') childInstalled++;
    else if (msg === 'CHILD_SA deleted') childDeleted++;
    // the verdict line, one per §2.8.1 collision ikegw settled
    if (/^CHILD_SA rekey collision: /.test(msg)) collisions++;
  }
  return { childRekeyed, ikeRekeyed, childInstalled, childDeleted, collisions };
}
