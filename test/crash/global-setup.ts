/**
 * Global setup of the crash suite (vitest.crash.config.ts): provides the directory where each test
 * file saves its outcomes, and at the end writes them to $OCTA_RELIABILITY_OUT as markdown
 * (`npm run reliability`: reliability-report.md unless named; docs/RELIABILITY.md holds the last
 * recorded run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { writeReliability } from './report.js';

/**
 * Provides `reliabilityDir` to the test files.
 * @returns the teardown, which writes the report and removes the directory
 */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'octa-reliability-'));
  project.provide('reliabilityDir', dir);
  return () => {
    try {
      const out = process.env.OCTA_RELIABILITY_OUT;
      if (out && writeReliability(dir, out)) console.log(`reliability report written to ${out}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
