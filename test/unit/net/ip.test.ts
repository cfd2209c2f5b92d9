import { describe, expect, it } from 'vitest';
import {
  addrToString,
  findTransport,
  ipDst,
  ipPacketLength,
  ipSrc,
  ipVersion,
  transportOffset,
  transportProto,
} from '../../../src/net/ip.js';

function v4(len = 40, proto = 6, ihl = 5): Uint8Array {
  const p = new Uint8Array(len);
  p.set([0x40 | ihl, 0, len >> 8, len & 0xff, 0, 0, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
  return p;
}
function v6(nh: number, ext: number[][] = [], l4 = 20): Uint8Array {
  const extLen = ext.reduce((n, e) => n + e.length, 0);
  const p = new Uint8Array(40 + extLen + l4);
  p[0] = 0x60;
  p[4] = (extLen + l4) >> 8;
  p[5] = (extLen + l4) & 0xff;
  p[6] = nh;
  p[8] = 0x20;
  p[9] = 0x01;
  p[39] = 2;
  let o = 40;
  for (const e of ext) {
    p.set(e, o);
    o += e.length;
  }
  return p;
}

describe('IP header accessors', () => {
  it('version and length validation', () => {
    expect(ipVersion(new Uint8Array(0))).toBe(0);
    expect(ipVersion(v4())).toBe(4);
    expect(ipVersion(v6(6))).toBe(6);
    expect(ipVersion(new Uint8Array([0x50]))).toBe(0);
    expect(ipPacketLength(v4(40))).toBe(40);
    expect(ipPacketLength(v4(40).subarray(0, 39))).toBe(-1); // total length > buffer
    expect(ipPacketLength(v4(40, 6, 4))).toBe(-1); // IHL < 5
    expect(ipPacketLength(v4(20, 6, 6))).toBe(-1); // total < IHL*4
    expect(ipPacketLength(v4(40).subarray(0, 19))).toBe(-1);
    const padded = new Uint8Array(60);
    padded.set(v4(40));
    expect(ipPacketLength(padded)).toBe(40); // trailing link padding allowed
    expect(ipPacketLength(v6(6))).toBe(60);
    expect(ipPacketLength(v6(6).subarray(0, 59))).toBe(-1);
    expect(ipPacketLength(v6(6).subarray(0, 39))).toBe(-1);
  });
  it('addresses', () => {
    expect(addrToString(ipSrc(v4())!)).toBe('10.0.0.1');
    expect(addrToString(ipDst(v4())!)).toBe('10.0.0.2');
    expect(addrToString(ipSrc(v6(6))!)).toBe('2001:0:0:0:0:0:0:0');
    expect(addrToString(ipDst(v6(6))!)).toBe('0:0:0:0:0:0:0:2');
    expect(ipSrc(new Uint8Array(3))).toBeNull();
  });
  it('transport lookup: IPv4 with options, fragments', () => {
    const t = findTransport(v4(44, 6, 6));
    expect(transportOffset(t)).toBe(24);
    expect(transportProto(t)).toBe(6);
    const frag = v4(40);
    frag[7] = 1; // fragment offset 8
    expect(findTransport(frag)).toBe(-1);
    const first = v4(40);
    first[6] = 0x20; // MF, offset 0
    expect(transportOffset(findTransport(first))).toBe(20);
  });
  it('transport lookup: IPv6 extension headers', () => {
    const hop = [43, 0, 0, 0, 0, 0, 0, 0]; // hop-by-hop → routing
    const rt = [44, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // routing (16 bytes) → fragment
    const frag0 = [60, 0, 0, 0, 0, 0, 0, 1]; // fragment offset 0 → dest opts
    const dst = [51, 0, 0, 0, 0, 0, 0, 0]; // dest opts → AH
    const ah = [6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // AH: (1+2)*4 = 12 bytes → TCP
    const p = v6(0, [hop, rt, frag0, dst, ah]);
    const t = findTransport(p);
    expect(transportProto(t)).toBe(6);
    expect(transportOffset(t)).toBe(40 + 8 + 16 + 8 + 8 + 12);
    const fragN = v6(44, [[6, 0, 0, 8, 0, 0, 0, 1]]);
    expect(findTransport(fragN)).toBe(-1);
    expect(findTransport(v6(50))).toBe(-1); // ESP
    expect(findTransport(v6(59))).toBe(-1); // no next header
    expect(findTransport(v6(0, [[6, 200, 0, 0, 0, 0, 0, 0]]))).toBe(-1); // ext header runs past the end
    expect(transportProto(findTransport(v6(58)))).toBe(58);
  });
});
