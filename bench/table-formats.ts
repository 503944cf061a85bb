/**
 * bench/table-formats: what publishing the Delta Lake and Iceberg views costs (issue 17).
 *
 * 1. `octa ingest` of a generated CSV (`--rows`, default 2M) with `--metrics`: the wall time, the
 *    time the publication took (octa_ingest_publish_seconds) and its share, beside DuckDB's same job
 *    (bench/duckdb-ingest.ts) in the same run; median of `--repeat` runs, round-robin.
 * 2. A lake of `--commits` small ingests (default 1,000) and one compaction: how many manifests the
 *    current Iceberg snapshot references, how many Delta JSON commits a reader replays after the
 *    newest checkpoint, the metadata bytes per commit of each format, and how long reading each
 *    view's live files takes (the planning a reader does) beside listing the catalog's own files.
 *
 * Run: npm run build && node dist/bench/table-formats.js [--rows 2000000 --repeat 3 --commits 1000]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { EmbeddedCatalog } from '../src/lake/catalog/catalog.js';
import { tableViews } from '../src/lake/catalog/publish/views.js';
import { ingest } from '../src/lake/ingest/ingest.js';
import { compact } from '../src/lake/maintenance/compact.js';
import { LocalStorage } from '../src/lake/storage/local-storage.js';
import { BENCH_DIR, numberArg, octaIngestArgs, printTable } from './harness.js';
import { generateSensorCsv, sensorCsvName } from './sensor-csv.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const work = BENCH_DIR;
const ROWS = numberArg('rows', 2_000_000);
const REPEAT = numberArg('repeat', 3);
const COMMITS = numberArg('commits', 1000);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function run(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

/** One `octa ingest` with metrics: wall seconds and the publication's seconds. */
function octaIngest(csv: string, lake: string): { wall: number; publish: number } {
  rmSync(lake, { recursive: true, force: true });
  const metrics = join(work, 'publish-metrics.prom');
  rmSync(metrics, { force: true });
  const wall = run([
    ...octaIngestArgs(join(root, 'dist', 'cli', 'octa.js'), csv, lake),
    '--metrics',
    metrics,
  ]);
  const line = readFileSync(metrics, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('octa_ingest_publish_seconds_sum '));
  if (line === undefined) throw new Error('the ingest recorded no publication time');
  return { wall, publish: Number(line.split(' ')[1]) };
}

mkdirSync(work, { recursive: true });
const csv = join(work, sensorCsvName(ROWS));
await generateSensorCsv(csv, ROWS);
const walls: number[] = [];
const publishes: number[] = [];
const peers: number[] = [];
for (let r = 0; r < REPEAT; r++) {
  const o = octaIngest(csv, join(work, 'lake-formats'));
  walls.push(o.wall);
  publishes.push(o.publish);
  const out = join(work, 'duckdb-formats');
  rmSync(out, { recursive: true, force: true });
  peers.push(run([join(here, 'duckdb-ingest.js'), csv, out, 'sorted', 'epoch']));
}
console.log(
  `# bench/table-formats — Node ${process.version}, ${ROWS.toLocaleString('en')} rows, median of ${REPEAT}, round-robin\n`,
);
printTable(
  ['job', 'wall s', 'publishing s', 'publishing share', 'DuckDB same job s', 'ratio octa/DuckDB'],
  [
    [
      'octa ingest, publishing Delta + Iceberg',
      median(walls).toFixed(2),
      median(publishes).toFixed(3),
      `${((100 * median(publishes)) / median(walls)).toFixed(1)}%`,
      median(peers).toFixed(2),
      `${(median(peers) / median(walls)).toFixed(2)}×`,
    ],
  ],
);

// 2. Many small commits, then a compaction.
const dir = join(work, 'formats-commits');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const storage = await LocalStorage.create({ root: join(dir, 'lake') });
const t0 = performance.now();
for (let c = 0; c < COMMITS; c++) {
  const path = join(dir, `input-${c}.csv`);
  const lines = ['x,y,z,t,value'];
  for (let i = 0; i < 10; i++)
    lines.push(`${(c * 7 + i) % 1000},${(c * 13 + i) % 1000},${i},${1_700_000_000 + c * 60 + i},${i}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  await ingest({
    storage,
    table: 'points',
    inputs: [{ path }],
    frame: 'cartesian:0,0,0,1024',
    lod: 12,
    time: 't',
    timeUnit: 's',
    rejectFile: null,
  });
  rmSync(path);
}
const ingestSeconds = (performance.now() - t0) / 1000;
await compact({ storage, targetRows: 1_000_000, minFileRows: 100_000 });
const catalog = await EmbeddedCatalog.open({ storage });
const snapshot = await catalog.snapshot();
const liveCount = snapshot.tables.get('points')!.files.size;

const bytesUnder = async (prefix: string) => {
  const entries = await storage.list(prefix);
  return { count: entries.length, bytes: entries.reduce((n, e) => n + e.size, 0) };
};
const delta = await bytesUnder('points/_delta_log/');
const iceberg = await bytesUnder('points/metadata/');
// No checkpoint yet (fewer than 10 Delta versions): a reader replays every JSON commit.
const last = (await storage.stat('points/_delta_log/_last_checkpoint'))
  ? (JSON.parse(new TextDecoder().decode(await storage.read('points/_delta_log/_last_checkpoint'))) as {
      version: number;
    })
  : { version: -1 };
const jsonAfter = (await storage.list('points/_delta_log/')).filter((e) => {
  const m = /\/(\d{20})\.json$/.exec(e.key);
  return m !== null && Number(m[1]) > last.version;
}).length;
const hint = new TextDecoder().decode(await storage.read('points/metadata/version-hint.text')).trim();
const metadata = JSON.parse(
  new TextDecoder().decode(await storage.read(`points/metadata/v${hint}.metadata.json`)),
) as { 'current-snapshot-id': number; snapshots: { 'snapshot-id': number; 'manifest-list': string }[] };
const current = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id'])!;
const listPath = current['manifest-list'].slice(current['manifest-list'].indexOf('/points/metadata/') + 1);
const manifests: unknown[] = [];
await new Promise<void>((resolve, reject) => {
  avro
    .createFileDecoder(storage.localPath(listPath)!)
    .on('data', (m: unknown) => manifests.push(m))
    .on('end', resolve)
    .on('error', reject);
});

const timings: (string | number)[][] = [];
for (const view of await tableViews()) {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    const state = await view.read(storage, 'points');
    times.push(performance.now() - s);
    if (state?.files.size !== liveCount) throw new Error(`${view.format} lists ${state?.files.size} files`);
  }
  timings.push([`read the ${view.format} view's live files`, median(times).toFixed(1)]);
}
const catalogTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  const s = performance.now();
  await (await EmbeddedCatalog.open({ storage })).snapshot();
  catalogTimes.push(performance.now() - s);
}
timings.push(["open the embedded catalog (peer: the lake's own state)", median(catalogTimes).toFixed(1)]);

console.log(
  `\n# ${COMMITS} small ingest commits (${ingestSeconds.toFixed(1)} s, ${((1000 * ingestSeconds) / COMMITS).toFixed(0)} ms each, publishing included), then one compaction: ${liveCount} live file(s), catalog version ${snapshot.version}\n`,
);
printTable(
  ['figure', 'value'],
  [
    ['Iceberg manifests the current snapshot references', manifests.length],
    ['Delta checkpoint version / JSON commits replayed after it', `${last.version} / ${jsonAfter}`],
    ['Delta log: files, bytes per commit', `${delta.count}, ${(delta.bytes / snapshot.version).toFixed(0)}`],
    [
      'Iceberg metadata: files, bytes per commit',
      `${iceberg.count}, ${(iceberg.bytes / snapshot.version).toFixed(0)}`,
    ],
  ],
);
console.log('');
printTable(['planning (median of 5)', 'ms'], timings);
rmSync(dir, { recursive: true, force: true });
