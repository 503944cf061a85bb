import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The SIGKILL suites run on their own: npm run test:crash (vitest.crash.config.ts).
    exclude: ['test/crash/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
