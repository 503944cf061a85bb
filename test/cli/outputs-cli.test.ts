/**
 * What the CLI writes (issue 13), as a user runs it: exit codes and messages for outputs that are
 * inputs or cannot be written, a metrics file that fails after the commit, an export over a foreign
 * folder, SQL with several statements, process substitution, and SIGINT/SIGTERM
 * in the middle of an ingest. Process substitution and the signals spawn the built CLI; the other
 * cases run its `main` in this process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { verify } from '../../src/lake/maintenance/index.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { committed, filesUnder, removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { OCTA, octaInProcess as octa } from './run.js';

const T = '2025-04-15T12:00:00Z';
const rowsCsv = (n: number) =>
  `x,y,z,time,v\n${Array.from({ length: n }, (_, i) => `${i % 50},${i % 40},${(i * 7) % 30},${T},${i}`).join('\n')}\n`;
const LAYOUT = ['--table', 'p', '--frame', 'cartesian:0,0,0,64', '--lod', '5', '--quiet'];

let dir: string;
let small: string;
/** A lake with one committed ingest of `small`. */
let lake: string;

beforeAll(async () => {
  dir = tempDir('outputs-cli');
  small = join(dir, 'small.csv');
  writeFileSync(small, rowsCsv(500));
  lake = join(dir, 'lake');
  await ingest({
    storage: await LocalStorage.create({ root: lake }),
    table: 'p',
    inputs: [{ path: small }],
    frame: 'cartesian:0,0,0,64',
    lod: 5,
    time: 'time',
    rejectFile: null,
  });
}, 60_000);

afterAll(() => removeDir(dir));

describe('octa ingest outputs', () => {
  it('refuses a --reject-file that is a hard link to the input (exit 2), the input intact', async () => {
    const input = join(dir, 'in.csv');
    const text = `${rowsCsv(20)}bad,1,1,${T},0\n`;
    writeFileSync(input, text);
    linkSync(input, join(dir, 'in-link.csv'));
    const target = join(dir, 'lake-link');
    const r = await octa([
      'ingest',
      input,
      '--lake',
      target,
      ...LAYOUT,
      '--reject-file',
      join(dir, 'in-link.csv'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^octa: --reject-file .*in-link\.csv is the input .*in\.csv .*INVALID_ARGUMENT/);
    expect(readFileSync(input, 'utf8')).toBe(text);
    expect(existsSync(target)).toBe(false);
  });

  it('refuses a --metrics file in a missing folder before the lake is touched (exit 2)', async () => {
    const target = join(dir, 'lake-nometrics');
    const r = await octa([
      'ingest',
      small,
      '--lake',
      target,
      ...LAYOUT,
      '--metrics',
      join(dir, 'nope', 'm.prom'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^octa: --metrics .*m\.prom cannot be written: its folder .*nope does not exist/,
    );
    expect(existsSync(target)).toBe(false);
  });

  it('keeps exit 0 and the summary when the metrics file fails after the commit', async () => {
    const target = join(dir, 'lake-full');
    const r = await octa(['ingest', small, '--lake', target, ...LAYOUT, '--metrics', '/dev/full']);
    expect(r.stderr).toMatch(/^octa: warning: the metrics were not written to \/dev\/full: ENOSPC/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^500 rows committed/);
    expect((await committed(target, 'p')).files.reduce((n, f) => n + f.rows, 0)).toBe(500);
  });

  it('reads a process substitution (/dev/fd/N) as a stream', async () => {
    const target = join(dir, 'lake-procsub');
    const r = spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${OCTA}" ingest <(cat "${small}") --format csv --lake "${target}" ${LAYOUT.join(' ')}`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect((await committed(target, 'p')).files.reduce((n, f) => n + f.rows, 0)).toBe(500);
  });
});

describe('octa export training-set --out', () => {
  it('refuses a non-empty folder that holds no export (exit 2) and leaves it untouched', async () => {
    const out = join(dir, 'repo');
    mkdirSync(join(out, 'test'), { recursive: true });
    writeFileSync(join(out, 'test', 'keep.test.ts'), 'a test\n');
    writeFileSync(join(out, 'README.md'), 'readme\n');
    const r = await octa([
      'export',
      'training-set',
      '--lake',
      lake,
      '--table',
      'p',
      '--lod',
      '3',
      '--out',
      out,
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is not empty .* and has no manifest\.json of an earlier export/);
    expect(filesUnder(out)).toEqual(['README.md', 'test/keep.test.ts']);
    expect(readFileSync(join(out, 'test', 'keep.test.ts'), 'utf8')).toBe('a test\n');
  });
});

describe('octa sql', () => {
  it('prints every statement in --format table and refuses several in csv (exit 2)', async () => {
    const r = await octa(['sql', "SET threads = 1; SELECT 'first' AS a; SELECT range AS i FROM range(3)"]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('a\n-----\nfirst\n\ni\n-\n0\n1\n2\n');
    const csv = await octa(['sql', 'SELECT 1 AS a; SELECT 2 AS b', '--format', 'csv']);
    expect(csv.status).toBe(2);
    expect(csv.stderr).toMatch(/^octa: --format csv writes one result, and the query has 2 statements/);
  });

  it('refuses an --out inside the lake (exit 2)', async () => {
    const out = join(lake, 'p', 'result.csv');
    const r = await octa([
      'sql',
      '--lake',
      lake,
      'SELECT count(*) AS n FROM p',
      '--format',
      'csv',
      '--out',
      out,
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^octa: --out .* is inside the lake/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('signals during an ingest', () => {
  let big: string;
  beforeAll(() => {
    big = join(dir, 'big.csv');
    writeFileSync(big, rowsCsv(300_000));
  });

  /** Spawns an ingest into `lake`, sends `signal` once a data file of this run appears, and waits. */
  async function interrupt(signal: 'SIGINT' | 'SIGTERM'): Promise<{ code: number | null; stderr: string }> {
    const before = new Set(filesUnder(lake));
    const child = spawn(process.execPath, [
      OCTA,
      'ingest',
      big,
      '--lake',
      lake,
      ...LAYOUT,
      '--file-rows',
      '2000',
    ]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    for (let i = 0; i < 400; i++) {
      if (filesUnder(lake).some((f) => f.endsWith('.parquet') && !before.has(f))) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill(signal);
    return { code: await exited, stderr };
  }

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} mid-write exits ${code}, commits nothing and leaves no data file`, async () => {
      const was = await committed(lake, 'p');
      const r = await interrupt(signal);
      expect(r.stderr).toContain(`INTERRUPTED, value: "${signal}"`);
      expect(r.code).toBe(code);
      const now = await committed(lake, 'p');
      expect(now.version).toBe(was.version);
      const data = filesUnder(lake).filter((f) => f.endsWith('.parquet'));
      expect(data.map((f) => join(lake, f)).sort()).toEqual([...now.paths].sort());
      const report = await verify({ storage: await LocalStorage.create({ root: lake }) });
      expect(report).toMatchObject({ ok: true, errors: 0, warnings: 0 });
    });
  }

  it('SIGTERM during an export exits 143 and removes the shards it wrote', async () => {
    const out = join(dir, 'export-signal');
    const child = spawn(process.execPath, [
      OCTA,
      ...['export', 'training-set', '--lake', lake, '--table', 'p', '--lod', '5', '--shard-rows', '1'],
      ...['--out', out],
    ]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    for (let i = 0; i < 400 && filesUnder(out).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(filesUnder(out).length).toBeGreaterThan(0);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toContain('INTERRUPTED, value: "SIGTERM"');
    expect(filesUnder(out)).toEqual([]);
  });
});
