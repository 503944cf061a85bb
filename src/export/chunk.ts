/**
 * The input side of `PointBuffer`: the shape of a chunk of rows and its validation. A chunk is
 * checked whole against the schema before any byte is copied, so a rejected chunk changes nothing.
 */
import { OctaError } from '../lattice/errors.js';
import { type FixedArray, FixedColumn, type Utf8Column, type Utf8Values } from './columns.js';
import type { ColumnSpec } from './schema.js';

export type { Utf8Values } from './columns.js';

/** Values of a nullable fixed-width column: `valid[i]` nonzero means row i is not null. */
export interface NullableValues {
  values: Float64Array | Int32Array | BigInt64Array | Uint8Array;
  valid?: Uint8Array;
}

/**
 * One payload column of a chunk. By type: float64 → Float64Array, int32 and date → Int32Array,
 * int64, uint64 (raw bits), times and timestamps → BigInt64Array, bool → Uint8Array (nonzero =
 * true), each bare (no nulls) or as
 * `{ values, valid }`; utf8 → an array of strings (null = null) or Arrow-style `{ offsets, data }`.
 */
export type PayloadValues =
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | NullableValues
  | readonly (string | null | undefined)[]
  | Utf8Values;

/** Rows to append, column by column; every array has the same length. */
export interface PointChunk {
  /** Cell ids, signed (INT64 form) or unsigned; the 64 bits are stored as they are. */
  cell: BigInt64Array | BigUint64Array;
  x: Float64Array;
  y: Float64Array;
  z: Float64Array;
  /** Event time in microseconds since 1970-01-01T00:00:00Z. */
  time: BigInt64Array;
  /** Every payload column of the schema, by name. */
  payload?: Readonly<Record<string, PayloadValues>>;
}

const FIXED_CTOR = {
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint64: BigInt64Array,
  bool: Uint8Array,
  date: Int32Array,
  time_us: BigInt64Array,
  time_ns: BigInt64Array,
  timestamp_us: BigInt64Array,
  local_timestamp_us: BigInt64Array,
  local_timestamp_ns: BigInt64Array,
} as const;

/** A chunk column that passed validation, ready to copy. */
export type Input =
  | { kind: 'fixed'; values: FixedArray; valid: Uint8Array | undefined }
  | { kind: 'strings'; strings: readonly (string | null | undefined)[] }
  | { kind: 'utf8'; utf8: Utf8Values };

function inputOf(chunk: PointChunk, spec: ColumnSpec): unknown {
  // The required columns are exactly the non-nullable ones; they sit at the top of the chunk.
  if (!spec.nullable) return chunk[spec.name as 'cell' | 'x' | 'y' | 'z' | 'time'];
  const payload = chunk.payload;
  return payload !== undefined && Object.hasOwn(payload, spec.name) ? payload[spec.name] : undefined;
}

function mismatch(spec: ColumnSpec, what: string, value?: unknown): OctaError {
  return new OctaError('SCHEMA_MISMATCH', `column "${spec.name}" (${spec.type}) ${what}`, value);
}

function checkLength(spec: ColumnSpec, length: number, n: number): void {
  if (length !== n) {
    throw new OctaError(
      'INVALID_INPUT',
      `column "${spec.name}" has ${length} rows where "cell" has ${n}`,
      length,
    );
  }
}

/**
 * Validates one column of a chunk against its spec.
 * @param spec - the column
 * @param chunk - the whole chunk
 * @param n - rows in the chunk (the length of `cell`)
 * @returns the column, ready for `writeInput`
 * @throws {OctaError} SCHEMA_MISMATCH for a missing or wrongly typed column, INVALID_INPUT for a
 *   wrong length or malformed utf8 offsets
 */
export function checkInput(spec: ColumnSpec, chunk: PointChunk, n: number): Input {
  const raw = inputOf(chunk, spec);
  if (raw === undefined || raw === null) throw mismatch(spec, 'is missing from the chunk');
  if (spec.type === 'utf8') {
    if (Array.isArray(raw)) {
      checkLength(spec, raw.length, n);
      for (let i = 0; i < n; i++) {
        const s: unknown = raw[i];
        if (typeof s !== 'string' && s !== null && s !== undefined)
          throw mismatch(spec, `row ${i} is not a string`, s);
      }
      return { kind: 'strings', strings: raw };
    }
    const utf8 = raw as Partial<Utf8Values>;
    if (!(utf8.offsets instanceof Int32Array && utf8.data instanceof Uint8Array)) {
      throw mismatch(spec, 'needs an array of strings or { offsets: Int32Array, data: Uint8Array }');
    }
    checkLength(spec, utf8.offsets.length - 1, n);
    for (let i = 0; i < n; i++) {
      if (utf8.offsets[i]! > utf8.offsets[i + 1]! || utf8.offsets[i]! < 0) {
        throw new OctaError(
          'INVALID_INPUT',
          `column "${spec.name}" has decreasing utf8 offsets at row ${i}`,
          i,
        );
      }
    }
    if (n > 0 && utf8.offsets[n]! > utf8.data.length) {
      throw new OctaError(
        'INVALID_INPUT',
        `column "${spec.name}" has utf8 offsets past its data`,
        utf8.offsets[n],
      );
    }
    checkValid(spec, utf8.valid, n);
    return { kind: 'utf8', utf8: utf8 as Utf8Values };
  }
  // Decimals hold their unscaled values as int64.
  const ctor = Object.hasOwn(FIXED_CTOR, spec.type)
    ? FIXED_CTOR[spec.type as keyof typeof FIXED_CTOR]
    : BigInt64Array;
  let values: unknown = raw;
  let valid: Uint8Array | undefined;
  if (spec.name === 'cell' && raw instanceof BigUint64Array) {
    values = new BigInt64Array(raw.buffer, raw.byteOffset, raw.length);
  } else if (spec.nullable && !ArrayBuffer.isView(raw) && typeof raw === 'object' && 'values' in raw) {
    values = (raw as NullableValues).values;
    valid = (raw as NullableValues).valid;
  }
  if (!(values instanceof ctor)) throw mismatch(spec, `needs a ${ctor.name}`, describe(values));
  checkLength(spec, values.length, n);
  checkValid(spec, valid, n);
  return { kind: 'fixed', values, valid };
}

function checkValid(spec: ColumnSpec, valid: unknown, n: number): void {
  if (valid === undefined) return;
  if (!(valid instanceof Uint8Array)) throw mismatch(spec, 'needs validity as a Uint8Array', describe(valid));
  if (valid.length < n) {
    throw new OctaError(
      'INVALID_INPUT',
      `column "${spec.name}" has ${valid.length} validity bytes for ${n} rows`,
    );
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return (value as object).constructor?.name ?? typeof value;
}

/** Copies a validated column into storage at row `at` (storage already holds `at + n` rows). */
export function writeInput(column: FixedColumn | Utf8Column, at: number, input: Input, n: number): void {
  if (column instanceof FixedColumn) {
    if (input.kind === 'fixed') column.write(at, input.values, input.valid, n);
  } else if (input.kind === 'strings') {
    column.writeStrings(at, input.strings, n);
  } else if (input.kind === 'utf8') {
    column.writeRaw(at, input.utf8, n);
  }
}
