import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The three-node cluster suite runs on its own: vitest.cluster.config.ts, `npm run test:cluster`.
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    // One line naming a missing RabbitMQ, Redis or PostgreSQL, instead of hundreds of connection errors.
    globalSetup: ['test/support/services-check.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
