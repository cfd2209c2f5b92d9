/**
 * fast-check: decode(encode(x)) ≡ x and encodingLength ≡ bytes written, for every payload
 * type, whole plaintext messages, SK-encrypted messages (AES-GCM and AES-CBC+HMAC) and
 * RFC 7383 fragment sets reassembled in random order.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { IkeMessage } from '../../src/ike/wire/types.js';
import { PayloadType as P } from '../../src/ike/wire/constants.js';
import {
  FragmentReassembler,
  decodeFragment,
  decodeMessage,
  encodeMessage,
  encodingLength,
  firstPayloadType,
  fragmentMessage,
  messageFromReassembled,
} from '../../src/ike/wire/message.js';
import { bodyLength, decodePayloads, encodePayloads, payloadTypeOf } from '../../src/ike/wire/payloads.js';
import { messageArb, payloadArbs } from '../helpers/wire-arb.js';
import { registrySk, type SkKind } from '../helpers/wire-sk.js';

const wireHeader = (m: IkeMessage, bytes: Uint8Array) => ({
  ...m.header,
  nextPayload: m.encrypted ? P.SK : firstPayloadType(m.payloads),
  length: bytes.length,
});

describe('payload round trip', () => {
  for (const [name, arb] of Object.entries(payloadArbs)) {
    it(name, () => {
      fc.assert(
        fc.property(arb, (p) => {
          const bytes = encodePayloads([p]);
          expect(bytes.length).toBe(4 + bodyLength(p));
          expect(decodePayloads(payloadTypeOf(p), bytes)).toEqual([p]);
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('message round trip', () => {
  it('plaintext', () => {
    fc.assert(
      fc.property(messageArb(false), (m) => {
        const bytes = encodeMessage(m, null);
        expect(bytes.length).toBe(encodingLength(m));
        expect(decodeMessage(bytes, null)).toEqual({ ...m, header: wireHeader(m, bytes) });
      }),
      { numRuns: 400 },
    );
  });

  for (const kind of ['gcm', 'cbc'] as SkKind[]) {
    it(`SK ${kind}`, () => {
      const sk = registrySk(kind);
      fc.assert(
        fc.property(messageArb(true), (m) => {
          const bytes = encodeMessage(m, sk);
          expect(bytes.length).toBe(encodingLength(m, sk));
          expect(decodeMessage(bytes, sk)).toEqual({ ...m, header: wireHeader(m, bytes) });
        }),
        { numRuns: 200 },
      );
    });

    it(`SKF ${kind}: fragments fit, reassemble in any order`, () => {
      const sk = registrySk(kind);
      fc.assert(
        fc.property(messageArb(true), fc.integer({ min: 150, max: 1500 }), fc.integer(), (m, max, seed) => {
          const frags = fragmentMessage(m, sk, max);
          for (const f of frags) expect(f.length).toBeLessThanOrEqual(max);
          if (frags.length === 1) {
            expect(decodeMessage(frags[0]!, sk).payloads).toEqual(m.payloads);
            return;
          }
          // deterministic shuffle + one duplicate
          const order = frags.map((_, i) => i).sort((a, b) => ((a * 7919 + seed) % 31) - ((b * 7919 + seed) % 31));
          order.push(order[0]!);
          const r = new FragmentReassembler({ maxFragments: 1000, maxBytes: 1 << 20 });
          let done;
          for (const i of order) done = r.add(decodeFragment(frags[i]!, sk)) ?? done;
          expect(done).toBeDefined();
          const msg = messageFromReassembled(done!);
          expect(msg.payloads).toEqual(m.payloads);
          expect(msg.header).toEqual({ ...m.header, nextPayload: P.SKF, length: frags[0]!.length });
        }),
        { numRuns: 60 },
      );
    });
  }
});
