/**
 * `octa ingest` into an S3 lake, as a user runs it: the CLI talking to s3rver
 * (test/support/s3-server.ts) through the real SDK, in child processes where several processes
 * race for one catalog, in this process (its `main`, through octaInProcess) otherwise. The committed files are read back
 * through S3Storage and checked against the catalog (rows, bytes, SHA-256) and against DuckDB
 * reading the downloaded Parquet; concurrent writers rely on S3 conditional writes for the catalog.
 * Needs `npm run build` first (npm test runs it in pretest).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedCatalog, type FileRecord, liveFiles, logKey } from '../../src/lake/catalog/catalog.js';
import { S3Storage } from '../../src/lake/storage/s3-storage.js';
import { OCTA, octaInProcess } from '../cli/run.js';
import { S3RVER_CREDENTIALS, type S3TestServer, startS3Server } from '../support/s3-server.js';
import { duck, removeDir, sqlPaths, tempDir } from './fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, pointsToCsv } from './fixtures/ingest/points.js';

let server: S3TestServer;
let dir: string;
let lakes = 0;
let lake: string;
let storage: S3Storage;
const savedEnv: Record<string, string | undefined> = {};

beforeAll(async () => {
  server = await startS3Server({ bucket: 'octa-ingest' });
  // This process reads the lake back through the SDK's usual credential chain.
  for (const [name, value] of Object.entries({
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  })) {
    savedEnv[name] = process.env[name];
    process.env[name] = value;
  }
});

afterAll(async () => {
  await server?.stop();
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

beforeEach(async () => {
  dir = tempDir('s3-ingest');
  lake = `s3://${server.bucket}/lakes/lake-${++lakes}`;
  storage = await S3Storage.create({
    bucket: server.bucket,
    prefix: `lakes/lake-${lakes}`,
    endpoint: server.endpoint,
    region: 'us-east-1',
  });
  server.reset();
});

afterEach(() => {
  storage.close();
  removeDir(dir);
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI asynchronously (the S3 server lives in this process, so a synchronous spawn
 * would deadlock it), with s3rver's credentials in the environment and AWS profiles kept out.
 */
function octa(args: string[], env: Record<string, string> = {}): Promise<Run> {
  if (!existsSync(OCTA)) throw new Error(`${OCTA} is missing: run npm run build (npm test does)`);
  const { OCTA_S3_ENDPOINT: _endpoint, AWS_PROFILE: _profile, ...inherited } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OCTA, ...args], {
      cwd: dir,
      env: {
        ...inherited,
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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

/**
 * The CLI's `main` in this process, with the environment and working directory {@link octa} gives a
 * child. Not for `$OCTA_S3_ENDPOINT`: the CLI reads it once, when its argument module loads.
 */
function octaHere(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return octaInProcess(args, {
    cwd: dir,
    env: {
      OCTA_S3_ENDPOINT: undefined,
      AWS_PROFILE: undefined,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
      ...env,
    },
  });
}

function csvFile(name: string, rows: number, seed: number): string {
  const path = join(dir, name);
  writeFileSync(path, pointsToCsv(generatePoints({ rows, seed, days: 3 })));
  return path;
}

const ingestArgs = (file: string, ...more: string[]) => [
  'ingest',
  file,
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
  '--json',
  '--quiet',
  ...more,
];

function summaryOf(run: Run): {
  rows_committed: number;
  rows_rejected: number;
  files: number;
  version: number | null;
  reject_file: string | null;
} {
  expect(run.stderr.split('\n').filter((l) => l.startsWith('octa: '))).toEqual([]);
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout);
}

/** The committed state of table pts, read back through S3. */
async function committed(): Promise<{ version: number; files: FileRecord[] }> {
  const snapshot = await (await EmbeddedCatalog.open({ storage })).snapshot();
  return { version: snapshot.version, files: snapshot.tables.has('pts') ? liveFiles(snapshot, 'pts') : [] };
}

/**
 * Checks every committed file against its catalog record (bytes, SHA-256) and that no other Parquet
 * file is under the table; downloads them and counts their rows with DuckDB.
 * @returns the rows DuckDB reads
 */
async function verifyFiles(files: readonly FileRecord[]): Promise<number> {
  const stored = (await storage.list('pts/')).map((e) => e.key).filter((k) => k.endsWith('.parquet'));
  expect(stored.sort()).toEqual(files.map((f) => f.key).sort());
  const paths: string[] = [];
  for (const [i, f] of files.entries()) {
    const bytes = await storage.read(f.key);
    expect(bytes.length).toBe(f.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    const path = join(dir, `downloaded-${i}.parquet`);
    writeFileSync(path, bytes);
    paths.push(path);
  }
  const [row] = await duck(`SELECT count(*) AS n FROM read_parquet(${sqlPaths(paths)})`);
  return Number(row!.n);
}

describe('octa ingest into s3://bucket/prefix', () => {
  it('commits a CSV to S3, and the committed files read back whole', async () => {
    const run = await octaHere(ingestArgs(csvFile('a.csv', 3000, 5), '--s3-endpoint', server.endpoint));
    const summary = summaryOf(run);
    expect(summary.rows_committed).toBe(3000);
    expect(summary.version).toBe(1);
    const state = await committed();
    expect(state.version).toBe(1);
    expect(state.files).toHaveLength(summary.files);
    expect(state.files.reduce((n, f) => n + f.rows, 0)).toBe(3000);
    expect(await verifyFiles(state.files)).toBe(3000);
    // The log entry went in with a conditional PUT; nothing was left in the working directory.
    const logPuts = server.requests.filter((r) => r.method === 'PUT' && r.key.endsWith(logKey(1)));
    expect(logPuts.map((r) => r.conditional)).toEqual([true]);
    expect(existsSync(join(dir, '_rejects'))).toBe(false);
  });

  it('takes the endpoint from OCTA_S3_ENDPOINT, and keeps an S3 lake’s rejects in ./_rejects', async () => {
    const csv = join(dir, 'bad.csv');
    writeFileSync(
      csv,
      'x,y,z,time\n1,2,3,2025-04-13T00:00:00Z\n1,oops,3,2025-04-13T00:00:00Z\n4,5,6,2025-04-14T00:00:00Z\n',
    );
    const summary = summaryOf(await octa(ingestArgs(csv), { OCTA_S3_ENDPOINT: server.endpoint }));
    expect(summary.rows_committed).toBe(2);
    expect(summary.rows_rejected).toBe(1);
    expect(summary.reject_file).toMatch(
      new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/_rejects/pts-.*\\.ndjson$`),
    );
    expect(existsSync(summary.reject_file!)).toBe(true);
    const state = await committed();
    expect(await verifyFiles(state.files)).toBe(2);
  });

  it('two processes ingesting different files into one table both commit, rows exact', async () => {
    const a = csvFile('a.csv', 2000, 5);
    const b = csvFile('b.csv', 1700, 6);
    const env = { OCTA_S3_ENDPOINT: server.endpoint };
    const [ra, rb] = await Promise.all([octa(ingestArgs(a), env), octa(ingestArgs(b), env)]);
    const summaries = [summaryOf(ra), summaryOf(rb)];
    expect(summaries.map((s) => s.rows_committed)).toEqual([2000, 1700]);
    expect(summaries.map((s) => s.version).sort()).toEqual([1, 2]);
    const state = await committed();
    expect(state.version).toBe(2);
    expect(new Set(state.files.map((f) => f.batch)).size).toBe(2);
    expect(state.files.reduce((n, f) => n + f.rows, 0)).toBe(3700);
    expect(await verifyFiles(state.files)).toBe(3700);
    const logPuts = server.requests.filter((r) => r.method === 'PUT' && r.key.includes('/_octa/log/'));
    expect(logPuts.every((r) => r.conditional)).toBe(true);
  });

  it('three processes ingesting the same file commit it once; the others delete their files', async () => {
    const a = csvFile('a.csv', 2500, 7);
    const env = { OCTA_S3_ENDPOINT: server.endpoint };
    const runs = await Promise.all([1, 2, 3].map(() => octa(ingestArgs(a), env)));
    expect(
      runs
        .map(summaryOf)
        .map((s) => s.rows_committed)
        .sort(),
    ).toEqual([0, 0, 2500]);
    const state = await committed();
    expect(state.version).toBe(1);
    expect(await verifyFiles(state.files)).toBe(2500);
  });

  it('verify fails with IO_ERROR, not a report of a damaged lake, when S3 keeps failing reads', async () => {
    const run = await octaHere(ingestArgs(csvFile('a.csv', 500, 5), '--s3-endpoint', server.endpoint));
    expect(run.status, run.stderr).toBe(0);
    // Every attempt (5) at the first read, a log entry, fails.
    server.inject({
      method: 'GET',
      key: /_octa\/log\//,
      times: 5,
      fault: { status: 500, code: 'InternalError' },
    });
    const verify = await octaHere(['verify', '--lake', lake, '--json', '--s3-endpoint', server.endpoint]);
    expect(verify.status).toBe(1);
    expect(verify.stdout).toBe('');
    expect(verify.stderr).toMatch(
      /^octa: cannot read s3:.*InternalError.*\(code: IO_ERROR, value: "_octa\/log\/.*"\)\n$/,
    );
    // Without faults the same lake verifies clean.
    const again = await octaHere(['verify', '--lake', lake, '--json', '--s3-endpoint', server.endpoint]);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ errors: 0 });
  });

  it('refuses a malformed S3 lake URL before reading anything (exit 2)', async () => {
    const run = await octaHere(
      ingestArgs(csvFile('a.csv', 10, 5), '--s3-endpoint', server.endpoint).map((v) =>
        v === lake ? 's3://Bad_Bucket/lake' : v,
      ),
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^octa: invalid S3 bucket name.*Bad_Bucket/m);
    expect(server.counts).toMatchObject({ GET: 0, PUT: 0, HEAD: 0 });
  });
});
