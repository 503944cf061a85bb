/**
 * bench/export: `octa export training-set` with k = 1 (14 neighbours, feature `count`) on the
 * generated lakes of bench/query (5M and 20M points), as a cold CLI process, against the same
 * neighbourhood gather written as a plain DuckDB self-join (bench/export-duckdb.ts), each a separate
 * process, round-robin in the same run, median of the runs. Peak RSS is the process's `maxRSS`
 * (bench/rss-report.ts preloaded with `--import`): two lake sizes show whether memory grows with
 * the number of samples.
 *
 * Run: node dist/bench/export.js [--rows 20000000 --small 5000000 --lod 9 --runs 3]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_DIR, numberArg, printTable } from './harness.js';
import { buildPointLake } from './point-lake.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const BIG = numberArg('rows', 20_000_000);
const SMALL = numberArg('small', 5_000_000);
const LOD = numberArg('lod', 9);
const RUNS = numberArg('runs', 3);

/** One process run: wall seconds, peak RSS and its stdout. */
interface Run {
  s: number;
  peakMb: number;
  stdout: string;
}

/** Runs a Node script as a cold process with bench/rss-report.ts preloaded. */
function runNode(args: string[]): Run {
  const rssFile = join(BENCH_DIR, `rss-export-${process.pid}.jsonl`);
  rmSync(rssFile, { force: true });
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', join(here, 'rss-report.js'), ...args], {
    env: { ...process.env, OCTA_RSS_FILE: rssFile },
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  const { peakMb } = JSON.parse(readFileSync(rssFile, 'utf8').trim()) as { peakMb: number };
  rmSync(rssFile, { force: true });
  return { s, peakMb, stdout: r.stdout };
}

const median = (runs: Run[], key: 's' | 'peakMb') => {
  const v = runs.map((r) => r[key]).sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)]!;
};

const rows: (string | number)[][] = [];
const ratios: string[] = [];
const rss: Record<string, number> = {};
for (const points of [SMALL, BIG]) {
  const lake = await buildPointLake(points);
  const out = join(BENCH_DIR, `export-ts-${points}`);
  const peerOut = join(BENCH_DIR, `export-duckdb-${points}.parquet`);
  const ours: Run[] = [];
  const peer: Run[] = [];
  let samples = 0;
  let peerRows = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = runNode([
      join(root, 'dist', 'cli', 'octa.js'),
      'export',
      'training-set',
      '--lake',
      lake,
      '--table',
      'points',
      '--lod',
      String(LOD),
      '--k',
      '1',
      '--features',
      'count',
      '--split-lod',
      String(LOD - 4),
      '--seed',
      '1',
      '--out',
      out,
      '--json',
    ]);
    const m = JSON.parse(r.stdout) as { splits: Record<string, number> };
    samples = Object.values(m.splits).reduce((a, b) => a + b, 0);
    ours.push(r);
    const p = runNode([join(here, 'export-duckdb.js'), lake, String(LOD), peerOut]);
    peerRows = Number(p.stdout.trim());
    peer.push(p);
  }
  if (peerRows !== samples) console.error(`WARNING: DuckDB wrote ${peerRows} rows, octa ${samples} samples`);
  const oursS = median(ours, 's');
  const peerS = median(peer, 's');
  rss[points] = median(ours, 'peakMb');
  rows.push(
    [
      'octa export training-set (CLI process)',
      points,
      samples,
      oursS.toFixed(2),
      Math.round(samples / oursS / 1000),
      median(ours, 'peakMb').toFixed(0),
    ],
    [
      'DuckDB self-join gather (same run)',
      points,
      peerRows,
      peerS.toFixed(2),
      Math.round(peerRows / peerS / 1000),
      median(peer, 'peakMb').toFixed(0),
    ],
  );
  ratios.push(`${points} points: octa / DuckDB throughput ${(peerS / oursS).toFixed(2)}×`);
  rmSync(out, { recursive: true, force: true });
  rmSync(peerOut, { force: true });
}

console.log(
  `# bench/export — Node ${process.version}, ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at the end; k = 1, features count, LOD ${LOD}, median of ${RUNS}\n`,
);
printTable(['job', 'points', 'samples', 'seconds', 'k samples/s', 'peak RSS MB'], rows);
console.log(`\n${ratios.join('\n')}`);
console.log(`octa peak RSS ${BIG} / ${SMALL} points: ${(rss[BIG]! / rss[SMALL]!).toFixed(2)}×`);
