import { defineConfig } from 'vitest/config';

/** `npm run test:notebooks`: runs the notebooks in Jupyter, kept apart from `npm test` (run by .ci/run). */
export default defineConfig({
  test: {
    include: ['test/notebooks/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
