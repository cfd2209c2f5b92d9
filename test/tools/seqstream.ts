/**
 * seqstream - a steady UDP stream of sequence-numbered datagrams, and a receiver that counts
 * received / lost / duplicated / reordered ones. Used by the rekey interop tests (run inside
 * network namespaces) to prove that no datagram is lost or duplicated across CHILD_SA rekeys.
 *
 * CLI (after `npm run build`):
 *   node dist/test/tools/seqstream.js recv --port 5001 --seconds 30 [--bind ADDR] [--json]
 *   node dist/test/tools/seqstream.js send --to 172.30.2.2:5001 --rate 2500 --seconds 20 [--size 100] [--json]
 *
 * Wire format (big-endian), `size` bytes (≥ 24):
 *   0  u32  magic 0x53455153 ('SEQS')
 *   4  u8   type: 0 = data, 1 = end
 *   5  u8[3] reserved (0)
 *   8  u64  run id (random per sender run)
 *   16 u64  data: sequence number (0, 1, 2, ...); end: number of data datagrams sent
 *   24 ...  padding (0)
 *
 * The sender paces with a 2 ms timer and sends, per tick, as many datagrams as the elapsed time
 * asks for (so timer lateness turns into a larger batch, not a lower rate); at the end it sends
 * the `end` datagram 5 times (10 ms apart). The receiver follows the first run id it sees
 * (or --run), and stops when the end datagram has arrived plus a grace period (default 500 ms)
 * or after --seconds. `lost` = data datagrams the sender reports as sent (or, without an end
 * datagram, max seq + 1) minus distinct ones received.
 *
 * Output: `recv` prints `{"listening":PORT}` on stderr once bound and the summary as one JSON
 * line on stdout (with --json; a human-readable line otherwise). `send` prints its summary
 * the same way. SIGTERM/SIGINT make the sender stop early (it still sends `end`) and the
 * receiver finish at once (summary printed).
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { pathToFileURL } from 'node:url';

export const MAGIC = 0x53455153;
export const TYPE_DATA = 0;
export const TYPE_END = 1;
export const HEADER_LEN = 24;

export function encode(type: number, run: bigint, value: bigint, size = HEADER_LEN): Buffer {
  const b = Buffer.alloc(Math.max(size, HEADER_LEN));
  b.writeUInt32BE(MAGIC, 0);
  b.writeUInt8(type, 4);
  b.writeBigUInt64BE(run, 8);
  b.writeBigUInt64BE(value, 16);
  return b;
}

export function decode(b: Buffer): { type: number; run: bigint; value: bigint } | null {
  if (b.length < HEADER_LEN || b.readUInt32BE(0) !== MAGIC) return null;
  return { type: b.readUInt8(4), run: b.readBigUInt64BE(8), value: b.readBigUInt64BE(16) };
}

// ---------------------------------------------------------------------------------------------
// Receiver statistics (pure; unit-testable)
// ---------------------------------------------------------------------------------------------

export interface RecvSummary {
  /** run id followed (hex), '' when nothing arrived */
  run: string;
  /** every data datagram of the run, duplicates included */
  received: number;
  /** distinct sequence numbers received */
  unique: number;
  /** expected - unique (expected = sender's count from `end`, else maxSeq + 1) */
  lost: number;
  /** datagrams whose sequence number had already been received */
  duplicated: number;
  /** first arrivals with a sequence number below the highest one seen before */
  reordered: number;
  /** highest sequence number received (-1 when none) */
  maxSeq: number;
  /** sender's count from the end datagram (null when it never arrived) */
  sentByPeer: number | null;
  expected: number;
  /** up to 20 missing ranges [first, last] */
  gaps: [number, number][];
  /** datagrams of other runs / not ours */
  foreign: number;
  /** receive time span first..last data datagram (ms) and the resulting rate */
  durationMs: number;
  pps: number;
  /** the longest silence between two consecutive data datagrams (ms) */
  maxGapMs: number;
  /** when maxGapMs ended, ms after the first datagram */
  maxGapAtMs: number;
  /** wall clock (Date.now()) of the first data datagram */
  firstAtEpochMs: number;
  /** up to 50 forward jumps in the sequence (a gap opened): [first missing, last missing, Date.now() on arrival] */
  jumps: [number, number, number][];
}

export class SeqStats {
  run: bigint | null;
  received = 0;
  unique = 0;
  duplicated = 0;
  reordered = 0;
  maxSeq = -1;
  sentByPeer: number | null = null;
  foreign = 0;
  firstAt = 0;
  lastAt = 0;
  maxGapMs = 0;
  maxGapAtMs = 0;
  firstAtEpochMs = 0;
  jumps: [number, number, number][] = [];
  private seen = new Uint8Array(1 << 16);

  constructor(run: bigint | null = null) {
    this.run = run;
  }

  /** feed one datagram; `now` in ms (performance.now()). Returns true for an `end` datagram of our run. */
  add(buf: Buffer, now: number): boolean {
    const d = decode(buf);
    if (!d) {
      this.foreign++;
      return false;
    }
    if (this.run === null) this.run = d.run;
    if (d.run !== this.run) {
      this.foreign++;
      return false;
    }
    if (d.type === TYPE_END) {
      this.sentByPeer = Number(d.value);
      return true;
    }
    if (d.type !== TYPE_DATA) {
      this.foreign++;
      return false;
    }
    const seq = Number(d.value);
    if (this.received === 0) {
      this.firstAt = now;
      this.firstAtEpochMs = Date.now();
    }
    else if (now - this.lastAt > this.maxGapMs) {
      this.maxGapMs = now - this.lastAt;
      this.maxGapAtMs = now - this.firstAt;
    }
    this.lastAt = now;
    this.received++;
    while (seq >= this.seen.length * 8) {
      const n = new Uint8Array(this.seen.length * 2);
      n.set(this.seen);
      this.seen = n;
    }
    const byte = seq >>> 3;
    const bit = 1 << (seq & 7);
    if (this.seen[byte]! & bit) {
      this.duplicated++;
      return false;
    }
    this.seen[byte]! |= bit;
    this.unique++;
    if (seq < this.maxSeq) this.reordered++;
    else {
      if (seq > this.maxSeq + 1 && this.jumps.length < 50) this.jumps.push([this.maxSeq + 1, seq - 1, Date.now()]);
      this.maxSeq = seq;
    }
    return false;
  }

  private missingRanges(upTo: number, limit = 20): [number, number][] {
    const out: [number, number][] = [];
    let start = -1;
    for (let s = 0; s < upTo; s++) {
      const has = (this.seen[s >>> 3]! & (1 << (s & 7))) !== 0;
      if (!has && start < 0) start = s;
      if (has && start >= 0) {
        out.push([start, s - 1]);
        start = -1;
        if (out.length >= limit) return out;
      }
    }
    if (start >= 0) out.push([start, upTo - 1]);
    return out;
  }

  summary(): RecvSummary {
    const expected = this.sentByPeer ?? this.maxSeq + 1;
    const durationMs = this.received > 1 ? this.lastAt - this.firstAt : 0;
    return {
      run: this.run === null ? '' : this.run.toString(16),
      received: this.received,
      unique: this.unique,
      lost: Math.max(0, expected - this.unique),
      duplicated: this.duplicated,
      reordered: this.reordered,
      maxSeq: this.maxSeq,
      sentByPeer: this.sentByPeer,
      expected,
      gaps: this.missingRanges(Math.min(expected, this.seen.length * 8)),
      foreign: this.foreign,
      durationMs: Math.round(durationMs),
      pps: durationMs > 0 ? Math.round(((this.received - 1) * 1000) / durationMs) : 0,
      maxGapMs: Math.round(this.maxGapMs * 10) / 10,
      maxGapAtMs: Math.round(this.maxGapAtMs),
      firstAtEpochMs: this.firstAtEpochMs,
      jumps: this.jumps,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Receiver
// ---------------------------------------------------------------------------------------------

export interface RecvOptions {
  port: number;
  /** bind address (default :: dual-stack, or 0.0.0.0 when family 4) */
  bind?: string;
  /** give up after this many seconds (default 60) */
  seconds?: number;
  /** after the end datagram, wait this long for stragglers (default 500 ms) */
  graceMs?: number;
  /** follow only this run id */
  run?: bigint;
}

export interface Receiver {
  /** resolves with the bound port once listening */
  ready: Promise<number>;
  /** resolves with the summary when finished */
  done: Promise<RecvSummary>;
  /** finish now */
  stop(): void;
}

export function receive(opts: RecvOptions): Receiver {
  const bind = opts.bind ?? '::';
  const sock = createSocket({ type: isIPv6(bind) ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
  const stats = new SeqStats(opts.run ?? null);
  let finish!: () => void;
  const done = new Promise<RecvSummary>((resolve) => {
    let over = false;
    finish = () => {
      if (over) return;
      over = true;
      clearTimeout(limit);
      try {
        sock.close();
      } catch {
        /* closed */
      }
      resolve(stats.summary());
    };
    const limit = setTimeout(finish, (opts.seconds ?? 60) * 1000);
  });
  let endTimer: NodeJS.Timeout | undefined;
  sock.on('message', (msg) => {
    if (stats.add(msg, performance.now()) && !endTimer) endTimer = setTimeout(finish, opts.graceMs ?? 500);
  });
  const ready = new Promise<number>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(opts.port, bind, () => {
      try {
        sock.setRecvBufferSize(4 << 20);
      } catch {
        /* capped by rmem_max; fine */
      }
      resolve(sock.address().port);
    });
  });
  return { ready, done, stop: () => finish() };
}

// ---------------------------------------------------------------------------------------------
// Sender
// ---------------------------------------------------------------------------------------------

export interface SendOptions {
  host: string;
  port: number;
  /** datagrams per second (default 2500) */
  rate?: number;
  seconds: number;
  /** datagram size in bytes (default 100, min 24) */
  size?: number;
  run?: bigint;
  /** pacing timer period (default 2 ms) */
  tickMs?: number;
}

export interface SendSummary {
  run: string;
  sent: number;
  /** send() calls that failed (ENOBUFS, EHOSTUNREACH, ...) - those datagrams count as sent */
  errors: number;
  firstError: string | null;
  durationMs: number;
  pps: number;
  /** the largest batch sent in one timer tick */
  maxBatch: number;
}

export interface Sender {
  done: Promise<SendSummary>;
  /** stop early (the end datagrams are still sent) */
  stop(): void;
}

export function send(opts: SendOptions): Sender {
  const rate = opts.rate ?? 2500;
  const size = opts.size ?? 100;
  const run = opts.run ?? randomBytes(8).readBigUInt64BE(0);
  const sock: Socket = createSocket({ type: isIPv6(opts.host) ? 'udp6' : 'udp4', sendBufferSize: 4 << 20 });
  let sent = 0;
  let errors = 0;
  let firstError: string | null = null;
  let maxBatch = 0;
  let stopFlag = false;
  const onErr = (e: Error | null) => {
    if (e) {
      errors++;
      firstError ??= e.message;
    }
  };
  sock.on('error', (e) => onErr(e));
  const done = new Promise<SendSummary>((resolve) => {
    sock.connect(opts.port, opts.host, () => {
      const t0 = performance.now();
      const total = Math.floor(rate * opts.seconds);
      const tick = () => {
        const elapsed = performance.now() - t0;
        const target = stopFlag ? sent : Math.min(total, Math.floor((elapsed * rate) / 1000));
        const batch = target - sent;
        if (batch > maxBatch) maxBatch = batch;
        while (sent < target) {
          sock.send(encode(TYPE_DATA, run, BigInt(sent), size), onErr);
          sent++;
        }
        if (sent >= total || stopFlag) {
          clearInterval(timer);
          const durationMs = performance.now() - t0;
          const end = encode(TYPE_END, run, BigInt(sent), size);
          let n = 0;
          const endTimer = setInterval(() => {
            sock.send(end, onErr);
            if (++n >= 5) {
              clearInterval(endTimer);
              setTimeout(() => {
                sock.close();
                resolve({ run: run.toString(16), sent, errors, firstError, durationMs: Math.round(durationMs), pps: Math.round((sent * 1000) / durationMs), maxBatch });
              }, 20);
            }
          }, 10);
        }
      };
      const timer = setInterval(tick, opts.tickMs ?? 2);
    });
  });
  return { done, stop: () => (stopFlag = true) };
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

function parseArgs(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) m.set(a.slice(2), 'true');
    else {
      m.set(a.slice(2), next);
      i++;
    }
  }
  return m;
}

/** "1.2.3.4:5001", "[fd00::2]:5001" */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) throw new Error(`--to wants ADDR:PORT or [V6ADDR]:PORT, got '${s}'`);
  return { host: m[1]!, port: Number(m[2]) };
}

const USAGE = `usage:
  seqstream send --to ADDR:PORT [--rate 2500] --seconds N [--size 100] [--json]
  seqstream recv --port PORT [--bind ADDR] [--seconds 60] [--grace-ms 500] [--json]`;

async function main(argv: string[]): Promise<number> {
  const [mode, ...rest] = argv;
  const a = parseArgs(rest);
  const json = a.has('json');
  const num = (k: string, d?: number): number => {
    const v = a.get(k);
    if (v === undefined) {
      if (d === undefined) throw new Error(`--${k} is required\n${USAGE}`);
      return d;
    }
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k}: not a number: ${v}`);
    return n;
  };
  if (mode === 'send') {
    const to = a.get('to');
    if (!to) throw new Error(`--to is required\n${USAGE}`);
    const { host, port } = parseHostPort(to);
    const s = send({ host, port, rate: num('rate', 2500), seconds: num('seconds'), size: num('size', 100) });
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => s.stop());
    const r = await s.done;
    process.stdout.write(json ? `${JSON.stringify(r)}\n` : `sent ${r.sent} in ${r.durationMs} ms (${r.pps} pps), ${r.errors} send errors\n`);
    return 0;
  }
  if (mode === 'recv') {
    const bind = a.get('bind');
    const r = receive({ port: num('port'), seconds: num('seconds', 60), graceMs: num('grace-ms', 500), ...(bind ? { bind } : {}) });
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => r.stop());
    const port = await r.ready;
    process.stderr.write(`${JSON.stringify({ listening: port })}\n`);
    const s = await r.done;
    process.stdout.write(
      json
        ? `${JSON.stringify(s)}\n`
        : `received ${s.received} (${s.unique} unique) of ${s.expected}: lost ${s.lost}, duplicated ${s.duplicated}, reordered ${s.reordered}, ${s.pps} pps, max gap ${s.maxGapMs} ms\n`,
    );
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`seqstream: ${(e as Error).message}\n`);
      process.exit(2);
    },
  );
}
