import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The SIGKILL suites and the notebooks run on their own: npm run test:crash, npm run
    // test:notebooks (vitest.crash.config.ts, vitest.notebooks.config.ts).
    exclude: ['test/crash/**', 'test/notebooks/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
