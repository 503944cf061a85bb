/**
 * The column model of a point table: five required columns that every file carries, then the
 * caller's payload columns. The same descriptor drives the in-memory container, the Arrow schema and
 * the Parquet file, so a name or type is decided once, here.
 *
 * | column | Arrow / Parquet                     | null | meaning                                  |
 * |--------|-------------------------------------|------|------------------------------------------|
 * | cell   | Int64 / INT64                       | no   | raw 64 id bits, signed (two's complement) |
 * | x y z  | Float64 / DOUBLE                    | no   | exact point in frame metres              |
 * | time   | Timestamp(us, UTC) / TIMESTAMP_MICROS | no | event time; partitions are time buckets  |
 * | …      | see PAYLOAD_TYPES below             | yes  | payload                                  |
 *
 * `time` is required because every row lands in a time-bucket partition; a row without a time has no
 * home in the lake.
 */
import { OctaError } from '../lattice/errors.js';

/** Version of this column model, written to every file as `octa.schema_version`. */
export const POINT_SCHEMA_VERSION = 1;

/**
 * Types a payload column may have, each stored as the Arrow and Parquet type a reader expects:
 *
 * | type               | Arrow                  | Parquet                         | DuckDB       |
 * |--------------------|------------------------|---------------------------------|--------------|
 * | float64            | Float64                | DOUBLE                          | DOUBLE       |
 * | int32              | Int32                  | INT32                           | INTEGER      |
 * | int64              | Int64                  | INT64                           | BIGINT       |
 * | uint64             | Uint64                 | INT64 (UINT_64)                 | UBIGINT      |
 * | bool               | Bool                   | BOOLEAN                         | BOOLEAN      |
 * | utf8               | Utf8                   | BYTE_ARRAY (STRING)             | VARCHAR      |
 * | date               | Date32 (days)          | INT32 (DATE)                    | DATE         |
 * | time_us            | Time64(µs)             | INT64 (TIME, MICROS)            | TIME         |
 * | time_ns            | Time64(ns)             | INT64 (TIME, NANOS)             | TIME_NS      |
 * | timestamp_us       | Timestamp(µs, "UTC")   | INT64 (TIMESTAMP, MICROS, UTC)  | TIMESTAMPTZ  |
 * | local_timestamp_us | Timestamp(µs)          | INT64 (TIMESTAMP, MICROS, local)| TIMESTAMP    |
 * | local_timestamp_ns | Timestamp(ns)          | INT64 (TIMESTAMP, NANOS, local) | TIMESTAMP_NS |
 * | decimal(p,s)       | Decimal128(p, s)       | INT32/INT64 (DECIMAL(p,s))      | DECIMAL(p,s) |
 *
 * uint64 values are held as the raw 64 bits in a BigInt64Array, times as integers since midnight,
 * timestamps as integers since 1970-01-01T00:00:00 (UTC for `timestamp_us`) and decimals as their
 * unscaled integer (value × 10^s), which fits 64 bits for the precisions 1–18 a payload may have.
 */
export type PayloadType = NamedPayloadType | DecimalType;

/** A decimal payload type, `decimal(p,s)` with precision 1–18 and scale 0–p. */
export type DecimalType = `decimal(${number},${number})`;

/** The largest decimal precision a payload column may have: its unscaled values fit an int64. */
export const MAX_DECIMAL_PRECISION = 18;
const DECIMAL = /^decimal\((\d{1,2}),(\d{1,2})\)$/;

/**
 * The precision and scale of a decimal type.
 * @param type - a payload type
 * @returns them, or undefined when the type is not a valid decimal type
 */
export function decimalOf(type: string): { precision: number; scale: number } | undefined {
  const m = DECIMAL.exec(type);
  if (m === null) return undefined;
  const precision = Number(m[1]);
  const scale = Number(m[2]);
  return precision >= 1 && precision <= MAX_DECIMAL_PRECISION && scale <= precision
    ? { precision, scale }
    : undefined;
}

/** Payload types other than decimals. */
export type NamedPayloadType =
  | 'float64'
  | 'int32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'utf8'
  | 'date'
  | 'time_us'
  | 'time_ns'
  | 'timestamp_us'
  | 'local_timestamp_us'
  | 'local_timestamp_ns';
/** Every column type of the model: the payload types (the event time `time` is `timestamp_us`). */
export type ColumnType = PayloadType;

/** One column of a point table. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
}

/** A payload column as a caller declares it; payload columns are always nullable. */
export interface PayloadColumn {
  readonly name: string;
  readonly type: PayloadType;
}

/**
 * The field id of the column at `index` (0-based) of a point schema: lake files carry it as the
 * Parquet field id of that column, and the Iceberg view declares the same ids (cell 1, x 2, y 3,
 * z 4, time 5, payload from 6), so engines that resolve columns by id find them.
 */
export function columnFieldId(index: number): number {
  return index + 1;
}

/** A validated, frozen schema: the required columns first, then the payload in declared order. */
export interface PointSchema {
  readonly version: number;
  readonly columns: readonly ColumnSpec[];
  readonly payload: readonly PayloadColumn[];
}

/** The required columns, in file order. */
export const REQUIRED_COLUMNS: readonly ColumnSpec[] = Object.freeze([
  Object.freeze({ name: 'cell', type: 'int64', nullable: false }),
  Object.freeze({ name: 'x', type: 'float64', nullable: false }),
  Object.freeze({ name: 'y', type: 'float64', nullable: false }),
  Object.freeze({ name: 'z', type: 'float64', nullable: false }),
  Object.freeze({ name: 'time', type: 'timestamp_us', nullable: false }),
] satisfies ColumnSpec[]);

/**
 * Names a payload column may not take, compared case-insensitively: the required columns and the
 * Hive partition keys of the lake layout (`lod=`, `t=`, `r=`), which engines add as columns when
 * they read a partitioned path; the event time is `time` so that it never collides with the `t=` bucket.
 */
export const RESERVED_COLUMN_NAMES: readonly string[] = Object.freeze([
  'cell',
  'x',
  'y',
  'z',
  'time',
  't',
  'lod',
  'r',
]);

/** Every payload type but decimals, in the order the docs list them. */
export const PAYLOAD_TYPES: readonly NamedPayloadType[] = Object.freeze([
  'float64',
  'int32',
  'int64',
  'uint64',
  'bool',
  'utf8',
  'date',
  'time_us',
  'time_ns',
  'timestamp_us',
  'local_timestamp_us',
  'local_timestamp_ns',
] satisfies NamedPayloadType[]);
const PAYLOAD_TYPE_SET: ReadonlySet<string> = new Set(PAYLOAD_TYPES);
// Control characters (C0, DEL, C1) and unpaired UTF-16 surrogates, which have no UTF-8 form.
const BAD_NAME_CHAR = /[\p{Cc}\p{Cs}]/u;

/**
 * Whether `name` can name a column: non-empty, no control characters, valid Unicode. Any other
 * printable text is allowed, because SQL built over these names always quotes them.
 * @param name - candidate column name
 * @returns true when the name is usable
 */
export function isValidColumnName(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && !BAD_NAME_CHAR.test(name);
}

/**
 * Checks a column name.
 * @param name - candidate column name
 * @throws {OctaError} INVALID_ARGUMENT when the name is empty, has a control character or is not
 *   valid Unicode
 */
export function checkColumnName(name: string): void {
  if (!isValidColumnName(name)) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'column names must be non-empty printable text without control characters; rename the column',
      name,
    );
  }
}

/**
 * Builds a point schema from the payload columns; the required columns are always present.
 * Duplicate names are found case-insensitively, as DuckDB, Hive and Glue fold identifier case.
 * @param options.payload - payload columns in file order (default none)
 * @returns a frozen schema
 * @throws {OctaError} INVALID_ARGUMENT for a bad or duplicate name, a reserved name or an unknown type
 */
export function createPointSchema({
  payload = [],
}: {
  payload?: readonly PayloadColumn[];
} = {}): PointSchema {
  const seen = new Set(RESERVED_COLUMN_NAMES);
  const columns: ColumnSpec[] = [...REQUIRED_COLUMNS];
  const declared: PayloadColumn[] = [];
  for (const column of payload) {
    checkColumnName(column.name);
    if (!PAYLOAD_TYPE_SET.has(column.type) && decimalOf(column.type) === undefined) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        `payload column "${column.name}" has an unknown type; use ${PAYLOAD_TYPES.join(', ')} or decimal(p,s) with p ≤ ${MAX_DECIMAL_PRECISION}`,
        column.type,
      );
    }
    const folded = column.name.toLowerCase();
    if (seen.has(folded)) {
      const reserved = RESERVED_COLUMN_NAMES.includes(folded);
      throw new OctaError(
        'INVALID_ARGUMENT',
        reserved
          ? 'payload column name is reserved (required column or partition key); rename it'
          : 'duplicate column name (names are compared case-insensitively); rename one of them',
        column.name,
      );
    }
    seen.add(folded);
    declared.push(Object.freeze({ name: column.name, type: column.type }));
    columns.push(Object.freeze({ name: column.name, type: column.type, nullable: true }));
  }
  return Object.freeze({
    version: POINT_SCHEMA_VERSION,
    columns: Object.freeze(columns),
    payload: Object.freeze(declared),
  });
}

/**
 * Whether two schemas have the same columns with the same types in the same order.
 * @param a - first schema
 * @param b - second schema
 * @returns true when a buffer of one can be written as the other
 */
export function isSameSchema(a: PointSchema, b: PointSchema): boolean {
  if (a.version !== b.version || a.columns.length !== b.columns.length) return false;
  return a.columns.every((c, i) => c.name === b.columns[i]?.name && c.type === b.columns[i]?.type);
}
