import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // interop tests create namespaces with unique names; run files one at a time to spare 2 cores
    fileParallelism: true,
    maxWorkers: 2,
  },
});
