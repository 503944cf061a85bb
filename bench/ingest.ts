/**
 * bench/ingest: `octa ingest` of a generated CSV (x, y, z, t, value) into a fresh lake, against
 * DuckDB doing the same job in plain SQL (bench/duckdb-ingest.ts), each a separate process, in the
 * same run. Reports points/s, MB/s and peak RSS for both, and our peak RSS at two input sizes to
 * show memory stays flat as the input grows.
 *
 * Then the same comparison for the input shapes of issue 16 (random row order, full-precision
 * numbers, ISO text times) at `--shapes-rows` rows (default 2M; 0 skips them).
 *
 * Run: npm run bench:ingest [-- --rows 5000000 --big 20000000 --repeat 3 --shapes-rows 2000000]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_DIR, numberArg, octaIngestArgs, printTable } from './harness.js';
import { generateSensorCsv, type SensorCsvShape, sensorCsvName } from './sensor-csv.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const work = BENCH_DIR;
const arg = numberArg;
const ROWS = arg('rows', 5_000_000);
const BIG = arg('big', 20_000_000);
const REPEAT = arg('repeat', 3);
const SHAPES_ROWS = arg('shapes-rows', 2_000_000);

/** Runs the jobs round-robin `REPEAT` times and keeps each job's median run (by time). */
function medians(jobs: (() => Run)[]): Run[] {
  const runs: Run[][] = jobs.map(() => []);
  for (let r = 0; r < REPEAT; r++) {
    jobs.forEach((job, i) => {
      runs[i]!.push(job());
    });
  }
  return runs.map((rs) => rs.sort((a, b) => a.seconds - b.seconds)[Math.floor(rs.length / 2)]!);
}

interface Run {
  seconds: number;
  peakMb: number;
  /** Parquet files written (octa's summary, or the files in DuckDB's output folder). */
  files: number;
}

function timed(args: string[]): Run {
  const rssFile = join(work, `rss-${process.pid}.jsonl`);
  rmSync(rssFile, { force: true });
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', join(here, 'rss-report.js'), ...args], {
    env: { ...process.env, OCTA_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
  const { peakMb } = JSON.parse(lines[lines.length - 1]!) as { peakMb: number };
  const out = args.at(-2) === 'sorted' || args.at(-2) === 'unsorted' ? args.at(-3)! : undefined;
  const files =
    out === undefined
      ? (JSON.parse(r.stdout) as { files: number }).files
      : readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.parquet')).length;
  return { seconds, peakMb, files };
}

function octaIngest(csv: string, lake: string, times: 'epoch' | 'iso' = 'epoch'): Run {
  rmSync(lake, { recursive: true, force: true });
  return timed(octaIngestArgs(join(root, 'dist', 'cli', 'octa.js'), csv, lake, times));
}

function duckdbIngest(
  csv: string,
  out: string,
  mode: 'sorted' | 'unsorted',
  times: 'epoch' | 'iso' = 'epoch',
): Run {
  rmSync(out, { recursive: true, force: true });
  return timed([join(here, 'duckdb-ingest.js'), csv, out, mode, times]);
}

mkdirSync(work, { recursive: true });
const small = join(work, sensorCsvName(ROWS));
await generateSensorCsv(small, ROWS);
const mb = statSync(small).size / 2 ** 20;
const [ours, peer, peerUnsorted] = medians([
  () => octaIngest(small, join(work, 'lake-small')),
  () => duckdbIngest(small, join(work, 'duckdb-small'), 'sorted'),
  () => duckdbIngest(small, join(work, 'duckdb-small-unsorted'), 'unsorted'),
]) as [Run, Run, Run];
const rows: (string | number)[][] = [
  [
    'octa ingest (CLI process)',
    ROWS,
    ours.seconds.toFixed(2),
    (ROWS / ours.seconds / 1e6).toFixed(2),
    (mb / ours.seconds).toFixed(1),
    ours.peakMb.toFixed(0),
  ],
  [
    'DuckDB SQL, sorted by cell (same job)',
    ROWS,
    peer.seconds.toFixed(2),
    (ROWS / peer.seconds / 1e6).toFixed(2),
    (mb / peer.seconds).toFixed(1),
    peer.peakMb.toFixed(0),
  ],
  [
    'DuckDB SQL, unsorted',
    ROWS,
    peerUnsorted.seconds.toFixed(2),
    (ROWS / peerUnsorted.seconds / 1e6).toFixed(2),
    (mb / peerUnsorted.seconds).toFixed(1),
    peerUnsorted.peakMb.toFixed(0),
  ],
];
let bigRun: Run | null = null;
if (BIG > 0) {
  const big = join(work, sensorCsvName(BIG));
  await generateSensorCsv(big, BIG);
  bigRun = octaIngest(big, join(work, 'lake-big'));
  const bigMb = statSync(big).size / 2 ** 20;
  rows.push([
    'octa ingest (CLI process)',
    BIG,
    bigRun.seconds.toFixed(2),
    (BIG / bigRun.seconds / 1e6).toFixed(2),
    (bigMb / bigRun.seconds).toFixed(1),
    bigRun.peakMb.toFixed(0),
  ]);
}
console.log(
  `# bench/ingest — Node ${process.version}, CSV of ${ROWS.toLocaleString('en')} rows (${mb.toFixed(0)} MB), median of ${REPEAT} runs each, round-robin\n`,
);
printTable(['job', 'rows', 'seconds', 'M points/s', 'MB/s', 'peak RSS MB'], rows);
console.log(
  `\nthroughput ratio octa / DuckDB (same job, sorted): ${(peer.seconds / ours.seconds).toFixed(2)}×`,
);
if (bigRun)
  console.log(
    `peak RSS ${BIG.toLocaleString('en')} vs ${ROWS.toLocaleString('en')} rows: ${(bigRun.peakMb / ours.peakMb).toFixed(2)}×`,
  );

/** The input shapes of issue 16, each against DuckDB's same job (sorted) in the same run. */
const SHAPES: [string, SensorCsvShape][] = [
  ['time-ordered, 3 decimals, epoch s', {}],
  ['random order, 3 decimals, epoch s', { order: 'random' }],
  ['time-ordered, full precision, epoch s', { digits: 'full' }],
  ['time-ordered, 3 decimals, ISO text', { times: 'iso' }],
  ['random order, full precision, ISO text', { order: 'random', digits: 'full', times: 'iso' }],
];
if (SHAPES_ROWS > 0) {
  const table: (string | number)[][] = [];
  for (const [label, shape] of SHAPES) {
    const csv = join(work, sensorCsvName(SHAPES_ROWS, shape));
    await generateSensorCsv(csv, SHAPES_ROWS, shape);
    const times = shape.times ?? 'epoch';
    const [o, d] = medians([
      () => octaIngest(csv, join(work, 'lake-shape'), times),
      () => duckdbIngest(csv, join(work, 'duckdb-shape'), 'sorted', times),
    ]) as [Run, Run];
    table.push([
      label,
      (statSync(csv).size / 2 ** 20).toFixed(0),
      o.seconds.toFixed(2),
      d.seconds.toFixed(2),
      `${(d.seconds / o.seconds).toFixed(2)}×`,
      o.peakMb.toFixed(0),
      d.peakMb.toFixed(0),
      `${o.files} / ${d.files}`,
    ]);
  }
  console.log(
    `\n# input shapes — ${SHAPES_ROWS.toLocaleString('en')} rows each, median of ${REPEAT}, round-robin per shape\n`,
  );
  printTable(
    [
      'input',
      'MB',
      'octa s',
      'DuckDB sorted s',
      'ratio octa/DuckDB',
      'octa RSS MB',
      'DuckDB RSS MB',
      'files octa / DuckDB',
    ],
    table,
  );
}
