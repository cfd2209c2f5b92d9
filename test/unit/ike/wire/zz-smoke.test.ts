import { test } from 'vitest';
import { fromHex } from '../../../../src/common/bytes.js';
import { decodeMessage } from '../../../../src/ike/wire/message.js';
import { checkRules } from '../../../../src/ike/wire/rules.js';
test('x', () => {
  const a = fromHex("5f54bf6d8b48e6e1000000000000000021202208" + "0000000000000150220000300000002c01010004" + "0300000c0100000c800e00800300000803000002" + "0300000804000002000000080200000228000088" + "00020000b4a2faf4bb54878ae21d638512ece55d" + "9236fc5046ab6cef82220f421f3ce6361faf3656" + "4ecb6d28798a94aad7b2b4b603ddeaaa5630adb9" + "ece8ac37534036040610ebdd92f46bef84f0be7d" + "b860351843858f8acf87056e272377f70c9f2d81" + "e29c7b0ce4f291a3a72476bb0b278fd4b7b0a4c2" + "6bbeb08214c707137607958729000024c39b7f36" + "8f4681b89fa9b7be6465abd7c5f68b6ed5d3b4c7" + "2cb4240eb5c464122900001c00004004e54f73b7" + "d83f6beb881eab2051d8663f421d10b02b00001c" + "00004005d915368ca036004cb578ae3e3fb26850" + "9aeab19000000020699369228741c6d4ca094c93" + "e242c9de19e7b7c60000000500000500");
  const m = decodeMessage(a, null);
  console.log(JSON.stringify(m, (k, v) => v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v, 1).slice(0, 3000), checkRules(m));
});
