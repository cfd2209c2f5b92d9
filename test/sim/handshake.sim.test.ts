/**
 * Two in-process gateways (initiator A, responder B) with a fake clock: IKE_SA_INIT +
 * IKE_AUTH + first CHILD_SA over every supported IKE proposal; keys equal on both sides.
 */
import { describe, expect, it } from 'vitest';
import { makePair, eventsOf, type Pair } from '../helpers/sim.js';
import { hex } from '../../src/common/bytes.js';

function established(p: Pair) {
  const [ia] = p.a.mgr.list();
  const [ib] = p.b.mgr.list();
  expect(ia?.ike.state).toBe('established');
  expect(ib?.ike.state).toBe('established');
  const saA = p.a.mgr.ikeSa(ia!.ike.ikeId)!;
  const saB = p.b.mgr.ikeSa(ib!.ike.ikeId)!;
  // same SPIs and the same SK_* on both sides
  expect(hex(saA.spiI)).toBe(hex(saB.spiI));
  expect(hex(saA.spiR)).toBe(hex(saB.spiR));
  for (const k of ['skD', 'skAi', 'skAr', 'skEi', 'skEr', 'skPi', 'skPr'] as const) expect(hex(saA.crypto!.keys[k])).toBe(hex(saB.crypto!.keys[k]));
  return { ia: ia!, ib: ib! };
}

function childPairOk(p: Pair) {
  const inA = p.a.installed.filter((s) => s.dir === 'in');
  const outA = p.a.installed.filter((s) => s.dir === 'out');
  const inB = p.b.installed.filter((s) => s.dir === 'in');
  const outB = p.b.installed.filter((s) => s.dir === 'out');
  expect(inA).toHaveLength(1);
  expect(outA).toHaveLength(1);
  expect(inB).toHaveLength(1);
  expect(outB).toHaveLength(1);
  // A's outbound is B's inbound: same SPI, same keys
  expect(outA[0]!.spi).toBe(inB[0]!.spi);
  expect(outB[0]!.spi).toBe(inA[0]!.spi);
  expect(hex(outA[0]!.encKey)).toBe(hex(inB[0]!.encKey));
  expect(hex(outA[0]!.integKey)).toBe(hex(inB[0]!.integKey));
  expect(hex(outB[0]!.encKey)).toBe(hex(inA[0]!.encKey));
  expect(hex(outA[0]!.encKey)).not.toBe(hex(outB[0]!.encKey));
  // inbound installed before outbound on both sides (make-before-break order)
  for (const s of [p.a, p.b]) expect(s.installed.map((x) => x.dir)).toEqual(['in', 'out']);
  return { outA: outA[0]!, inA: inA[0]! };
}

const IKE_PROPOSALS: [string, string, string, string | null, string][] = [
  ['aes256gcm16-prfsha256-x25519', 'AES_GCM_16_256', 'PRF_HMAC_SHA2_256', null, 'CURVE_25519'],
  ['aes128gcm16-prfsha256-ecp256', 'AES_GCM_16_128', 'PRF_HMAC_SHA2_256', null, 'ECP_256'],
  ['aes192gcm16-prfsha384-ecp384', 'AES_GCM_16_192', 'PRF_HMAC_SHA2_384', null, 'ECP_384'],
  ['aes256-sha256-modp2048', 'AES_CBC_256', 'PRF_HMAC_SHA2_256', 'HMAC_SHA2_256_128', 'MODP_2048'],
  ['aes128-sha384-modp3072', 'AES_CBC_128', 'PRF_HMAC_SHA2_384', 'HMAC_SHA2_384_192', 'MODP_3072'],
  ['aes192-sha512-modp4096', 'AES_CBC_192', 'PRF_HMAC_SHA2_512', 'HMAC_SHA2_512_256', 'MODP_4096'],
  ['chacha20poly1305-prfsha512-ecp384', 'CHACHA20_POLY1305', 'PRF_HMAC_SHA2_512', null, 'ECP_384'],
  ['aes256gcm16-prfsha512-ecp521', 'AES_GCM_16_256', 'PRF_HMAC_SHA2_512', null, 'ECP_521'],
  ['aes256gcm16-prfsha256-x448', 'AES_GCM_16_256', 'PRF_HMAC_SHA2_256', null, 'CURVE_448'],
];

describe('IKE_SA_INIT + IKE_AUTH between two in-process gateways', () => {
  for (const [prop] of IKE_PROPOSALS) {
    it(`establishes with ${prop}`, () => {
      const p = makePair({ ike: [prop] });
      p.initiate();
      p.run();
      const { ia } = established(p);
      expect(ia.children).toHaveLength(1);
      childPairOk(p);
      expect(eventsOf(p.a, 'ike-up')).toHaveLength(1);
      expect(eventsOf(p.b, 'ike-up')).toHaveLength(1);
      expect(eventsOf(p.a, 'failed')).toHaveLength(0);
      // exactly 2 requests and 2 responses on the wire
      expect(p.exchanges('AB').map((e) => e.exchange)).toEqual([34, 35]);
      expect(p.exchanges('BA').map((e) => e.exchange)).toEqual([34, 35]);
    });
  }

  it('reports the negotiated algorithms by name', () => {
    for (const [prop, encr, prf, integ, ke] of IKE_PROPOSALS.slice(0, 4)) {
      const p = makePair({ ike: [prop] });
      p.initiate();
      p.run();
      const up = eventsOf(p.b, 'ike-up')[0]!.sa;
      expect([up.encr, up.prf, up.integ, up.ke]).toEqual([encr, prf, integ, ke]);
    }
  });

  for (const esp of ['aes256gcm16', 'aes128gcm16', 'chacha20poly1305', 'aes256-sha256', 'aes128-sha512', 'aes256gcm16-esn', 'aes256-sha384-esn']) {
    it(`installs a CHILD_SA pair with ESP ${esp}`, () => {
      const p = makePair({ esp: [esp] });
      p.initiate();
      p.run();
      established(p);
      const { outA } = childPairOk(p);
      expect(outA.esn).toBe(esp.endsWith('-esn'));
      const cbc = !esp.includes('gcm') && !esp.includes('chacha');
      expect(outA.integKey.length > 0).toBe(cbc);
    });
  }

  it('responder picks its preferred proposal among several', () => {
    const p = makePair({ ike: ['aes128gcm16-prfsha256-ecp256', 'aes256gcm16-prfsha256-x25519'] }, { ike: ['aes256gcm16-prfsha256-x25519', 'aes128gcm16-prfsha256-ecp256'] });
    p.initiate();
    p.run();
    // A sent ecp256 as KE; B prefers x25519 → INVALID_KE_PAYLOAD, then x25519
    const up = eventsOf(p.a, 'ike-up')[0]!.sa;
    expect(up.ke).toBe('CURVE_25519');
    expect(up.encr).toBe('AES_GCM_16_256');
  });

  it('narrows traffic selectors as responder', () => {
    const p = makePair({ localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] }, { localTs: ['10.2.5.0/24'], remoteTs: ['10.1.0.0/16'] });
    p.initiate();
    p.run();
    const child = eventsOf(p.a, 'child-up')[0]!.child;
    expect(child.localTs).toEqual(['10.1.0.0/16']);
    expect(child.remoteTs).toEqual(['10.2.5.0/24']);
  });

  it('IPv6 and IPv4 selectors together', () => {
    const p = makePair({ localTs: ['10.1.0.0/16', 'fd00:1::/64'], remoteTs: ['10.2.0.0/16', 'fd00:2::/64'] });
    p.initiate();
    p.run();
    const child = eventsOf(p.b, 'child-up')[0]!.child;
    expect(child.localTs.sort()).toEqual(['10.2.0.0/16', 'fd00:2::/64']);
  });
});
