import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/common/errors.js';
import { ConfigValidationError, loadConfigFile, parseConfig } from '../../../src/config/load.js';
import { formatEspProposal, formatIkeProposal } from '../../../src/config/proposals.js';
import { parseByteCount, parseDuration, parsePercent } from '../../../src/config/schema.js';
import { IdType } from '../../../src/ike/wire/constants.js';

let dir: string;
const PSK = 'correct horse battery staple';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ikegw-conf-'));
  for (const [f, text, mode] of [
    ['site-b.psk', `${PSK}\n`, 0o600],
    ['scw-par.psk', '0x00112233445566778899aabbccddeeff\n', 0o400],
    ['open.psk', `${PSK}\n`, 0o644],
    ['group.psk', `${PSK}\n`, 0o640],
  ] as const) {
    writeFileSync(join(dir, f), text);
    chmodSync(join(dir, f), mode);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const parse = (text: string) => parseConfig(text, 'x.yaml', { baseDir: dir });
/** every message line of the thrown error */
function errorsOf(text: string): string[] {
  try {
    parse(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

const MIN = `connections:
  site-b:
    local: { address: 198.51.100.1 }
    remote: { address: 198.51.100.2 }
    psk_file: site-b.psk
`;

describe('example files', () => {
  it('conf/gateway.example.yaml loads', () => {
    const text = readFileSync('conf/gateway.example.yaml', 'utf8');
    const cfg = parseConfig(text, 'conf/gateway.example.yaml', { baseDir: dir });
    expect(cfg.log.level).toBe('info');
    expect(cfg.control.socket).toBe('/run/ikegw/ikegw.sock');
    expect(cfg.dataplane.backend).toBe('native');
    expect(cfg.dataplane.nice).toBe(-10);
    expect(cfg.cookieThreshold).toBe(10);
    expect(cfg.connections).toHaveLength(1);
    const c = cfg.connections[0]!;
    expect(c.name).toBe('site-b');
    expect(c.local).toMatchObject({ address: '198.51.100.1', port: 500 });
    expect(c.local.id).toMatchObject({ type: IdType.FQDN, text: 'gw-a.example.com' });
    expect(c.remote).toMatchObject({ address: '198.51.100.2', port: 500, id: null });
    expect(new TextDecoder().decode(c.psk)).toBe(PSK);
    expect(c.ikeProposals.map(formatIkeProposal)).toEqual(['aes256gcm16-prfsha256-x25519', 'aes256-sha256-prfsha256-modp2048']);
    expect(c.espProposals.map(formatEspProposal)).toEqual(['aes256gcm16', 'aes256-sha256']);
    expect(c.localTs.map((t) => t.text)).toEqual(['0.0.0.0/0', '::/0']);
    expect(c.remoteTs.map((t) => t.text)).toEqual(['0.0.0.0/0', '::/0']);
    expect(c.startAction).toBe('none');
    expect(c.encap).toBe('always');
    expect(c.retransmit).toEqual({ timeoutMs: 4000, base: 1.8, tries: 5 });
    expect(c.ike).toEqual({ rekeyMs: 4 * 3600_000, lifeMs: 4 * 3600_000 + 24 * 60_000, jitter: 0.1 });
    expect(c.child).toEqual({ rekeyMs: 3600_000, lifeMs: 3600_000 + 6 * 60_000, jitter: 0.1 });
    expect(c.dpd).toEqual({ delayMs: 30_000, action: 'restart' });
    expect(c.fragmentation).toEqual({ enabled: true, maxSize: 1280 });
    expect(c.replayWindow).toBe(1024);
    expect(c.natKeepaliveMs).toBe(20_000);
    expect(c.tunnel).toEqual({
      name: 'ikegw-site-b',
      mtu: 1400,
      addresses: ['169.254.10.1/31'],
      routes: ['10.1.0.0/16'],
      mssClamp: 'auto',
    });
    expect(cfg.source).toBe('conf/gateway.example.yaml');
  });

  it('conf/scaleway.example.yaml loads', () => {
    const text = readFileSync('conf/scaleway.example.yaml', 'utf8');
    const cfg = parseConfig(text, 'conf/scaleway.example.yaml', { baseDir: dir });
    const c = cfg.connections[0]!;
    expect(c.name).toBe('scw-par');
    expect(Buffer.from(c.psk).toString('hex')).toBe('00112233445566778899aabbccddeeff');
    expect(c.ikeProposals.map(formatIkeProposal)).toEqual(['aes256gcm16-prfsha256-x25519']);
    expect(c.espProposals.map(formatEspProposal)).toEqual(['aes256gcm16-x25519']);
    expect(c.localTs.map((t) => t.text)).toEqual(['0.0.0.0/0']);
    expect(c.remote.id).toMatchObject({ type: IdType.IPV4_ADDR, text: '192.0.2.44' });
    expect(c.tunnel).toMatchObject({ name: 'ikegw-scw-par', addresses: ['169.254.0.1/31'], routes: [] });
    expect(c.startAction).toBe('start');
    expect(c.dpd.delayMs).toBe(10_000);
    expect(cfg.warnings).toEqual([]);
  });

  it('loadConfigFile resolves psk_file relative to the config file', () => {
    const f = join(dir, 'gw.yaml');
    writeFileSync(f, MIN);
    const cfg = loadConfigFile(f);
    expect(new TextDecoder().decode(cfg.connections[0]!.psk)).toBe(PSK);
    expect(cfg.source).toBe(f);
  });

  it('loadConfigFile on a missing file', () => {
    expect(() => loadConfigFile(join(dir, 'nope.yaml'))).toThrow(/nope\.yaml: cannot read config file: ENOENT/);
  });
});

describe('defaults and conversions', () => {
  it('a minimal connection gets every default', () => {
    const cfg = parse(MIN);
    const c = cfg.connections[0]!;
    expect(cfg.log.level).toBe('info');
    expect(cfg.dataplane.backend).toBe('native');
    expect(c.local.id).toMatchObject({ type: IdType.IPV4_ADDR, text: '198.51.100.1' });
    expect(c.remote.id).toMatchObject({ type: IdType.IPV4_ADDR, text: '198.51.100.2' });
    expect(c.local.port).toBe(500);
    expect(c.ikeProposals.map(formatIkeProposal)).toEqual(['aes256gcm16-prfsha256-x25519', 'aes256-sha256-prfsha256-modp2048']);
    expect(c.espProposals.map(formatEspProposal)).toEqual(['aes256gcm16', 'aes256-sha256']);
    expect(c.ike).toEqual({ rekeyMs: 14_400_000, lifeMs: 15_840_000, jitter: 0.1 });
    expect(c.child).toEqual({ rekeyMs: 3_600_000, lifeMs: 3_960_000, jitter: 0.1 });
    expect(c.tunnel).toEqual({ name: 'ikegw-site-b', mtu: 1400, addresses: [], routes: [], mssClamp: 'auto' });
    expect(c.startAction).toBe('none');
    expect(c.encap).toBe('always');
    expect(c.dpd).toEqual({ delayMs: 30_000, action: 'restart' });
    expect(cfg.warnings).toEqual([]);
  });

  it('the result is deep-frozen', () => {
    const cfg = parse(MIN);
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.connections)).toBe(true);
    expect(Object.isFrozen(cfg.connections[0]!.tunnel.routes)).toBe(true);
    expect(Object.isFrozen(cfg.connections[0]!.ikeProposals[0]!.encr[0])).toBe(true);
    expect(() => {
      (cfg.connections[0] as { name: string }).name = 'x';
    }).toThrow(TypeError);
  });

  it('lifetimes, bytes, packets, jitter', () => {
    const cfg = parse(`${MIN}    ike_lifetime: { rekey_time: 1h30m, jitter: 5% }
    child_lifetime: { rekey_time: 600, life_time: 15m, jitter: 0, rekey_bytes: 500M, rekey_packets: 1000000, life_packets: 2000000 }
`);
    const c = cfg.connections[0]!;
    expect(c.ike).toEqual({ rekeyMs: 5_400_000, lifeMs: 5_940_000, jitter: 0.05 });
    expect(c.child).toEqual({
      rekeyMs: 600_000,
      lifeMs: 900_000,
      jitter: 0,
      rekeyBytes: 500 * 1024 * 1024,
      lifeBytes: Math.floor(500 * 1024 * 1024 * 1.1),
      rekeyPackets: 1_000_000,
      lifePackets: 2_000_000,
    });
  });

  it('inline psk in hex and base64, ids, ports, tunnel options', () => {
    const cfg = parse(`connections:
  v6:
    local: { address: "2001:db8::1", port: 4500, id: "@#0102030405" }
    remote: { address: "2001:DB8::2", id: vpn@example.com }
    psk: 0sAAECAwQFBgcICQoLDA0ODw==
    local_ts: ["10.0.0.0/24[tcp/22]"]
    tunnel: { name: v6tun, mss_clamp: 1360, mtu: 1280, routes: ["2001:db8:1::/48"] }
  hexpsk:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.2 }
    psk: "0x000102030405060708090a0b0c0d0e0f"
    tunnel: { mss_clamp: off }
`);
    const [a, b] = cfg.connections;
    expect(a!.local).toMatchObject({ address: '2001:db8::1', port: 4500, id: { type: IdType.KEY_ID, text: '@#0102030405' } });
    expect(a!.remote).toMatchObject({ address: '2001:db8::2', port: 500, id: { type: IdType.RFC822_ADDR } });
    expect(Buffer.from(a!.psk).toString('hex')).toBe('000102030405060708090a0b0c0d0e0f');
    expect(a!.localTs.map((t) => t.text)).toEqual(['10.0.0.0/24[tcp/22]']);
    expect(a!.tunnel).toEqual({ name: 'v6tun', mtu: 1280, addresses: [], routes: ['2001:db8:1::/48'], mssClamp: 1360 });
    expect(Buffer.from(b!.psk).toString('hex')).toBe('000102030405060708090a0b0c0d0e0f');
    expect(b!.tunnel.mssClamp).toBe('off');
    expect(cfg.warnings).toEqual([
      'connection v6: PSK is inline in the config file; prefer psk_file with mode 0600',
      'connection hexpsk: PSK is inline in the config file; prefer psk_file with mode 0600',
    ]);
  });

  it('warnings: short PSK, implied PRF, small MTU with IPv6', () => {
    const cfg = parse(`connections:
  a:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.2 }
    psk: "12345678"
    ike_proposals: [aes256gcm16-x25519]
    tunnel: { mtu: 1200 }
`);
    expect(cfg.warnings).toEqual([
      'connection a: PSK is only 8 bytes; use at least 16 random bytes',
      'connection a: PSK is inline in the config file; prefer psk_file with mode 0600',
      'connection a: IKE proposal "aes256gcm16-x25519" names no PRF; using prfsha256',
      'connection a: tunnel mtu 1200 is below 1280, so IPv6 will not work over ikegw-a',
    ]);
  });

  it('0.0.0.0/0 routes in several connections are allowed', () => {
    const cfg = parse(`connections:
  a:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.2 }
    psk_file: site-b.psk
    tunnel: { routes: [0.0.0.0/0] }
  b:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.3 }
    psk_file: site-b.psk
    tunnel: { routes: [0.0.0.0/0] }
    remote_ts: [0.0.0.0/0]
`);
    expect(cfg.connections.map((c) => c.tunnel.name)).toEqual(['ikegw-a', 'ikegw-b']);
  });
});

describe('errors name file:line: key', () => {
  const CASES: [string, string, string[]][] = [
    [
      'unknown ESP algorithm',
      `${MIN}    esp_proposals: [aes256gcm17]\n`,
      ['x.yaml:6: connections.site-b.esp_proposals[0]: unknown algorithm "aes256gcm17" (valid: aes128, '],
    ],
    [
      'unknown IKE algorithm in a block list',
      `${MIN}    ike_proposals:\n      - aes256gcm16-prfsha256-x25519\n      - aes256-sha7-modp2048\n`,
      ['x.yaml:8: connections.site-b.ike_proposals[1]: unknown algorithm "sha7" (valid: '],
    ],
    [
      'unknown key',
      `${MIN}    rekey_time: 1h\n`,
      ['x.yaml:6: connections.site-b.rekey_time: unknown key (valid: local, remote, psk, psk_file, ike_proposals, '],
    ],
    [
      'unknown nested key',
      `${MIN}    dpd: { delay: 10s, actoin: clear }\n`,
      ['x.yaml:6: connections.site-b.dpd.actoin: unknown key (valid: delay, action)'],
    ],
    [
      'unknown top-level key',
      `logging: { level: debug }\n${MIN}`,
      ['x.yaml:1: logging: unknown key (valid: log, control, dataplane, cookie_threshold, connections)'],
    ],
    ['address not a literal', MIN.replace('198.51.100.2', 'peer.example.com'), ['x.yaml:4: connections.site-b.remote.address: "peer.example.com" is not an IPv4 or IPv6 address literal']],
    [
      'missing address',
      MIN.replace('remote: { address: 198.51.100.2 }', 'remote: { port: 500 }'),
      ['x.yaml:4: connections.site-b.remote.address: required key is missing'],
    ],
    [
      'family mismatch',
      MIN.replace('198.51.100.2', '"2001:db8::2"'),
      ['x.yaml:4: connections.site-b.remote.address: address family differs from local.address (198.51.100.1 is IPv4, 2001:db8::2 is IPv6)'],
    ],
    ['port range', MIN.replace('198.51.100.1 }', '198.51.100.1, port: 0 }'), ['x.yaml:3: connections.site-b.local.port: Too small: expected number to be >=1']],
    [
      'life_time not above rekey_time',
      `${MIN}    child_lifetime:\n      rekey_time: 1h\n      life_time: 30m\n`,
      ['x.yaml:8: connections.site-b.child_lifetime.life_time: life_time (30m) must be greater than rekey_time (1h)'],
    ],
    [
      'life_time alone below the default rekey',
      `${MIN}    ike_lifetime: { life_time: 1h }\n`,
      ['x.yaml:6: connections.site-b.ike_lifetime.life_time: life_time (1h) must be greater than rekey_time (4h)'],
    ],
    [
      'bad duration',
      `${MIN}    dpd: { delay: 30 seconds }\n`,
      ['x.yaml:6: connections.site-b.dpd.delay: invalid duration "30 seconds" (expected e.g. 30s, 10m, 4h, 1h30m or a number of seconds)'],
    ],
    ['bad enum', `${MIN}    start_action: initiate\n`, ['x.yaml:6: connections.site-b.start_action: Invalid option: expected one of "none"|"start"|"trap"']],
    [
      'bad traffic selector',
      `${MIN}    remote_ts: [10.0.0.0/8, 10.300.0.0/16]\n`,
      ['x.yaml:6: connections.site-b.remote_ts[1]: invalid traffic selector "10.300.0.0/16": "10.300.0.0/16" is not an address, CIDR prefix or range'],
    ],
    ['bad identity', MIN.replace('198.51.100.1 }', '198.51.100.1, id: "%any" }'), ['x.yaml:3: connections.site-b.local.id: "%any" is only allowed for the remote identity']],
    [
      'tunnel name too long',
      `${MIN}    tunnel: { name: ikegw-much-too-long }\n`,
      ['x.yaml:6: connections.site-b.tunnel.name: "ikegw-much-too-long" is longer than 15 characters (Linux interface name limit)'],
    ],
    [
      'default tunnel name too long',
      MIN.replace('site-b:', 'headquarters-east:'),
      ['x.yaml:2: connections.headquarters-east: default tunnel name "ikegw-headquarters-east" is longer than 15 characters (Linux interface name limit); set tunnel.name'],
    ],
    ['tunnel name chars', `${MIN}    tunnel: { name: "tun/0" }\n`, ['x.yaml:6: connections.site-b.tunnel.name: "tun/0" is not a valid interface name (letters, digits, "_", "-", ".")']],
    [
      'route with host bits',
      `${MIN}    tunnel:\n      routes: [10.1.0.1/16]\n`,
      ['x.yaml:7: connections.site-b.tunnel.routes[0]: "10.1.0.1/16" has host bits set; did you mean 10.1.0.0/16?'],
    ],
    ['mss_clamp', `${MIN}    tunnel: { mss_clamp: on }\n`, ['x.yaml:6: connections.site-b.tunnel.mss_clamp: expected "auto", "off" or a TCP MSS in bytes (64-65495)']],
    ['jitter as bare number', `${MIN}    ike_lifetime: { jitter: 10 }\n`, ['x.yaml:6: connections.site-b.ike_lifetime.jitter: expected a percentage such as 10% (got 10)']],
    ['both psk and psk_file', `${MIN}    psk: "inline secret value"\n`, ['x.yaml:2: connections.site-b: give either psk or psk_file, not both']],
    [
      'no psk',
      MIN.replace('    psk_file: site-b.psk\n', ''),
      ['x.yaml:2: connections.site-b: a pre-shared key is required: set psk_file (preferred) or psk'],
    ],
    [
      'psk too short',
      MIN.replace('psk_file: site-b.psk', 'psk: short'),
      ['x.yaml:5: connections.site-b.psk: PSK is too short (5 bytes; at least 8 required, 16+ random bytes recommended)'],
    ],
    ['bad hex psk', MIN.replace('psk_file: site-b.psk', 'psk: "0xabc"'), ['x.yaml:5: connections.site-b.psk: PSK starting with 0x must be hex digits']],
    [
      'unquoted hex psk (a YAML number)',
      MIN.replace('psk_file: site-b.psk', 'psk: 0x0123456789abcdef'),
      ['x.yaml:5: connections.site-b.psk: expected a string; quote the PSK (YAML reads 0x… and plain digits as numbers)'],
    ],
    ['invalid connection name', MIN.replace('site-b:', '"site b":'), ['x.yaml:2: connections.site b: invalid connection name "site b" (letters, digits, "-" and "_", at most 64, starting with a letter or digit)']],
    ['no connections', 'connections: {}\n', ['x.yaml:1: connections: at least one connection is required']],
    ['missing connections', 'log: { level: info }\n', ['x.yaml:1: connections: Invalid input: expected record, received undefined']],
    ['empty file', '', ['x.yaml: the config file is empty (expected at least a "connections" map)']],
    ['bad log level', `log: { level: verbose }\n${MIN}`, ['x.yaml:1: log.level: Invalid option: expected one of "trace"|"debug"|"info"|"warn"|"error"|"fatal"|"silent"']],
    ['connection not a map', 'connections:\n  a: 5\n', ['x.yaml:2: connections.a: Invalid input: expected object, received number']],
  ];
  it.each(CASES)('%s', (_name, text, expected) => {
    const lines = errorsOf(text);
    expect(lines).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(lines[i]!.startsWith(e), `got: ${lines[i]}`).toBe(true));
  });

  it('YAML syntax errors carry the line', () => {
    const lines = errorsOf(`${MIN}    esp_proposals: [aes256gcm16\n    dpd: {}\n`);
    expect(lines[0]).toMatch(/^x\.yaml:\d+: YAML: /);
  });

  it('duplicate keys are errors', () => {
    const lines = errorsOf(`${MIN}    psk_file: other.psk\n`);
    expect(lines[0]).toMatch(/^x\.yaml:6: YAML: Map keys must be unique/);
  });

  it('psk_file with mode 0644 or 0640 is refused', () => {
    expect(errorsOf(MIN.replace('site-b.psk', 'open.psk'))).toEqual([
      `x.yaml:5: connections.site-b.psk_file: ${join(dir, 'open.psk')} has mode 0644; a PSK file must be mode 0600 or stricter (chmod 600 ${join(dir, 'open.psk')})`,
    ]);
    expect(errorsOf(MIN.replace('site-b.psk', 'group.psk'))[0]).toContain('has mode 0640;');
  });

  it('psk_file missing', () => {
    expect(errorsOf(MIN.replace('site-b.psk', 'missing.psk'))).toEqual([
      `x.yaml:5: connections.site-b.psk_file: cannot read ${join(dir, 'missing.psk')}: ENOENT`,
    ]);
  });

  it('overlapping inner prefixes between connections name both', () => {
    const lines = errorsOf(`connections:
  a:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.2 }
    psk_file: site-b.psk
    tunnel: { routes: [10.1.0.0/16, 10.9.0.0/16] }
  b:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.3 }
    psk_file: site-b.psk
    remote_ts:
      - 10.2.0.0/16
      - 10.1.128.0/17
`);
    expect(lines).toEqual([
      'x.yaml:13: connections.b.remote_ts[1]: inner prefix 10.1.128.0/17 of connection "b" overlaps connection "a": 10.1.0.0/16 (connections.a.tunnel.routes[0])',
    ]);
  });

  it('remote prefixes overlapping the local LAN (any local_ts) are rejected', () => {
    const lines = errorsOf(`connections:
  a:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.2 }
    psk_file: site-b.psk
    local_ts: [10.1.0.0/16]
    remote_ts: [10.1.200.0/24]
  b:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.3 }
    psk_file: site-b.psk
    tunnel: { routes: [10.1.5.0/24, 10.7.0.0/16] }
`);
    expect(lines).toEqual([
      'x.yaml:7: connections.a.remote_ts[0]: remote prefix 10.1.200.0/24 of connection "a" overlaps the local network 10.1.0.0/16 (its own local_ts)',
      'x.yaml:12: connections.b.tunnel.routes[0]: remote prefix 10.1.5.0/24 of connection "b" overlaps the local network 10.1.0.0/16 (local_ts of connection "a")',
    ]);
    // the catch-all selectors clouds use are not a LAN
    expect(() => parse(`connections:
  a:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.2 }
    psk_file: site-b.psk
    tunnel: { routes: [10.1.5.0/24] }
`)).not.toThrow();
  });

  it('encap: auto needs the native data plane', () => {
    const lines = errorsOf(`dataplane: { backend: ts }
connections:
  a:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.2 }
    psk_file: site-b.psk
    encap: auto
`);
    expect(lines).toEqual(['x.yaml:7: connections.a.encap: encap: auto (raw ESP without NAT) needs the native data plane; connection "a" runs on dataplane.backend ts: use encap: always']);
  });

  it('dataplane.nice: −10 by default, −20..19 accepted, anything else named with its line', () => {
    const conn = `connections:
  a:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.2 }
    psk_file: site-b.psk
`;
    expect(parseConfig(conn, 'x.yaml', { baseDir: dir }).dataplane.nice).toBe(-10);
    expect(parseConfig(`dataplane: { nice: 0 }\n${conn}`, 'x.yaml', { baseDir: dir }).dataplane.nice).toBe(0);
    expect(parseConfig(`dataplane: { nice: -20 }\n${conn}`, 'x.yaml', { baseDir: dir }).dataplane.nice).toBe(-20);
    const lines = errorsOf(`dataplane: { nice: -30 }\n${conn}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^x\.yaml:1: dataplane\.nice: /);
  });

  it('duplicate tunnel names', () => {
    const lines = errorsOf(`connections:
  a:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.2 }
    psk_file: site-b.psk
  b:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.3 }
    psk_file: site-b.psk
    tunnel: { name: ikegw-a }
`);
    expect(lines).toEqual(['x.yaml:10: connections.b.tunnel.name: tunnel name "ikegw-a" is already used by connection "a"']);
  });

  it('collects every error across connections, sorted by line', () => {
    let err: unknown;
    try {
      parse(`cookie_threshold: -1
connections:
  a:
    local: { address: 192.0.2.1, extra: 1 }
    remote: { address: "2001:db8::2" }
    psk: s3cr
    esp_proposals: [aes256gcm17]
    ike_lifetime: { rekey_time: 4h, life_time: 1h }
  b:
    local: { address: 192.0.2.1 }
    remote: { address: 192.0.2.3 }
    psk_file: open.psk
    tunnel: { name: ikegw-a }
`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigValidationError);
    const v = err as ConfigValidationError;
    expect(v.issues.map((i) => `${i.line} ${i.key}`)).toEqual([
      '1 cookie_threshold',
      '4 connections.a.local.extra',
      '5 connections.a.remote.address',
      '6 connections.a.psk',
      '7 connections.a.esp_proposals[0]',
      '8 connections.a.ike_lifetime.life_time',
      '12 connections.b.psk_file',
      '13 connections.b.tunnel.name',
    ]);
    expect(v.file).toBe('x.yaml');
    expect(v.line).toBe(1);
    expect(v.key).toBe('cookie_threshold');
    expect(v.message.split('\n')).toHaveLength(8);
    expect(v.message.split('\n')[0]).toBe('x.yaml:1: cookie_threshold: Too small: expected number to be >=0');
    // the secret never appears in messages
    expect(v.message).not.toContain('s3cr');
  });
});

describe('leaf parsers', () => {
  it.each([
    [30, 30_000],
    [0.5, 500],
    ['30', 30_000],
    ['30s', 30_000],
    ['10m', 600_000],
    ['4h', 14_400_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['250ms', 250],
    ['1m30s500ms', 90_500],
  ])('parseDuration(%j) = %i', (v, ms) => expect(parseDuration(v)).toBe(ms));
  it.each(['', '30x', '1m1h', '-5s', 'h', true, -1])('parseDuration rejects %j', (v) => expect(() => parseDuration(v)).toThrow(ConfigError));
  it('parsePercent', () => {
    expect(parsePercent('10%')).toBeCloseTo(0.1);
    expect(parsePercent('2.5 %')).toBeCloseTo(0.025);
    expect(parsePercent(0)).toBe(0);
    expect(() => parsePercent('100%')).toThrow('below 100%');
    expect(() => parsePercent(0.1)).toThrow(ConfigError);
  });
  it('parseByteCount', () => {
    expect(parseByteCount(0)).toBe(0);
    expect(parseByteCount('64k')).toBe(65536);
    expect(parseByteCount('500M')).toBe(524_288_000);
    expect(parseByteCount('4GB')).toBe(4 * 1024 ** 3);
    expect(parseByteCount('1GiB')).toBe(1024 ** 3);
    expect(() => parseByteCount(1.5)).toThrow(ConfigError);
    expect(() => parseByteCount('1P')).toThrow(ConfigError);
  });
});
