/**
 * Arrow columns to source columns for the Arrow IPC reader. Fixed-width values are used in place
 * where the type already matches.
 *
 * | Arrow                                  | source         |
 * |----------------------------------------|----------------|
 * | Float16/32/64, Decimal, Uint64         | float64 (Uint64 and Decimal exact up to 2^53) |
 * | Int8/16/32, Uint8/16                   | int32          |
 * | Int64, Uint32                          | int64          |
 * | Bool                                   | bool           |
 * | Timestamp (any unit), Date             | timestamp_us (ns truncated toward −∞) |
 * | Utf8, LargeUtf8, Utf8View, Dictionary<string> | text    |
 * | anything else (lists, structs, binary) | json (the value as Arrow JS returns it) |
 */
import { type Data, DataType, type Field, makeVector, TimeUnit } from 'apache-arrow';
import type { ColumnData, SourceColumn } from './types.js';

/**
 * The source type of an Arrow field.
 * @param type - the field's Arrow type
 * @returns the source column type
 */
export function arrowToSourceType(type: DataType): SourceColumn['type'] {
  if (DataType.isFloat(type) || DataType.isDecimal(type)) return 'float64';
  if (DataType.isInt(type)) {
    if (type.bitWidth === 64) return type.isSigned ? 'int64' : 'float64';
    return type.bitWidth === 32 && !type.isSigned ? 'int64' : 'int32';
  }
  if (DataType.isBool(type)) return 'bool';
  if (DataType.isTimestamp(type) || DataType.isDate(type)) return 'timestamp_us';
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type) || DataType.isUtf8View(type)) return 'text';
  if (DataType.isDictionary(type) && arrowToSourceType(type.dictionary) === 'text') return 'text';
  return 'json';
}

/**
 * Source columns of an Arrow schema's fields.
 * @param fields - the schema's fields
 * @returns one column per field
 */
export function arrowToSourceColumns(fields: readonly Field[]): SourceColumn[] {
  return fields.map((f) => ({ name: f.name, type: arrowToSourceType(f.type) }));
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
};

function toMicros(values: BigInt64Array | Int32Array, n: number, unit: 'day' | TimeUnit): BigInt64Array {
  if (unit === TimeUnit.MICROSECOND && values instanceof BigInt64Array) return values.subarray(0, n);
  const out = new BigInt64Array(n);
  if (unit === 'day') {
    for (let i = 0; i < n; i++) out[i] = BigInt(values[i]!) * 86_400_000_000n;
  } else if (unit === TimeUnit.NANOSECOND) {
    for (let i = 0; i < n; i++) {
      const v = values[i] as bigint;
      const q = v / 1000n;
      out[i] = v < 0n && q * 1000n !== v ? q - 1n : q;
    }
  } else {
    const factor = MICROS_PER[unit]!;
    for (let i = 0; i < n; i++) out[i] = BigInt(values[i]!) * factor;
  }
  return out;
}

function plain(value: unknown): unknown {
  if (
    value !== null &&
    typeof value === 'object' &&
    'toJSON' in value &&
    typeof value.toJSON === 'function'
  ) {
    return value.toJSON();
  }
  return value === undefined ? null : value;
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
    return withValid({
      type: 'float64' as const,
      values: Float64Array.from({ length: n }, (_, i) => Number(values[i])),
    });
  }
  if (DataType.isBool(type)) {
    const bits = data.values as Uint8Array;
    const out = new Uint8Array(n);
    for (let i = 0, bit = data.offset; i < n; i++, bit++) out[i] = (bits[bit >> 3]! >> (bit & 7)) & 1;
    return withValid({ type: 'bool' as const, values: out });
  }
  if (DataType.isTimestamp(type)) {
    return withValid({
      type: 'timestamp_us' as const,
      values: toMicros(data.values as BigInt64Array, n, type.unit),
    });
  }
  if (DataType.isDate(type)) {
    const values = data.values as BigInt64Array | Int32Array;
    return withValid({
      type: 'timestamp_us' as const,
      values:
        values instanceof Int32Array ? toMicros(values, n, 'day') : toMicros(values, n, TimeUnit.MILLISECOND),
    });
  }
  const vector = makeVector(data);
  if (target === 'float64') {
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
  const values = new Array<unknown>(n);
  for (let i = 0; i < n; i++) values[i] = plain(vector.get(i));
  return { type: 'json', values };
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
