#!/usr/bin/env node
// npm run test:interop [-- --full]: the interop tests; --full adds the whole strongSwan matrix.
import { spawnSync } from 'node:child_process';
const args = process.argv.slice(2);
const env = { ...process.env };
if (args.includes('--full')) env.IKEGW_FULL = '1';
const rest = args.filter((a) => a !== '--full');
const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/interop', ...rest], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
