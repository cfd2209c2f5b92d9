import { describe, expect, it } from 'vitest';
import { clampMss } from '../../../src/net/mss-clamp.js';
import { internetChecksum, pseudoHeaderSum } from '../../../src/net/checksum.js';

const SRC4 = [192, 0, 2, 1];
const DST4 = [198, 51, 100, 2];
const SRC6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const DST6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/** TCP segment with the given flags and raw option bytes (padded to 4), checksummed */
function tcp(v: 4 | 6, flags: number, opts: number[], opts2: { ext?: number[]; payload?: number } = {}): Uint8Array {
  const optLen = (opts.length + 3) & ~3;
  const tcpLen = 20 + optLen + (opts2.payload ?? 0);
  const ext = opts2.ext ?? [];
  const ipLen = v === 4 ? 20 : 40 + ext.length;
  const p = new Uint8Array(ipLen + tcpLen);
  if (v === 4) {
    p.set([0x45, 0, p.length >> 8, p.length & 0xff, 0, 0, 0x40, 0, 64, 6, 0, 0, ...SRC4, ...DST4]);
    const hc = internetChecksum(p, 0, 20);
    p[10] = hc >> 8;
    p[11] = hc & 0xff;
  } else {
    p.set([0x60, 0, 0, 0, (p.length - 40) >> 8, (p.length - 40) & 0xff, ext.length ? 60 : 6, 64, ...SRC6, ...DST6]);
    p.set(ext, 40);
  }
  const t = ipLen;
  p.set([0x12, 0x34, 0x00, 0x50, 1, 2, 3, 4, 0, 0, 0, 0, ((20 + optLen) / 4) << 4, flags, 0xff, 0xff, 0, 0, 0, 0], t);
  p.set(opts, t + 20);
  for (let i = t + 20 + optLen; i < p.length; i++) p[i] = i & 0xff;
  const c = tcpChecksum(p, v, t);
  p[t + 16] = c >> 8;
  p[t + 17] = c & 0xff;
  return p;
}
function tcpChecksum(p: Uint8Array, v: 4 | 6, t: number): number {
  const src = v === 4 ? p.subarray(12, 16) : p.subarray(8, 24);
  const dst = v === 4 ? p.subarray(16, 20) : p.subarray(24, 40);
  return internetChecksum(p, t, p.length - t, pseudoHeaderSum(src, dst, 6, p.length - t));
}
function verifies(p: Uint8Array, v: 4 | 6, t: number): boolean {
  const src = v === 4 ? p.subarray(12, 16) : p.subarray(8, 24);
  const dst = v === 4 ? p.subarray(16, 20) : p.subarray(24, 40);
  return internetChecksum(p, t, p.length - t, pseudoHeaderSum(src, dst, 6, p.length - t)) === 0;
}
function mssAt(p: Uint8Array, i: number): number {
  return (p[i]! << 8) | p[i + 1]!;
}

const SYN = 0x02;
const SYNACK = 0x12;
const ACK = 0x10;
const MSS1460 = [2, 4, 0x05, 0xb4];

describe('clampMss', () => {
  // at: offset of the MSS value from the start of the TCP header
  const table: Array<{ n: number; what: string; v: 4 | 6; flags: number; opts: number[]; mss: number; changed: boolean; at?: number; ext?: number[] }> = [
    { n: 1, what: 'IPv4 SYN, MSS 1460 → 1360', v: 4, flags: SYN, opts: MSS1460, mss: 1360, changed: true, at: 22 },
    { n: 2, what: 'IPv4 SYN-ACK', v: 4, flags: SYNACK, opts: MSS1460, mss: 1360, changed: true, at: 22 },
    { n: 3, what: 'MSS already smaller', v: 4, flags: SYN, opts: [2, 4, 0x04, 0x00], mss: 1360, changed: false },
    { n: 4, what: 'MSS equal', v: 4, flags: SYN, opts: [2, 4, 0x05, 0x50], mss: 1360, changed: false },
    { n: 5, what: 'SYN without options', v: 4, flags: SYN, opts: [], mss: 1360, changed: false },
    { n: 6, what: 'SYN without an MSS option', v: 4, flags: SYN, opts: [1, 1, 4, 2], mss: 1360, changed: false },
    { n: 7, what: 'not a SYN', v: 4, flags: ACK, opts: MSS1460, mss: 1360, changed: false },
    { n: 8, what: 'MSS after NOP + SACK-permitted + NOP (odd offset)', v: 4, flags: SYN, opts: [1, 4, 2, 2, 4, 0x05, 0xb4], mss: 1300, changed: true, at: 25 },
    { n: 9, what: 'MSS after window scale (odd offset)', v: 4, flags: SYN, opts: [3, 3, 7, 2, 4, 0x23, 0x28], mss: 1400, changed: true, at: 25 },
    { n: 10, what: 'option length 0 (malformed)', v: 4, flags: SYN, opts: [8, 0, 2, 4, 0x05, 0xb4], mss: 1360, changed: false },
    { n: 11, what: 'option length 1 (malformed)', v: 4, flags: SYN, opts: [8, 1, 2, 4, 0x05, 0xb4], mss: 1360, changed: false },
    { n: 12, what: 'option runs past the header', v: 4, flags: SYN, opts: [1, 1, 8, 10, 2, 4, 0x05, 0xb4], mss: 1360, changed: false },
    { n: 13, what: 'MSS option cut by the header end', v: 4, flags: SYN, opts: [1, 1, 1, 1, 1, 1, 2, 4], mss: 1360, changed: false },
    { n: 14, what: 'MSS with wrong length', v: 4, flags: SYN, opts: [2, 3, 0x05, 0xb4], mss: 1360, changed: false },
    { n: 15, what: 'end-of-options before MSS', v: 4, flags: SYN, opts: [0, 0, 0, 0, 2, 4, 0x05, 0xb4], mss: 1360, changed: false },
    { n: 16, what: 'IPv6 SYN, MSS 1440 → 1340', v: 6, flags: SYN, opts: [2, 4, 0x05, 0xa0], mss: 1340, changed: true, at: 22 },
    { n: 17, what: 'IPv6 SYN-ACK behind a destination-options header', v: 6, flags: SYNACK, opts: [2, 4, 0x05, 0xa0], mss: 1340, changed: true, at: 22, ext: [6, 0, 1, 4, 0, 0, 0, 0] },
    { n: 18, what: 'IPv6 MSS smaller already', v: 6, flags: SYN, opts: [2, 4, 0x04, 0xc4], mss: 1340, changed: false },
  ];
  for (const c of table) {
    it(`#${c.n} ${c.what}`, () => {
      const p = tcp(c.v, c.flags, c.opts, c.ext ? { ext: c.ext } : {});
      const before = p.slice();
      const t = c.v === 4 ? 20 : 40 + (c.ext?.length ?? 0);
      expect(verifies(p, c.v, t)).toBe(true);
      expect(clampMss(p, c.mss)).toBe(c.changed);
      expect(verifies(p, c.v, t)).toBe(true);
      if (c.changed) {
        // `at`: offset of the MSS value from the start of the TCP header
        expect(mssAt(p, t + c.at!)).toBe(c.mss);
        const diff = [...p].map((b, i) => (b !== before[i] ? i : -1)).filter((i) => i >= 0);
        // only the MSS value and the TCP checksum bytes changed
        for (const i of diff) expect([t + 16, t + 17, t + c.at!, t + c.at! + 1]).toContain(i);
      } else {
        expect(p).toEqual(before);
      }
    });
  }
  it('a segment with payload keeps a valid checksum', () => {
    const p = tcp(4, SYN, [1, 2, 4, 0x05, 0xb4], { payload: 33 });
    expect(clampMss(p, 536)).toBe(true);
    expect(verifies(p, 4, 20)).toBe(true);
  });
  it('truncated packets and non-TCP are left alone, never throw', () => {
    const full = tcp(4, SYN, MSS1460);
    for (let n = 0; n < full.length; n++) {
      const cut = full.slice(0, n);
      expect(clampMss(cut, 1000)).toBe(false);
    }
    // IP total length shorter than the TCP header claims
    const short = full.slice();
    short[3] = 30;
    expect(clampMss(short, 1000)).toBe(false);
    const udp = tcp(4, SYN, MSS1460);
    udp[9] = 17;
    expect(clampMss(udp, 1000)).toBe(false);
    expect(clampMss(tcp(4, SYN, MSS1460), 0)).toBe(false);
    expect(clampMss(tcp(4, SYN, MSS1460), 70000)).toBe(false);
  });
});
