/** seqstream's receiver bookkeeping (pure) and a loopback send/receive round trip. */
import { describe, expect, it } from 'vitest';
import { SeqStats, TYPE_DATA, TYPE_END, decode, encode, parseHostPort, receive, send } from './seqstream.js';

const RUN = 0x0123456789abcdefn;
const d = (seq: number, run = RUN) => encode(TYPE_DATA, run, BigInt(seq), 64);

describe('seqstream', () => {
  it('encodes and decodes', () => {
    expect(decode(encode(TYPE_END, RUN, 42n, 100))).toEqual({ type: TYPE_END, run: RUN, value: 42n });
    expect(encode(TYPE_DATA, RUN, 1n, 100).length).toBe(100);
    expect(decode(Buffer.from('not ours, not ours, not ours'))).toBeNull();
  });

  it('counts lost, duplicated, reordered and foreign datagrams', () => {
    const s = new SeqStats();
    let t = 0;
    for (const seq of [0, 1, 2, 5, 3, 3, 7, 8, 8, 9]) s.add(d(seq), (t += 1));
    s.add(d(4, 99n), (t += 1)); // other run
    s.add(Buffer.from('garbage'), (t += 1));
    expect(s.add(encode(TYPE_END, RUN, 12n), t)).toBe(true);
    const r = s.summary();
    expect(r).toMatchObject({ received: 10, unique: 8, duplicated: 2, reordered: 1, maxSeq: 9, sentByPeer: 12, expected: 12, lost: 4, foreign: 2 });
    expect(r.gaps).toEqual([
      [4, 4],
      [6, 6],
      [10, 11],
    ]);
    expect(r.jumps.map(([a, b]) => [a, b])).toEqual([
      [3, 4],
      [6, 6],
    ]);
  });

  it('without an end datagram, expects maxSeq + 1; grows past the initial bitmap', () => {
    const s = new SeqStats();
    s.add(d(0), 0);
    s.add(d(1_000_000), 1);
    const r = s.summary();
    expect(r.expected).toBe(1_000_001);
    expect(r.lost).toBe(999_999);
  });

  it('parses ADDR:PORT and [V6]:PORT', () => {
    expect(parseHostPort('172.30.2.2:5001')).toEqual({ host: '172.30.2.2', port: 5001 });
    expect(parseHostPort('[fd00:30:2::2]:5001')).toEqual({ host: 'fd00:30:2::2', port: 5001 });
    expect(() => parseHostPort('nohost')).toThrow();
  });

  it('loopback: 1 s at 2,500 pps arrives complete', async () => {
    const r = receive({ port: 0, bind: '127.0.0.1', seconds: 10, graceMs: 200 });
    const port = await r.ready;
    const s = await send({ host: '127.0.0.1', port, rate: 2500, seconds: 1 }).done;
    const v = await r.done;
    expect(s.sent).toBe(2500);
    expect(s.pps).toBeGreaterThanOrEqual(2000);
    expect(v).toMatchObject({ received: 2500, lost: 0, duplicated: 0, sentByPeer: 2500 });
  });
});
