/**
 * DDL text for engines that use a Hive metastore (DESIGN §4): the CREATE TABLE of a lake table and
 * the statements that register its partitions, for Athena, Hive, Spark and Trino. The table is the
 * one Glue sync publishes ({@link describeHiveTable}); only the dialect differs:
 * - Hive and Athena: `CREATE EXTERNAL TABLE … STORED AS PARQUET`, then `ALTER TABLE … ADD IF NOT
 *   EXISTS PARTITION (…) LOCATION '…'`, up to 100 partitions per statement. Identifiers in backticks
 *   (a backtick doubled), strings in single quotes with backslash escapes (Hive's literal syntax:
 *   doubling a quote would concatenate two literals).
 * - Spark: a data source table (`CREATE TABLE … USING PARQUET`), which needs no Hive support, with the
 *   partition columns last; partitions as for Hive.
 * - Trino (Hive connector): `CREATE TABLE … WITH (external_location, format, partitioned_by)` with the
 *   partition columns last, then one `CALL system.register_partition(…)` per partition. Identifiers in
 *   double quotes, strings in single quotes, each doubled inside.
 */
import { OctaError } from '../../../lattice/errors.js';
import type { CatalogSnapshot } from '../catalog.js';
import { DDL_ENGINES, type DdlEngine } from './ddl-engines.js';
import { describeHiveTable, type HiveColumn, type HiveTable, projectionProperties } from './hive.js';

export { DDL_ENGINES, type DdlEngine } from './ddl-engines.js';

/** Options of {@link hiveDdl}. */
export interface HiveDdlOptions {
  snapshot: CatalogSnapshot;
  /** The lake table. */
  table: string;
  /** The lake root as the engine reaches it (`s3://bucket/prefix`, `file:///path`, …). */
  lake: string;
  engine: DdlEngine;
  /** The table's name in the engine (default: the lake table's name in lower case); any text, quoted. */
  name?: string;
  /** Database (schema) to qualify the name with; Trino's default is `default`, the others' none. */
  database?: string;
  /** Athena only: add partition projection properties (see `projectionProperties`). */
  projection?: boolean;
  /** The current time, for the projection's time range (default now). */
  now?: Date;
}

/** Partitions per ALTER TABLE … ADD statement (statements stay far below Athena's 256 KiB query limit). */
export const PARTITIONS_PER_STATEMENT = 100;

const BAD_TEXT = /[\p{Cc}\p{Cs}]/u;

function checkText(what: string, text: string): string {
  if (BAD_TEXT.test(text)) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `${what} has a control character, which DDL text cannot carry`,
      text,
    );
  }
  return text;
}

/** A Hive/Spark/Athena identifier: in backticks, a backtick doubled. */
export function hiveIdent(name: string): string {
  return `\`${checkText('identifier', name).replaceAll('`', '``')}\``;
}

/** A Hive/Spark/Athena string literal: single quotes, backslash and quote escaped with a backslash. */
export function hiveString(text: string): string {
  return `'${checkText('string', text).replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** A Trino identifier: in double quotes, a double quote doubled. */
export function trinoIdent(name: string): string {
  return `"${checkText('identifier', name).replaceAll('"', '""')}"`;
}

/** A Trino string literal: single quotes, a quote doubled. */
export function trinoString(text: string): string {
  return `'${checkText('string', text).replaceAll("'", "''")}'`;
}

const TRINO_TYPES: Readonly<Record<string, string>> = {
  bigint: 'BIGINT',
  double: 'DOUBLE',
  int: 'INTEGER',
  boolean: 'BOOLEAN',
  string: 'VARCHAR',
  // The connector's default precision (milliseconds); the files hold microseconds.
  timestamp: 'TIMESTAMP',
};

/**
 * The DDL of a lake table for one engine: CREATE TABLE, then the statements registering the
 * partitions of its live files. Every name and string is quoted for the engine.
 * @param options - see {@link HiveDdlOptions}
 * @returns SQL text, statements ending in `;` and separated by a blank line
 * @throws {OctaError} NOT_FOUND for a table the snapshot lacks; INVALID_ARGUMENT for an unknown
 *   engine, projection for an engine other than Athena, or a name with a control character
 */
export function hiveDdl({
  snapshot,
  table,
  lake,
  engine,
  name,
  database,
  projection = false,
  now,
}: HiveDdlOptions): string {
  if (!DDL_ENGINES.includes(engine)) {
    throw new OctaError('INVALID_ARGUMENT', `engine must be one of ${DDL_ENGINES.join(', ')}`, engine);
  }
  if (projection && engine !== 'athena') {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'partition projection is an Athena feature; use `engine` athena',
      engine,
      { params: ['engine'] },
    );
  }
  const described = describeHiveTable({ snapshot, table, lake });
  const target = name ?? described.name;
  if (engine === 'trino') return trinoDdl(described, target, database ?? 'default');
  const properties = projection
    ? { ...described.parameters, ...projectionProperties({ table: described, ...(now ? { now } : {}) }) }
    : described.parameters;
  const qualified = (database === undefined ? '' : `${hiveIdent(database)}.`) + hiveIdent(target);
  return [
    engine === 'spark'
      ? sparkCreate(described, qualified, properties)
      : hiveCreate(described, qualified, properties),
    ...addPartitions(described, qualified),
  ].join('\n\n');
}

const hiveColumn = (c: HiveColumn) =>
  `${hiveIdent(c.name)} ${c.type.toUpperCase()}${c.comment === undefined ? '' : ` COMMENT ${hiveString(c.comment)}`}`;

const list = (items: string[]) => items.map((item, i) => `  ${item}${i < items.length - 1 ? ',' : ''}`);

const tblProperties = (properties: Record<string, string>) => [
  'TBLPROPERTIES (',
  ...list(Object.entries(properties).map(([k, v]) => `${hiveString(k)}=${hiveString(v)}`)),
  ')',
];

const tableComment = (table: HiveTable) =>
  `octa-lake table ${table.table}: BCC lattice points, partitioned by lod, t, r`;

function hiveCreate(table: HiveTable, qualified: string, properties: Record<string, string>): string {
  return [
    `CREATE EXTERNAL TABLE IF NOT EXISTS ${qualified} (`,
    ...list(table.columns.map(hiveColumn)),
    ')',
    `COMMENT ${hiveString(tableComment(table))}`,
    'PARTITIONED BY (',
    ...list(table.partitionKeys.map(hiveColumn)),
    ')',
    'STORED AS PARQUET',
    `LOCATION ${hiveString(table.location)}`,
    ...tblProperties(properties),
  ]
    .join('\n')
    .concat(';');
}

function sparkCreate(table: HiveTable, qualified: string, properties: Record<string, string>): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${qualified} (`,
    ...list([...table.columns, ...table.partitionKeys].map(hiveColumn)),
    ')',
    'USING PARQUET',
    `PARTITIONED BY (${table.partitionKeys.map((k) => hiveIdent(k.name)).join(', ')})`,
    `LOCATION ${hiveString(table.location)}`,
    `COMMENT ${hiveString(tableComment(table))}`,
    ...tblProperties(properties),
  ]
    .join('\n')
    .concat(';');
}

/** A partition spec: `lod` an integer literal, `t` and `r` strings. */
function partitionSpec(table: HiveTable, values: readonly string[]): string {
  const parts = table.partitionKeys.map((k, i) => {
    const value = values[i]!;
    return `${hiveIdent(k.name)}=${k.type === 'int' ? String(Number(value)) : hiveString(value)}`;
  });
  return `PARTITION (${parts.join(', ')})`;
}

function addPartitions(table: HiveTable, qualified: string): string[] {
  const out: string[] = [];
  for (let start = 0; start < table.partitions.length; start += PARTITIONS_PER_STATEMENT) {
    const chunk = table.partitions.slice(start, start + PARTITIONS_PER_STATEMENT);
    out.push(
      [
        `ALTER TABLE ${qualified} ADD IF NOT EXISTS`,
        ...chunk.map((p) => `  ${partitionSpec(table, p.values)} LOCATION ${hiveString(p.location)}`),
      ]
        .join('\n')
        .concat(';'),
    );
  }
  return out;
}

function trinoDdl(table: HiveTable, name: string, schema: string): string {
  const column = (c: HiveColumn) =>
    `${trinoIdent(c.name)} ${TRINO_TYPES[c.type]}${c.comment === undefined ? '' : ` COMMENT ${trinoString(c.comment)}`}`;
  const keys = `ARRAY[${table.partitionKeys.map((k) => trinoString(k.name)).join(', ')}]`;
  const create = [
    `CREATE TABLE IF NOT EXISTS ${trinoIdent(schema)}.${trinoIdent(name)} (`,
    ...list([...table.columns, ...table.partitionKeys].map(column)),
    ')',
    `COMMENT ${trinoString(tableComment(table))}`,
    'WITH (',
    ...list([
      `external_location = ${trinoString(table.location)}`,
      "format = 'PARQUET'",
      `partitioned_by = ${keys}`,
    ]),
    ')',
  ]
    .join('\n')
    .concat(';');
  const calls = table.partitions.map(
    (p) =>
      `CALL system.register_partition(schema_name => ${trinoString(schema)}, table_name => ${trinoString(name)}, ` +
      `partition_columns => ${keys}, partition_values => ARRAY[${p.values.map(trinoString).join(', ')}], ` +
      `location => ${trinoString(p.location)});`,
  );
  if (calls.length === 0) return create;
  const note = '-- register_partition needs hive.allow-register-partition-procedure=true in the Hive catalog';
  return [create, [note, ...calls].join('\n')].join('\n\n');
}
