import { describe, expect, it } from 'vitest';
import { LifetimeCounter, LifetimeHit } from '../../../src/esp/lifetime.js';
import { OutboundSeq, SEQ_SOFT_MARGIN, SeqStep, writeSeq64 } from '../../../src/esp/seq.js';
import { checkTrailer, padLength, writeTrailer } from '../../../src/esp/trailer.js';

describe('LifetimeCounter', () => {
  it('no limits: never fires', () => {
    const l = new LifetimeCounter({ soft: {}, hard: {} });
    for (let i = 0; i < 1000; i++) expect(l.count(1500)).toBe(LifetimeHit.None);
    expect(l.packets).toBe(1000);
    expect(l.bytes).toBe(1_500_000);
  });
  it('zero means no limit', () => {
    const l = new LifetimeCounter({ soft: { bytes: 0 }, hard: { packets: 0 } });
    expect(l.count(10)).toBe(LifetimeHit.None);
  });
  it('soft then hard, each once, with the reason', () => {
    const l = new LifetimeCounter({ soft: { packets: 2 }, hard: { bytes: 35 } });
    expect(l.count(10)).toBe(LifetimeHit.None);
    expect(l.count(10)).toBe(LifetimeHit.Soft);
    expect(l.reason).toBe('packets');
    expect(l.count(10)).toBe(LifetimeHit.None);
    expect(l.count(10)).toBe(LifetimeHit.Hard);
    expect(l.reason).toBe('bytes');
    expect(l.count(10)).toBe(LifetimeHit.None);
  });
  it('hard before soft suppresses the later soft', () => {
    const l = new LifetimeCounter({ soft: { packets: 3 }, hard: { bytes: 15 } });
    expect(l.count(10)).toBe(LifetimeHit.None);
    expect(l.count(10)).toBe(LifetimeHit.Hard);
    expect(l.count(10)).toBe(LifetimeHit.None);
  });
});

describe('OutboundSeq', () => {
  it('starts at 1', () => {
    const s = new OutboundSeq(false);
    expect(s.next()).toBe(SeqStep.Ok);
    expect(s.cur).toEqual({ hi: 0, lo: 1 });
  });
  it('32-bit: soft at 2^32 − 2^26, last at 2^32 − 1, then exhausted (no wrap)', () => {
    const s = new OutboundSeq(false);
    s.set(0, 2 ** 32 - SEQ_SOFT_MARGIN - 1);
    expect(s.next()).toBe(SeqStep.Soft);
    expect(s.next()).toBe(SeqStep.Ok);
    s.set(0, 2 ** 32 - 2);
    expect(s.next()).toBe(SeqStep.Last);
    expect(s.cur).toEqual({ hi: 0, lo: 0xffff_ffff });
    expect(s.next()).toBe(SeqStep.Exhausted);
    expect(s.cur).toEqual({ hi: 0, lo: 0xffff_ffff });
  });
  it('ESN: carries into the high half; the end is 2^64 − 1', () => {
    const s = new OutboundSeq(true);
    s.set(0, 0xffff_ffff);
    expect(s.next()).toBe(SeqStep.Ok);
    expect(s.cur).toEqual({ hi: 1, lo: 0 });
    s.set(0, 2 ** 32 - SEQ_SOFT_MARGIN - 1);
    expect(s.next()).toBe(SeqStep.Ok); // only the last subspace has a soft threshold
    s.set(0xffff_ffff, 2 ** 32 - SEQ_SOFT_MARGIN - 1);
    expect(s.next()).toBe(SeqStep.Soft);
    s.set(0xffff_ffff, 0xffff_fffe);
    expect(s.next()).toBe(SeqStep.Last);
    expect(s.next()).toBe(SeqStep.Exhausted);
  });
  it('writeSeq64 is big-endian hi ‖ lo', () => {
    const b = new Uint8Array(10);
    writeSeq64(b, 1, 0x01020304, 0xa0b0c0d0);
    expect(Array.from(b)).toEqual([0, 1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0, 0]);
  });
});

describe('ESP trailer', () => {
  it('padLength aligns payload + 2', () => {
    for (const align of [4, 16]) for (let n = 0; n < 40; n++) {
      const p = padLength(n, align);
      expect((n + p + 2) % align).toBe(0);
      expect(p).toBeLessThan(align);
    }
  });
  it('write / check round trip, and rejects bad padding', () => {
    const buf = new Uint8Array(16);
    const end = writeTrailer(buf, 9, 5, 41);
    expect(end).toBe(16);
    expect(Array.from(buf.subarray(9))).toEqual([1, 2, 3, 4, 5, 5, 41]);
    expect(checkTrailer(buf)).toBe(9);
    buf[11] = 9;
    expect(checkTrailer(buf)).toBe(-1);
    expect(checkTrailer(new Uint8Array([3, 4]))).toBe(-1);
    expect(checkTrailer(new Uint8Array([4]))).toBe(-1);
    expect(checkTrailer(new Uint8Array([0, 4]))).toBe(0);
  });
});
