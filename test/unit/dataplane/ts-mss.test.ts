/** The TS data plane's MSS clamp choice (src/dataplane/ts.ts mssFor), same rule as the native clampFor. */
import { describe, expect, it } from 'vitest';
import { mssFor } from '../../../src/dataplane/ts.js';

const v4 = Uint8Array.of(0x45);
const v6 = Uint8Array.of(0x60);

describe('TS data plane MSS clamp', () => {
  it("auto: limit − 40 for IPv4, − 60 for IPv6; the limit is maxPacket, else the MTU", () => {
    expect(mssFor({ mssClamp: 'auto', mtu: 1400 }, v4)).toBe(1360);
    expect(mssFor({ mssClamp: 'auto', mtu: 1400 }, v6)).toBe(1340);
    expect(mssFor({ mssClamp: 'auto', mtu: 1400, maxPacket: 1300 }, v4)).toBe(1260);
  });
  it('a configured value applies to both families; 0 = off', () => {
    expect(mssFor({ mssClamp: 1200, mtu: 1400 }, v4)).toBe(1200);
    expect(mssFor({ mssClamp: 1200, mtu: 1400 }, v6)).toBe(1200);
    expect(mssFor({ mssClamp: 0, mtu: 1400 }, v6)).toBe(0);
  });
});
