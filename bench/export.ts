/**
 * bench/export: `octa export training-set` with k = 1 (14 neighbours, feature `count`) on the
 * generated lakes of bench/query, as a cold CLI process, against the same neighbourhood gather
 * written as a plain DuckDB self-join (bench/export-duckdb.ts), each a separate process, round-robin
 * in the same run, median of the runs. Peak RSS is the process's `maxRSS` (bench/rss-report.ts
 * preloaded with `--import`). Cases: the 5M- and 20M-point lakes at `--lod`, then the 20M lake at
 * each of `--sweep` LODs, so the samples grow ~23× over the same points: that shows whether memory
 * grows with the number of samples. The peer runs up to `--peer-max-lod` (at LOD 11 it needed over
 * 300 s and 21 GB on a 24 GB machine).
 *
 * Run: node dist/bench/export.js [--rows 20000000 --small 5000000 --lod 9 --sweep 8,10,11
 *   --peer-max-lod 10 --runs 3]
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
const PEER_MAX_LOD = numberArg('peer-max-lod', 10);
const sweepAt = process.argv.indexOf('--sweep');
const SWEEP = (sweepAt < 0 ? '8,10,11' : (process.argv[sweepAt + 1] ?? ''))
  .split(',')
  .filter((v) => v !== '')
  .map(Number);

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
const rss: { samples: number; peakMb: number }[] = [];
const cases: [number, number][] = [
  [SMALL, LOD],
  [BIG, LOD],
  ...SWEEP.filter((l) => l !== LOD).map((l): [number, number] => [BIG, l]),
];
for (const [points, lod] of cases) {
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
      String(lod),
      '--k',
      '1',
      '--features',
      'count',
      '--split-lod',
      String(lod - 4),
      '--seed',
      '1',
      '--out',
      out,
      '--json',
    ]);
    const m = JSON.parse(r.stdout) as { splits: Record<string, number> };
    samples = Object.values(m.splits).reduce((a, b) => a + b, 0);
    ours.push(r);
    if (lod > PEER_MAX_LOD) continue;
    const p = runNode([join(here, 'export-duckdb.js'), lake, String(lod), peerOut]);
    peerRows = Number(p.stdout.trim());
    peer.push(p);
  }
  const oursS = median(ours, 's');
  if (points === BIG) rss.push({ samples, peakMb: median(ours, 'peakMb') });
  /** A table row: the job's median seconds, throughput and peak RSS. */
  const line = (job: string, runs: Run[], n: number) => {
    const sec = median(runs, 's');
    rows.push([
      job,
      points,
      lod,
      n,
      sec.toFixed(2),
      Math.round(n / sec / 1000),
      median(runs, 'peakMb').toFixed(0),
    ]);
  };
  line('octa export training-set (CLI process)', ours, samples);
  if (peer.length > 0) {
    if (peerRows !== samples)
      console.error(`WARNING: DuckDB wrote ${peerRows} rows, octa ${samples} samples`);
    const peerS = median(peer, 's');
    line('DuckDB self-join gather (same run)', peer, peerRows);
    ratios.push(
      `${points} points, LOD ${lod}: octa / DuckDB throughput ${(peerS / oursS).toFixed(2)}×, peak RSS ${(median(peer, 'peakMb') / median(ours, 'peakMb')).toFixed(1)}× less`,
    );
  }
  rmSync(out, { recursive: true, force: true });
  rmSync(peerOut, { force: true });
}

console.log(
  `# bench/export — Node ${process.version}, ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at the end; k = 1, features count, split LOD = LOD − 4, median of ${RUNS}\n`,
);
printTable(['job', 'points', 'LOD', 'samples', 'seconds', 'k samples/s', 'peak RSS MB'], rows);
console.log(`\n${ratios.join('\n')}`);
rss.sort((a, b) => a.samples - b.samples);
const [lo, hi] = [rss[0]!, rss[rss.length - 1]!];
console.log(
  `octa on ${BIG} points: ${(hi.samples / lo.samples).toFixed(1)}× the samples (${lo.samples} → ${hi.samples}), peak RSS ${lo.peakMb.toFixed(0)} → ${hi.peakMb.toFixed(0)} MB (${(hi.peakMb / lo.peakMb).toFixed(2)}×), ${(((hi.peakMb - lo.peakMb) * 2 ** 20) / (hi.samples - lo.samples)).toFixed(1)} bytes per added sample`,
);
