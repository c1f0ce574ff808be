import { defineConfig } from 'vitest/config';

// The proteome workflow (npm run test:workflow): Snakemake over plmw, with the local profile and
// on a one-node SLURM cluster (scripts/slurm-one-node.sh). Needs the Debian packages snakemake,
// slurm-wlm and munge, and the cluster running; .ci/run installs and starts them. Not part of
// `npm test`. One file at a time: each fills the machine's cores itself.
export default defineConfig({
  test: {
    include: ['test/workflow/**/*.workflow.ts'],
    environment: 'node',
    // one temporary folder per run (TMPDIR), removed at its end
    globalSetup: ['test/helpers/tmp-root.ts'],
    testTimeout: 1_200_000,
    hookTimeout: 900_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
