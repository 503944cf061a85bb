/**
 * Parquet columns as hyparquet decodes them, to source columns. Every type either keeps its values
 * exactly or is `unsupported` (never decoded, refused by an ingest that would store it):
 *
 * | Parquet (physical / logical)                        | source                               |
 * |-----------------------------------------------------|--------------------------------------|
 * | DOUBLE, FLOAT, FLOAT16                              | float64                              |
 * | INT32 (INT_8/16/32, UINT_8/16)                      | int32                                |
 * | INT64, UINT_32                                      | int64                                |
 * | UINT_64                                             | uint64                               |
 * | BOOLEAN                                             | bool                                 |
 * | DATE                                                | date                                 |
 * | TIME (MILLIS, MICROS; local) / (NANOS; local)       | time_us / time_ns                    |
 * | TIMESTAMP (MILLIS, MICROS) UTC / local              | timestamp_us / local_timestamp_us    |
 * | TIMESTAMP (NANOS) UTC / local, INT96                | timestamp_ns / local_timestamp_ns    |
 * | DECIMAL(p ≤ 18, s)                                  | decimal (unscaled int64 values)      |
 * | DECIMAL(p > 18, s)                                  | wide_decimal (float64 values, for mapped coordinates only) |
 * | STRING, ENUM, JSON (its text), UUID (its text form) | text                                 |
 * | BYTE_ARRAY without annotation                       | text; a value that is not UTF-8 is invalid |
 * | groups (LIST, MAP, struct), INTERVAL, BSON, VARIANT, GEOMETRY, GEOGRAPHY, TIME adjusted to UTC, FIXED_LEN_BYTE_ARRAY without annotation | unsupported |
 */
import type { DecodedArray, FileMetaData, ParquetParsers, SchemaElement, SchemaTree } from 'hyparquet';
import { MAX_DECIMAL_PRECISION } from '../../export/schema.js';
import type { ColumnData, SourceColumn } from './types.js';

const MICROS_PER_MILLI = 1000n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * hyparquet parsers that keep times as bigint counts (hyparquet's defaults make Dates, which lose the
 * microseconds): milliseconds become exact microseconds, microseconds and nanoseconds stay as they
 * are, dates stay day numbers, and JSON stays its text (parsing it would round large numbers).
 */
export const MICROSECOND_PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (ms: bigint) => BigInt(ms) * MICROS_PER_MILLI,
  timestampFromMicroseconds: (us: bigint) => BigInt(us),
  timestampFromNanoseconds: (ns: bigint) => BigInt(ns),
  dateFromDays: (days: number) => days,
  jsonFromBytes: (bytes: Uint8Array) => (bytes === undefined ? bytes : new TextDecoder().decode(bytes)),
};

const unsupported = (detail: string): Pick<SourceColumn, 'type' | 'detail'> => ({
  type: 'unsupported',
  detail,
});

/** A group's name for messages: LIST, MAP or struct. */
function groupName(element: SchemaElement): string {
  const kind = element.logical_type?.type ?? element.converted_type;
  if (kind === 'LIST' || kind === 'MAP' || kind === 'MAP_KEY_VALUE') return kind === 'LIST' ? 'LIST' : 'MAP';
  return 'struct (group)';
}

/**
 * The source type of a top-level Parquet column, and the file's name for it.
 * @param node - the column's schema node
 * @returns the source type and a description of the Parquet type
 */
export function parquetToSourceType(
  node: SchemaTree,
): Pick<SourceColumn, 'type' | 'detail' | 'precision' | 'scale'> {
  const element: SchemaElement = node.element;
  if (node.children.length > 0) return unsupported(groupName(element));
  const { type, converted_type: converted, logical_type: logical } = element;
  const detail = [type, logical?.type ?? converted].filter((t) => t !== undefined).join(' ');
  const typed = (t: SourceColumn['type']) => ({ type: t, detail });
  if (type === 'INT96') return typed('local_timestamp_ns');
  if (logical?.type === 'TIMESTAMP') {
    const utc = logical.isAdjustedToUTC;
    if (logical.unit === 'NANOS') return typed(utc ? 'timestamp_ns' : 'local_timestamp_ns');
    return typed(utc ? 'timestamp_us' : 'local_timestamp_us');
  }
  // The converted types TIMESTAMP_MILLIS/MICROS alone mean instants (adjusted to UTC).
  if (converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS') return typed('timestamp_us');
  if (logical?.type === 'DATE' || converted === 'DATE') return typed('date');
  if (logical?.type === 'TIME') {
    if (logical.isAdjustedToUTC) return unsupported(`${type} TIME adjusted to UTC`);
    return typed(logical.unit === 'NANOS' ? 'time_ns' : 'time_us');
  }
  if (converted === 'TIME_MILLIS' || converted === 'TIME_MICROS') return typed('time_us');
  if (logical?.type === 'DECIMAL' || converted === 'DECIMAL') {
    const precision = element.precision ?? 38;
    const scale = element.scale ?? 0;
    return {
      type: precision <= MAX_DECIMAL_PRECISION ? 'decimal' : 'wide_decimal',
      detail: `DECIMAL(${precision},${scale})`,
      precision,
      scale,
    };
  }
  if (logical?.type === 'FLOAT16') return typed('float64');
  if (
    converted === 'UINT_64' ||
    (logical?.type === 'INTEGER' && logical.bitWidth === 64 && !logical.isSigned)
  )
    return typed('uint64');
  if (
    converted === 'UINT_32' ||
    (logical?.type === 'INTEGER' && logical.bitWidth === 32 && !logical.isSigned)
  )
    return typed('int64');
  if (converted === 'JSON' || logical?.type === 'JSON') return typed('text');
  if (converted === 'UTF8' || converted === 'ENUM' || logical?.type === 'STRING' || logical?.type === 'ENUM')
    return typed('text');
  if (logical?.type === 'UUID') return typed('text');
  if (
    logical !== undefined ||
    (converted !== undefined && !converted.startsWith('INT_') && !converted.startsWith('UINT_'))
  )
    return unsupported(detail);
  switch (type) {
    case 'DOUBLE':
    case 'FLOAT':
      return typed('float64');
    case 'INT32':
      return typed('int32');
    case 'INT64':
      return typed('int64');
    case 'BOOLEAN':
      return typed('bool');
    case 'BYTE_ARRAY':
      return typed('text');
    default:
      return unsupported(
        type === 'FIXED_LEN_BYTE_ARRAY' ? 'FIXED_LEN_BYTE_ARRAY (fixed-size binary)' : detail,
      );
  }
}

/**
 * The source columns of a Parquet schema: one per top-level field.
 * @param schema - hyparquet's schema tree
 * @returns the columns
 */
export function parquetToSourceColumns(schema: SchemaTree): SourceColumn[] {
  return schema.children.map((node) => ({ name: node.element.name, ...parquetToSourceType(node) }));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Converts a decoded column (null or undefined marks a null) to a source column.
 * @param values - what hyparquet decoded for the rows
 * @param type - the column's source type (never `unsupported`: such columns are not decoded)
 * @param scale - a `decimal` column's scale (its values come undecoded: see {@link rawDecimalMetadata})
 * @returns the column
 */
export function parquetToColumnData(values: DecodedArray, type: SourceColumn['type'], scale = 0): ColumnData {
  const n = values.length;
  if (type === 'decimal') return unscaledDecimals(values, scale);
  if (type === 'text') {
    let invalid: Map<number, string> | undefined;
    const out = Array.from(values as ArrayLike<string | Uint8Array | null | undefined>, (v, i) => {
      if (!(v instanceof Uint8Array)) return v ?? null;
      try {
        return utf8.decode(v);
      } catch {
        invalid ??= new Map();
        invalid.set(i, `${v.length} bytes that are not UTF-8 text (binary data has no lake type)`);
        return null;
      }
    });
    return invalid === undefined ? { type: 'text', values: out } : { type: 'text', values: out, invalid };
  }
  if (type === 'json' || type === 'utf8' || type === 'unsupported') {
    return { type: 'json', values: Array.from(values as ArrayLike<unknown>, (v) => v ?? null) };
  }
  const target = type === 'wide_decimal' ? 'float64' : type;
  if (target === 'float64' && values instanceof Float64Array) return { type: target, values };
  if ((target === 'int32' || target === 'date') && values instanceof Int32Array)
    return { type: target, values };
  if (
    values instanceof BigInt64Array &&
    target !== 'bool' &&
    target !== 'float64' &&
    target !== 'int32' &&
    target !== 'date'
  )
    return { type: target, values };
  if (target === 'uint64' && values instanceof BigUint64Array)
    return { type: target, values: new BigInt64Array(values.buffer, values.byteOffset, n) };
  const list = values as ArrayLike<unknown>;
  let valid: Uint8Array | undefined;
  const isNull = (i: number) => {
    const v = list[i];
    if (v !== null && v !== undefined) return false;
    valid ??= new Uint8Array(n).fill(1);
    valid[i] = 0;
    return true;
  };
  const withValid = <T extends object>(column: T) => (valid === undefined ? column : { ...column, valid });
  switch (target) {
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = isNull(i) ? Number.NaN : Number(list[i]);
      return withValid({ type: target, values: out });
    }
    case 'int32':
    case 'date': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = isNull(i) ? 0 : Number(list[i]);
      return withValid({ type: target, values: out });
    }
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = isNull(i) ? 0 : list[i] ? 1 : 0;
      return withValid({ type: target, values: out });
    }
    default: {
      // 64-bit values; TIME_MILLIS arrives as milliseconds in an INT32 (a number, where INT64
      // gives bigints), TIMESTAMP_MILLIS already as microseconds, which may fall outside int64:
      // such a value is invalid, never wrapped.
      const out = new BigInt64Array(n);
      let invalid: Map<number, string> | undefined;
      for (let i = 0; i < n; i++) {
        if (isNull(i)) continue;
        const raw = list[i] as bigint | number;
        const v =
          typeof raw === 'number' && type === 'time_us' ? BigInt(raw) * MICROS_PER_MILLI : BigInt(raw);
        const bits = target === 'uint64' ? BigInt.asIntN(64, v) : v;
        if (bits < INT64_MIN || bits > INT64_MAX) {
          invalid ??= new Map();
          invalid.set(i, `${BigInt(raw) / MICROS_PER_MILLI} ms, outside the range of int64 microseconds`);
        } else out[i] = bits;
      }
      const column = withValid({ type: target, values: out });
      return invalid === undefined ? column : { ...column, invalid };
    }
  }
}

/**
 * Unscaled values of a DECIMAL of precision ≤ 18 as the physical column holds them: INT32 numbers,
 * INT64 bigints, or big-endian two's-complement bytes (FIXED_LEN_BYTE_ARRAY, BYTE_ARRAY).
 */
function unscaledDecimals(values: DecodedArray, scale: number): ColumnData {
  const n = values.length;
  if (values instanceof BigInt64Array) return { type: 'decimal', values, scale };
  const out = new BigInt64Array(n);
  let valid: Uint8Array | undefined;
  const list = values as ArrayLike<unknown>;
  for (let i = 0; i < n; i++) {
    const v = list[i];
    if (v === null || v === undefined) {
      valid ??= new Uint8Array(n).fill(1);
      valid[i] = 0;
    } else if (v instanceof Uint8Array) {
      let big = 0n;
      for (const byte of v) big = (big << 8n) | BigInt(byte);
      out[i] = BigInt.asIntN(64, BigInt.asIntN(v.length * 8, big));
    } else out[i] = BigInt(v as number | bigint);
  }
  return valid === undefined
    ? { type: 'decimal', values: out, scale }
    : { type: 'decimal', values: out, scale, valid };
}

/**
 * The file's metadata with the DECIMAL annotation dropped from the named columns, so that hyparquet
 * hands over their unscaled integers instead of rounding them to doubles.
 * @param metadata - the file's metadata
 * @param names - top-level columns of type `decimal`
 * @returns metadata to read those columns with
 */
export function rawDecimalMetadata(metadata: FileMetaData, names: ReadonlySet<string>): FileMetaData {
  if (names.size === 0) return metadata;
  return {
    ...metadata,
    schema: metadata.schema.map((element) =>
      names.has(element.name) && (element.num_children ?? 0) === 0
        ? { ...element, converted_type: undefined, logical_type: undefined }
        : element,
    ),
  };
}
