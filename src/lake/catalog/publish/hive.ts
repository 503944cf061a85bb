/**
 * A lake table as engines with a Hive metastore see it (DESIGN §4): Hive column types, the
 * partition keys `lod`, `t`, `r`, the table and partition locations, and `octa.*` table properties.
 * Glue sync (`glue.ts`) and the DDL text (`hive-ddl.ts`) are both built from {@link describeHiveTable},
 * so what Glue stores and what a CREATE TABLE says never drift apart.
 *
 * Names are folded to lower case: Hive metastores and Glue store them so, and Athena, Trino and
 * Spark match Parquet columns by name case-insensitively; the point schema already refuses names
 * that differ only in case.
 */
import {
  type ColumnType,
  createPointSchema,
  decimalOf,
  type NamedPayloadType,
  POINT_SCHEMA_VERSION,
} from '../../../export/schema.js';
import { OctaError } from '../../../lattice/errors.js';
import { frameToJSON } from '../../../lattice/frame.js';
import { type CatalogSnapshot, liveFiles, type TableConfig } from '../catalog.js';
import { bucketIndex, bucketLabel, parseBucketLabel, rangeLabel, type TimeBucket } from '../layout.js';

/** Hive's Parquet SerDe and formats: what `STORED AS PARQUET` expands to. */
export const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
export const PARQUET_INPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
export const PARQUET_OUTPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat';

/** One column in Hive terms (`type` is a Hive type name, lower case, as Glue stores it). */
export interface HiveColumn {
  name: string;
  type: string;
  comment?: string;
}

/**
 * The partition keys, in path order. `lod` is an int (one value per table, so equality prunes);
 * `t` and `r` are strings whose text order is time order and id order.
 */
export const PARTITION_KEYS: readonly HiveColumn[] = Object.freeze([
  { name: 'lod', type: 'int', comment: 'level of detail of every cell id' },
  { name: 't', type: 'string', comment: 'UTC time bucket of the event time' },
  { name: 'r', type: 'string', comment: 'id range: its lower bound, 16 hex digits of the unsigned id' },
]);

/**
 * Hive types of the column model. `cell` is BIGINT holding the raw 64 id bits (DESIGN §2): no engine
 * reads UINT64 well. `time` is TIMESTAMP: the files store INT64 TIMESTAMP(MICROS, UTC), which
 * Athena, Trino and Spark read as a timestamp (Athena and Trino to the millisecond).
 */
const HIVE_TYPES: Readonly<Record<NamedPayloadType, string>> = {
  float64: 'double',
  int32: 'int',
  int64: 'bigint',
  // Hive has no unsigned integers; Trino and Athena read Parquet UINT_64 as DECIMAL(20,0).
  uint64: 'decimal(20,0)',
  bool: 'boolean',
  utf8: 'string',
  date: 'date',
  // Hive has no TIME type: the INT64 count since midnight (µs or ns) is what these engines see.
  time_us: 'bigint',
  time_ns: 'bigint',
  timestamp_us: 'timestamp',
  local_timestamp_us: 'timestamp',
  local_timestamp_ns: 'timestamp',
};

/** Table property keys octa-lake writes (besides `classification` and `parquet.compression`). */
export const OCTA_TABLE_KEYS = Object.freeze({
  table: 'octa.table',
  frame: 'octa.frame',
  lod: 'octa.lod',
  idKind: 'octa.id_kind',
  timeBucket: 'octa.time_bucket',
  schemaVersion: 'octa.schema_version',
} as const);

/** One partition: its values in key order and its directory. */
export interface HivePartition {
  /** `[lod, t, r]` as text, the order of {@link PARTITION_KEYS}. */
  values: [string, string, string];
  /** `<table location>lod=<L>/t=<t>/r=<r>/`. */
  location: string;
  /** Live files and rows in the partition, per the catalog. */
  files: number;
  rows: number;
}

/** A lake table in Hive terms. */
export interface HiveTable {
  /** The lake table's name. */
  table: string;
  /** The name in the metastore: the table name folded to lower case. */
  name: string;
  /** The table's directory, ending in `/`. */
  location: string;
  columns: HiveColumn[];
  partitionKeys: HiveColumn[];
  /** Table properties: `classification`, `parquet.compression` and the `octa.*` keys. */
  parameters: Record<string, string>;
  /** Distinct partitions of the live files, sorted by values. */
  partitions: HivePartition[];
  config: TableConfig;
}

/**
 * The Hive type of a column type of the point model.
 * @param type - a column type
 * @returns the lower-case Hive type name
 */
export function columnTypeToHive(type: ColumnType): string {
  // decimal(p,s) is already Hive's spelling.
  return decimalOf(type) === undefined ? HIVE_TYPES[type as NamedPayloadType] : type;
}

/**
 * The directory of a table below a lake root URL, ending in `/`.
 * @param lake - the lake root as engines reach it: `s3://bucket/prefix`, `file:///abs/path`, ...
 * @param table - the lake table's name
 * @returns e.g. `s3://bucket/prefix/pts/`
 * @throws {OctaError} INVALID_ARGUMENT when `lake` is not an absolute URL
 */
export function tableLocation(lake: string, table: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/./i.test(lake) || /[\p{Cc}\p{Cs}]/u.test(lake)) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'the lake location must be an absolute URL such as s3://bucket/prefix or file:///path',
      lake,
    );
  }
  return `${lake.replace(/\/+$/, '')}/${table}/`;
}

/** The Hive columns of a table: the required columns, then the payload, names folded to lower case. */
function hiveColumns(config: TableConfig): HiveColumn[] {
  const idKind = config.idKind === 'hilbert64' ? 'Hilbert64' : 'Index64';
  const comments: Record<string, string> = {
    cell: `${idKind} cell id: the raw 64 bits as a signed integer`,
    x: 'x in frame metres',
    y: 'y in frame metres',
    z: 'z in frame metres',
    time: 'event time (UTC)',
  };
  return createPointSchema({ payload: config.payload }).columns.map((c) => {
    const column: HiveColumn = { name: c.name.toLowerCase(), type: columnTypeToHive(c.type) };
    const comment = comments[c.name];
    if (comment !== undefined) column.comment = comment;
    return column;
  });
}

/**
 * The table properties octa-lake sets: what the files are, and the `octa.*` settings of the table.
 * @param config - the table's config
 * @returns string keys and values
 */
export function tableProperties(config: TableConfig): Record<string, string> {
  return {
    classification: 'parquet',
    'parquet.compression': 'ZSTD',
    [OCTA_TABLE_KEYS.table]: config.name,
    [OCTA_TABLE_KEYS.frame]: frameToJSON(config.frame),
    [OCTA_TABLE_KEYS.lod]: String(config.lod),
    [OCTA_TABLE_KEYS.idKind]: config.idKind,
    [OCTA_TABLE_KEYS.timeBucket]: config.timeBucket,
    [OCTA_TABLE_KEYS.schemaVersion]: String(POINT_SCHEMA_VERSION),
  };
}

/**
 * Describes a catalog table for a Hive metastore.
 * @param options.snapshot - the catalog state to describe
 * @param options.table - the lake table's name
 * @param options.lake - the lake root URL as engines reach it (e.g. the storage's `url`)
 * @returns columns, partition keys, locations, properties and the partitions of the live files
 * @throws {OctaError} NOT_FOUND for a table the snapshot does not have; INVALID_ARGUMENT for a lake
 *   location that is not an absolute URL
 */
export function describeHiveTable({
  snapshot,
  table,
  lake,
}: {
  snapshot: CatalogSnapshot;
  table: string;
  lake: string;
}): HiveTable {
  const files = liveFiles(snapshot, table);
  const config = snapshot.tables.get(table)!.config;
  const location = tableLocation(lake, table);
  const byValues = new Map<string, HivePartition>();
  for (const file of files) {
    const values: [string, string, string] = [String(file.lod), file.t, file.r];
    const key = values.join('/');
    let partition = byValues.get(key);
    if (partition === undefined) {
      partition = {
        values,
        location: `${location}lod=${values[0]}/t=${values[1]}/r=${values[2]}/`,
        files: 0,
        rows: 0,
      };
      byValues.set(key, partition);
    }
    partition.files += 1;
    partition.rows += file.rows;
  }
  const partitions = [...byValues.values()].sort((a, b) => compareValues(a.values, b.values));
  return {
    table,
    name: table.toLowerCase(),
    location,
    columns: hiveColumns(config),
    partitionKeys: PARTITION_KEYS.map((k) => ({ ...k })),
    parameters: tableProperties(config),
    partitions,
    config,
  };
}

/** Orders partition values by LOD (numerically), then time bucket, then range. */
export function compareValues(a: readonly string[], b: readonly string[]): number {
  const lod = Number(a[0]) - Number(b[0]);
  if (lod !== 0) return lod;
  for (let i = 1; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Java DateTimeFormatter patterns of the bucket labels (`layout.ts`), and Athena's interval unit. */
const BUCKET_PROJECTION: Readonly<Record<TimeBucket, { format: string; unit: string }>> = {
  hour: { format: "yyyy-MM-dd'T'HH", unit: 'HOURS' },
  day: { format: 'yyyy-MM-dd', unit: 'DAYS' },
  month: { format: 'yyyy-MM', unit: 'MONTHS' },
};

/**
 * Athena partition projection properties for a table, so that Athena computes partitions instead of
 * listing them: `lod` an integer range of the table's one LOD; `t` a date range in the bucket's own
 * format from the first bucket to `NOW` (or to the last bucket when data lies in the future), so new
 * buckets are found without a sync; `r` an enum of the current range labels (ranges change only by
 * a commit, and a sync rewrites the list); the location template follows the lake layout.
 * @param options.table - the described table
 * @param options.now - the current time (default: now), only to see whether data lies in the future
 * @returns the `projection.*` and `storage.location.template` properties
 */
export function projectionProperties({
  table,
  now = new Date(),
}: {
  table: HiveTable;
  now?: Date;
}): Record<string, string> {
  const { config, partitions, location } = table;
  const { format, unit } = BUCKET_PROJECTION[config.timeBucket];
  const bucketAt = (ms: number) => bucketLabel(bucketIndex(ms * 1000, config.timeBucket), config.timeBucket);
  // In bucket order, padded: a lake written before labels had four-digit years may hold `500-06-15`.
  const labels = partitions
    .map((p) => parseBucketLabel(p.values[1], config.timeBucket))
    .filter((index): index is number => index !== null)
    .sort((a, b) => a - b)
    .map((index) => bucketLabel(index, config.timeBucket));
  const created = Date.parse(config.createdAt);
  const first = labels[0] ?? bucketAt(Number.isNaN(created) ? now.getTime() : created);
  const last = labels[labels.length - 1];
  const end = last !== undefined && last > bucketAt(now.getTime()) ? last : 'NOW';
  // Files written before a rebalance keep their old range until compacted: list those labels too.
  const ranges = [
    ...new Set([
      ...[null, ...config.splits.map((s) => BigInt(s))].map(rangeLabel),
      ...partitions.map((p) => p.values[2]),
    ]),
  ].sort();
  return {
    'projection.enabled': 'true',
    'projection.lod.type': 'integer',
    'projection.lod.range': `${config.lod},${config.lod}`,
    'projection.t.type': 'date',
    'projection.t.format': format,
    'projection.t.range': `${first},${end}`,
    'projection.t.interval': '1',
    'projection.t.interval.unit': unit,
    'projection.r.type': 'enum',
    'projection.r.values': ranges.join(','),
    'storage.location.template': `${location}lod=\${lod}/t=\${t}/r=\${r}/`,
  };
}
