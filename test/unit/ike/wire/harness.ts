/** Shared round-trip / malformed-input harness for the wire codec unit tests. */
import { expect } from 'vitest';
import { ParseError } from '../../../../src/common/errors.js';
import type { Payload } from '../../../../src/ike/wire/types.js';
import { bodyLength, decodePayloads, encodePayloads, payloadTypeOf } from '../../../../src/ike/wire/payloads.js';

/** decode(encode(p)) deep-equals p, and the length computed up front equals the bytes written */
export function roundTrip(p: Payload): Uint8Array {
  const bytes = encodePayloads([p]);
  expect(bytes.length).toBe(4 + bodyLength(p));
  expect((bytes[2]! << 8) | bytes[3]!).toBe(bytes.length);
  const out = decodePayloads(payloadTypeOf(p), bytes);
  expect(out).toHaveLength(1);
  expect(out[0]).toEqual(p);
  return bytes;
}

/** a single payload with the given body (generic header: next 0, length computed) */
export function wrap(body: Uint8Array | string, critical = false): Uint8Array {
  const b = typeof body === 'string' ? hexb(body) : body;
  const out = new Uint8Array(4 + b.length);
  out[1] = critical ? 0x80 : 0;
  out[2] = (out.length >> 8) & 0xff;
  out[3] = out.length & 0xff;
  out.set(b, 4);
  return out;
}

export function hexb(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/[\s_]/g, ''), 'hex'));
}

export function catchParse(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw new Error(`expected ParseError, got ${String(e)}`);
  }
  throw new Error('expected ParseError, nothing thrown');
}

export interface BadCase {
  name: string;
  type: number;
  body: string;
  layer: string;
  detail?: RegExp;
}

export function expectBad(c: BadCase): ParseError {
  const e = catchParse(() => decodePayloads(c.type, wrap(c.body)));
  expect(e.layer).toBe(c.layer);
  if (c.detail) expect(e.message).toMatch(c.detail);
  return e;
}
