/**
 * AWS Glue sync (DESIGN §4): publishes catalog tables as Hive-compatible Parquet tables in a Glue
 * database, with one Glue partition per `lod=/t=/r=` directory that holds live files, so Athena,
 * Trino, Spark on EMR and Redshift Spectrum can query the lake.
 *
 * A sync makes Glue match the catalog snapshot and is safe to repeat: the database is created when
 * missing; a table is created, or updated only when what octa-lake owns in it differs (properties
 * others added are kept); partitions are listed, then the missing ones are created in batches of at
 * most 100, stale ones updated in batches of 100 and the ones without live files deleted in batches
 * of 25 (Glue's limits). Entries a batch call reports in `Errors` are retried with backoff a bounded
 * number of times (`glue-batch.ts`); a partition that already exists (a concurrent sync) counts as present.
 * With `format` iceberg or delta, each table is registered instead as its published open-table-format
 * view, without partitions (`glue-formats.ts`).
 */
import {
  BatchCreatePartitionCommand,
  BatchDeletePartitionCommand,
  BatchUpdatePartitionCommand,
  CreateDatabaseCommand,
  CreateTableCommand,
  GetDatabaseCommand,
  GetPartitionsCommand,
  GetTableCommand,
  type GlueClient,
  type Partition,
  type PartitionInput,
  type StorageDescriptor,
  type Table,
  type TableInput,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { OctaError } from '../../../lattice/errors.js';
import type { Storage } from '../../storage/storage.js';
import type { CatalogSnapshot } from '../catalog.js';
import type { GlueFormat } from './ddl-engines.js';
import { sendInBatches, valuesKey } from './glue-batch.js';
import {
  type GlueTableSummary,
  glueColumns,
  isGlueNotFound as isNotFound,
  locateViews,
  registeredFormat,
  syncFormatTable,
} from './glue-formats.js';
import {
  describeHiveTable,
  type HiveTable,
  OCTA_TABLE_KEYS,
  PARQUET_INPUT_FORMAT,
  PARQUET_OUTPUT_FORMAT,
  PARQUET_SERDE,
  projectionProperties,
} from './hive.js';

export type { GlueTableSummary } from './glue-formats.js';

/** Glue's batch limits: BatchCreatePartition and BatchUpdatePartition take 100 entries, BatchDeletePartition 25. */
export const GLUE_CREATE_BATCH = 100;
export const GLUE_UPDATE_BATCH = 100;
export const GLUE_DELETE_BATCH = 25;

/** Options of {@link syncGlue}. */
export interface SyncGlueOptions {
  /** A Glue client (region, endpoint and credentials are the caller's choice). */
  client: GlueClient;
  /** The catalog state to publish. */
  snapshot: CatalogSnapshot;
  /** The lake root as engines reach it: `s3://bucket/prefix` (or `file:///…` for a local lake). */
  lake: string;
  /** Glue database; created when missing. Folded to lower case, as Glue stores it. */
  database: string;
  /** Lake tables to sync (default: every table of the snapshot). */
  tables?: readonly string[];
  /** Also set Athena partition projection properties (default false: Athena lists partitions). Hive only. */
  projection?: boolean;
  /**
   * How each table is registered: `hive` (default) a Parquet table with one Glue partition per
   * directory; `iceberg` or `delta` the table's published view (see `glue-formats.ts`).
   */
  format?: GlueFormat;
  /** The lake's storage, where the Iceberg or Delta view is found; required unless `format` is hive. */
  storage?: Storage;
  /**
   * Attempts per partition entry that Glue reports as failed, and per table update that a concurrent
   * change (ConcurrentModificationException) made fail, before giving up (default 5).
   */
  maxAttempts?: number;
  /** First backoff before a retry, ms; doubles per attempt, jittered (default 200). */
  backoffMs?: number;
  /** The Glue Data Catalog id (default: the caller's account). */
  catalogId?: string;
  /** The current time, for the projection's time range (default now). */
  now?: Date;
}

/** What a sync did. */
export interface GlueSyncSummary {
  database: string;
  databaseCreated: boolean;
  tables: GlueTableSummary[];
}

const DATABASE_NAME = /^[A-Za-z0-9_-]{1,255}$/;
/** Errors of one batch entry that mean the work is already done. */
const DONE_CODES = { create: 'AlreadyExistsException', delete: 'EntityNotFoundException' } as const;

/**
 * Makes a Glue database hold the given catalog tables and their partitions.
 * @param options - see {@link SyncGlueOptions}
 * @returns per table: created, updated or unchanged, and the partition counts
 * @throws {OctaError} NOT_FOUND for a table the snapshot lacks, or (iceberg, delta) a table without
 *   a published view; CORRUPT for an Iceberg version hint that names no metadata file;
 *   INVALID_ARGUMENT for a bad database name or option; CONFLICT when a Glue table of that name exists
 *   but was not made by octa-lake, is registered as another format or has other partition keys, or
 *   kept changing under the sync; IO_ERROR when partition entries still fail after the retries.
 *   Errors of the Glue client (credentials, network, throttling after the SDK's own retries) pass through.
 */
export async function syncGlue({
  client,
  snapshot,
  lake,
  database,
  tables,
  projection = false,
  format = 'hive',
  storage,
  maxAttempts = 5,
  backoffMs = 200,
  catalogId,
  now = new Date(),
}: SyncGlueOptions): Promise<GlueSyncSummary> {
  if (typeof database !== 'string' || !DATABASE_NAME.test(database)) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'the Glue database name must be 1-255 letters, digits, underscores or hyphens',
      database,
    );
  }
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new OctaError('INVALID_ARGUMENT', 'maxAttempts must be a positive integer', maxAttempts);
  }
  const db = database.toLowerCase();
  const names = tables ?? [...snapshot.tables.keys()].sort();
  // Describe (and for a view, locate) every table first: a missing one fails before Glue is touched.
  const described = names.map((table) => describeHiveTable({ snapshot, table, lake }));
  const views = await locateViews({ format, projection, storage, lake, tables: names });
  const ids = catalogId === undefined ? {} : { CatalogId: catalogId };
  const databaseCreated = await ensureDatabase(client, db, ids);
  const summaries: GlueTableSummary[] = [];
  for (const [i, table] of described.entries()) {
    const view = views[i];
    if (view !== undefined) {
      summaries.push(await syncFormatTable(client, { db, ids, table, view, maxAttempts, backoffMs }));
      continue;
    }
    const parameters = projection
      ? { ...table.parameters, ...projectionProperties({ table, now }) }
      : table.parameters;
    const action = await syncTable(client, { db, ids, table, parameters });
    const counts = await syncPartitions(client, { db, ids, table, maxAttempts, backoffMs });
    summaries.push({
      table: table.table,
      name: table.name,
      action,
      partitions: table.partitions.length,
      ...counts,
    });
  }
  return { database: db, databaseCreated, tables: summaries };
}

async function ensureDatabase(client: GlueClient, db: string, ids: { CatalogId?: string }): Promise<boolean> {
  try {
    await client.send(new GetDatabaseCommand({ ...ids, Name: db }));
    return false;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    await client.send(
      new CreateDatabaseCommand({
        ...ids,
        DatabaseInput: { Name: db, Description: 'octa-lake tables (BCC lattice points)' },
      }),
    );
    return true;
  } catch (error) {
    // A concurrent sync created it first.
    if ((error as { name?: string }).name === 'AlreadyExistsException') return false;
    throw error;
  }
}

/** The storage descriptor of the table or of one partition: Parquet through Hive's SerDe. */
function storageDescriptor(table: HiveTable, location: string): StorageDescriptor {
  return {
    Columns: glueColumns(table.columns),
    Location: location,
    InputFormat: PARQUET_INPUT_FORMAT,
    OutputFormat: PARQUET_OUTPUT_FORMAT,
    Compressed: false,
    NumberOfBuckets: -1,
    SerdeInfo: { SerializationLibrary: PARQUET_SERDE, Parameters: { 'serialization.format': '1' } },
    StoredAsSubDirectories: false,
  };
}

/** Whether a stored descriptor says what ours says (Glue may add fields we do not set). */
function sameDescriptor(stored: StorageDescriptor | undefined, wanted: StorageDescriptor): boolean {
  const columns = (sd: StorageDescriptor | undefined) =>
    JSON.stringify((sd?.Columns ?? []).map((c) => [c.Name, c.Type, c.Comment ?? null]));
  return (
    stored !== undefined &&
    stored.Location === wanted.Location &&
    stored.InputFormat === wanted.InputFormat &&
    stored.OutputFormat === wanted.OutputFormat &&
    stored.SerdeInfo?.SerializationLibrary === wanted.SerdeInfo?.SerializationLibrary &&
    columns(stored) === columns(wanted)
  );
}

/** Properties a sync owns; any other property of an existing table is someone else's and is kept. */
const isOwnedProperty = (key: string) =>
  key.startsWith('octa.') ||
  key.startsWith('projection.') ||
  ['storage.location.template', 'classification', 'parquet.compression', 'EXTERNAL'].includes(key);

const sortedJson = (record: Record<string, string>) =>
  JSON.stringify(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

async function syncTable(
  client: GlueClient,
  {
    db,
    ids,
    table,
    parameters,
  }: { db: string; ids: { CatalogId?: string }; table: HiveTable; parameters: Record<string, string> },
): Promise<GlueTableSummary['action']> {
  let existing: Table | undefined;
  try {
    existing = (await client.send(new GetTableCommand({ ...ids, DatabaseName: db, Name: table.name }))).Table;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const input: TableInput = {
    Name: table.name,
    Description: `octa-lake table ${table.table}: BCC lattice points, partitioned by lod, t, r`,
    TableType: 'EXTERNAL_TABLE',
    StorageDescriptor: storageDescriptor(table, table.location),
    PartitionKeys: glueColumns(table.partitionKeys),
    Parameters: { EXTERNAL: 'TRUE', ...parameters },
  };
  if (existing === undefined) {
    await client.send(new CreateTableCommand({ ...ids, DatabaseName: db, TableInput: input }));
    return 'created';
  }
  const where = `${db}.${table.name}`;
  if (existing.Parameters?.[OCTA_TABLE_KEYS.table] === undefined) {
    throw new OctaError(
      'CONFLICT',
      `Glue table ${where} exists but was not made by octa-lake (no ${OCTA_TABLE_KEYS.table} property); drop it or sync into another database`,
      where,
    );
  }
  if (registeredFormat(existing) !== 'hive') {
    throw new OctaError(
      'CONFLICT',
      `Glue table ${where} is registered with table format ${registeredFormat(existing)}; drop it to register it as hive, or sync into another database`,
      registeredFormat(existing),
    );
  }
  const keys = (cols: { Name?: string; Type?: string }[] | undefined) =>
    JSON.stringify((cols ?? []).map((c) => [c.Name, c.Type]));
  if (keys(existing.PartitionKeys) !== keys(input.PartitionKeys)) {
    throw new OctaError(
      'CONFLICT',
      `Glue table ${where} has other partition keys, which Glue cannot change in place; drop the table and sync again`,
      (existing.PartitionKeys ?? []).map((c) => c.Name),
    );
  }
  const kept = Object.entries(existing.Parameters ?? {}).filter(([key]) => !isOwnedProperty(key));
  input.Parameters = { ...Object.fromEntries(kept), ...input.Parameters };
  const same =
    sameDescriptor(existing.StorageDescriptor, input.StorageDescriptor!) &&
    existing.TableType === input.TableType &&
    existing.Description === input.Description &&
    sortedJson(existing.Parameters ?? {}) === sortedJson(input.Parameters);
  if (same) return 'unchanged';
  await client.send(new UpdateTableCommand({ ...ids, DatabaseName: db, TableInput: input }));
  return 'updated';
}

/** Every partition Glue has for a table, following NextToken. */
async function listPartitions(
  client: GlueClient,
  { db, ids, name }: { db: string; ids: { CatalogId?: string }; name: string },
): Promise<Partition[]> {
  const out: Partition[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new GetPartitionsCommand({
        ...ids,
        DatabaseName: db,
        TableName: name,
        MaxResults: 1000,
        ...(token === undefined ? {} : { NextToken: token }),
      }),
    );
    out.push(...(page.Partitions ?? []));
    token = page.NextToken || undefined;
  } while (token !== undefined);
  return out;
}

async function syncPartitions(
  client: GlueClient,
  {
    db,
    ids,
    table,
    maxAttempts,
    backoffMs,
  }: { db: string; ids: { CatalogId?: string }; table: HiveTable; maxAttempts: number; backoffMs: number },
): Promise<Pick<GlueTableSummary, 'created' | 'updated' | 'deleted' | 'retried'>> {
  const stored = new Map(
    (await listPartitions(client, { db, ids, name: table.name })).map((p) => [valuesKey(p.Values ?? []), p]),
  );
  const wanted = new Map(table.partitions.map((p) => [valuesKey(p.values), p]));
  const toCreate: PartitionInput[] = [];
  const toUpdate: PartitionInput[] = [];
  for (const [key, partition] of wanted) {
    const input: PartitionInput = {
      Values: [...partition.values],
      StorageDescriptor: storageDescriptor(table, partition.location),
    };
    const current = stored.get(key);
    if (current === undefined) toCreate.push(input);
    else if (!sameDescriptor(current.StorageDescriptor, input.StorageDescriptor!)) toUpdate.push(input);
  }
  const toDelete = [...stored.entries()].filter(([key]) => !wanted.has(key)).map(([, p]) => p.Values ?? []);
  const base = { DatabaseName: db, TableName: table.name, ...ids };
  const retry = { maxAttempts, backoffMs, table: `${db}.${table.name}` };

  const created = await sendInBatches({
    ...retry,
    entries: toCreate,
    size: GLUE_CREATE_BATCH,
    verb: 'create',
    doneCode: DONE_CODES.create,
    valuesOf: (p) => p.Values ?? [],
    send: async (batch) => {
      const r = await client.send(new BatchCreatePartitionCommand({ ...base, PartitionInputList: batch }));
      return (r.Errors ?? []).map((e) => ({ values: e.PartitionValues ?? [], detail: e.ErrorDetail }));
    },
  });
  const updated = await sendInBatches({
    ...retry,
    entries: toUpdate,
    size: GLUE_UPDATE_BATCH,
    verb: 'update',
    valuesOf: (p) => p.Values ?? [],
    send: async (batch) => {
      const Entries = batch.map((p) => ({ PartitionValueList: p.Values, PartitionInput: p }));
      const r = await client.send(new BatchUpdatePartitionCommand({ ...base, Entries }));
      return (r.Errors ?? []).map((e) => ({ values: e.PartitionValueList ?? [], detail: e.ErrorDetail }));
    },
  });
  const deleted = await sendInBatches({
    ...retry,
    entries: toDelete,
    size: GLUE_DELETE_BATCH,
    verb: 'delete',
    doneCode: DONE_CODES.delete,
    valuesOf: (v) => v,
    send: async (batch) => {
      const PartitionsToDelete = batch.map((Values) => ({ Values }));
      const r = await client.send(new BatchDeletePartitionCommand({ ...base, PartitionsToDelete }));
      return (r.Errors ?? []).map((e) => ({ values: e.PartitionValues ?? [], detail: e.ErrorDetail }));
    },
  });
  return {
    created: created.done,
    updated: updated.done,
    deleted: deleted.done,
    retried: created.retried + updated.retried + deleted.retried,
  };
}
