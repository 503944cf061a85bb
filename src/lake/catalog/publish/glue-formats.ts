/**
 * Glue registration of a table's open-table-format view (DESIGN §4), the `iceberg` and `delta`
 * formats of Glue sync (`glue.ts`), each as Athena reads it:
 * - Iceberg: an `EXTERNAL_TABLE` with `table_type=ICEBERG` and `metadata_location` naming the current
 *   `v<N>.metadata.json`; an update moves the old location to `previous_metadata_location`, as
 *   Iceberg's own Glue catalog does. The storage descriptor holds the location and the columns,
 *   for display only: Athena reads the schema from the metadata file.
 * - Delta Lake: an `EXTERNAL_TABLE` at the table's directory with `table_type=DELTA` and
 *   `spark.sql.sources.provider=delta` (Athena reads the schema and files from `_delta_log/`), the
 *   columns of the Delta schema, and the location also as the SerDe's `path` parameter.
 * Neither has Glue partitions: the view lists the files. Updates are conditional on the table's
 * `VersionId` (Glue's optimistic concurrency): on `ConcurrentModificationException` the table is
 * read again and the update recomputed, a bounded number of times. An Iceberg table's metadata
 * location never moves back to an older version than the one Glue holds, so a slower concurrent
 * sync cannot undo a newer one.
 */
import {
  type Column,
  CreateTableCommand,
  GetTableCommand,
  type GlueClient,
  type Table,
  type TableInput,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { OctaError } from '../../../lattice/errors.js';
import type { Storage } from '../../storage/storage.js';
import { GLUE_FORMATS, type GlueFormat } from './ddl-engines.js';
import { type HiveColumn, type HiveTable, OCTA_TABLE_KEYS, tableProperties } from './hive.js';
import { locateView, metadataVersionOf, type ViewLocation } from './view-location.js';

/** What a sync did to one table. */
export interface GlueTableSummary {
  table: string;
  /** The Glue table name. */
  name: string;
  action: 'created' | 'updated' | 'unchanged';
  /** Iceberg and Delta Lake tables: the format registered (hive tables leave it out). */
  format?: 'iceberg' | 'delta';
  /** Iceberg and Delta Lake tables: the table's location in Glue. */
  location?: string;
  /** Iceberg tables: the metadata file Glue names (Glue's own when it already named a newer one). */
  metadataLocation?: string;
  /** Partitions the catalog has for the table (0 for Iceberg and Delta Lake tables: Glue holds none). */
  partitions: number;
  created: number;
  updated: number;
  deleted: number;
  /** Entries (or table updates) sent again after Glue reported them as failed. */
  retried: number;
}

/** The name of a Glue client error (its exception type), if it has one. */
const errorName = (error: unknown) => (error as { name?: string } | null)?.name;

/** Whether a Glue client error is EntityNotFoundException. */
export const isGlueNotFound = (error: unknown): boolean => errorName(error) === 'EntityNotFoundException';

/** Glue columns of Hive columns. */
export const glueColumns = (columns: readonly HiveColumn[]): Column[] =>
  columns.map((c) =>
    c.comment === undefined
      ? { Name: c.name, Type: c.type }
      : { Name: c.name, Type: c.type, Comment: c.comment },
  );

/**
 * The format a Glue table is registered as: its `table_type` parameter in lower case (`iceberg`,
 * `delta`, or another engine's), `hive` when it has none.
 */
export function registeredFormat(table: Table): string {
  return table.Parameters?.table_type?.toLowerCase() ?? 'hive';
}

/**
 * Checks the format options of a sync and finds the view of every table, before Glue is touched.
 * @returns one view per table, in order; none for `hive`
 * @throws {OctaError} INVALID_ARGUMENT for an unknown format, projection outside hive, or no storage;
 *   NOT_FOUND or CORRUPT from {@link locateView}
 */
export async function locateViews({
  format,
  projection,
  storage,
  lake,
  tables,
}: {
  format: GlueFormat;
  projection: boolean;
  storage: Storage | undefined;
  lake: string;
  tables: readonly string[];
}): Promise<ViewLocation[]> {
  if (!GLUE_FORMATS.includes(format)) {
    throw new OctaError('INVALID_ARGUMENT', `format must be one of ${GLUE_FORMATS.join(', ')}`, format);
  }
  if (format === 'hive') return [];
  if (projection || storage === undefined) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      projection
        ? 'partition projection is for Hive tables; an Iceberg or Delta Lake table lists its own files'
        : 'an Iceberg or Delta Lake sync needs the lake `storage`, where the view is found',
      format,
      { params: ['storage'] },
    );
  }
  const views: ViewLocation[] = [];
  for (const table of tables) views.push(await locateView({ storage, lake, table, format }));
  return views;
}

/** Parameters a format sync owns; any other parameter of an existing table is kept. */
const isOwnedParameter = (key: string) =>
  key.startsWith('octa.') ||
  [
    'table_type',
    'metadata_location',
    'previous_metadata_location',
    'spark.sql.sources.provider',
    'EXTERNAL',
  ].includes(key);

/** The `octa.*` table properties (not the Hive ones: `classification`, `parquet.compression`). */
const octaParameters = (table: HiveTable) =>
  Object.fromEntries(
    Object.entries(tableProperties(table.config)).filter(([key]) => key.startsWith('octa.')),
  );

/**
 * The TableInput that registers a view.
 * @param table - the described lake table (columns, `octa.*` properties)
 * @param view - where its view is
 * @param metadataLocation - Iceberg: the metadata file to name (default the view's current one)
 * @param previous - Iceberg: the location Glue named before, kept as `previous_metadata_location`
 */
export function formatTableInput(
  table: HiveTable,
  view: ViewLocation,
  metadataLocation = view.metadataLocation,
  previous?: string,
): TableInput {
  const description = `octa-lake table ${table.table}: BCC lattice points, ${view.format === 'iceberg' ? 'Iceberg' : 'Delta Lake'} view`;
  if (view.format === 'iceberg') {
    return {
      Name: table.name,
      Description: description,
      TableType: 'EXTERNAL_TABLE',
      StorageDescriptor: { Columns: glueColumns(table.columns), Location: view.location.replace(/\/$/, '') },
      PartitionKeys: [],
      Parameters: {
        ...octaParameters(table),
        table_type: 'ICEBERG',
        metadata_location: metadataLocation!,
        ...(previous === undefined ? {} : { previous_metadata_location: previous }),
      },
    };
  }
  return {
    Name: table.name,
    Description: description,
    TableType: 'EXTERNAL_TABLE',
    StorageDescriptor: {
      // The Delta schema: the columns, then the partition columns.
      Columns: glueColumns([...table.columns, ...table.partitionKeys]),
      Location: view.location,
      SerdeInfo: { Parameters: { path: view.location } },
    },
    PartitionKeys: [],
    Parameters: {
      ...octaParameters(table),
      EXTERNAL: 'TRUE',
      table_type: 'DELTA',
      'spark.sql.sources.provider': 'delta',
    },
  };
}

const sortedJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

/** What of a stored table a format sync compares: what {@link formatTableInput} sets. */
const comparable = (t: Table | TableInput) => ({
  description: t.Description ?? null,
  type: t.TableType ?? null,
  location: t.StorageDescriptor?.Location ?? null,
  columns: (t.StorageDescriptor?.Columns ?? []).map((c) => [c.Name, c.Type, c.Comment ?? null]),
  serde: t.StorageDescriptor?.SerdeInfo?.Parameters ?? {},
  keys: (t.PartitionKeys ?? []).map((c) => c.Name),
  parameters: t.Parameters ?? {},
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Creates or updates the Glue table of one view, with Glue's optimistic concurrency.
 * @param client - a Glue client
 * @param options.db - the database (exists)
 * @param options.ids - `{ CatalogId }` or nothing
 * @param options.table - the described lake table
 * @param options.view - where its view is ({@link locateView})
 * @param options.maxAttempts - attempts before giving up on concurrent changes
 * @param options.backoffMs - first backoff before another attempt, ms; doubles, jittered
 * @returns the table's summary: created, updated or unchanged, the location (and Iceberg's metadata
 *   location) Glue names, and the retries
 * @throws {OctaError} CONFLICT when a Glue table of that name was not made by octa-lake, is
 *   registered as another format, or kept changing under the sync for `maxAttempts` attempts
 */
export async function syncFormatTable(
  client: GlueClient,
  {
    db,
    ids,
    table,
    view,
    maxAttempts,
    backoffMs,
  }: {
    db: string;
    ids: { CatalogId?: string };
    table: HiveTable;
    view: ViewLocation;
    maxAttempts: number;
    backoffMs: number;
  },
): Promise<GlueTableSummary> {
  const where = `${db}.${table.name}`;
  for (let attempt = 1; ; attempt++) {
    let existing: Table | undefined;
    try {
      existing = (await client.send(new GetTableCommand({ ...ids, DatabaseName: db, Name: table.name })))
        .Table;
    } catch (error) {
      if (!isGlueNotFound(error)) throw error;
    }
    let action: 'created' | 'updated';
    let input: TableInput;
    try {
      if (existing === undefined) {
        input = formatTableInput(table, view);
        await client.send(new CreateTableCommand({ ...ids, DatabaseName: db, TableInput: input }));
        action = 'created';
      } else {
        input = updatedInput(existing, table, view, where);
        if (sortedJson(comparable(existing)) === sortedJson(comparable(input))) {
          return summary(table, view, 'unchanged', existing.Parameters?.metadata_location, attempt);
        }
        await client.send(
          new UpdateTableCommand({
            ...ids,
            DatabaseName: db,
            TableInput: input,
            ...(existing.VersionId === undefined ? {} : { VersionId: existing.VersionId }),
          }),
        );
        action = 'updated';
      }
    } catch (error) {
      // Another writer created or changed the table since it was read: read it again.
      const raced = ['ConcurrentModificationException', 'AlreadyExistsException'].includes(
        errorName(error) ?? '',
      );
      if (!raced) throw error;
      if (attempt >= maxAttempts) {
        throw new OctaError(
          'CONFLICT',
          `Glue table ${where} changed under this sync ${attempt} times (${errorName(error)}); sync again`,
          where,
        );
      }
      await sleep(Math.random() * backoffMs * 2 ** (attempt - 1));
      continue;
    }
    return summary(table, view, action, input.Parameters?.metadata_location, attempt);
  }
}

const summary = (
  table: HiveTable,
  view: ViewLocation,
  action: GlueTableSummary['action'],
  metadataLocation: string | undefined,
  attempt: number,
): GlueTableSummary => ({
  table: table.table,
  name: table.name,
  action,
  format: view.format,
  location: view.location,
  ...(metadataLocation === undefined ? {} : { metadataLocation }),
  partitions: 0,
  created: 0,
  updated: 0,
  deleted: 0,
  retried: attempt - 1,
});

/**
 * The input that updates an existing table: refused when it is not ours or of another format;
 * parameters others added are kept; an Iceberg location newer than ours stays.
 */
function updatedInput(existing: Table, table: HiveTable, view: ViewLocation, where: string): TableInput {
  if (existing.Parameters?.[OCTA_TABLE_KEYS.table] === undefined) {
    throw new OctaError(
      'CONFLICT',
      `Glue table ${where} exists but was not made by octa-lake (no ${OCTA_TABLE_KEYS.table} property); drop it or sync into another database`,
      where,
    );
  }
  const registered = registeredFormat(existing);
  if (registered !== view.format) {
    throw new OctaError(
      'CONFLICT',
      `Glue table ${where} is registered with table format ${registered}; drop it to register it as ${view.format}, or sync into another database`,
      registered,
    );
  }
  let input: TableInput;
  if (view.format === 'iceberg') {
    const stored = existing.Parameters?.metadata_location;
    const previous = existing.Parameters?.previous_metadata_location;
    // Only a location in this table's own metadata directory can be newer (not one of an old --location).
    const ours = stored?.startsWith(`${view.location}metadata/`) === true;
    input =
      stored !== undefined && ours && (metadataVersionOf(stored) ?? -1) >= view.metadataVersion!
        ? formatTableInput(table, view, stored, previous)
        : formatTableInput(table, view, view.metadataLocation, stored ?? previous);
  } else {
    input = formatTableInput(table, view);
  }
  const kept = Object.entries(existing.Parameters ?? {}).filter(([key]) => !isOwnedParameter(key));
  input.Parameters = { ...Object.fromEntries(kept), ...input.Parameters };
  return input;
}
