/**
 * `octa ingest` and `octa demo` as a user runs them: its stdout (nothing but the JSON with --json),
 * stderr (progress and one-line errors), exit codes and stdin through the CLI's `main` in this
 * process; the built CLI in child processes for several processes writing one lake at once and
 * for the demo under another time zone (a process's own setting).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { committed, filesUnder, removeDir, sharedData, tempDir } from '../lake/fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, pointsToCsv } from '../lake/fixtures/ingest/points.js';
import { OCTA, octaInProcess as octa, runOcta } from './run.js';

const SUMMARY_KEYS = [
  'rows_read',
  'rows_committed',
  'rows_rejected',
  'files',
  'partitions',
  'batches_skipped',
  'version',
  'reject_file',
  'publish_errors',
];

interface Summary {
  rows_read: number;
  rows_committed: number;
  rows_rejected: number;
  files: number;
  partitions: number;
  batches_skipped: number;
  version: number | null;
  reject_file: string | null;
}

let dir: string;
let lake: string;

beforeEach(() => {
  dir = tempDir('ingest-cli');
  lake = join(dir, 'lake');
});

afterEach(() => {
  removeDir(dir);
});

function csvFile(name: string, rows: number, seed: number): string {
  const path = join(dir, name);
  writeFileSync(path, pointsToCsv(generatePoints({ rows, seed, days: 3 })));
  return path;
}

const pointArgs = (...files: string[]) => [
  'ingest',
  ...files,
  '--lake',
  lake,
  '--table',
  'pts',
  '--frame',
  POINTS_FRAME,
  '--lod',
  '9',
  '--time',
  'time',
];

/** `args` with the value of `option` replaced (yargs would make a repeated option an array). */
function withOption(args: string[], option: string, value: string): string[] {
  const at = args.indexOf(option);
  expect(at).toBeGreaterThanOrEqual(0);
  return args.map((v, i) => (i === at + 1 ? value : v));
}

/** The summary a run printed: stdout must be exactly one line of JSON with the summary keys in order. */
function summaryOf(r: { status: number | null; stdout: string; stderr: string }): Summary {
  expect(r.stderr.split('\n').filter((l) => l.startsWith('octa: ') && !/rows read/.test(l))).toEqual([]);
  expect(r.status).toBe(0);
  expect(r.stdout.endsWith('\n')).toBe(true);
  expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  const summary = JSON.parse(r.stdout) as Summary;
  expect(Object.keys(summary)).toEqual(SUMMARY_KEYS);
  return summary;
}

/** Runs the CLI asynchronously, so that several can run at once. */
function octaAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OCTA, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function rowsIn(table = 'pts'): Promise<number> {
  return (await committed(lake, table)).files.reduce((n, f) => n + f.rows, 0);
}

describe('octa ingest', () => {
  it('--help describes the command and exits 0', async () => {
    const r = await octa(['ingest', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/octa ingest \[files\.\.\]/);
    for (const option of [
      '--lake',
      '--table',
      '--frame',
      '--lod',
      '--time',
      '--max-rejects',
      '--force',
      '--json',
    ]) {
      expect(r.stdout).toContain(option);
    }
    expect(r.stderr).toBe('');
  });

  it('--json prints exactly the summary on stdout; progress goes to stderr', async () => {
    const path = csvFile('a.csv', 1500, 1);
    const r = await octa([...pointArgs(path), '--json']);
    const summary = summaryOf(r);
    expect(summary).toEqual({
      rows_read: 1500,
      rows_committed: 1500,
      rows_rejected: 0,
      files: 3,
      partitions: 3,
      batches_skipped: 0,
      version: 1,
      reject_file: null,
      publish_errors: [],
    });
    // Progress (a plain line when stderr is not a terminal) is on stderr, never on stdout.
    expect(r.stderr).toMatch(/^octa: .*a\.csv: [\d,]+ rows read, \d+ rejected, \d+ files$/m);
    // --quiet silences it.
    const quiet = await octa([...pointArgs(path), '--json', '--quiet', '--force']);
    expect(summaryOf(quiet).rows_committed).toBe(1500);
    expect(quiet.stderr).toBe('');
  });

  it('prints a human summary without --json', async () => {
    const path = csvFile('a.csv', 300, 2);
    const r = await octa([...pointArgs(path), '--quiet']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^300 rows committed \(300 read, 0 rejected\) in 3 files, 3 partitions, catalog version 1\n$/,
    );
    const again = await octa([...pointArgs(path), '--quiet']);
    expect(again.stdout).toMatch(/1 input already committed: skipped \(use --force to ingest them again\)/);
  });

  it('ingests the USGS feed with the documented geodetic options', async () => {
    const r = await octa([
      'ingest',
      sharedData('usgs_all_month_2025-04-15.csv'),
      '--lake',
      lake,
      '--table',
      'quakes',
      '--lat',
      'latitude',
      '--lon',
      'longitude',
      '--depth-km',
      'depth',
      '--time',
      'time',
      '--frame',
      'ecef',
      '--json',
      '--quiet',
    ]);
    expect(summaryOf(r)).toMatchObject({
      rows_read: 9462,
      rows_committed: 9462,
      rows_rejected: 0,
      version: 1,
    });
  });

  it('ingests LAS and LAZ with --frame auto', async () => {
    for (const name of ['simple.las', 'simple.laz']) {
      const table = name.replace('.', '_');
      const r = await octa([
        'ingest',
        sharedData(name),
        '--lake',
        lake,
        '--table',
        table,
        '--frame',
        'auto',
        '--time-value',
        '2025-04-15',
        '--json',
        '--quiet',
      ]);
      expect(summaryOf(r)).toMatchObject({ rows_read: 1065, rows_committed: 1065, rows_rejected: 0 });
    }
  });

  it('is idempotent: a repeated run commits nothing, --force commits again', async () => {
    const path = csvFile('a.csv', 900, 3);
    expect(summaryOf(await octa([...pointArgs(path), '--json', '--quiet']))).toMatchObject({
      rows_committed: 900,
      batches_skipped: 0,
    });
    const before = filesUnder(lake);
    expect(summaryOf(await octa([...pointArgs(path), '--json', '--quiet']))).toMatchObject({
      rows_committed: 0,
      files: 0,
      batches_skipped: 1,
      version: null,
    });
    expect(filesUnder(lake)).toEqual(before);
    expect(await rowsIn()).toBe(900);
    expect(summaryOf(await octa([...pointArgs(path), '--json', '--quiet', '--force']))).toMatchObject({
      rows_committed: 900,
      version: 2,
    });
    expect(await rowsIn()).toBe(1800);
  });

  it('reads stdin with -; the same CSV piped twice commits once', async () => {
    const text = pointsToCsv(generatePoints({ rows: 700, seed: 4, days: 2 }));
    const first = summaryOf(await octa([...pointArgs('-'), '--json', '--quiet'], { input: text }));
    expect(first).toMatchObject({ rows_read: 700, rows_committed: 700, batches_skipped: 0 });
    const second = summaryOf(await octa([...pointArgs('-'), '--json', '--quiet'], { input: text }));
    expect(second).toMatchObject({ rows_read: 700, rows_committed: 0, files: 0, batches_skipped: 1 });
    expect(await rowsIn()).toBe(700);
    expect(filesUnder(lake).filter((f) => f.endsWith('.parquet'))).toHaveLength(first.files);
  });

  it('two processes ingesting different files into one new table both commit', async () => {
    const a = csvFile('a.csv', 2000, 5);
    const b = csvFile('b.csv', 1700, 6);
    const [ra, rb] = await Promise.all([
      octaAsync([...pointArgs(a), '--json', '--quiet']),
      octaAsync([...pointArgs(b), '--json', '--quiet']),
    ]);
    expect(summaryOf(ra).rows_committed).toBe(2000);
    expect(summaryOf(rb).rows_committed).toBe(1700);
    expect(await rowsIn()).toBe(3700);
    const state = await committed(lake, 'pts');
    expect(state.version).toBe(2);
    expect(
      filesUnder(lake)
        .filter((f) => f.endsWith('.parquet'))
        .sort(),
    ).toEqual(state.files.map((f) => f.key).sort());
  });

  it('two processes ingesting the same file commit it once', async () => {
    const a = csvFile('a.csv', 2500, 7);
    const runs = await Promise.all([1, 2, 3].map(() => octaAsync([...pointArgs(a), '--json', '--quiet'])));
    const summaries = runs.map(summaryOf);
    expect(summaries.map((s) => s.rows_committed).sort()).toEqual([0, 0, 2500]);
    expect(summaries.map((s) => s.batches_skipped).sort()).toEqual([0, 1, 1]);
    expect(await rowsIn()).toBe(2500);
    const state = await committed(lake, 'pts');
    expect(state.version).toBe(1);
    // The losers deleted their files.
    expect(
      filesUnder(lake)
        .filter((f) => f.endsWith('.parquet'))
        .sort(),
    ).toEqual(state.files.map((f) => f.key).sort());
  });
});

describe('octa ingest failures: exit codes and messages', () => {
  /** A failed run: the exit code, one line on stderr, nothing on stdout. */
  async function failed(args: string[], status: 1 | 2, message: RegExp, input?: string) {
    const r = await octa(args, input === undefined ? {} : { input });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^octa: .+\n$/);
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(status);
    return r;
  }

  it('refuses another --frame or --lod for an existing table with exit 1, writing nothing', async () => {
    const path = csvFile('a.csv', 200, 8);
    summaryOf(await octa([...pointArgs(path), '--json', '--quiet']));
    const before = filesUnder(lake);
    const other = csvFile('b.csv', 100, 9);
    const args = pointArgs(other);
    await failed(
      withOption(args, '--frame', 'cartesian:0,0,0,4096'),
      1,
      /table pts was created with another layout: refused frame .*"edge":4096.* \(the table has .*"edge":1024/,
    );
    await failed(withOption(args, '--lod', '12'), 1, /refused LOD 12 \(the table has 9\)/);
    expect(filesUnder(lake)).toEqual(before);
  });

  it('exit 2 for bad arguments: table name, frame spec, option values', async () => {
    const path = csvFile('a.csv', 10, 10);
    for (const table of ['a/b', '../up', '..']) {
      await failed([...pointArgs(path), '--table', table], 2, /table name/);
    }
    await failed(withOption(pointArgs(path), '--frame', 'mars'), 2, /frame/);
    await failed(withOption(pointArgs(path), '--lod', '16'), 2, /LOD/);
    await failed([...pointArgs(path), '--max-rejects', 'many'], 2, /--max-rejects must be an integer/);
    await failed([...pointArgs(path), '--file-rows', '0'], 2, /--file-rows must be an integer >= 1, got "0"/);
    await failed([...pointArgs(path), '--format', 'xml'], 2, /Invalid values|choices/i);
    await failed(['ingest', '--lake', lake], 2, /Not enough non-option arguments|name input files/);
    expect(filesUnder(lake)).toEqual([]);
  });

  it('exit 1 for bad input: missing column, wrong format, empty, truncated LAZ; nothing written', async () => {
    const path = csvFile('a.csv', 10, 11);
    await failed(withOption(pointArgs(path), '--time', 'when'), 1, /a\.csv has no column "when"/);
    await failed(
      withOption(pointArgs(path), '--time', 'time').concat('-x', 'east'),
      1,
      /has no column "east"/,
    );
    await failed(
      [...pointArgs(path), '--format', 'parquet'],
      1,
      /is not Parquet: it does not start with PAR1/,
    );
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, '');
    await failed(pointArgs(empty), 1, /empty input/);
    const laz = readFileSync(sharedData('simple.laz'));
    const cut = join(dir, 'cut.laz');
    writeFileSync(cut, laz.subarray(0, laz.length >> 1));
    await failed(
      ['ingest', cut, '--lake', lake, '--table', 'lidar', '--frame', 'auto', '--time-value', '2025-04-15'],
      1,
      /cut\.laz/,
    );
    expect(filesUnder(lake)).toEqual([]);
  });

  it('writes rejects to <lake>/_rejects by default and fails past --max-rejects, committing nothing', async () => {
    const rows = [
      'x,y,z,time,v',
      '1,1,1,2025-04-15T00:00:00Z,a',
      'oops,1,1,2025-04-15T00:00:00Z,b',
      '1,1,1,never,c',
      '2,2,2,2025-04-15T00:00:00Z',
    ];
    const path = join(dir, 'bad.csv');
    writeFileSync(path, `${rows.join('\n')}\n`);
    const ok = summaryOf(await octa([...pointArgs(path), '--json', '--quiet']));
    expect(ok).toMatchObject({ rows_read: 4, rows_committed: 1, rows_rejected: 3 });
    expect(ok.reject_file).toMatch(
      new RegExp(`^${lake.replaceAll('/', '\\/')}\\/_rejects\\/pts-.+\\.ndjson$`),
    );
    const lines = readFileSync(ok.reject_file!, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { row: number }).row)).toEqual([2, 3, 4]);
    for (const l of lines) expect(JSON.parse(l)).toMatchObject({ source: path, reason: expect.any(String) });

    const version = (await committed(lake, 'pts')).version;
    const more = join(dir, 'more.csv');
    writeFileSync(more, `${rows.join('\n')}\n3,3,3,2025-04-16T00:00:00Z,d\n`);
    await failed(
      [...pointArgs(more), '--max-rejects', '2'],
      1,
      /3 rows rejected, more than --max-rejects 2; nothing was committed/,
    );
    expect((await committed(lake, 'pts')).version).toBe(version);
    expect(await rowsIn()).toBe(1);
    expect(filesUnder(lake).filter((f) => f.endsWith('.parquet'))).toHaveLength(1);
  });
});

describe('octa demo', () => {
  it('--json ingests the survey and queries it; a second run skips the batch', () => {
    const args = ['demo', '--lake', lake, '--points', '20000', '--json'];
    // UTC+14: days in SQL are still the lake's UTC days, not the machine's (a spawned process, so
    // DuckDB starts under that zone).
    const env = { TZ: 'Pacific/Kiritimati' };
    const first = runOcta(args, { env });
    expect(first.status).toBe(0);
    expect(first.stdout.trimEnd().split('\n')).toHaveLength(1);
    const out = JSON.parse(first.stdout) as { ingest: Summary; query: { day: string; points: string }[] };
    expect(Object.keys(out)).toEqual(['ingest', 'query']);
    expect(out.ingest).toMatchObject({
      rows_read: 20000,
      rows_committed: 20000,
      rows_rejected: 0,
      batches_skipped: 0,
    });
    expect(out.query.map((r) => [r.day, r.points])).toEqual(
      ['2025-06-02', '2025-06-03', '2025-06-04', '2025-06-05', '2025-06-06'].map((d) => [d, '4000']),
    );

    const second = runOcta(args, { env });
    expect(second.status).toBe(0);
    const again = JSON.parse(second.stdout) as typeof out;
    expect(again.ingest).toMatchObject({ rows_read: 20000, rows_committed: 0, files: 0, batches_skipped: 1 });
    expect(again.query).toEqual(out.query);
  });

  it('prints the query as a table without --json', async () => {
    const r = await octa(['demo', '--lake', lake, '--points', '5000', '--days', '2', '--quiet']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^5000 rows committed \(5000 read, 0 rejected\)/);
    expect(r.stdout).toMatch(/^day\s+points\s+building_points/m);
    expect(r.stderr).toBe('');
  });
});
