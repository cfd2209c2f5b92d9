/**
 * Exchange engine behaviour between two in-process gateways with a fake clock:
 * retransmission schedule, cached responses, COOKIE and INVALID_KE_PAYLOAD round trips,
 * failure notifies, deletes, NAT detection and IKE fragmentation.
 */
import { describe, expect, it } from 'vitest';
import { makePair, eventsOf } from '../helpers/sim.js';
import { decodeHeader } from '../../src/ike/wire/message.js';

const IKE_AUTH = 35;

describe('retransmission (RFC 7296 §2.1)', () => {
  it('retransmits a lost IKE_AUTH response and the responder answers from its cache', () => {
    const p = makePair({});
    let dropped = 0;
    p.filter = (dir, bytes) => {
      const h = decodeHeader(bytes);
      if (dir === 'BA' && h.exchangeType === IKE_AUTH && h.response && dropped === 0) {
        dropped++;
        return false;
      }
      return true;
    };
    p.initiate();
    p.run();
    expect(p.a.mgr.list()[0]!.ike.state).toBe('authenticating');
    p.advance(3999);
    expect(eventsOf(p.a, 'retransmit')).toHaveLength(0);
    p.advance(1);
    expect(eventsOf(p.a, 'retransmit')).toHaveLength(1);
    expect(p.a.mgr.list()[0]!.ike.state).toBe('established');
    // the responder processed IKE_AUTH once: one CHILD_SA, two identical responses
    expect(eventsOf(p.b, 'child-up')).toHaveLength(1);
    const authResponses = p.b.sent.filter((s) => decodeHeader(s.bytes).exchangeType === IKE_AUTH);
    expect(authResponses).toHaveLength(2);
    expect(Buffer.from(authResponses[0]!.bytes).equals(Buffer.from(authResponses[1]!.bytes))).toBe(true);
  });

  it('follows 4 s × 1.8^n and gives up after 5 retransmissions', () => {
    const p = makePair({});
    p.filter = (dir) => dir === 'AB' && false;
    const t0 = p.clock.now();
    p.initiate();
    p.run();
    p.advance(200_000);
    const times = p.a.sent.map((s) => Math.round(s.at - t0));
    // original + 5 retransmissions: 0, 4000, 11200, 24160, 47488, 89478
    expect(times.slice(0, 6)).toEqual([0, 4000, 11200, 24160, 47488, 89478]);
    expect(eventsOf(p.a, 'peer-dead')).toHaveLength(1);
    // gave up 4 × 1.8^5 s after the last one, then (the connection is wanted) a new attempt 2 s later
    expect(times[6]).toBe(89478 + 75583 + 2000);
  });

  it('ignores a response with the wrong message ID and garbage datagrams', () => {
    const p = makePair({});
    p.initiate();
    const junk = [new Uint8Array(0), new Uint8Array(28), new Uint8Array(300).fill(0xab)];
    for (const j of junk) p.b.mgr.handleDatagram(j, { address: '10.0.0.2', port: 500 }, { address: '10.0.0.1', port: 500 }, p.clock.now());
    p.run();
    expect(p.a.mgr.list()[0]!.ike.state).toBe('established');
    expect(Object.values(p.b.mgr.stats.drops).reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(3);
  });
});

describe('COOKIE and INVALID_KE_PAYLOAD', () => {
  it('responder under load demands a COOKIE; initiator retries with it (§2.6)', () => {
    const p = makePair({}, { cookieThreshold: 0, localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] });
    p.initiate();
    p.run();
    expect(p.b.mgr.stats.cookiesSent).toBe(1);
    expect(p.a.mgr.list()[0]!.ike.state).toBe('established');
    const inits = p.a.sent.filter((s) => decodeHeader(s.bytes).exchangeType === 34);
    expect(inits).toHaveLength(2); // without and with cookie
  });

  it('INVALID_KE_PAYLOAD: initiator retries with the group the responder wants', () => {
    const p = makePair({ ike: ['aes256gcm16-prfsha256-x25519-ecp256'] }, { ike: ['aes256gcm16-prfsha256-ecp256'], localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] });
    p.initiate();
    p.run();
    const up = eventsOf(p.a, 'ike-up')[0]!.sa;
    expect(up.ke).toBe('ECP_256');
    expect(p.a.sent.filter((s) => decodeHeader(s.bytes).exchangeType === 34)).toHaveLength(2);
    // the responder kept no state for the refused attempt
    expect(p.b.mgr.list()).toHaveLength(1);
  });

  it('INVALID_KE_PAYLOAD for a group we do not accept fails cleanly', () => {
    const p = makePair({ ike: ['aes256gcm16-prfsha256-x25519'] }, { ike: ['aes256gcm16-prfsha256-x25519-ecp256'], localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] });
    // make B insist on ecp256 by giving it only that in a second manager config
    const q = makePair({ ike: ['aes256gcm16-prfsha256-x25519'] }, { ike: ['aes256gcm16-prfsha256-ecp256'], localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] });
    q.initiate();
    q.run();
    expect(eventsOf(q.a, 'failed')[0]!.notify).toBe('NO_PROPOSAL_CHOSEN');
    void p;
  });
});

describe('failures end with the right notify on both sides', () => {
  const B_TS = { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] };
  it('wrong PSK → AUTHENTICATION_FAILED', () => {
    const p = makePair({ psk: 'the initiator secret 123' }, { psk: 'the responder secret 456', ...B_TS });
    p.initiate();
    p.run();
    expect(eventsOf(p.a, 'failed').map((e) => e.notify)).toContain('AUTHENTICATION_FAILED');
    expect(eventsOf(p.b, 'failed').map((e) => e.notify)).toContain('AUTHENTICATION_FAILED');
    expect(p.a.installed).toHaveLength(0);
    expect(p.b.installed).toHaveLength(0);
    expect(p.a.mgr.list().filter((s) => s.ike.state !== 'dead')).toHaveLength(0);
    expect(p.b.mgr.list()).toHaveLength(0);
  });

  it('wrong identity → AUTHENTICATION_FAILED', () => {
    const p = makePair({ localId: 'gw-a.example' }, { remoteId: 'someone-else.example', ...B_TS });
    p.initiate();
    p.run();
    expect(eventsOf(p.b, 'failed')[0]!.notify).toBe('AUTHENTICATION_FAILED');
    expect(eventsOf(p.a, 'failed')[0]!.notify).toBe('AUTHENTICATION_FAILED');
  });

  it('no common IKE proposal → NO_PROPOSAL_CHOSEN', () => {
    const p = makePair({ ike: ['aes256-sha256-modp2048'] }, { ike: ['aes256gcm16-prfsha256-x25519'], ...B_TS });
    p.initiate();
    p.run();
    expect(eventsOf(p.a, 'failed')[0]!.notify).toBe('NO_PROPOSAL_CHOSEN');
    expect(eventsOf(p.b, 'failed')[0]!.notify).toBe('NO_PROPOSAL_CHOSEN');
    expect(p.b.mgr.list()).toHaveLength(0);
  });

  it('no common ESP proposal → NO_PROPOSAL_CHOSEN, IKE SA deleted', () => {
    const p = makePair({ esp: ['aes256gcm16'] }, { esp: ['chacha20poly1305'], ...B_TS });
    p.initiate();
    p.run();
    expect(eventsOf(p.a, 'failed')[0]!.notify).toBe('NO_PROPOSAL_CHOSEN');
    expect(eventsOf(p.b, 'failed')[0]!.notify).toBe('NO_PROPOSAL_CHOSEN');
    expect(p.a.installed).toHaveLength(0);
    expect(p.b.mgr.list()).toHaveLength(0);
  });

  it('disjoint traffic selectors → TS_UNACCEPTABLE', () => {
    const p = makePair({ localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] }, { localTs: ['10.9.0.0/16'], remoteTs: ['10.1.0.0/16'] });
    p.initiate();
    p.run();
    expect(eventsOf(p.a, 'failed')[0]!.notify).toBe('TS_UNACCEPTABLE');
    expect(eventsOf(p.b, 'failed')[0]!.notify).toBe('TS_UNACCEPTABLE');
  });

  it('the responder serves the next attempt after a failure', () => {
    const bad = makePair({ psk: 'wrong wrong wrong wrong' }, { psk: 'right right right right', ...B_TS });
    bad.initiate();
    bad.run();
    // a second, correct initiator towards the same responder manager
    const good = makePair({ psk: 'right right right right' }, { psk: 'right right right right', ...B_TS });
    good.b.mgr = bad.b.mgr;
    good.initiate();
    good.run();
    expect(good.a.mgr.list()[0]!.ike.state).toBe('established');
  });
});

describe('INFORMATIONAL', () => {
  it('terminate sends Delete; both sides remove every SA', () => {
    const p = makePair({});
    p.initiate();
    p.run();
    p.terminate();
    p.run();
    expect(p.a.mgr.list()).toHaveLength(0);
    expect(p.b.mgr.list()).toHaveLength(0);
    expect(p.a.deleted.sort()).toEqual(p.a.installed.map((s) => s.spi).sort());
    expect(p.b.deleted.sort()).toEqual(p.b.installed.map((s) => s.spi).sort());
    expect(eventsOf(p.b, 'ike-down')[0]!.reason).toBe('deleted by peer');
    // not restarted: the user asked for down
    p.advance(60_000);
    expect(eventsOf(p.a, 'ike-up')).toHaveLength(1);
  });

  it('answers an empty INFORMATIONAL (liveness) and DPD keeps the SA up', () => {
    const p = makePair({ extra: '    dpd: { delay: 10s, action: restart }' });
    p.initiate();
    p.run();
    p.advance(35_000);
    const infos = p.a.sent.filter((s) => decodeHeader(s.bytes).exchangeType === 37);
    expect(infos.length).toBeGreaterThanOrEqual(3);
    expect(p.a.mgr.list()[0]!.ike.state).toBe('established');
  });

  it('DPD declares the peer dead when it stops answering, then reconnects (restart)', () => {
    const p = makePair({ extra: '    dpd: { delay: 10s, action: restart }' });
    p.initiate();
    p.run();
    let blocked = true;
    p.filter = (dir) => !(blocked && dir === 'BA');
    p.advance(10_000 + 170_000);
    expect(eventsOf(p.a, 'peer-dead')).toHaveLength(1);
    blocked = false;
    p.advance(5_000);
    // both ends restart (both ran DPD); whatever crossed, one IKE SA survives and both agree
    expect(eventsOf(p.a, 'ike-up').length).toBeGreaterThanOrEqual(2);
    const la = p.a.mgr.list(), lb = p.b.mgr.list();
    expect(la).toHaveLength(1);
    expect(lb).toHaveLength(1);
    expect(la[0]!.ike.state).toBe('established');
    expect(la[0]!.ike.spiI).toBe(lb[0]!.ike.spiI);
    expect(la[0]!.children[0]!.spiOut).toBe(lb[0]!.children[0]!.spiIn);
  });
});

describe('NAT detection (§2.23)', () => {
  it('detects the NAT on both sides and moves IKE to port 4500', () => {
    const p = makePair({ extra: '    encap: auto' }, { extra: '    encap: auto', localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] }, { nat: true });
    p.initiate();
    p.run();
    const a = eventsOf(p.a, 'ike-up')[0]!.sa;
    const b = eventsOf(p.b, 'ike-up')[0]!.sa;
    expect(a.natLocal).toBe(true);
    expect(a.natRemote).toBe(false);
    expect(b.natRemote).toBe(true);
    expect(b.natLocal).toBe(false);
    // IKE_AUTH went over 4500, B answers to the NAT's mapped port
    const auth = p.a.sent.find((s) => decodeHeader(s.bytes).exchangeType === IKE_AUTH)!;
    expect(auth.local.port).toBe(4500);
    expect(auth.remote.port).toBe(4500);
    expect(b.remote).toEqual({ address: '100.64.0.1', port: 34500 });
    expect(p.a.installed.every((s) => s.encap)).toBe(true);
    expect(p.b.installed.every((s) => s.encap && s.remote.port === 34500)).toBe(true);
  });

  it('encap: auto without NAT keeps port 500 and raw ESP', () => {
    const p = makePair({ extra: '    encap: auto' }, { extra: '    encap: auto', localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] });
    p.initiate();
    p.run();
    expect(p.a.installed.every((s) => !s.encap)).toBe(true);
    expect(p.a.sent.every((s) => s.local.port === 500)).toBe(true);
  });

  it('encap: always forces UDP encapsulation without a NAT', () => {
    const p = makePair({});
    p.initiate();
    p.run();
    expect(p.a.installed.every((s) => s.encap)).toBe(true);
    expect(p.b.installed.every((s) => s.encap)).toBe(true);
  });
});

describe('IKE fragmentation (RFC 7383)', () => {
  it('fragments a large IKE_AUTH and reassembles it', () => {
    const many = Array.from({ length: 40 }, (_, i) => `10.1.${i}.0/24`);
    const p = makePair(
      { localTs: many, extra: '    fragmentation: { enabled: true, max_size: 576 }' },
      { remoteTs: ['10.1.0.0/16'], localTs: ['10.2.0.0/16'], extra: '    fragmentation: { enabled: true, max_size: 576 }' },
    );
    p.initiate();
    p.run();
    const auth = p.a.sent.filter((s) => decodeHeader(s.bytes).exchangeType === IKE_AUTH);
    expect(auth.length).toBeGreaterThan(1);
    expect(auth.every((s) => s.bytes.length <= 576)).toBe(true);
    expect(p.a.mgr.list()[0]!.ike.state).toBe('established');
    expect(eventsOf(p.b, 'child-up')[0]!.child.remoteTs).toHaveLength(40);
  });
});

describe('simultaneous initiation', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`ends with one IKE SA and one CHILD_SA pair on both sides (seed ${seed})`, () => {
      const p = makePair({ extra: '    dpd: { delay: 0s, action: restart }' }, undefined, { seed });
      p.initiateBoth();
      p.run();
      p.advance(1000);
      const la = p.a.mgr.list();
      const lb = p.b.mgr.list();
      expect(la).toHaveLength(1);
      expect(lb).toHaveLength(1);
      expect(la[0]!.ike.spiI).toBe(lb[0]!.ike.spiI);
      expect(la[0]!.children).toHaveLength(1);
      expect(la[0]!.children[0]!.spiOut).toBe(lb[0]!.children[0]!.spiIn);
      // the surviving pair is the current outbound on both sides
      const lastActA = p.a.activated.at(-1);
      const lastActB = p.b.activated.at(-1);
      expect(lastActA).toBe(la[0]!.children[0]!.spiOut);
      expect(lastActB).toBe(lb[0]!.children[0]!.spiOut);
    });
  }
});

describe('unsolicited INFORMATIONAL from the peer (strongSwan MOBIKE / NAT-D style)', () => {
  it('is answered with an empty response and the SAs stay up', async () => {
    const { NotifyType, PayloadType } = await import('../../src/ike/wire/constants.js');
    const p = makePair({});
    p.initiate();
    p.run();
    const b = p.b.mgr.list()[0]!;
    const n = (t: number, data = new Uint8Array(0)) => ({ type: PayloadType.NOTIFY, protocolId: 0, spi: new Uint8Array(0), notifyType: t, data });
    // what strongSwan sends with MOBIKE: additional addresses, then NAT-D liveness checks
    p.deliver(p.b, p.b.mgr.informational(b.ike.ikeId, [n(NotifyType.ADDITIONAL_IP4_ADDRESS, new Uint8Array([10, 9, 9, 9])), n(NotifyType.NO_ADDITIONAL_ADDRESSES)], p.clock.now()));
    p.run();
    p.deliver(p.b, p.b.mgr.informational(b.ike.ikeId, [n(NotifyType.NAT_DETECTION_SOURCE_IP, new Uint8Array(20)), n(NotifyType.NAT_DETECTION_DESTINATION_IP, new Uint8Array(20)), n(NotifyType.COOKIE2, new Uint8Array(16).fill(1))], p.clock.now()));
    p.run();
    const responses = p.a.sent.filter((s) => decodeHeader(s.bytes).exchangeType === 37 && decodeHeader(s.bytes).response);
    expect(responses).toHaveLength(2);
    // the NAT-D check's COOKIE2 came back in the response (RFC 4555 §3.8)
    const { decodeMessage } = await import('../../src/ike/wire/message.js');
    const saA = p.a.mgr.ikeSa(p.a.mgr.list()[0]!.ike.ikeId)!;
    const resp = decodeMessage(responses[1]!.bytes, saA.crypto!.skI); // A is the original initiator
    expect(resp.payloads.some((x) => x.type === PayloadType.NOTIFY && x.notifyType === NotifyType.COOKIE2 && x.data.every((v) => v === 1))).toBe(true);
    expect(p.a.mgr.list()[0]!.ike.state).toBe('established');
    expect(p.b.mgr.list()[0]!.ike.state).toBe('established');
    expect(eventsOf(p.b, 'retransmit')).toHaveLength(0);
    expect(p.a.deleted).toHaveLength(0);
  });
});
