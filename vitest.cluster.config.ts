import { defineConfig } from 'vitest/config';

/**
 * The cluster suite (`npm run test:cluster`, run by `.ci/run` after `npm test`): three throwaway
 * RabbitMQ nodes take most of a small machine, so it runs on its own rather than beside the other files.
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
