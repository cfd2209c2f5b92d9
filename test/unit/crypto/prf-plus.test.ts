/** prf+ (RFC 7296 §2.13). NIST SP 800-135 DKM vectors run in test/unit/ike/keymat.test.ts. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat, hex, utf8 } from '../../../src/common/bytes.js';
import { prfPlus } from '../../../src/crypto/prf-plus.js';
import { BACKENDS, PRF, getPrf } from '../../../src/crypto/registry.js';

describe.each(BACKENDS)('prf+ (%s backend)', (backend) => {
  const prf = getPrf(PRF.HMAC_SHA2_256, backend);
  const K = utf8('key');
  const S = utf8('seed');

  it('is T1 | T2 | T3 … with Tn = prf(K, Tn-1 | S | n)', () => {
    const t1 = prf.compute(K, concat(S, new Uint8Array([1])));
    const t2 = prf.compute(K, concat(t1, S, new Uint8Array([2])));
    const t3 = prf.compute(K, concat(t2, S, new Uint8Array([3])));
    expect(hex(prfPlus(prf, K, S, 80))).toBe(hex(concat(t1, t2, t3)).slice(0, 160));
    expect(hex(prfPlus(prf, K, S, 32))).toBe(hex(t1));
  });

  it('handles length 0 and the 255 × outLen limit', () => {
    expect(prfPlus(prf, K, S, 0).length).toBe(0);
    expect(prfPlus(prf, K, S, 255 * 32).length).toBe(255 * 32);
    expect(() => prfPlus(prf, K, S, 255 * 32 + 1)).toThrow(RangeError);
    expect(() => prfPlus(prf, K, S, -1)).toThrow(RangeError);
    expect(() => prfPlus(prf, K, S, 1.5)).toThrow(RangeError);
  });

  it('shorter outputs are prefixes of longer ones', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 80 }), fc.nat(300), fc.nat(300), (k, s, a, b) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect(prfPlus(prf, k, s, hi).subarray(0, lo)).toEqual(prfPlus(prf, k, s, lo));
      }),
      { numRuns: 50 },
    );
  });
});
