/**
 * The dependency rule (ARCHITECTURE.md §1): protocol cores do no I/O and own no timers.
 * Walks src/ and fails on a forbidden import.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

const IO = ['node:dgram', 'node:net', 'node:fs', 'node:timers', 'node:child_process', 'pino'];
const RULES: { dir: string; forbidden: (spec: string, file: string) => boolean }[] = [
  { dir: 'ike', forbidden: (s) => IO.includes(s) || /\/(runtime|dataplane|control)\//.test(s) || s.includes('native') },
  { dir: 'esp', forbidden: (s) => IO.includes(s) || /\/(runtime|dataplane|control|ike)\//.test(s) || s.includes('native') },
  { dir: 'crypto', forbidden: (s) => IO.includes(s) || /\/(runtime|dataplane|control|ike|esp|config)\//.test(s) },
  { dir: 'net', forbidden: (s) => IO.includes(s) || /\/(runtime|dataplane|control|ike|esp)\//.test(s) },
  { dir: 'dataplane', forbidden: (s) => /\/ike\//.test(s) },
];

describe('layering', () => {
  for (const r of RULES) {
    it(`src/${r.dir} imports nothing it must not`, () => {
      const bad: string[] = [];
      for (const f of files(join(SRC, r.dir))) for (const s of imports(f)) if (r.forbidden(s, f)) bad.push(`${relative(SRC, f)} → ${s}`);
      expect(bad).toEqual([]);
    });
  }
  it('protocol cores never read the clock or arm timers', () => {
    const bad: string[] = [];
    for (const d of ['ike', 'esp']) {
      for (const f of files(join(SRC, d))) {
        const src = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
        for (const pat of [/Date\.now\(/, /performance\.now\(/, /setTimeout\(/, /setInterval\(/, /Math\.random\(/]) if (pat.test(src)) bad.push(`${relative(SRC, f)}: ${pat}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
