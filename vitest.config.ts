import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The AWS SDK warns once per process on Node 20 that its 2027 releases need Node 22; every test
    // file and CLI child is a process, so the warning would repeat through the output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    include: ['test/**/*.test.ts'],
    // The SIGKILL suites, the load suite and the notebooks run on their own: npm run test:crash,
    // npm run test:load, npm run test:notebooks (vitest.crash.config.ts, vitest.load.config.ts,
    // vitest.notebooks.config.ts).
    exclude: [
      'test/crash/**',
      'test/lake/load.test.ts',
      'test/lake/publish-concurrent.test.ts',
      'test/notebooks/**',
      'node_modules/**',
    ],
    // Two test files at a time: vitest's default on 2 cores is one (CPUs − 1), while many files
    // spend much of their time waiting on child processes, the S3 and Glue test servers and disk.
    maxWorkers: 2,
    // Test files share their worker's module cache (vitest's isolate: false): DuckDB, Arrow, the
    // AWS SDK and our own modules load once per worker instead of once per file, which took a
    // third of the suite's CPU time. Tests keep no module state of their own between files.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
