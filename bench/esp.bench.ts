/**
 * ESP seal/open micro-benchmark, one core, per payload size:
 *   - native (data path): Engine.benchEsp — the data threads' espSeal/espOpen in a loop inside
 *     the addon (copy into one of 64 slots, seal/open in place; no N-API per packet), per
 *     CPU-second of the calling thread: what one data-plane core can seal/open;
 *   - native/call: the addon's per-packet test path (Engine.testSeal / Engine.testInbound):
 *     every packet pays one N-API call plus the addon's copy-in/copy-out (a std::vector and a
 *     Buffer::Copy each way) and the engine mutex;
 *   - TS: the reference codec src/esp/packet.ts (encapsulate/decapsulate) on node:crypto;
 *   - openssl: `openssl speed -evp <cipher> -bytes N -seconds 1 -mr` ([-decrypt]) in a child
 *     process (raw EVP streaming, no per-packet IV/AAD/tag setup: an upper bound).
 *
 * Run: npm run bench:esp   (IKEGW_BENCH_CELL_MS=800 per cell, IKEGW_BENCH_SUITES=aes,chacha,
 *                           IKEGW_BENCH_SIZES=64,512,1400,8192)
 * Rates are per second of CPU time of the measuring process (one thread): per core.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { binding, bindingAvailable, loadError } from '../native/index.js';
import { createEspSa } from '../src/esp/sa.js';
import { decapsulate, encapsulate } from '../src/esp/packet.js';
import type { SaSpec } from '../src/esp/port.js';

const CELL_MS = Number(process.env['IKEGW_BENCH_CELL_MS'] ?? 800);
const SIZES = (process.env['IKEGW_BENCH_SIZES'] ?? '64,512,1400,8192').split(',').map(Number);
const SPI = 0xc0ffee01;
const PEER = { address: '127.0.0.1', port: 4500 };

interface Suite {
  name: string;
  encr: number;
  openssl: string;
}
const ALL_SUITES: Suite[] = [
  { name: 'aes256gcm16', encr: 20, openssl: 'aes-256-gcm' },
  { name: 'chacha20poly1305', encr: 28, openssl: 'chacha20-poly1305' },
];
const wanted = (process.env['IKEGW_BENCH_SUITES'] ?? 'aes,chacha').split(',');
const SUITES = ALL_SUITES.filter((s) => wanted.some((w) => s.name.startsWith(w)));

function ipv4Packet(len: number): Buffer {
  const p = Buffer.alloc(len, 0x5a);
  p[0] = 0x45;
  p[1] = 0;
  p.writeUInt16BE(len & 0xffff, 2);
  p[9] = 17;
  return p;
}

/**
 * run fn in a tight loop for CELL_MS of wall time (checking the clock every 64 calls);
 * packets per second of this process's CPU time (user+system, like `openssl speed`, so that
 * other load on the machine does not count against us)
 */
/** packets per CPU-second of Engine.benchEsp (the seal/open loop inside the addon) */
function measureBatch(run: (count: number) => number): number {
  run(2000); // warm-up
  let count = 5000;
  let ns = run(count);
  while (ns < 50e6 && count < 1e8) {
    count *= 4;
    ns = run(count);
  }
  // then fill the cell
  const total = Math.max(count, Math.round((count * CELL_MS * 1e6) / Math.max(ns, 1)));
  ns = run(total);
  return (total * 1e9) / Math.max(ns, 1);
}

function measure(fn: (i: number) => void): number {
  // warm-up (JIT, caches)
  const w0 = performance.now();
  let i = 0;
  while (performance.now() - w0 < Math.min(100, CELL_MS / 10)) for (let k = 0; k < 64; k++) fn(i++);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let n = 0;
  let t = t0;
  while (t - t0 < CELL_MS) {
    for (let k = 0; k < 64; k++) fn(i++);
    n += 64;
    t = performance.now();
  }
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  return (n * 1000) / Math.max(cpuMs, 1);
}

/** bytes/s from `openssl speed -mr` (+F line: bytes per second of CPU time) */
function opensslSpeed(cipher: string, size: number, decrypt: boolean): number {
  const seconds = Math.max(1, Math.round(CELL_MS / 1000));
  const args = ['speed', '-evp', cipher, '-bytes', String(size), '-seconds', String(seconds), '-mr'];
  if (decrypt) args.push('-decrypt');
  const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 15_000 });
  const m = /^\+F:\d+:[^:]+:([\d.]+)/m.exec(r.stdout ?? '');
  if (!m) return NaN;
  return Number(m[1]);
}

function tsSpec(encr: number, dir: 'in' | 'out', key: Buffer): SaSpec {
  return {
    spi: SPI,
    dir,
    connection: 'bench',
    childId: 1,
    suite: { encr, encrKeyBits: 256, integ: 0 },
    encKey: key,
    integKey: Buffer.alloc(0),
    esn: false,
    replayWindow: 0,
    local: { address: '127.0.0.1', port: 4500 },
    remote: PEER,
    encap: true,
    lifetime: { soft: {}, hard: {} },
  };
}

interface Row {
  suite: string;
  size: number;
  dir: 'encrypt' | 'decrypt';
  native: number; // packets/s, data path (benchEsp)
  call: number; // packets/s, one N-API call per packet (testSeal / testInbound)
  ts: number;
  openssl: number;
}

const fmtPps = (x: number) => (Number.isFinite(x) ? (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(0)}k`) : 'n/a');
const gbps = (pps: number, size: number) => (Number.isFinite(pps) ? ((pps * size * 8) / 1e9).toFixed(2) : 'n/a');
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');

function main(): void {
  const started = Date.now();
  console.log(`ikegw ESP benchmark — Node ${process.version}, ${cpus()[0]?.model ?? '?'} (${cpus().length} cores), one core per cell, ${CELL_MS} ms per cell (openssl: 1 s), rates per CPU-second`);
  console.log(`openssl: ${spawnSync('openssl', ['version'], { encoding: 'utf8' }).stdout.trim()}`);
  if (!bindingAvailable) console.log(`native addon unavailable (${loadError}): native column n/a`);
  else
    console.log(
      'native = the data path\'s espSeal/espOpen looped inside the addon (Engine.benchEsp: copy into a slot + seal/open in place, per thread CPU-second); native/call = Engine.testSeal/testInbound per packet (one N-API call, a copy in and a copy out and the engine lock per packet)',
    );
  console.log('TS = src/esp/packet.ts encapsulate/decapsulate on node:crypto; openssl = `openssl speed -evp <c> -bytes N -seconds 1` (child process, raw EVP stream)');
  console.log('Gbit/s counts the inner payload bytes (what openssl counts).\n');

  const rows: Row[] = [];
  for (const s of SUITES) {
    const key = randomBytes(36); // 32-byte key ‖ 4-byte salt
    const eng = bindingAvailable ? new (binding().Engine)(() => {}) : undefined;
    try {
      if (eng) {
        eng.openUdp('127.0.0.1', 0);
        const conn = eng.addConnection(-1, 9000, 0);
        for (const dir of ['in', 'out'] as const)
          eng.addSa({ spi: SPI, dir, conn, encr: s.encr, encKey: key, integ: 0, esn: false, replayWindow: 0, remoteAddress: PEER.address, remotePort: PEER.port, localAddress: '127.0.0.1', localPort: 4500, encap: true });
      }
      const tsOut = createEspSa(tsSpec(s.encr, 'out', key));
      const tsIn = createEspSa(tsSpec(s.encr, 'in', key));
      for (const size of SIZES) {
        const inner = ipv4Packet(size);
        // sanity: the native packet opens in TS and vice versa
        const sealedTs = Buffer.from(encapsulate(tsOut, inner, { hi: 0, lo: 1 }, undefined, undefined, 4));
        let sealedNative: Buffer | undefined;
        if (eng) {
          sealedNative = eng.testSeal(SPI, inner, 4, 1);
          if (!sealedNative.equals(sealedTs)) throw new Error(`${s.name}/${size}: native and TS ESP bytes differ`);
          const r = eng.testInbound(sealedTs, PEER.address, PEER.port);
          if (r.result !== 'ok') throw new Error(`${s.name}/${size}: native testInbound: ${r.result}`);
        }
        const d = decapsulate(tsIn, sealedTs, 0);
        if (!d.ok) throw new Error(`${s.name}/${size}: TS decapsulate: ${d.reason}`);

        let seq = 1;
        const nEnc = eng ? measureBatch((n) => eng.benchEsp(SPI, 'out', inner, n)) : NaN;
        const cEnc = eng ? measure(() => eng.testSeal(SPI, inner, 4, ++seq)) : NaN;
        const tEnc = measure((i) => encapsulate(tsOut, inner, { hi: 0, lo: (i + 2) >>> 0 }, undefined, undefined, 4));
        const oEnc = opensslSpeed(s.openssl, size, false) / size;
        rows.push({ suite: s.name, size, dir: 'encrypt', native: nEnc, call: cEnc, ts: tEnc, openssl: oEnc });

        const nDec = eng ? measureBatch((n) => eng.benchEsp(SPI, 'in', sealedTs, n)) : NaN;
        const cDec = eng
          ? measure(() => {
              if (eng.testInbound(sealedTs, PEER.address, PEER.port).result !== 'ok') throw new Error('native decrypt failed');
            })
          : NaN;
        const tDec = measure(() => {
          if (!decapsulate(tsIn, sealedTs, 0).ok) throw new Error('TS decrypt failed');
        });
        const oDec = opensslSpeed(s.openssl, size, true) / size;
        rows.push({ suite: s.name, size, dir: 'decrypt', native: nDec, call: cDec, ts: tDec, openssl: oDec });
        const last = rows.slice(-2);
        for (const r of last) process.stderr.write(`  ${r.suite} ${r.size} B ${r.dir}: native ${fmtPps(r.native)} pps (per call ${fmtPps(r.call)}), TS ${fmtPps(r.ts)} pps, openssl ${fmtPps(r.openssl)} pps\n`);
      }
    } finally {
      eng?.close();
    }
  }

  const head = ['suite', 'bytes', 'op', 'native pps', 'native Gb/s', 'native/call pps', 'TS pps', 'TS Gb/s', 'openssl pps', 'openssl Gb/s', 'native/openssl', 'native/TS'];
  const table = rows.map((r) => [
    r.suite,
    String(r.size),
    r.dir,
    fmtPps(r.native),
    gbps(r.native, r.size),
    fmtPps(r.call),
    fmtPps(r.ts),
    gbps(r.ts, r.size),
    fmtPps(r.openssl),
    gbps(r.openssl, r.size),
    ratio(r.native, r.openssl),
    ratio(r.native, r.ts),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  console.log(line(head));
  console.log('|' + widths.map((w, i) => (i < 3 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const row of table) console.log(line(row));
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

main();
