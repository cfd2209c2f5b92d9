/** The shipped example configs load (with a temporary PSK file next to a copy). */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../src/config/load.js';

const CONF = join(import.meta.dirname, '../../../conf');
const dir = mkdtempSync(join(tmpdir(), 'ikegw-prof-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const files = [...readdirSync(join(CONF, 'profiles')).map((f) => join(CONF, 'profiles', f)), join(CONF, 'demo-site-a.yaml')];

describe('shipped configuration profiles', () => {
  for (const f of files) {
    it(`${basename(f)} loads`, () => {
      const copy = join(dir, basename(f));
      copyFileSync(f, copy);
      for (const n of ['aws-tunnel1', 'gcp-if0', 'azure']) writeFileSync(join(dir, `${n}.psk`), 'a-long-random-pre-shared-key-0123456789\n', { mode: 0o600 });
      const cfg = loadConfigFile(copy);
      expect(cfg.connections.length).toBe(1);
      const c = cfg.connections[0]!;
      expect(c.child.lifeMs).toBeGreaterThan(c.child.rekeyMs);
    });
  }
  it('the Azure profile carries its byte limit', () => {
    copyFileSync(join(CONF, 'profiles', 'azure.yaml'), join(dir, 'azure.yaml'));
    writeFileSync(join(dir, 'azure.psk'), 'a-long-random-pre-shared-key-0123456789\n', { mode: 0o600 });
    const c = loadConfigFile(join(dir, 'azure.yaml')).connections[0]!;
    expect(c.child.lifeBytes).toBeGreaterThan(100e9 - 1);
    expect(c.child.rekeyMs).toBe(7 * 3600_000);
  });
});
