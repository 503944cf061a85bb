/**
 * Preloaded with `node --import` into a benchmarked process: on exit it appends the process's peak
 * resident set size (and its wall time) to the file named by OCTA_RSS_FILE, so a benchmark can
 * measure a real CLI run without changing the CLI.
 */
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const file = process.env.OCTA_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const peakMb = process.resourceUsage().maxRSS / 1024;
    appendFileSync(file, `${JSON.stringify({ peakMb, ms: performance.now() })}\n`);
  });
}
