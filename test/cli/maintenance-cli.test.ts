/**
 * `octa compact`, `octa rebalance`, `octa vacuum` and `octa verify` as a user runs them, through the
 * CLI's `main` in this process on a lake that `octa ingest` wrote: JSON on stdout with --json, exit
 * codes, and every problem of a damaged lake listed by one verify run. The S3 case spawns the built
 * CLI, to see each process exit when its command is done.
 */
import { spawn } from 'node:child_process';
import { existsSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedCatalog, liveFiles } from '../../src/lake/catalog/catalog.js';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { S3Storage } from '../../src/lake/storage/s3-storage.js';
import { committed, duck, removeDir, sqlPaths, tempDir } from '../lake/fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, pointsToCsv } from '../lake/fixtures/ingest/points.js';
import { startS3Server } from '../support/s3-server.js';
import { OCTA, octaInProcess as octa } from './run.js';

let dir: string;
let lake: string;

beforeEach(() => {
  dir = tempDir('maintenance-cli');
  lake = join(dir, 'lake');
});

afterEach(() => {
  removeDir(dir);
});

async function ingestCsv(name: string, rows: number, seed: number): Promise<void> {
  const path = join(dir, name);
  writeFileSync(path, pointsToCsv(generatePoints({ rows, seed, days: 2 })));
  const r = await octa([
    'ingest',
    path,
    '--lake',
    lake,
    '--table',
    'pts',
    '--frame',
    POINTS_FRAME,
    '--lod',
    '10',
    '--time',
    'time',
    '--file-rows',
    '100',
    '--json',
    '--quiet',
  ]);
  expect(r.status, r.stderr).toBe(0);
}

/** Every committed row, canonical and sorted. */
async function rows(): Promise<string[]> {
  const { paths } = await committed(lake, 'pts');
  const out = await duck(
    `SELECT cell, x, y, z, epoch_us(time) AS t, label FROM read_parquet(${sqlPaths(paths)})`,
  );
  return out
    .map((r) => JSON.stringify(Object.values(r), (_k, v) => (typeof v === 'bigint' ? `${v}` : v)))
    .sort();
}

/**
 * Runs `octa` without blocking this process (the S3 test server lives in it, so spawnSync would
 * leave the child's requests unanswered).
 */
function runAsync(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [OCTA, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let [stdout, stderr] = ['', ''];
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

async function json(args: string[]) {
  const r = await octa([...args, '--lake', lake, '--json', '--quiet']);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

describe('octa maintenance commands', () => {
  it('compact, rebalance, vacuum and verify keep every row and leave a clean lake', async () => {
    await ingestCsv('a.csv', 1000, 1);
    await ingestCsv('b.csv', 1000, 2);
    const before = await rows();
    expect((await committed(lake, 'pts')).files).toHaveLength(20);
    expect(await json(['verify'])).toMatchObject({
      ok: true,
      errors: 0,
      warnings: 0,
      files_checked: 20,
      problems: [],
    });

    // A dry run says what it would do and changes nothing.
    const plan = await octa([
      'compact',
      '--lake',
      lake,
      '--target-rows',
      '1000',
      '--min-file-rows',
      '500',
      '--dry-run',
    ]);
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^pts t=\S+ r=\S+: would replace 10 files \(1000 rows\) by 1$/m);
    expect(plan.stdout).toMatch(
      /^would compact 2 partitions: 20 files → 2, 2000 rows rewritten; nothing changed \(dry run\) at catalog version 2$/m,
    );
    expect(plan.stdout).not.toMatch(/partitions compacted/);
    expect(plan.stderr).toBe('');
    expect((await committed(lake, 'pts')).files).toHaveLength(20);

    const compacted = await json(['compact', '--target-rows', '1000', '--min-file-rows', '500']);
    expect(compacted).toMatchObject({
      files_removed: 20,
      files_added: 2,
      rows_rewritten: 2000,
      conflicts: 0,
    });
    expect((await committed(lake, 'pts')).files.map((f) => f.rows)).toEqual([1000, 1000]);
    expect(await rows()).toEqual(before);

    const balanced = await json(['rebalance', '--target-rows', '1200', '--table', 'pts']);
    expect(balanced.operations.map((o: { kind: string }) => o.kind)).toEqual(['split']);
    const split = balanced.operations[0].split as string;
    const state = await committed(lake, 'pts');
    expect(new Set(state.files.map((f) => f.r))).toEqual(
      new Set(['0000000000000000', BigInt.asUintN(64, BigInt(split)).toString(16).padStart(16, '0')]),
    );
    expect(await rows()).toEqual(before);

    // Text output: the superseded files are warnings; exit 0.
    const text = await octa(['verify', '--lake', lake, '--quiet']);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^0 errors, \d+ warnings; \d+ files/m);
    expect(text.stdout).toContain('warning SUPERSEDED');

    const fresh = await json(['vacuum']);
    expect(fresh.deleted).toEqual([]);
    expect(fresh.kept).toBeGreaterThan(20);
    const dry = await json(['vacuum', '--grace', '0', '--dry-run']);
    expect(dry.deleted.length).toBe(fresh.kept);
    const swept = await json(['vacuum', '--grace', '0']);
    expect(swept.deleted.map((d: { key: string }) => d.key)).toEqual(
      dry.deleted.map((d: { key: string }) => d.key),
    );
    for (const d of swept.deleted as { key: string }[]) expect(existsSync(join(lake, d.key))).toBe(false);
    expect(await json(['verify'])).toMatchObject({ ok: true, problems: [] });
    expect(await rows()).toEqual(before);
  });

  it('verify exits 1 listing every problem of a damaged lake', async () => {
    await ingestCsv('a.csv', 600, 3);
    const { files } = await committed(lake, 'pts');
    const [cut, gone] = files;
    truncateSync(join(lake, cut!.key), 50);
    unlinkSync(join(lake, gone!.key));
    const text = await octa(['verify', '--lake', lake]);
    expect(text.status).toBe(1);
    // Not a terminal: plain progress lines on stderr, the last naming the total; the report on stdout.
    expect(text.stderr).toMatch(/^octa: 1 of 6 files checked\nocta: 6 of 6 files checked\n$/);
    expect(text.stdout).toContain(`error   SIZE_MISMATCH       ${cut!.key}`);
    expect(text.stdout).toContain(`error   FOOTER_UNREADABLE   ${cut!.key}`);
    expect(text.stdout).toContain(`error   MISSING             ${gone!.key}`);
    expect(text.stdout).toMatch(/^4 errors, 0 warnings/m);
    const report = await octa(['verify', '--lake', lake, '--json']);
    expect(report.status).toBe(1);
    const parsed = JSON.parse(report.stdout) as { ok: boolean; problems: { code: string; file: string }[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.problems.map((p) => `${p.code} ${p.file}`).sort()).toEqual(
      [
        `CHECKSUM_MISMATCH ${cut!.key}`,
        `FOOTER_UNREADABLE ${cut!.key}`,
        `MISSING ${gone!.key}`,
        `SIZE_MISMATCH ${cut!.key}`,
      ].sort(),
    );
  });

  it('exits 2 for bad arguments and 1 for an unknown table', async () => {
    await ingestCsv('a.csv', 100, 4);
    const grace = await octa(['vacuum', '--lake', lake, '--grace', '10x']);
    expect(grace.status).toBe(2);
    expect(grace.stderr).toMatch(/^octa: --grace duration must be/);
    const missing = await octa(['verify', '--lake', join(dir, 'nope')]);
    expect(missing.status).toBe(2);
    expect(existsSync(join(dir, 'nope'))).toBe(false);
    const rows = await octa(['compact', '--lake', lake, '--target-rows', 'many']);
    expect(rows.status).toBe(2);
    const table = await octa(['compact', '--lake', lake, '--table', 'nope']);
    expect(table.status).toBe(1);
    expect(table.stderr).toContain('tables: pts');
  });
});

describe('octa maintenance commands on an s3:// lake', () => {
  it('compact, verify and vacuum through S3 (s3rver and the real SDK), and exit when done', async () => {
    const server = await startS3Server({ bucket: 'octa-maint-cli' });
    const lakeUrl = `s3://${server.bucket}/lakes/cli`;
    // The CLI finds the endpoint in OCTA_S3_ENDPOINT and s3rver's credentials in the AWS_* variables.
    const env = server.env;
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
    });
    const s3 = await S3Storage.create({
      bucket: server.bucket,
      prefix: 'lakes/cli',
      endpoint: server.endpoint,
      region: 'us-east-1',
    });
    try {
      const path = join(dir, 'a.csv');
      writeFileSync(path, pointsToCsv(generatePoints({ rows: 500, seed: 7, days: 1 })));
      const common = { frame: POINTS_FRAME, lod: 10, time: 'time', fileRows: 100, rejectFile: null };
      await ingest({ storage: s3, table: 'pts', inputs: [{ path }], ...common });
      const run = async (args: string[]) => {
        const r = await runAsync([...args, '--lake', lakeUrl, '--json', '--quiet'], env);
        expect(r.status, r.stderr).toBe(0);
        return JSON.parse(r.stdout);
      };
      expect(await run(['compact', '--target-rows', '1000'])).toMatchObject({
        files_removed: 5,
        files_added: 1,
      });
      const report = await run(['verify']);
      expect(report).toMatchObject({ ok: true, errors: 0, warnings: 5, files_checked: 1 });
      expect((await run(['vacuum', '--grace', '0'])).deleted).toHaveLength(5);
      expect((await run(['verify'])).problems).toEqual([]);
      const files = liveFiles(await (await EmbeddedCatalog.open({ storage: s3 })).snapshot(), 'pts');
      expect(files.map((f) => f.rows)).toEqual([500]);
      // The one data file left (besides the Delta Lake and Iceberg views' metadata).
      const data = (await s3.list('pts/')).map((e) => e.key).filter((k) => k.includes('/lod='));
      expect(data).toEqual([files[0]!.key]);
    } finally {
      s3.close();
      await server.stop();
      for (const [name, value] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
