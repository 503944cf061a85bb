/**
 * The Delta Lake view held against an independent reader (test/support/delta-reader.ts, written from
 * PROTOCOL.md) at every Delta version: exactly the catalog's live files at the catalog version the
 * version records, with matching counts and statistics; hyparquet reads the files and the rows agree.
 * Also checkpoints every 10 versions, exact INT64 cell stats, concurrent publishers, a table created
 * before publishing, and metadata cleanup (expire).
 */
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CatalogAction,
  EmbeddedCatalog,
  type FileRecord,
  liveFiles,
} from '../../../src/lake/catalog/catalog.js';
import { deltaTimeMicros, deltaView } from '../../../src/lake/catalog/publish/delta.js';
import { publishTables, stepsSince } from '../../../src/lake/catalog/publish/table-formats.js';
import { ingest } from '../../../src/lake/ingest/ingest.js';
import { compact } from '../../../src/lake/maintenance/compact.js';
import { rebalance } from '../../../src/lake/maintenance/rebalance.js';
import { LocalStorage } from '../../../src/lake/storage/local-storage.js';
import { S3Storage } from '../../../src/lake/storage/s3-storage.js';
import type { Storage } from '../../../src/lake/storage/storage.js';
import { OctaError } from '../../../src/lattice/errors.js';
import { type DeltaSnapshot, deltaVersions, readDelta } from '../../support/delta-reader.js';
import { S3RVER_CREDENTIALS, startS3Server } from '../../support/s3-server.js';
import { ageCatalog, fileRecord, tableConfig } from '../fixtures/catalog.js';
import { removeDir, tempDir } from '../fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, pointsToCsv } from '../fixtures/ingest/points.js';

let dir: string;
let storage: LocalStorage;

beforeEach(async () => {
  dir = tempDir('delta');
  storage = await LocalStorage.create({ root: join(dir, 'lake') });
});

afterEach(() => {
  removeDir(dir);
});

const log = (table: string) => join(dir, 'lake', table, '_delta_log');
const name20 = (v: number) => String(v).padStart(20, '0');

async function publish(store: Storage = storage) {
  const catalog = await EmbeddedCatalog.open({ storage: store });
  const outcomes = await publishTables(catalog, [deltaView]);
  for (const o of outcomes) expect(o.error).toBeUndefined();
  return outcomes;
}

let inputs = 0;
async function ingestRows(seed: number, rows = 200) {
  const path = join(dir, `input-${++inputs}.csv`);
  writeFileSync(path, pointsToCsv(generatePoints({ rows, seed, days: 2 })));
  await ingest({
    storage,
    table: 'pts',
    inputs: [{ path }],
    frame: POINTS_FRAME,
    lod: 10,
    time: 'time',
    fileRows: 100,
    rejectFile: null,
  });
}

/** Expects a Delta snapshot to list exactly `files`, with the same counts and statistics. */
function expectSameFiles(snapshot: DeltaSnapshot, table: string, files: FileRecord[]) {
  expect([...snapshot.files.keys()].map((p) => `${table}/${p}`).sort()).toEqual(
    files.map((f) => f.key).sort(),
  );
  for (const f of files) {
    const { add, stats } = snapshot.files.get(f.key.slice(table.length + 1))!;
    expect(add.size).toBe(f.bytes);
    expect(add.partitionValues).toEqual({ lod: String(f.lod), t: f.t, r: f.r });
    expect(stats.numRecords).toBe(f.rows);
    expect([stats.minValues.cell, stats.maxValues.cell]).toEqual([f.cellMin, f.cellMax]);
    const micros = (iso: unknown) => String(BigInt(Date.parse(iso as string)) * 1000n);
    const catalogMicros = (iso: string) =>
      String(BigInt(Date.parse(`${iso.slice(0, 23)}Z`)) * 1000n + BigInt(iso.slice(23, 26)));
    expect(micros(stats.minValues.time)).toBe(deltaTimeMicros(catalogMicros(f.timeMin)));
    expect(micros(stats.maxValues.time)).toBe(deltaTimeMicros(catalogMicros(f.timeMax)));
    const { x: minX, y: minY, z: minZ } = stats.minValues;
    const { x: maxX, y: maxY, z: maxZ } = stats.maxValues;
    expect([minX, minY, minZ, maxX, maxY, maxZ]).toEqual(f.bbox);
    expect(stats.nullCount).toEqual({ cell: 0, x: 0, y: 0, z: 0, time: 0 });
  }
}

/** Checks every Delta version of `table` against the catalog at the version it records. */
async function expectEveryVersionMatches(table: string, store: Storage = storage): Promise<DeltaSnapshot[]> {
  const catalog = await EmbeddedCatalog.open({ storage: store });
  const versions = await deltaVersions(store, table);
  expect(versions).toEqual(versions.map((_, i) => i));
  const out: DeltaSnapshot[] = [];
  let previous = -1;
  for (const v of versions) {
    const snapshot = await readDelta(store, table, v);
    const catalogVersion = snapshot.txns.get('octa-catalog')!;
    expect(catalogVersion).toBeGreaterThan(previous);
    expect((snapshot.commitInfo!.octa as { catalogVersion: number }).catalogVersion).toBe(catalogVersion);
    previous = catalogVersion;
    expectSameFiles(snapshot, table, liveFiles(await catalog.snapshotAt(catalogVersion), table));
    out.push(snapshot);
  }
  return out;
}

describe('the Delta view of a real lake', () => {
  it('lists the catalog files at every version through ingest, compaction and rebalancing', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      await ingestRows(seed);
      await publish();
    }
    // Two ingests and no publication (a crash after the commit): the next one catches up, one version each.
    await ingestRows(7);
    await ingestRows(8);
    await publish();
    expect(await deltaVersions(storage, 'pts')).toHaveLength(8);
    await compact({ storage, targetRows: 400 });
    await publish();
    await rebalance({ storage, targetRows: 700 });
    await publish();
    await ingestRows(9);
    await publish();

    const catalog = await EmbeddedCatalog.open({ storage });
    const latest = await catalog.snapshot();
    const snapshots = await expectEveryVersionMatches('pts');
    expect(snapshots.length).toBeGreaterThanOrEqual(11);
    // Compaction and rebalancing rearrange data: dataChange false on both sides; ingest adds data.
    const ops = snapshots.map((s) => (s.commitInfo!.octa as { operation: string }).operation);
    expect(ops.slice(0, 8)).toEqual(['publish', ...Array(7).fill('ingest')]);
    expect(ops).toContain('compact');
    expect(ops).toContain('rebalance');
    for (const [i, op] of ops.entries()) {
      const text = await storage.read(`pts/_delta_log/${name20(i)}.json`);
      const actions = new TextDecoder()
        .decode(text)
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(Object.keys(actions[0])).toEqual(['commitInfo']);
      const deltaOperation = {
        publish: 'CONVERT',
        ingest: 'WRITE',
        compact: 'OPTIMIZE',
        rebalance: 'OPTIMIZE',
      };
      expect(actions[0].commitInfo.operation).toBe(deltaOperation[op as keyof typeof deltaOperation]);
      for (const a of actions) {
        const file = a.add ?? a.remove;
        if (file) expect(file.dataChange).toBe(!(op === 'compact' || op === 'rebalance'));
        if (a.remove) expect(a.remove.deletionTimestamp).toBe(snapshots[i]!.commitInfo!.timestamp);
      }
      if (op === 'ingest') {
        const batches = actions.filter((a) => a.txn && a.txn.appId !== 'octa-catalog');
        expect(batches).toHaveLength(1);
        expect(latest.tables.get('pts')!.batches.has(batches[0].txn.appId)).toBe(true);
      }
    }
    // A checkpoint at version 10 and the pointer to it; the latest snapshot replays from it.
    expect(await storage.stat(`pts/_delta_log/${name20(10)}.checkpoint.parquet`)).not.toBeNull();
    const pointer = JSON.parse(
      new TextDecoder().decode(await storage.read('pts/_delta_log/_last_checkpoint')),
    );
    expect(pointer.version).toBe(10);
    const last = await readDelta(storage, 'pts');
    expect(last.checkpoint).toBe(10);
    expect(last.commitsRead).toEqual(snapshots.slice(11).map((_, i) => 11 + i));
    const at10 = snapshots[10]!;
    expect(pointer.size).toBe(2 + at10.files.size + at10.txns.size + at10.tombstones.size);

    // The view reads itself back the same way, and hyparquet reads every live file's rows.
    const view = (await deltaView.read(storage, 'pts'))!;
    expect(view.version).toBe(latest.version);
    const live = liveFiles(latest, 'pts');
    expect([...view.files.keys()].sort()).toEqual(live.map((f) => f.key).sort());
    let rows = 0;
    for (const f of live) {
      const bytes = await storage.read(f.key);
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const data = (await parquetReadObjects({ file, columns: ['cell'], compressors })) as { cell: bigint }[];
      expect(data).toHaveLength(last.files.get(f.key.slice(4))!.stats.numRecords);
      const cells = data.map((r) => r.cell).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect([String(cells[0]), String(cells.at(-1))]).toEqual([f.cellMin, f.cellMax]);
      expect(view.files.get(f.key)).toMatchObject({
        rows: f.rows,
        bytes: f.bytes,
        cellMin: f.cellMin,
        cellMax: f.cellMax,
      });
      rows += data.length;
    }
    expect(rows).toBe(9 * 200);
    // Real ids sit past 2^53, where a double would round them: the stats above kept every digit.
    expect(live.some((f) => BigInt(f.cellMax) > 2n ** 53n || BigInt(f.cellMin) < -(2n ** 53n))).toBe(true);

    // The table schema and settings, as Delta serializes them.
    const meta = snapshots[0]!.metaData as {
      schemaString: string;
      partitionColumns: string[];
      configuration: Record<string, string>;
    };
    expect(snapshots[0]!.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    expect(meta.partitionColumns).toEqual(['lod', 't', 'r']);
    const fields = JSON.parse(meta.schemaString).fields.map(
      (f: { name: string; type: string }) => `${f.name}:${f.type}`,
    );
    expect(fields.slice(0, 5)).toEqual(['cell:long', 'x:double', 'y:double', 'z:double', 'time:timestamp']);
    expect(fields.slice(-3)).toEqual(['lod:integer', 't:string', 'r:string']);
    expect(meta.configuration).toMatchObject({
      'octa.lod': '10',
      'octa.time_bucket': 'day',
      'delta.checkpointInterval': '10',
    });
    expect(JSON.parse(meta.configuration['octa.frame']!)).toBeTypeOf('object');
  });
});

/** Creates the synthetic table `points` (the catalog fixtures' config). */
async function createPoints(catalog: EmbeddedCatalog) {
  await catalog.commit({
    operation: 'create',
    writer: 'w',
    actions: [{ op: 'create_table', config: tableConfig() }],
  });
}

/** Commits one synthetic file of `points` as ingest batch `b<n>`. */
async function ingestFile(catalog: EmbeddedCatalog, n: number) {
  const file = fileRecord({ batch: `b${n}`, name: `f${n}` });
  await catalog.commit({
    operation: 'ingest',
    writer: 'w',
    batches: [`b${n}`],
    actions: [{ op: 'add', file }],
  });
  return file;
}

/** A synthetic table `points` with one commit per step through the catalog, published after each. */
async function syntheticCommits(count: number, cells?: (i: number) => [string, string]) {
  const catalog = await EmbeddedCatalog.open({ storage });
  await createPoints(catalog);
  const files: FileRecord[] = [];
  for (let i = 1; i <= count; i++) {
    const file = { ...fileRecord({ batch: `b${i}`, name: `f${i}`, t: `2024-05-0${1 + (i % 3)}` }) };
    if (cells) [file.cellMin, file.cellMax] = cells(i);
    const actions: CatalogAction[] = [{ op: 'add', file }];
    // Every third commit compacts: the file of the commit before leaves.
    const gone = i % 3 === 0 ? files.pop() : undefined;
    if (gone) actions.push({ op: 'remove', key: gone.key, table: 'points' });
    files.push(file);
    await catalog.commit({
      operation: gone ? 'compact' : 'ingest',
      writer: 'w',
      batches: [`b${i}`],
      actions,
    });
    await publish();
  }
}

describe('the Delta view, step by step', () => {
  it('writes cell statistics past 2^53 digit for digit', async () => {
    const big: [string, string][] = [
      ['9007199254740993', '9223372036854775807'],
      ['-9223372036854775808', '-9007199254740993'],
    ];
    await syntheticCommits(2, (i) => big[i - 1]!);
    const text = async (v: number) =>
      new TextDecoder().decode(await storage.read(`points/_delta_log/${name20(v)}.json`));
    expect(await text(0)).toContain('\\"cell\\":9007199254740993,');
    expect(await text(0)).toContain('\\"cell\\":9223372036854775807,');
    expect(await text(1)).toContain('\\"cell\\":-9223372036854775808,');
    expect(await text(1)).toContain('\\"cell\\":-9007199254740993,');
    const snapshot = await readDelta(storage, 'points');
    const cells = [...snapshot.files.values()].map((f) => [f.stats.minValues.cell, f.stats.maxValues.cell]);
    expect(cells.sort()).toEqual([...big].sort());
    const view = (await deltaView.read(storage, 'points'))!;
    expect([...view.files.values()].map((f) => [f.cellMin, f.cellMax]).sort()).toEqual([...big].sort());
    await expectEveryVersionMatches('points');
  });

  it('checkpoints every 10 versions and replays from the newest one at or below a version', async () => {
    await syntheticCommits(24);
    const versions = await deltaVersions(storage, 'points');
    expect(versions).toHaveLength(24);
    const checkpoints = (await storage.list('points/_delta_log/'))
      .map((e) => e.key)
      .filter((k) => k.includes('checkpoint.'));
    expect(checkpoints).toEqual([10, 20].map((v) => `points/_delta_log/${name20(v)}.checkpoint.parquet`));
    expect((await readDelta(storage, 'points', 15)).checkpoint).toBe(10);
    expect((await readDelta(storage, 'points', 9)).checkpoint).toBeNull();
    expect((await readDelta(storage, 'points')).checkpoint).toBe(20);
    const snapshots = await expectEveryVersionMatches('points');
    // Tombstones survive the checkpoint: version 20 still knows what compactions removed.
    expect(snapshots[20]!.tombstones.size).toBe(7);
    expect(await deltaView.publishedVersion(storage, 'points')).toBe(25);
  });

  it('gives one gap-free log when two publishers race on the same steps', async () => {
    let lost = 0;
    const counting: Storage = {
      ...storageMethods(storage),
      writeIfAbsent: async (k, d) => {
        const created = await storage.writeIfAbsent(k, d);
        if (!created && k.includes('_delta_log/')) lost++;
        return created;
      },
    };
    const catalog = await EmbeddedCatalog.open({ storage: counting });
    await createPoints(catalog);
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3; i++) {
        const n = round * 3 + i;
        await ingestFile(catalog, n);
      }
      const [a, b] = await Promise.all([
        publishTables(catalog, [deltaView]),
        publishTables(catalog, [deltaView]),
      ]);
      expect(a[0]!.error ?? b[0]!.error).toBeUndefined();
      expect([a[0]!.to, b[0]!.to]).toEqual([(round + 1) * 3 + 1, (round + 1) * 3 + 1]);
    }
    // The races did happen: publishers lost versions to each other and went on.
    expect(lost).toBeGreaterThan(0);
    const snapshots = await expectEveryVersionMatches('points');
    // Version 0 (the first publication, catalog version 4), then one per catalog version after it.
    expect(snapshots.map((s) => s.txns.get('octa-catalog'))).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  });

  it('makes a late initial step over an existing log a commit to the catalog files (a lost race)', async () => {
    const catalog = await EmbeddedCatalog.open({ storage });
    await createPoints(catalog);
    const f1 = await ingestFile(catalog, 1);
    await ingestFile(catalog, 2);
    const early = await catalog.snapshot();
    await catalog.commit({
      operation: 'compact',
      writer: 'w',
      actions: [
        { op: 'add', file: fileRecord({ batch: 'b3', name: 'f3' }) },
        { op: 'remove', key: f1.key, table: 'points' },
      ],
    });
    const late = await catalog.snapshot();
    // The slower publisher planned its initial step at version 4 and finds version 0 (catalog 3) there.
    const slow = await stepsSince(catalog, late, 'points', null);
    expect(await deltaView.publish(storage, 'points', await stepsSince(catalog, early, 'points', null))).toBe(
      3,
    );
    expect(await deltaView.publish(storage, 'points', slow)).toBe(4);
    const snapshots = await expectEveryVersionMatches('points');
    expect(snapshots).toHaveLength(2);
    expect([...snapshots[1]!.tombstones.keys()]).toEqual([f1.key.slice('points/'.length)]);
  });

  it('gives a table created before publishing an initial version with all its files', async () => {
    await ingestRows(1);
    await ingestRows(2);
    await ingestRows(3);
    // Ingest publishes: take the views away, as a lake written before publishing existed has none.
    for (const e of await storage.list('pts/')) if (!e.key.includes('/lod=')) await storage.delete(e.key);
    // …and long ago: its view starts at the latest version, not at its creation.
    await ageCatalog(storage);
    expect(await deltaView.publishedVersion(storage, 'pts')).toBeNull();
    const [outcome] = await publishTables(await EmbeddedCatalog.open({ storage }), [deltaView], ['pts']);
    const latest = await (await EmbeddedCatalog.open({ storage })).snapshot();
    expect(outcome).toMatchObject({ from: null, to: latest.version, steps: 1 });
    const [snapshot] = await expectEveryVersionMatches('pts');
    expect(snapshot!.files.size).toBe(liveFiles(latest, 'pts').length);
    expect(snapshot!.files.size).toBeGreaterThanOrEqual(6);
    expect(snapshot!.commitInfo).toMatchObject({ operation: 'CONVERT' });
    expect([...snapshot!.txns.keys()]).toHaveLength(4);
    // Nothing new: publishing again writes nothing.
    expect(
      (await publishTables(await EmbeddedCatalog.open({ storage }), [deltaView], ['pts']))[0],
    ).toMatchObject({ from: latest.version, to: latest.version, steps: 0 });
    expect(await deltaVersions(storage, 'pts')).toEqual([0]);
  });
});

/** The methods of a storage, bound, for wrappers that override some. */
function storageMethods(base: Storage): Storage {
  return {
    url: base.url,
    read: (k) => base.read(k),
    readRange: (k, o, l) => base.readRange(k, o, l),
    write: (k, d) => base.write(k, d),
    writeIfAbsent: (k, d) => base.writeIfAbsent(k, d),
    list: (p, a) => base.list(p, a),
    stat: (k) => base.stat(k),
    delete: (k) => base.delete(k),
    localPath: (k) => base.localPath(k),
    close: () => base.close(),
  };
}

describe('damaged, failed or foreign logs', () => {
  it('publishes on when a checkpoint cannot be written, and readers replay the JSON commits', async () => {
    const failing: Storage = {
      ...storageMethods(storage),
      write: async (k, d) => {
        if (k.includes('_delta_log/')) throw new OctaError('IO_ERROR', 'disk full', k);
        return storage.write(k, d);
      },
    };
    const catalog = await EmbeddedCatalog.open({ storage: failing });
    await createPoints(catalog);
    for (let n = 1; n <= 12; n++) {
      await ingestFile(catalog, n);
      const [outcome] = await publishTables(catalog, [deltaView]);
      expect(outcome!.error).toBeUndefined();
    }
    expect(
      (await storage.list('points/_delta_log/')).map((e) => e.key).filter((k) => !k.endsWith('.json')),
    ).toEqual([]);
    expect((await readDelta(storage, 'points')).checkpoint).toBeNull();
    expect((await deltaView.read(storage, 'points'))!.files.size).toBe(12);
    await expectEveryVersionMatches('points');
  });

  it('reads past a damaged checkpoint or pointer by replaying the JSON commits', async () => {
    await syntheticCommits(12);
    const expected = (await deltaView.read(storage, 'points'))!;
    writeFileSync(join(log('points'), `${name20(10)}.checkpoint.parquet`), 'not parquet');
    expect(await deltaView.read(storage, 'points')).toEqual(expected);
    writeFileSync(join(log('points'), '_last_checkpoint'), '{"version":');
    expect(await deltaView.read(storage, 'points')).toEqual(expected);
    expect(await deltaView.publishedVersion(storage, 'points')).toBe(13);
    // expire does not count on a checkpoint that does not read.
    const deleted = await deltaView.expire(storage, 'points', new Date(Date.now() + 60_000));
    // A checkpoint is written at the cutoff (11); the commits and the damaged checkpoint below it go.
    expect(deleted).toEqual(
      [...[...Array(11).keys()].map((v) => `${name20(v)}.json`), `${name20(10)}.checkpoint.parquet`]
        .map((k) => `points/_delta_log/${k}`)
        .sort(),
    );
    expect((await readDelta(storage, 'points')).checkpoint).toBe(11);
    expect(await deltaView.read(storage, 'points')).toEqual(expected);
  });

  it('refuses a Delta log that octa-lake did not write, and writes nothing to it', async () => {
    await syntheticCommits(1);
    const foreign = [
      { commitInfo: { timestamp: 1, operation: 'WRITE' } },
      { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
      {
        metaData: {
          id: 'x',
          format: { provider: 'parquet', options: {} },
          schemaString: '{}',
          partitionColumns: [],
          configuration: {},
        },
      },
    ];
    await storage.delete(`points/_delta_log/${name20(0)}.json`);
    writeFileSync(join(log('points'), `${name20(0)}.json`), foreign.map((a) => JSON.stringify(a)).join('\n'));
    const catalog = await EmbeddedCatalog.open({ storage });
    await ingestFile(catalog, 2);
    const [outcome] = await publishTables(catalog, [deltaView]);
    expect(outcome).toMatchObject({ from: null, to: null, steps: 0 });
    expect(outcome!.error!.code).toBe('CORRUPT');
    expect(outcome!.error!.message).toContain('octa-lake did not write it');
    expect(await deltaVersions(storage, 'points')).toEqual([0]);
    await expect(deltaView.read(storage, 'points')).rejects.toMatchObject({ code: 'CORRUPT' });
    // Nor is it cleaned up: expiry deletes nothing of a log another writer owns.
    await expect(
      deltaView.expire(storage, 'points', new Date(Date.now() + 86_400_000)),
    ).rejects.toMatchObject({
      code: 'CORRUPT',
    });
    expect(await deltaVersions(storage, 'points')).toEqual([0]);
  });

  it('refuses a log past reader 1 / writer 2 and a commit that is not JSON', async () => {
    await syntheticCommits(2);
    const key = join(log('points'), `${name20(2)}.json`);
    writeFileSync(
      key,
      `${JSON.stringify({ protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'], writerFeatures: ['deletionVectors'] } })}\n`,
    );
    await expect(deltaView.read(storage, 'points')).rejects.toMatchObject({ code: 'CORRUPT' });
    writeFileSync(key, '{"add":{"path":');
    await expect(deltaView.read(storage, 'points')).rejects.toMatchObject({ code: 'CORRUPT' });
    await expect(deltaView.publishedVersion(storage, 'points')).rejects.toMatchObject({ code: 'CORRUPT' });
  });
});

describe('expire (Delta metadata cleanup)', () => {
  it('deletes only the commits and checkpoints below the kept checkpoint', async () => {
    await syntheticCommits(25);
    const T0 = Date.UTC(2026, 0, 1);
    const at = (v: number) => new Date(T0 + v * 3_600_000);
    for (let v = 0; v < 25; v++) utimesSync(join(log('points'), `${name20(v)}.json`), at(v), at(v));
    const all = async () =>
      (await storage.list('points/_delta_log/')).map((e) => e.key.slice('points/_delta_log/'.length));

    // Cutoff 7 has no checkpoint at or below it: one is written there, commits 0-6 go.
    const first = await deltaView.expire(storage, 'points', new Date(at(7).getTime() + 1_800_000));
    expect(first).toEqual([0, 1, 2, 3, 4, 5, 6].map((v) => `points/_delta_log/${name20(v)}.json`));
    expect(await all()).toContain(`${name20(7)}.checkpoint.parquet`);
    const at7 = await readDelta(storage, 'points', 7);
    expect(at7.checkpoint).toBe(7);
    // The removes of versions 2 and 5 happened after `before`: the checkpoint keeps their tombstones.
    expect(at7.tombstones.size).toBe(2);

    // Cutoff 15: the checkpoint at 10 is kept, everything below it goes.
    const second = await deltaView.expire(storage, 'points', at(15));
    expect(second).toEqual(
      [...[7, 8, 9].map((v) => `${name20(v)}.json`), `${name20(7)}.checkpoint.parquet`]
        .map((k) => `points/_delta_log/${k}`)
        .sort(),
    );
    expect((await all()).filter((k) => k.endsWith('.json'))).toHaveLength(15);
    // Every version from the kept checkpoint on still reads and matches the catalog.
    const catalog = await EmbeddedCatalog.open({ storage });
    for (let v = 10; v < 25; v++) {
      const snapshot = await readDelta(storage, 'points', v);
      expectSameFiles(
        snapshot,
        'points',
        liveFiles(await catalog.snapshotAt(snapshot.txns.get('octa-catalog')!), 'points'),
      );
    }
    await expect(readDelta(storage, 'points', 9)).rejects.toThrow();
    expect((await deltaView.read(storage, 'points'))!.version).toBe(26);
    // A `before` earlier than every commit left deletes nothing.
    expect(await deltaView.expire(storage, 'points', at(3))).toEqual([]);
  });
});

describe('expire drops old tombstones', () => {
  it('leaves removes older than `before` out of the checkpoint it writes', async () => {
    await syntheticCommits(8);
    expect((await readDelta(storage, 'points')).tombstones.size).toBe(2);
    const deleted = await deltaView.expire(storage, 'points', new Date(Date.now() + 60_000));
    expect(deleted).toEqual([0, 1, 2, 3, 4, 5, 6].map((v) => `points/_delta_log/${name20(v)}.json`));
    const at7 = await readDelta(storage, 'points', 7);
    expect(at7.checkpoint).toBe(7);
    expect(at7.tombstones.size).toBe(0);
    const catalog = await EmbeddedCatalog.open({ storage });
    expectSameFiles(at7, 'points', liveFiles(await catalog.snapshot(), 'points'));
  });
});

describe('the Delta view on S3', () => {
  it('publishes, races and reads back through the S3 test server', async () => {
    const server = await startS3Server({ bucket: 'octa-delta' });
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
    const s3 = await S3Storage.create({
      bucket: server.bucket,
      prefix: 'lakes/d',
      endpoint: server.endpoint,
      region: 'us-east-1',
    });
    try {
      const catalog = await EmbeddedCatalog.open({ storage: s3 });
      await createPoints(catalog);
      for (let n = 1; n <= 12; n++) {
        await ingestFile(catalog, n);
        if (n % 2 === 0)
          await Promise.all([publishTables(catalog, [deltaView]), publishTables(catalog, [deltaView])]);
      }
      const snapshots = await expectEveryVersionMatches('points', s3);
      expect(snapshots.map((s) => s.txns.get('octa-catalog'))).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
      expect((await readDelta(s3, 'points')).checkpoint).toBe(10);
      expect((await deltaView.read(s3, 'points'))!.files.size).toBe(12);
    } finally {
      s3.close();
      await server.stop();
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });
});
