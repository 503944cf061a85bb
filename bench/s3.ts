/**
 * bench/s3: the lake on S3 against the lake on local disk, and the cost of a rebalance, each beside
 * its peer in the same run.
 *
 * 1. `octa ingest` (a CLI process) of the same generated CSV into a local lake and into
 *    `s3://<bucket>/lake` on a real s3rver behind test/support/s3-server.ts (started in this
 *    process, its store under the bench directory), round-robin, median of `--repeat`.
 * 2. `runQuery` (in-process) of a small box and one day on the S3 lake through the file cache, cold
 *    (fresh cache directory) and warm: the GET requests the server saw against the files the
 *    planner selected.
 * 3. `octa rebalance --target-rows N/2` (a CLI process) of a lake whose one identifier range holds
 *    N rows, against reading and writing those rows once: DuckDB `COPY (SELECT * FROM
 *    read_parquet([the range's files])) TO … (FORMAT parquet, COMPRESSION zstd)`, and our own
 *    reader and writer (each file read and written again as it is, no commit).
 *
 * Run: npm run bench:s3 [-- --rows 2000000 --rebalance-rows 10000000 --repeat 3]
 * Work files go to $OCTA_BENCH_DIR (bench/out by default; /dev/shm/… keeps the disk out of it).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { EmbeddedCatalog } from '../src/lake/catalog/catalog.js';
import { liveFiles } from '../src/lake/catalog/catalog-state.js';
import { readPointChunks, tablesOf, writePointFile } from '../src/lake/maintenance/files.js';
import { LocalStorage } from '../src/lake/storage/local-storage.js';
import { runQuery } from '../src/sql/planner.js';
import { quoteLiteral } from '../src/sql/quote.js';
import { startS3Server } from '../test/support/s3-server.js';
import { BENCH_DIR, numberArg, printTable } from './harness.js';
import { generateSensorCsv } from './sensor-csv.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const octa = join(root, 'dist', 'cli', 'octa.js');
const work = join(BENCH_DIR, 's3');
const ROWS = numberArg('rows', 2_000_000);
const REPEAT = numberArg('repeat', 3);
const REBALANCE_ROWS = numberArg('rebalance-rows', 10_000_000);
const TABLE = 'points';
const BUCKET = 'octa-bench';

/** The query of part 2: a 10 m × 10 m column over every height, on the third day of the data. */
const BOX = [500, 500, 0, 510, 510, 200] as const;
const FROM = '2025-04-03';
const TO = '2025-04-04';

interface Run {
  seconds: number;
  peakMb: number;
  stdout: string;
}

/**
 * Runs `node <args>` as a child process, asynchronously (the S3 server lives in this process's
 * event loop), with bench/rss-report.js preloaded for the peak RSS.
 */
async function timed(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const rssFile = join(work, `rss-${process.pid}.jsonl`);
  rmSync(rssFile, { force: true });
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', join(here, 'rss-report.js'), ...args], {
    env: { ...process.env, ...env, OCTA_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${args.join(' ')} failed (${code}): ${stderr}`);
  const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
  const { peakMb } = JSON.parse(lines[lines.length - 1]!) as { peakMb: number };
  return { seconds, peakMb, stdout };
}

const median = <T>(xs: T[], key: (x: T) => number): T =>
  [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)]!;

function ingestArgs(csv: string, lake: string, extra: string[] = []): string[] {
  return [
    octa,
    'ingest',
    csv,
    '--lake',
    lake,
    ...extra,
    '--table',
    TABLE,
    '--frame',
    'cartesian:0,0,0,1024',
    '--lod',
    '12',
    '--time',
    't',
    '--time-unit',
    's',
    '--json',
    '--quiet',
  ];
}

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const inputs = join(BENCH_DIR, 'inputs');
mkdirSync(inputs, { recursive: true });

// s3rver keeps its objects under tmpdir(): put them beside the local lake, on the same medium.
const serverDir = join(work, 's3rver');
mkdirSync(serverDir, { recursive: true });
const savedTmp = process.env.TMPDIR;
process.env.TMPDIR = serverDir;
const server = await startS3Server({ bucket: BUCKET });
if (savedTmp === undefined) delete process.env.TMPDIR;
else process.env.TMPDIR = savedTmp;
// The in-process S3 clients (part 2) take s3rver's credentials and region from the environment.
Object.assign(process.env, server.env);

try {
  // ---- 1. ingest: local disk vs S3 ----
  const csv = join(inputs, `points-${ROWS}-6d-per-M.csv`);
  await generateSensorCsv(csv, ROWS);
  const csvMb = statSync(csv).size / 2 ** 20;
  const localRuns: Run[] = [];
  const s3Runs: (Run & { requests: Record<string, number> })[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const localLake = join(work, 'lake-local');
    rmSync(localLake, { recursive: true, force: true });
    localRuns.push(await timed(ingestArgs(csv, localLake)));
    // A fresh prefix per run; the first, `lake`, is queried in part 2.
    const prefix = r === 0 ? 'lake' : `lake-${r + 1}`;
    server.reset();
    const run = await timed(
      ingestArgs(csv, `s3://${BUCKET}/${prefix}`, ['--s3-endpoint', server.endpoint]),
      server.env,
    );
    s3Runs.push({ ...run, requests: { ...server.counts } });
    console.error(
      `ingest run ${r + 1}: local ${localRuns[r]!.seconds.toFixed(2)} s, S3 ${run.seconds.toFixed(2)} s`,
    );
  }
  const local = median(localRuns, (x) => x.seconds);
  const s3 = median(s3Runs, (x) => x.seconds);
  const s3Summary = JSON.parse(s3Runs[0]!.stdout) as { files: number; rows_committed: number };

  // ---- 2. a query through the file cache ----
  const lakeUrl = `s3://${BUCKET}/lake`;
  const isData = (key: string) => key.endsWith('.parquet');
  const queryRun = async (cacheDir: string, explain: boolean) => {
    server.reset();
    const t0 = performance.now();
    const result = await runQuery({
      lake: lakeUrl,
      s3: { endpoint: server.endpoint },
      remoteRead: 'cache',
      cacheDir,
      table: TABLE,
      box: [...BOX],
      from: FROM,
      to: TO,
      explain,
    });
    const ms = performance.now() - t0;
    const selected = new Set(result.plan.files.map((f) => `lake/${f.key}`));
    const gets = server.requests.filter((q) => q.method === 'GET');
    const data = gets.filter((q) => isData(q.key));
    return {
      ms,
      rows: result.rows.length,
      plan: result.plan,
      explain: result.explain,
      selected: selected.size,
      /** GETs of the selected files (whole downloads into the cache). */
      selectedGets: data.filter((q) => selected.has(q.key)).length,
      /** GETs of data files the planner did not select. */
      otherDataGets: data.filter((q) => !selected.has(q.key)).length,
      catalogGets: gets.length - data.length,
      heads: server.counts.HEAD,
    };
  };
  type QueryRun = Awaited<ReturnType<typeof queryRun>>;
  const colds: QueryRun[] = [];
  const warms: QueryRun[] = [];
  const explains: QueryRun[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const cacheDir = join(work, `cache-${r}`);
    colds.push(await queryRun(cacheDir, false));
    warms.push(await queryRun(cacheDir, false));
    explains.push(await queryRun(cacheDir, true));
  }
  const cold = median(colds, (x) => x.ms);
  const warm = median(warms, (x) => x.ms);
  const withExplain = median(explains, (x) => x.ms);
  const coldGets = colds.map((c) => c.selectedGets + c.otherDataGets);
  const coldGetsRange = `${Math.min(...coldGets)}–${Math.max(...coldGets)}`;
  const warmGetsMax = Math.max(...warms.map((w) => w.selectedGets + w.otherDataGets));

  // ---- 3. rebalance one range of N rows vs reading and writing it once ----
  const N = REBALANCE_ROWS;
  const bigCsv = join(inputs, `points-${N}-6d-per-M.csv`);
  await generateSensorCsv(bigCsv, N);
  const base = join(work, `rebalance-base-${N}`);
  const t0 = performance.now();
  const built = JSON.parse((await timed(ingestArgs(bigCsv, base))).stdout) as { files: number };
  const buildSeconds = (performance.now() - t0) / 1000;
  rmSync(bigCsv); // keep memory (tmpfs) bounded
  const baseStorage = await LocalStorage.create({ root: base });
  const snapshot = await (await EmbeddedCatalog.open({ storage: baseStorage })).snapshot();
  const files = liveFiles(snapshot, TABLE);
  const [table] = tablesOf(snapshot, TABLE);
  const ranges = new Set(files.map((f) => f.r));
  if (ranges.size !== 1) throw new Error(`expected one identifier range, found ${ranges.size}`);
  const rangeMb = files.reduce((a, f) => a + f.bytes, 0) / 2 ** 20;
  const paths = files.map((f) => baseStorage.localPath(f.key)!);

  const rebalanceRuns: (Run & { ops: number; moved: number; added: number })[] = [];
  const duckRuns: number[] = [];
  const oursRuns: number[] = [];
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  for (let r = 0; r < REPEAT; r++) {
    const lake = join(work, 'rebalance-lake');
    rmSync(lake, { recursive: true, force: true });
    cpSync(base, lake, { recursive: true });
    const run = await timed([
      octa,
      'rebalance',
      '--lake',
      lake,
      '--target-rows',
      String(Math.floor(N / 2)),
      '--json',
    ]);
    const summary = JSON.parse(run.stdout) as { operations: { filesRemoved: number; filesAdded: number }[] };
    rebalanceRuns.push({
      ...run,
      ops: summary.operations.length,
      moved: summary.operations.reduce((a, o) => a + o.filesRemoved, 0),
      added: summary.operations.reduce((a, o) => a + o.filesAdded, 0),
    });
    rmSync(lake, { recursive: true, force: true });

    const copy = join(work, 'duckdb-copy.parquet');
    rmSync(copy, { force: true });
    let t = performance.now();
    await conn.run(
      `COPY (SELECT * FROM read_parquet([${paths.map(quoteLiteral).join(', ')}])) TO ${quoteLiteral(copy)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    duckRuns.push((performance.now() - t) / 1000);
    rmSync(copy, { force: true });

    const scratch = join(work, 'rewrite');
    rmSync(scratch, { recursive: true, force: true });
    const out = await LocalStorage.create({ root: scratch });
    t = performance.now();
    for (const f of files) {
      const chunks = await readPointChunks(baseStorage, f.key, table!.schema);
      await writePointFile({
        storage: out,
        table: table!,
        t: f.t,
        r: f.r,
        writer: 'bench',
        batch: 'bench',
        chunks,
      });
    }
    oursRuns.push((performance.now() - t) / 1000);
    rmSync(scratch, { recursive: true, force: true });
    console.error(
      `rebalance run ${r + 1}: rebalance ${run.seconds.toFixed(2)} s, DuckDB COPY ${duckRuns[r]!.toFixed(2)} s, our read+write ${oursRuns[r]!.toFixed(2)} s`,
    );
  }
  conn.closeSync();
  db.closeSync();
  const reb = median(rebalanceRuns, (x) => x.seconds);
  const duck = median(duckRuns, (x) => x);
  const ours = median(oursRuns, (x) => x);

  // ---- report ----
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
  const ratio = local.seconds / s3.seconds;
  console.log(
    `# bench/s3 — Node ${process.version}, ${date} UTC, work dir ${work}, median of ${REPEAT}, round-robin\n`,
  );
  console.log(
    `## ingest: CSV of ${ROWS.toLocaleString('en')} rows (${csvMb.toFixed(0)} MB), ${s3Summary.files} files\n`,
  );
  const s3Req = s3.requests;
  printTable(
    ['target', 'seconds', 'M points/s', 'MB/s', 'peak RSS MB', 'requests'],
    [
      [
        'local lake (disk dir)',
        local.seconds.toFixed(2),
        (ROWS / local.seconds / 1e6).toFixed(2),
        (csvMb / local.seconds).toFixed(1),
        local.peakMb.toFixed(0),
        '—',
      ],
      [
        `s3://${BUCKET}/lake (s3rver, 127.0.0.1)`,
        s3.seconds.toFixed(2),
        (ROWS / s3.seconds / 1e6).toFixed(2),
        (csvMb / s3.seconds).toFixed(1),
        s3.peakMb.toFixed(0),
        `PUT ${s3Req.PUT}, GET ${s3Req.GET}, HEAD ${s3Req.HEAD}, POST ${s3Req.POST}, DELETE ${s3Req.DELETE}`,
      ],
    ],
  );
  console.log(
    `\nS3 / local throughput: ${(ratio * 100).toFixed(0)}% (goal ≥ 70%: ${verdict(ratio >= 0.7)})\n`,
  );
  console.log(`## query through the file cache: box ${BOX.join(',')} on ${FROM}, ${cold.rows} rows\n`);
  const ex = withExplain.explain!;
  printTable(
    ['measure', 'cold cache', 'warm cache', 'warm cache, explain'],
    [
      [
        'files committed / selected by the planner',
        `${cold.plan.totalFiles} / ${cold.selected}`,
        `${warm.plan.totalFiles} / ${warm.selected}`,
        `${ex.filesTotal} / ${ex.filesConsidered}`,
      ],
      ['GETs of selected data files', cold.selectedGets, warm.selectedGets, withExplain.selectedGets],
      ['GETs of other data files', cold.otherDataGets, warm.otherDataGets, withExplain.otherDataGets],
      [
        'GETs of the catalog (list + log) / HEADs',
        `${cold.catalogGets} / ${cold.heads}`,
        `${warm.catalogGets} / ${warm.heads}`,
        `${withExplain.catalogGets} / ${withExplain.heads}`,
      ],
      [
        'runQuery ms (opens the lake each call)',
        cold.ms.toFixed(0),
        warm.ms.toFixed(0),
        withExplain.ms.toFixed(0),
      ],
    ],
  );
  console.log(
    `\ndata GETs over ${REPEAT} runs: cold ${coldGetsRange}, warm at most ${warmGetsMax}; row groups read ${ex.rowGroupsConsidered} of ${ex.rowGroupsTotal}\n`,
  );
  console.log(
    `## rebalance: one range of ${N.toLocaleString('en')} rows in ${files.length} files (${rangeMb.toFixed(0)} MB), target ${Math.floor(N / 2).toLocaleString('en')}; lake built in ${buildSeconds.toFixed(1)} s (${built.files} files)\n`,
  );
  printTable(
    ['job', 'seconds', 'peak RSS MB', 'rebalance / job'],
    [
      [
        `octa rebalance --target-rows ${Math.floor(N / 2)} (CLI; ${reb.ops} split, ${reb.moved} files → ${reb.added})`,
        reb.seconds.toFixed(2),
        reb.peakMb.toFixed(0),
        '—',
      ],
      [
        'DuckDB COPY read_parquet(range files) → one zstd file',
        duck.toFixed(2),
        '—',
        `${(reb.seconds / duck).toFixed(2)}×`,
      ],
      [
        'our reader + writer, each file once (no commit)',
        ours.toFixed(2),
        '—',
        `${(reb.seconds / ours).toFixed(2)}×`,
      ],
    ],
  );
  console.log(
    `\ngoal rebalance ≤ 2× read+write once: DuckDB peer ${verdict(reb.seconds <= 2 * duck)}, own peer ${verdict(reb.seconds <= 2 * ours)}`,
  );
  const slim = ({ plan: _p, explain: _e, ...q }: QueryRun) => q;
  writeFileSync(
    join(work, 'result.json'),
    JSON.stringify(
      {
        localRuns,
        s3Runs,
        colds: colds.map(slim),
        warms: warms.map(slim),
        explains: explains.map(slim),
        rebalanceRuns,
        duckRuns,
        oursRuns,
      },
      null,
      1,
    ),
  );
} finally {
  await server.stop();
}
