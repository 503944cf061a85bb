import { defineConfig } from 'vitest/config';

/** `npm run test:crash`: SIGKILL suites, kept apart from `npm test` (run by .ci/run after it). */
export default defineConfig({
  test: {
    include: ['test/crash/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
});
