/**
 * Data safety of the catalog and its writers (issue 13, items 5, 6, 9 and 12), each case on a local
 * lake and, where storage matters, on S3 through the test server (test/support/s3-server.ts):
 * - a vacuum racing a writer (ingest, compact, rebalance) never leaves a commit naming deleted files;
 * - a missing log entry in the middle of the catalog is damage, never the end of the log;
 * - batch ids depend on what is stored, not on how the options were spelled;
 * - the catalog's `files` view never hides or breaks a table.
 * Races are staged at the exact moment of a commit through a storage that runs a rival (a real
 * vacuum) just before the writer's log entry is created. Every case ends with the lake verified.
 */
import { createHash } from 'node:crypto';
import { realpathSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CatalogSnapshot,
  type CommitEntry,
  EmbeddedCatalog,
  encodeEntry,
  type FileRecord,
  LOG_PREFIX,
  liveFiles,
  logKey,
  type TableConfig,
} from '../../src/lake/catalog/catalog.js';
import { parseDataFileKey } from '../../src/lake/catalog/layout.js';
import { LEASE_PREFIX, LEASE_TTL_MS, leaseKey } from '../../src/lake/catalog/writer-lease.js';
import { type IngestOptions, ingest } from '../../src/lake/ingest/ingest.js';
import { compact } from '../../src/lake/maintenance/compact.js';
import { readPointFile, tablesOf } from '../../src/lake/maintenance/files.js';
import { rebalance } from '../../src/lake/maintenance/rebalance.js';
import { vacuum } from '../../src/lake/maintenance/vacuum.js';
import { verify } from '../../src/lake/maintenance/verify.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { S3Storage } from '../../src/lake/storage/s3-storage.js';
import type { Storage } from '../../src/lake/storage/storage.js';
import { OctaError } from '../../src/lattice/errors.js';
import { frameToJSON } from '../../src/lattice/frame.js';
import { openLake } from '../../src/sql/open.js';
import { octaInProcess } from '../cli/run.js';
import { S3RVER_CREDENTIALS, type S3TestServer, startS3Server } from '../support/s3-server.js';
import { tableConfig } from './fixtures/catalog.js';
import { removeDir, tempDir } from './fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, pointsToCsv } from './fixtures/ingest/points.js';

const TABLE = 'pts';
const HOUR_MS = 3_600_000;
const KINDS = ['local', 's3'] as const;
type Kind = (typeof KINDS)[number];

let server: S3TestServer;
let dir: string;
let lakes = 0;
let opened: S3Storage[] = [];
const savedEnv: Record<string, string | undefined> = {};

beforeAll(async () => {
  server = await startS3Server({ bucket: 'octa-safety' });
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

beforeEach(() => {
  dir = tempDir('safety-catalog');
});

afterEach(() => {
  for (const s of opened) s.close();
  opened = [];
  removeDir(dir);
});

/** A fresh empty lake on the kind of storage asked for. */
async function freshLake(kind: Kind): Promise<Storage> {
  if (kind === 'local') return LocalStorage.create({ root: join(dir, `lake-${++lakes}`) });
  const s3 = await S3Storage.create({
    bucket: server.bucket,
    prefix: `lakes/lake-${++lakes}`,
    endpoint: server.endpoint,
    region: 'us-east-1',
  });
  opened.push(s3);
  return s3;
}

let inputs = 0;

/** A fresh CSV of generated points (a fresh batch). */
function csvInput(rows: number, seed: number): string {
  const path = join(dir, `input-${++inputs}.csv`);
  writeFileSync(path, pointsToCsv(generatePoints({ rows, seed, days: 2 })));
  return path;
}

/** Ingests a fresh CSV of `rows` generated points in files of 100 rows. */
function ingestRows(storage: Storage, rows: number, seed: number, more: Partial<IngestOptions> = {}) {
  return ingest({
    storage,
    table: TABLE,
    inputs: [{ path: csvInput(rows, seed) }],
    frame: POINTS_FRAME,
    lod: 10,
    time: 'time',
    fileRows: 100,
    rejectFile: null,
    ...more,
  });
}

async function snapshotOf(storage: Storage): Promise<CatalogSnapshot> {
  return (await EmbeddedCatalog.open({ storage })).snapshot();
}

/**
 * Reads every committed file of the table back through storage.
 * @returns the rows read, after checking each file holds the rows its record says
 */
async function readableRows(storage: Storage): Promise<number> {
  const snapshot = await snapshotOf(storage);
  const [table] = tablesOf(snapshot, TABLE);
  let rows = 0;
  for (const f of liveFiles(snapshot, TABLE)) {
    const read = await readPointFile(storage, f.key, table!.schema);
    expect(read.rows).toBe(f.rows);
    rows += read.rows;
  }
  return rows;
}

/** Data files on storage that the catalog does not list as live. */
async function uncommitted(storage: Storage): Promise<string[]> {
  const snapshot = await snapshotOf(storage);
  const live = new Set(snapshot.tables.get(TABLE) ? liveFiles(snapshot, TABLE).map((f) => f.key) : []);
  // Data files only: the Delta Lake and Iceberg views' metadata lives under the table too.
  return (await storage.list(`${TABLE}/`))
    .map((e) => e.key)
    .filter((k) => parseDataFileKey(k) !== null && !live.has(k));
}

/** Verifies the lake: no error, and no warning but superseded files. */
async function expectVerifyClean(storage: Storage): Promise<void> {
  const report = await verify({ storage });
  expect(report.problems.filter((p) => p.code !== 'SUPERSEDED')).toEqual([]);
  expect(report.ok).toBe(true);
}

const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as OctaError,
  );

describe.each(KINDS)('a missing log entry in the middle of the catalog (%s)', (kind) => {
  it('is damage: readers and writers fail CORRUPT naming it, and nothing fills the gap', async () => {
    const storage = await freshLake(kind);
    for (let seed = 1; seed <= 3; seed++) await ingestRows(storage, 200, seed);
    const before = liveFiles(await snapshotOf(storage), TABLE);
    const entry = await storage.read(logKey(2));
    await storage.delete(logKey(2));
    const data = (await storage.list(`${TABLE}/`)).map((e) => e.key);

    const opening = await errorOf(EmbeddedCatalog.open({ storage }));
    expect(opening.code).toBe('CORRUPT');
    expect(opening.value).toBe(logKey(2));
    const writing = await errorOf(ingestRows(storage, 200, 4));
    expect(writing.code).toBe('CORRUPT');
    expect(writing.value).toBe(logKey(2));
    // Vacuum cannot account for entry 2's files while it is missing: it refuses, deleting nothing.
    const cleaning = await errorOf(vacuum({ storage, graceMs: 0 }));
    expect(cleaning.code).toBe('CORRUPT');
    expect(cleaning.value).toBe(logKey(2));
    for (const run of [
      () => compact({ storage, targetRows: 1000 }),
      () => rebalance({ storage, targetRows: 100 }),
    ]) {
      const error = await errorOf(run());
      expect([error.code, error.value]).toEqual(['CORRUPT', logKey(2)]);
    }
    const keys = (await storage.list(LOG_PREFIX)).map((e) => e.key);
    expect(keys).toEqual([logKey(1), logKey(3)]);
    expect((await storage.list(`${TABLE}/`)).map((e) => e.key)).toEqual(data);
    const report = await verify({ storage });
    expect(report.ok).toBe(false);
    expect(report.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.file])).toEqual([
      ['CATALOG_UNREADABLE', null],
      ['LOG_MISSING', logKey(2)],
    ]);

    // Restored, the lake is whole again: every file of the three commits, readable.
    await storage.write(logKey(2), entry);
    expect(liveFiles(await snapshotOf(storage), TABLE)).toEqual(before);
    expect(await readableRows(storage)).toBe(600);
    await expectVerifyClean(storage);
  });
});

describe.each(KINDS)('listing after a key (%s)', (kind) => {
  it('lists only the keys after startAfter, in key order', async () => {
    const storage = await freshLake(kind);
    for (const v of [1, 2, 3, 10]) await storage.write(logKey(v), new Uint8Array([v]));
    const keysAfter = async (after?: string) => (await storage.list(LOG_PREFIX, after)).map((e) => e.key);
    expect(await keysAfter(logKey(2))).toEqual([logKey(3), logKey(10)]);
    expect(await keysAfter(logKey(10))).toEqual([]);
    expect(await keysAfter(`${LOG_PREFIX}0`)).toEqual([logKey(1), logKey(2), logKey(3), logKey(10)]);
    expect(await keysAfter()).toEqual([logKey(1), logKey(2), logKey(3), logKey(10)]);
  });
});

/** When a staged rival runs: just before the writer's log entry is created, or before it stats a data file. */
type Moment = 'log entry' | 'file check';

/** A storage that runs `hook.run` (once) at the moment asked for. */
function racingAt(moment: Moment, base: Storage, hook: { run: (() => Promise<unknown>) | null }): Storage {
  const rival = async (now: boolean) => {
    const run = now ? hook.run : null;
    if (run === null) return;
    hook.run = null;
    await run();
  };
  return {
    url: base.url,
    read: (k) => base.read(k),
    readRange: (k, o, l) => base.readRange(k, o, l),
    write: (k, d) => base.write(k, d),
    writeIfAbsent: async (k, d) => {
      await rival(moment === 'log entry' && k.startsWith(LOG_PREFIX));
      return base.writeIfAbsent(k, d);
    },
    list: (p, after) => base.list(p, after),
    stat: async (k) => {
      await rival(moment === 'file check' && k.startsWith(`${TABLE}/`));
      return base.stat(k);
    },
    delete: (k) => base.delete(k),
    localPath: (k) => base.localPath(k),
    close: () => base.close(),
  };
}

type Writer = 'ingest' | 'compact' | 'rebalance';

/**
 * A lake with 600 rows in 100-row files, and a writer of the kind asked for that
 * runs on it through a storage that runs `hook.run` at the moment asked for.
 */
async function writerRacing(kind: Kind, writer: Writer, moment: Moment) {
  const storage = await freshLake(kind);
  await ingestRows(storage, 600, 1);
  const hook: { run: (() => Promise<unknown>) | null } = { run: null };
  const racing = racingAt(moment, storage, hook);
  const run = (): Promise<unknown> =>
    writer === 'ingest'
      ? ingestRows(racing, 300, 3)
      : writer === 'compact'
        ? compact({ storage: racing, targetRows: 1000 })
        : rebalance({ storage: racing, targetRows: 400, maxOperations: 1 });
  return { storage, hook, run };
}

describe.each(KINDS)('vacuum racing a writer (%s)', (kind) => {
  it.each(['ingest', 'compact', 'rebalance'] as const)(
    'never deletes the files of a running %s: its commit stays whole and readable',
    async (writer) => {
      const { storage, hook, run } = await writerRacing(kind, writer, 'log entry');
      let swept: Awaited<ReturnType<typeof vacuum>> | undefined;
      let leases: string[] = [];
      hook.run = async () => {
        leases = (await storage.list(LEASE_PREFIX)).map((e) => e.key);
        // Grace 0: every uncommitted file would go, but the writer's lease keeps its files.
        swept = await vacuum({ storage, graceMs: 0 });
      };
      const before = await snapshotOf(storage);
      await run();
      expect(leases).toHaveLength(1);
      expect(swept!.deleted).toEqual([]);
      expect(swept!.kept).toBeGreaterThan(0);
      const after = await snapshotOf(storage);
      expect(after.version).toBeGreaterThan(before.version);
      expect(await readableRows(storage)).toBe(writer === 'ingest' ? 900 : 600);
      if (writer === 'rebalance') expect(after.tables.get(TABLE)!.config.splits.length).toBeGreaterThan(0);
      expect(await uncommitted(storage)).toEqual([...after.tables.get(TABLE)!.removed.keys()].sort());
      expect(await storage.list(LEASE_PREFIX)).toEqual([]);
      await expectVerifyClean(storage);
    },
  );

  it.each(['ingest', 'compact', 'rebalance'] as const)(
    'fails a %s whose files vanished before its commit with NOT_FOUND, committing nothing',
    async (writer) => {
      const { storage, hook, run } = await writerRacing(kind, writer, 'file check');
      const before = await snapshotOf(storage);
      const files = (await storage.list(`${TABLE}/`)).map((e) => e.key);
      let swept: Awaited<ReturnType<typeof vacuum>> | undefined;
      hook.run = async () => {
        // A writer stalled past its lease: a vacuum an hour later finds the lease expired.
        swept = await vacuum({ storage, graceMs: 0, now: Date.now() + LEASE_TTL_MS + HOUR_MS });
      };
      const error = await errorOf(run());
      expect(error).toBeInstanceOf(OctaError);
      expect(error.code).toBe('NOT_FOUND');
      const vanished = swept!.deleted.map((d) => d.key);
      expect(vanished.length).toBeGreaterThan(0);
      expect(vanished).toContain(error.value);
      expect(swept!.deleted.every((d) => d.reason === 'orphan')).toBe(true);
      // Nothing committed, nothing left: the lake is as it was.
      const after = await snapshotOf(storage);
      expect(after.version).toBe(before.version);
      expect(liveFiles(after, TABLE)).toEqual(liveFiles(before, TABLE));
      expect((await storage.list(`${TABLE}/`)).map((e) => e.key)).toEqual(files);
      expect(await storage.list(LEASE_PREFIX)).toEqual([]);
      expect(await readableRows(storage)).toBe(600);
      await expectVerifyClean(storage);
    },
  );
});

describe('leases of writers that are gone', () => {
  it('keeps the files of a live lease, and deletes expired leases, leases of ended processes and their files', async () => {
    const storage = await freshLake('local');
    await ingestRows(storage, 100, 1);
    const [file] = liveFiles(await snapshotOf(storage), TABLE);
    const lease = (writer: string, host: string, pid: number) =>
      new TextEncoder().encode(JSON.stringify({ writer, host, pid, operation: 'ingest' }));
    const orphans: Record<string, string> = {};
    for (const writer of ['aaaaaaaa', 'bbbbbbbb', 'cccccccc']) {
      orphans[writer] = file!.key.replace(/part-[0-9a-f]{8}-/, `part-${writer}-`);
      await storage.write(orphans[writer]!, await storage.read(file!.key));
    }
    await storage.write(leaseKey('aaaaaaaa'), lease('aaaaaaaa', 'elsewhere', process.pid));
    await storage.write(leaseKey('bbbbbbbb'), lease('bbbbbbbb', hostname(), 2_147_483_646));
    await storage.write(leaseKey('cccccccc'), lease('cccccccc', hostname(), process.pid));
    const first = await vacuum({ storage, graceMs: 0 });
    // Another host's writer and this process are live; a process that ended is not.
    expect(first.deleted.map((d) => d.key)).toEqual([orphans.bbbbbbbb]);
    expect((await storage.list(LEASE_PREFIX)).map((e) => e.key)).toEqual([
      leaseKey('aaaaaaaa'),
      leaseKey('cccccccc'),
    ]);
    const later = await vacuum({ storage, graceMs: 0, now: Date.now() + LEASE_TTL_MS });
    expect(later.deleted.map((d) => d.key).sort()).toEqual([orphans.aaaaaaaa, orphans.cccccccc].sort());
    expect(await storage.list(LEASE_PREFIX)).toEqual([]);
    expect(await readableRows(storage)).toBe(100);
    await expectVerifyClean(storage);
  });
});

describe('a table named files', () => {
  it.each(['files', 'FILES', 'Files'])(
    'is refused at ingest as %s, before anything is written',
    async (name) => {
      const storage = await freshLake('local');
      const error = await errorOf(ingestRows(storage, 100, 1, { table: name }));
      expect([error.code, error.value]).toEqual(['INVALID_ARGUMENT', name]);
      expect(error.message).toContain('reserved');
      expect(await storage.list('')).toEqual([]);
      // Nor can a library caller create one through the catalog.
      const catalog = await EmbeddedCatalog.open({ storage });
      const request = {
        operation: 'test',
        writer: 'test',
        actions: [{ op: 'create_table' as const, config: tableConfig({ name }) }],
      };
      const refused = await errorOf(catalog.commit(request));
      expect([refused.code, refused.value]).toEqual(['INVALID_ARGUMENT', name]);
      expect(await storage.list('')).toEqual([]);
    },
  );

  it('keeps a lake that already has one readable: the table keeps its name, the catalog view is octa.files', async () => {
    const storage = await freshLake('local');
    await ingestRows(storage, 300, 1);
    // A lake an older octa-lake wrote: a table `Files` beside `pts`, its entry written as it was then.
    const snapshot = await snapshotOf(storage);
    const pts = snapshot.tables.get(TABLE)!;
    const copies: FileRecord[] = [];
    for (const f of liveFiles(snapshot, TABLE).slice(0, 2)) {
      const key = f.key.replace(`${TABLE}/`, 'Files/');
      await storage.write(key, await storage.read(f.key));
      const { committedAt: _, ...record } = f;
      copies.push({ ...record, key, table: 'Files', batch: 'older-batch' });
    }
    const entry: CommitEntry = {
      version: 2,
      timestamp: new Date().toISOString(),
      operation: 'ingest',
      writer: 'older',
      batches: ['older-batch'],
      tables: ['Files'],
      actions: [
        { op: 'create_table', config: { ...pts.config, name: 'Files' } },
        ...copies.map((file) => ({ op: 'add' as const, file })),
      ],
    };
    expect(await storage.writeIfAbsent(logKey(2), encodeEntry(entry))).toBe(true);
    const tableRows = copies.reduce((n, f) => n + f.rows, 0);

    // The table still takes rows under its own name.
    const more = await ingestRows(storage, 100, 2, { table: 'Files' });
    expect(more.rows_committed).toBe(100);
    const lake = await openLake({ storage, functions: false });
    try {
      const count = async (sql: string) =>
        Number((await lake.connection.runAndReadAll(sql)).getRowObjectsJS()[0]!.n);
      expect(await count('SELECT count(*) AS n FROM pts')).toBe(300);
      expect(await count('SELECT count(*) AS n FROM files')).toBe(tableRows + 100);
      expect(await count('SELECT count(*) AS n FROM "Files"')).toBe(tableRows + 100);
      const catalogFiles = liveFiles(lake.snapshot, TABLE).length + liveFiles(lake.snapshot, 'Files').length;
      expect(await count('SELECT count(*) AS n FROM octa.files')).toBe(catalogFiles);
      expect(await count("SELECT sum(rows) AS n FROM octa.files WHERE table_name = 'pts'")).toBe(300);
    } finally {
      lake.close();
    }
    // octa sql sees the same: the table under its name, the catalog as octa.files.
    const sql = await octaInProcess([
      'sql',
      '--lake',
      (storage as LocalStorage).root,
      '--format',
      'json',
      'SELECT (SELECT count(*) FROM Files) AS table_rows, (SELECT count(DISTINCT table_name) FROM octa.files) AS tables',
    ]);
    expect([sql.status, sql.stderr]).toEqual([0, '']);
    expect(JSON.parse(sql.stdout)).toEqual([{ table_rows: String(tableRows + 100), tables: '2' }]);
    await expectVerifyClean(storage);
  });

  it('is refused by octa ingest with exit 2 naming the reserved names', async () => {
    const lake = join(dir, 'cli-lake');
    const r = await octaInProcess([
      'ingest',
      csvInput(10, 1),
      '--lake',
      lake,
      '--table',
      'FILES',
      '--frame',
      POINTS_FRAME,
      '--time',
      'time',
      '--quiet',
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^octa: table name is reserved \(reserved names, in any case: files, _octa\).*code: INVALID_ARGUMENT, value: "FILES"/,
    );
    expect(await (await LocalStorage.create({ root: lake })).list('')).toEqual([]);
  });

  it('leaves files as the catalog view in a lake without such a table, and octa.files beside it', async () => {
    const storage = await freshLake('local');
    await ingestRows(storage, 300, 1);
    // A table named as the catalog's schema does not collide with it.
    await ingestRows(storage, 100, 2, { table: 'octa' });
    const lake = await openLake({ storage, functions: false });
    try {
      const rows = async (sql: string) => (await lake.connection.runAndReadAll(sql)).getRowObjectsJS();
      const all = await rows('SELECT key, rows FROM files ORDER BY key');
      expect(all).toEqual(await rows('SELECT key, rows FROM octa.files ORDER BY key'));
      const keys = [...liveFiles(lake.snapshot, 'octa'), ...liveFiles(lake.snapshot, TABLE)].map(
        (f) => f.key,
      );
      expect(all.map((r) => r.key)).toEqual(keys.sort());
      expect(await rows('SELECT count(*)::INTEGER AS n FROM octa')).toEqual([{ n: 100 }]);
    } finally {
      lake.close();
    }
  });
});

/**
 * The batch id that octa-lake before this change gave a CSV file read with the columns x, y, z and
 * time into a table, with `unit` the --time-unit as spelled (`auto` when not given).
 */
function legacyBatchId(config: TableConfig, path: string, unit: string): string {
  const stat = statSync(path);
  const h = createHash('sha256');
  h.update(
    JSON.stringify({
      table: config.name,
      frame: frameToJSON(config.frame),
      lod: config.lod,
      coords: { kind: 'xyz', x: 'x', y: 'y', z: 'z' },
      time: { kind: 'column', column: 'time', unit },
      payload: config.payload.map((c) => ({ ...c, source: c.name })),
    }),
  );
  h.update(JSON.stringify({ path: realpathSync(path), size: stat.size, mtimeMs: stat.mtimeMs }));
  return h.digest('hex');
}

describe('batch ids', () => {
  it('are the same for every spelling of the options that stores the same rows', async () => {
    const storage = await freshLake('local');
    const path = csvInput(300, 1);
    const again = (more: Partial<IngestOptions>) =>
      ingest({
        storage,
        table: TABLE,
        inputs: [{ path }],
        frame: POINTS_FRAME,
        lod: 10,
        time: 'time',
        rejectFile: null,
        ...more,
      });
    const first = await again({});
    expect(first.rows_committed).toBe(300);
    const snapshot = await snapshotOf(storage);
    const table = snapshot.tables.get(TABLE)!;
    // The id a default run records is the one it always had: existing lakes keep recognising it.
    expect([...table.batches]).toEqual([legacyBatchId(table.config, path, 'auto')]);
    const spellings: Partial<IngestOptions>[] = [
      { timeUnit: 's' },
      { coords: { x: 'x', y: 'y', z: 'z' }, frameId: 0, timeBucket: 'day', idKind: 'index64' },
      { frame: undefined, lod: undefined },
      { exclude: [] },
      // Options that cannot change the stored rows.
      { rejectFile: join(dir, 'rejects.ndjson'), maxRejects: 0, memoryBytes: 2 ** 24 },
      { fileRows: 7, rowGroupSize: 5, chunkRows: 33 },
    ];
    for (const more of spellings) {
      const summary = await again(more);
      expect(
        [summary.rows_committed, summary.batches_skipped, summary.version],
        JSON.stringify(more),
      ).toEqual([0, 1, null]);
    }
    expect((await snapshotOf(storage)).version).toBe(snapshot.version);
    // A unit that reads numbers otherwise is another batch.
    const other = await again({ timeUnit: 'ms' });
    expect(other.rows_committed).toBe(300);
    expect(await readableRows(storage)).toBe(600);
    await expectVerifyClean(storage);
  });

  it('recognise a batch an older octa-lake recorded under --time-unit s', async () => {
    const storage = await freshLake('local');
    const path = csvInput(200, 2);
    const run = (more: Partial<IngestOptions>) => ingestRows(storage, 0, 0, { inputs: [{ path }], ...more });
    expect((await run({ timeUnit: 's' })).rows_committed).toBe(200);
    // Stage the lake an older version wrote: its entry names the id of the spelling `s`.
    const config = (await snapshotOf(storage)).tables.get(TABLE)!.config;
    const [now, then] = [legacyBatchId(config, path, 'auto'), legacyBatchId(config, path, 's')];
    const text = new TextDecoder().decode(await storage.read(logKey(1)));
    expect(text.split(now).length - 1).toBe(1 + liveFiles(await snapshotOf(storage), TABLE).length);
    await storage.write(logKey(1), new TextEncoder().encode(text.replaceAll(now, then)));
    expect([...(await snapshotOf(storage)).tables.get(TABLE)!.batches]).toEqual([then]);
    for (const more of [{ timeUnit: 's' as const }, {}]) {
      const summary = await run(more);
      expect([summary.rows_committed, summary.batches_skipped]).toEqual([0, 1]);
    }
    expect(await readableRows(storage)).toBe(200);
    await expectVerifyClean(storage);
  });

  it('of a stream are the same with and without --time-unit s', async () => {
    const storage = await freshLake('local');
    const csv = pointsToCsv(generatePoints({ rows: 200, seed: 3, days: 2 }));
    const fromStdin = (more: Partial<IngestOptions>) =>
      ingestRows(storage, 0, 0, {
        inputs: [{ stream: Readable.from([csv]), name: '-' }],
        format: 'csv',
        ...more,
      });
    expect((await fromStdin({})).rows_committed).toBe(200);
    const version = (await snapshotOf(storage)).version;
    const again = await fromStdin({ timeUnit: 's' });
    expect([again.rows_committed, again.batches_skipped, again.version]).toEqual([0, 1, null]);
    expect((await snapshotOf(storage)).version).toBe(version);
    expect(await uncommitted(storage)).toEqual([]);
    expect(await readableRows(storage)).toBe(200);
    await expectVerifyClean(storage);
  });
});
