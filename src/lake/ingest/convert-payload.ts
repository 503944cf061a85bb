/**
 * Payload columns of a chunk: each source column to its table column type (float64, int32, date,
 * bool, utf8, and the 64-bit types: int64, uint64, times, timestamps, decimals), a value that does
 * not fit rejecting its row; and the type a new table gives a source column.
 */
import { decimalOf, type PayloadColumn, type PayloadType } from '../../export/schema.js';
import type { ColumnData, SourceChunk, SourceColumn } from '../sources/index.js';
import { jsonToText } from '../sources/json-exact.js';
import { textToFloat64 } from '../sources/numbers.js';
import {
  exactDouble,
  INT64_MAX,
  INT64_MIN,
  integerOf,
  rawValue,
  show,
  UINT64_MAX,
} from './convert-values.js';
import { payloadTypeOf } from './payload-types.js';

/** Payload types held as 64-bit integers (uint64 as its raw bits). */
export type Int64PayloadType = Exclude<PayloadType, 'float64' | 'int32' | 'date' | 'bool' | 'utf8'>;

/** A converted payload column. */
export type PayloadArray =
  | { type: 'float64'; values: Float64Array; valid: Uint8Array }
  | { type: 'int32' | 'date'; values: Int32Array; valid: Uint8Array }
  | { type: Int64PayloadType; values: BigInt64Array; valid: Uint8Array }
  | { type: 'bool'; values: Uint8Array; valid: Uint8Array }
  | { type: 'utf8'; values: (string | null)[] };

/**
 * A 64-bit payload column (int64, uint64, times, timestamps, decimals). A source column of the same
 * type is copied as it is. Times, timestamps and decimals take no other (ingest refuses any other
 * before reading); int64 and uint64 take any integer in their range and reject other values.
 */
function int64Column(
  type: Int64PayloadType,
  data: ColumnData | undefined,
  name: string,
  n: number,
  fail: (i: number, reason: string) => void,
): PayloadArray {
  const values = new BigInt64Array(n);
  const valid = new Uint8Array(n);
  if (data === undefined) return { type, values, valid };
  const decimal = decimalOf(type);
  if (decimal !== undefined) {
    // Only a decimal of the same scale fills a decimal column (ingest checks it before reading).
    if (data.type !== 'decimal' || data.scale !== decimal.scale) {
      for (let i = 0; i < n; i++) {
        const v = rawValue(data, i);
        if (v !== null && v !== undefined && v !== '')
          fail(i, `column ${name}: expected a ${type}, got ${show(v)}`);
      }
      return { type, values, valid };
    }
    values.set(data.values.subarray(0, n));
    if (data.valid) valid.set(data.valid.subarray(0, n));
    else valid.fill(1);
    for (let i = 0; i < n; i++) if (valid[i] === 0) values[i] = 0n;
    return { type, values, valid };
  }
  if (data.type === type) {
    values.set(data.values.subarray(0, n));
    if (data.valid) valid.set(data.valid.subarray(0, n));
    else valid.fill(1);
    for (const [i, reason] of data.invalid ?? []) {
      if (i >= n) continue;
      valid[i] = 0;
      fail(i, `column ${name}: ${reason}`);
    }
    for (let i = 0; i < n; i++) if (valid[i] === 0) values[i] = 0n;
    return { type, values, valid };
  }
  const [min, max] = type === 'uint64' ? [0n, UINT64_MAX] : [INT64_MIN, INT64_MAX];
  const temporal = type !== 'int64' && type !== 'uint64';
  for (let i = 0; i < n; i++) {
    const v = rawValue(data, i);
    if (v === null || v === undefined || v === '') continue;
    const b = temporal ? undefined : integerOf(v);
    if (b === undefined || b < min || b > max) {
      fail(i, `column ${name}: expected ${temporal ? 'a' : 'an integer'} (${type}), got ${show(v)}`);
      continue;
    }
    values[i] = BigInt.asIntN(64, b);
    valid[i] = 1;
  }
  return { type, values, valid };
}

/** Converts one payload column; values that do not fit the type reject their row. */
export function payloadColumn(
  col: PayloadColumn & { source?: string },
  chunk: SourceChunk,
  n: number,
  fail: (i: number, reason: string) => void,
): PayloadArray {
  const data = col.source === undefined ? undefined : chunk.columns[col.source];
  const valid = new Uint8Array(n);
  const type: PayloadType = col.type;
  const name = show(col.name);
  if (type === 'utf8') {
    const values: (string | null)[] = new Array(n).fill(null);
    if (data) {
      for (let i = 0; i < n; i++) {
        const invalid = data.type === 'text' ? data.invalid?.get(i) : undefined;
        if (invalid !== undefined) {
          fail(i, `column ${name}: ${invalid}`);
          continue;
        }
        const v = rawValue(data, i);
        values[i] =
          v === null || v === undefined
            ? null
            : typeof v === 'string'
              ? v
              : typeof v === 'object'
                ? jsonToText(v)
                : String(v);
      }
    }
    return { type, values };
  }
  if (type !== 'float64' && type !== 'int32' && type !== 'date' && type !== 'bool') {
    return int64Column(type, data, name, n, fail);
  }
  if (data && data.type === type && (type === 'float64' || type === 'int32' || type === 'date')) {
    // Same type in and out: copy the values, keep the nulls, reject what the reader could not parse.
    const typed = data as {
      values: Float64Array | Int32Array;
      valid?: Uint8Array;
      invalid?: Map<number, string>;
      inexact?: Map<number, string>;
    };
    const values = typed.values.slice(0, n);
    if (typed.valid) valid.set(typed.valid.subarray(0, n));
    else valid.fill(1);
    for (const [i, text] of typed.invalid ?? []) {
      valid[i] = 0;
      fail(i, `column ${name}: expected a number (${type}), got ${show(text)}`);
    }
    for (const [i, text] of typed.inexact ?? []) {
      valid[i] = 0;
      fail(i, `column ${name}: the integer ${text} has no exact ${type} (DOUBLE) value`);
    }
    // Nulls hold 0, as in the general path, so equal rows are equal bytes (stream batch digests).
    if (typed.valid || typed.inexact) for (let i = 0; i < n; i++) if (valid[i] === 0) values[i] = 0;
    return { type, values, valid } as PayloadArray;
  }
  const values =
    type === 'float64' ? new Float64Array(n) : type === 'bool' ? new Uint8Array(n) : new Int32Array(n);
  if (data && type === 'date') {
    // Only a date column fills a date column (ingest refuses any other before reading).
    for (let i = 0; i < n; i++) {
      const v = rawValue(data, i);
      if (v !== null && v !== undefined && v !== '')
        fail(i, `column ${name}: expected a date, got ${show(v)}`);
    }
  } else if (data) {
    for (let i = 0; i < n; i++) {
      const v = rawValue(data, i);
      if (v === null || v === undefined || v === '') continue;
      let d: number;
      if (type === 'bool') {
        const word = typeof v === 'string' ? v.trim().toLowerCase() : v;
        if (word === true || word === 1 || word === 'true' || word === '1') d = 1;
        else if (word === false || word === 0 || word === 'false' || word === '0') d = 0;
        else {
          fail(i, `column ${name}: expected a boolean, got ${show(v)}`);
          continue;
        }
      } else {
        // An integer is stored only where the double is that integer: 9007199254740993 is not.
        const integer = typeof v === 'bigint' ? v : typeof v === 'string' ? integerOf(v) : undefined;
        const exact = integer === undefined ? undefined : exactDouble(integer);
        if (integer !== undefined && exact === undefined) {
          fail(i, `column ${name}: the integer ${integer} has no exact ${type} value`);
          continue;
        }
        // Text goes through the readers' number grammar, so a stream (whose payload arrives as
        // text) stores what a file (parsed by the reader) stores.
        const parsed =
          exact !== undefined
            ? exact
            : typeof v === 'number'
              ? v
              : typeof v === 'string'
                ? textToFloat64(v)
                : undefined;
        if (parsed === undefined || parsed === null) {
          fail(i, `column ${name}: expected a number (${type}), got ${show(v)}`);
          continue;
        }
        d = parsed;
        if (type === 'int32' && (!Number.isInteger(d) || d < -(2 ** 31) || d >= 2 ** 31)) {
          fail(i, `column ${name}: expected an integer (int32), got ${show(v)}`);
          continue;
        }
      }
      values[i] = d;
      valid[i] = 1;
    }
  }
  return { type, values, valid } as PayloadArray;
}

/**
 * The payload type a source column gets in a new table: typed sources keep their type (see
 * {@link payloadTypeOf}); text and JSON columns become float64 when every non-empty value of the
 * first chunk is a number in the readers' grammar (numbers.ts: decimal with an optional exponent,
 * so `0x10` stays text), bool when every one is a boolean, and utf8 otherwise. A column of
 * integers of which some has no exact double (beyond ±2^53) becomes int64 when all fit in it, and
 * utf8 (every digit kept) when some does not or some value is not an integer.
 * @throws {OctaError} SCHEMA_MISMATCH for a typed column the lake cannot store exactly
 */
export function inferPayloadType(column: SourceColumn, sample: ColumnData | undefined): PayloadType {
  const typed = payloadTypeOf(column);
  if (typed !== undefined) return typed;
  // A column the reader already parsed as numbers (a coordinate column also kept as payload).
  if (sample?.type === 'float64') return 'float64';
  if (!sample || (sample.type !== 'text' && sample.type !== 'json')) return 'utf8';
  let numbers = 0;
  let bools = 0;
  let others = 0;
  let fractions = 0;
  let inexact = 0;
  let beyondInt64 = 0;
  for (const v of sample.values) {
    if (v === null || v === undefined || v === '') continue;
    if (typeof v === 'number') {
      numbers++;
      if (!Number.isInteger(v)) fractions++;
    } else if (typeof v === 'bigint') {
      numbers++;
      if (exactDouble(v) === undefined) {
        inexact++;
        if (v < INT64_MIN || v > INT64_MAX) beyondInt64++;
      }
    } else if (typeof v === 'boolean' || (typeof v === 'string' && /^\s*(true|false)\s*$/i.test(v))) bools++;
    else if (typeof v === 'string' && Number.isFinite(textToFloat64(v))) {
      numbers++;
      const integer = integerOf(v);
      if (integer === undefined) fractions++;
      else if (exactDouble(integer) === undefined) {
        inexact++;
        if (integer < INT64_MIN || integer > INT64_MAX) beyondInt64++;
      }
    } else others++;
  }
  if (others === 0 && numbers > 0 && bools === 0) {
    if (inexact === 0) return 'float64';
    return fractions === 0 && beyondInt64 === 0 ? 'int64' : 'utf8';
  }
  if (others === 0 && bools > 0 && numbers === 0) return 'bool';
  return 'utf8';
}
