/**
 * Where engines find a table's published open-table-format view (DESIGN §4), for Glue sync
 * (`glue-formats.ts`) and the DDL text (`format-ddl.ts`). Only the location is read here, never the
 * view's contents, which belong to the view writers:
 * - Iceberg: `<table>/metadata/version-hint.text` holds N, and the table's current metadata is
 *   `<table>/metadata/v<N>.metadata.json` (what Iceberg's file-system tables use).
 * - Delta Lake: the table is its directory, whose `_delta_log/` holds the commits and checkpoints.
 * A table whose view is missing is refused, naming `octa catalog publish`, which writes it.
 */
import { OctaError } from '../../../lattice/errors.js';
import type { Storage } from '../../storage/storage.js';
import { tableLocation } from './hive.js';
import type { TableFormat } from './table-view.js';

/** Where a table's view lives, as engines reach it. */
export interface ViewLocation {
  table: string;
  format: TableFormat;
  /** The table's directory below the lake URL, ending in `/`. */
  location: string;
  /** Iceberg: `<location>metadata/v<N>.metadata.json`, the table's current metadata file. */
  metadataLocation?: string;
  /** Iceberg: N, the metadata version `version-hint.text` names. */
  metadataVersion?: number;
}

/** The key of an Iceberg table's version hint. */
export const versionHintKey = (table: string): string => `${table}/metadata/version-hint.text`;

/** The key of an Iceberg table's metadata file of version `n`. */
export const metadataKey = (table: string, n: number): string => `${table}/metadata/v${n}.metadata.json`;

/** The version number of a `…/v<N>.metadata.json` location, or null for any other name. */
export function metadataVersionOf(location: string | undefined): number | null {
  const match = /\/v(\d+)\.metadata\.json$/.exec(location ?? '');
  return match === null ? null : Number(match[1]);
}

/** A Delta log entry that makes `_delta_log/` a table: a commit, a checkpoint or `_last_checkpoint`. */
const DELTA_LOG_ENTRY =
  /\/_delta_log\/(\d{20}\.json|\d{20}\.checkpoint(\.\d+\.\d+)?\.parquet|_last_checkpoint)$/;

const unpublished = (table: string, format: string, key: string) =>
  new OctaError(
    'NOT_FOUND',
    `table ${table} has no published ${format} view (no ${key}); run \`publishTables()\` on the lake first`,
    key,
    { params: ['publishTables()'] },
  );

/**
 * Finds a table's published view.
 * @param options.storage - the lake's storage, where the view is looked for
 * @param options.lake - the lake root as engines reach it (`s3://bucket/prefix`, `file:///path`)
 * @param options.table - the lake table
 * @param options.format - `iceberg` or `delta`
 * @returns the table location, and for Iceberg its current metadata file and version
 * @throws {OctaError} NOT_FOUND when the view is missing (the message names `octa catalog publish`);
 *   CORRUPT when `version-hint.text` is not a version number or names a metadata file that is
 *   missing; INVALID_ARGUMENT when `lake` is not an absolute URL
 */
export async function locateView({
  storage,
  lake,
  table,
  format,
}: {
  storage: Storage;
  lake: string;
  table: string;
  format: TableFormat;
}): Promise<ViewLocation> {
  const location = tableLocation(lake, table);
  if (format === 'delta') {
    const log = await storage.list(`${table}/_delta_log/`);
    if (!log.some((entry) => DELTA_LOG_ENTRY.test(entry.key))) {
      throw unpublished(table, 'Delta Lake', `${table}/_delta_log/`);
    }
    return { table, format, location };
  }
  const hint = versionHintKey(table);
  if ((await storage.stat(hint)) === null) throw unpublished(table, 'Iceberg', hint);
  const text = new TextDecoder().decode(await storage.read(hint)).trim();
  const version = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(version)) {
    throw new OctaError(
      'CORRUPT',
      `${hint} does not hold a metadata version number; run \`publishTables()\` to rewrite the Iceberg view`,
      text.slice(0, 64),
      { params: ['publishTables()'] },
    );
  }
  const key = metadataKey(table, version);
  if ((await storage.stat(key)) === null) {
    throw new OctaError(
      'CORRUPT',
      `${hint} names metadata version ${version}, but ${key} is missing; run \`verify()\` and \`publishTables()\``,
      key,
      { params: ['verify()', 'publishTables()'] },
    );
  }
  return {
    table,
    format,
    location,
    metadataLocation: `${location}metadata/v${version}.metadata.json`,
    metadataVersion: version,
  };
}
