import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/common/errors.js';
import { PayloadType as P } from '../../../../src/ike/wire/constants.js';
import type { IkeMessage } from '../../../../src/ike/wire/types.js';
import { DecryptError, decodeMessage, encodeMessage, messageFromReassembled } from '../../../../src/ike/wire/message.js';
import {
  FragmentReassembler,
  type Fragment,
  decodeFragment,
  fragmentMessage,
} from '../../../../src/ike/wire/skf.js';
import { hdr, sampleMessages } from '../../../helpers/wire-arb.js';
import { registrySk, type SkKind } from '../../../helpers/wire-sk.js';
import { catchParse } from './harness.js';

const samples = sampleMessages();
/** an IKE_AUTH request big enough to need several fragments */
const big: IkeMessage = {
  ...samples.authReq!,
  payloads: [...samples.authReq!.payloads, { type: P.CERT, body: new Uint8Array(3000).map((_, i) => i & 0xff) }],
};

function reassemble(frags: Uint8Array[], kind: SkKind, r = new FragmentReassembler()) {
  const sk = registrySk(kind);
  let out;
  for (const f of frags) {
    const got = r.add(decodeFragment(f, sk));
    if (got) out = got;
  }
  return out;
}

describe.each<SkKind>(['gcm', 'cbc'])('RFC 7383 fragmentation (%s)', (kind) => {
  it('a message that fits is returned as one ordinary SK datagram', () => {
    const sk = registrySk(kind);
    const out = fragmentMessage(samples.authReq!, sk, 1280);
    expect(out).toHaveLength(1);
    expect(out[0]![16]).toBe(P.SK);
    expect(decodeMessage(out[0]!, registrySk(kind)).payloads).toEqual(samples.authReq!.payloads);
  });

  it('splits into complete IKE messages no larger than maxDatagram, and reassembles', () => {
    const sk = registrySk(kind);
    const frags = fragmentMessage(big, sk, 576);
    expect(frags.length).toBeGreaterThan(5);
    for (const [i, f] of frags.entries()) {
      expect(f.length).toBeLessThanOrEqual(576);
      const d = decodeFragment(f, registrySk(kind));
      expect(d.header).toMatchObject({ messageId: 1, exchangeType: 35, nextPayload: P.SKF, length: f.length });
      expect([d.fragNum, d.total]).toEqual([i + 1, frags.length]);
      // SKF next payload: first inner type in fragment 1, 0 elsewhere (checked on the wire)
      expect(f[28]).toBe(i === 0 ? P.IDi : 0);
    }
    const r = reassemble(frags, kind)!;
    expect(r).toBeDefined();
    const msg = messageFromReassembled(r);
    expect(msg.encrypted).toBe(true);
    expect(msg.payloads).toEqual(big.payloads);
    expect(msg.header.messageId).toBe(1);
  });

  it('reassembles out of order and ignores duplicates', () => {
    const frags = fragmentMessage(big, registrySk(kind), 1000);
    const shuffled = [...frags].reverse();
    shuffled.splice(1, 0, frags[0]!, frags[frags.length - 1]!);
    const r = reassemble(shuffled, kind)!;
    expect(messageFromReassembled(r).payloads).toEqual(big.payloads);
  });

  it('each fragment is authenticated on its own (AAD covers Fragment Number/Total)', () => {
    const frags = fragmentMessage(big, registrySk(kind), 1000);
    const f = frags[1]!.slice();
    f[28 + 5]! ^= 1; // Fragment Number low octet
    expect(() => decodeFragment(f, registrySk(kind))).toThrow(DecryptError);
    const g = frags[1]!.slice();
    g[g.length - 3]! ^= 0x40;
    expect(() => decodeFragment(g, registrySk(kind))).toThrow(DecryptError);
  });
});

describe('decodeFragment structural checks → ParseError(SKF)', () => {
  const sk = registrySk('gcm');
  const frags = fragmentMessage(big, sk, 1000);
  const patch = (i: number, v: number, at: number) => {
    const f = frags[i]!.slice();
    f[at] = v;
    return f;
  };
  it.each([
    ['fragment number 0', patch(0, 0, 28 + 5)],
    ['total 0', (() => { const f = patch(0, 0, 28 + 7); f[28 + 6] = 0; return f; })()],
    ['fragment number > total', patch(0, 9, 28 + 5)],
    ['SKF length not to the end', patch(0, 0x10, 28 + 3)],
  ])('%s', (_n, f) => {
    expect(catchParse(() => decodeFragment(f, sk)).layer).toBe('SKF');
  });
  it('not an SKF message → ParseError(IKE header)', () => {
    const whole = encodeMessage(samples.authReq!, sk);
    expect(catchParse(() => decodeFragment(whole, sk)).layer).toBe('IKE header');
  });
  it('truncated datagram → ParseError', () => {
    expect(() => decodeFragment(frags[0]!.subarray(0, 30), sk)).toThrow(ParseError);
  });
});

describe('FragmentReassembler limits', () => {
  const frag = (mid: number, fragNum: number, total: number, data = new Uint8Array([fragNum]), response = false): Fragment => ({
    header: { ...hdr(35, response, mid), nextPayload: P.SKF },
    fragNum,
    total,
    firstNextPayload: fragNum === 1 ? P.VENDOR : 0,
    data,
  });

  it('completes when the last missing fragment arrives', () => {
    const r = new FragmentReassembler();
    expect(r.add(frag(1, 2, 3))).toBeUndefined();
    expect(r.add(frag(1, 1, 3))).toBeUndefined();
    expect(r.pending(false)).toBe(2);
    const done = r.add(frag(1, 3, 3))!;
    expect(done.firstPayload).toBe(P.VENDOR);
    expect(Array.from(done.data)).toEqual([1, 2, 3]);
    expect(r.pending(false)).toBe(0);
  });

  it('rejects more than 32 fragments', () => {
    const r = new FragmentReassembler();
    expect(r.add(frag(1, 1, 33))).toBeUndefined();
    expect(r.lastDrop).toMatch(/33 > 32/);
    expect(r.pending(false)).toBe(0);
  });

  it('drops the set once the total exceeds 64 KiB', () => {
    const r = new FragmentReassembler();
    const chunk = new Uint8Array(30 * 1024);
    expect(r.add(frag(1, 1, 3, chunk))).toBeUndefined();
    expect(r.add(frag(1, 2, 3, chunk))).toBeUndefined();
    expect(r.add(frag(1, 3, 3, chunk))).toBeUndefined();
    expect(r.lastDrop).toMatch(/exceeds 65536/);
    expect(r.pending(false)).toBe(0);
  });

  it('ignores duplicates', () => {
    const r = new FragmentReassembler();
    r.add(frag(1, 1, 2));
    expect(r.add(frag(1, 1, 2))).toBeUndefined();
    expect(r.lastDrop).toMatch(/duplicate/);
    expect(r.pending(false)).toBe(1);
  });

  it('a newer message id discards the old set; older ids are ignored', () => {
    const r = new FragmentReassembler();
    r.add(frag(1, 1, 2));
    r.add(frag(2, 2, 2));
    expect(r.pending(false)).toBe(1);
    expect(r.add(frag(1, 2, 2))).toBeUndefined();
    expect(r.lastDrop).toMatch(/older/);
    expect(r.add(frag(2, 1, 2))).toBeDefined();
  });

  it('requests and responses are reassembled independently', () => {
    const r = new FragmentReassembler();
    r.add(frag(5, 1, 2, undefined, false));
    r.add(frag(3, 1, 2, undefined, true));
    expect(r.pending(false)).toBe(1);
    expect(r.pending(true)).toBe(1);
    expect(r.add(frag(3, 2, 2, undefined, true))).toBeDefined();
    expect(r.add(frag(5, 2, 2, undefined, false))).toBeDefined();
  });

  it('a larger Total restarts the set (re-fragmentation, RFC 7383 §2.5.2); a smaller one is ignored', () => {
    const r = new FragmentReassembler();
    r.add(frag(1, 1, 2));
    expect(r.add(frag(1, 1, 3))).toBeUndefined();
    expect(r.pending(false)).toBe(1);
    expect(r.add(frag(1, 2, 2))).toBeUndefined();
    expect(r.lastDrop).toMatch(/smaller/);
    r.add(frag(1, 2, 3));
    expect(r.add(frag(1, 3, 3))).toBeDefined();
  });

  it('fragmentMessage refuses plaintext messages and impossible sizes', () => {
    expect(() => fragmentMessage(samples.initReq!, registrySk('gcm'), 576)).toThrow(RangeError);
    expect(() => fragmentMessage(big, registrySk('cbc'), 60)).toThrow(RangeError);
  });
});
