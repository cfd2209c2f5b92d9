/**
 * Two-site demo in network namespaces (`sudo npm run demo`):
 *
 *   hostA ── gwA (ikegw) ── NAT ── gwB (strongSwan, or ikegw if strongSwan is absent) ── hostB
 *   172.30.1.0/24                                                           172.30.2.0/24
 *
 * Builds the sites, starts both gateways, lets ikegw (behind the NAT) initiate, shows the
 * negotiated tunnel from both ends, tries a ping across, and tears everything down, also on
 * Ctrl-C. Nothing outside the namespaces it creates is touched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec, haveStrongSwan, isRoot, ping, twoGateways, type TwoGateways } from '../test/interop/lib/netns.js';
import { StrongSwan } from '../test/interop/lib/strongswan.js';
import { Ikegw } from '../test/interop/lib/ikegw.js';
import { formatStatus } from '../src/control/cli.js';

const PSK = 'demo-pre-shared-key-please-change';
const say = (s: string) => console.log(`\x1b[1m==> ${s}\x1b[0m`);

async function main(): Promise<number> {
  if (!isRoot()) {
    console.error('demo: needs root (network namespaces): run `sudo npm run demo`');
    return 2;
  }
  const useSwan = haveStrongSwan() && process.env['IKEGW_DEMO_PEER'] !== 'ikegw';
  const dir = mkdtempSync(join(tmpdir(), 'ikegw-demo-'));
  let net: TwoGateways | undefined;
  const a = new Ikegw();
  const bGw = new Ikegw();
  const bSw = new StrongSwan();
  const cleanup = async () => {
    await a.stop().catch(() => {});
    await bGw.stop().catch(() => {});
    await bSw.stop().catch(() => {});
    await net?.teardown().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  let interrupted = false;
  process.on('SIGINT', () => {
    interrupted = true;
    console.log('\ninterrupted: tearing down');
    cleanup().then(() => process.exit(130));
  });
  try {
    say('building two sites in network namespaces (gwA behind a masquerading NAT)');
    net = twoGateways({ nat: true });
    const { ns, outer } = net;
    console.log(`    hostA ${net.addr.hostA.v4} -- gwA ${outer.gwALocal} -- NAT ${outer.gwASeenByB} -- gwB ${outer.gwB} -- hostB ${net.addr.hostB.v4}`);
    const ike = 'aes256gcm16-prfsha256-x25519';
    const esp = 'aes256gcm16';
    say(`starting gwB: ${useSwan ? 'strongSwan (charon, kernel-libipsec)' : 'ikegw (strongSwan not installed)'}`);
    if (useSwan) {
      await bSw.start({
        ns: ns.gwB,
        dir: join(dir, 'b'),
        conf: { name: 'site-a', localAddrs: outer.gwB, remoteAddrs: outer.gwASeenByB, localId: 'site-b.demo', remoteId: 'site-a.demo', psk: PSK, proposals: ike, children: [{ name: 'lan', espProposals: esp, localTs: [net.net.lanB.v4], remoteTs: [net.net.lanA.v4] }] },
      });
    } else {
      await bGw.start(ns.gwB, join(dir, 'b'), [{ name: 'site-a', local: outer.gwB, remote: outer.gwASeenByB, localId: 'site-b.demo', remoteId: 'site-a.demo', psk: PSK, ike: [ike], esp: [esp], localTs: [net.net.lanB.v4], remoteTs: [net.net.lanA.v4] }], { logLevel: 'warn' });
    }
    say('starting gwA: ikegw, start_action: start');
    const t0 = Date.now();
    await a.start(ns.gwA, join(dir, 'a'), [{ name: 'site-b', local: outer.gwALocal, remote: outer.gwB, localId: 'site-a.demo', remoteId: 'site-b.demo', psk: PSK, ike: [ike], esp: [esp], localTs: [net.net.lanA.v4], remoteTs: [net.net.lanB.v4], startAction: 'start' }], { logLevel: 'warn' });
    await a.waitFor((s) => s.length === 1 && s[0]!.ike.state === 'established' && s[0]!.children.length === 1, 15_000);
    say(`tunnel up ${Date.now() - t0} ms after starting ikegw — ikegw status on gwA:`);
    console.log(formatStatus((await a.status()) as unknown as Parameters<typeof formatStatus>[0]));
    if (useSwan) {
      const [s] = bSw.listSas();
      say('strongSwan on gwB sees:');
      console.log(`    ${s?.name}: ${s?.state} ${s?.encrAlg}-${s?.encrKeysize}/${s?.prfAlg}/${s?.dhGroup} spis ${s?.spiI}_i ${s?.spiR}_r nat-remote=${s?.natRemote}`);
      for (const c of s?.children ?? []) console.log(`      ${c.name}: ${c.state} ESP ${c.encrAlg} spi-in ${c.spiIn} spi-out ${c.spiOut} ${c.localTs.join(',')} === ${c.remoteTs.join(',')}`);
    }
    say(`ping hostA → hostB (${net.addr.hostB.v4}) through the tunnel`);
    const p = ping(ns.hostA, net.addr.hostB.v4, { count: 3, timeoutS: 3 });
    console.log(`    hostA → hostB: ${p.received}/${p.transmitted} replies${p.ok ? `, avg ${p.avgRttMs} ms` : ''}`);
    const back = ping(ns.hostB, net.addr.hostA.v4, { count: 3, timeoutS: 3 });
    console.log(`    hostB → hostA: ${back.received}/${back.transmitted} replies`);
    if (p.ok && exec(null, ['sh', '-c', 'command -v iperf3']).code === 0) {
      say('5 s TCP throughput hostA → hostB (iperf3) through the tunnel');
      const srv = net.topo.spawnIn(ns.hostB, ['iperf3', '-s', '-1', '-B', net.addr.hostB.v4], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 500));
      const r = exec(ns.hostA, ['iperf3', '-c', net.addr.hostB.v4, '-t', '5', '-J'], { timeoutMs: 20_000 });
      try {
        const j = JSON.parse(r.stdout);
        console.log(`    ${(j.end.sum_received.bits_per_second / 1e9).toFixed(2)} Gbit/s received, ${j.end.sum_sent.retransmits ?? 0} retransmits`);
      } catch {
        console.log(`    iperf3 failed: ${r.stderr.slice(0, 200)}`);
      }
      srv.kill();
    }
    say('tearing down');
    return 0;
  } catch (e) {
    console.error(`demo failed: ${e instanceof Error ? e.message : e}`);
    return 1;
  } finally {
    if (!interrupted) await cleanup();
  }
}

main().then((c) => process.exit(c));
