/**
 * A small timing harness for the benchmarks: warm-up runs, then the median of timed runs, printed as
 * Markdown rows so results paste straight into bench/RESULTS.md.
 */

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** One measured figure. */
export interface Timing {
  label: string;
  /** Median wall time of one run, in milliseconds. */
  ms: number;
  /** Items processed per run (points, cells, queries). */
  items: number;
}

/**
 * Times `fn` (one run processes `items` items): `warmup` untimed runs, then the median of `runs`.
 * @returns the median timing
 */
export function measure(
  label: string,
  items: number,
  fn: () => unknown,
  { runs = 7, warmup = 2 } = {},
): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { label, ms: times[Math.floor(times.length / 2)]!, items };
}

/** Async variant of {@link measure}. */
export async function measureAsync(
  label: string,
  items: number,
  fn: () => Promise<unknown>,
  { runs = 5, warmup = 1 } = {},
): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { label, ms: times[Math.floor(times.length / 2)]!, items };
}

/** Nanoseconds per item. */
export function nsPerItem(t: Timing): number {
  return (t.ms * 1e6) / t.items;
}

/** Prints a Markdown table. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  console.log(`| ${headers.join(' | ')} |`);
  console.log(`| ${headers.map(() => '---').join(' | ')} |`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

/** A seeded PRNG so benchmark inputs are the same every run (the demo scene's mulberry32). */
export { mulberry32 as seeded } from '../src/demo/demo-scene.js';

/** Where benchmarks keep generated inputs and lakes: $OCTA_BENCH_DIR, else bench/out in the repository. */
export const BENCH_DIR =
  process.env.OCTA_BENCH_DIR ?? fileURLToPath(new URL('../../bench/out/', import.meta.url));

/** Bytes of the files under `dir`. */
function bytesUnder(dir: string): number {
  let bytes = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) bytes += statSync(join(e.parentPath, e.name)).size;
  }
  return bytes;
}

// The benchmarks keep their generated inputs and lakes for the next run (building them takes longer
// than most measurements): each run ends by saying how much is kept and where.
process.on('exit', () => {
  if (!existsSync(BENCH_DIR)) return;
  const mib = (bytesUnder(BENCH_DIR) / 2 ** 20).toFixed(1);
  process.stderr.write(
    `bench: ${BENCH_DIR} keeps ${mib} MiB of generated inputs and lakes for the next run; delete it to free the space ($OCTA_BENCH_DIR moves it)\n`,
  );
});

/** A numeric `--name value` command-line argument, or `fallback`. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/**
 * The arguments of the `octa ingest` run the ingest benchmarks time: the generated sensor CSV into
 * table `points` (frame cartesian:0,0,0,1024, LOD 12, event time `t`), JSON summary, no progress.
 * @param octa - the built CLI (dist/cli/octa.js)
 * @param times - epoch seconds (`--time-unit s`) or ISO text
 */
export function octaIngestArgs(
  octa: string,
  csv: string,
  lake: string,
  times: 'epoch' | 'iso' = 'epoch',
): string[] {
  return [
    octa,
    'ingest',
    csv,
    '--lake',
    lake,
    '--table',
    'points',
    '--frame',
    'cartesian:0,0,0,1024',
    '--lod',
    '12',
    '--time',
    't',
    ...(times === 'epoch' ? ['--time-unit', 's'] : []),
    '--json',
    '--quiet',
  ];
}
