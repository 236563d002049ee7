import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One line naming a missing RabbitMQ, Redis or PostgreSQL, instead of hundreds of connection errors.
    globalSetup: ['test/support/services-check.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
