/** The daemon's command line: clear errors and exit codes, never a stack trace for bad input. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ControlServer } from '../../src/control/server.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { nullLogger } from '../../src/common/log.js';
import { parseConfig } from '../../src/config/load.js';

const MAIN = resolve(import.meta.dirname, '../../dist/src/main.js');
const dir = mkdtempSync(join(tmpdir(), 'ikegw-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('ikegw command line', () => {
  it('without a config: usage, exit 2', () => {
    const r = run([]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no config file given/);
  });
  it('missing file: clear message, exit 2', () => {
    const r = run(['-c', join(dir, 'nope.yaml')]);
    expect(r.code).toBe(2);
    expect(r.err).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });
  it('invalid config: file, line and key named, exit 2', () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'connections:\n  x:\n    local: { address: 10.0.0.1 }\n    remote: { address: 10.0.0.2 }\n    psk: "0123456789abcdef"\n    esp_proposals: [aes256gcm17]\n');
    const r = run(['-c', f]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.yaml:6/);
    expect(r.err).toMatch(/esp_proposals/);
    expect(r.err).toMatch(/aes256gcm17/);
  });
  it('--check on a valid config: OK, exit 0', () => {
    const f = join(dir, 'good.yaml');
    writeFileSync(f, 'connections:\n  x:\n    local: { address: 10.0.0.1 }\n    remote: { address: 10.0.0.2 }\n    psk: "0123456789abcdef"\n');
    const r = run(['-c', f, '--check']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/OK \(1 connection\)/);
  });
  it('cannot bind (address not on this host): clear fatal line, exit 1', () => {
    const f = join(dir, 'nobind.yaml');
    writeFileSync(f, `control: { socket: ${join(dir, 'c.sock')} }\nconnections:\n  x:\n    local: { address: 10.254.254.254 }\n    remote: { address: 10.254.254.253 }\n    psk: "0123456789abcdef"\n`);
    const r = run(['-c', f]);
    expect(r.code).toBe(1);
    expect(r.out + r.err).toMatch(/cannot bind UDP 10\.254\.254\.254:500/);
  });
  void execFileSync;
});

describe('control server', () => {
  it('answers bad requests with an error, never throws', () => {
    const cfg = parseConfig('connections:\n  x:\n    local: { address: 127.0.0.1 }\n    remote: { address: 127.0.0.2 }\n    psk: "0123456789abcdef"\n', 't.yaml');
    const srv = new ControlServer(new Gateway(cfg, { logger: nullLogger() }), join(dir, 'x.sock'));
    expect(srv.handle('not json')).toEqual({ ok: false, error: 'request is not JSON' });
    expect(srv.handle('null').ok).toBe(false);
    expect(srv.handle('{"cmd":"up"}').ok).toBe(false);
    expect(srv.handle('{"cmd":"up","name":"nope"}')).toEqual({ ok: false, error: 'no connection named nope' });
    expect(srv.handle('{"cmd":"rm -rf"}').ok).toBe(false);
    const st = srv.handle('{"cmd":"status"}');
    expect(st.ok).toBe(true);
  });
});
