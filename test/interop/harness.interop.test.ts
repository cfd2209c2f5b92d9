/**
 * Validates the interop harness itself: strongSwan ⇄ strongSwan in the twoGateways topology
 * (plain and behind NAT). If these pass, the harness (namespaces, charon recipe, swanctl
 * parsing, key extraction, tunnel routing) can be trusted by the ikegw interop tests.
 *
 * Skipped LOUDLY (console.warn) when not root or strongSwan is missing; set
 * IKEGW_INTEROP_REQUIRED=1 to make that a failure instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ping, requireInterop, twoGateways, type TwoGateways } from './lib/netns.js';
import { parseKeysFromLog, StrongSwan, swanctlConf, type ParsedSa } from './lib/strongswan.js';
import { parseListSas } from './lib/vici-dump.js';

// ---------------------------------------------------------------------------------------------
// Pure parser tests (always run)
// ---------------------------------------------------------------------------------------------

const RAW =
  'list-sa event {gw {uniqueid=1 version=2 state=ESTABLISHED local-host=172.30.0.1 local-port=4500 local-id=gwa ' +
  'remote-host=172.30.0.2 remote-port=4500 remote-id=C=CH, O=Test, CN=gw b initiator=yes initiator-spi=d4a32106c13fcdae ' +
  'responder-spi=3cb09e5e8865e036 nat-remote=yes nat-any=yes encr-alg=AES_GCM_16 encr-keysize=256 prf-alg=PRF_HMAC_SHA2_256 ' +
  'dh-group=CURVE_25519 established=0 rekey-time=13153 child-sas {net-1 {name=net uniqueid=1 reqid=1 state=INSTALLED mode=TUNNEL ' +
  'protocol=ESP encap=yes spi-in=4044b109 spi-out=f4ee7792 encr-alg=AES_GCM_16 encr-keysize=256 bytes-in=0 packets-in=0 ' +
  'bytes-out=0 packets-out=0 rekey-time=3336 life-time=3960 install-time=0 local-ts=[10.1.0.0/24 fd00::/64] remote-ts=[10.2.0.0/24]}}}}\n' +
  'list-sas reply {}\n';

const LOG = `1795430624 15[IKE] SKEYSEED => 4 bytes @ 0x7fd05c00a660
1795430624 15[IKE]    0: 03 FE 9C 43                                      ...C
1795430624 16[IKE] unrelated line from another thread
1795430624 15[IKE] Sk_ei secret => 20 bytes @ 0x7fd05c00a5d0
1795430624 16[IKE]    0: 99 99 99 99                                      ....
1795430624 15[IKE]    0: 34 5E 52 B5 5B 95 93 AC 4A 6C 69 D5 19 75 AA D4  4^R.[...Jli..u..
1795430624 15[IKE]   16: 5C BC 4C 83                                      \\.L.
1795430624 01[CHD] encryption initiator key => 2 bytes @ 0x7fd06c002a10
1795430624 01[CHD]    0: 52 B8                                            AB
1795430624 01[CHD] encryption responder key => 2 bytes @ 0x7fd06c0028a0
1795430624 01[CHD]    0: 68 F4                                            h.
1795430624 01[CHD] adding inbound ESP SA
1795430624 01[CHD]   SPI 0x4044b109, src 172.30.0.2 dst 172.30.0.1
1795430624 01[CHD] adding outbound ESP SA
1795430624 01[CHD]   SPI 0xf4ee7792, src 172.30.0.1 dst 172.30.0.2
`;

describe('interop harness parsers', () => {
  it('parses swanctl --list-sas --raw (incl. a DN with spaces and lists)', () => {
    const [sa, ...rest] = parseListSas(RAW);
    expect(rest).toHaveLength(0);
    expect(sa).toMatchObject({
      name: 'gw',
      state: 'ESTABLISHED',
      remoteId: 'C=CH, O=Test, CN=gw b',
      localPort: 4500,
      spiI: 'd4a32106c13fcdae',
      natRemote: true,
      natLocal: false,
      encrKeysize: 256,
      dhGroup: 'CURVE_25519',
    });
    expect(sa!.children[0]).toMatchObject({
      key: 'net-1',
      name: 'net',
      state: 'INSTALLED',
      spiIn: '4044b109',
      encap: true,
      localTs: ['10.1.0.0/24', 'fd00::/64'],
      remoteTs: ['10.2.0.0/24'],
    });
  });

  it('extracts keys from interleaved ike=4/chd=4 log lines', () => {
    const k = parseKeysFromLog(LOG);
    expect(k.ike).toEqual([{ thread: 15, skeyseed: '03fe9c43', skEi: '345e52b55b9593ac4a6c69d51975aad45cbc4c83' }]);
    expect(k.child).toEqual([{ thread: 1, encrI: '52b8', encrR: '68f4', spiIn: '4044b109', spiOut: 'f4ee7792' }]);
  });

  it('renders swanctl.conf', () => {
    const s = swanctlConf({ localAddrs: '1.1.1.1', remoteAddrs: '%any', psk: 'x', children: [{ name: 'c', localTs: 'a', remoteTs: ['b', 'c'] }] });
    expect(s).toContain('remote_ts = b,c');
    expect(s).toContain('secret = "x"');
  });
});

// ---------------------------------------------------------------------------------------------
// strongSwan ⇄ strongSwan in namespaces
// ---------------------------------------------------------------------------------------------

const gate = requireInterop('harness.interop.test.ts (strongSwan ⇄ strongSwan)', { commands: ['nft', 'ping'] });

describe.skipIf(!gate.ok)('interop harness: strongSwan ⇄ strongSwan', () => {
  const base = gate.ok ? mkdtempSync(join(tmpdir(), 'ikt-h-')) : '';
  let failed = false;
  afterAll(() => {
    if (failed || process.env['IKEGW_KEEP_LOGS'] === '1') console.warn(`interop logs kept in ${base}`);
    else if (base) rmSync(base, { recursive: true, force: true });
  });

  const PSK = 'harness-secret-0123456789';

  /**
   * @param nat gwA behind a masquerading NAT with random source ports
   * @param v6 IPv6 outer addresses and dual-stack traffic selectors (v4 + v6 LANs)
   */
  async function scenario(label: string, nat: boolean, v6 = false): Promise<void> {
    const t0 = Date.now();
    const mark = (what: string) => console.log(`[${label}] ${what}: ${Date.now() - t0} ms`);
    let net: TwoGateways | undefined;
    const swA = new StrongSwan();
    const swB = new StrongSwan();
    try {
      net = twoGateways({ nat, natRandomPorts: nat, ipv6Outer: v6 });
      mark('topology up');
      const { ns, addr, outer } = net;

      // sanity: without the tunnel the LANs cannot reach each other
      expect(ping(ns.hostA, addr.hostB.v4, { count: 1, timeoutS: 1 }).ok).toBe(false);

      const child = { name: 'net', espProposals: 'aes256gcm16' };
      const ts = (d: { v4: string; v6: string }) => (v6 ? [d.v4, d.v6] : [d.v4]);
      await Promise.all([
        swA.start({
          ns: ns.gwA,
          dir: join(base, `${label}-a`),
          conf: {
            name: 'gw',
            localAddrs: outer.gwALocal,
            remoteAddrs: outer.gwB,
            localId: 'gwa.test',
            remoteId: 'gwb.test',
            psk: PSK,
            proposals: 'aes256gcm16-prfsha256-x25519',
            children: [{ ...child, localTs: ts(net.net.lanA), remoteTs: ts(net.net.lanB) }],
          },
        }),
        swB.start({
          ns: ns.gwB,
          dir: join(base, `${label}-b`),
          conf: {
            name: 'gw',
            localAddrs: outer.gwB,
            remoteAddrs: outer.gwASeenByB,
            localId: 'gwb.test',
            remoteId: 'gwa.test',
            psk: PSK,
            proposals: 'aes256gcm16-prfsha256-x25519',
            children: [{ ...child, localTs: ts(net.net.lanB), remoteTs: ts(net.net.lanA) }],
          },
        }),
      ]);
      mark('both charons loaded');

      swA.initiate('net');
      mark('initiated');
      const up = (sas: ParsedSa[]) => sas.length === 1 && sas[0]!.state === 'ESTABLISHED' && sas[0]!.children.some((c) => c.state === 'INSTALLED');
      const [a] = await swA.waitFor(up, 5000);
      const [b] = await swB.waitFor(up, 5000);
      mark('both ESTABLISHED/INSTALLED');

      // IKE SA
      for (const sa of [a!, b!]) {
        expect(sa).toMatchObject({ version: 2, encrAlg: 'AES_GCM_16', encrKeysize: 256, prfAlg: 'PRF_HMAC_SHA2_256', dhGroup: 'CURVE_25519' });
        expect(sa.integAlg).toBeUndefined();
        expect(sa.localPort).toBe(4500); // NAT-T float (libipsec always fakes NAT-D)
      }
      expect(a!.initiator).toBe(true);
      expect(b!.initiator).toBe(false);
      expect(a!.spiI).toMatch(/^[0-9a-f]{16}$/);
      expect(a!.spiI).toBe(b!.spiI);
      expect(a!.spiR).toBe(b!.spiR);
      expect(a!.localId).toBe('gwa.test');
      expect(b!.remoteId).toBe('gwa.test');
      // libipsec fakes its own NAT-D hash => each side believes the *other* is behind NAT
      expect(a!.natRemote).toBe(true);
      expect(b!.natRemote).toBe(true);
      expect(b!.remoteHost).toBe(outer.gwASeenByB);
      if (nat) {
        // the real NAT: gwA's own address was rewritten
        expect(a!.natLocal).toBe(true);
        expect(b!.remoteHost).toBe(v6 ? addr.natOut!.v6 : addr.natOut!.v4);
        expect(b!.remotePort).not.toBe(4500); // masquerade random
      } else {
        expect(a!.natLocal).toBe(false);
        expect(b!.remotePort).toBe(4500);
      }

      // CHILD SA
      const ca = a!.children[0]!;
      const cb = b!.children[0]!;
      for (const c of [ca, cb]) {
        expect(c).toMatchObject({ name: 'net', state: 'INSTALLED', mode: 'TUNNEL', protocol: 'ESP', encap: true, encrAlg: 'AES_GCM_16', encrKeysize: 256 });
      }
      expect(ca.spiIn).toMatch(/^[0-9a-f]{8}$/);
      expect(ca.spiIn).toBe(cb.spiOut);
      expect(ca.spiOut).toBe(cb.spiIn);
      expect(ca.localTs).toEqual(ts(net.net.lanA));
      expect(ca.remoteTs).toEqual(ts(net.net.lanB));
      expect(cb.localTs).toEqual(ts(net.net.lanB));

      // the pretty dump parses to the same thing
      const strip = (sas: ParsedSa[]) => sas.map((s) => ({ ...s, raw: null, children: s.children.map((c) => ({ ...c, raw: null })) }));
      expect(strip(swA.listSas('pretty'))).toEqual(strip([a!]));

      // keys from both logs agree
      const ka = swA.keysFromLog();
      const kb = swB.keysFromLog();
      expect(ka.ike).toHaveLength(1);
      expect(kb.ike).toHaveLength(1);
      const ikeA = ka.ike[0]!;
      const ikeB = kb.ike[0]!;
      expect(ikeA.skeyseed).toMatch(/^[0-9a-f]{64}$/);
      expect(ikeA.skEi).toMatch(/^[0-9a-f]{72}$/); // AES-256 key + 4-byte GCM salt
      expect(ikeA.skAi).toBeUndefined(); // AEAD: no integrity keys
      for (const f of ['dhSecret', 'skeyseed', 'skD', 'skEi', 'skEr', 'skPi', 'skPr'] as const) {
        expect(ikeA[f], f).toBeDefined();
        expect(ikeA[f], f).toBe(ikeB[f]);
      }
      expect(ka.child).toHaveLength(1);
      expect(kb.child).toHaveLength(1);
      const chA = ka.child[0]!;
      const chB = kb.child[0]!;
      expect(chA.encrI).toMatch(/^[0-9a-f]{72}$/);
      expect(chA.encrI).toBe(chB.encrI);
      expect(chA.encrR).toBe(chB.encrR);
      expect(chA.encrI).not.toBe(chA.encrR);
      expect(chA.spiIn).toBe(ca.spiIn);
      expect(chA.spiOut).toBe(ca.spiOut);
      expect(chB.spiIn).toBe(cb.spiIn);
      mark('SAs and keys checked');

      // traffic through the tunnel: libipsec routes to the far LAN in table 220 via ipsec0,
      // src = the gateway's LAN address (inside the local TS)
      const r220 = net.topo.exec(ns.gwA, ['ip', 'route', 'show', 'table', '220']).stdout;
      expect(r220).toContain(`${net.net.lanB.v4} dev ipsec0`);
      expect(r220).toContain(`src ${addr.gwALan.v4}`);
      const p = ping(ns.hostA, addr.hostB.v4, { count: 3, timeoutS: 5 });
      expect(p.received, p.output).toBe(3);
      // the gateway itself also reaches the far LAN (its route src lies inside the local TS)
      expect(ping(ns.gwA, addr.hostB.v4, { count: 1, timeoutS: 3 }).ok).toBe(true);
      // full-size packet: ipsec0 MTU is 1400 => 1372 bytes of ICMP payload with DF
      expect(ping(ns.hostA, addr.hostB.v4, { count: 1, timeoutS: 3, size: 1372, df: true }).ok).toBe(true);
      if (v6) {
        const r220v6 = net.topo.exec(ns.gwA, ['ip', '-6', 'route', 'show', 'table', '220']).stdout;
        expect(r220v6).toContain(`${net.net.lanB.v6} dev ipsec0`);
        const p6 = ping(ns.hostA, addr.hostB.v6, { count: 2, timeoutS: 5 });
        expect(p6.received, p6.output).toBe(2);
        expect(ping(ns.hostA, addr.hostB.v6, { count: 1, timeoutS: 3, size: 1352, df: true }).ok).toBe(true);
      }
      mark('pings through tunnel');
      const [b2] = swB.listSas();
      expect(b2!.children[0]!.packetsIn).toBeGreaterThanOrEqual(5);
      expect(b2!.children[0]!.packetsOut).toBeGreaterThanOrEqual(5);

      // terminate from A; B follows via the DELETE
      swA.terminate('gw');
      await swB.waitFor((sas) => sas.length === 0, 5000);
      expect(swA.listSas()).toHaveLength(0);
      mark('terminated');
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      await Promise.all([swA.stop(), swB.stop()]);
      await net?.teardown();
      mark('torn down');
    }
  }

  it('tunnel without NAT', () => scenario('plain', false), 30_000);
  it('tunnel with gwA behind NAT (random ports)', () => scenario('nat', true), 30_000);
  it('IPv6 outer, dual-stack traffic selectors', () => scenario('v6', false, true), 30_000);
  it('IPv6 outer behind NAT66, dual-stack traffic selectors', () => scenario('v6nat', true, true), 30_000);
});
