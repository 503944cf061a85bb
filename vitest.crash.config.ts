import { defineConfig } from 'vitest/config';

/**
 * `npm run test:crash`: SIGKILL and fault-injection suites, kept apart from `npm test` (run by
 * .ci/run after it). The global setup collects their outcomes into docs/RELIABILITY.md.
 */
export default defineConfig({
  test: {
    // The AWS SDK warns once per process on Node 20 that its 2027 releases need Node 22; every test
    // file and CLI child is a process, so the warning would repeat through the output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    include: ['test/crash/**/*.test.ts'],
    globalSetup: ['test/crash/global-setup.ts'],
    // The fault suite mostly waits (stalls, backoff): it runs beside the SIGKILL suite, even on 2 cores.
    maxWorkers: 2,
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
});
