/**
 * CHILD_SA rekeying with CREATE_CHILD_SA (RFC 7296 §1.3.3, §2.8, §2.8.1) between two
 * in-process gateways with a fake clock: plain and PFS rekeys in both directions,
 * refused rekeys, repeated rekeys, simultaneous rekey collisions and a lost response.
 */
import { describe, expect, it } from 'vitest';
import { makePair, eventsOf, type Pair, type Side, type SideOpts } from '../helpers/sim.js';
import { decodeHeader } from '../../src/ike/wire/message.js';
import type { ChildSaInfo } from '../../src/ike/actions.js';
import type { IkeMessage, Payload } from '../../src/ike/wire/types.js';
import { ExchangeType, NotifyType, PayloadType, ProtocolId } from '../../src/ike/wire/constants.js';
import { espProposalsToWire, ikeProposalsToWire } from '../../src/ike/proposal.js';
import { spiBytes, toWire } from '../../src/ike/tasks/child-create.js';
import { respondCreateChild } from '../../src/ike/tasks/create-child.js';
import { compareNonces, ourExchangeHasLowestNonce } from '../../src/ike/tasks/child-rekey.js';

const CREATE_CHILD_SA = 36;
const life = (rekey: number, lifeS: number) => `    child_lifetime: { rekey_time: ${rekey}s, life_time: ${lifeS}s, jitter: 0% }`;
const FAST = life(60, 90);
const SLOW = life(120, 150);
/** no liveness checks: their IVs would consume the steered nonce byte (SeededRng.nextFirstByte) */
const NO_DPD = '\n    dpd: { delay: 0s }';
const B_TS = { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] };

function children(s: Side): ChildSaInfo[] {
  const l = s.mgr.list();
  expect(l).toHaveLength(1);
  return l[0]!.children;
}

/** exactly one CHILD_SA pair on each side, and both sides agree on its SPIs and keys */
function onePair(p: Pair): { a: ChildSaInfo; b: ChildSaInfo } {
  const ca = children(p.a);
  const cb = children(p.b);
  expect(ca).toHaveLength(1);
  expect(cb).toHaveLength(1);
  const a = ca[0]!;
  const b = cb[0]!;
  expect(a.spiIn).toBe(b.spiOut);
  expect(a.spiOut).toBe(b.spiIn);
  keysAgree(p, a.spiOut);
  keysAgree(p, a.spiIn);
  return { a, b };
}

function keysAgree(p: Pair, spi: number): void {
  const all = [...p.a.installed, ...p.b.installed].filter((s) => s.spi === spi);
  expect(all).toHaveLength(2);
  const [x, y] = all as [(typeof all)[0], (typeof all)[0]];
  expect(new Set([x.dir, y.dir])).toEqual(new Set(['in', 'out']));
  expect(Buffer.from(x.encKey).equals(Buffer.from(y.encKey))).toBe(true);
  expect(Buffer.from(x.integKey).equals(Buffer.from(y.integKey))).toBe(true);
}

/** the pair was installed inbound first, and its outbound was switched to before the old inbound went away */
function makeBeforeBreak(s: Side, fresh: ChildSaInfo, old: ChildSaInfo): void {
  const dp = s.dataplane;
  const iIn = dp.findIndex((d) => d.op === 'install' && d.spi === fresh.spiIn);
  const iOut = dp.findIndex((d) => d.op === 'install' && d.spi === fresh.spiOut);
  const act = dp.findIndex((d) => d.op === 'activate' && d.spi === fresh.spiOut);
  const delOldIn = dp.findIndex((d) => d.op === 'delete' && d.spi === old.spiIn);
  const delOldOut = dp.findIndex((d) => d.op === 'delete' && d.spi === old.spiOut);
  expect(iIn).toBeGreaterThanOrEqual(0);
  expect(iIn).toBeLessThan(iOut);
  expect(iOut).toBeLessThan(act);
  expect(delOldIn).toBeGreaterThan(act);
  expect(delOldOut).toBeGreaterThan(act);
}

function up(aOpts: SideOpts, bOpts: SideOpts, seed?: number): { p: Pair; first: { a: ChildSaInfo; b: ChildSaInfo } } {
  const p = makePair(aOpts, { ...B_TS, ...bOpts }, seed !== undefined ? { seed } : {});
  p.initiate();
  p.run();
  const first = onePair(p);
  return { p, first };
}

function logs(s: Side): string[] {
  return eventsOf(s, 'log').map((e) => e.msg);
}

describe('CHILD_SA rekey (RFC 7296 §1.3.3)', () => {
  for (const who of ['A', 'B'] as const) {
    it(`rekeys when ${who}'s soft lifetime passes: one new pair, old pair deleted on both sides`, () => {
      const { p, first } = up({ extra: who === 'A' ? FAST : SLOW }, { extra: who === 'A' ? SLOW : FAST });
      p.advance(59_999);
      expect(onePair(p).a.spiIn).toBe(first.a.spiIn);
      p.advance(1);
      const now = onePair(p);
      expect(now.a.spiIn).not.toBe(first.a.spiIn);
      expect(now.a.spiOut).not.toBe(first.a.spiOut);
      for (const s of [p.a, p.b]) {
        expect(s.installed).toHaveLength(4);
        expect(eventsOf(s, 'child-rekeyed')).toHaveLength(1);
        expect(eventsOf(s, 'child-down')).toHaveLength(1);
      }
      expect(new Set(p.a.deleted)).toEqual(new Set([first.a.spiIn, first.a.spiOut]));
      expect(new Set(p.b.deleted)).toEqual(new Set([first.b.spiIn, first.b.spiOut]));
      makeBeforeBreak(p.a, now.a, first.a);
      makeBeforeBreak(p.b, now.b, first.b);
      // the initiator of the rekey sent the CREATE_CHILD_SA request and the Delete
      const init = who === 'A' ? 'AB' : 'BA';
      expect(p.exchanges(init).filter((e) => e.exchange === CREATE_CHILD_SA && !e.response)).toHaveLength(1);
      expect(p.exchanges(init === 'AB' ? 'BA' : 'AB').filter((e) => e.exchange === CREATE_CHILD_SA && !e.response)).toHaveLength(0);
    });
  }

  it('PFS rekey (aes256gcm16-x25519): new keys agree and the pair records the group', () => {
    const esp = ['aes256gcm16-x25519'];
    const { p, first } = up({ esp, extra: FAST }, { esp, extra: SLOW });
    expect(first.a.ke).toBeNull(); // IKE_AUTH carries no KE
    p.advance(60_000);
    const now = onePair(p);
    expect(now.a.spiIn).not.toBe(first.a.spiIn);
    expect(now.a.ke).not.toBeNull();
    expect(now.b.ke).toBe(now.a.ke);
    const req = p.a.sent.map((s) => decodeHeader(s.bytes)).filter((h) => h.exchangeType === CREATE_CHILD_SA);
    expect(req).toHaveLength(1);
  });

  it('PFS mismatch (A wants PFS, B none): NO_PROPOSAL_CHOSEN, the old pair stays until its hard lifetime', () => {
    const { p, first } = up({ esp: ['aes256gcm16-x25519'], extra: FAST }, { esp: ['aes256gcm16'], extra: life(200, 300) });
    p.advance(60_000);
    expect(logs(p.a).some((m) => m.includes('NO_PROPOSAL_CHOSEN'))).toBe(true);
    let now = onePair(p);
    expect(now.a.spiIn).toBe(first.a.spiIn);
    expect(p.a.deleted).toHaveLength(0);
    expect(p.b.deleted).toHaveLength(0);
    // retries keep failing; the old pair keeps carrying traffic until 90 s, then it is deleted
    p.advance(25_000);
    now = onePair(p);
    expect(now.a.spiIn).toBe(first.a.spiIn);
    expect(p.a.sent.map((s) => decodeHeader(s.bytes)).filter((h) => h.exchangeType === CREATE_CHILD_SA).length).toBeGreaterThanOrEqual(2);
    p.advance(5_000);
    expect(children(p.a)).toHaveLength(0);
    expect(children(p.b)).toHaveLength(0);
    expect(new Set(p.b.deleted)).toEqual(new Set([first.b.spiIn, first.b.spiOut]));
  });

  it('INVALID_KE_PAYLOAD: the initiator retries at once with the group the responder wants', () => {
    const { p, first } = up({ esp: ['aes256gcm16-x25519-ecp256'], extra: FAST }, { esp: ['aes256gcm16-ecp256'], extra: SLOW });
    p.advance(60_000);
    const reqs = p.a.sent.map((s) => decodeHeader(s.bytes)).filter((h) => h.exchangeType === CREATE_CHILD_SA);
    expect(reqs).toHaveLength(2);
    expect(logs(p.b).some((m) => m.includes('we want'))).toBe(true);
    const now = onePair(p);
    expect(now.a.spiIn).not.toBe(first.a.spiIn);
    expect(now.a.ke).toBe(now.b.ke);
    expect(now.a.ke).not.toBeNull();
    expect(eventsOf(p.a, 'child-rekeyed')).toHaveLength(1);
  });

  it('10 consecutive rekeys over simulated time keep exactly one agreeing pair', () => {
    const { p, first } = up({ extra: FAST }, { extra: SLOW });
    const seen = new Set([first.a.spiIn]);
    for (let i = 1; i <= 10; i++) {
      p.advance(60_000);
      const now = onePair(p);
      expect(seen.has(now.a.spiIn)).toBe(false);
      seen.add(now.a.spiIn);
      for (const s of [p.a, p.b]) {
        expect(s.installed).toHaveLength(2 * (i + 1));
        expect(s.deleted).toHaveLength(2 * i);
        expect(eventsOf(s, 'child-rekeyed')).toHaveLength(i);
      }
      const ike = p.a.mgr.list()[0]!.ike;
      expect(ike.state).toBe('established');
    }
    expect(eventsOf(p.a, 'ike-down')).toHaveLength(0);
    expect(eventsOf(p.a, 'retransmit')).toHaveLength(0);
  });

  it('a lost CREATE_CHILD_SA response is retransmitted and answered from the cache: still one pair', () => {
    const { p, first } = up({ extra: FAST }, { extra: SLOW });
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
    p.advance(4_000);
    expect(eventsOf(p.a, 'retransmit')).toHaveLength(1);
    const now = onePair(p);
    expect(now.a.spiIn).not.toBe(first.a.spiIn);
    // the responder processed the request once
    expect(eventsOf(p.b, 'child-up')).toHaveLength(2);
    expect(eventsOf(p.a, 'child-up')).toHaveLength(2);
    makeBeforeBreak(p.a, now.a, first.a);
  });

  it('rekey request for an unknown CHILD_SA gets CHILD_SA_NOT_FOUND and the initiator keeps its pair', () => {
    const { p, first } = up({ extra: FAST }, { extra: SLOW });
    // B forgets the pair behind A's back (no Delete sent)
    const bSa = p.b.mgr.ikeSa(p.b.mgr.list()[0]!.ike.ikeId)!;
    const ch = [...bSa.children.values()][0]!;
    bSa.children.delete(ch.id);
    p.advance(60_000);
    expect(logs(p.a).some((m) => m.includes('CHILD_SA_NOT_FOUND'))).toBe(true);
    expect(children(p.a)[0]!.spiIn).toBe(first.a.spiIn);
  });
});

describe('simultaneous CHILD_SA rekey (RFC 7296 §2.8.1)', () => {
  it('orders nonces as byte strings and finds the exchange holding the lowest', () => {
    const n = (...b: number[]) => new Uint8Array(b);
    expect(compareNonces(n(1, 2), n(1, 3))).toBeLessThan(0);
    expect(compareNonces(n(2), n(1, 255))).toBeGreaterThan(0);
    expect(compareNonces(n(1), n(1, 0))).toBeLessThan(0);
    expect(compareNonces(n(9, 9), n(9, 9))).toBe(0);
    expect(ourExchangeHasLowestNonce({ ni: n(5), nr: n(1) }, { ni: n(2), nr: n(3) })).toBe(true);
    expect(ourExchangeHasLowestNonce({ ni: n(5), nr: n(4) }, { ni: n(6), nr: n(3) })).toBe(false);
  });

  // which of the four nonces is the lowest: A's Ni / B's Nr belong to A's exchange, B's Ni / A's Nr to B's
  const cases = [
    { lowest: 'A Ni', aNi: 0x00, bNi: 0x80, aNr: 0x90, bNr: 0xa0, aExchangeRedundant: true },
    { lowest: 'B Nr', aNi: 0x80, bNi: 0x90, aNr: 0xa0, bNr: 0x00, aExchangeRedundant: true },
    { lowest: 'B Ni', aNi: 0x80, bNi: 0x00, aNr: 0x90, bNr: 0xa0, aExchangeRedundant: false },
    { lowest: 'A Nr', aNi: 0x80, bNi: 0x90, aNr: 0x00, bNr: 0xa0, aExchangeRedundant: false },
  ];
  for (const c of cases) {
    it(`lowest nonce is ${c.lowest}: exactly one pair survives on both sides`, () => {
      const { p, first } = up({ extra: FAST + NO_DPD }, { extra: FAST + NO_DPD });
      p.advance(59_999);
      p.a.rng.nextFirstByte = c.aNi;
      p.b.rng.nextFirstByte = c.bNi;
      p.beforeDeliver = (to, bytes) => {
        const h = decodeHeader(bytes);
        if (h.exchangeType === CREATE_CHILD_SA && !h.response) to.rng.nextFirstByte = to === p.a ? c.aNr : c.bNr;
      };
      p.advance(1);
      // both sides sent a rekey request and answered the peer's normally
      expect(p.exchanges('AB').filter((e) => e.exchange === CREATE_CHILD_SA)).toHaveLength(2);
      expect(p.exchanges('BA').filter((e) => e.exchange === CREATE_CHILD_SA)).toHaveLength(2);
      for (const s of [p.a, p.b]) expect(logs(s).some((m) => m.includes('TEMPORARY_FAILURE'))).toBe(false);
      const now = onePair(p);
      // the nonce steering took effect: the right side found its own SA redundant
      const redundantSide = c.aExchangeRedundant ? p.a : p.b;
      const otherSide = c.aExchangeRedundant ? p.b : p.a;
      expect(logs(redundantSide).some((m) => m.includes('our new CHILD_SA') && m.includes('lowest nonce'))).toBe(true);
      expect(logs(otherSide).some((m) => m.includes("the peer's CHILD_SA") && m.includes('lowest nonce'))).toBe(true);
      // child-up order: A answered B's request before its own response came; B likewise
      const upA = eventsOf(p.a, 'child-up').slice(1).map((e) => e.child);
      const upB = eventsOf(p.b, 'child-up').slice(1).map((e) => e.child);
      expect(upA).toHaveLength(2);
      expect(upB).toHaveLength(2);
      const [aResp, aOwn] = upA as [ChildSaInfo, ChildSaInfo];
      const [bResp, bOwn] = upB as [ChildSaInfo, ChildSaInfo];
      expect(now.a.spiIn).toBe(c.aExchangeRedundant ? aResp.spiIn : aOwn.spiIn);
      expect(now.b.spiIn).toBe(c.aExchangeRedundant ? bOwn.spiIn : bResp.spiIn);
      // old and redundant pairs are gone from the data plane on both sides, and outbound uses the survivor
      for (const [s, old, survivor, all] of [
        [p.a, first.a, now.a, upA],
        [p.b, first.b, now.b, upB],
      ] as const) {
        const gone = [old, ...all.filter((x) => x.spiIn !== survivor.spiIn)].flatMap((x) => [x.spiIn, x.spiOut]);
        expect(new Set(s.deleted)).toEqual(new Set(gone));
        expect(s.activated.at(-1)).toBe(survivor.spiOut);
        expect(s.deleted).not.toContain(survivor.spiIn);
        expect(s.deleted).not.toContain(survivor.spiOut);
        const rk = eventsOf(s, 'child-rekeyed');
        expect(rk).toHaveLength(1);
        expect(rk[0]!.child.spiIn).toBe(survivor.spiIn);
      }
      // and the survivor keeps rekeying normally afterwards
      p.beforeDeliver = () => {};
      p.advance(60_000);
      const later = onePair(p);
      expect(later.a.spiIn).not.toBe(now.a.spiIn);
    });
  }

  it('equal lifetimes on both sides: 10 rounds of colliding rekeys keep one agreeing pair', () => {
    const { p } = up({ extra: FAST }, { extra: FAST });
    for (let i = 0; i < 10; i++) {
      p.advance(60_000);
      onePair(p);
      expect(p.a.mgr.list()[0]!.ike.state).toBe('established');
    }
    expect(eventsOf(p.a, 'ike-down')).toHaveLength(0);
  });

  for (const dir of ['AB', 'BA'] as const) {
    for (const seed of [3, 17, 29]) {
      it(`collision with the first CREATE_CHILD_SA response ${dir} lost (seed ${seed}): one agreeing pair`, () => {
        const { p, first } = up({ extra: FAST }, { extra: FAST }, seed);
        let dropped = 0;
        p.filter = (d, bytes) => {
          const h = decodeHeader(bytes);
          if (d === dir && h.exchangeType === CREATE_CHILD_SA && h.response && dropped === 0) {
            dropped++;
            return false;
          }
          return true;
        };
        p.advance(60_000);
        p.advance(10_000);
        expect(dropped).toBe(1);
        const now = onePair(p);
        expect(now.a.spiIn).not.toBe(first.a.spiIn);
        p.filter = () => true;
        p.advance(50_000);
        onePair(p);
        expect(eventsOf(p.a, 'ike-down')).toHaveLength(0);
      });
    }
  }

  it('answers TEMPORARY_FAILURE to a rekey of a CHILD_SA it is deleting', () => {
    const { p, first } = up({ extra: FAST }, { extra: FAST });
    // B's Delete for the pair and A's rekey request cross on the wire
    const bSa = p.b.mgr.ikeSa(p.b.mgr.list()[0]!.ike.ikeId)!;
    const ch = [...bSa.children.values()][0]!;
    ch.rekeyAt = Number.MAX_SAFE_INTEGER;
    ch.state = 'deleting';
    p.advance(60_000);
    expect(logs(p.b).some((m) => m.includes('TEMPORARY_FAILURE'))).toBe(true);
    expect(logs(p.a).some((m) => m.includes('TEMPORARY_FAILURE'))).toBe(true);
    expect(children(p.a)[0]!.spiIn).toBe(first.a.spiIn);
  });
});

describe('CREATE_CHILD_SA responder, other requests', () => {
  function request(p: Pair, payloads: Payload[]): { payloads: Payload[]; sa: NonNullable<ReturnType<Side['mgr']['ikeSa']>> } {
    const sa = p.b.mgr.ikeSa(p.b.mgr.list()[0]!.ike.ikeId)!;
    const msg: IkeMessage = {
      header: { spiI: sa.spiI, spiR: sa.spiR, nextPayload: 0, majorVersion: 2, minorVersion: 0, exchangeType: ExchangeType.CREATE_CHILD_SA, initiator: true, response: false, version: false, messageId: 5, length: 0 },
      payloads,
      encrypted: true,
    };
    sa.out = [];
    return { payloads: respondCreateChild(sa, msg, p.clock.now()), sa };
  }

  it('creates an additional CHILD_SA for a request without REKEY_SA (§1.3.1)', () => {
    const { p } = up({}, {});
    const aSa = p.a.mgr.ikeSa(p.a.mgr.list()[0]!.ike.ikeId)!;
    const { payloads, sa } = request(p, [
      { type: PayloadType.SA, proposals: espProposalsToWire(aSa.conn.espProposals, spiBytes(0x12345678), false) },
      { type: PayloadType.NONCE, data: new Uint8Array(32).fill(7) },
      { type: PayloadType.TSi, selectors: toWire(aSa.conn.localTs) },
      { type: PayloadType.TSr, selectors: toWire(aSa.conn.remoteTs) },
    ]);
    expect(payloads.map((x) => x.type)).toEqual([PayloadType.SA, PayloadType.NONCE, PayloadType.TSi, PayloadType.TSr]);
    expect(sa.children.size).toBe(2);
    const dp = sa.out.filter((a) => a.kind !== 'event').map((a) => (a.kind === 'install-sa' ? `install-${a.spec.dir}` : a.kind));
    // the initiator installs its inbound SA only when our answer arrives: no switch yet
    expect(dp).toEqual(['install-in', 'install-out']);
    const added = [...sa.children.values()][1]!;
    expect(added.spiOut).toBe(0x12345678);
    expect(added.activateAt).toBeDefined();
    // …the switch comes at the fallback time
    sa.out = [];
    sa.tick(added.activateAt!);
    expect(sa.out.filter((a) => a.kind === 'activate-outbound').map((a) => (a.kind === 'activate-outbound' ? a.spi : 0))).toEqual([0x12345678]);
    // the first pair is untouched
    expect([...sa.children.values()][0]!.state).toBe('installed');
  });

  it('refuses an IKE SA rekey request without a KE payload with INVALID_KE_PAYLOAD (§1.3.2: KEi is mandatory)', () => {
    const { p } = up({}, {});
    const aSa = p.a.mgr.ikeSa(p.a.mgr.list()[0]!.ike.ikeId)!;
    const { payloads, sa } = request(p, [
      { type: PayloadType.SA, proposals: ikeProposalsToWire(aSa.conn.ikeProposals, new Uint8Array(8).fill(1)) },
      { type: PayloadType.NONCE, data: new Uint8Array(32).fill(7) },
    ]);
    expect(payloads).toHaveLength(1);
    expect(payloads[0]!.type === PayloadType.NOTIFY && payloads[0]!.notifyType).toBe(NotifyType.INVALID_KE_PAYLOAD);
    expect(sa.children.size).toBe(1);
  });

  it('CHILD_SA_NOT_FOUND names the unknown SPI', () => {
    const { p } = up({}, {});
    const aSa = p.a.mgr.ikeSa(p.a.mgr.list()[0]!.ike.ikeId)!;
    const { payloads } = request(p, [
      { type: PayloadType.NOTIFY, protocolId: ProtocolId.ESP, spi: spiBytes(0xdeadbeef), notifyType: NotifyType.REKEY_SA, data: new Uint8Array(0) },
      { type: PayloadType.SA, proposals: espProposalsToWire(aSa.conn.espProposals, spiBytes(0x12345678), false) },
      { type: PayloadType.NONCE, data: new Uint8Array(32).fill(7) },
      { type: PayloadType.TSi, selectors: toWire(aSa.conn.localTs) },
      { type: PayloadType.TSr, selectors: toWire(aSa.conn.remoteTs) },
    ]);
    const n = payloads[0]!;
    expect(n.type === PayloadType.NOTIFY && [n.notifyType, n.protocolId, Buffer.from(n.spi).toString('hex')]).toEqual([NotifyType.CHILD_SA_NOT_FOUND, ProtocolId.ESP, 'deadbeef']);
  });
});

describe('data-plane lifetime events (bytes / packets / sequence numbers)', () => {
  it('soft expiry rekeys the CHILD_SA, hard expiry deletes it', () => {
    const p = makePair({ extra: '    dpd: { delay: 0s, action: none }' });
    p.initiate();
    p.run();
    const [child] = p.a.mgr.list()[0]!.children;
    // soft: the data plane counted enough bytes on A's outbound SA
    const soft = p.a.mgr.espExpire(child!.spiOut, false, 'bytes', p.clock.now());
    expect(soft.actions.some((x) => x.kind === 'send')).toBe(true);
    p.deliver(p.a, soft);
    p.run();
    const after = p.a.mgr.list()[0]!.children;
    expect(after).toHaveLength(1);
    expect(after[0]!.spiOut).not.toBe(child!.spiOut);
    expect(p.b.mgr.list()[0]!.children[0]!.spiIn).toBe(after[0]!.spiOut);
    // hard: the new SA hits its hard packet limit → deleted on both sides
    const hard = p.b.mgr.espExpire(after[0]!.spiOut, true, 'packets', p.clock.now());
    p.deliver(p.b, hard);
    p.run();
    expect(p.a.mgr.list()[0]!.children).toHaveLength(0);
    expect(p.b.mgr.list()[0]!.children).toHaveLength(0);
  });
});

describe('rekey responder switches outbound only when the initiator is ready', () => {
  it('B answers A\'s rekey: B keeps the old outbound until A deletes the old pair, then switches before deleting', () => {
    const p = makePair({ extra: '    dpd: { delay: 0s, action: none }\n    child_lifetime: { rekey_time: 60s, life_time: 600s, jitter: 0% }' }, { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'], extra: '    dpd: { delay: 0s, action: none }\n    child_lifetime: { rekey_time: 600s, life_time: 900s, jitter: 0% }' });
    p.initiate();
    p.run();
    const oldOutB = p.b.mgr.list()[0]!.children[0]!.spiOut;
    // hold A's Delete of the old pair to look at B in between
    let held: Uint8Array | null = null;
    p.filter = (dir, bytes) => {
      const h = decodeHeader(bytes);
      if (dir === 'AB' && h.exchangeType === 37 && !h.response && held === null) {
        held = bytes;
        return false;
      }
      return true;
    };
    p.b.dataplane.length = 0;
    p.advance(61_000);
    expect(held).not.toBeNull();
    const bChildren = p.b.mgr.list()[0]!.children;
    expect(bChildren).toHaveLength(2);
    // B installed the new pair but did not switch: nothing activated yet
    expect(p.b.dataplane.filter((d) => d.op === 'activate')).toEqual([]);
    const newOutB = bChildren.find((c) => c.spiOut !== oldOutB)!.spiOut;
    // now the Delete arrives: B switches to the new outbound first, then deletes the old pair
    p.filter = () => true;
    p.deliver(p.b, p.b.mgr.handleDatagram(held!, { address: '10.0.0.2', port: 4500 }, { address: '10.0.0.1', port: 4500 }, p.clock.now()));
    p.run();
    const ops = p.b.dataplane.map((d) => `${d.op}:${d.spi}`);
    const act = ops.indexOf(`activate:${newOutB}`);
    const del = ops.indexOf(`delete:${oldOutB}`);
    expect(act).toBeGreaterThanOrEqual(0);
    expect(del).toBeGreaterThan(act);
    expect(p.b.mgr.list()[0]!.children).toHaveLength(1);
  });
});

describe('make-before-break invariant under rekeys and collisions', () => {
  for (const seed of [3, 7, 11, 19, 23]) {
    it(`no side ever switches to an SPI its peer has not installed inbound (equal lifetimes, seed ${seed})`, () => {
      const extra = '    dpd: { delay: 0s, action: none }\n    child_lifetime: { rekey_time: 20s, life_time: 60s, jitter: 0% }';
      const p = makePair({ extra }, { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'], extra }, { seed });
      p.initiate();
      p.run();
      p.advance(20_000 * 10 + 5_000);
      expect(p.violations).toEqual([]);
      const la = p.a.mgr.list()[0]!, lb = p.b.mgr.list()[0]!;
      expect(la.children.filter((c) => c.spiOut === lb.children.find((d) => d.spiIn === c.spiOut)?.spiIn).length).toBeGreaterThanOrEqual(1);
    });
  }
  it('holds for plain rekeys in both directions', () => {
    const p = makePair({ extra: '    dpd: { delay: 0s, action: none }\n    child_lifetime: { rekey_time: 20s, life_time: 60s, jitter: 0% }' }, { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'], extra: '    dpd: { delay: 0s, action: none }\n    child_lifetime: { rekey_time: 31s, life_time: 90s, jitter: 0% }' });
    p.initiate();
    p.run();
    p.advance(300_000);
    expect(p.violations).toEqual([]);
  });
});
