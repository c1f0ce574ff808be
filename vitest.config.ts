import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    environment: 'node',
    // one temporary folder per run (TMPDIR), removed at its end
    globalSetup: ['test/helpers/tmp-root.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // onnxruntime sessions use native threads; forks keep each file in its own process.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
