import { it } from 'vitest';
import { makePair } from '../helpers/sim.js';
import { decodeHeader } from '../../src/ike/wire/message.js';
it('dbg', () => {
  const FAST = `    child_lifetime: { rekey_time: 60s, life_time: 90s, jitter: 0% }`;
  const p = makePair({ extra: FAST }, { extra: FAST, localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] });
  p.initiate(); p.run();
  p.advance(59_999);
  const orig = [p.a.rng, p.b.rng].map((r) => r.bytes.bind(r));
  for (const [i, r] of [p.a.rng, p.b.rng].entries()) { const o = orig[i]!; r.bytes = (n: number) => { const b = o(n); if (n === 32) console.log(i ? 'B' : 'A', 'nonce', b[0]); return b; }; }
  p.a.rng.nextFirstByte = 0; p.b.rng.nextFirstByte = 0x80;
  p.beforeDeliver = (to, bytes) => { const h = decodeHeader(bytes); console.log('deliver to', to.name, h.exchangeType, h.response, h.messageId); if (h.exchangeType === 36 && !h.response) to.rng.nextFirstByte = to === p.a ? 0x90 : 0xa0; };
  p.advance(1);
  for (const s of [p.a, p.b]) console.log(s.name, s.events.filter((e) => e.type === 'log').map((e) => (e as any).msg).slice(-8));
});
