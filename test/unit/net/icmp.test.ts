import { describe, expect, it } from 'vitest';
import { buildIcmpv4FragNeeded, buildIcmpv6PacketTooBig } from '../../../src/net/icmp.js';
import { internetChecksum, pseudoHeaderSum } from '../../../src/net/checksum.js';

const OUR4 = new Uint8Array([192, 0, 2, 254]);
const OUR6 = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe]);

function v4(len: number, proto = 17, src = [10, 0, 0, 1]): Uint8Array {
  const p = new Uint8Array(len);
  p.set([0x45, 0, len >> 8, len & 0xff, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0, ...src, 10, 9, 9, 9]);
  for (let i = 20; i < len; i++) p[i] = i & 0xff;
  return p;
}
function v6(len: number, nh = 17, src0 = 0x20): Uint8Array {
  const p = new Uint8Array(len);
  p[0] = 0x60;
  p[4] = (len - 40) >> 8;
  p[5] = (len - 40) & 0xff;
  p[6] = nh;
  p[7] = 64;
  p[8] = src0;
  p[9] = 0x01;
  p[23] = 5;
  p[24] = 0x20;
  p[39] = 9;
  for (let i = 40; i < len; i++) p[i] = i & 0xff;
  return p;
}

describe('ICMPv4 fragmentation needed (RFC 792 / RFC 1191)', () => {
  it('builds a valid reply with the next-hop MTU and a full quote of a small packet', () => {
    const off = v4(100);
    const r = buildIcmpv4FragNeeded(off, OUR4, 1400)!;
    expect(r.length).toBe(20 + 8 + 100);
    expect(r[0]).toBe(0x45);
    expect((r[2]! << 8) | r[3]!).toBe(r.length);
    expect(r[9]).toBe(1);
    expect(Array.from(r.subarray(12, 16))).toEqual(Array.from(OUR4));
    expect(Array.from(r.subarray(16, 20))).toEqual([10, 0, 0, 1]);
    expect(internetChecksum(r, 0, 20)).toBe(0);
    expect(r[20]).toBe(3);
    expect(r[21]).toBe(4);
    expect((r[26]! << 8) | r[27]!).toBe(1400);
    expect(internetChecksum(r, 20)).toBe(0);
    expect(r.subarray(28)).toEqual(off);
  });
  it('quotes only as much as fits in 576 bytes', () => {
    const r = buildIcmpv4FragNeeded(v4(1500), OUR4, 1300)!;
    expect(r.length).toBe(576);
    expect(internetChecksum(r, 20)).toBe(0);
    expect(r.subarray(28)).toEqual(v4(1500).subarray(0, 548));
  });
  it('stays silent where RFC 1122 forbids an error', () => {
    const icmpErr = v4(60, 1);
    icmpErr[20] = 3;
    expect(buildIcmpv4FragNeeded(icmpErr, OUR4, 1400)).toBeNull();
    const echo = v4(60, 1);
    echo[20] = 8;
    expect(buildIcmpv4FragNeeded(echo, OUR4, 1400)).not.toBeNull();
    const frag = v4(60);
    frag[7] = 10;
    expect(buildIcmpv4FragNeeded(frag, OUR4, 1400)).toBeNull();
    expect(buildIcmpv4FragNeeded(v4(60, 17, [224, 0, 0, 1]), OUR4, 1400)).toBeNull();
    expect(buildIcmpv4FragNeeded(v4(60, 17, [255, 255, 255, 255]), OUR4, 1400)).toBeNull();
    expect(buildIcmpv4FragNeeded(v4(60, 17, [0, 0, 0, 0]), OUR4, 1400)).toBeNull();
    expect(buildIcmpv4FragNeeded(v4(60, 17, [127, 0, 0, 1]), OUR4, 1400)).toBeNull();
    expect(buildIcmpv4FragNeeded(v4(60).subarray(0, 30), OUR4, 1400)).toBeNull();
    expect(buildIcmpv4FragNeeded(v6(80), OUR4, 1400)).toBeNull();
    expect(buildIcmpv4FragNeeded(v4(60), OUR6, 1400)).toBeNull();
  });
});

describe('ICMPv6 packet too big (RFC 4443 §3.2)', () => {
  it('builds a valid reply with the MTU and the checksum over the pseudo-header', () => {
    const off = v6(200);
    const r = buildIcmpv6PacketTooBig(off, OUR6, 1280)!;
    expect(r.length).toBe(40 + 8 + 200);
    expect(r[0]! >> 4).toBe(6);
    expect((r[4]! << 8) | r[5]!).toBe(r.length - 40);
    expect(r[6]).toBe(58);
    expect(Array.from(r.subarray(8, 24))).toEqual(Array.from(OUR6));
    expect(r.subarray(24, 40)).toEqual(off.subarray(8, 24));
    expect(r[40]).toBe(2);
    expect(r[41]).toBe(0);
    expect(new DataView(r.buffer).getUint32(44)).toBe(1280);
    const icmpLen = r.length - 40;
    expect(internetChecksum(r, 40, icmpLen, pseudoHeaderSum(r.subarray(8, 24), r.subarray(24, 40), 58, icmpLen))).toBe(0);
    expect(r.subarray(48)).toEqual(off);
  });
  it('quotes only as much as fits in 1280 bytes', () => {
    const r = buildIcmpv6PacketTooBig(v6(1500), OUR6, 1400)!;
    expect(r.length).toBe(1280);
    const icmpLen = r.length - 40;
    expect(internetChecksum(r, 40, icmpLen, pseudoHeaderSum(r.subarray(8, 24), r.subarray(24, 40), 58, icmpLen))).toBe(0);
  });
  it('stays silent for ICMPv6 errors, unspecified/loopback/multicast sources and bad packets', () => {
    const err = v6(100, 58);
    err[40] = 1; // destination unreachable
    expect(buildIcmpv6PacketTooBig(err, OUR6, 1280)).toBeNull();
    const echo = v6(100, 58);
    echo[40] = 128;
    expect(buildIcmpv6PacketTooBig(echo, OUR6, 1280)).not.toBeNull();
    expect(buildIcmpv6PacketTooBig(v6(100, 17, 0xff), OUR6, 1280)).toBeNull();
    const unspec = v6(100);
    unspec.fill(0, 8, 24);
    expect(buildIcmpv6PacketTooBig(unspec, OUR6, 1280)).toBeNull();
    const lo = v6(100);
    lo.fill(0, 8, 24);
    lo[23] = 1;
    expect(buildIcmpv6PacketTooBig(lo, OUR6, 1280)).toBeNull();
    expect(buildIcmpv6PacketTooBig(v6(100).subarray(0, 60), OUR6, 1280)).toBeNull();
    expect(buildIcmpv6PacketTooBig(v4(100), OUR6, 1280)).toBeNull();
    expect(buildIcmpv6PacketTooBig(v6(100), OUR4, 1280)).toBeNull();
  });
  it('never throws on garbage', () => {
    for (let n = 0; n < 100; n++) {
      const b = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff);
      if (n > 0) b[0] = n % 2 ? 0x45 : 0x60;
      expect(() => buildIcmpv4FragNeeded(b, OUR4, 1400)).not.toThrow();
      expect(() => buildIcmpv6PacketTooBig(b, OUR6, 1280)).not.toThrow();
    }
  });
});
