import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Model-loading tests spawn their own worker pools; keep file-level parallelism modest on 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
