/**
 * bench/query: a box + one-day spatial query on a generated lake, four ways in the same run:
 * `runQuery` in-process (warm session), `octa query` as a cold CLI process, DuckDB scanning an
 * unpartitioned, unsorted Parquet copy of the same rows, and the ideal plan — DuckDB reading only
 * the row groups of the committed files that hold a hit. Also reports row groups read by our plan
 * against that minimum.
 *
 * The lake (N points over 30 days, frame cartesian:0,0,0,1024, LOD 12) and the unsorted copy are
 * built once under bench/out/ and reused.
 *
 * Run: npm run bench:query [-- --rows 5000000 --runs 7]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { liveFiles } from '../src/lake/catalog/catalog-state.js';
import { openLake } from '../src/sql/open.js';
import { runQuery } from '../src/sql/planner.js';
import { quoteLiteral } from '../src/sql/quote.js';
import { BENCH_DIR, measureAsync, numberArg, printTable } from './harness.js';
import { buildPointLake, DAYS, pointLakeDir } from './point-lake.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const work = BENCH_DIR;
const arg = numberArg;
const ROWS = arg('rows', 20_000_000);
const RUNS = arg('runs', 7);
const TABLE = 'points';

/** The query: a 10 m × 10 m column over all heights (z of every point is in 0..200 m), on day 13. */
const BOX = [500, 500, 0, 510, 510, 200] as const;
const FROM = '2025-04-13';
const TO = '2025-04-14';

const lakeDir = pointLakeDir(ROWS);
const unsortedPath = join(work, `query-unsorted-${ROWS}.parquet`);

/** Builds the lake and the unsorted copy unless a completed build is cached. */
async function build(): Promise<void> {
  mkdirSync(work, { recursive: true });
  await buildPointLake(ROWS);
  if (!existsSync(unsortedPath)) {
    const t0 = performance.now();
    const files = await committedFiles();
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run(
      `COPY (SELECT * FROM read_parquet(${list(files)}) ORDER BY random()) TO ${quoteLiteral(`${unsortedPath}.tmp`)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    conn.closeSync();
    db.closeSync();
    // COPY leaves a partial file on failure; the rename marks a finished copy.
    renameSync(`${unsortedPath}.tmp`, unsortedPath);
    console.error(`built unsorted copy in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

const list = (paths: string[]) => `[${paths.map(quoteLiteral).join(', ')}]`;

async function committedFiles(): Promise<string[]> {
  const s = await openLake({ lake: lakeDir });
  try {
    return liveFiles(s.snapshot, TABLE).map((f) => s.storage.localPath(f.key)!);
  } finally {
    s.close();
  }
}

/** The query's predicates as plain SQL (the same the planner ends with). */
const predicates = `x BETWEEN ${BOX[0]} AND ${BOX[3]} AND y BETWEEN ${BOX[1]} AND ${BOX[4]} AND z BETWEEN ${BOX[2]} AND ${BOX[5]}
  AND time >= TIMESTAMPTZ '${FROM} 00:00:00+00' AND time < TIMESTAMPTZ '${TO} 00:00:00+00'`;

/** Cold `octa query` process: wall time in ms, peak RSS (bench/rss-report.ts) and rows printed. */
function coldCli(): { ms: number; peakMb: number; rows: number } {
  const rssFile = join(work, `rss-${process.pid}.jsonl`);
  rmSync(rssFile, { force: true });
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      join(here, 'rss-report.js'),
      join(root, 'dist', 'cli', 'octa.js'),
      'query',
      '--lake',
      lakeDir,
      '--table',
      TABLE,
      '--box',
      BOX.join(','),
      '--from',
      FROM,
      '--to',
      TO,
      '--format',
      'json',
    ],
    {
      env: { ...process.env, OCTA_RSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 256 * 2 ** 20,
    },
  );
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`octa query failed: ${r.stderr}`);
  const { peakMb } = JSON.parse(readFileSync(rssFile, 'utf8').trim()) as { peakMb: number };
  rmSync(rssFile, { force: true });
  return { ms, peakMb, rows: (JSON.parse(r.stdout) as unknown[]).length };
}

await build();
const files = await committedFiles();
const lakeMb = files.reduce((a, f) => a + statSync(f).size, 0) / 2 ** 20;
const copyMb = statSync(unsortedPath).size / 2 ** 20;

// (a) runQuery in-process, one session reused.
const session = await openLake({ lake: lakeDir });
const query = { session, table: TABLE, box: [...BOX], from: FROM, to: TO };
const first = await runQuery({ ...query, explain: true });
const hits = first.rows.length;
const explain = first.explain!;
const warm = await measureAsync('runQuery', hits, () => runQuery(query), { runs: RUNS, warmup: 2 });

// Peers run on their own DuckDB instance (same settings as a lake session: UTC, default threads).
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
await conn.run("SET TimeZone = 'UTC'");
const count = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJS().length;

// (c) DuckDB over the unpartitioned, unsorted copy.
const scanSql = `SELECT * FROM read_parquet(${quoteLiteral(unsortedPath)}) WHERE ${predicates}`;
const scanRows = await count(scanSql);
const scan = await measureAsync('scan', hits, () => count(scanSql), { runs: RUNS, warmup: 1 });

// (d) the ideal plan: the row groups of the committed files that hold a hit, found from the hits'
// file_row_number and the footers' row-group sizes.
const hitRows = (
  await conn.runAndReadAll(
    `SELECT filename, file_row_number FROM read_parquet(${list(files)}, filename = true, file_row_number = true) WHERE ${predicates}`,
  )
).getRowsJS() as [string, bigint][];
const groups = (
  await conn.runAndReadAll(
    `SELECT DISTINCT file_name, row_group_id, row_group_num_rows FROM parquet_metadata(${list(files)}) ORDER BY file_name, row_group_id`,
  )
).getRowsJS() as [string, bigint, bigint][];
const starts = new Map<string, { id: number; start: number; end: number }[]>();
for (const [file, id, n] of groups) {
  const rgs = starts.get(file) ?? [];
  const start = rgs.length === 0 ? 0 : rgs[rgs.length - 1]!.end;
  rgs.push({ id: Number(id), start, end: start + Number(n) });
  starts.set(file, rgs);
}
const needed = new Map<string, Map<number, { start: number; end: number }>>();
for (const [file, rowNumber] of hitRows) {
  const rg = starts.get(file)!.find((g) => Number(rowNumber) >= g.start && Number(rowNumber) < g.end)!;
  const m = needed.get(file) ?? new Map<number, { start: number; end: number }>();
  m.set(rg.id, rg);
  needed.set(file, m);
}
const minimumGroups = [...needed.values()].reduce((a, m) => a + m.size, 0);
// DuckDB prunes row groups on a single `file_row_number BETWEEN` filter (an OR of ranges prunes
// only to their envelope), so the ideal plan is one scan per needed row group.
const idealSql =
  [...needed]
    .flatMap(([file, rgs]) =>
      [...rgs.values()].map(
        (g) =>
          `SELECT * EXCLUDE (file_row_number) FROM read_parquet(${quoteLiteral(file)}, file_row_number = true)
           WHERE file_row_number BETWEEN ${g.start} AND ${g.end - 1} AND ${predicates}`,
      ),
    )
    .join('\nUNION ALL\n') || `SELECT * FROM read_parquet(${quoteLiteral(files[0]!)}) WHERE false`;
const idealRows = await count(idealSql);
const ideal = await measureAsync('ideal', hits, () => count(idealSql), { runs: RUNS, warmup: 1 });
const neededRows = [...needed.values()].reduce(
  (a, m) => a + [...m.values()].reduce((b, g) => b + g.end - g.start, 0),
  0,
);
conn.closeSync();
db.closeSync();
session.close();

// (b) cold CLI processes.
const cliRuns: { ms: number; peakMb: number; rows: number }[] = [];
for (let i = 0; i < RUNS; i++) cliRuns.push(coldCli());
cliRuns.sort((p, q) => p.ms - q.ms);
const cli = cliRuns[Math.floor(cliRuns.length / 2)]!;

for (const [name, n] of [
  ['unsorted scan', scanRows],
  ['ideal plan', idealRows],
  ['octa query', cli.rows],
] as const) {
  if (n !== hits) console.error(`WARNING: ${name} returned ${n} rows, runQuery ${hits}`);
}

const ms = (t: number) => (t < 10 ? t.toFixed(2) : t.toFixed(1));
const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
console.log(
  `# bench/query — Node ${process.version}, ${ROWS.toLocaleString('en')} points over ${DAYS} days (lake ${files.length} files, ${lakeMb.toFixed(0)} MB; unsorted copy ${copyMb.toFixed(0)} MB), box ${BOX.join(',')} on ${FROM}: ${hits} rows (${((hits / ROWS) * 100).toFixed(5)}%), median of ${RUNS}\n`,
);
printTable(
  ['measure', 'value', 'goal', ''],
  [
    ['(a) `runQuery` in-process, warm session (ms)', ms(warm.ms), '—', ''],
    ['(b) `octa query --format json`, cold process (ms)', ms(cli.ms), '< 1000', verdict(cli.ms < 1000)],
    ['(c) DuckDB over the unpartitioned unsorted copy (ms)', ms(scan.ms), '—', ''],
    ['(d) ideal plan: DuckDB over only the row groups with hits (ms)', ms(ideal.ms), '—', ''],
    ['speed-up (a) vs (c)', `${(scan.ms / warm.ms).toFixed(1)}×`, '≥ 50×', verdict(scan.ms / warm.ms >= 50)],
    ['(a) / (d)', `${(warm.ms / ideal.ms).toFixed(2)}×`, '≤ 2×', verdict(warm.ms / ideal.ms <= 2)],
    ['files read by our plan / total', `${explain.filesConsidered} / ${explain.filesTotal}`, '—', ''],
    [
      'row groups read by our plan / minimum (total)',
      `${explain.rowGroupsConsidered} / ${minimumGroups} (${explain.rowGroupsTotal})`,
      '≤ 2× minimum',
      verdict(explain.rowGroupsConsidered <= 2 * minimumGroups),
    ],
    ['row groups whose cell statistics meet an id range', explain.rowGroupsMatching, '—', ''],
  ],
);
console.log(
  `\ncold octa query peak RSS ${cli.peakMb.toFixed(0)} MB; id ranges: ${explain.ranges.length}; ideal plan needs ${neededRows.toLocaleString('en')} rows in ${minimumGroups} row groups`,
);
