/**
 * Glue sync of the Iceberg and Delta Lake views (`format` iceberg, delta), driven by the real
 * `@aws-sdk/client-glue` client against the local Glue-protocol server, which enforces VersionId as
 * Glue does. The views are minimal fixtures written here (`metadata/version-hint.text` and
 * `v<N>.metadata.json`, `_delta_log/00000000000000000000.json`): the sync reads only where they are.
 * What the SDK sent is read back with GetTable and checked field by field.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetTableCommand, type GlueClient, type Table, UpdateTableCommand } from '@aws-sdk/client-glue';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CatalogSnapshot } from '../../src/lake/catalog/catalog.js';
import { type SyncGlueOptions, syncGlue } from '../../src/lake/catalog/publish/glue.js';
import type { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError } from '../../src/lattice/errors.js';
import { GlueServer } from '../support/glue-server.js';
import { committedLake } from './fixtures/hive-lake.js';
import { removeDir, tempDir } from './fixtures/ingest/lake.js';

let dir: string;
let lake: string;
let server: GlueServer;
let client: GlueClient;
let storage: LocalStorage;
let snapshot: CatalogSnapshot;

beforeEach(async () => {
  dir = tempDir('glue-formats');
  lake = join(dir, 'lake');
  ({ storage, snapshot } = await committedLake({
    lake,
    table: 'pts',
    partitions: [['2024-05-01T00', '0000000000000000']],
  }));
  server = await GlueServer.start();
  client = server.client();
});

afterEach(async () => {
  client.destroy();
  await server.close();
  removeDir(dir);
});

/** Writes the Iceberg view's location files as a publish of version `n` would. */
function publishIceberg(n: number, table = 'pts'): void {
  const metadata = join(lake, table, 'metadata');
  mkdirSync(metadata, { recursive: true });
  writeFileSync(join(metadata, `v${n}.metadata.json`), '{"format-version":2}');
  writeFileSync(join(metadata, 'version-hint.text'), `${n}\n`);
}

/** Writes a Delta log with its first commit. */
function publishDelta(table = 'pts'): void {
  const log = join(lake, table, '_delta_log');
  mkdirSync(log, { recursive: true });
  writeFileSync(join(log, '00000000000000000000.json'), '{"commitInfo":{}}\n');
}

const sync = (options: Partial<SyncGlueOptions> = {}) =>
  syncGlue({ client, snapshot, storage, lake: storage.url, database: 'geo', format: 'iceberg', ...options });

const getTable = async (name = 'pts'): Promise<Table> =>
  (await client.send(new GetTableCommand({ DatabaseName: 'geo', Name: name }))).Table!;

const metadataAt = (n: number) => `${storage.url}/pts/metadata/v${n}.metadata.json`;

/** The summary of table `pts` created in a format: no partitions, no retries. */
const createdSummary = (format: 'iceberg' | 'delta', more: { metadataLocation?: string } = {}) => ({
  table: 'pts',
  name: 'pts',
  action: 'created',
  format,
  location: `${storage.url}/pts/`,
  ...more,
  partitions: 0,
  created: 0,
  updated: 0,
  deleted: 0,
  retried: 0,
});

const COLUMNS = [
  { Name: 'cell', Type: 'bigint', Comment: 'Index64 cell id: the raw 64 bits as a signed integer' },
  { Name: 'x', Type: 'double', Comment: 'x in frame metres' },
  { Name: 'y', Type: 'double', Comment: 'y in frame metres' },
  { Name: 'z', Type: 'double', Comment: 'z in frame metres' },
  { Name: 'time', Type: 'timestamp', Comment: 'event time (UTC)' },
  { Name: 'intensity', Type: 'double' },
];

const PARTITION_COLUMNS = [
  { Name: 'lod', Type: 'int', Comment: 'level of detail of every cell id' },
  { Name: 't', Type: 'string', Comment: 'UTC time bucket of the event time' },
  { Name: 'r', Type: 'string', Comment: 'id range: its lower bound, 16 hex digits of the unsigned id' },
];

const OCTA_KEYS = [
  'octa.frame',
  'octa.id_kind',
  'octa.lod',
  'octa.schema_version',
  'octa.table',
  'octa.time_bucket',
];

describe('syncGlue format iceberg', () => {
  it('registers the table as Athena reads Iceberg: table_type, metadata_location, columns, no partitions', async () => {
    publishIceberg(1);
    const summary = await sync();
    expect(summary.tables).toEqual([createdSummary('iceberg', { metadataLocation: metadataAt(1) })]);
    const table = await getTable();
    expect(table.TableType).toBe('EXTERNAL_TABLE');
    expect(table.Parameters?.table_type).toBe('ICEBERG');
    expect(table.Parameters?.metadata_location).toBe(metadataAt(1));
    expect(table.Parameters?.previous_metadata_location).toBeUndefined();
    expect(table.Parameters?.['octa.table']).toBe('pts');
    expect(Object.keys(table.Parameters ?? {}).sort()).toEqual(
      [...OCTA_KEYS, 'metadata_location', 'table_type'].sort(),
    );
    expect(table.StorageDescriptor?.Location).toBe(`${storage.url}/pts`);
    expect(table.StorageDescriptor?.Columns).toEqual(COLUMNS);
    expect(table.PartitionKeys).toEqual([]);
    expect(server.bodies('BatchCreatePartition')).toEqual([]);
    expect(server.bodies('GetPartitions')).toEqual([]);
  });

  it('moves metadata_location to a newer version with UpdateTable at the VersionId it read, keeping others’ parameters; a re-sync is unchanged', async () => {
    publishIceberg(1);
    await sync();
    server.bumpTable('geo', 'pts', (t) => {
      t.Parameters['comment.by.someone'] = 'kept';
    });
    publishIceberg(2);
    const second = await sync();
    expect(second.tables[0]).toMatchObject({
      action: 'updated',
      metadataLocation: metadataAt(2),
      retried: 0,
    });
    expect(server.bodies('UpdateTable').map((b) => b.VersionId)).toEqual(['2']);
    const table = await getTable();
    expect(table.Parameters?.metadata_location).toBe(metadataAt(2));
    expect(table.Parameters?.previous_metadata_location).toBe(metadataAt(1));
    expect(table.Parameters?.['comment.by.someone']).toBe('kept');
    expect(table.VersionId).toBe('3');
    const third = await sync();
    expect(third.tables[0]).toMatchObject({ action: 'unchanged', metadataLocation: metadataAt(2) });
    expect(server.bodies('UpdateTable')).toHaveLength(1);
  });

  it('the server refuses a stale VersionId with ConcurrentModificationException, as Glue does', async () => {
    publishIceberg(1);
    await sync();
    server.bumpTable('geo', 'pts');
    const stale = client.send(
      new UpdateTableCommand({ DatabaseName: 'geo', VersionId: '1', TableInput: { Name: 'pts' } }),
    );
    await expect(stale).rejects.toMatchObject({ name: 'ConcurrentModificationException' });
    expect((await getTable()).VersionId).toBe('2');
  });

  it('a concurrent change between its read and its update: the stale update fails, the sync reads again and retries', async () => {
    publishIceberg(1);
    await sync();
    publishIceberg(2);
    server.before('UpdateTable', () =>
      server.bumpTable('geo', 'pts', (t) => {
        t.Parameters['written.meanwhile'] = 'yes';
      }),
    );
    const summary = await sync({ backoffMs: 1 });
    expect(summary.tables[0]).toMatchObject({
      action: 'updated',
      metadataLocation: metadataAt(2),
      retried: 1,
    });
    expect(server.bodies('UpdateTable').map((b) => b.VersionId)).toEqual(['1', '2']);
    const table = await getTable();
    expect(table.Parameters?.metadata_location).toBe(metadataAt(2));
    expect(table.Parameters?.previous_metadata_location).toBe(metadataAt(1));
    expect(table.Parameters?.['written.meanwhile']).toBe('yes');
    expect(table.VersionId).toBe('3');
  });

  it('a table created by a concurrent sync between its read and its create: AlreadyExists, read again, unchanged', async () => {
    publishIceberg(1);
    server.before('CreateTable', (body) =>
      server.tables.set('geo.pts', {
        ...structuredClone(body.TableInput),
        DatabaseName: 'geo',
        VersionId: '1',
      }),
    );
    const summary = await sync({ backoffMs: 1 });
    expect(summary.tables[0]).toMatchObject({
      action: 'unchanged',
      metadataLocation: metadataAt(1),
      retried: 1,
    });
    expect(server.bodies('CreateTable')).toHaveLength(1);
    expect(server.bodies('UpdateTable')).toEqual([]);
  });

  it('never moves metadata_location back: a newer version registered meanwhile stays', async () => {
    publishIceberg(1);
    await sync();
    publishIceberg(2);
    server.before('UpdateTable', () =>
      server.bumpTable('geo', 'pts', (t) => {
        t.Parameters.previous_metadata_location = metadataAt(4);
        t.Parameters.metadata_location = metadataAt(5);
      }),
    );
    const summary = await sync({ backoffMs: 1 });
    expect(summary.tables[0]).toMatchObject({
      action: 'unchanged',
      metadataLocation: metadataAt(5),
      retried: 1,
    });
    const table = await getTable();
    expect(table.Parameters?.metadata_location).toBe(metadataAt(5));
    expect(table.Parameters?.previous_metadata_location).toBe(metadataAt(4));
  });

  it('gives up with CONFLICT after maxAttempts concurrent changes', async () => {
    publishIceberg(1);
    await sync();
    publishIceberg(2);
    server.before('UpdateTable', () => server.bumpTable('geo', 'pts'), 100);
    const error = await sync({ maxAttempts: 3, backoffMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OctaError);
    expect((error as OctaError).code).toBe('CONFLICT');
    expect((error as OctaError).message).toContain('ConcurrentModificationException');
    expect(server.bodies('UpdateTable')).toHaveLength(3);
    expect((await getTable()).Parameters?.metadata_location).toBe(metadataAt(1));
  });
});

describe('syncGlue format delta', () => {
  it("registers Athena's native Delta Lake table: table_type DELTA, the provider, the location and the Delta schema", async () => {
    publishDelta();
    const summary = await sync({ format: 'delta' });
    expect(summary.tables[0]).toEqual(createdSummary('delta'));
    const table = await getTable();
    expect(table.TableType).toBe('EXTERNAL_TABLE');
    expect(table.Parameters).toMatchObject({
      EXTERNAL: 'TRUE',
      table_type: 'DELTA',
      'spark.sql.sources.provider': 'delta',
      'octa.table': 'pts',
    });
    expect(table.Parameters?.metadata_location).toBeUndefined();
    expect(table.StorageDescriptor?.Location).toBe(`${storage.url}/pts/`);
    expect(table.StorageDescriptor?.SerdeInfo?.Parameters).toEqual({ path: `${storage.url}/pts/` });
    expect(table.StorageDescriptor?.Columns).toEqual([...COLUMNS, ...PARTITION_COLUMNS]);
    expect(table.PartitionKeys).toEqual([]);
    const again = await sync({ format: 'delta' });
    expect(again.tables[0]?.action).toBe('unchanged');
    expect(server.bodies('UpdateTable')).toEqual([]);
  });

  it('updates the location under the VersionId when --location changes', async () => {
    publishDelta();
    await sync({ format: 'delta' });
    const moved = await sync({ format: 'delta', lake: 's3://bucket/copy' });
    expect(moved.tables[0]?.action).toBe('updated');
    expect(server.bodies('UpdateTable').map((b) => b.VersionId)).toEqual(['1']);
    expect((await getTable()).StorageDescriptor?.Location).toBe('s3://bucket/copy/pts/');
  });
});

describe('syncGlue format refusals', () => {
  /** The error a sync fails with, after checking that Glue was never called. */
  async function refused(options: Partial<SyncGlueOptions>): Promise<OctaError> {
    const error = await sync(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OctaError);
    expect(server.requests).toEqual([]);
    return error as OctaError;
  }

  it('refuses a table without a published view, naming publishTables(), before Glue is called', async () => {
    const iceberg = await refused({});
    expect(iceberg.code).toBe('NOT_FOUND');
    expect(iceberg.value).toBe('pts/metadata/version-hint.text');
    expect(iceberg.message).toContain('run `publishTables()`');
    const delta = await refused({ format: 'delta' });
    expect(delta.code).toBe('NOT_FOUND');
    expect(delta.value).toBe('pts/_delta_log/');
    // A _delta_log/ without a commit or checkpoint is no table either.
    mkdirSync(join(lake, 'pts', '_delta_log'), { recursive: true });
    writeFileSync(join(lake, 'pts', '_delta_log', 'notes.txt'), 'x');
    expect((await refused({ format: 'delta' })).code).toBe('NOT_FOUND');
  });

  it('refuses a version hint that is not a number, or names a missing metadata file, as CORRUPT', async () => {
    publishIceberg(3);
    writeFileSync(join(lake, 'pts', 'metadata', 'version-hint.text'), 'three');
    const text = await refused({});
    expect([text.code, text.value]).toEqual(['CORRUPT', 'three']);
    writeFileSync(join(lake, 'pts', 'metadata', 'version-hint.text'), '4');
    const missing = await refused({});
    expect([missing.code, missing.value]).toEqual(['CORRUPT', 'pts/metadata/v4.metadata.json']);
  });

  it('refuses bad options: an unknown format, projection or no storage for a view', async () => {
    publishIceberg(1);
    const format = await refused({ format: 'hudi' as 'hive' });
    expect([format.code, format.value]).toEqual(['INVALID_ARGUMENT', 'hudi']);
    expect((await refused({ projection: true })).code).toBe('INVALID_ARGUMENT');
    const noStorage = await syncGlue({
      client,
      snapshot,
      lake: storage.url,
      database: 'geo',
      format: 'iceberg',
    }).catch((e: unknown) => e);
    expect((noStorage as OctaError).code).toBe('INVALID_ARGUMENT');
    expect(server.requests).toEqual([]);
  });

  it('refuses to turn a table into another format: CONFLICT, the table left as it was', async () => {
    publishIceberg(1);
    publishDelta();
    await sync({ format: 'hive' });
    const overHive = await sync().catch((e: unknown) => e);
    expect([(overHive as OctaError).code, (overHive as OctaError).value]).toEqual(['CONFLICT', 'hive']);
    expect((await getTable()).Parameters?.table_type).toBeUndefined();
    await sync({ database: 'geo2' });
    const hiveOver = await sync({ database: 'geo2', format: 'hive' }).catch((e: unknown) => e);
    expect([(hiveOver as OctaError).code, (hiveOver as OctaError).value]).toEqual(['CONFLICT', 'iceberg']);
    const deltaOver = await sync({ database: 'geo2', format: 'delta' }).catch((e: unknown) => e);
    expect([(deltaOver as OctaError).code, (deltaOver as OctaError).value]).toEqual(['CONFLICT', 'iceberg']);
    expect(server.bodies('UpdateTable')).toEqual([]);
  });
});
