/**
 * Time travel in our own reader (issue 17): `openLake({ asOf })`, `runQuery({ asOf })` and
 * `octa sql --as-of` read the lake as it was at a version, held against what was true when each
 * version was written (its live files, taken from the catalog right after the commit, and the input
 * rows ingested up to it); tables created later are absent; versions whose files vacuum deleted are
 * refused before DuckDB reads anything; malformed arguments are refused.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EmbeddedCatalog } from '../../src/lake/catalog/catalog.js';
import { type AsOf, snapshotAsOf } from '../../src/lake/catalog/time-travel.js';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { compact } from '../../src/lake/maintenance/compact.js';
import { vacuum } from '../../src/lake/maintenance/vacuum.js';
import { verify } from '../../src/lake/maintenance/verify.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError } from '../../src/lattice/errors.js';
import { type OpenLakeOptions, openLake } from '../../src/sql/open.js';
import { runQuery } from '../../src/sql/planner.js';
import { octaInProcess } from '../cli/run.js';
import { tableConfig } from '../lake/fixtures/catalog.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, type PointRow, pointsToCsv } from '../lake/fixtures/ingest/points.js';
import { withS3Lake } from '../support/s3-server.js';

const TABLE = 'pts';
const LATER = 'later';

let dir = '';
let lake = '';
let storage: LocalStorage;
let batches = 0;

/** What each version held when it was written: its live keys by table, and its input rows by table. */
const truth = new Map<number, { keys: Map<string, string[]>; rows: Map<string, PointRow[]> }>();
/** Each version's commit timestamp, from its log entry. */
const stamps: string[] = [];

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const rowText = (r: { x: unknown; y: unknown; z: unknown; t: unknown }) => `${r.x} ${r.y} ${r.z} ${r.t}`;
const expectedRows = (rows: readonly PointRow[]) =>
  rows.map((r) => rowText({ x: r.x, y: r.y, z: r.z, t: r.timeUs })).sort();

/** Records the state just committed, as the latest snapshot has it, with the rows ingested so far. */
async function record(rows: Map<string, PointRow[]>): Promise<void> {
  const catalog = await EmbeddedCatalog.open({ storage });
  const snapshot = await catalog.snapshot();
  const keys = new Map([...snapshot.tables].map(([name, t]) => [name, [...t.files.keys()].sort()]));
  truth.set(snapshot.version, { keys, rows: new Map([...rows].map(([n, r]) => [n, [...r]])) });
  // Distinct commit times (ms resolution), so that every version has a time of its own.
  await sleep(3);
}

async function ingestBatch(table: string, seed: number, rows: Map<string, PointRow[]>): Promise<void> {
  const points = generatePoints({ rows: 300, seed, days: 1 });
  const path = join(dir, `input-${++batches}.csv`);
  writeFileSync(path, pointsToCsv(points));
  await ingest({
    storage,
    table,
    inputs: [{ path }],
    frame: POINTS_FRAME,
    lod: 10,
    time: 'time',
    fileRows: 100,
    rejectFile: null,
  });
  rows.set(table, [...(rows.get(table) ?? []), ...points]);
  await record(rows);
}

beforeAll(async () => {
  dir = tempDir('time-travel');
  lake = join(dir, 'lake');
  storage = await LocalStorage.create({ root: lake });
  const rows = new Map<string, PointRow[]>();
  truth.set(0, { keys: new Map(), rows: new Map() });
  for (const seed of [1, 2, 3]) await ingestBatch(TABLE, seed, rows);
  const compacted = await compact({ storage, table: TABLE, targetRows: 10_000 });
  // One day, one range: one partition, so the compaction is one commit.
  expect(compacted.partitions.length).toBe(1);
  await record(rows);
  await ingestBatch(TABLE, 4, rows);
  await ingestBatch(LATER, 5, rows);
  const catalog = await EmbeddedCatalog.open({ storage });
  const latest = (await catalog.snapshot()).version;
  expect([...truth.keys()]).toEqual(Array.from({ length: latest + 1 }, (_, v) => v));
  stamps.push('', ...(await catalog.entries(1, latest)).map((e) => e.timestamp));
});
afterAll(() => removeDir(dir));

/** The rows and catalog keys an as-of session shows, table by table. */
async function readAsOf(asOf: AsOf, where: OpenLakeOptions = { lake }) {
  const session = await openLake({ ...where, asOf, functions: false });
  try {
    const tables = new Map<string, { keys: string[]; rows: string[] }>();
    for (const name of session.snapshot.tables.keys()) {
      const rows = (
        await session.connection.runAndReadAll(`SELECT x, y, z, epoch_us(time) AS t FROM ${name}`)
      ).getRowObjects();
      const keys = (
        await session.connection.runAndReadAll(
          `SELECT key FROM octa.files WHERE table_name = '${name}' ORDER BY key`,
        )
      ).getRowObjects();
      tables.set(name, {
        keys: keys.map((k) => String(k.key)),
        rows: rows.map((r) => rowText({ x: r.x, y: r.y, z: r.z, t: r.t })).sort(),
      });
    }
    const views = (
      await session.connection.runAndReadAll(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' ORDER BY 1",
      )
    ).getRows();
    return { version: session.snapshot.version, tables, views: views.map((v) => String(v[0])) };
  } finally {
    session.close();
  }
}

/** Checks a read against what the version held when it was written. */
function expectVersion(read: Awaited<ReturnType<typeof readAsOf>>, version: number): void {
  const held = truth.get(version)!;
  expect(read.version).toBe(version);
  expect([...read.tables.keys()].sort()).toEqual([...held.keys.keys()].sort());
  for (const [name, keys] of held.keys) {
    expect(read.tables.get(name)!.keys).toEqual(keys);
    expect(read.tables.get(name)!.rows).toEqual(expectedRows(held.rows.get(name) ?? []));
  }
  const files = read.views.includes('files') ? ['files'] : [];
  expect(read.views).toEqual([...held.keys.keys(), ...files].sort());
}

async function refusal(promise: Promise<unknown>): Promise<OctaError> {
  const error = await promise.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OctaError);
  return error as OctaError;
}

describe('openLake({ asOf })', () => {
  it('reads every version by number as it was written: its files, its rows, its tables', async () => {
    expect(truth.size).toBe(7);
    for (const version of truth.keys()) expectVersion(await readAsOf(version), version);
    // A string of digits is a version number (what the CLI passes).
    expectVersion(await readAsOf('2'), 2);
  });

  it('reads every version by its commit time, as text and as a Date', async () => {
    for (let version = 1; version < stamps.length; version++) {
      const at = stamps[version]!;
      expectVersion(await readAsOf(at), version);
      // Just before the next commit is still this version.
      const next = stamps[version + 1];
      if (next !== undefined) {
        expectVersion(await readAsOf(new Date(Date.parse(next) - 1)), version);
      }
    }
  });

  it('has no view of a table created after the version, and the table exists at the latest', async () => {
    const before = await readAsOf(5);
    expect(before.tables.has(LATER)).toBe(false);
    const session = await openLake({ lake, asOf: 5, functions: false });
    try {
      await expect(session.connection.runAndReadAll(`SELECT count(*) FROM ${LATER}`)).rejects.toThrow(
        /does not exist/,
      );
    } finally {
      session.close();
    }
    expect((await readAsOf(6)).tables.has(LATER)).toBe(true);
  });

  it('runQuery({ asOf }) plans against the version: the compacted files, then the small ones before', async () => {
    const query = { lake, table: TABLE, box: [0, 0, 0, 1024, 1024, 1024], select: ['x'] };
    for (const version of [1, 3, 4]) {
      const { rows, plan } = await runQuery({ ...query, asOf: version });
      expect(rows.length).toBe(truth.get(version)!.rows.get(TABLE)!.length);
      expect(plan.files.map((f) => f.key).sort()).toEqual(truth.get(version)!.keys.get(TABLE));
    }
  });

  it('refuses malformed asOf values with INVALID_ARGUMENT, before anything is opened', async () => {
    const bad: unknown[] = [
      -1,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '',
      '-1',
      '1e3',
      'yesterday',
      '2025-13-45',
      '2025-04-13T12:00:00',
      '2025-04-13 12:00:00Z',
      new Date('not a time'),
      { version: 1 },
    ];
    for (const asOf of bad) {
      const error = await refusal(openLake({ lake: join(dir, 'no-lake-here'), asOf: asOf as AsOf }));
      expect([String(asOf), error.code]).toEqual([String(asOf), 'INVALID_ARGUMENT']);
    }
    const session = await openLake({ lake, functions: false });
    try {
      const query = { session, table: TABLE, box: [0, 0, 0, 1, 1, 1], asOf: 1 };
      expect((await refusal(runQuery(query))).code).toBe('INVALID_ARGUMENT');
    } finally {
      session.close();
    }
  });

  it('refuses a version past the latest and a time before the first commit with NOT_FOUND', async () => {
    const latest = truth.size - 1;
    const past = await refusal(openLake({ lake, asOf: latest + 1 }));
    expect([past.code, past.value]).toEqual(['NOT_FOUND', latest + 1]);
    const early = new Date(Date.parse(stamps[1]!) - 1).toISOString();
    const before = await refusal(openLake({ lake, asOf: early }));
    expect([before.code, before.value]).toEqual(['NOT_FOUND', early]);
    expect((await refusal(openLake({ lake, asOf: '2000-01-01' }))).code).toBe('NOT_FOUND');
  });

  it('octa sql --as-of reads a version, and a malformed one exits 2', async () => {
    const sql = `SELECT count(*) AS n FROM ${TABLE}`;
    const run = await octaInProcess(['sql', '--lake', lake, '--as-of', '2', '--format', 'json', sql]);
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect(JSON.parse(run.stdout)).toEqual([{ n: String(truth.get(2)!.rows.get(TABLE)!.length) }]);
    const bad = await octaInProcess(['sql', '--lake', lake, '--as-of', 'last-week', sql]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--as-of.*INVALID_ARGUMENT/);
  });
});

describe('an S3 lake', () => {
  it('reads a version through the file cache, and refuses one whose file is gone before fetching any', async () => {
    await withS3Lake('octa-travel', async (remote, server) => {
      for (const entry of await storage.list(''))
        await remote.write(entry.key, await storage.read(entry.key));
      const where = { storage: remote, remoteRead: 'cache' as const, cacheDir: join(dir, 'cache') };
      expectVersion(await readAsOf(2, where), 2);
      // A superseded file of the first batch deleted, as by a vacuum that has not committed its forget.
      await remote.delete(truth.get(1)!.keys.get(TABLE)![0]!);
      server.reset();
      const error = await refusal(openLake({ ...where, cacheDir: join(dir, 'cache-2'), asOf: 2 }));
      expect([error.code, error.value]).toEqual(['NOT_FOUND', { version: 2, oldestReadable: 4 }]);
      const dataGets = server.requests.filter(
        (r) => r.method === 'GET' && r.key.startsWith('lake/') && !r.key.startsWith('lake/_octa/'),
      );
      expect(dataGets).toEqual([]);
      expectVersion(await readAsOf(4, where), 4);
    });
  });
});

describe('versions whose files vacuum deleted', () => {
  // Runs last: it deletes the files the versions before the compaction list.
  it('are refused with NOT_FOUND naming the oldest readable version, deleted but not yet forgotten too', async () => {
    const compaction = 4;
    const superseded = truth
      .get(3)!
      .keys.get(TABLE)!
      .filter((k) => !truth.get(4)!.keys.get(TABLE)!.includes(k));
    expect(superseded.length).toBeGreaterThan(0);
    // A vacuum that stopped between deleting and committing its forget: one file of the first batch
    // (listed by versions 1 to 3) gone, still recorded as superseded.
    await storage.delete(truth.get(1)!.keys.get(TABLE)![0]!);
    for (const asOf of [1, 3, stamps[2]!]) {
      const error = await refusal(openLake({ lake, asOf }));
      expect(error.code).toBe('NOT_FOUND');
      expect((error.value as { oldestReadable: number }).oldestReadable).toBe(compaction);
      expect(error.message).toMatch(/vacuum/);
    }
    const swept = await vacuum({ storage, graceMs: 0 });
    expect(swept.forgotten).toBe(superseded.length);
    const latest = swept.version;
    for (const version of [1, 2, 3]) {
      const error = await refusal(openLake({ lake, asOf: version }));
      expect([error.code, error.value]).toEqual(['NOT_FOUND', { version, oldestReadable: compaction }]);
    }
    // The empty lake and every version from the compaction on still read as they were.
    expectVersion(await readAsOf(0), 0);
    for (let version = compaction; version < truth.size; version++) {
      expectVersion(await readAsOf(version), version);
    }
    expect((await readAsOf(latest)).tables.get(TABLE)!.keys).toEqual(
      truth.get(truth.size - 1)!.keys.get(TABLE),
    );
    expect((await verify({ storage })).problems.filter((p) => p.severity === 'error')).toEqual([]);
  });
});

describe('commit times from clocks that disagree', () => {
  it('a time resolves to the highest version committed at or before it, scanning the whole log', async () => {
    const store = await LocalStorage.create({ root: join(dir, 'clocks') });
    const catalog = await EmbeddedCatalog.open({ storage: store });
    // Before any commit: version 0 is the empty lake, and no time has a version.
    expect((await snapshotAsOf(catalog, 0)).tables.size).toBe(0);
    expect((await refusal(snapshotAsOf(catalog, '2026-01-02'))).code).toBe('NOT_FOUND');
    // Version 3's writer has a clock 3 minutes behind version 2's.
    const times = ['2026-01-01T10:00:00.000Z', '2026-01-01T10:05:00.000Z', '2026-01-01T10:02:00.000Z'];
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      for (const [i, time] of times.entries()) {
        vi.setSystemTime(new Date(time));
        const config = tableConfig({ name: `t${i + 1}` });
        await catalog.commit({ operation: 'create', writer: 'w', actions: [{ op: 'create_table', config }] });
      }
    } finally {
      vi.useRealTimers();
    }
    expect((await catalog.entries(1, 3)).map((e) => e.timestamp)).toEqual(times);
    const versionAt = async (asOf: AsOf) => (await snapshotAsOf(catalog, asOf)).version;
    expect(await versionAt('2026-01-01T10:00:00Z')).toBe(1);
    expect(await versionAt('2026-01-01T10:01:00Z')).toBe(1);
    expect(await versionAt('2026-01-01T10:02:00Z')).toBe(3);
    expect(await versionAt('2026-01-01T10:04:00Z')).toBe(3);
    expect(await versionAt('2026-01-01T11:00:00+01:00')).toBe(1);
    expect(await versionAt('2026-01-02')).toBe(3);
    const early = await refusal(snapshotAsOf(catalog, '2026-01-01T09:59:59.999Z'));
    expect(early.code).toBe('NOT_FOUND');
  });
});
