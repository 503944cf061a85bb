/**
 * The statements an engine runs to read a table's published Iceberg or Delta Lake view (DESIGN §4),
 * with the table's real location (`view-location.ts`). Per engine (docs/TABLE-FORMATS.md names the
 * documentation page each statement was checked against):
 * - Athena: Delta Lake by `CREATE EXTERNAL TABLE … LOCATION … TBLPROPERTIES ('table_type'='DELTA')`;
 *   Iceberg has no registering statement in Athena, so the text says to register it in Glue with
 *   `octa catalog sync --format iceberg` and gives the query.
 * - Trino: the connectors' `system.register_table` procedures (Iceberg with the metadata file's name).
 * - Spark: Iceberg's `system.register_table` procedure; Delta Lake's `CREATE TABLE … USING DELTA LOCATION`.
 * - Snowflake: an external volume on the lake, a catalog integration for files in object storage
 *   (`TABLE_FORMAT = ICEBERG` or `DELTA`), then `CREATE ICEBERG TABLE` from the metadata file or the
 *   Delta table's directory.
 * - DuckDB: a view over `iceberg_scan('…metadata.json')` or `delta_scan('…')`.
 */
import { fileURLToPath } from 'node:url';
import { OctaError } from '../../../lattice/errors.js';
import type { Storage } from '../../storage/storage.js';
import { type CatalogSnapshot, liveFiles } from '../catalog.js';
import { FORMAT_DDL_ENGINES, type FormatDdlEngine } from './ddl-engines.js';
import { hiveIdent, hiveString, trinoIdent, trinoString } from './hive-ddl.js';
import { TABLE_FORMATS, type TableFormat } from './table-view.js';
import { locateView, type ViewLocation } from './view-location.js';

export {
  FORMAT_DDL_ENGINES,
  type FormatDdlEngine,
  GLUE_FORMATS,
  type GlueFormat,
} from './ddl-engines.js';

/** Options of {@link formatDdl}. */
export interface FormatDdlOptions {
  /** The lake's storage, where the view is found. */
  storage: Storage;
  /** The catalog state (the table must be in it). */
  snapshot: CatalogSnapshot;
  /** The lake table. */
  table: string;
  /** The lake root as the engine reaches it (`s3://bucket/prefix`, `file:///path`, …). */
  lake: string;
  format: TableFormat;
  engine: FormatDdlEngine;
  /** The table's name in the engine (default: the lake table's name in lower case); any text, quoted. */
  name?: string;
  /** Database (schema) to qualify the name with; Trino's and Spark's Iceberg default is `default`. */
  database?: string;
}

/** What an engine's statements are built from. */
interface Target {
  view: ViewLocation;
  /** The table's directory without the trailing `/`. */
  dir: string;
  name: string;
  database: string | undefined;
  /** The lake root, ending in `/`. */
  root: string;
}

/** Engines that read only from S3 (Athena; Snowflake's external volume as written here). */
const S3_ONLY: readonly FormatDdlEngine[] = ['athena', 'snowflake'];

/**
 * The statements that make an engine read a table's published Iceberg or Delta Lake view.
 * @param options - see {@link FormatDdlOptions}
 * @returns SQL text: comments (`--`) and statements ending in `;`, separated by blank lines
 * @throws {OctaError} INVALID_ARGUMENT for an unknown format or engine, a lake that is not on S3 for
 *   Athena or Snowflake, or a name with a control character; NOT_FOUND for a table the snapshot
 *   lacks, or one without a published view (the message names `octa catalog publish`); CORRUPT for
 *   an Iceberg version hint that names no metadata file
 */
export async function formatDdl({
  storage,
  snapshot,
  table,
  lake,
  format,
  engine,
  name,
  database,
}: FormatDdlOptions): Promise<string> {
  if (!TABLE_FORMATS.includes(format)) {
    throw new OctaError('INVALID_ARGUMENT', `format must be one of ${TABLE_FORMATS.join(', ')}`, format);
  }
  if (!FORMAT_DDL_ENGINES.includes(engine)) {
    throw new OctaError('INVALID_ARGUMENT', `engine must be one of ${FORMAT_DDL_ENGINES.join(', ')}`, engine);
  }
  liveFiles(snapshot, table); // NOT_FOUND, naming the catalog's tables, for a table it lacks
  if (S3_ONLY.includes(engine) && !/^s3:\/\//i.test(lake)) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `${engine === 'athena' ? 'Athena' : 'Snowflake'} reads the lake from S3: give the lake's s3://bucket/prefix as \`lake\``,
      lake,
      { params: ['lake'] },
    );
  }
  const view = await locateView({ storage, lake, table, format });
  const target: Target = {
    view,
    dir: view.location.replace(/\/$/, ''),
    name: name ?? table.toLowerCase(),
    database,
    root: `${lake.replace(/\/+$/, '')}/`,
  };
  const write = format === 'iceberg' ? ICEBERG[engine] : DELTA[engine];
  return write(target).join('\n\n');
}

type Writer = (t: Target) => string[];

/** `db`.`name` for Hive-dialect engines (Athena DDL, Spark). */
const hiveName = (t: Target) =>
  (t.database === undefined ? '' : `${hiveIdent(t.database)}.`) + hiveIdent(t.name);
/** "db"."name" for engines with standard identifiers (Athena queries, Snowflake, DuckDB). */
const quotedName = (t: Target) =>
  (t.database === undefined ? '' : `${trinoIdent(t.database)}.`) + trinoIdent(t.name);

/** A Snowflake string literal: escaped as Hive's, a backslash and a quote with a backslash. */
const snowString = hiveString;

/** The location DuckDB opens: a local path for a `file:` lake, the URL otherwise. */
const duckPath = (url: string) => (/^file:\/\//i.test(url) ? fileURLToPath(url) : url);

const EXTERNAL_VOLUME = 'octa_lake';

function snowflakeVolume(t: Target): string {
  return [
    '-- Snowflake reads the lake through an external volume. Set the IAM role Snowflake assumes',
    '-- (Snowflake docs: "Configure an external volume for Amazon S3"); the lake is read only.',
    `CREATE EXTERNAL VOLUME IF NOT EXISTS ${EXTERNAL_VOLUME}`,
    '  STORAGE_LOCATIONS = ((',
    `    NAME = ${snowString(EXTERNAL_VOLUME)}`,
    "    STORAGE_PROVIDER = 'S3'",
    `    STORAGE_BASE_URL = ${snowString(t.root)}`,
    "    STORAGE_AWS_ROLE_ARN = '<the IAM role ARN Snowflake assumes>'",
    '  ))',
    '  ALLOW_WRITES = FALSE;',
  ].join('\n');
}

/** The path below the lake root (the external volume's base URL) of a location. */
const relative = (t: Target, location: string) => location.slice(t.root.length);

/**
 * Snowflake's three statements: the external volume, a catalog integration for files of `format` in
 * object storage, and the Iceberg table that reads them from `source` (the metadata file or the
 * Delta table's directory).
 */
function snowflakeTable(t: Target, format: 'ICEBERG' | 'DELTA', source: string): string[] {
  const integration = `octa_${format.toLowerCase()}_files`;
  return [
    snowflakeVolume(t),
    [
      `CREATE CATALOG INTEGRATION IF NOT EXISTS ${integration}`,
      '  CATALOG_SOURCE = OBJECT_STORE',
      `  TABLE_FORMAT = ${format}`,
      '  ENABLED = TRUE;',
    ].join('\n'),
    [
      `CREATE ICEBERG TABLE IF NOT EXISTS ${quotedName(t)}`,
      `  EXTERNAL_VOLUME = ${snowString(EXTERNAL_VOLUME)}`,
      `  CATALOG = ${snowString(integration)}`,
      `  ${source};`,
    ].join('\n'),
  ];
}

const duckdbSecret = (t: Target) =>
  /^s3:\/\//i.test(t.root)
    ? ['-- an s3:// lake: INSTALL httpfs; LOAD httpfs; CREATE SECRET (TYPE s3, PROVIDER credential_chain);']
    : [];

const ICEBERG: Readonly<Record<FormatDdlEngine, Writer>> = {
  athena: (t) => [
    [
      '-- Athena reads an Iceberg table through its AWS Glue entry and has no statement that registers',
      '-- existing Iceberg metadata. Register the table in Glue, and again after each publish, with:',
      `--   octa catalog sync --format iceberg --glue-database ${t.database ?? '<database>'} --table ${t.view.table}`,
      `-- which points metadata_location at ${t.view.metadataLocation}`,
      '-- Then query it:',
      `SELECT count(*) FROM ${quotedName(t)};`,
    ].join('\n'),
  ],
  trino: (t) => [
    [
      '-- Trino Iceberg connector, catalog `iceberg` with iceberg.register-table-procedure.enabled=true.',
      `-- This pins metadata v${t.view.metadataVersion}: after a publish, unregister_table and register again, or`,
      '-- use a catalog of type glue kept current by `octa catalog sync --format iceberg`.',
      `CALL iceberg.system.register_table(schema_name => ${trinoString(t.database ?? 'default')}, ` +
        `table_name => ${trinoString(t.name)}, table_location => ${trinoString(t.dir)}, ` +
        `metadata_file_name => ${trinoString(`v${t.view.metadataVersion}.metadata.json`)});`,
    ].join('\n'),
  ],
  spark: (t) => [
    [
      '-- Spark with the Iceberg runtime and SQL extensions, catalog `spark_catalog` an Iceberg catalog.',
      '-- This pins the metadata file: after a publish, register the new one (octa catalog ddl prints it).',
      `CALL spark_catalog.system.register_table(table => ${hiveString(`${t.database ?? 'default'}.${t.name}`)}, ` +
        `metadata_file => ${hiveString(t.view.metadataLocation!)});`,
    ].join('\n'),
  ],
  snowflake: (t) => [
    ...snowflakeTable(
      t,
      'ICEBERG',
      `METADATA_FILE_PATH = ${snowString(relative(t, t.view.metadataLocation!))}`,
    ),
    `-- after a publish: ALTER ICEBERG TABLE ${quotedName(t)} REFRESH ${snowString(relative(t, `${t.view.location}metadata/v<N>.metadata.json`))};`,
  ],
  duckdb: (t) => [
    ['INSTALL iceberg;', 'LOAD iceberg;', ...duckdbSecret(t)].join('\n'),
    `CREATE OR REPLACE VIEW ${quotedName(t)} AS SELECT * FROM iceberg_scan(${trinoString(duckPath(t.view.metadataLocation!))});`,
  ],
};

const DELTA: Readonly<Record<FormatDdlEngine, Writer>> = {
  athena: (t) => [
    [
      `CREATE EXTERNAL TABLE ${hiveName(t)}`,
      `LOCATION ${hiveString(t.view.location)}`,
      "TBLPROPERTIES ('table_type' = 'DELTA');",
    ].join('\n'),
  ],
  trino: (t) => [
    [
      '-- Trino Delta Lake connector, catalog `delta` with delta.register-table-procedure.enabled=true.',
      `CALL delta.system.register_table(schema_name => ${trinoString(t.database ?? 'default')}, ` +
        `table_name => ${trinoString(t.name)}, table_location => ${trinoString(t.dir)});`,
    ].join('\n'),
  ],
  spark: (t) => [
    [
      '-- Spark with Delta Lake (io.delta.sql.DeltaSparkSessionExtension, DeltaCatalog as spark_catalog).',
      `CREATE TABLE IF NOT EXISTS ${hiveName(t)} USING DELTA LOCATION ${hiveString(t.dir)};`,
    ].join('\n'),
  ],
  snowflake: (t) => [
    ...snowflakeTable(t, 'DELTA', `BASE_LOCATION = ${snowString(relative(t, t.view.location))}`),
    `-- after a publish: ALTER ICEBERG TABLE ${quotedName(t)} REFRESH;`,
  ],
  duckdb: (t) => [
    ['INSTALL delta;', 'LOAD delta;', ...duckdbSecret(t)].join('\n'),
    `CREATE OR REPLACE VIEW ${quotedName(t)} AS SELECT * FROM delta_scan(${trinoString(duckPath(t.dir))});`,
  ],
};
