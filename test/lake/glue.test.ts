/**
 * Glue sync against a local endpoint that speaks Glue's JSON protocol, driven by the real
 * `@aws-sdk/client-glue` client: what the SDK sent is read back with GetTable / GetPartitions and
 * checked field by field, the expected partitions coming from the Parquet files on disk rather than
 * from the catalog; batching, retries, idempotent re-syncs, removals and projection properties are
 * checked against the recorded requests.
 */
import { join } from 'node:path';
import {
  GetDatabaseCommand,
  GetPartitionsCommand,
  GetTableCommand,
  type GlueClient,
  type Partition,
} from '@aws-sdk/client-glue';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CatalogSnapshot, EmbeddedCatalog } from '../../src/lake/catalog/catalog.js';
import { parseDataFileKey } from '../../src/lake/catalog/layout.js';
import { syncGlue } from '../../src/lake/catalog/publish/glue.js';
import type { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError } from '../../src/lattice/errors.js';
import { GlueServer, type GlueServer as Server } from '../support/glue-server.js';
import { committedLake, hourLabels, ingestLake } from './fixtures/hive-lake.js';
import { committed, filesUnder, removeDir, tempDir } from './fixtures/ingest/lake.js';

const SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
const INPUT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
const OUTPUT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat';
const R0 = '0000000000000000';

let dir: string;
let lake: string;
let server: Server;
let client: GlueClient;

beforeEach(async () => {
  dir = tempDir('glue');
  lake = join(dir, 'lake');
  server = await GlueServer.start({ pageSize: 64 });
  client = server.client();
});

afterEach(async () => {
  client.destroy();
  await server.close();
  removeDir(dir);
});

/** Every partition of a Glue table, read with the SDK, following NextToken. */
async function readPartitions(database: string, table: string): Promise<Partition[]> {
  const out: Partition[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new GetPartitionsCommand({
        DatabaseName: database,
        TableName: table,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    out.push(...(page.Partitions ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}

/** The (lod, t, r) directories that hold Parquet files on disk, as sorted value lists. */
function partitionsOnDisk(table: string): string[][] {
  const seen = new Set<string>();
  for (const path of filesUnder(join(lake, table))) {
    const parsed = parseDataFileKey(`${table}/${path}`);
    if (parsed !== null) seen.add(JSON.stringify([String(parsed.lod), parsed.t, parsed.r]));
  }
  return [...seen].sort().map((s) => JSON.parse(s) as string[]);
}

const sortedValues = (partitions: Partition[]) =>
  partitions.map((p) => p.Values ?? []).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

const sizes = (operation: string, field: string) =>
  server.bodies(operation).map((b) => (b[field] as unknown[]).length);

/** The latest catalog state of a lake. */
const snapshotOf = async (storage: LocalStorage): Promise<CatalogSnapshot> =>
  (await EmbeddedCatalog.open({ storage })).snapshot();

const EXPECTED_COLUMNS = [
  { Name: 'cell', Type: 'bigint', Comment: 'Index64 cell id: the raw 64 bits as a signed integer' },
  { Name: 'x', Type: 'double', Comment: 'x in frame metres' },
  { Name: 'y', Type: 'double', Comment: 'y in frame metres' },
  { Name: 'z', Type: 'double', Comment: 'z in frame metres' },
  { Name: 'time', Type: 'timestamp', Comment: 'event time (UTC)' },
  { Name: 'intensity', Type: 'double' },
  { Name: 'score', Type: 'double' },
  { Name: 'label', Type: 'string' },
  { Name: 'flag', Type: 'boolean' },
];

const EXPECTED_KEYS = [
  { Name: 'lod', Type: 'int', Comment: 'level of detail of every cell id' },
  { Name: 't', Type: 'string', Comment: 'UTC time bucket of the event time' },
  { Name: 'r', Type: 'string', Comment: 'id range: its lower bound, 16 hex digits of the unsigned id' },
];

describe('syncGlue', () => {
  it('creates the database, a Hive Parquet table and one partition per directory, read back field by field', async () => {
    const storage = await ingestLake({ lake, dir, days: 3 });
    const snapshot = await snapshotOf(storage);
    const summary = await syncGlue({ client, snapshot, lake: storage.url, database: 'Points_DB' });

    const onDisk = partitionsOnDisk('pts');
    expect(onDisk.length).toBe(3);
    expect(summary).toEqual({
      database: 'points_db',
      databaseCreated: true,
      tables: [
        {
          table: 'pts',
          name: 'pts',
          action: 'created',
          partitions: 3,
          created: 3,
          updated: 0,
          deleted: 0,
          retried: 0,
        },
      ],
    });

    const db = (await client.send(new GetDatabaseCommand({ Name: 'points_db' }))).Database!;
    expect(db.Name).toBe('points_db');

    const table = (await client.send(new GetTableCommand({ DatabaseName: 'points_db', Name: 'pts' }))).Table!;
    expect(table.Name).toBe('pts');
    expect(table.DatabaseName).toBe('points_db');
    expect(table.TableType).toBe('EXTERNAL_TABLE');
    expect(table.CreateTime).toBeInstanceOf(Date);
    const location = `${storage.url}/pts/`;
    expect(location.startsWith('file:///')).toBe(true);
    const sd = table.StorageDescriptor!;
    expect(sd.Location).toBe(location);
    expect(sd.InputFormat).toBe(INPUT);
    expect(sd.OutputFormat).toBe(OUTPUT);
    expect(sd.SerdeInfo).toEqual({
      SerializationLibrary: SERDE,
      Parameters: { 'serialization.format': '1' },
    });
    expect(sd.Columns).toEqual(EXPECTED_COLUMNS);
    expect(table.PartitionKeys).toEqual(EXPECTED_KEYS);
    expect(table.Parameters).toEqual({
      EXTERNAL: 'TRUE',
      classification: 'parquet',
      'parquet.compression': 'ZSTD',
      'octa.table': 'pts',
      'octa.frame': JSON.stringify({ id: 0, kind: 'cartesian', origin: [0, 0, 0], edge: 1024 }),
      'octa.lod': '8',
      'octa.id_kind': 'index64',
      'octa.time_bucket': 'day',
      'octa.schema_version': '1',
    });

    const partitions = await readPartitions('points_db', 'pts');
    expect(sortedValues(partitions)).toEqual(onDisk);
    for (const p of partitions) {
      const [lod, t, r] = p.Values!;
      expect(lod).toBe('8');
      expect(t).toMatch(/^2025-04-1[345]$/);
      expect(r).toBe(R0);
      expect(p.DatabaseName).toBe('points_db');
      expect(p.TableName).toBe('pts');
      expect(p.StorageDescriptor!.Location).toBe(`${location}lod=${lod}/t=${t}/r=${r}/`);
      expect(p.StorageDescriptor!.InputFormat).toBe(INPUT);
      expect(p.StorageDescriptor!.OutputFormat).toBe(OUTPUT);
      expect(p.StorageDescriptor!.SerdeInfo!.SerializationLibrary).toBe(SERDE);
      expect(p.StorageDescriptor!.Columns).toEqual(EXPECTED_COLUMNS);
    }
    // Every partition points at a directory holding committed files.
    const { files } = await committed(lake, 'pts');
    for (const p of partitions) {
      const dirOf = p.StorageDescriptor!.Location!.slice(`${storage.url}/`.length);
      const inDir = files.filter((f) => f.key.startsWith(dirOf));
      expect(inDir.length).toBeGreaterThan(0);
    }
    expect(sizes('BatchCreatePartition', 'PartitionInputList')).toEqual([3]);
  });

  it('is idempotent: a second sync only reads, then a new day adds one partition and removed files delete theirs', async () => {
    const storage = await ingestLake({ lake, dir, days: 2 });
    await syncGlue({ client, snapshot: await snapshotOf(storage), lake: storage.url, database: 'db' });
    const firstRun = server.requests.length;

    const again = await syncGlue({
      client,
      snapshot: await snapshotOf(storage),
      lake: storage.url,
      database: 'db',
    });
    expect(again.databaseCreated).toBe(false);
    expect(again.tables[0]).toMatchObject({
      action: 'unchanged',
      partitions: 2,
      created: 0,
      updated: 0,
      deleted: 0,
    });
    expect(server.requests.slice(firstRun).map((r) => r.operation)).toEqual([
      'GetDatabase',
      'GetTable',
      'GetPartitions',
    ]);

    // A third day arrives (a new input file: a new batch), then the files of the first day go away.
    await ingestLake({ lake, dir, days: 3, seed: 9 });
    const grown = await syncGlue({
      client,
      snapshot: await snapshotOf(storage),
      lake: storage.url,
      database: 'db',
    });
    expect(grown.tables[0]).toMatchObject({ action: 'unchanged', partitions: 3, created: 1, deleted: 0 });
    expect(sortedValues(await readPartitions('db', 'pts'))).toEqual(partitionsOnDisk('pts'));

    const catalog = await EmbeddedCatalog.open({ storage });
    const gone = (await committed(lake, 'pts')).files.filter((f) => f.t === '2025-04-13');
    expect(gone.length).toBeGreaterThan(0);
    await catalog.commit({
      operation: 'test-remove',
      writer: 'w',
      actions: gone.map((f) => ({ op: 'remove' as const, key: f.key, table: 'pts' })),
    });
    const shrunk = await syncGlue({
      client,
      snapshot: await catalog.snapshot(),
      lake: storage.url,
      database: 'db',
    });
    expect(shrunk.tables[0]).toMatchObject({ partitions: 2, created: 0, deleted: 1 });
    expect(sortedValues(await readPartitions('db', 'pts'))).toEqual([
      ['8', '2025-04-14', R0],
      ['8', '2025-04-15', R0],
    ]);
    expect(server.bodies('BatchDeletePartition').at(-1).PartitionsToDelete).toEqual([
      { Values: ['8', '2025-04-13', R0] },
    ]);
  });

  it('sends at most 100 partitions per create and 25 per delete, pages GetPartitions, and moves partitions that changed location', async () => {
    const hours = hourLabels(230);
    const { catalog, snapshot, storage } = await committedLake({
      lake,
      partitions: hours.map((t) => [t, R0] as [string, string]),
    });
    const summary = await syncGlue({ client, snapshot, lake: 's3://bucket/prefix', database: 'db' });
    expect(summary.tables[0]).toMatchObject({ name: 'hours', created: 230, partitions: 230 });
    expect(sizes('BatchCreatePartition', 'PartitionInputList')).toEqual([100, 100, 30]);
    const stored = await readPartitions('db', 'hours');
    expect(sortedValues(stored)).toEqual(hours.map((t) => ['6', t, R0]));
    for (const p of stored) {
      expect(p.StorageDescriptor!.Location).toBe(`s3://bucket/prefix/hours/lod=6/t=${p.Values![1]}/r=${R0}/`);
    }
    server.requests.length = 0;

    const files = [...snapshot.tables.get('hours')!.files.values()];
    const removed = files.slice(0, 60);
    await catalog.commit({
      operation: 'test-remove',
      writer: 'w',
      actions: removed.map((f) => ({ op: 'remove' as const, key: f.key, table: 'hours' })),
    });
    const after = await syncGlue({
      client,
      snapshot: await catalog.snapshot(),
      lake: 's3://bucket/prefix',
      database: 'db',
    });
    expect(after.tables[0]).toMatchObject({ created: 0, deleted: 60, partitions: 170 });
    // Listing 230 partitions at the server's 64 per page follows NextToken through 4 pages.
    expect(server.bodies('GetPartitions').length).toBe(4);
    expect(sizes('BatchDeletePartition', 'PartitionsToDelete')).toEqual([25, 25, 10]);
    expect(sortedValues(await readPartitions('db', 'hours'))).toEqual(
      hours.slice(60).map((t) => ['6', t, R0]),
    );

    // The same catalog published at another location: the table and every partition are updated.
    server.requests.length = 0;
    const moved = await syncGlue({
      client,
      snapshot: await catalog.snapshot(),
      lake: storage.url,
      database: 'db',
    });
    expect(moved.tables[0]).toMatchObject({ action: 'updated', created: 0, updated: 170, deleted: 0 });
    expect(sizes('BatchUpdatePartition', 'Entries')).toEqual([100, 70]);
    for (const p of await readPartitions('db', 'hours')) {
      expect(p.StorageDescriptor!.Location).toBe(`${storage.url}/hours/lod=6/t=${p.Values![1]}/r=${R0}/`);
    }
  });

  it('retries entries Glue reports as failed, counts AlreadyExists as present, and gives up after maxAttempts', async () => {
    const hours = hourLabels(5);
    const { snapshot } = await committedLake({
      lake,
      partitions: hours.map((t) => [t, R0] as [string, string]),
    });
    const flaky = ['6', hours[1]!, R0];
    const raced = ['6', hours[3]!, R0];
    server.fail({
      operation: 'BatchCreatePartition',
      values: flaky,
      code: 'InternalServiceException',
      times: 2,
    });
    server.fail({ operation: 'BatchCreatePartition', values: raced, code: 'AlreadyExistsException' });
    const summary = await syncGlue({ client, snapshot, lake: 's3://b/p', database: 'db', backoffMs: 1 });
    expect(summary.tables[0]).toMatchObject({ created: 4, retried: 2 });
    const sent = server
      .bodies('BatchCreatePartition')
      .map((b) => b.PartitionInputList.map((p: Partition) => p.Values));
    expect(sent).toEqual([hours.map((t) => ['6', t, R0]), [flaky], [flaky]]);
    const values = sortedValues(await readPartitions('db', 'hours'));
    expect(values).toContainEqual(flaky);
    // Another writer "created" the raced one; this sync did not, and did not send it again.
    expect(values).not.toContainEqual(raced);
    expect(values.length).toBe(4);

    // A transient error that never clears: tried maxAttempts times, the others still created.
    const neverClears = ['6', hours[0]!, R0];
    const fresh = join(dir, 'lake2');
    const other = await committedLake({ lake: fresh, table: 'more', partitions: hours.map((t) => [t, R0]) });
    server.fail({
      operation: 'BatchCreatePartition',
      values: neverClears,
      code: 'ThrottlingException',
      times: 3,
    });
    server.requests.length = 0;
    const error = await syncGlue({
      client,
      snapshot: other.snapshot,
      lake: 's3://b/q',
      database: 'db',
      backoffMs: 1,
      maxAttempts: 3,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OctaError);
    expect((error as OctaError).code).toBe('IO_ERROR');
    expect((error as OctaError).value).toEqual(neverClears);
    expect(sizes('BatchCreatePartition', 'PartitionInputList')).toEqual([5, 1, 1]);
    expect((await readPartitions('db', 'more')).length).toBe(4);

    // A permanent error is not retried.
    server.requests.length = 0;
    server.fail({
      operation: 'BatchCreatePartition',
      values: neverClears,
      code: 'InvalidInputException',
      times: 99,
    });
    const permanent = await syncGlue({
      client,
      snapshot: other.snapshot,
      lake: 's3://b/q',
      database: 'db',
      backoffMs: 1,
    }).catch((e: unknown) => e);
    expect((permanent as OctaError).code).toBe('IO_ERROR');
    expect(sizes('BatchCreatePartition', 'PartitionInputList')).toEqual([1]);
  });

  it('sets Athena partition projection properties, and a sync without projection removes them but keeps foreign ones', async () => {
    const splits = ['-4611686018427387904', '-2305843009213693952'];
    const { snapshot } = await committedLake({
      lake,
      table: 'days',
      lod: 9,
      timeBucket: 'day',
      splits,
      partitions: [
        ['2024-05-02', R0],
        ['2024-05-01', 'c000000000000000'],
        ['2024-05-03', 'e000000000000000'],
      ],
    });
    const now = new Date('2024-06-01T12:00:00Z');
    await syncGlue({ client, snapshot, lake: 's3://b/lake', database: 'db', projection: true, now });
    const table = (await client.send(new GetTableCommand({ DatabaseName: 'db', Name: 'days' }))).Table!;
    const projected = Object.fromEntries(
      Object.entries(table.Parameters!).filter(
        ([k]) => k.startsWith('projection.') || k.startsWith('storage.'),
      ),
    );
    expect(projected).toEqual({
      'projection.enabled': 'true',
      'projection.lod.type': 'integer',
      'projection.lod.range': '9,9',
      'projection.t.type': 'date',
      'projection.t.format': 'yyyy-MM-dd',
      'projection.t.range': '2024-05-01,NOW',
      'projection.t.interval': '1',
      'projection.t.interval.unit': 'DAYS',
      'projection.r.type': 'enum',
      'projection.r.values': `${R0},c000000000000000,e000000000000000`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's location template syntax
      'storage.location.template': 's3://b/lake/days/lod=${lod}/t=${t}/r=${r}/',
    });
    // Partitions are registered too, for engines that do not project (Spark, Redshift Spectrum).
    expect((await readPartitions('db', 'days')).length).toBe(3);

    // Someone adds a property of their own; a plain sync drops the projection and keeps theirs.
    server.tables.get('db.days').Parameters.owner_note = 'keep me';
    server.requests.length = 0;
    const plain = await syncGlue({ client, snapshot, lake: 's3://b/lake', database: 'db' });
    expect(plain.tables[0]!.action).toBe('updated');
    const updated = (await client.send(new GetTableCommand({ DatabaseName: 'db', Name: 'days' }))).Table!;
    expect(Object.keys(updated.Parameters!).filter((k) => k.startsWith('projection.'))).toEqual([]);
    expect(updated.Parameters!.owner_note).toBe('keep me');
    expect(updated.Parameters!['octa.lod']).toBe('9');
    expect(server.bodies('UpdateTable').length).toBe(1);
  });

  it('projects hour buckets with a quoted T, and ends the range at the last bucket when data lies in the future', async () => {
    const { snapshot } = await committedLake({ lake, partitions: hourLabels(3).map((t) => [t, R0]) });
    await syncGlue({
      client,
      snapshot,
      lake: 's3://b/l',
      database: 'db',
      projection: true,
      now: new Date('2024-05-01T01:30:00Z'),
    });
    const p = (await client.send(new GetTableCommand({ DatabaseName: 'db', Name: 'hours' }))).Table!
      .Parameters!;
    expect(p['projection.t.format']).toBe("yyyy-MM-dd'T'HH");
    expect(p['projection.t.interval.unit']).toBe('HOURS');
    expect(p['projection.t.range']).toBe('2024-05-01T00,2024-05-01T02');
    expect(p['projection.r.values']).toBe(R0);
  });

  it('refuses a Glue table it did not make, an unknown lake table and a bad database name', async () => {
    const { snapshot } = await committedLake({ lake, partitions: [['2024-05-01T00', R0]] });
    server.databases.set('db', { Name: 'db' });
    server.tables.set('db.hours', { Name: 'hours', DatabaseName: 'db', Parameters: {}, PartitionKeys: [] });
    server.partitions.set('db.hours', new Map());
    const conflict = await syncGlue({ client, snapshot, lake: 's3://b/l', database: 'db' }).catch(
      (e: unknown) => e,
    );
    expect((conflict as OctaError).code).toBe('CONFLICT');
    expect(server.requests.map((r) => r.operation)).toEqual(['GetDatabase', 'GetTable']);

    server.requests.length = 0;
    const missing = await syncGlue({
      client,
      snapshot,
      lake: 's3://b/l',
      database: 'db',
      tables: ['nope'],
    }).catch((e: unknown) => e);
    expect((missing as OctaError).code).toBe('NOT_FOUND');
    const bad = await syncGlue({ client, snapshot, lake: 's3://b/l', database: 'no such db' }).catch(
      (e: unknown) => e,
    );
    expect((bad as OctaError).code).toBe('INVALID_ARGUMENT');
    expect(server.requests).toEqual([]);
  });
});
