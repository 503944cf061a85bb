/**
 * Lake maintenance held against independent readers: every row a compaction or rebalance rewrites is
 * read back with DuckDB's read_parquet and with hyparquet and compared with the rows before as full
 * multisets; medians against a brute-force sort; races are staged at the exact moment of a commit
 * through a storage that runs a rival first; vacuum and verify on real damaged files.
 */
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CatalogSnapshot,
  checkpointKey,
  decodeCheckpoint,
  EmbeddedCatalog,
  encodeCheckpoint,
  type FileRecord,
  liveFiles,
  logKey,
} from '../../src/lake/catalog/catalog.js';
import { parseDataFileKey } from '../../src/lake/catalog/layout.js';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { compact } from '../../src/lake/maintenance/compact.js';
import { indexOfLabel, rangeIndex } from '../../src/lake/maintenance/files.js';
import { medianSplit, rebalance } from '../../src/lake/maintenance/rebalance.js';
import { parseDuration, vacuum } from '../../src/lake/maintenance/vacuum.js';
import { verify } from '../../src/lake/maintenance/verify.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { S3Storage } from '../../src/lake/storage/s3-storage.js';
import type { Storage } from '../../src/lake/storage/storage.js';
import { OctaError } from '../../src/lattice/errors.js';
import { S3RVER_CREDENTIALS, startS3Server } from '../support/s3-server.js';
import { fileRecord, tableConfig } from './fixtures/catalog.js';
import { duck, removeDir, sqlPaths, tempDir } from './fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, pointsToCsv } from './fixtures/ingest/points.js';

const TABLE = 'pts';
const HOUR_MS = 3_600_000;

let dir: string;
let storage: LocalStorage;

beforeEach(async () => {
  dir = tempDir('maintenance');
  storage = await LocalStorage.create({ root: join(dir, 'lake') });
});

afterEach(() => {
  removeDir(dir);
});

let inputs = 0;

/** Ingests generated rows (a fresh CSV, so a fresh batch) in files of `fileRows` rows. */
async function ingestRows(
  {
    rows = 1000,
    seed = 1,
    days = 2,
    fileRows = 100,
  }: Partial<Record<'rows' | 'seed' | 'days' | 'fileRows', number>> = {},
  store: Storage = storage,
) {
  const path = join(dir, `input-${++inputs}.csv`);
  writeFileSync(path, pointsToCsv(generatePoints({ rows, seed, days })));
  return ingest({
    storage: store,
    table: TABLE,
    inputs: [{ path }],
    frame: POINTS_FRAME,
    lod: 10,
    time: 'time',
    fileRows,
    rejectFile: null,
  });
}

async function snapshot(): Promise<CatalogSnapshot> {
  return (await EmbeddedCatalog.open({ storage })).snapshot();
}

async function live(): Promise<FileRecord[]> {
  return liveFiles(await snapshot(), TABLE);
}

/** Every committed row as DuckDB reads it, one canonical string per row, sorted (a multiset). */
async function duckRows(): Promise<string[]> {
  const paths = (await live()).map((f) => storage.localPath(f.key));
  const rows = await duck(
    `SELECT cell, x, y, z, epoch_us(time) AS time, intensity, score, label, flag FROM read_parquet(${sqlPaths(paths)})`,
  );
  return rows
    .map((r) => JSON.stringify(Object.values(r), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)))
    .sort();
}

/** Every committed row as hyparquet reads it (through `store`, local or not), keyed the same way, sorted. */
async function hyparquetRows(store: Storage = storage): Promise<string[]> {
  const out: string[] = [];
  const files = liveFiles(await (await EmbeddedCatalog.open({ storage: store })).snapshot(), TABLE);
  for (const f of files) {
    const bytes = await store.read(f.key);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rows = (await parquetReadObjects({
      file,
      compressors,
      parsers: { timestampFromMicroseconds: (micros: bigint) => micros },
    })) as Record<string, unknown>[];
    for (const r of rows) {
      const values = ['cell', 'x', 'y', 'z', 'time', 'intensity', 'score', 'label', 'flag'].map((c) => r[c]);
      out.push(JSON.stringify(values, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
    }
  }
  return out.sort();
}

/** The cell column of one file, as hyparquet reads it. */
async function cellsOf(key: string): Promise<bigint[]> {
  const bytes = await storage.read(key);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const rows = (await parquetReadObjects({ file, columns: ['cell'], compressors })) as { cell: bigint }[];
  return rows.map((r) => r.cell);
}

/**
 * A reader pinned to the current snapshot, built as openLake builds its views: DuckDB over exactly
 * the snapshot's committed files, with the Hive partition columns. Files are opened per query.
 */
async function pinnedReader() {
  const paths = (await live()).map((f) => storage.localPath(f.key));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  await connection.run(
    `CREATE VIEW ${TABLE} AS SELECT * FROM read_parquet(${sqlPaths(paths)}, hive_partitioning = true)`,
  );
  return {
    query: async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjects(),
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

const isSorted = (cells: bigint[]) => cells.every((c, i) => i === 0 || cells[i - 1]! <= c);

/** A storage that runs `hook.run` (once) just before the next catalog commit attempt. */
function beforeCommit(base: LocalStorage, hook: { run: (() => Promise<unknown>) | null }): Storage {
  return {
    url: base.url,
    read: (k) => base.read(k),
    readRange: (k, o, l) => base.readRange(k, o, l),
    write: (k, d) => base.write(k, d),
    writeIfAbsent: async (k, d) => {
      // Only a log entry: writers also create their lease with writeIfAbsent.
      const run = k.startsWith('_octa/log/') ? hook.run : null;
      if (run) hook.run = null;
      if (run) await run();
      return base.writeIfAbsent(k, d);
    },
    list: (p) => base.list(p),
    stat: (k) => base.stat(k),
    delete: (k) => base.delete(k),
    localPath: (k) => base.localPath(k),
    close: () => base.close(),
  };
}

/** Data files on storage that the catalog does not list as live. */
async function uncommitted(): Promise<string[]> {
  const liveKeys = new Set((await live()).map((f) => f.key));
  // Data files only: the Delta Lake and Iceberg views' metadata lives under the table too.
  return (await storage.list(`${TABLE}/`))
    .map((e) => e.key)
    .filter((k) => parseDataFileKey(k) !== null && !liveKeys.has(k));
}

describe('compact', () => {
  it('merges small files into fewer sorted files, keeping every row exactly once', async () => {
    for (let seed = 1; seed <= 3; seed++) await ingestRows({ seed });
    const before = await live();
    const [duckBefore, hypBefore] = [await duckRows(), await hyparquetRows()];
    expect(before).toHaveLength(30);
    expect(duckBefore).toHaveLength(3000);

    const summary = await compact({ storage, targetRows: 400 });
    const after = await live();
    expect(summary.partitions).toHaveLength(2);
    expect(summary.files_removed).toBe(30);
    expect(summary.files_added).toBe(after.length);
    expect(summary.rows_rewritten).toBe(3000);
    // 1,500 rows per day in 100-row files, packed four to a file: 400, 400, 400, 300.
    expect(after.map((f) => f.rows).sort()).toEqual([300, 300, 400, 400, 400, 400, 400, 400]);
    expect(await duckRows()).toEqual(duckBefore);
    expect(await hyparquetRows()).toEqual(hypBefore);
    for (const f of after) {
      const cells = await cellsOf(f.key);
      expect(isSorted(cells)).toBe(true);
      expect([cells[0]!.toString(), cells.at(-1)!.toString()]).toEqual([f.cellMin, f.cellMax]);
      expect(f.writer).toMatch(/^compact-[0-9a-f]{8}$/);
    }
    // The replaced files stay for readers of older snapshots, recorded as superseded.
    const state = (await snapshot()).tables.get(TABLE)!;
    expect([...state.removed.keys()].sort()).toEqual(before.map((f) => f.key).sort());
    expect((await uncommitted()).sort()).toEqual(before.map((f) => f.key).sort());
    const report = await verify({ storage });
    expect(report.errors).toBe(0);
    expect(report.problems.map((p) => p.code)).toEqual(Array(30).fill('SUPERSEDED'));
    // Nothing left to do: a second run changes nothing.
    const again = await compact({ storage, targetRows: 400 });
    expect(again.partitions).toEqual([]);
    expect(again.version).toBe(summary.version);
  });

  it('plans without writing in a dry run, and validates its sizes', async () => {
    await ingestRows();
    const version = (await snapshot()).version;
    const plan = await compact({ storage, targetRows: 1000, dryRun: true });
    expect(plan.partitions.map((p) => [p.filesRemoved, p.filesAdded, p.version])).toEqual([
      [5, 1, null],
      [5, 1, null],
    ]);
    expect((await snapshot()).version).toBe(version);
    expect(await uncommitted()).toEqual([]);
    const bad = await compact({ storage, targetRows: 10, minFileRows: 20 }).catch((e: unknown) => e);
    expect((bad as OctaError).code).toBe('INVALID_ARGUMENT');
    const unknown = await compact({ storage, table: 'nope' }).catch((e: unknown) => e);
    expect((unknown as OctaError).code).toBe('NOT_FOUND');
  });

  it('commits past an ingest that commits first: both survive', async () => {
    await ingestRows({ seed: 1 });
    const hook: { run: (() => Promise<unknown>) | null } = { run: null };
    const racing = beforeCommit(storage, hook);
    let ingested: Awaited<ReturnType<typeof ingestRows>> | undefined;
    let rowsWithIngest: string[] = [];
    hook.run = async () => {
      ingested = await ingestRows({ seed: 2, rows: 500 });
      rowsWithIngest = await duckRows();
    };
    const summary = await compact({ storage: racing, targetRows: 1000 });
    expect(ingested!.rows_committed).toBe(500);
    expect(rowsWithIngest).toHaveLength(1500);
    expect(summary.conflicts).toBe(0);
    expect(summary.partitions).toHaveLength(2);
    // The rival took the version the first partition's commit tried; that commit retried past it.
    expect(summary.partitions[0]!.version).toBe(ingested!.version! + 1);
    // The second partition was planned on the newer state, so it merged the rival's three files too.
    expect(summary.partitions.map((p) => p.filesRemoved)).toEqual([5, 8]);
    expect(await duckRows()).toEqual(rowsWithIngest);
    expect(await hyparquetRows()).toHaveLength(1500);
  });

  it('loses a race to another compaction cleanly: no row lost or duplicated, nothing left behind', async () => {
    for (let seed = 1; seed <= 2; seed++) await ingestRows({ seed });
    const rowsBefore = await duckRows();
    const hook: { run: (() => Promise<unknown>) | null } = { run: null };
    let rival: Awaited<ReturnType<typeof compact>> | undefined;
    hook.run = async () => {
      rival = await compact({ storage, targetRows: 1000 });
    };
    const loser = await compact({ storage: beforeCommit(storage, hook), targetRows: 1000 });
    expect(rival!.partitions).toHaveLength(2);
    // Refused, it deleted what it wrote and planned again on the rival's result: nothing to do.
    expect(loser.partitions).toEqual([]);
    expect(await duckRows()).toEqual(rowsBefore);
    const state = (await snapshot()).tables.get(TABLE)!;
    expect((await uncommitted()).sort()).toEqual([...state.removed.keys()].sort());
  });

  it('keeps rows exactly once when compactions run at the same time', async () => {
    for (let seed = 1; seed <= 3; seed++) await ingestRows({ seed, rows: 600 });
    const rowsBefore = await duckRows();
    const runs = await Promise.all([1, 2, 3].map(() => compact({ storage, targetRows: 700 })));
    expect(runs.reduce((n, r) => n + r.partitions.length, 0)).toBeGreaterThanOrEqual(2);
    expect(await duckRows()).toEqual(rowsBefore);
    expect(await hyparquetRows()).toHaveLength(1800);
    expect((await verify({ storage })).problems.filter((p) => p.code !== 'SUPERSEDED')).toEqual([]);
  });
});

describe('rebalance', () => {
  /** Every committed cell, ascending, by DuckDB. */
  async function allCells(): Promise<bigint[]> {
    const paths = (await live()).map((f) => storage.localPath(f.key));
    const rows = await duck(`SELECT cell FROM read_parquet(${sqlPaths(paths)}) ORDER BY cell`);
    return rows.map((r) => r.cell as bigint);
  }

  /** A query through a view of the committed files, without the r= column (which rebalancing changes). */
  async function query(): Promise<string> {
    const reader = await pinnedReader();
    try {
      const rows = await reader.query(
        `SELECT t, count(*) AS n, sum(x) AS sx, min(cell) AS lo, max(cell) AS hi FROM ${TABLE} WHERE x BETWEEN 100 AND 700 AND z < 900 GROUP BY t ORDER BY t`,
      );
      return JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? `${v}` : v));
    } finally {
      reader.close();
    }
  }

  it('splits a range at the exact median, routes later ingests to the new ranges and merges them back', async () => {
    await ingestRows({ rows: 3000, fileRows: 400 });
    const cells = await allCells();
    const median = cells[cells.length >> 1]!;
    expect(median).toBeGreaterThan(cells[0]!);
    const [rowsBefore, queryBefore] = [await duckRows(), await query()];

    const summary = await rebalance({ storage, targetRows: 1000 });
    const first = summary.operations[0]!;
    expect(first.kind).toBe('split');
    expect(first.split).toBe(median.toString());
    expect(first.before).toEqual(['0000000000000000']);
    expect(first.after).toEqual([
      '0000000000000000',
      BigInt.asUintN(64, median).toString(16).padStart(16, '0'),
    ]);
    // 3,000 rows over a target of 1,000: split in two, then each half again.
    expect(summary.operations.map((o) => o.kind)).toEqual(['split', 'split', 'split']);
    const state = (await snapshot()).tables.get(TABLE)!;
    const splits = state.config.splits.map(BigInt);
    expect(splits).toHaveLength(3);
    expect(splits).toContain(median);
    // Each split is the brute-force median of the range it split, under the split points of its time.
    let at: bigint[] = [];
    for (const op of summary.operations) {
      const point = BigInt(op.split);
      const i = rangeIndex(point, at);
      const lo = i === 0 ? null : at[i - 1]!;
      const hi = i < at.length ? at[i]! : null;
      const inRange = cells.filter((c) => (lo === null || c >= lo) && (hi === null || c < hi));
      expect(point).toBe(inRange[inRange.length >> 1]);
      at = [...at.slice(0, i), point, ...at.slice(i)];
    }
    expect(at).toEqual(splits);
    const files = await live();
    for (const f of files) {
      const i = indexOfLabel(f.r, splits);
      expect(i).toBeGreaterThanOrEqual(0);
      expect([rangeIndex(BigInt(f.cellMin), splits), rangeIndex(BigInt(f.cellMax), splits)]).toEqual([i, i]);
    }
    const perRange = new Map<string, number>();
    for (const f of files) perRange.set(f.r, (perRange.get(f.r) ?? 0) + f.rows);
    expect([...perRange.values()].every((n) => n <= 1000 && n >= 500)).toBe(true);
    expect(await duckRows()).toEqual(rowsBefore);
    expect(await query()).toBe(queryBefore);
    expect((await verify({ storage })).errors).toBe(0);

    // A later ingest routes by the new split points: its files spread over the four ranges.
    const known = new Set(files.map((f) => f.key));
    await ingestRows({ rows: 800, seed: 5 });
    const added = (await live()).filter((f) => !known.has(f.key));
    expect(new Set(added.map((f) => f.r)).size).toBe(4);
    for (const f of added) {
      const i = indexOfLabel(f.r, splits);
      expect([rangeIndex(BigInt(f.cellMin), splits), rangeIndex(BigInt(f.cellMax), splits)]).toEqual([i, i]);
    }

    // A large target merges the small neighbours back, one commit per merge, rows unchanged.
    const rowsNow = await duckRows();
    const merged = await rebalance({ storage, targetRows: 100_000 });
    expect(merged.operations.map((o) => o.kind)).toEqual(['merge', 'merge', 'merge']);
    expect(new Set(merged.operations.map((o) => o.version)).size).toBe(3);
    expect((await snapshot()).tables.get(TABLE)!.config.splits).toEqual([]);
    expect(new Set((await live()).map((f) => f.r))).toEqual(new Set(['0000000000000000']));
    expect(await duckRows()).toEqual(rowsNow);
    expect((await verify({ storage })).errors).toBe(0);
  });

  it('takes the median as sorted[n/2], moving past a value shared with the smallest', () => {
    expect(medianSplit(BigInt64Array.from([5n, 1n, 3n, 2n, 4n]), null, null)).toBe(3n);
    expect(medianSplit(BigInt64Array.from([1n, 1n, 1n, 2n]), null, null)).toBe(2n);
    expect(medianSplit(BigInt64Array.from([7n, 7n, 7n]), null, null)).toBeNull();
    expect(medianSplit(BigInt64Array.from([1n, 2n, 3n]), 2n, null)).toBeNull();
    expect(medianSplit(BigInt64Array.from([-9n, -3n, 8n, 9n]), -10n, 9n)).toBe(8n);
  });

  it('survives an ingest that commits with the old split points; compaction then moves its rows', async () => {
    await ingestRows({ rows: 2000, fileRows: 500 });
    const hook: { run: (() => Promise<unknown>) | null } = { run: null };
    hook.run = () => ingestRows({ rows: 600, seed: 9 });
    const summary = await rebalance({
      storage: beforeCommit(storage, hook),
      targetRows: 1500,
      maxOperations: 1,
    });
    expect(summary.operations).toHaveLength(1);
    expect(summary.conflicts).toBe(0);
    expect(await duckRows()).toHaveLength(2600);
    // The rival routed with one range: some of its rows lie above the new split point.
    const report = await verify({ storage });
    expect(report.errors).toBe(0);
    expect(report.problems.filter((p) => p.code === 'MISROUTED').length).toBeGreaterThan(0);
    const rowsBefore = await duckRows();
    await compact({ storage, targetRows: 1000 });
    expect(await duckRows()).toEqual(rowsBefore);
    expect((await verify({ storage })).problems.filter((p) => p.code === 'MISROUTED')).toEqual([]);
  });

  it('refuses a stale plan with CONFLICT on the split points', async () => {
    await ingestRows({ rows: 400 });
    const catalog = await EmbeddedCatalog.open({ storage });
    await catalog.commit({
      operation: 'rebalance',
      writer: 'a',
      actions: [{ op: 'set_splits', table: TABLE, splits: ['0'], expected: [] }],
    });
    const stale = await catalog
      .commit({
        operation: 'rebalance',
        writer: 'b',
        actions: [{ op: 'set_splits', table: TABLE, splits: ['1'], expected: [] }],
      })
      .catch((e: unknown) => e);
    expect((stale as OctaError).code).toBe('CONFLICT');
  });
});

describe('vacuum', () => {
  const ago = (key: string, ms: number) => {
    const t = new Date(Date.now() - ms);
    utimesSync(storage.localPath(key), t, t);
  };

  it('deletes orphans by age and superseded files by the time they were superseded', async () => {
    await ingestRows({ rows: 600 });
    const original = await live();
    // Written two hours ago, superseded now: the grace period runs from now.
    for (const f of original) ago(f.key, 2 * HOUR_MS);
    const oldOrphan = original[0]!.key.replace(/part-[^/]+$/, 'part-crashed-1.parquet');
    const newOrphan = original[0]!.key.replace(/part-[^/]+$/, 'part-crashed-2.parquet');
    await storage.write(oldOrphan, await storage.read(original[0]!.key));
    await storage.write(newOrphan, await storage.read(original[0]!.key));
    ago(oldOrphan, 2 * HOUR_MS);

    const reader = await pinnedReader();
    try {
      const count = async () => Number((await reader.query(`SELECT count(*) AS n FROM ${TABLE}`))[0]!.n);
      expect(await count()).toBe(600);
      await compact({ storage, targetRows: 1000 });

      const dry = await vacuum({ storage, dryRun: true });
      expect(dry.deleted.map((d) => [d.key, d.reason])).toEqual([[oldOrphan, 'orphan']]);
      expect(await storage.stat(oldOrphan)).not.toBeNull();

      const hour = await vacuum({ storage, graceMs: parseDuration('1h') });
      expect(hour.deleted.map((d) => [d.key, d.reason])).toEqual([[oldOrphan, 'orphan']]);
      expect(hour.deleted[0]!.ageMs).toBeGreaterThanOrEqual(2 * HOUR_MS - 1000);
      expect(hour.kept).toBe(original.length + 1);
      expect(await storage.stat(oldOrphan)).toBeNull();
      // A reader that opened before the compaction still reads its snapshot's files.
      expect(await count()).toBe(600);

      const now = await vacuum({ storage, graceMs: parseDuration('0') });
      expect(now.deleted.map((d) => d.reason).sort()).toEqual([
        'orphan',
        ...Array(original.length).fill('superseded'),
      ]);
      expect(now.forgotten).toBe(original.length);
      expect((await snapshot()).tables.get(TABLE)!.removed.size).toBe(0);
      expect(await uncommitted()).toEqual([]);
      for (const f of await live()) expect(await storage.stat(f.key)).not.toBeNull();
      const report = await verify({ storage });
      expect(report.problems).toEqual([]);
      // With grace 0 that reader's files are gone: its next query fails (documented in docs/LAKE.md).
      await expect(count()).rejects.toThrow();
    } finally {
      reader.close();
    }
    // Nothing left: a second vacuum deletes and commits nothing.
    const version = (await snapshot()).version;
    const idle = await vacuum({ storage, graceMs: 0 });
    expect([idle.deleted, idle.forgotten, idle.version]).toEqual([[], 0, version]);
  });

  it('keeps to one table with `table`, and cleans up tables no commit created', async () => {
    await ingestRows({ rows: 200 });
    const source = (await live())[0]!;
    const mine = source.key.replace(/part-[^/]+$/, 'part-crashed-1.parquet');
    const other = mine.replace(/^pts\//, 'never_committed/');
    for (const key of [mine, other]) await storage.write(key, await storage.read(source.key));
    const only = await vacuum({ storage, table: TABLE, graceMs: 0 });
    expect(only.deleted.map((d) => d.key)).toEqual([mine]);
    expect(await storage.stat(other)).not.toBeNull();
    const all = await vacuum({ storage, graceMs: 0 });
    expect(all.deleted.map((d) => d.key)).toEqual([other]);
    expect(
      (await storage.list(''))
        .filter((e) => !e.key.startsWith('_octa/') && parseDataFileKey(e.key) !== null)
        .map((e) => e.key)
        .sort(),
    ).toEqual((await live()).map((f) => f.key).sort());
  });

  it('parses durations and refuses anything else', () => {
    expect([parseDuration('1h'), parseDuration('30m'), parseDuration('45s'), parseDuration('0')]).toEqual([
      HOUR_MS,
      1_800_000,
      45_000,
      0,
    ]);
    expect(parseDuration('1.5d')).toBe(36 * HOUR_MS);
    for (const bad of ['', '10', '-1h', 'h', '1w', '1 h x']) {
      expect(() => parseDuration(bad)).toThrow(OctaError);
    }
  });
});

describe('verify', () => {
  it('reports a truncated file, a bit flip, a missing file and a wrong row count, all at once', async () => {
    await ingestRows({ rows: 1000, fileRows: 250 });
    const clean = await verify({ storage });
    const files = await live();
    expect(clean).toMatchObject({ ok: true, errors: 0, warnings: 0, files_checked: 4, problems: [] });
    expect(clean.bytes_checked).toBe(files.reduce((n, f) => n + f.bytes, 0));
    const [truncated, flipped, missing, copied] = files;
    const bytes = await storage.read(truncated!.key);
    await storage.write(truncated!.key, bytes.slice(0, bytes.length - 100));
    const flip = (await storage.read(flipped!.key)).slice();
    flip[Math.floor(flip.length / 3)]! ^= 0x10;
    await storage.write(flipped!.key, flip);
    await storage.delete(missing!.key);
    // A record claiming one row more than its file holds.
    const wrong = {
      ...copied!,
      key: copied!.key.replace(/part-[^/]+$/, 'part-wrong-1.parquet'),
      rows: copied!.rows + 1,
    };
    await storage.write(wrong.key, await storage.read(copied!.key));
    const catalog = await EmbeddedCatalog.open({ storage });
    await catalog.commit({ operation: 'test', writer: 'w', actions: [{ op: 'add', file: wrong }] });
    const orphan = copied!.key.replace(/part-[^/]+$/, 'part-orphan-1.parquet');
    await storage.write(orphan, await storage.read(copied!.key));

    const report = await verify({ storage });
    expect(report.ok).toBe(false);
    const found = report.problems.map((p) => `${p.severity} ${p.code} ${p.file}`);
    expect(found.sort()).toEqual(
      [
        `error SIZE_MISMATCH ${truncated!.key}`,
        `error CHECKSUM_MISMATCH ${truncated!.key}`,
        `error FOOTER_UNREADABLE ${truncated!.key}`,
        `error CHECKSUM_MISMATCH ${flipped!.key}`,
        `error MISSING ${missing!.key}`,
        `error ROWS_MISMATCH ${wrong.key}`,
        `warning ORPHAN ${orphan}`,
        // The commit above did not publish: both views are one version behind, which is a warning.
        'warning VIEW_BEHIND pts/_delta_log/',
        'warning VIEW_BEHIND pts/metadata/',
      ].sort(),
    );
    expect(report.errors).toBe(6);
    expect(report.warnings).toBe(3);
    expect(report.files_checked).toBe(5);
    // Errors first, each with a detail that names the numbers.
    expect(report.problems.at(-1)!.severity).toBe('warning');
    expect(report.problems.find((p) => p.code === 'ROWS_MISMATCH')!.detail).toContain(`${wrong.rows}`);
  });

  it('reports a damaged log entry and a checkpoint that disagrees with the log', async () => {
    const catalog = await EmbeddedCatalog.open({ storage, checkpointInterval: 2 });
    await catalog.commit({
      operation: 'create',
      writer: 'w',
      actions: [{ op: 'create_table', config: tableConfig() }],
    });
    await catalog.commit({
      operation: 'ingest',
      writer: 'w',
      batches: ['b1'],
      actions: [{ op: 'add', file: fileRecord({ batch: 'b1' }) }],
    });
    await catalog.commit({
      operation: 'ingest',
      writer: 'w',
      batches: ['b2'],
      actions: [{ op: 'add', file: fileRecord({ batch: 'b2' }) }],
    });
    const good = decodeCheckpoint(await storage.read(checkpointKey(2)), checkpointKey(2));
    const points = good.tables.get('points')!;
    // A checkpoint that decodes (valid checksum) but lost a file the log has.
    const bad: CatalogSnapshot = { ...good, tables: new Map([['points', { ...points, files: new Map() }]]) };
    await storage.write(checkpointKey(2), encodeCheckpoint(bad));
    await storage.write(logKey(3), new TextEncoder().encode('{"format":"octa-catalog-log"'));
    const report = await verify({ storage });
    const codes = report.problems.filter((p) => p.severity === 'error').map((p) => `${p.code} ${p.file}`);
    expect(codes).toContain(`LOG_CORRUPT ${logKey(3)}`);
    expect(codes).toContain(`CHECKPOINT_MISMATCH ${checkpointKey(2)}`);
    expect(codes).toContain('CATALOG_UNREADABLE null');
    // The fixture's records point at files that do not exist: the readable state is still checked.
    expect(report.ok).toBe(false);
  });
});

describe('superseded files in the catalog', () => {
  it('keeps removal times through checkpoints, forgets them on request, and opens older checkpoints', async () => {
    const catalog = await EmbeddedCatalog.open({ storage, checkpointInterval: 3 });
    await catalog.commit({
      operation: 'create',
      writer: 'w',
      actions: [{ op: 'create_table', config: tableConfig() }],
    });
    const f = fileRecord({ batch: 'b1' });
    await catalog.commit({
      operation: 'ingest',
      writer: 'w',
      batches: ['b1'],
      actions: [{ op: 'add', file: f }],
    });
    const { version } = await catalog.commit({
      operation: 'compact',
      writer: 'c',
      actions: [{ op: 'remove', key: f.key, table: 'points' }],
    });
    expect(version).toBe(3);
    const reopened = await (await EmbeddedCatalog.open({ storage })).snapshot();
    const removedAt = reopened.tables.get('points')!.removed.get(f.key);
    expect(removedAt).toBeDefined();
    expect(Date.now() - Date.parse(removedAt!)).toBeLessThan(60_000);
    // Read from the checkpoint of version 3, not replayed.
    const checkpoint = decodeCheckpoint(await storage.read(checkpointKey(3)), checkpointKey(3));
    expect(checkpoint.tables.get('points')!.removed.get(f.key)).toBe(removedAt);

    // A checkpoint written before removal times existed (no `removed`) still opens.
    const text = new TextDecoder().decode(await storage.read(checkpointKey(3)));
    const body = JSON.parse(text.slice(text.indexOf('\n') + 1)) as { tables: Record<string, unknown>[] };
    for (const t of body.tables) delete t.removed;
    const legacy = encodeCheckpoint({ ...checkpoint, tables: new Map() });
    const head = JSON.parse(new TextDecoder().decode(legacy.subarray(0, legacy.indexOf(10))));
    const bodyBytes = new TextEncoder().encode(JSON.stringify(body));
    const { createHash } = await import('node:crypto');
    head.sha256 = createHash('sha256').update(bodyBytes).digest('hex');
    const old = decodeCheckpoint(
      new TextEncoder().encode(`${JSON.stringify(head)}\n${JSON.stringify(body)}`),
      checkpointKey(3),
    );
    expect(old.tables.get('points')!.removed.size).toBe(0);
    expect(liveFiles(old, 'points')).toEqual([]);

    const forget = {
      operation: 'vacuum',
      writer: 'v',
      actions: [{ op: 'forget' as const, key: f.key, table: 'points' }],
    };
    expect((await catalog.commit(forget)).committed).toBe(true);
    expect((await catalog.snapshot()).tables.get('points')!.removed.size).toBe(0);
    // Forgetting again (a concurrent vacuum did it already) commits nothing and is no conflict.
    expect(await catalog.commit(forget)).toMatchObject({ committed: false, version: 4 });
  });
});

describe('maintenance through the Storage interface only', () => {
  it('compacts, rebalances, verifies and vacuums a lake on S3 (s3rver, the real SDK)', async () => {
    const server = await startS3Server({ bucket: 'octa-maintenance' });
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
    const s3 = await S3Storage.create({
      bucket: server.bucket,
      prefix: 'lakes/m',
      endpoint: server.endpoint,
      region: 'us-east-1',
    });
    try {
      for (let seed = 1; seed <= 2; seed++) await ingestRows({ rows: 600, seed }, s3);
      const before = await hyparquetRows(s3);
      expect(before).toHaveLength(1200);
      const files = () =>
        EmbeddedCatalog.open({ storage: s3 }).then(async (c) => liveFiles(await c.snapshot(), TABLE));
      expect(await files()).toHaveLength(12);

      const compacted = await compact({ storage: s3, targetRows: 1000 });
      expect(compacted.files_removed).toBe(12);
      expect(await files()).toHaveLength(2);
      const balanced = await rebalance({ storage: s3, targetRows: 800 });
      expect(balanced.operations.map((o) => o.kind)).toEqual(['split']);
      expect(await hyparquetRows(s3)).toEqual(before);

      const report = await verify({ storage: s3 });
      expect(report.errors).toBe(0);
      expect(new Set(report.problems.map((p) => p.code))).toEqual(new Set(['SUPERSEDED']));
      const swept = await vacuum({ storage: s3, graceMs: 0 });
      expect(swept.deleted.length).toBe(report.warnings);
      expect((await verify({ storage: s3 })).problems).toEqual([]);
      expect(await hyparquetRows(s3)).toEqual(before);

      // Damage one object: verify finds it through the same interface.
      const [first] = await files();
      const bytes = await s3.read(first!.key);
      await s3.write(first!.key, bytes.subarray(0, bytes.length - 1));
      const damaged = await verify({ storage: s3 });
      expect(damaged.problems.map((p) => `${p.code} ${p.file}`).sort()).toEqual(
        [
          `CHECKSUM_MISMATCH ${first!.key}`,
          `FOOTER_UNREADABLE ${first!.key}`,
          `SIZE_MISMATCH ${first!.key}`,
        ].sort(),
      );
      // Nothing was read through a local path: there is none.
      expect(s3.localPath(first!.key)).toBeNull();
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
