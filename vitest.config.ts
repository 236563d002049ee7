import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The three-node cluster suite runs on its own: vitest.cluster.config.ts, `npm run test:cluster`.
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
