/**
 * ikegw ⇄ strongSwan 5.9.8 (kernel-libipsec) in network namespaces, both roles.
 * Each cell: IKE SA ESTABLISHED and CHILD_SA INSTALLED on strongSwan with the negotiated
 * algorithms, the same SPIs on ikegw, and the CHILD_SA keys ikegw derived equal the ones
 * strongSwan prints at log level 4. Also: NAT between them, and failures (wrong PSK, no
 * common proposal, unacceptable selectors) ending with the right notify on both sides while
 * the daemon keeps serving.
 *
 * Skipped loudly when not root or strongSwan is missing (IKEGW_INTEROP_REQUIRED=1 fails instead).
 */
import { expectedImpl } from '../unit/native/impl.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, ping, requireInterop, twoGateways, type TwoGateways } from './lib/netns.js';
import { StrongSwan, type ParsedSa } from './lib/strongswan.js';
import { Ikegw, type StatusSa } from './lib/ikegw.js';

const gate = requireInterop('ikegw ⇄ strongSwan interop', { strongswan: true });
const PSK = 'interop-secret-0123456789';

const ESP_NAMES: Record<string, { encr: string; keysize: number; integ?: string }> = {
  aes256gcm16: { encr: 'AES_GCM_16', keysize: 256 },
  chacha20poly1305: { encr: 'CHACHA20_POLY1305', keysize: 256 },
  'aes256-sha256': { encr: 'AES_CBC', keysize: 256, integ: 'HMAC_SHA2_256_128' },
};
const IKE_NAMES: Record<string, { encr: string; keysize: number; prf: string; dh: string; integ?: string }> = {
  'aes256gcm16-prfsha256-x25519': { encr: 'AES_GCM_16', keysize: 256, prf: 'PRF_HMAC_SHA2_256', dh: 'CURVE_25519' },
  'aes128gcm16-prfsha256-ecp256': { encr: 'AES_GCM_16', keysize: 128, prf: 'PRF_HMAC_SHA2_256', dh: 'ECP_256' },
  'aes256-sha256-modp2048': { encr: 'AES_CBC', keysize: 256, prf: 'PRF_HMAC_SHA2_256', dh: 'MODP_2048', integ: 'HMAC_SHA2_256_128' },
  'chacha20poly1305-prfsha512-ecp384': { encr: 'CHACHA20_POLY1305', keysize: 256, prf: 'PRF_HMAC_SHA2_512', dh: 'ECP_384' },
};

type Role = 'ikegw-initiates' | 'strongswan-initiates';
const CELLS: [Role, string, string][] = [
  ['ikegw-initiates', 'aes256gcm16-prfsha256-x25519', 'aes256gcm16'],
  ['strongswan-initiates', 'aes256gcm16-prfsha256-x25519', 'chacha20poly1305'],
  ['ikegw-initiates', 'aes128gcm16-prfsha256-ecp256', 'aes256-sha256'],
  ['strongswan-initiates', 'aes128gcm16-prfsha256-ecp256', 'aes256gcm16'],
  ['ikegw-initiates', 'aes256-sha256-modp2048', 'chacha20poly1305'],
  ['strongswan-initiates', 'aes256-sha256-modp2048', 'aes256-sha256'],
  ['ikegw-initiates', 'chacha20poly1305-prfsha512-ecp384', 'aes256gcm16'],
  ['strongswan-initiates', 'chacha20poly1305-prfsha512-ecp384', 'chacha20poly1305'],
];

const upSw = (sas: ParsedSa[]) => sas.length === 1 && sas[0]!.state === 'ESTABLISHED' && sas[0]!.children.some((c) => c.state === 'INSTALLED');
const upGw = (sas: StatusSa[]) => sas.length === 1 && sas[0]!.ike.state === 'established' && sas[0]!.children.length === 1;

describe.skipIf(!gate.ok)('ikegw ⇄ strongSwan', () => {
  let base = '';
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'ikt-gw-'));
  });
  afterAll(() => {
    if (base && !process.env['IKEGW_KEEP_LOGS']) rmSync(base, { recursive: true, force: true });
  });

  /** ikegw on gwA, strongSwan on gwB (optionally gwA behind NAT) */
  async function cell(label: string, role: Role, ike: string, esp: string, o: { nat?: boolean; swOnA?: boolean; v6?: boolean; inner?: 'v4' | 'v6'; iperfS?: number } = {}) {
    const net: TwoGateways = twoGateways({ nat: !!o.nat, ipv6Outer: !!o.v6 });
    const fam = o.inner ?? (o.v6 ? 'v6' : 'v4');
    const gw = new Ikegw();
    const sw = new StrongSwan();
    try {
      const { ns, outer } = net;
      // by default ikegw sits on gwA (behind the NAT when there is one)
      const gwSide = o.swOnA ? { ns: ns.gwB, local: outer.gwB, remote: outer.gwASeenByB, lts: net.net.lanB[fam], rts: net.net.lanA[fam] } : { ns: ns.gwA, local: outer.gwALocal, remote: outer.gwB, lts: net.net.lanA[fam], rts: net.net.lanB[fam] };
      const swSide = o.swOnA ? { ns: ns.gwA, local: outer.gwALocal, remote: outer.gwB, lts: net.net.lanA[fam], rts: net.net.lanB[fam] } : { ns: ns.gwB, local: outer.gwB, remote: outer.gwASeenByB, lts: net.net.lanB[fam], rts: net.net.lanA[fam] };
      await Promise.all([
        gw.start(gwSide.ns, join(base, `${label}-gw`), [{ local: gwSide.local, remote: gwSide.remote, localId: 'ikegw.test', remoteId: 'swan.test', psk: PSK, ike: [ike], esp: [esp], localTs: [gwSide.lts], remoteTs: [gwSide.rts] }]),
        sw.start({
          ns: swSide.ns,
          dir: join(base, `${label}-sw`),
          conf: { name: 'gw', localAddrs: swSide.local, remoteAddrs: swSide.remote, localId: 'swan.test', remoteId: 'ikegw.test', psk: PSK, proposals: ike, children: [{ name: 'net', espProposals: esp, localTs: [swSide.lts], remoteTs: [swSide.rts] }] },
        }),
      ]);
      if (role === 'ikegw-initiates') expect((await gw.ctl({ cmd: 'up', name: 'gw' })).ok).toBe(true);
      else sw.initiate('net');
      const [s] = await sw.waitFor(upSw, 10_000);
      const [g] = await gw.waitFor(upGw, 10_000);
      const want = IKE_NAMES[ike]!;
      expect(s).toMatchObject({ encrAlg: want.encr, prfAlg: want.prf, dhGroup: want.dh });
      // strongSwan prints no keysize for ChaCha20 (fixed 256-bit key)
      if (want.encr !== 'CHACHA20_POLY1305') expect(s!.encrKeysize).toBe(want.keysize);
      if (want.integ) expect(s!.integAlg).toBe(want.integ);
      expect(s!.initiator).toBe(role === 'strongswan-initiates');
      // ikegw shows the same IKE SPIs and CHILD SPIs
      expect(g!.ike.spiI).toBe(s!.spiI);
      expect(g!.ike.spiR).toBe(s!.spiR);
      const sc = s!.children[0]!;
      const gc = g!.children[0]!;
      const wantEsp = ESP_NAMES[esp]!;
      expect(sc).toMatchObject({ state: 'INSTALLED', mode: 'TUNNEL', protocol: 'ESP', encrAlg: wantEsp.encr });
      if (wantEsp.encr !== 'CHACHA20_POLY1305') expect(sc.encrKeysize).toBe(wantEsp.keysize);
      if (wantEsp.integ) expect(sc.integAlg).toBe(wantEsp.integ);
      expect(gc.spiIn).toBe(sc.spiOut);
      expect(gc.spiOut).toBe(sc.spiIn);
      // CHILD_SA keys ikegw derived == strongSwan's (log level 4)
      const swKeys = sw.keysFromLog().child.find((k) => k.spiIn === sc.spiIn || k.spiOut === sc.spiIn)!;
      expect(swKeys, 'strongSwan child keys in its log').toBeDefined();
      const ours = gw.espKeys();
      const ourOut = ours.get(gc.spiOut)!.encKey;
      const ourIn = ours.get(gc.spiIn)!.encKey;
      const ikegwIsInitiator = role === 'ikegw-initiates';
      expect(ourOut.toLowerCase()).toBe((ikegwIsInitiator ? swKeys.encrI : swKeys.encrR)!.toLowerCase());
      expect(ourIn.toLowerCase()).toBe((ikegwIsInitiator ? swKeys.encrR : swKeys.encrI)!.toLowerCase());
      if (wantEsp.integ) expect(ours.get(gc.spiOut)!.integKey.toLowerCase()).toBe((ikegwIsInitiator ? swKeys.integI : swKeys.integR)!.toLowerCase());
      // traffic through the tunnel, both ways (native data plane ⇄ strongSwan libipsec)
      const hostAddr = (h: { v4: string; v6: string }) => h[fam];
      const ab = ping(ns.hostA, hostAddr(net.addr.hostB), { count: 3, timeoutS: 3, intervalS: 0.2 });
      const ba = ping(ns.hostB, hostAddr(net.addr.hostA), { count: 3, timeoutS: 3, intervalS: 0.2 });
      expect(ab.received, `hostA → hostB\n${ab.output}`).toBeGreaterThanOrEqual(2);
      expect(ba.received, `hostB → hostA\n${ba.output}`).toBeGreaterThanOrEqual(2);
      // the native data plane carried it, on the implementation it should have picked
      const gc2 = (await gw.status()).sas[0]!.children[0]!;
      const encrId = { AES_GCM_16: 20, CHACHA20_POLY1305: 28, AES_CBC: 12 }[wantEsp.encr]!;
      for (const d of ['in', 'out'] as const) {
        expect(gc2.counters?.[d]?.packets, `ikegw ${d} packets`).toBeGreaterThanOrEqual(2);
        expect(gc2.counters?.[d]?.impl, `ikegw ${d} cipher implementation`).toBe(expectedImpl(encrId));
      }
      if (o.iperfS) {
        const srv = net.topo.spawnIn(ns.hostB, ['iperf3', '-s', '-1', '-B', hostAddr(net.addr.hostB)], { stdio: 'ignore' });
        await new Promise((r) => setTimeout(r, 300));
        const r = exec(ns.hostA, ['iperf3', '-c', hostAddr(net.addr.hostB), '-t', String(o.iperfS), '-J'], { timeoutMs: (o.iperfS + 15) * 1000 });
        srv.kill();
        const j = JSON.parse(r.stdout || '{}');
        const gbps = (j.end?.sum_received?.bits_per_second ?? 0) / 1e9;
        console.log(`[${label}] iperf3 ${o.iperfS} s: ${gbps.toFixed(3)} Gbit/s`);
        expect(gbps, r.stderr).toBeGreaterThan(0.01);
      }
      return { s: s!, g: g!, gw, sw, net };
    } finally {
      await gw.stop();
      await sw.stop();
      await net.teardown();
    }
  }

  for (const [role, ike, esp] of CELLS) {
    it(`${role}: IKE ${ike}, ESP ${esp}`, async () => {
      await cell(`${ike}-${esp}-${role}`.replace(/[^a-z0-9]/gi, '').slice(0, 40), role, ike, esp, { iperfS: 3 });
    }, 40_000);
  }

  it('inner IPv6 over IPv4 outer, with iperf3', async () => {
    const { g } = await cell('in6out4', 'ikegw-initiates', 'aes256gcm16-prfsha256-x25519', 'aes256gcm16', { inner: 'v6', iperfS: 3 });
    expect(g.ike.local.address).not.toContain(':');
    expect(g.children[0]!.localTs[0]).toContain(':');
  }, 40_000);

  it('inner IPv4 over IPv6 outer, with iperf3', async () => {
    const { g } = await cell('in4out6', 'strongswan-initiates', 'aes256gcm16-prfsha256-x25519', 'aes256gcm16', { v6: true, inner: 'v4', iperfS: 3 });
    expect(g.ike.local.address).toContain(':');
    expect(g.children[0]!.localTs[0]).not.toContain(':');
  }, 40_000);

  it('ikegw behind a NAT initiates: NAT detected on both sides, IKE_AUTH on 4500', async () => {
    const { s, g } = await cell('nat1', 'ikegw-initiates', 'aes256gcm16-prfsha256-x25519', 'aes256gcm16', { nat: true, iperfS: 3 });
    expect(g.ike.natLocal).toBe(true);
    expect(g.ike.local.port).toBe(4500);
    expect(g.ike.remote.port).toBe(4500);
    expect(s.natRemote).toBe(true);
    expect(s.remotePort).not.toBe(500);
    expect(s.localPort).toBe(4500);
  }, 40_000);

  it('IPv6 outer addresses, IPv6 selectors (ikegw initiates)', async () => {
    const { s, g } = await cell('v6a', 'ikegw-initiates', 'aes256gcm16-prfsha256-x25519', 'aes256gcm16', { v6: true });
    expect(g.ike.local.address).toContain(':');
    expect(s.remoteHost).toBe(g.ike.local.address);
    expect(g.children[0]!.localTs[0]).toContain(':');
  }, 40_000);

  it('IPv6 outer addresses (strongSwan initiates)', async () => {
    const { g } = await cell('v6b', 'strongswan-initiates', 'aes128gcm16-prfsha256-ecp256', 'chacha20poly1305', { v6: true });
    expect(g.ike.remote.address).toContain(':');
  }, 40_000);

  it('strongSwan behind a NAT initiates to ikegw: ikegw sees the peer behind NAT', async () => {
    const { s, g } = await cell('nat2', 'strongswan-initiates', 'aes256gcm16-prfsha256-x25519', 'aes256gcm16', { nat: true, swOnA: true, iperfS: 3 });
    expect(g.ike.natRemote).toBe(true);
    expect(g.ike.local.port).toBe(4500);
    expect(s.natLocal).toBe(true);
  }, 40_000);

  /**
   * The full matrix (`npm run test:interop -- --full`): roles × IKE groups × ESP suites × NAT,
   * each cell: tunnel up, ping both ways, 3 s of iperf3.
   */
  const FULL = process.env['IKEGW_FULL'] === '1';
  describe.skipIf(!FULL)('full matrix', () => {
    const IKE_FULL = ['aes256gcm16-prfsha256-x25519', 'aes128gcm16-prfsha256-ecp256', 'aes256-sha256-modp2048'];
    const ESP_FULL = ['aes256gcm16', 'chacha20poly1305', 'aes256-sha256'];
    for (const role of ['ikegw-initiates', 'strongswan-initiates'] as Role[])
      for (const ike of IKE_FULL)
        for (const esp of ESP_FULL)
          for (const nat of [false, true]) {
            // strongSwan behind the NAT when it initiates (a NAT only lets the inside start)
            it(`${role} ${ike} ${esp}${nat ? ' NAT' : ''}`, async () => {
              await cell(`f${ike}${esp}${role}${nat}`.replace(/[^a-z0-9]/gi, '').slice(0, 40), role, ike, esp, { nat, swOnA: nat && role === 'strongswan-initiates', iperfS: 3 });
            }, 60_000);
          }
  });
});

describe.skipIf(!gate.ok)('ikegw ⇄ strongSwan: failures end with the right notify, the daemon keeps serving', () => {
  let base = '';
  let net: TwoGateways;
  const gw = new Ikegw();
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'ikt-gwf-'));
    net = twoGateways({});
    await gw.start(net.ns.gwA, join(base, 'gw'), [
      { name: 'gw', local: net.outer.gwALocal, remote: net.outer.gwB, localId: 'ikegw.test', remoteId: 'swan.test', psk: PSK, ike: ['aes256gcm16-prfsha256-x25519'], esp: ['aes256gcm16'], localTs: [net.net.lanA.v4], remoteTs: [net.net.lanB.v4] },
    ]);
  }, 30_000);
  afterAll(async () => {
    await gw.stop();
    await net?.teardown();
    if (base && !process.env['IKEGW_KEEP_LOGS']) rmSync(base, { recursive: true, force: true });
  });

  async function attempt(label: string, over: { psk?: string; proposals?: string; esp?: string; remoteTs?: string; localTs?: string }, role: Role) {
    const sw = new StrongSwan();
    try {
      await sw.start({
        ns: net.ns.gwB,
        dir: join(base, label),
        conf: {
          name: 'gw',
          localAddrs: net.outer.gwB,
          remoteAddrs: net.outer.gwALocal,
          localId: 'swan.test',
          remoteId: 'ikegw.test',
          psk: over.psk ?? PSK,
          proposals: over.proposals ?? 'aes256gcm16-prfsha256-x25519',
          keyingtries: 1,
          children: [{ name: 'net', espProposals: over.esp ?? 'aes256gcm16', localTs: [over.localTs ?? net.net.lanB.v4], remoteTs: [over.remoteTs ?? net.net.lanA.v4] }],
        },
      });
      const before = gw.log().length;
      if (role === 'ikegw-initiates') await gw.ctl({ cmd: 'up', name: 'gw' });
      else sw.initiate('net', { check: false, timeoutS: 5 });
      const until = Date.now() + 8000;
      while (Date.now() < until && !/negotiation failed/.test(gw.log().slice(before))) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 300));
      await gw.ctl({ cmd: 'down', name: 'gw' });
      return { ours: gw.log().slice(before), theirs: sw.log() };
    } finally {
      await sw.stop();
    }
  }

  const cases: [string, Role, Parameters<typeof attempt>[1], string][] = [
    ['wrong PSK (strongSwan initiates)', 'strongswan-initiates', { psk: 'not-the-right-secret-9876' }, 'AUTHENTICATION_FAILED'],
    ['wrong PSK (ikegw initiates)', 'ikegw-initiates', { psk: 'not-the-right-secret-9876' }, 'AUTHENTICATION_FAILED'],
    ['no common IKE proposal (strongSwan initiates)', 'strongswan-initiates', { proposals: 'aes128-sha256-modp3072' }, 'NO_PROPOSAL_CHOSEN'],
    ['no common IKE proposal (ikegw initiates)', 'ikegw-initiates', { proposals: 'aes128-sha256-modp3072' }, 'NO_PROPOSAL_CHOSEN'],
    ['no common ESP proposal (strongSwan initiates)', 'strongswan-initiates', { esp: 'aes128-sha512' }, 'NO_PROPOSAL_CHOSEN'],
    ['unacceptable traffic selectors (strongSwan initiates)', 'strongswan-initiates', { localTs: '172.30.99.0/24' }, 'TS_UNACCEPTABLE'],
    ['unacceptable traffic selectors (ikegw initiates)', 'ikegw-initiates', { localTs: '172.30.99.0/24' }, 'TS_UNACCEPTABLE'],
  ];
  for (const [label, role, over, notify] of cases) {
    it(label, async () => {
      const { ours, theirs } = await attempt(label.replace(/[^a-z]/gi, '').slice(0, 30), over, role);
      expect(ours).toMatch(new RegExp(`"notify":"${notify}"`));
      expect(ours).toMatch(/negotiation failed/);
      // strongSwan names the same notify (sent or received; its logs abbreviate some names)
      const swName: Record<string, RegExp> = { AUTHENTICATION_FAILED: /AUTHENTICATION_FAILED|N\(AUTH_FAILED\)/, NO_PROPOSAL_CHOSEN: /NO_PROPOSAL_CHOSEN|N\(NO_PROP\)/, TS_UNACCEPTABLE: /TS_UNACCEPTABLE|N\(TS_UNACCEPT\)/ };
      expect(theirs).toMatch(swName[notify]!);
      expect(gw.alive()).toBe(true);
    }, 30_000);
  }

  it('serves a correct attempt afterwards', async () => {
    const sw = new StrongSwan();
    try {
      await sw.start({
        ns: net.ns.gwB,
        dir: join(base, 'good'),
        conf: { name: 'gw', localAddrs: net.outer.gwB, remoteAddrs: net.outer.gwALocal, localId: 'swan.test', remoteId: 'ikegw.test', psk: PSK, children: [{ name: 'net', espProposals: 'aes256gcm16', localTs: [net.net.lanB.v4], remoteTs: [net.net.lanA.v4] }] },
      });
      sw.initiate('net');
      await sw.waitFor(upSw, 10_000);
      await gw.waitFor(upGw, 10_000);
    } finally {
      await sw.stop();
    }
  }, 30_000);
});
