/**
 * The Iceberg v2 view held against independent readers: icebird (an Iceberg reader from npm) reads
 * every published snapshot where its metadata says the files are and must return the rows of the
 * catalog's files at that catalog version (read with hyparquet); manifests decoded with avsc
 * straight from the files must list the catalog's files with its counts, sizes and bounds.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { icebergRead } from 'icebird';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isoToMicros } from '../../../src/export/event-time.js';
import { EmbeddedCatalog, type FileRecord, liveFiles } from '../../../src/lake/catalog/catalog.js';
import { parseBucketLabel, type TimeBucket } from '../../../src/lake/catalog/layout.js';
import { icebergView } from '../../../src/lake/catalog/publish/iceberg.js';
import type {
  IntMap,
  ManifestEntryRecord,
  ManifestFileRecord,
} from '../../../src/lake/catalog/publish/iceberg-avro.js';
import {
  emptyMetadata,
  type IcebergSnapshot,
  type TableMetadata,
} from '../../../src/lake/catalog/publish/iceberg-metadata.js';
import { publishTables } from '../../../src/lake/catalog/publish/table-formats.js';
import { ingest } from '../../../src/lake/ingest/ingest.js';
import { compact } from '../../../src/lake/maintenance/compact.js';
import { rebalance } from '../../../src/lake/maintenance/rebalance.js';
import { LocalStorage } from '../../../src/lake/storage/local-storage.js';
import type { Storage } from '../../../src/lake/storage/storage.js';
import { withS3Lake } from '../../support/s3-server.js';
import { ageCatalog, tableConfig } from '../fixtures/catalog.js';
import { removeDir, tempDir, withoutViews } from '../fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, pointsToCsv } from '../fixtures/ingest/points.js';

const TABLE = 'pts';
const COLUMNS = ['cell', 'x', 'y', 'z', 'time', 'intensity', 'score', 'label', 'flag'];

let dir: string;
let storage: Storage;
let inputs = 0;

beforeEach(async () => {
  dir = tempDir('iceberg');
  storage = await LocalStorage.create({ root: join(dir, 'lake') });
});

afterEach(() => {
  removeDir(dir);
});

async function ingestRows({
  rows = 400,
  seed = 1,
  days = 2,
  fileRows = 100,
  timeBucket = 'day' as TimeBucket,
  rowGroupSize = undefined as number | undefined,
  unpublished = false,
} = {}) {
  const path = join(dir, `input-${++inputs}.csv`);
  writeFileSync(path, pointsToCsv(generatePoints({ rows, seed, days })));
  const summary = await ingest({
    storage: unpublished ? withoutViews(storage) : storage,
    table: TABLE,
    inputs: [{ path }],
    frame: POINTS_FRAME,
    lod: 10,
    time: 'time',
    fileRows,
    timeBucket,
    ...(rowGroupSize === undefined ? {} : { rowGroupSize }),
    rejectFile: null,
  });
  return summary.version!;
}

async function publish(catalog?: EmbeddedCatalog): Promise<void> {
  const outcomes = await publishTables(
    catalog ?? (await EmbeddedCatalog.open({ storage })),
    [icebergView],
    [TABLE],
  );
  for (const o of outcomes) expect(o.error).toBeUndefined();
}

const metaDir = () => join(dir, 'lake', TABLE, 'metadata');
const readJson = (n: number): TableMetadata =>
  JSON.parse(readFileSync(join(metaDir(), `v${n}.metadata.json`), 'utf8'));
const hint = () => Number(readFileSync(join(metaDir(), 'version-hint.text'), 'utf8'));
const currentSnapshot = (m: TableMetadata) =>
  m.snapshots.find((s) => s['snapshot-id'] === m['current-snapshot-id'])!;
const catalogVersionOf = (m: TableMetadata) => Number(currentSnapshot(m).summary['octa.catalog-version']);

const canonical = (r: Record<string, unknown>) =>
  JSON.stringify(
    COLUMNS.map((c) => r[c]),
    (_k, v) => (typeof v === 'bigint' ? `${v}n` : v),
  );

/** Rows of the given lake files as hyparquet reads them, canonical and sorted. */
async function catalogRows(files: readonly FileRecord[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    const bytes = await storage.read(f.key);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    for (const r of await parquetReadObjects({ file, compressors })) out.push(canonical(r));
  }
  return out.sort();
}

/**
 * fetch for `file:` URLs, which Node's fetch does not serve: icebird fetches every metadata, manifest
 * and data file by the absolute location the metadata records, so the lake is read where it is.
 */
const fileFetch: typeof fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (!url.startsWith('file:')) throw new Error(`icebird asked for a location outside the lake: ${url}`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(fileURLToPath(url));
  } catch {
    return new Response(null, { status: 404 });
  }
  const range = /^bytes=(\d+)-(\d*)$/.exec(new Headers(init?.headers).get('Range') ?? '');
  if (range === null) return new Response(bytes, { status: 200 });
  const end = range[2] ? Number(range[2]) + 1 : bytes.length;
  return new Response(bytes.subarray(Number(range[1]), end), { status: 206 });
};

/**
 * fetch for the HTTPS URLs icebird makes of `s3://bucket/key` locations
 * (`https://bucket.s3.amazonaws.com/key`), sent to the S3 test server's endpoint instead.
 */
function s3Fetch(endpoint: string): typeof fetch {
  const real = globalThis.fetch;
  return (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const bucket = /^([^.]+)\.s3\.amazonaws\.com$/.exec(url.hostname)?.[1];
    if (bucket === undefined) throw new Error(`icebird asked for a location outside the lake: ${url.href}`);
    return real(`${endpoint}/${bucket}${url.pathname}`, init);
  };
}

/** The rows icebird reads from metadata version `n`, canonical and sorted. */
async function icebirdRows(n: number, transport: typeof fetch = fileFetch): Promise<string[]> {
  const saved = globalThis.fetch;
  globalThis.fetch = transport;
  try {
    const rows = await icebergRead({
      tableUrl: `${storage.url}/${TABLE}`,
      metadataFileName: `v${n}.metadata.json`,
    });
    return rows.map(canonical).sort();
  } finally {
    globalThis.fetch = saved;
  }
}

/** Decodes an Avro container file with avsc alone. */
function decodeAvro<T>(location: string): Promise<{ header: Record<string, string>; records: T[] }> {
  return new Promise((resolve, reject) => {
    const records: T[] = [];
    const header: Record<string, string> = {};
    avro
      .createFileDecoder(fileURLToPath(location))
      .on('metadata', (_t: unknown, _c: unknown, h: { meta: Record<string, Buffer> }) => {
        for (const [k, v] of Object.entries(h.meta)) header[k] = v.toString();
      })
      .on('data', (r: T) => records.push(r))
      .on('error', reject)
      .on('end', () => resolve({ header, records }));
  });
}

const bound = (map: IntMap<Uint8Array>, id: number) => Buffer.from(map!.find((e) => e.key === id)!.value);

/**
 * Spec v2 sequence numbers: entries of earlier snapshots carry theirs, only the manifest's own ADDED
 * entries inherit (null), and the list's counts and minimum match the entries.
 */
function checkSequenceNumbers(
  snapshot: IcebergSnapshot,
  m: ManifestFileRecord,
  records: ManifestEntryRecord[],
) {
  expect(m.sequence_number).toBeLessThanOrEqual(snapshot['sequence-number']);
  if (m.added_snapshot_id === snapshot['snapshot-id'])
    expect(m.sequence_number).toBe(snapshot['sequence-number']);
  const seqs: number[] = [];
  for (const e of records) {
    const inherits = e.sequence_number === null;
    expect(inherits).toBe(e.status === 1 && e.snapshot_id === m.added_snapshot_id);
    expect(e.file_sequence_number === null).toBe(inherits);
    if (e.status !== 2) seqs.push(e.sequence_number ?? m.sequence_number);
  }
  expect(m.min_sequence_number).toBe(Math.min(m.sequence_number, ...seqs));
  const count = (status: number) => records.filter((e) => e.status === status).length;
  expect([m.added_files_count, m.existing_files_count, m.deleted_files_count]).toEqual([
    count(1),
    count(0),
    count(2),
  ]);
}

/** What the manifests of metadata version `n`'s current snapshot list as live, in catalog terms. */
async function manifestFiles(n: number) {
  const snapshot = currentSnapshot(readJson(n));
  const list = await decodeAvro<ManifestFileRecord>(snapshot['manifest-list']);
  const files = new Map<string, Record<string, unknown>>();
  for (const m of list.records) {
    const { header, records } = await decodeAvro<ManifestEntryRecord>(m.manifest_path);
    expect(JSON.parse(header['avro.schema']!).name).toBe('manifest_entry');
    expect([header['format-version'], header.content, header['partition-spec-id']]).toEqual([
      '2',
      'data',
      '0',
    ]);
    checkSequenceNumbers(snapshot, m, records);
    for (const e of records) {
      if (e.status === 2) continue;
      const df = e.data_file;
      const key = df.file_path.slice(storage.url.length + 1);
      files.set(key, {
        rows: df.record_count,
        bytes: df.file_size_in_bytes,
        day: df.partition.time_day,
        cell: [
          bound(df.lower_bounds, 1).readBigInt64LE().toString(),
          bound(df.upper_bounds, 1).readBigInt64LE().toString(),
        ],
        time: [bound(df.lower_bounds, 5).readBigInt64LE(), bound(df.upper_bounds, 5).readBigInt64LE()],
        bbox: [2, 3, 4]
          .map((id) => bound(df.lower_bounds, id).readDoubleLE())
          .concat([2, 3, 4].map((id) => bound(df.upper_bounds, id).readDoubleLE())),
        splits: df.split_offsets,
      });
    }
  }
  return { manifests: list.records.length, files };
}

const expected = (f: FileRecord) => ({
  rows: f.rows,
  bytes: f.bytes,
  day: Date.parse(`${f.t}T00:00:00Z`) / 86_400_000,
  cell: [f.cellMin, f.cellMax],
  time: [isoToMicros(f.timeMin), isoToMicros(f.timeMax)],
  bbox: [...f.bbox],
  // One row group, which starts right after the leading "PAR1".
  splits: [4],
});

/** The first µs of an Iceberg `hour` or `month` partition value (hours or months since 1970). */
function bucketStart(bucket: 'hour' | 'month', value: number): bigint {
  const ms = bucket === 'hour' ? value * 3_600_000 : Date.UTC(1970 + Math.floor(value / 12), value % 12);
  return BigInt(ms) * 1000n;
}

/** Checks every metadata version 1..hint against the catalog at the version it reflects. */
async function checkEveryVersion() {
  const catalog = await EmbeddedCatalog.open({ storage });
  const operations: string[] = [];
  for (let n = 1; n <= hint(); n++) {
    const version = catalogVersionOf(readJson(n));
    const files = liveFiles(await catalog.snapshotAt(version), TABLE);
    expect(await icebirdRows(n)).toEqual(await catalogRows(files));
    const listed = await manifestFiles(n);
    expect(listed.files).toEqual(new Map(files.map((f) => [f.key, expected(f)])));
    expect(listed.manifests).toBeLessThanOrEqual(3);
    const summary = currentSnapshot(readJson(n)).summary;
    expect([summary['total-data-files'], summary['total-records'], summary['total-files-size']]).toEqual(
      [files.length, files.reduce((t, f) => t + f.rows, 0), files.reduce((t, f) => t + f.bytes, 0)].map(
        String,
      ),
    );
    operations.push(summary.operation!);
  }
  return operations;
}

describe('Iceberg view', () => {
  it('publishes each commit as a snapshot that icebird reads back as the catalog rows of its version', async () => {
    await ingestRows({ seed: 1 });
    await publish();
    await ingestRows({ seed: 2 });
    await publish();
    const summary = await compact({ storage, targetRows: 400 });
    expect(summary.files_removed).toBe(8);
    await publish();
    await rebalance({ storage, targetRows: 200 });
    await publish();
    await ingestRows({ seed: 3, days: 1 });
    await publish();

    // One metadata version per catalog commit: ingest → append, compact and rebalance → replace.
    const catalog = await EmbeddedCatalog.open({ storage });
    const latest = await catalog.snapshot();
    const commits = await catalog.entries(1, latest.version);
    const iceberg = { ingest: 'append', compact: 'replace', rebalance: 'replace' } as Record<string, string>;
    expect(commits.map((c) => c.operation)).toContain('rebalance');
    expect(await checkEveryVersion()).toEqual(commits.map((c) => iceberg[c.operation]));
    expect(Array.from({ length: hint() }, (_, i) => catalogVersionOf(readJson(i + 1)))).toEqual(
      commits.map((c) => c.version),
    );
    expect(await icebergView.publishedVersion(storage, TABLE)).toBe(latest.version);
    // read() returns the catalog's live files with the catalog's statistics.
    const state = await icebergView.read(storage, TABLE);
    expect(state!.version).toBe(latest.version);
    expect([...state!.files.keys()].sort()).toEqual(
      liveFiles(latest, TABLE)
        .map((f) => f.key)
        .sort(),
    );
    for (const f of liveFiles(latest, TABLE)) {
      expect(state!.files.get(f.key)).toEqual({
        rows: f.rows,
        bytes: f.bytes,
        cellMin: f.cellMin,
        cellMax: f.cellMax,
        timeMinMicros: isoToMicros(f.timeMin).toString(),
        timeMaxMicros: isoToMicros(f.timeMax).toString(),
        bbox: f.bbox,
      });
    }
    // Lake files carry the Iceberg field ids as Parquet field ids (compaction's output included).
    for (const f of liveFiles(latest, TABLE)) {
      const footer = parquetMetadata(readFileSync(fileURLToPath(`${storage.url}/${f.key}`)));
      expect(footer.schema.slice(1).map((c) => `${c.field_id}:${c.name}`)).toEqual(
        COLUMNS.map((c, i) => `${i + 1}:${c}`),
      );
    }
    const metadata = readJson(hint());
    expect(metadata['format-version']).toBe(2);
    expect(metadata.location).toBe(`${storage.url}/${TABLE}`);
    expect(metadata['partition-specs'][0]!.fields).toEqual([
      { name: 'time_day', transform: 'day', 'source-id': 5, 'field-id': 1000 },
    ]);
    expect(metadata.schemas[0]!.fields.map((f) => `${f.id}:${f.name}`)).toEqual(
      COLUMNS.map((c, i) => `${i + 1}:${c}`),
    );
    expect(JSON.parse(metadata.properties['schema.name-mapping.default']!)[4]).toEqual({
      'field-id': 5,
      names: ['time'],
    });
    expect(metadata.snapshots.map((s) => s['sequence-number'])).toEqual(commits.map((_, i) => i + 1));
  });

  it('keeps every snapshot at 3 manifests or fewer over many small commits and a compaction', async () => {
    await ingestRows({ rows: 100, days: 1 });
    await publish();
    const catalog = await EmbeddedCatalog.open({ storage });
    const [source] = liveFiles(await catalog.snapshot(), TABLE);
    const bytes = readFileSync(fileURLToPath(`${storage.url}/${source!.key}`));
    // 24 more commits of one file each: copies of a real file, so every entry has a real footer.
    for (let i = 1; i <= 24; i++) {
      const key = source!.key.replace(/part-[^/]+\.parquet$/, `part-copy-${i}.parquet`);
      await storage.write(key, bytes);
      await catalog.commit({
        operation: 'ingest',
        writer: 'copy',
        batches: [`copy-${i}`],
        actions: [{ op: 'add', file: { ...source!, key, batch: `copy-${i}`, writer: 'copy' } }],
      });
      await publish(catalog);
    }
    await compact({ storage, targetRows: 10_000 });
    await publish();

    const manifestCounts: number[] = [];
    for (let n = 1; n <= hint(); n++) {
      // Merged manifests still list exactly the catalog's files with their statistics.
      const listed = await manifestFiles(n);
      const files = liveFiles(await catalog.snapshotAt(catalogVersionOf(readJson(n))), TABLE);
      expect(listed.files).toEqual(new Map(files.map((f) => [f.key, expected(f)])));
      manifestCounts.push(listed.manifests);
    }
    expect(manifestCounts).toHaveLength(26);
    expect(Math.max(...manifestCounts)).toBe(3);
    // After the compaction one file is live, in one manifest.
    const latest = await catalog.snapshot();
    const files = liveFiles(latest, TABLE);
    expect(files).toHaveLength(1);
    const listed = await manifestFiles(hint());
    expect(listed.manifests).toBe(1);
    expect(listed.files).toEqual(new Map(files.map((f) => [f.key, expected(f)])));
    expect(await icebirdRows(hint())).toEqual(await catalogRows(files));
    expect(await icebirdRows(hint() - 1)).toEqual(
      await catalogRows(liveFiles(await catalog.snapshotAt(25), TABLE)),
    );
  });

  it('gives one gap-free history when two publishers race over the same steps', async () => {
    await ingestRows({ seed: 1 });
    await publish();
    // Commits whose publication never ran, so that both publishers below start behind.
    await ingestRows({ seed: 2, unpublished: true });
    await ingestRows({ seed: 3, unpublished: true });
    await compact({ storage: withoutViews(storage), targetRows: 400 });
    const latest = await (await EmbeddedCatalog.open({ storage })).snapshot();
    expect(await icebergView.publishedVersion(storage, TABLE)).toBe(1);

    const rival = await LocalStorage.create({ root: join(dir, 'lake') });
    const [a, b] = await Promise.all([
      publishTables(await EmbeddedCatalog.open({ storage }), [icebergView]),
      publishTables(await EmbeddedCatalog.open({ storage: rival }), [icebergView]),
    ]);
    for (const o of [...a, ...b]) expect([o.error, o.from, o.to]).toEqual([undefined, 1, latest.version]);

    // One version per catalog version, each the child of the one before.
    const commits = (await (await EmbeddedCatalog.open({ storage })).entries(1, latest.version)).map(
      (c) => c.version,
    );
    expect(hint()).toBe(commits.length);
    const versions = commits.map((_, i) => readJson(i + 1));
    expect(versions.map(catalogVersionOf)).toEqual(commits);
    const last = versions.at(-1)!;
    expect(last.snapshots.map((s) => s['sequence-number'])).toEqual(commits.map((_, i) => i + 1));
    last.snapshots.forEach((s, i) => {
      expect(s['parent-snapshot-id']).toBe(i === 0 ? undefined : last.snapshots[i - 1]!['snapshot-id']);
      expect(s['snapshot-id']).toBe(currentSnapshot(versions[i]!)['snapshot-id']);
    });
    const operations = await checkEveryVersion();
    expect(operations.slice(0, 3)).toEqual(['append', 'append', 'append']);
    expect(new Set(operations.slice(3))).toEqual(new Set(['replace']));
  });

  it('starts the view of a table created before publishing with one snapshot of its live files', async () => {
    expect(await icebergView.publishedVersion(storage, TABLE)).toBeNull();
    expect(await icebergView.read(storage, TABLE)).toBeNull();
    await ingestRows({ seed: 1 });
    await ingestRows({ seed: 2 });
    // Ingest publishes: take the views away, as a lake written before publishing existed has none.
    for (const e of await storage.list(`${TABLE}/`))
      if (!e.key.includes('/lod=')) await storage.delete(e.key);
    // …and long ago: its view starts at the latest version, not at its creation.
    await ageCatalog(storage);
    expect(await icebergView.publishedVersion(storage, TABLE)).toBeNull();
    await publish();
    expect(hint()).toBe(1);
    const first = readJson(1);
    expect(first.snapshots).toHaveLength(1);
    expect(currentSnapshot(first).summary).toMatchObject({
      operation: 'append',
      'octa.catalog-operation': 'publish',
      'octa.catalog-version': '66',
      'added-data-files': '8',
      'total-records': '800',
    });
    await ingestRows({ seed: 3 });
    await publish();
    expect(readJson(2).snapshots[1]!['parent-snapshot-id']).toBe(first['current-snapshot-id']);
    expect(await checkEveryVersion()).toEqual(['append', 'append']);
    expect(await icebergView.publishedVersion(storage, TABLE)).toBe(67);
  });

  it('expires superseded snapshots and deletes only metadata files no retained snapshot references', async () => {
    await ingestRows({ seed: 1 });
    await publish();
    await ingestRows({ seed: 2 });
    await publish();
    await compact({ storage, targetRows: 400 });
    await publish();
    const n = hint();
    const before = readJson(n);
    // The newest snapshot at or before the cutoff stays, and so does every later one.
    const second = before.snapshots[1]!;
    // Snapshot 1 expires; its manifest list was written before the cutoff and goes, its manifest
    // (which later snapshots still list) stays.
    expect(await icebergView.expire(storage, TABLE, new Date(second['timestamp-ms']))).toEqual([
      before.snapshots[0]!['manifest-list'].slice(storage.url.length + 1),
    ]);
    expect(hint()).toBe(n + 1);
    expect(readJson(n + 1).snapshots.map((s) => s['snapshot-id'])).toEqual(
      before.snapshots.slice(1).map((s) => s['snapshot-id']),
    );

    const deleted = await icebergView.expire(storage, TABLE, new Date(Date.now() + 60_000));
    expect(hint()).toBe(n + 2);
    const after = readJson(n + 2);
    expect(after.snapshots.map((s) => s['snapshot-id'])).toEqual([after['current-snapshot-id']]);
    // The expired snapshots' manifest lists are gone; nothing the current snapshot reads is.
    const gone = new Set(deleted);
    const expired = before.snapshots.filter((s) => s['snapshot-id'] !== after['current-snapshot-id']);
    expect(gone.has(expired.at(-1)!['manifest-list'].slice(storage.url.length + 1))).toBe(true);
    for (const s of expired) expect(existsSync(fileURLToPath(s['manifest-list']))).toBe(false);
    expect(existsSync(fileURLToPath(currentSnapshot(after)['manifest-list']))).toBe(true);
    expect(deleted.every((k) => k.startsWith(`${TABLE}/metadata/`) && k.endsWith('.avro'))).toBe(true);
    // The current snapshot still reads whole (older metadata versions name expired snapshots).
    const files = liveFiles(await (await EmbeddedCatalog.open({ storage })).snapshot(), TABLE);
    expect(await icebirdRows(n + 2)).toEqual(await catalogRows(files));
    expect((await manifestFiles(n + 2)).files).toEqual(new Map(files.map((f) => [f.key, expected(f)])));
    expect(await icebergView.read(storage, TABLE)).toMatchObject({ version: catalogVersionOf(before) });
  });

  it.each([
    ['hour', 'time_hour', (t: string) => parseBucketLabel(t, 'hour')!],
    ['month', 'time_month', (t: string) => parseBucketLabel(t, 'month')! - 1970 * 12],
  ] as const)('partitions a table of %s buckets by %s', async (bucket, field, value) => {
    await ingestRows({ rows: 200, timeBucket: bucket });
    await publish();
    const metadata = readJson(1);
    expect(metadata['partition-specs'][0]!.fields).toEqual([
      { name: field, transform: bucket, 'source-id': 5, 'field-id': 1000 },
    ]);
    const files = liveFiles(await (await EmbeddedCatalog.open({ storage })).snapshot(), TABLE);
    const list = await decodeAvro<ManifestFileRecord>(currentSnapshot(metadata)['manifest-list']);
    const partitions = new Map<string, unknown>();
    for (const m of list.records) {
      for (const e of (await decodeAvro<ManifestEntryRecord>(m.manifest_path)).records) {
        partitions.set(e.data_file.file_path.slice(storage.url.length + 1), e.data_file.partition[field]);
      }
    }
    expect(partitions).toEqual(new Map(files.map((f) => [f.key, value(f.t)])));
    // Every file's times lie in the partition its value names.
    for (const f of files) {
      expect(bucketStart(bucket, value(f.t))).toBeLessThanOrEqual(isoToMicros(f.timeMin));
      expect(isoToMicros(f.timeMax)).toBeLessThan(bucketStart(bucket, value(f.t) + 1));
    }
    expect(await icebirdRows(1)).toEqual(await catalogRows(files));
  });

  it('records the offset of each row group, read from the footer, as split offsets', async () => {
    await ingestRows({ rows: 200, days: 1, fileRows: 200, rowGroupSize: 64 });
    await publish();
    const [file] = liveFiles(await (await EmbeddedCatalog.open({ storage })).snapshot(), TABLE);
    const footer = parquetMetadata(readFileSync(fileURLToPath(`${storage.url}/${file!.key}`)));
    const offsets = footer.row_groups.map((g) => Number(g.columns[0]!.meta_data!.data_page_offset));
    expect(offsets).toHaveLength(4);
    expect(offsets[0]).toBe(4);
    expect((await manifestFiles(1)).files.get(file!.key)).toMatchObject({ splits: offsets });
  });

  it('leaves payload columns without an exact Iceberg v2 type out of the schema, and names them', () => {
    const config = {
      ...tableConfig({
        payload: [
          { name: 'a', type: 'uint64' },
          { name: 'b', type: 'decimal(12,3)' },
          { name: 'c', type: 'time_ns' },
          { name: 'd', type: 'local_timestamp_us' },
          { name: 'e', type: 'local_timestamp_ns' },
          { name: 'f', type: 'date' },
        ],
      }),
      splits: [],
      createdAt: '2025-04-13T00:00:00.000000Z',
    };
    const metadata = emptyMetadata(storage, config);
    // Ids follow the columns' places, so the ids of the files' columns stay right around a gap.
    expect(metadata.schemas[0]!.fields.slice(5)).toEqual([
      { id: 7, name: 'b', required: false, type: 'decimal(12, 3)' },
      { id: 9, name: 'd', required: false, type: 'timestamp' },
      { id: 11, name: 'f', required: false, type: 'date' },
    ]);
    expect(metadata['last-column-id']).toBe(11);
    expect(metadata.properties['octa.columns-not-in-iceberg']).toBe('["a","c","e"]');
    expect(metadata.properties).toMatchObject({ 'octa.frame': 'cartesian:0,0,0,1024', 'octa.lod': '7' });
    // The table uuid is drawn from the name and creation time: the same for every publisher.
    expect(metadata['table-uuid']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(emptyMetadata(storage, { ...config })['table-uuid']).toBe(metadata['table-uuid']);
    expect(
      emptyMetadata(storage, { ...config, createdAt: '2025-04-14T00:00:00.000000Z' })['table-uuid'],
    ).not.toBe(metadata['table-uuid']);
  });

  it('publishes a lake on S3 with s3:// locations that icebird reads over HTTP', async () => {
    await withS3Lake('octa-iceberg', async (s3, server) => {
      storage = s3;
      await ingestRows({ seed: 1 });
      await publish();
      await ingestRows({ seed: 2 });
      await compact({ storage, targetRows: 400 });
      await publish();
      const catalog = await EmbeddedCatalog.open({ storage });
      const latest = await catalog.snapshot();
      const text = async (key: string) => new TextDecoder().decode(await s3.read(`${TABLE}/metadata/${key}`));
      const n = Number(await text('version-hint.text'));
      expect(n).toBe(latest.version);
      for (let v = 1; v <= n; v++) {
        const metadata = JSON.parse(await text(`v${v}.metadata.json`)) as TableMetadata;
        expect(metadata.location).toBe(`s3://octa-iceberg/lake/${TABLE}`);
        const files = liveFiles(await catalog.snapshotAt(catalogVersionOf(metadata)), TABLE);
        expect(await icebirdRows(v, s3Fetch(server.endpoint))).toEqual(await catalogRows(files));
      }
      const state = await icebergView.read(storage, TABLE);
      expect([...state!.files.keys()].sort()).toEqual(liveFiles(latest, TABLE).map((f) => f.key));
      expect(state!.version).toBe(latest.version);
    });
  });
});

describe('damaged Iceberg metadata', () => {
  /** Publishes after one ingest, damages the view, ingests again and publishes: the outcome. */
  async function publishOver(damage: () => void) {
    await ingestRows({ seed: 1 });
    await publish();
    damage();
    await ingestRows({ seed: 2 });
    const [outcome] = await publishTables(await EmbeddedCatalog.open({ storage }), [icebergView]);
    // The catalog commit stands; the view got no new version.
    expect((await (await EmbeddedCatalog.open({ storage })).snapshot()).version).toBe(2);
    expect(existsSync(join(metaDir(), 'v2.metadata.json'))).toBe(false);
    return outcome!;
  }

  it('refuses a metadata file that is not JSON as CORRUPT', async () => {
    const outcome = await publishOver(() => writeFileSync(join(metaDir(), 'v1.metadata.json'), '{"format-'));
    expect([outcome.error?.code, outcome.error?.value]).toEqual([
      'CORRUPT',
      `${TABLE}/metadata/v1.metadata.json`,
    ]);
    await expect(icebergView.read(storage, TABLE)).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  it.each([
    ['in its header', 40],
    ['by its last byte', -1],
  ])('refuses a manifest list truncated %s as CORRUPT', async (_where, end) => {
    const outcome = await publishOver(() => {
      const list = fileURLToPath(currentSnapshot(readJson(1))['manifest-list']);
      writeFileSync(list, readFileSync(list).subarray(0, end));
    });
    expect(outcome.error?.code).toBe('CORRUPT');
    expect(outcome.error?.message).toMatch(/not a readable Avro file/);
  });

  it('refuses metadata naming files outside the lake (a moved lake) as CORRUPT', async () => {
    const outcome = await publishOver(() => {
      const metadata = readJson(1);
      const snapshot = currentSnapshot(metadata);
      snapshot['manifest-list'] = snapshot['manifest-list'].replace(storage.url, 'file:///elsewhere');
      writeFileSync(join(metaDir(), 'v1.metadata.json'), JSON.stringify(metadata));
    });
    expect(outcome.error?.code).toBe('CORRUPT');
    expect(outcome.error?.value).toMatch(/^file:\/\/\/elsewhere\//);
  });

  it('refuses a view that claims a catalog version the catalog does not have', async () => {
    const outcome = await publishOver(() => {
      const metadata = readJson(1);
      currentSnapshot(metadata).summary['octa.catalog-version'] = '99';
      writeFileSync(join(metaDir(), 'v1.metadata.json'), JSON.stringify(metadata));
    });
    expect([outcome.error?.code, outcome.from, outcome.to]).toEqual(['CORRUPT', 99, 99]);
  });

  it('gives up with CONFLICT when it loses the race for a metadata version 64 times', async () => {
    await ingestRows({ seed: 1 });
    await publish();
    // A commit left unpublished (ingest publishes by itself): one file leaves the table.
    const catalog = await EmbeddedCatalog.open({ storage });
    const [gone] = liveFiles(await catalog.snapshot(), TABLE);
    await catalog.commit({
      operation: 'compact',
      writer: 'w',
      actions: [{ op: 'remove', key: gone!.key, table: TABLE }],
    });
    // A storage on which every create-if-absent of a metadata version finds one there already.
    const base = storage;
    const losing: Storage = {
      ...Object.fromEntries(
        (['read', 'readRange', 'write', 'list', 'stat', 'delete', 'localPath', 'close'] as const).map((m) => [
          m,
          base[m].bind(base),
        ]),
      ),
      url: base.url,
      writeIfAbsent: async (key, data) =>
        key.endsWith('.metadata.json') ? false : base.writeIfAbsent(key, data),
    } as Storage;
    const [outcome] = await publishTables(await EmbeddedCatalog.open({ storage: losing }), [icebergView]);
    expect([outcome!.error?.code, outcome!.from, outcome!.to]).toEqual(['CONFLICT', 1, 1]);
    expect(hint()).toBe(1);
  });

  it('finds the latest metadata version past a stale version hint, or without one', async () => {
    await ingestRows({ seed: 1 });
    await publish();
    await ingestRows({ seed: 2 });
    await publish();
    // A publisher that stopped between a metadata version and its hint leaves the hint behind.
    writeFileSync(join(metaDir(), 'version-hint.text'), '1');
    expect(await icebergView.publishedVersion(storage, TABLE)).toBe(2);
    await ingestRows({ seed: 3 });
    await publish();
    expect([hint(), catalogVersionOf(readJson(3))]).toEqual([3, 3]);
    rmSync(join(metaDir(), 'version-hint.text'));
    expect(await icebergView.publishedVersion(storage, TABLE)).toBe(3);
    expect((await icebergView.read(storage, TABLE))?.version).toBe(3);
  });
});
