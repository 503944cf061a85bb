import { defineConfig } from 'vitest/config';

/**
 * `npm run test:load`: concurrent writers and a thousand commits on one lake (test/lake/load.test.ts),
 * kept apart from `npm test` (run by .ci/run after it).
 */
export default defineConfig({
  test: {
    // The AWS SDK warns once per process on Node 20 that its 2027 releases need Node 22; every test
    // file and CLI child is a process, so the warning would repeat through the output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    include: ['test/lake/load.test.ts', 'test/lake/publish-concurrent.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
