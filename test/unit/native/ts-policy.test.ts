/**
 * Inbound traffic-selector enforcement in the native data path (RFC 4301 §5.2, RFC 7296
 * §2.9): after an ESP packet authenticates and decrypts, its inner source must lie in one of
 * the SA's remoteTs and its destination in one of localTs (protocol and ports where the
 * selector narrows them; ICMP and fragments by addresses and protocol only), else it is
 * dropped as policy_mismatch. No selectors = no check. Needs the addon, not root.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { binding, bindingAvailable, type NativeEngine, type NativeTrafficSelector } from '../../../native/index.js';
import { parseTs } from '../../../src/net/traffic-selector.js';

const SPI = 0x4000_1234;
const PEER = { address: '127.0.0.2', port: 4500 };

function ts(text: string): NativeTrafficSelector {
  const t = parseTs(text);
  return { family: t.family, startAddr: t.startAddr, endAddr: t.endAddr, ipProtocol: t.ipProtocol, startPort: t.startPort, endPort: t.endPort };
}

function v4(src: string, dst: string, proto: number, sport = 0, dport = 0, fragOff = 0): Buffer {
  const p = Buffer.alloc(48);
  p[0] = 0x45;
  p.writeUInt16BE(p.length, 2);
  p.writeUInt16BE(fragOff, 6);
  p[8] = 64;
  p[9] = proto;
  Buffer.from(src.split('.').map(Number)).copy(p, 12);
  Buffer.from(dst.split('.').map(Number)).copy(p, 16);
  p.writeUInt16BE(sport, 20);
  p.writeUInt16BE(dport, 22);
  return p;
}

function v6(src: Uint8Array, dst: Uint8Array, proto: number, sport = 0, dport = 0, frag = false): Buffer {
  const p = Buffer.alloc(72);
  p[0] = 0x60;
  p.writeUInt16BE(p.length - 40, 4);
  p[6] = frag ? 44 : proto;
  p[7] = 64;
  Buffer.from(src).copy(p, 8);
  Buffer.from(dst).copy(p, 24);
  let l4 = 40;
  if (frag) {
    p[40] = proto;
    p.writeUInt16BE(8 << 3, 42); // offset 8 units: a non-initial fragment
    l4 = 48;
  }
  p.writeUInt16BE(sport, l4);
  p.writeUInt16BE(dport, l4 + 2);
  return p;
}

describe.skipIf(!bindingAvailable)('native inbound traffic-selector check', () => {
  let engine: NativeEngine;
  let conn: number;
  let seq = 1n;
  beforeEach(() => {
    engine = new (binding().Engine)(() => {});
    engine.openUdp('127.0.0.1', 0);
    conn = engine.addConnection(-1, 1400, 0);
    seq = 1n;
  });
  afterEach(() => engine.close());

  function addPair(sel: { localTs?: NativeTrafficSelector[]; remoteTs?: NativeTrafficSelector[] }) {
    const encKey = randomBytes(20);
    for (const dir of ['in', 'out'] as const) {
      engine.addSa({ spi: SPI, dir, conn, encr: 20, encKey, esn: false, replayWindow: 64, remoteAddress: PEER.address, remotePort: PEER.port, ...(dir === 'in' ? sel : {}) });
    }
  }
  const open = (pkt: Buffer) => {
    const nh = pkt[0]! >> 4 === 4 ? 4 : 41;
    return engine.testInbound(engine.testSeal(SPI, pkt, nh, seq++), PEER.address, PEER.port).result;
  };

  it('IPv4: source must be in remoteTs, destination in localTs', () => {
    addPair({ localTs: [ts('10.1.0.0/24')], remoteTs: [ts('10.2.0.0/24'), ts('10.3.0.5')] });
    expect(open(v4('10.2.0.7', '10.1.0.1', 1))).toBe('ok');
    expect(open(v4('10.3.0.5', '10.1.0.255', 17, 1000, 53))).toBe('ok');
    expect(open(v4('10.2.1.7', '10.1.0.1', 1))).toBe('policy_mismatch'); // spoofed source
    expect(open(v4('10.3.0.6', '10.1.0.1', 1))).toBe('policy_mismatch');
    expect(open(v4('10.2.0.7', '10.9.0.1', 1))).toBe('policy_mismatch'); // destination outside
    expect(open(v4('10.1.0.1', '10.2.0.7', 1))).toBe('policy_mismatch'); // reversed
    expect(engine.stats().drops.policy_mismatch).toBe(4);
    expect(engine.stats().rxEspPackets).toBe(2);
  });

  it('protocol and port ranges; ICMP and fragments match on addresses and protocol only', () => {
    addPair({ localTs: [ts('10.1.0.0/24[udp/53]'), ts('10.1.0.0/24[icmp]')], remoteTs: [ts('10.2.0.0/24')] });
    expect(open(v4('10.2.0.7', '10.1.0.1', 17, 40000, 53))).toBe('ok');
    expect(open(v4('10.2.0.7', '10.1.0.1', 17, 40000, 54))).toBe('policy_mismatch');
    expect(open(v4('10.2.0.7', '10.1.0.1', 6, 40000, 53))).toBe('policy_mismatch'); // tcp not allowed
    expect(open(v4('10.2.0.7', '10.1.0.1', 1))).toBe('ok'); // icmp
    expect(open(v4('10.2.0.7', '10.1.0.1', 17, 0, 0, 100))).toBe('ok'); // non-initial UDP fragment: no ports
    expect(open(v4('10.2.0.7', '10.1.0.1', 6, 0, 0, 100))).toBe('policy_mismatch'); // tcp fragment: protocol still checked
  });

  it('IPv6 (with a fragment header) and family mismatch', () => {
    const a = (last: number) => Uint8Array.from([0xfd, 0, 0, 1, ...new Array<number>(11).fill(0), last]);
    const b = (last: number) => Uint8Array.from([0xfd, 0, 0, 2, ...new Array<number>(11).fill(0), last]);
    addPair({ localTs: [ts('fd00:1::/64[tcp/443]')], remoteTs: [ts('fd00:2::/64')] });
    expect(open(v6(b(5), a(1), 6, 50000, 443))).toBe('ok');
    expect(open(v6(b(5), a(1), 6, 50000, 80))).toBe('policy_mismatch');
    expect(open(v6(a(5), a(1), 6, 50000, 443))).toBe('policy_mismatch');
    expect(open(v6(b(5), a(1), 6, 0, 0, true))).toBe('ok'); // fragment: addresses + protocol
    expect(open(v4('10.2.0.7', '10.1.0.1', 6, 50000, 443))).toBe('policy_mismatch'); // no IPv4 selector
  });

  it('no selectors: no check (manual keys); too many selectors are refused', () => {
    addPair({});
    expect(open(v4('1.2.3.4', '5.6.7.8', 1))).toBe('ok');
    expect(engine.stats().drops.policy_mismatch).toBe(0);
    const many = Array.from({ length: 17 }, () => ts('10.0.0.0/8'));
    expect(() => engine.addSa({ spi: 0x5000, dir: 'in', conn, encr: 20, encKey: randomBytes(20), esn: false, remoteAddress: PEER.address, remotePort: PEER.port, localTs: many })).toThrow(/at most 16/);
  });
});
