/**
 * Parquet columns as hyparquet decodes them, to source columns.
 *
 * | Parquet (physical / logical)                     | source        |
 * |--------------------------------------------------|---------------|
 * | DOUBLE, FLOAT, FLOAT16, DECIMAL, UINT_64         | float64 (DECIMAL and UINT_64 exact up to 2^53) |
 * | INT32 (INT_8/16/32, UINT_8/16), TIME_MILLIS      | int32         |
 * | INT64, UINT_32, TIME_MICROS/NANOS                | int64         |
 * | BOOLEAN                                          | bool          |
 * | TIMESTAMP (ms, µs, ns), INT96, DATE              | timestamp_us (ns truncated toward −∞) |
 * | BYTE_ARRAY / STRING, ENUM, UUID                  | text          |
 * | nested groups, JSON, GEOMETRY, other binary      | json (the value hyparquet returns) |
 */
import type { DecodedArray, ParquetParsers, SchemaElement, SchemaTree } from 'hyparquet';
import type { ColumnData, SourceColumn } from './types.js';

const MICROS_PER_DAY = 86_400_000_000n;

/**
 * hyparquet parsers that keep times as bigint microseconds (hyparquet's defaults make Dates, which
 * lose the microseconds) and leave strings as its default decodes them.
 */
export const MICROSECOND_PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (ms: bigint) => BigInt(ms) * 1000n,
  timestampFromMicroseconds: (us: bigint) => BigInt(us),
  timestampFromNanoseconds: (ns: bigint) => {
    const v = BigInt(ns);
    const q = v / 1000n;
    return v < 0n && q * 1000n !== v ? q - 1n : q;
  },
  dateFromDays: (days: number) => BigInt(days) * MICROS_PER_DAY,
};

/**
 * The source type of a top-level Parquet column.
 * @param node - the column's schema node
 * @returns the source column type
 */
export function parquetToSourceType(node: SchemaTree): SourceColumn['type'] {
  if (node.children.length > 0) return 'json';
  const { type, converted_type: converted, logical_type: logical }: SchemaElement = node.element;
  const logicalType = logical?.type;
  if (logicalType === 'TIMESTAMP' || converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS') {
    return 'timestamp_us';
  }
  if (type === 'INT96' || logicalType === 'DATE' || converted === 'DATE') return 'timestamp_us';
  if (converted === 'DECIMAL' || logicalType === 'DECIMAL' || logicalType === 'FLOAT16') return 'float64';
  if (
    converted === 'UINT_64' ||
    (logical?.type === 'INTEGER' && logical.bitWidth === 64 && !logical.isSigned)
  ) {
    return 'float64';
  }
  if (
    converted === 'UINT_32' ||
    (logical?.type === 'INTEGER' && logical.bitWidth === 32 && !logical.isSigned)
  ) {
    return 'int64';
  }
  if (
    converted === 'JSON' ||
    logicalType === 'JSON' ||
    logicalType === 'GEOMETRY' ||
    logicalType === 'GEOGRAPHY'
  ) {
    return 'json';
  }
  if (logicalType === 'VARIANT' || converted === 'BSON' || logicalType === 'BSON') return 'json';
  if (converted === 'UTF8' || converted === 'ENUM' || logicalType === 'STRING' || logicalType === 'ENUM')
    return 'text';
  if (logicalType === 'UUID') return 'text';
  switch (type) {
    case 'DOUBLE':
    case 'FLOAT':
      return 'float64';
    case 'INT32':
      return 'int32';
    case 'INT64':
      return 'int64';
    case 'BOOLEAN':
      return 'bool';
    case 'BYTE_ARRAY':
      return 'text';
    default:
      return 'json';
  }
}

/**
 * The source columns of a Parquet schema: one per top-level field.
 * @param schema - hyparquet's schema tree
 * @returns the columns
 */
export function parquetToSourceColumns(schema: SchemaTree): SourceColumn[] {
  return schema.children.map((node) => ({ name: node.element.name, type: parquetToSourceType(node) }));
}

/**
 * Converts a decoded column (null or undefined marks a null) to a source column.
 * @param values - what hyparquet decoded for the rows
 * @param type - the column's source type
 * @returns the column
 */
export function parquetToColumnData(values: DecodedArray, type: SourceColumn['type']): ColumnData {
  const n = values.length;
  if (type === 'text') {
    return {
      type: 'text',
      values: Array.from(values as ArrayLike<string | null | undefined>, (v) => v ?? null),
    };
  }
  if (type === 'json' || type === 'utf8') {
    return { type: 'json', values: Array.from(values as ArrayLike<unknown>, (v) => v ?? null) };
  }
  if (type === 'float64' && values instanceof Float64Array) return { type, values };
  if (type === 'int32' && values instanceof Int32Array) return { type, values };
  if ((type === 'int64' || type === 'timestamp_us') && values instanceof BigInt64Array)
    return { type, values };
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
  switch (type) {
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = isNull(i) ? Number.NaN : Number(list[i]);
      return withValid({ type, values: out });
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = isNull(i) ? 0 : Number(list[i]);
      return withValid({ type, values: out });
    }
    case 'int64':
    case 'timestamp_us': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = isNull(i) ? 0n : BigInt(list[i] as bigint | number);
      return withValid({ type, values: out });
    }
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = isNull(i) ? 0 : list[i] ? 1 : 0;
      return withValid({ type, values: out });
    }
  }
}
