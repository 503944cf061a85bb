/**
 * Arrow columns to source columns for the Arrow IPC reader. Fixed-width values are used in place
 * where the type already matches. Every type keeps its values exactly or is `unsupported` (never
 * decoded, refused by an ingest that would store it):
 *
 * | Arrow                                          | source                                  |
 * |------------------------------------------------|-----------------------------------------|
 * | Float16/32/64                                  | float64                                 |
 * | Int8/16/32, Uint8/16                           | int32                                   |
 * | Int64, Uint32                                  | int64                                   |
 * | Uint64                                         | uint64                                  |
 * | Bool                                           | bool                                    |
 * | Date32 (days)                                  | date                                    |
 * | Time32 (s, ms), Time64 (µs) / Time64 (ns)      | time_us / time_ns                       |
 * | Timestamp (s, ms, µs) with a zone / without    | timestamp_us / local_timestamp_us       |
 * | Timestamp (ns) with a zone / without           | timestamp_ns / local_timestamp_ns       |
 * | Decimal128 of precision ≤ 18                   | decimal (unscaled int64 values)         |
 * | other Decimals                                 | wide_decimal (float64 values, for mapped coordinates only) |
 * | Utf8, LargeUtf8, Utf8View, Dictionary<string>  | text                                    |
 * | anything else (lists, structs, maps, unions, binary, intervals, durations, Date64, other dictionaries) | unsupported |
 */
import { type Data, DataType, DateUnit, type Field, makeVector, TimeUnit } from 'apache-arrow';
import { MAX_DECIMAL_PRECISION } from '../../export/schema.js';
import { OctaError } from '../../lattice/errors.js';
import type { ColumnData, SourceColumn } from './types.js';

/**
 * The source type of an Arrow field.
 * @param type - the field's Arrow type
 * @returns the source column type
 */
export function arrowToSourceType(type: DataType): SourceColumn['type'] {
  if (DataType.isFloat(type)) return 'float64';
  if (DataType.isDecimal(type))
    return type.bitWidth === 128 && type.precision <= MAX_DECIMAL_PRECISION ? 'decimal' : 'wide_decimal';
  if (DataType.isInt(type)) {
    if (type.bitWidth === 64) return type.isSigned ? 'int64' : 'uint64';
    return type.bitWidth === 32 && !type.isSigned ? 'int64' : 'int32';
  }
  if (DataType.isBool(type)) return 'bool';
  if (DataType.isTimestamp(type)) {
    const zoned = type.timezone !== null && type.timezone !== undefined && type.timezone !== '';
    if (type.unit === TimeUnit.NANOSECOND) return zoned ? 'timestamp_ns' : 'local_timestamp_ns';
    return zoned ? 'timestamp_us' : 'local_timestamp_us';
  }
  if (DataType.isDate(type)) return type.unit === DateUnit.DAY ? 'date' : 'unsupported';
  if (DataType.isTime(type)) return type.unit === TimeUnit.NANOSECOND ? 'time_ns' : 'time_us';
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type) || DataType.isUtf8View(type)) return 'text';
  if (DataType.isDictionary(type) && arrowToSourceType(type.dictionary) === 'text') return 'text';
  return 'unsupported';
}

/**
 * Source columns of an Arrow schema's fields.
 * @param fields - the schema's fields
 * @returns one column per field
 */
export function arrowToSourceColumns(fields: readonly Field[]): SourceColumn[] {
  return fields.map((f) => {
    const column: SourceColumn = { name: f.name, type: arrowToSourceType(f.type), detail: String(f.type) };
    if (DataType.isDecimal(f.type)) {
      column.detail = `Decimal(${f.type.precision},${f.type.scale})`;
      column.precision = f.type.precision;
      column.scale = f.type.scale;
    }
    return column;
  });
}

function validOf(data: Data): Uint8Array | undefined {
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || bitmap === undefined || bitmap.length === 0) return undefined;
  const out = new Uint8Array(data.length);
  for (let i = 0, bit = data.offset; i < data.length; i++, bit++)
    out[i] = (bitmap[bit >> 3]! >> (bit & 7)) & 1;
  return out;
}

const MICROS_PER: Readonly<Record<number, bigint>> = {
  [TimeUnit.SECOND]: 1_000_000n,
  [TimeUnit.MILLISECOND]: 1_000n,
  [TimeUnit.MICROSECOND]: 1n,
  [TimeUnit.NANOSECOND]: 1n,
};
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * 64-bit counts from Arrow values in seconds or milliseconds (scaled to µs) or µs and ns (as they
 * are). A scaled value past int64 is put in `invalid`, never wrapped.
 */
function toCounts(
  values: BigInt64Array | Int32Array,
  n: number,
  unit: TimeUnit,
): { values: BigInt64Array; invalid?: Map<number, string> } {
  const factor = MICROS_PER[unit]!;
  if (factor === 1n && values instanceof BigInt64Array) return { values: values.subarray(0, n) };
  const out = new BigInt64Array(n);
  let invalid: Map<number, string> | undefined;
  for (let i = 0; i < n; i++) {
    const v = BigInt(values[i]!) * factor;
    if (v < INT64_MIN || v > INT64_MAX) {
      invalid ??= new Map();
      invalid.set(
        i,
        `${values[i]} ${TimeUnit[unit].toLowerCase()}s, outside the range of int64 microseconds`,
      );
    } else out[i] = v;
  }
  return invalid === undefined ? { values: out } : { values: out, invalid };
}

/**
 * Converts one Arrow column (a record batch's child) to a source column.
 * @param data - the column's data
 * @param type - its Arrow type (the field's type)
 * @returns the column, `data.length` rows long
 */
export function arrowToColumnData(data: Data, type: DataType): ColumnData {
  const n = data.length;
  const valid = validOf(data);
  const withValid = <T extends object>(column: T) => (valid === undefined ? column : { ...column, valid });
  const target = arrowToSourceType(type);
  if (DataType.isFloat(type) && data.values instanceof Float64Array) {
    return withValid({ type: 'float64' as const, values: data.values.subarray(0, n) });
  }
  if (DataType.isFloat(type) && data.values instanceof Float32Array) {
    return withValid({ type: 'float64' as const, values: Float64Array.from(data.values.subarray(0, n)) });
  }
  if (DataType.isInt(type)) {
    const values = data.values as ArrayLike<number | bigint>;
    if (target === 'int32') {
      const v =
        values instanceof Int32Array
          ? values.subarray(0, n)
          : Int32Array.from({ length: n }, (_, i) => Number(values[i]));
      return withValid({ type: 'int32' as const, values: v });
    }
    if (target === 'int64') {
      const v =
        values instanceof BigInt64Array
          ? values.subarray(0, n)
          : BigInt64Array.from({ length: n }, (_, i) => BigInt(values[i]!));
      return withValid({ type: 'int64' as const, values: v });
    }
    // Uint64: the raw bits, as the lake holds them.
    const bits = data.values as BigUint64Array;
    return withValid({ type: 'uint64' as const, values: new BigInt64Array(bits.buffer, bits.byteOffset, n) });
  }
  if (DataType.isBool(type)) {
    const bits = data.values as Uint8Array;
    const out = new Uint8Array(n);
    for (let i = 0, bit = data.offset; i < n; i++, bit++) out[i] = (bits[bit >> 3]! >> (bit & 7)) & 1;
    return withValid({ type: 'bool' as const, values: out });
  }
  if (
    (DataType.isTimestamp(type) || DataType.isTime(type)) &&
    target !== 'text' &&
    target !== 'unsupported'
  ) {
    const counts = toCounts(data.values as BigInt64Array | Int32Array, n, type.unit);
    return withValid({ type: target as 'time_us', ...counts });
  }
  if (target === 'decimal' && DataType.isDecimal(type)) {
    // Decimal128 of precision ≤ 18: the low two words hold the whole unscaled value.
    const words = data.values as Uint32Array;
    const values = new BigInt64Array(n);
    const dst = new Uint32Array(values.buffer);
    for (let i = 0; i < n; i++) {
      dst[2 * i] = words[4 * i]!;
      dst[2 * i + 1] = words[4 * i + 1]!;
    }
    return withValid({ type: 'decimal' as const, values, scale: type.scale });
  }
  if (target === 'date') {
    return withValid({ type: 'date' as const, values: (data.values as Int32Array).subarray(0, n) });
  }
  const vector = makeVector(data);
  if (target === 'float64' || target === 'wide_decimal') {
    // Float16 and Decimal: through their string form, which rounds correctly.
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v: unknown = vector.get(i);
      out[i] = v === null ? Number.NaN : Number(DataType.isDecimal(type) ? decimalText(v, type.scale) : v);
    }
    return withValid({ type: 'float64' as const, values: out });
  }
  if (target === 'text') {
    const values = new Array<string | null>(n);
    for (let i = 0; i < n; i++) values[i] = (vector.get(i) as string | null) ?? null;
    return { type: 'text', values };
  }
  throw new OctaError(
    'SCHEMA_MISMATCH',
    `an Arrow column of type ${String(type)} cannot be stored exactly; leave it out`,
    String(type),
  );
}

/** The decimal text of an Arrow JS decimal value (its words as an integer, then the scale). */
function decimalText(value: unknown, scale: number): string {
  const words = value as Uint32Array;
  let big = 0n;
  for (let w = words.length - 1; w >= 0; w--) big = (big << 32n) | BigInt(words[w]!);
  const bits = BigInt(words.length * 32);
  if (big >> (bits - 1n) === 1n) big -= 1n << bits;
  return `${big}e${-scale}`;
}
