import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  finish,
  fold,
  internetChecksum,
  pseudoHeaderSum,
  referenceChecksum,
  sumWords,
  swap16,
  updateChecksum16,
} from '../../../src/net/checksum.js';

describe('internet checksum (RFC 1071)', () => {
  it('RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2', () => {
    const b = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(fold(sumWords(b, 0, b.length))).toBe(0xddf2);
    expect(internetChecksum(b)).toBe(~0xddf2 & 0xffff);
  });
  it('a known IPv4 header checksums to b861', () => {
    const h = Uint8Array.from(Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex'));
    expect(internetChecksum(h)).toBe(0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    expect(internetChecksum(h)).toBe(0);
  });
  it('matches the slow reference on random data (odd lengths, offsets, initial sums)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(7), (data, off) => {
        const o = Math.min(off, data.length);
        const slice = data.subarray(o);
        expect(internetChecksum(data, o)).toBe(referenceChecksum(slice));
        // splitting at an even boundary and chaining the unfolded sum is the same
        const mid = slice.length >> 2 << 1;
        expect(finish(sumWords(slice, mid, slice.length - mid, sumWords(slice, 0, mid)))).toBe(referenceChecksum(slice));
      }),
      { numRuns: 300 },
    );
  });
  it('RFC 1624 incremental update equals recomputation (aligned and odd offsets)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 200 }), fc.nat(), fc.integer({ min: 0, max: 0xffff }), (data, at, v) => {
        const i = at % (data.length - 1);
        const before = referenceChecksum(data);
        const old = (data[i]! << 8) | data[i + 1]!;
        data[i] = v >>> 8;
        data[i + 1] = v & 0xff;
        const odd = i % 2 === 1;
        const inc = odd ? updateChecksum16(before, swap16(old), swap16(v)) : updateChecksum16(before, old, v);
        // ones'-complement has two zeros; a packet verifies either way
        const full = referenceChecksum(data);
        expect(inc === full || (inc ^ full) === 0xffff && (inc === 0 || full === 0)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
  it('pseudo-header sums for IPv4 and IPv6', () => {
    const src4 = new Uint8Array([192, 0, 2, 1]);
    const dst4 = new Uint8Array([198, 51, 100, 2]);
    const manual = new Uint8Array([...src4, ...dst4, 0, 6, 0, 40]);
    expect(fold(pseudoHeaderSum(src4, dst4, 6, 40))).toBe(fold(sumWords(manual, 0, manual.length)));
    const src6 = new Uint8Array(16).fill(0x20);
    const dst6 = new Uint8Array(16).fill(0xfe);
    const m6 = new Uint8Array(40);
    m6.set(src6);
    m6.set(dst6, 16);
    m6.set([0, 1, 0x23, 0x45, 0, 0, 0, 58], 32);
    expect(fold(pseudoHeaderSum(src6, dst6, 58, 0x12345))).toBe(fold(sumWords(m6, 0, 40)));
  });
});
