/**
 * bench/wide-ingest: `octa ingest` of a wide CSV (few rows, thousands of numeric columns), one cold
 * process per run, reporting its peak RSS and time and checking every value landed. Readers size a
 * chunk by bytes per row (ingest.ts `boundedChunkRows`), so a wide input no longer allocates 65,536
 * rows per column: 10 rows × 8,000 columns took 4.5 GB before and stays near the --memory-mb budget
 * plus the runtime and the Parquet writer's per-column state now. Too slow for the test suite
 * (parquet-wasm spends ~5 ms per column), hence here; test/lake/safety-text.test.ts checks the
 * chunking on a smaller input.
 *
 * Run: npx tsc -p tsconfig.build.json && node dist/bench/wide-ingest.js [--columns 8000 --rows 10 --memory-mb 256]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { BENCH_DIR, numberArg, printTable } from './harness.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const COLUMNS = numberArg('columns', 8_000);
const ROWS = numberArg('rows', 10);
const MEMORY_MB = numberArg('memory-mb', 256);

const work = join(BENCH_DIR, 'wide-ingest');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const csv = join(work, 'wide.csv');
const lake = join(work, 'lake');
const rssFile = join(work, 'rss.jsonl');

const header = ['x', 'y', 'z', 'time', ...Array.from({ length: COLUMNS }, (_, c) => `c${c}`)];
const lines = [header.join(',')];
for (let r = 0; r < ROWS; r++) {
  const values = Array.from({ length: COLUMNS }, (_, c) => (r * COLUMNS + c) / 4);
  lines.push([r + 1, r + 2, r + 3, '2025-04-15T12:00:00Z', ...values].join(','));
}
writeFileSync(csv, `${lines.join('\n')}\n`);

const t0 = performance.now();
const run = spawnSync(
  process.execPath,
  [
    '--import',
    join(here, 'rss-report.js'),
    join(root, 'dist', 'cli', 'octa.js'),
    'ingest',
    csv,
    '--lake',
    lake,
    '--table',
    'wide',
    '--frame',
    'cartesian:0,0,0,1024',
    '--lod',
    '8',
    '--memory-mb',
    String(MEMORY_MB),
    '--json',
    '--quiet',
  ],
  { env: { ...process.env, OCTA_RSS_FILE: rssFile }, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
);
const seconds = (performance.now() - t0) / 1000;
if (run.status !== 0) throw new Error(`octa ingest failed: ${run.stderr}`);
const { peakMb } = JSON.parse(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)!) as { peakMb: number };
const summary = JSON.parse(run.stdout) as { rows_committed: number };

// Every value landed: the sum of all payload values equals the generated one.
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const read = `read_parquet('${join(lake, 'wide')}/**/*.parquet')`;
const count = (await connection.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM ${read}`)).getRows()[0]![0];
const sums = (await connection.runAndReadAll(`SELECT sum(COLUMNS('^c[0-9]+$')) FROM ${read}`)).getRows()[0]!;
const stored = { n: Number(count), s: sums.reduce((a: number, v) => a + Number(v), 0) };
connection.closeSync();
instance.closeSync();
const cells = ROWS * COLUMNS;
const expected = (cells * (cells - 1)) / 2 / 4;
if (summary.rows_committed !== ROWS || stored.n !== ROWS || stored.s !== expected) {
  throw new Error(`rows did not land exactly: ${JSON.stringify({ summary, stored, expected })}`);
}

printTable(
  ['input', '--memory-mb', 'rows committed', 'peak RSS', 'time'],
  [
    [
      `${ROWS} rows × ${COLUMNS} columns`,
      MEMORY_MB,
      ROWS,
      `${peakMb.toFixed(0)} MB`,
      `${seconds.toFixed(1)} s`,
    ],
  ],
);
rmSync(work, { recursive: true, force: true });
