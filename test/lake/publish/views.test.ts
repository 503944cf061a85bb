/**
 * Publishing as a lake command does it: every ingest, compaction and rebalance publishes the Delta
 * Lake and Iceberg views of the tables it changed, read back here through each view's own metadata
 * and held against the catalog; a commit whose publication never ran (the process died between the
 * two) or failed leaves the views behind, never ahead or wrong, `verify` says so, and the next
 * commit or `publishTables` catches them up; vacuum expires view versions with the data files.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedCatalog, type FileRecord, liveFiles } from '../../../src/lake/catalog/catalog.js';
import { publishTables } from '../../../src/lake/catalog/publish/table-formats.js';
import type { TableView } from '../../../src/lake/catalog/publish/table-view.js';
import { tableViews } from '../../../src/lake/catalog/publish/views.js';
import { ingest } from '../../../src/lake/ingest/ingest.js';
import { compact } from '../../../src/lake/maintenance/compact.js';
import { vacuum } from '../../../src/lake/maintenance/vacuum.js';
import { verify } from '../../../src/lake/maintenance/verify.js';
import { LocalStorage } from '../../../src/lake/storage/local-storage.js';
import type { Storage } from '../../../src/lake/storage/storage.js';
import { OctaError } from '../../../src/lattice/errors.js';
import { ageCatalog } from '../fixtures/catalog.js';
import { removeDir, tempDir } from '../fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, pointsToCsv } from '../fixtures/ingest/points.js';

const TABLE = 'pts';

let dir: string;
let storage: LocalStorage;
let views: TableView[];
let inputs = 0;

beforeEach(async () => {
  dir = tempDir('views');
  storage = await LocalStorage.create({ root: join(dir, 'lake') });
  views = await tableViews();
});

afterEach(() => removeDir(dir));

async function ingestRows(seed: number, store: Storage = storage, rows = 400) {
  const path = join(dir, `input-${++inputs}.csv`);
  writeFileSync(path, pointsToCsv(generatePoints({ rows, seed, days: 2 })));
  return ingest({
    storage: store,
    table: TABLE,
    inputs: [{ path }],
    frame: POINTS_FRAME,
    lod: 10,
    time: 'time',
    fileRows: 100,
    rejectFile: null,
  });
}

/** The catalog's live files at its latest version, as key → record. */
async function catalogFiles(): Promise<{ version: number; files: Map<string, FileRecord> }> {
  const snapshot = await (await EmbeddedCatalog.open({ storage })).snapshot();
  return { version: snapshot.version, files: new Map(liveFiles(snapshot, TABLE).map((f) => [f.key, f])) };
}

/** Each view, read back from storage, lists exactly the catalog's files at `version` with their counts. */
async function expectViewsAt(version: number) {
  const { files } = await catalogFiles();
  for (const view of views) {
    const published = await view.read(storage, TABLE);
    expect(published?.version, view.format).toBe(version);
    expect([...published!.files.keys()].sort(), view.format).toEqual([...files.keys()].sort());
    for (const [key, record] of files) {
      const file = published!.files.get(key)!;
      expect({ rows: file.rows, bytes: file.bytes, cellMin: file.cellMin, cellMax: file.cellMax }).toEqual({
        rows: record.rows,
        bytes: record.bytes,
        cellMin: record.cellMin,
        cellMax: record.cellMax,
      });
      expect(file.bbox).toEqual(record.bbox);
    }
  }
}

const viewProblems = async () =>
  (await verify({ storage, table: TABLE })).problems
    .filter((p) => p.code.startsWith('VIEW_'))
    .map((p) => p.code);

describe('publishing after every commit', () => {
  it('ingest and compaction publish both views at the catalog version they commit', async () => {
    const first = await ingestRows(1);
    expect(first.publish_errors).toEqual([]);
    await expectViewsAt(first.version!);
    const second = await ingestRows(2);
    await expectViewsAt(second.version!);
    const compacted = await compact({ storage, targetRows: 10_000, minFileRows: 1000 });
    expect(compacted.publish_errors).toEqual([]);
    expect(compacted.files_removed).toBeGreaterThan(1);
    await expectViewsAt(compacted.version);
    expect(await viewProblems()).toEqual([]);
  });

  it('a commit whose publication never ran leaves both views one version behind, and the next write catches up', async () => {
    const first = await ingestRows(3);
    // What a process killed between its catalog commit and the publication leaves: the commit only.
    const catalog = await EmbeddedCatalog.open({ storage });
    const snapshot = await catalog.snapshot();
    const [file] = liveFiles(snapshot, TABLE);
    const removed = await catalog.commit({
      operation: 'compact',
      writer: 'killed',
      actions: [{ op: 'remove', key: file!.key, table: TABLE }],
    });
    for (const view of views) expect((await view.read(storage, TABLE))?.version).toBe(first.version);
    const report = await verify({ storage });
    expect(report.ok).toBe(true);
    expect(report.problems.filter((p) => p.code === 'VIEW_BEHIND')).toHaveLength(2);
    const next = await ingestRows(4);
    expect(next.version).toBe(removed.version + 1);
    await expectViewsAt(next.version!);
    expect(await viewProblems()).toEqual([]);
  });

  it('publishTables catches up a lake written before publishing existed, then has nothing to do', async () => {
    await ingestRows(5);
    await ingestRows(6);
    // A lake from before: no view at all.
    for (const key of (await storage.list(`${TABLE}/`)).map((e) => e.key)) {
      if (key.includes('/_delta_log/') || key.includes('/metadata/')) await storage.delete(key);
    }
    // …and long ago: its views start at the latest version, not at its creation.
    await ageCatalog(storage);
    expect(await viewProblems()).toEqual(['VIEW_BEHIND', 'VIEW_BEHIND']);
    const { version } = await catalogFiles();
    const outcomes = await publishTables(await EmbeddedCatalog.open({ storage }), views, [TABLE]);
    expect(outcomes.map((o) => [o.format, o.from, o.to, o.steps, o.error])).toEqual(
      views.map((v) => [v.format, null, version, 1, undefined]),
    );
    await expectViewsAt(version);
    const again = await publishTables(await EmbeddedCatalog.open({ storage }), views, [TABLE]);
    expect(again.map((o) => o.steps)).toEqual([0, 0]);
  });

  it('a table created by a recent ingest gets a view version for every catalog version since', async () => {
    await ingestRows(14);
    await ingestRows(15);
    await ingestRows(16);
    // As when writers race at a table's creation: no view existed when the later commits landed.
    for (const key of (await storage.list(`${TABLE}/`)).map((e) => e.key)) {
      if (key.includes('/_delta_log/') || key.includes('/metadata/')) await storage.delete(key);
    }
    const outcomes = await publishTables(await EmbeddedCatalog.open({ storage }), views, [TABLE]);
    expect(outcomes.map((o) => [o.format, o.from, o.to, o.steps])).toEqual(
      views.map((v) => [v.format, null, 3, 3]),
    );
    const log = `${TABLE}/_delta_log/`;
    const commits = (await storage.list(log)).filter((e) => /\/\d{20}\.json$/.test(e.key));
    const reflected = [];
    for (const e of commits) {
      const lines = new TextDecoder()
        .decode(await storage.read(e.key))
        .trim()
        .split('\n');
      reflected.push(lines.map((l) => JSON.parse(l).txn).find((t) => t?.appId === 'octa-catalog')?.version);
    }
    expect(reflected).toEqual([1, 2, 3]);
    await expectViewsAt(3);
  });

  it('a view whose writes fail is reported, the commit stands, and the other view is current', async () => {
    const first = await ingestRows(7);
    const failing: Storage = new Proxy(storage, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== 'write' && name !== 'writeIfAbsent')
          return typeof value === 'function' ? value.bind(target) : value;
        return async (key: string, data: Uint8Array) => {
          if (key.includes('/_delta_log/'))
            throw new OctaError('IO_ERROR', 'injected: the store refused the write', key);
          return (value as (k: string, d: Uint8Array) => Promise<unknown>).call(target, key, data);
        };
      },
    });
    const second = await ingestRows(8, failing);
    expect(second.version).toBe(first.version! + 1);
    expect(second.publish_errors).toHaveLength(1);
    expect(second.publish_errors[0]).toMatch(/delta view of table pts is behind the catalog .*injected/);
    const delta = views.find((v) => v.format === 'delta')!;
    const iceberg = views.find((v) => v.format === 'iceberg')!;
    expect((await delta.read(storage, TABLE))?.version).toBe(first.version);
    expect((await iceberg.read(storage, TABLE))?.version).toBe(second.version);
    await publishTables(await EmbeddedCatalog.open({ storage }), views);
    await expectViewsAt(second.version!);
  });

  it('a copied lake gets its own Iceberg view at its next commit; the original keeps its own', async () => {
    await ingestRows(11);
    await ingestRows(12);
    const copyRoot = join(dir, 'copy');
    cpSync(join(dir, 'lake'), copyRoot, { recursive: true });
    const copy = await LocalStorage.create({ root: copyRoot });
    const iceberg = views.find((v) => v.format === 'iceberg')!;
    const delta = views.find((v) => v.format === 'delta')!;
    // Iceberg records absolute locations: the copy's metadata names the original, so for the copy
    // there is no view yet (Delta's relative paths move with the files).
    expect(await iceberg.publishedVersion(copy, TABLE)).toBeNull();
    expect(await delta.publishedVersion(copy, TABLE)).toBe((await catalogFiles()).version);
    const next = await ingestRows(13, copy);
    expect(next.publish_errors).toEqual([]);
    const state = await iceberg.read(copy, TABLE);
    expect(state?.version).toBe(next.version);
    const snapshot = await (await EmbeddedCatalog.open({ storage: copy })).snapshot();
    expect([...state!.files.keys()].sort()).toEqual(liveFiles(snapshot, TABLE).map((f) => f.key));
    const report = await verify({ storage: copy });
    expect(report.problems.filter((p) => p.code.startsWith('VIEW_'))).toEqual([]);
    // The original lake's views still describe it, at its own version.
    expect(await viewProblems()).toEqual([]);
    await expectViewsAt((await catalogFiles()).version);
  });

  it("never builds on, expires or deletes another tool's Iceberg table in the table's metadata folder", async () => {
    // Another writer's Iceberg table where the view would go (its snapshot has no catalog version).
    const foreign = {
      'format-version': 2,
      'table-uuid': '00000000-0000-4000-8000-000000000001',
      location: `${storage.url}/${TABLE}`,
      'current-snapshot-id': 7,
      snapshots: [
        {
          'snapshot-id': 7,
          'timestamp-ms': 1,
          'manifest-list': 'elsewhere.avro',
          summary: { operation: 'append' },
        },
      ],
    };
    const bytes = new TextEncoder().encode(JSON.stringify(foreign));
    await storage.write(`${TABLE}/metadata/v1.metadata.json`, bytes);
    await storage.write(`${TABLE}/metadata/stray-m0.avro`, new Uint8Array([1, 2, 3]));
    const summary = await ingestRows(17);
    expect(summary.version).toBe(1);
    expect(summary.publish_errors).toHaveLength(1);
    expect(summary.publish_errors[0]).toMatch(/iceberg view .* not written by octa-lake/);
    const vacuumed = await vacuum({ storage, graceMs: 0 });
    expect(vacuumed.publish_errors.some((e) => /iceberg view .* not written by octa-lake/.test(e))).toBe(
      true,
    );
    // Untouched: no version written over it, nothing of it deleted; the Delta view is current.
    expect((await storage.list(`${TABLE}/metadata/`)).map((e) => e.key)).toEqual([
      `${TABLE}/metadata/stray-m0.avro`,
      `${TABLE}/metadata/v1.metadata.json`,
    ]);
    expect(await storage.read(`${TABLE}/metadata/v1.metadata.json`)).toEqual(bytes);
    expect((await views.find((v) => v.format === 'delta')!.read(storage, TABLE))?.version).toBe(1);
  });

  it('vacuum expires view versions with the files they list, and keeps the latest', async () => {
    await ingestRows(9);
    await ingestRows(10);
    const compacted = await compact({ storage, targetRows: 10_000, minFileRows: 1000 });
    const summary = await vacuum({ storage, graceMs: 0 });
    expect(summary.publish_errors).toEqual([]);
    expect(summary.metadata_deleted.length).toBeGreaterThan(0);
    // Every key vacuum reports deleted is gone, and the latest version of each view still reads.
    for (const key of summary.metadata_deleted) expect(await storage.stat(key)).toBeNull();
    await expectViewsAt(compacted.version);
    expect(await viewProblems()).toEqual([]);
  });
});
