/**
 * `openLake`: an embedded DuckDB connection with one view per catalog table over exactly the
 * committed files (never a directory glob, so uncommitted or orphaned files are never read), the
 * Hive partition columns typed, and a `files` view of the catalog's per-file records.
 */
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { type CatalogSnapshot, EmbeddedCatalog, liveFiles, type TableConfig } from '../lake/catalog.js';
import { openStorage } from '../lake/open.js';
import type { Storage } from '../lake/storage.js';
import { OctaError } from '../lattice/errors.js';
import { registerBccFunctions } from './functions.js';

/** An open lake: a DuckDB connection with the lake's views, and the catalog state they show. */
export interface LakeSession {
  connection: DuckDBConnection;
  instance: DuckDBInstance;
  snapshot: CatalogSnapshot;
  storage: Storage;
  /** Closes the connection and the database. */
  close(): void;
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes an SQL string literal. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

const PAYLOAD_SQL = {
  float64: 'DOUBLE',
  int32: 'INTEGER',
  int64: 'BIGINT',
  bool: 'BOOLEAN',
  utf8: 'VARCHAR',
} as const;
const BUCKET_SQL = { day: 'DATE', hour: 'VARCHAR', month: 'VARCHAR' } as const;

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
      ...config.payload.map((c) => `CAST(NULL AS ${PAYLOAD_SQL[c.type]}) AS ${quoteIdent(c.name)}`),
      'CAST(NULL AS INTEGER) AS lod',
      `CAST(NULL AS ${t}) AS t`,
      'CAST(NULL AS VARCHAR) AS r',
    ];
    return `SELECT ${cols.join(', ')} WHERE false`;
  }
  return `SELECT * FROM read_parquet([${paths.map(quoteLiteral).join(', ')}], hive_partitioning = true, hive_types = {'lod': INTEGER, 't': ${t}, 'r': VARCHAR})`;
}

/**
 * Opens a lake for SQL.
 * @param options.lake - the lake directory (or give `storage`)
 * @returns a session; call `close()` when done (in a finally)
 * @throws {OctaError} IO_ERROR or CORRUPT from the catalog
 */
export async function openLake({
  lake,
  storage,
}: {
  lake?: string;
  storage?: Storage;
}): Promise<LakeSession> {
  const store = storage ?? (lake === undefined ? undefined : await openStorage(lake));
  if (!store) throw new OctaError('INVALID_ARGUMENT', 'openLake needs a lake location or a storage');
  const catalog = await EmbeddedCatalog.open({ storage: store });
  const snapshot = await catalog.snapshot();
  const instance = await DuckDBInstance.create(':memory:');
  let connection: DuckDBConnection | undefined;
  try {
    connection = await instance.connect();
    await registerBccFunctions(connection);
    // The lake is UTC (t= buckets, footers, catalog): so is the session, whatever the machine's zone,
    // so that CAST(time AS DATE) agrees with t and results do not depend on where they are run.
    await connection.run("SET TimeZone = 'UTC'");
    for (const [name, state] of snapshot.tables) {
      const paths = liveFiles(snapshot, name).map((f) => {
        const p = store.localPath(f.key);
        if (p === null)
          throw new OctaError('INVALID_ARGUMENT', 'this lake has no local files to read', store.url);
        return p;
      });
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
    await connection.run(
      rows.length === 0
        ? `CREATE VIEW files AS SELECT NULL::VARCHAR AS table_name, NULL::VARCHAR AS key, NULL::VARCHAR AS t, NULL::VARCHAR AS r, NULL::VARCHAR AS sha256, NULL::TIMESTAMPTZ AS time_min, NULL::TIMESTAMPTZ AS time_max, NULL::INTEGER AS lod, NULL::BIGINT AS rows, NULL::BIGINT AS bytes, NULL::BIGINT AS cell_min, NULL::BIGINT AS cell_max, NULL::DOUBLE AS min_x, NULL::DOUBLE AS min_y, NULL::DOUBLE AS min_z, NULL::DOUBLE AS max_x, NULL::DOUBLE AS max_y, NULL::DOUBLE AS max_z WHERE false`
        : `CREATE VIEW files AS SELECT table_name, key, t, r, sha256, time_min::TIMESTAMPTZ AS time_min, time_max::TIMESTAMPTZ AS time_max, lod::INTEGER AS lod, rows::BIGINT AS rows, bytes::BIGINT AS bytes, cell_min::BIGINT AS cell_min, cell_max::BIGINT AS cell_max, min_x, min_y, min_z, max_x, max_y, max_z FROM (VALUES ${rows.join(', ')}) AS v(${cols})`,
    );
  } catch (err) {
    connection?.closeSync();
    instance.closeSync();
    throw err;
  }
  const conn = connection;
  return {
    connection: conn,
    instance,
    snapshot,
    storage: store,
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
