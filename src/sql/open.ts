/**
 * `openLake`: an embedded DuckDB connection with one view per catalog table over exactly the
 * committed files (never a directory glob, so uncommitted or orphaned files are never read), the
 * Hive partition columns typed, and a view of the catalog's per-file records, `octa.files` (in a
 * schema of its own, so that no table can hide it) and `files` (unless a table has that name, which
 * new tables may not take but a lake written by an older octa-lake can have). A remote lake is read
 * through httpfs or the file cache ({@link LakeReader}, docs/SQL.md "Remote lakes").
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { decimalOf, type NamedPayloadType, type PayloadType } from '../export/schema.js';
import {
  type CatalogSnapshot,
  EmbeddedCatalog,
  liveFiles,
  type TableConfig,
} from '../lake/catalog/catalog.js';
import { type AsOf, checkAsOf, snapshotAsOf } from '../lake/catalog/time-travel.js';
import { openStorage } from '../lake/storage/open.js';
import type { Storage } from '../lake/storage/storage.js';
import { OctaError } from '../lattice/errors.js';
import { loadDuckDB } from './duckdb.js';
import { registerBccFunctions } from './functions.js';
import { quoteIdent, quoteLiteral } from './quote.js';
import { LakeReader, type RemoteRead } from './remote-read.js';
import type { S3Access } from './s3-access.js';

/** An open lake: a DuckDB connection with the lake's views, and the catalog state they show. */
export interface LakeSession {
  connection: DuckDBConnection;
  instance: DuckDBInstance;
  snapshot: CatalogSnapshot;
  storage: Storage;
  /** How the session reads the lake's files (in place, httpfs, or the file cache). */
  reader: LakeReader;
  /** Closes the connection and the database. */
  close(): void;
}

const PAYLOAD_SQL: Readonly<Record<NamedPayloadType, string>> = {
  float64: 'DOUBLE',
  int32: 'INTEGER',
  int64: 'BIGINT',
  uint64: 'UBIGINT',
  bool: 'BOOLEAN',
  utf8: 'VARCHAR',
  date: 'DATE',
  time_us: 'TIME',
  time_ns: 'TIME_NS',
  timestamp_us: 'TIMESTAMPTZ',
  local_timestamp_us: 'TIMESTAMP',
  local_timestamp_ns: 'TIMESTAMP_NS',
};
/** The schema of the catalog's own views, apart from the tables' (which live in `main`). */
export const CATALOG_SCHEMA = 'octa';
/** The catalog's view of every committed file; also `files` when no table has that name. */
export const CATALOG_VIEW = `${CATALOG_SCHEMA}.files`;

const BUCKET_SQL = { day: 'DATE', hour: 'VARCHAR', month: 'VARCHAR' } as const;

/** The DuckDB type of a payload type. */
function payloadSql(type: PayloadType): string {
  const decimal = decimalOf(type);
  return decimal === undefined
    ? PAYLOAD_SQL[type as NamedPayloadType]
    : `DECIMAL(${decimal.precision},${decimal.scale})`;
}

/** The SELECT behind a table's view. */
export function tableViewSql(config: TableConfig, paths: string[]): string {
  const t = BUCKET_SQL[config.timeBucket];
  if (paths.length === 0) {
    const cols = [
      'CAST(NULL AS BIGINT) AS cell',
      'CAST(NULL AS DOUBLE) AS x',
      'CAST(NULL AS DOUBLE) AS y',
      'CAST(NULL AS DOUBLE) AS z',
      'CAST(NULL AS TIMESTAMPTZ) AS time',
      ...config.payload.map((c) => `CAST(NULL AS ${payloadSql(c.type)}) AS ${quoteIdent(c.name)}`),
      'CAST(NULL AS INTEGER) AS lod',
      `CAST(NULL AS ${t}) AS t`,
      'CAST(NULL AS VARCHAR) AS r',
    ];
    return `SELECT ${cols.join(', ')} WHERE false`;
  }
  return `SELECT * FROM read_parquet([${paths.map(quoteLiteral).join(', ')}], hive_partitioning = true, hive_types = {'lod': INTEGER, 't': ${t}, 'r': VARCHAR})`;
}

/** Options of {@link openLake}. */
export interface OpenLakeOptions {
  /** The lake location (or give `storage`). */
  lake?: string;
  storage?: Storage;
  /** How to read a remote lake (default `auto`: httpfs when DuckDB can load it, else the file cache). */
  remoteRead?: RemoteRead;
  /** The file cache's directory (default `$OCTA_CACHE_DIR/<hash>` or `~/.cache/octa-lake/<hash>`). */
  cacheDir?: string;
  /** The file cache's size in bytes (default 2 GiB). */
  cacheMaxBytes?: number;
  /**
   * An `s3://` lake's endpoint (for `lake`) and what httpfs uses (default: the storage's, then the
   * AWS_* variables).
   */
  s3?: S3Access;
  /**
   * Which tables get views when the lake is read through the file cache, where a view's files are
   * downloaded when it is created: `all` (default), `none`, or the tables an SQL text names. Local
   * and httpfs lakes always get every view, since a view there costs nothing until it is read.
   */
  views?: 'all' | 'none' | { mentionedIn: string };
  /**
   * Install the `bcc_*` functions (default true). DuckDB binds typed macros when they are created,
   * which costs about 0.2 s; a session that only runs planner SQL (no `bcc_*` calls) skips it.
   */
  functions?: boolean;
  /**
   * Read the lake as it was at a past version (time travel): a version number, or a time (ISO 8601
   * text with a zone, a bare date meaning UTC midnight, or a `Date`) meaning the latest version
   * committed at or before it (see {@link AsOf}). The views list exactly that version's files, and
   * tables created later do not exist. Default: the latest version.
   */
  asOf?: AsOf;
}

/**
 * The tables an SQL text may read: those whose name appears in it as a word (any case). It errs
 * towards more tables (a name inside a string literal counts), never fewer.
 * @param sql - the query text
 * @param names - the lake's table names
 * @returns the names that appear
 */
export function tablesInSql(sql: string, names: Iterable<string>): string[] {
  return [...names].filter((name) => {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(^|[^\\p{L}\\p{N}_$])${escaped}($|[^\\p{L}\\p{N}_$])`, 'iu').test(sql);
  });
}

/**
 * Opens a lake for SQL.
 * @param options - `lake` or `storage`; for a remote lake `remoteRead`, the cache settings, `s3`
 *   and `views` (see {@link OpenLakeOptions})
 * @returns a session; call `close()` when done (in a finally)
 * @throws {OctaError} IO_ERROR or CORRUPT from the catalog; INVALID_ARGUMENT when `remoteRead` is
 *   `httpfs` and httpfs cannot be used, or the views' files are larger than the file cache;
 *   CORRUPT for a downloaded file that does not match its catalog record; with `asOf`,
 *   INVALID_ARGUMENT for a malformed one and NOT_FOUND for a version past the latest, a time before
 *   the first commit, or a version whose files vacuum has deleted (value `{ version, oldestReadable }`)
 */
export async function openLake(options: OpenLakeOptions): Promise<LakeSession> {
  return openSession(options, true);
}

/**
 * {@link openLake} without views, neither the tables' nor the catalog's: for the planner, whose SQL
 * reads the selected files by path. Creating views costs DuckDB a bind of each; a cold `octa query`
 * would spend a tenth of its time on views it never reads.
 * @param options - as {@link openLake}'s (`views` does not apply)
 * @returns a session without views; call `close()` when done
 */
export async function openLakeWithoutViews(
  options: Omit<OpenLakeOptions, 'views'>,
  alongside?: Alongside,
): Promise<LakeSession> {
  return openSession({ ...options, views: 'none' }, false, alongside);
}

/**
 * Work on the catalog that runs while DuckDB starts (its instance is created off the main thread),
 * e.g. checking the files a query will read; what it throws fails the opening.
 */
export type Alongside = (snapshot: CatalogSnapshot, storage: Storage) => Promise<void>;

/** {@link openLake}, with or without its views. */
async function openSession(
  {
    lake,
    storage,
    remoteRead = 'auto',
    cacheDir,
    cacheMaxBytes,
    s3,
    views = 'all',
    functions = true,
    asOf,
  }: OpenLakeOptions,
  withViews: boolean,
  alongside?: Alongside,
): Promise<LakeSession> {
  if (views !== 'all' && views !== 'none' && typeof views?.mentionedIn !== 'string') {
    throw new OctaError('INVALID_ARGUMENT', "views must be 'all', 'none' or { mentionedIn: sql }", views);
  }
  if (asOf !== undefined) checkAsOf(asOf);
  const store =
    storage ??
    (lake === undefined
      ? undefined
      : await openStorage(lake, s3?.endpoint === undefined ? {} : { s3Endpoint: s3.endpoint }));
  if (!store) throw new OctaError('INVALID_ARGUMENT', 'openLake needs a lake location or a storage');
  // A storage opened here is closed with the session (an S3 client's connections).
  const closeStore = () => {
    if (storage === undefined) store.close();
  };
  const read: { snapshot?: CatalogSnapshot } = {};
  let instance: DuckDBInstance;
  try {
    // The catalog is read, and `alongside` runs, while DuckDB loads and creates its instance (off
    // the main thread); errors keep their order: the catalog's, DuckDB's, then `alongside`'s.
    const reading = (async () => {
      const catalog = await EmbeddedCatalog.open({ storage: store });
      // A past version is only read: a session has no way to commit (it holds a snapshot and a
      // DuckDB database in memory whose views read files by path), whatever version it shows.
      read.snapshot = await (asOf === undefined ? catalog.snapshot() : snapshotAsOf(catalog, asOf));
      await alongside?.(read.snapshot, store);
    })();
    let create: Promise<DuckDBInstance>;
    try {
      // Loaded on demand: DuckDB's native binding is most of the root entry's import time otherwise.
      create = loadDuckDB().DuckDBInstance.create(':memory:');
    } catch (err) {
      create = Promise.reject(err);
    }
    const [created, side] = await Promise.allSettled([create, reading]);
    const fail = (reason: unknown) => {
      if (created.status === 'fulfilled') created.value.closeSync();
      throw reason;
    };
    if (side.status === 'rejected' && read.snapshot === undefined) fail(side.reason);
    if (created.status === 'rejected') throw created.reason;
    if (side.status === 'rejected') fail(side.reason);
    instance = created.value;
  } catch (err) {
    closeStore();
    throw err;
  }
  const snapshot = read.snapshot!;
  let connection: DuckDBConnection | undefined;
  let reader: LakeReader | undefined;
  try {
    connection = await instance.connect();
    reader = await LakeReader.create({
      storage: store,
      connection,
      remoteRead,
      ...(cacheDir === undefined ? {} : { cacheDir }),
      ...(cacheMaxBytes === undefined ? {} : { cacheMaxBytes }),
      ...(s3 === undefined ? {} : { s3 }),
    });
    if (functions) await registerBccFunctions(connection);
    // The lake is UTC (t= buckets, footers, catalog): so is the session, whatever the machine's zone,
    // so that CAST(time AS DATE) agrees with t and results do not depend on where they are run.
    await connection.run("SET TimeZone = 'UTC'");
    if (withViews) await createViews(connection, reader, snapshot, views);
  } catch (err) {
    reader?.close();
    connection?.closeSync();
    instance.closeSync();
    closeStore();
    throw err;
  }
  const conn = connection;
  const lakeReader = reader;
  return {
    connection: conn,
    instance,
    snapshot,
    storage: store,
    reader: lakeReader,
    close() {
      lakeReader.close();
      conn.closeSync();
      instance.closeSync();
      closeStore();
    },
  };
}

/** The views of {@link openLake}: the tables' (those `views` chooses, through the file cache) and the catalog's. */
async function createViews(
  connection: DuckDBConnection,
  reader: LakeReader,
  snapshot: CatalogSnapshot,
  views: NonNullable<OpenLakeOptions['views']>,
): Promise<void> {
  const names = [...snapshot.tables.keys()];
  const viewed =
    reader.mode !== 'cache' || views === 'all'
      ? names
      : views === 'none'
        ? []
        : tablesInSql(views.mentionedIn, names);
  // Through the cache, one ensure for all views: the size check and the downloads see them together.
  const files = viewed.flatMap((name) => liveFiles(snapshot, name));
  const held = await reader.hold(files);
  const pathOf = new Map(files.map((f, i) => [f.key, held[i]!]));
  for (const name of viewed) {
    const state = snapshot.tables.get(name)!;
    const paths = liveFiles(snapshot, name).map((f) => pathOf.get(f.key)!);
    await connection.run(`CREATE VIEW ${quoteIdent(name)} AS ${tableViewSql(state.config, paths)}`);
  }
  const rows: string[] = [];
  for (const name of snapshot.tables.keys()) {
    for (const f of liveFiles(snapshot, name)) {
      rows.push(
        `(${[f.table, f.key, f.t, f.r, f.sha256, f.timeMin, f.timeMax].map(quoteLiteral).join(', ')}, ${f.lod}, ${f.rows}, ${f.bytes}, ${f.cellMin}, ${f.cellMax}, ${f.bbox.join(', ')})`,
      );
    }
  }
  const cols =
    'table_name, key, t, r, sha256, time_min, time_max, lod, rows, bytes, cell_min, cell_max, min_x, min_y, min_z, max_x, max_y, max_z';
  await connection.run(`CREATE SCHEMA ${CATALOG_SCHEMA}`);
  await connection.run(
    rows.length === 0
      ? `CREATE VIEW ${CATALOG_VIEW} AS SELECT NULL::VARCHAR AS table_name, NULL::VARCHAR AS key, NULL::VARCHAR AS t, NULL::VARCHAR AS r, NULL::VARCHAR AS sha256, NULL::TIMESTAMPTZ AS time_min, NULL::TIMESTAMPTZ AS time_max, NULL::INTEGER AS lod, NULL::BIGINT AS rows, NULL::BIGINT AS bytes, NULL::BIGINT AS cell_min, NULL::BIGINT AS cell_max, NULL::DOUBLE AS min_x, NULL::DOUBLE AS min_y, NULL::DOUBLE AS min_z, NULL::DOUBLE AS max_x, NULL::DOUBLE AS max_y, NULL::DOUBLE AS max_z WHERE false`
      : `CREATE VIEW ${CATALOG_VIEW} AS SELECT table_name, key, t, r, sha256, time_min::TIMESTAMPTZ AS time_min, time_max::TIMESTAMPTZ AS time_max, lod::INTEGER AS lod, rows::BIGINT AS rows, bytes::BIGINT AS bytes, cell_min::BIGINT AS cell_min, cell_max::BIGINT AS cell_max, min_x, min_y, min_z, max_x, max_y, max_z FROM (VALUES ${rows.join(', ')}) AS v(${cols})`,
  );
  // SQL folds identifier case: a table named Files (any case) keeps the name, the catalog view
  // stays reachable as octa.files.
  if (!names.some((name) => name.toLowerCase() === 'files')) {
    await connection.run(`CREATE VIEW files AS SELECT * FROM ${CATALOG_VIEW}`);
  }
}
