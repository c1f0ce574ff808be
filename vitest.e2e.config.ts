import { defineConfig } from 'vitest/config';

// The browser journey (npm run e2e): Debian's Chromium driven by playwright-core against the
// browser mode (`npm run web`), on the tiny fixture model. Not part of `npm test`.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    environment: 'node',
    // one temporary folder per run (TMPDIR), removed at its end
    globalSetup: ['test/helpers/tmp-root.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
