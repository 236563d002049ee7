import { defineConfig } from 'vitest/config';

/**
 * The cluster suite (`npm run test:cluster`, run by `.ci/run` after `npm test`): three throwaway
 * RabbitMQ nodes take most of a small machine, so it runs on its own rather than beside the other files.
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    // A rolling restart waits up to 120 s for each of three nodes' queue members (test/support/cluster.ts).
    testTimeout: 420_000,
    hookTimeout: 240_000,
  },
});
