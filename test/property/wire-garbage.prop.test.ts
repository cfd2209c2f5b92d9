/**
 * Robustness: random and mutated datagrams (bit flips, byte sets, truncations, splices,
 * appended junk, length-field edits of valid encodings — plaintext, SK, SKF, and valid SK
 * envelopes around mutated inner chains) go through decodeHeader / decodeMessage /
 * decodeDatagram / checkRules. The only exceptions ever allowed are ParseError and
 * DecryptError (checked with instanceof); anything else fails the property.
 * ≥ 100,000 datagrams per run.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParseError } from '../../src/common/errors.js';
import { fromHex } from '../../src/common/bytes.js';
import type { SkCrypto } from '../../src/crypto/types.js';
import type { IkeMessage } from '../../src/ike/wire/types.js';
import { PayloadType as P } from '../../src/ike/wire/constants.js';
import {
  DecryptError,
  decodeDatagram,
  decodeHeader,
  decodeMessage,
  encodeMessage,
  encodePayloads,
  firstPayloadType,
  fragmentMessage,
} from '../../src/ike/wire/message.js';
import { buildSkMessage } from '../../src/ike/wire/sk.js';
import { encodeHeader } from '../../src/ike/wire/header.js';
import { checkRules } from '../../src/ike/wire/rules.js';
import { messageArb, sampleMessages } from '../helpers/wire-arb.js';
import { registrySk } from '../helpers/wire-sk.js';
import { AOSP_PSK_INIT, APPLE_CLIENT_INIT } from '../unit/ike/wire/vectors.js';

let datagrams = 0;
const outcomes = { ok: 0, parse: 0, decrypt: 0 };

function expected(e: unknown): boolean {
  return e instanceof ParseError || e instanceof DecryptError;
}

/** run one datagram through every entry point; rethrow anything unexpected */
function exercise(buf: Uint8Array, sk: SkCrypto | null): void {
  datagrams++;
  try {
    decodeHeader(buf);
  } catch (e) {
    if (!expected(e)) throw e;
  }
  for (const keys of sk ? [sk, null] : [null]) {
    try {
      const m = decodeMessage(buf, keys);
      const r = checkRules(m);
      if (!r.ok && typeof r.notify !== 'number') throw new Error('bad rule result');
      outcomes.ok++;
    } catch (e) {
      if (!expected(e)) throw e;
      if (e instanceof DecryptError) outcomes.decrypt++;
      else outcomes.parse++;
    }
  }
  if (sk) {
    try {
      decodeDatagram(buf, sk);
    } catch (e) {
      if (!expected(e)) throw e;
    }
  }
}

// ---- mutation ----------------------------------------------------------------------------

type Op =
  | { k: 'flip'; pos: number; bit: number }
  | { k: 'set'; pos: number; v: number }
  | { k: 'trunc'; pos: number }
  | { k: 'append'; junk: Uint8Array }
  | { k: 'splice'; pos: number; len: number }
  | { k: 'dup'; pos: number; len: number }
  | { k: 'u16'; pos: number; v: number; rel: number }
  | { k: 'u32'; pos: number; v: number };

const INTERESTING = [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 28, 40, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff];
const pos = fc.nat({ max: 1 << 16 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('flip' as const), pos, bit: fc.nat({ max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('set' as const), pos, v: fc.oneof(fc.constantFrom(...INTERESTING.filter((x) => x < 256)), fc.nat({ max: 255 })) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('trunc' as const), pos }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('append' as const), junk: fc.uint8Array({ minLength: 1, maxLength: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('splice' as const), pos, len: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('dup' as const), pos, len: fc.integer({ min: 1, max: 16 }) }) },
  // length-field edits: 16-bit writes with boundary values, or ± a little of what was there
  { weight: 4, arbitrary: fc.record({ k: fc.constant('u16' as const), pos, v: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat({ max: 0xffff })), rel: fc.integer({ min: -5, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('u32' as const), pos, v: fc.oneof(fc.constantFrom(0, 27, 28, 29, 0xffffffff), fc.nat()) }) },
);

/** offsets of length fields in a plaintext chain (header length, generic payload lengths) */
function lengthFieldOffsets(buf: Uint8Array): number[] {
  const out = [24];
  let off = 28;
  let next = buf[16] ?? 0;
  while (next !== 0 && off + 4 <= buf.length) {
    out.push(off + 2);
    const len = (buf[off + 2]! << 8) | buf[off + 3]!;
    if (next === P.SK || next === P.SKF || len < 4) break;
    // first substructure length inside SA / TS / etc. sits at body+2 for SA proposals
    if (next === P.SA) out.push(off + 6);
    next = buf[off]!;
    off += len;
  }
  return out;
}

function mutate(seed: Uint8Array, ops: Op[], fixLength: boolean, aimAtLengths: boolean): Uint8Array {
  let b = seed.slice();
  const fields = aimAtLengths ? lengthFieldOffsets(seed) : [];
  for (const op of ops) {
    const n = Math.max(1, b.length);
    switch (op.k) {
      case 'flip':
        if (b.length) b[op.pos % n]! ^= 1 << op.bit;
        break;
      case 'set':
        if (b.length) b[op.pos % n] = op.v;
        break;
      case 'trunc':
        b = b.slice(0, op.pos % (b.length + 1));
        break;
      case 'append': {
        const c = new Uint8Array(b.length + op.junk.length);
        c.set(b);
        c.set(op.junk, b.length);
        b = c;
        break;
      }
      case 'splice': {
        const p = op.pos % n;
        b = Uint8Array.from([...b.subarray(0, p), ...b.subarray(p + op.len)]);
        break;
      }
      case 'dup': {
        const p = op.pos % n;
        b = Uint8Array.from([...b.subarray(0, p + op.len), ...b.subarray(p)]);
        break;
      }
      case 'u16': {
        const p = fields.length ? fields[op.pos % fields.length]! : op.pos % n;
        if (p + 2 <= b.length) {
          const old = (b[p]! << 8) | b[p + 1]!;
          const v = op.rel !== 0 && op.pos % 2 === 0 ? (old + op.rel) & 0xffff : op.v;
          b[p] = v >> 8;
          b[p + 1] = v & 0xff;
        }
        break;
      }
      case 'u32': {
        const p = op.pos % 2 === 0 ? 24 : op.pos % n;
        if (p + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(p, op.v >>> 0);
        break;
      }
    }
  }
  if (fixLength && b.length >= 28) new DataView(b.buffer, b.byteOffset).setUint32(24, b.length);
  return b;
}

// ---- seeds -------------------------------------------------------------------------------

const gcm = registrySk('gcm');
const cbc = registrySk('cbc');
const samples = Object.values(sampleMessages());
const bigAuth: IkeMessage = {
  ...sampleMessages().authReq!,
  payloads: [...sampleMessages().authReq!.payloads, { type: P.CERT, body: new Uint8Array(1500).fill(7) }],
};
const plainSeeds: Uint8Array[] = [
  ...samples.map((m) => encodeMessage({ ...m, encrypted: false }, null)),
  fromHex(AOSP_PSK_INIT),
  fromHex(APPLE_CLIENT_INIT),
  ...fc.sample(messageArb(false), { numRuns: 40, seed: 42 }).map((m) => encodeMessage(m, null)),
];
const encSeeds: [Uint8Array, SkCrypto][] = [];
for (const sk of [gcm, cbc]) {
  for (const m of samples) if (m.encrypted) encSeeds.push([encodeMessage(m, sk), sk]);
  for (const f of fragmentMessage(bigAuth, sk, 400)) encSeeds.push([f, sk]);
}
const innerSeeds: IkeMessage[] = [...samples.filter((m) => m.encrypted), ...fc.sample(messageArb(true), { numRuns: 30, seed: 7 })];

const RUNS = { random: 20_000, headered: 20_000, plain: 32_000, encrypted: 14_000, inner: 16_000 };

describe('garbage in → only ParseError / DecryptError out', () => {
  afterAll(() => {
    // eslint-disable-next-line no-console
    console.log(`wire-garbage: ${datagrams} datagrams`, outcomes);
  });

  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (b, sk) => exercise(b, sk ? gcm : null)),
      { numRuns: RUNS.random },
    );
  });

  it('random payload chains behind a valid header', () => {
    const P_TYPES = [0, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 53, 1, 99, 200];
    fc.assert(
      fc.property(
        fc.constantFrom(...P_TYPES),
        fc.constantFrom(34, 35, 36, 37, 99),
        fc.boolean(),
        fc.uint8Array({ maxLength: 300 }),
        (next, exch, resp, body) => {
          const h = encodeHeader({
            spiI: new Uint8Array(8),
            spiR: new Uint8Array(8),
            nextPayload: next,
            majorVersion: 2,
            minorVersion: 0,
            exchangeType: exch,
            initiator: !resp,
            response: resp,
            version: false,
            messageId: 1,
            length: 28 + body.length,
          });
          const b = new Uint8Array(28 + body.length);
          b.set(h);
          b.set(body, 28);
          exercise(b, exch === 34 ? null : cbc);
        },
      ),
      { numRuns: RUNS.headered },
    );
  });

  it('mutated valid plaintext encodings', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(opArb, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        (i, ops, fix, aim) => exercise(mutate(plainSeeds[i % plainSeeds.length]!, ops, fix, aim), null),
      ),
      { numRuns: RUNS.plain },
    );
  });

  it('mutated valid SK / SKF encodings', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(opArb, { minLength: 1, maxLength: 3 }), fc.boolean(), (i, ops, fix) => {
        const [seed, sk] = encSeeds[i % encSeeds.length]!;
        exercise(mutate(seed, ops, fix, true), sk);
      }),
      { numRuns: RUNS.encrypted },
    );
  });

  it('valid SK envelopes around mutated inner payload chains (authenticated garbage)', () => {
    const inner = innerSeeds.map((m) => ({ header: m.header, first: firstPayloadType(m.payloads), bytes: encodePayloads(m.payloads) }));
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(opArb, { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 255 }),
        fc.boolean(),
        (i, ops, first, keepFirst) => {
          const s = inner[i % inner.length]!;
          const mutated = mutate(s.bytes, ops, false, false);
          const sk = i % 2 ? gcm : cbc;
          exercise(buildSkMessage(s.header, keepFirst ? s.first : first, mutated, sk), sk);
        },
      ),
      { numRuns: RUNS.inner },
    );
  });

  it('ran at least 100,000 datagrams, with every outcome represented', () => {
    expect(datagrams).toBeGreaterThanOrEqual(100_000);
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.parse).toBeGreaterThan(0);
    expect(outcomes.decrypt).toBeGreaterThan(0);
  });
});
