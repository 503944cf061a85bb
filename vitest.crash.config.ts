import { defineConfig } from 'vitest/config';

/**
 * `npm run test:crash`: SIGKILL and fault-injection suites, kept apart from `npm test` (run by
 * .ci/run after it). The global setup collects their outcomes into docs/RELIABILITY.md.
 */
export default defineConfig({
  test: {
    include: ['test/crash/**/*.test.ts'],
    globalSetup: ['test/crash/global-setup.ts'],
    // The fault suite mostly waits (stalls, backoff): it runs beside the SIGKILL suite, even on 2 cores.
    maxWorkers: 2,
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
});
