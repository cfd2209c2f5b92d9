/**
 * IKE SA rekeying with CREATE_CHILD_SA (RFC 7296 §1.3.2, §2.8, §2.18, §2.8.2) between two
 * in-process gateways with a fake clock: plain rekeys by either side (children move, the data
 * plane is untouched), hours of interleaved IKE and CHILD_SA rekeys, the four nonce orderings
 * of a simultaneous IKE rekey, a lost response, and IKE rekey crossing a CHILD_SA rekey.
 */
import { describe, expect, it } from 'vitest';
import { makePair, eventsOf, type Pair, type Side, type SideOpts } from '../helpers/sim.js';
import { decodeHeader } from '../../src/ike/wire/message.js';
import type { ChildSaInfo, IkeSaInfo } from '../../src/ike/actions.js';
import { ExchangeType, KeId, NotifyType, PayloadType } from '../../src/ike/wire/constants.js';
import type { IkeMessage } from '../../src/ike/wire/types.js';
import { ikeProposalsToWire } from '../../src/ike/proposal.js';
import { respondCreateChild } from '../../src/ike/tasks/create-child.js';

const CREATE_CHILD_SA = ExchangeType.CREATE_CHILD_SA;
const INFORMATIONAL = ExchangeType.INFORMATIONAL;
const ikeLife = (rekey: number, lifeS: number, jitter = 0) => `    ike_lifetime: { rekey_time: ${rekey}s, life_time: ${lifeS}s, jitter: ${jitter}% }`;
const childLife = (rekey: number, lifeS: number, jitter = 0) => `    child_lifetime: { rekey_time: ${rekey}s, life_time: ${lifeS}s, jitter: ${jitter}% }`;
const IKE_FAST = ikeLife(60, 90);
const IKE_SLOW = ikeLife(120, 150);
/** no liveness checks: their IVs would consume the steered nonce byte (SeededRng.nextFirstByte) */
const NO_DPD = '    dpd: { delay: 0s }';
const lines = (...xs: string[]) => xs.join('\n');
const B_TS = { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] };

function oneIke(s: Side): { ike: IkeSaInfo & { state: string }; children: ChildSaInfo[] } {
  const l = s.mgr.list();
  expect(l).toHaveLength(1);
  return l[0]!;
}

/** exactly one IKE SA on each side, both agree on its SPIs, and it is established */
function oneIkePair(p: Pair): { a: IkeSaInfo; b: IkeSaInfo } {
  const a = oneIke(p.a).ike;
  const b = oneIke(p.b).ike;
  expect(a.state).toBe('established');
  expect(b.state).toBe('established');
  expect(a.spiI).toBe(b.spiI);
  expect(a.spiR).toBe(b.spiR);
  expect(a.initiator).toBe(!b.initiator);
  return { a, b };
}

/** exactly one CHILD_SA pair on each side, and both sides agree on its SPIs */
function onePair(p: Pair): { a: ChildSaInfo; b: ChildSaInfo } {
  const ca = oneIke(p.a).children;
  const cb = oneIke(p.b).children;
  expect(ca).toHaveLength(1);
  expect(cb).toHaveLength(1);
  expect(ca[0]!.spiIn).toBe(cb[0]!.spiOut);
  expect(ca[0]!.spiOut).toBe(cb[0]!.spiIn);
  return { a: ca[0]!, b: cb[0]! };
}

function up(aOpts: SideOpts, bOpts: SideOpts, seed?: number): { p: Pair; ike: { a: IkeSaInfo; b: IkeSaInfo }; child: { a: ChildSaInfo; b: ChildSaInfo } } {
  const p = makePair(aOpts, { ...B_TS, ...bOpts }, seed !== undefined ? { seed } : {});
  p.initiate();
  p.run();
  return { p, ike: oneIkePair(p), child: onePair(p) };
}

function logs(s: Side): string[] {
  return eventsOf(s, 'log').map((e) => e.msg);
}

/** requests of one exchange type sent by a side, with the header SPIs */
function requests(s: Side, exchange: number): { spiI: string; spiR: string; mid: number }[] {
  return s.sent
    .map((x) => decodeHeader(x.bytes))
    .filter((h) => h.exchangeType === exchange && !h.response)
    .map((h) => ({ spiI: Buffer.from(h.spiI).toString('hex'), spiR: Buffer.from(h.spiR).toString('hex'), mid: h.messageId }));
}

function noTrouble(p: Pair): void {
  for (const s of [p.a, p.b]) {
    expect(eventsOf(s, 'failed')).toEqual([]);
    expect(eventsOf(s, 'peer-dead')).toEqual([]);
    expect(eventsOf(s, 'ike-down')).toEqual([]);
  }
}

describe('IKE SA rekey (RFC 7296 §1.3.2)', () => {
  for (const who of ['A', 'B'] as const) {
    it(`rekeys when ${who}'s IKE lifetime passes: new SPIs, children moved untouched, old SA gone on both sides`, () => {
      const child = childLife(100, 130);
      const { p, ike: old, child: first } = up({ extra: lines(who === 'A' ? IKE_FAST : IKE_SLOW, child) }, { extra: lines(who === 'A' ? IKE_SLOW : IKE_FAST, child) });
      const rekeyer = who === 'A' ? p.a : p.b;
      const other = who === 'A' ? p.b : p.a;
      p.advance(59_999);
      expect(oneIkePair(p).a.spiI).toBe(old.a.spiI);
      p.advance(1);
      const now = oneIkePair(p);
      expect(now.a.spiI).not.toBe(old.a.spiI);
      expect(now.a.spiR).not.toBe(old.a.spiR);
      expect(now.a.ikeId).not.toBe(old.a.ikeId);
      // the side that sent the CREATE_CHILD_SA request is the new SA's initiator
      expect(oneIke(rekeyer).ike.initiator).toBe(true);
      expect(oneIke(other).ike.initiator).toBe(false);
      // children unchanged, nothing removed from or added to the data plane
      const c = onePair(p);
      expect(c.a.spiIn).toBe(first.a.spiIn);
      expect(c.a.spiOut).toBe(first.a.spiOut);
      for (const s of [p.a, p.b]) {
        expect(s.deleted).toEqual([]);
        expect(s.installed).toHaveLength(2);
        expect(eventsOf(s, 'child-down')).toEqual([]);
        const rk = eventsOf(s, 'ike-rekeyed');
        expect(rk).toHaveLength(1);
        expect(rk[0]!.sa.spiI).toBe(now.a.spiI);
        expect(rk[0]!.oldIkeId).toBe(s === p.a ? old.a.ikeId : old.b.ikeId);
      }
      noTrouble(p);
      // one CREATE_CHILD_SA request by the rekeyer on the old SA, then its Delete on the old SA
      const cc = requests(rekeyer, CREATE_CHILD_SA);
      expect(cc).toHaveLength(1);
      expect(cc[0]!.spiI).toBe(old.a.spiI);
      expect(requests(other, CREATE_CHILD_SA)).toHaveLength(0);
      const del = requests(rekeyer, INFORMATIONAL);
      expect(del.some((d) => d.spiI === old.a.spiI)).toBe(true);
      // a later CHILD_SA rekey runs on the new IKE SA, message IDs restarted at 0
      p.advance(40_000);
      const c2 = onePair(p);
      expect(c2.a.spiIn).not.toBe(first.a.spiIn);
      const cc2 = requests(p.a, CREATE_CHILD_SA).filter((r) => r.spiI === now.a.spiI);
      expect(cc2).toHaveLength(1);
      const onNew = [...rekeyer.sent, ...other.sent].map((x) => decodeHeader(x.bytes)).filter((h) => !h.response && Buffer.from(h.spiI).toString('hex') === now.a.spiI);
      expect(Math.min(...onNew.map((h) => h.messageId))).toBe(0);
      expect(oneIkePair(p).a.spiI).toBe(now.a.spiI);
      for (const s of [p.a, p.b]) expect(eventsOf(s, 'child-rekeyed')).toHaveLength(1);
      noTrouble(p);
    });
  }

  it('behind a NAT: the new IKE SA keeps the NAT state and the floated ports', () => {
    const p = makePair({ extra: IKE_FAST }, { ...B_TS, extra: IKE_SLOW }, { nat: true });
    p.initiate();
    p.run();
    const old = oneIkePair(p);
    const first = onePair(p);
    expect(old.b.natRemote).toBe(true);
    p.advance(60_000);
    const now = oneIkePair(p);
    expect(now.a.spiI).not.toBe(old.a.spiI);
    expect([now.a.natLocal, now.a.natRemote, now.b.natLocal, now.b.natRemote]).toEqual([old.a.natLocal, old.a.natRemote, old.b.natLocal, old.b.natRemote]);
    expect(now.a.local).toEqual(old.a.local);
    expect(now.a.remote).toEqual(old.a.remote);
    expect(now.b.remote).toEqual(old.b.remote);
    expect(onePair(p).a.spiIn).toBe(first.a.spiIn);
    noTrouble(p);
    // and the new SA carries exchanges: A's Delete reaches B through the NAT
    p.terminate();
    p.run();
    expect(p.b.mgr.list()).toEqual([]);
    expect(eventsOf(p.b, 'ike-down')).toHaveLength(1);
  });

  it('liveness checks and a Delete work on the new IKE SA', () => {
    const dpd = '    dpd: { delay: 10s }';
    const { p, child: first } = up({ extra: lines(IKE_FAST, dpd) }, { extra: lines(IKE_SLOW, dpd) });
    p.advance(60_000);
    const now = oneIkePair(p);
    const before = requests(p.a, INFORMATIONAL).length + requests(p.b, INFORMATIONAL).length;
    p.advance(25_000);
    const dpds = [...requests(p.a, INFORMATIONAL), ...requests(p.b, INFORMATIONAL)].filter((r) => r.spiI === now.a.spiI);
    expect(dpds.length).toBeGreaterThan(0);
    expect(requests(p.a, INFORMATIONAL).length + requests(p.b, INFORMATIONAL).length).toBeGreaterThan(before);
    expect(oneIkePair(p).a.spiI).toBe(now.a.spiI);
    expect(onePair(p).a.spiIn).toBe(first.a.spiIn);
    noTrouble(p);
    // terminate: the Delete goes on the new SA and takes the children with it
    p.terminate();
    p.run();
    expect(p.a.mgr.list()).toEqual([]);
    expect(p.b.mgr.list()).toEqual([]);
    for (const s of [p.a, p.b]) expect(new Set(s.deleted)).toEqual(new Set([first.a.spiIn, first.a.spiOut]));
  });

  it('hours of IKE rekeys interleaved with CHILD_SA rekeys keep one agreeing IKE SA and CHILD_SA', () => {
    const { p } = up({ extra: lines(ikeLife(60, 90, 10), childLife(20, 30, 10)) }, { extra: lines(ikeLife(70, 100, 10), childLife(25, 35, 10)) });
    let lastIke = oneIkePair(p).a.spiI;
    let changes = 0;
    for (let i = 0; i < 3 * 60; i++) {
      p.advance(60_000);
      const { a } = oneIkePair(p);
      onePair(p);
      if (a.spiI !== lastIke) changes++;
      lastIke = a.spiI;
    }
    expect(changes).toBeGreaterThan(100);
    for (const s of [p.a, p.b]) {
      expect(eventsOf(s, 'ike-rekeyed').length).toBeGreaterThan(150);
      expect(eventsOf(s, 'child-rekeyed').length).toBeGreaterThan(300);
      expect(eventsOf(s, 'ike-down')).toEqual([]);
      expect(eventsOf(s, 'peer-dead')).toEqual([]);
    }
    // every CHILD_SA ever installed on one side is deleted or still there: nothing leaks
    for (const s of [p.a, p.b]) {
      const live = new Set(oneIke(s).children.flatMap((c) => [c.spiIn, c.spiOut]));
      for (const spec of s.installed) expect(live.has(spec.spi) || s.deleted.includes(spec.spi)).toBe(true);
    }
  });

  it('a lost response is retransmitted from the cache: one new IKE SA on both sides', () => {
    const { p, ike: old, child: first } = up({ extra: IKE_FAST }, { extra: IKE_SLOW });
    let dropped = 0;
    p.filter = (dir, bytes) => {
      const h = decodeHeader(bytes);
      if (dir === 'BA' && h.exchangeType === CREATE_CHILD_SA && h.response && dropped === 0) {
        dropped++;
        return false;
      }
      return true;
    };
    p.advance(60_000);
    expect(dropped).toBe(1);
    // B already moved to the new SA; A still has only the old one
    expect(oneIke(p.a).ike.spiI).toBe(old.a.spiI);
    p.advance(5_000);
    const now = oneIkePair(p);
    expect(now.a.spiI).not.toBe(old.a.spiI);
    expect(onePair(p).a.spiIn).toBe(first.a.spiIn);
    expect(eventsOf(p.a, 'retransmit')).toHaveLength(1);
    // B answered the retransmission from its cache: it created exactly one new SA
    expect(eventsOf(p.b, 'ike-rekeyed')).toHaveLength(1);
    expect(p.a.deleted).toEqual([]);
    expect(p.b.deleted).toEqual([]);
    noTrouble(p);
  });

  it('IKE rekey crossing a CHILD_SA rekey: one gets TEMPORARY_FAILURE and is retried shortly', () => {
    const { p, ike: old, child: first } = up(
      { extra: lines(IKE_FAST, childLife(120, 150), NO_DPD) },
      { extra: lines(IKE_SLOW, childLife(60, 90), NO_DPD) },
    );
    p.advance(60_000);
    // both requests crossed; B refused the IKE rekey, A answered the CHILD_SA rekey
    expect(requests(p.a, CREATE_CHILD_SA)).toHaveLength(1);
    expect(requests(p.b, CREATE_CHILD_SA)).toHaveLength(1);
    expect(logs(p.b).some((m) => m.includes('TEMPORARY_FAILURE'))).toBe(true);
    expect(logs(p.a).some((m) => m.includes('rekeying the IKE SA failed'))).toBe(true);
    expect(oneIkePair(p).a.spiI).toBe(old.a.spiI);
    const c = onePair(p);
    expect(c.a.spiIn).not.toBe(first.a.spiIn);
    p.advance(6_000);
    const now = oneIkePair(p);
    expect(now.a.spiI).not.toBe(old.a.spiI);
    expect(onePair(p).a.spiIn).toBe(c.a.spiIn);
    for (const s of [p.a, p.b]) {
      expect(eventsOf(s, 'ike-rekeyed')).toHaveLength(1);
      expect(eventsOf(s, 'child-rekeyed')).toHaveLength(1);
    }
    expect(new Set(p.a.deleted)).toEqual(new Set([first.a.spiIn, first.a.spiOut]));
    noTrouble(p);
  });

  it('the IKE SA is deleted at its hard lifetime when every rekey fails, and the connection comes back', () => {
    const { p, ike: old } = up({ extra: lines(ikeLife(60, 90), NO_DPD) }, { extra: lines(IKE_SLOW, NO_DPD) });
    // B refuses: drop its answers to IKE rekeys... simplest: make B answer nothing to CREATE_CHILD_SA
    p.filter = (dir, bytes) => {
      const h = decodeHeader(bytes);
      return !(dir === 'AB' && h.exchangeType === CREATE_CHILD_SA);
    };
    p.advance(60_000 + 30_000);
    expect(logs(p.a).some((m) => m.includes('hard lifetime'))).toBe(true);
    p.filter = () => true;
    p.advance(60_000);
    // reconnected (A wants the connection): a fresh IKE SA via IKE_SA_INIT
    const now = oneIkePair(p);
    expect(now.a.spiI).not.toBe(old.a.spiI);
    onePair(p);
  });
});

describe('IKE SA rekey responder checks', () => {
  it('a KE payload for another group than the selected proposal gets INVALID_KE_PAYLOAD naming our group; nothing changes', () => {
    const { p } = up({}, {});
    const sa = p.b.mgr.ikeSa(p.b.mgr.list()[0]!.ike.ikeId)!;
    const msg: IkeMessage = {
      header: { spiI: sa.spiI, spiR: sa.spiR, nextPayload: 0, majorVersion: 2, minorVersion: 0, exchangeType: CREATE_CHILD_SA, initiator: true, response: false, version: false, messageId: 5, length: 0 },
      payloads: [
        { type: PayloadType.SA, proposals: ikeProposalsToWire(sa.conn.ikeProposals, new Uint8Array(8).fill(1)) },
        { type: PayloadType.NONCE, data: new Uint8Array(32).fill(7) },
        { type: PayloadType.KE, group: KeId.MODP_2048, data: new Uint8Array(256).fill(2) },
      ],
      encrypted: true,
    };
    const out = respondCreateChild(sa, msg, p.clock.now());
    expect(out).toHaveLength(1);
    const n = out[0]!;
    expect(n.type === PayloadType.NOTIFY && [n.notifyType, Buffer.from(n.data).toString('hex')]).toEqual([NotifyType.INVALID_KE_PAYLOAD, (sa.suite!.ke).toString(16).padStart(4, '0')]);
    expect(p.b.mgr.list()).toHaveLength(1);
    expect(sa.children.size).toBe(1);
    expect(sa.supersededBy).toBeNull();
  });
});

describe('simultaneous IKE SA rekey (RFC 7296 §2.8.2)', () => {
  it('equal IKE lifetimes on both sides: 10 rounds of colliding IKE rekeys keep one agreeing IKE SA', () => {
    const { p, child: first } = up({ extra: lines(IKE_FAST, NO_DPD) }, { extra: lines(IKE_FAST, NO_DPD) });
    const seen = new Set<string>([oneIkePair(p).a.spiI]);
    for (let i = 0; i < 10; i++) {
      p.advance(60_000);
      const { a } = oneIkePair(p);
      expect(seen.has(a.spiI)).toBe(false);
      seen.add(a.spiI);
      expect(onePair(p).a.spiIn).toBe(first.a.spiIn);
    }
    for (const s of [p.a, p.b]) {
      expect(s.deleted).toEqual([]);
      expect(eventsOf(s, 'ike-rekeyed')).toHaveLength(10);
      expect(logs(s).filter((m) => m.includes('IKE SA rekey collision') && m.includes('lowest nonce'))).toHaveLength(10);
    }
    noTrouble(p);
  });

  it("the peer's request is lost and our rekey completes first: its Delete of the old SA hands the children to our new SA", () => {
    const { p, ike: old, child: first } = up({ extra: lines(IKE_FAST, NO_DPD) }, { extra: lines(IKE_FAST, NO_DPD) });
    let dropped = 0;
    p.filter = (dir, bytes) => {
      const h = decodeHeader(bytes);
      if (dir === 'BA' && h.exchangeType === CREATE_CHILD_SA && !h.response && dropped === 0) {
        dropped++;
        return false;
      }
      return true;
    };
    p.advance(60_000);
    expect(dropped).toBe(1);
    const now = oneIkePair(p);
    expect(now.a.spiI).not.toBe(old.a.spiI);
    expect(oneIke(p.a).ike.initiator).toBe(true);
    expect(onePair(p).a.spiIn).toBe(first.a.spiIn);
    for (const s of [p.a, p.b]) {
      expect(s.deleted).toEqual([]);
      expect(eventsOf(s, 'ike-rekeyed')).toHaveLength(1);
    }
    noTrouble(p);
    p.advance(30_000);
    expect(oneIkePair(p).a.spiI).toBe(now.a.spiI);
    noTrouble(p);
  });

  it('IKE rekey crossing a Delete of the IKE SA: the Delete wins on both sides', () => {
    const { p, child: first } = up({ extra: lines(IKE_SLOW, NO_DPD) }, { extra: lines(IKE_FAST, NO_DPD) });
    p.advance(59_999);
    let fired = false;
    p.filter = (dir, bytes) => {
      const h = decodeHeader(bytes);
      if (!fired && dir === 'BA' && h.exchangeType === CREATE_CHILD_SA && !h.response) {
        fired = true;
        p.terminate(); // A's Delete leaves while B's rekey request is in flight
      }
      return true;
    };
    p.advance(1);
    p.run();
    expect(fired).toBe(true);
    expect(p.a.mgr.list()).toEqual([]);
    expect(p.b.mgr.list()).toEqual([]);
    for (const s of [p.a, p.b]) {
      expect(new Set(s.deleted)).toEqual(new Set([first.a.spiIn, first.a.spiOut]));
      expect(eventsOf(s, 'ike-rekeyed')).toEqual([]);
    }
    // A answered the rekey request on its deleting SA (with TEMPORARY_FAILURE) and B, already gone, ignored it
    expect(p.exchanges('AB').some((e) => e.exchange === CREATE_CHILD_SA && e.response)).toBe(true);
  });

  // A's exchange: Ni = aNi, Nr = bNr; B's exchange: Ni = bNi, Nr = aNr
  const cases = [
    { lowest: "A's Ni", aNi: 0x01, bNi: 0x80, aNr: 0x90, bNr: 0xa0, aExchangeRedundant: true },
    { lowest: "B's Nr (A's exchange)", aNi: 0x80, bNi: 0x90, aNr: 0xa0, bNr: 0x01, aExchangeRedundant: true },
    { lowest: "B's Ni", aNi: 0x80, bNi: 0x01, aNr: 0x90, bNr: 0xa0, aExchangeRedundant: false },
    { lowest: "A's Nr (B's exchange)", aNi: 0x80, bNi: 0x90, aNr: 0x01, bNr: 0xa0, aExchangeRedundant: false },
  ];
  for (const c of cases) {
    it(`lowest nonce is ${c.lowest}: exactly one new IKE SA survives on both sides`, () => {
      const { p, ike: old, child: first } = up({ extra: lines(IKE_FAST, NO_DPD) }, { extra: lines(IKE_FAST, NO_DPD) });
      p.advance(59_999);
      p.a.rng.nextFirstByte = c.aNi;
      p.b.rng.nextFirstByte = c.bNi;
      p.beforeDeliver = (to, bytes) => {
        const h = decodeHeader(bytes);
        if (h.exchangeType === CREATE_CHILD_SA && !h.response) to.rng.nextFirstByte = to === p.a ? c.aNr : c.bNr;
      };
      p.advance(1);
      p.beforeDeliver = () => {};
      p.run();
      expect(requests(p.a, CREATE_CHILD_SA)).toHaveLength(1);
      expect(requests(p.b, CREATE_CHILD_SA)).toHaveLength(1);
      for (const s of [p.a, p.b]) expect(logs(s).some((m) => m.includes('TEMPORARY_FAILURE'))).toBe(false);
      const redundantSide = c.aExchangeRedundant ? p.a : p.b;
      const winnerSide = c.aExchangeRedundant ? p.b : p.a;
      expect(logs(redundantSide).some((m) => m.includes('our new IKE SA') && m.includes('lowest nonce'))).toBe(true);
      expect(logs(winnerSide).some((m) => m.includes("the peer's IKE SA") && m.includes('lowest nonce'))).toBe(true);
      const now = oneIkePair(p);
      expect(now.a.spiI).not.toBe(old.a.spiI);
      // the survivor was created by the winner's exchange: the winner is its initiator
      expect(oneIke(winnerSide).ike.initiator).toBe(true);
      // children moved, untouched
      expect(onePair(p).a.spiIn).toBe(first.a.spiIn);
      for (const s of [p.a, p.b]) {
        expect(s.deleted).toEqual([]);
        expect(eventsOf(s, 'ike-rekeyed')).toHaveLength(1);
        expect(eventsOf(s, 'ike-rekeyed')[0]!.sa.spiI).toBe(now.a.spiI);
      }
      // the loser deleted its redundant SA, the winner the old one
      const loserDel = requests(redundantSide, INFORMATIONAL);
      const winnerDel = requests(winnerSide, INFORMATIONAL);
      expect(loserDel).toHaveLength(1);
      expect(winnerDel).toHaveLength(1);
      expect(winnerDel[0]!.spiI).toBe(old.a.spiI);
      expect(loserDel[0]!.spiI).not.toBe(old.a.spiI);
      expect(loserDel[0]!.spiI).not.toBe(now.a.spiI);
      noTrouble(p);
      // and the survivor keeps rekeying normally afterwards
      p.advance(60_000);
      const later = oneIkePair(p);
      expect(later.a.spiI).not.toBe(now.a.spiI);
      expect(onePair(p).a.spiIn).toBe(first.a.spiIn);
      noTrouble(p);
    });
  }
});
