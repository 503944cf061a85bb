/**
 * What every reader does the same way: checks `chunks()` options once, cuts reject text, slices
 * typed columns into chunks, and assembles the `SourceChunk` record.
 */
import type { EpochUnit } from '../../export/event-time.js';
import { OctaError } from '../../lattice/errors.js';
import {
  type ChunkOptions,
  type ColumnData,
  DEFAULT_CHUNK_ROWS,
  MAX_CHUNK_ROWS,
  REJECT_TEXT_CHARS,
  type SourceChunk,
  type SourceColumn,
  type SourceReject,
} from './types.js';

/** `chunks()` options after validation. */
export interface ChunkPlan {
  chunkRows: number;
  /** The columns to deliver, in source order. */
  selected: SourceColumn[];
  /** Names of the selected columns to parse as float64 (text formats). */
  numeric: ReadonlySet<string>;
  /** The selected event-time column to read as times (CSV), if any. */
  time?: { column: string; unit: EpochUnit };
}

/**
 * Validates `chunks()` options against the source's columns.
 * @param columns - the source's columns
 * @param options - what the caller passed
 * @returns the plan
 * @throws {OctaError} INVALID_ARGUMENT for a bad chunkRows or a column the source does not have;
 *   SCHEMA_MISMATCH when an `unsupported` column is selected (it cannot be decoded)
 */
export function planChunks(columns: readonly SourceColumn[], options: ChunkOptions = {}): ChunkPlan {
  const { chunkRows = DEFAULT_CHUNK_ROWS, numeric = [], columns: wanted, time } = options;
  if (!Number.isInteger(chunkRows) || chunkRows < 1 || chunkRows > MAX_CHUNK_ROWS) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `chunkRows must be an integer in 1..${MAX_CHUNK_ROWS}`,
      chunkRows,
    );
  }
  const names = new Set(columns.map((c) => c.name));
  const unknown = [...numeric, ...(wanted ?? []), ...(time ? [time.column] : [])].find(
    (name) => !names.has(name),
  );
  if (unknown !== undefined) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `the input has no column of that name; it has ${columns.map((c) => JSON.stringify(c.name)).join(', ')}`,
      unknown,
    );
  }
  const keep = wanted === undefined ? names : new Set(wanted);
  const unsupported = columns.find((c) => c.type === 'unsupported' && keep.has(c.name));
  if (unsupported !== undefined) {
    throw new OctaError(
      'SCHEMA_MISMATCH',
      `column ${JSON.stringify(unsupported.name)} has type ${unsupported.detail ?? 'unknown'}, which the lake cannot store exactly; leave it out`,
      unsupported.name,
    );
  }
  return {
    chunkRows,
    selected: columns.filter((c) => keep.has(c.name)),
    numeric: new Set(numeric.filter((name) => keep.has(name))),
    ...(time && keep.has(time.column) && !numeric.includes(time.column) ? { time } : {}),
  };
}

/**
 * A reject's raw text: without its line terminator, cut to `REJECT_TEXT_CHARS` characters.
 * @param text - the raw record
 * @returns the text to report
 */
export function cutRejectText(text: string): string {
  const trimmed = text.replace(/\r?\n$|\r$/, '');
  return trimmed.length > REJECT_TEXT_CHARS ? trimmed.slice(0, REJECT_TEXT_CHARS) : trimmed;
}

/**
 * Consecutive row numbers `first, first + 1, ...` for a chunk without rejects.
 * @param first - the first row number
 * @param rows - how many
 * @returns the numbers
 */
export function consecutiveRows(first: number, rows: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = first + i;
  return out;
}

/**
 * Rows `start..end` of a column, sharing memory with it where the type allows.
 * @param data - a column
 * @param start - first row
 * @param end - row after the last
 * @returns the slice
 */
export function sliceColumn(data: ColumnData, start: number, end: number): ColumnData {
  if (data.type === 'json') return { type: 'json', values: data.values.slice(start, end) };
  if (data.type === 'event_time') {
    const text = sliceInvalid(data.text, start, end) ?? new Map<number, string | null>();
    return { type: data.type, values: data.values.subarray(start, end), text };
  }
  const invalid = 'invalid' in data ? sliceInvalid(data.invalid, start, end) : undefined;
  const withInvalid = <T extends object>(column: T) =>
    invalid === undefined ? column : { ...column, invalid };
  if (data.type === 'text')
    return withInvalid({ type: 'text' as const, values: data.values.slice(start, end) });
  const valid = data.valid?.subarray(start, end);
  const withValid = <T extends object>(column: T) => (valid === undefined ? column : { ...column, valid });
  switch (data.type) {
    case 'float64':
      return withInvalid(withValid({ type: 'float64' as const, values: data.values.subarray(start, end) }));
    case 'int32':
    case 'date':
      return withValid({ type: data.type, values: data.values.subarray(start, end) });
    case 'bool':
      return withValid({ type: 'bool' as const, values: data.values.subarray(start, end) });
    case 'decimal':
      return withValid({ type: data.type, values: data.values.subarray(start, end), scale: data.scale });
    default:
      return withInvalid(withValid({ type: data.type, values: data.values.subarray(start, end) }));
  }
}

/** The entries of a row-keyed map that fall in `start..end`, renumbered from the slice's start. */
function sliceInvalid<V>(
  invalid: Map<number, V> | undefined,
  start: number,
  end: number,
): Map<number, V> | undefined {
  if (invalid === undefined || invalid.size === 0) return undefined;
  const out = new Map<number, V>();
  for (const [i, text] of invalid) if (i >= start && i < end) out.set(i - start, text);
  return out.size === 0 ? undefined : out;
}

/**
 * Builds a chunk of rows without rejects (typed sources).
 * @param firstRow - data row number of the first row
 * @param columns - the chunk's columns, each `rows` long
 * @param rows - row count
 * @param bytes - bytes consumed so far, if known
 * @returns the chunk
 */
export function typedChunk(
  firstRow: number,
  columns: Record<string, ColumnData>,
  rows: number,
  bytes?: number,
): SourceChunk {
  const rejects: SourceReject[] = [];
  return {
    firstRow,
    rows,
    rowNumbers: consecutiveRows(firstRow, rows),
    columns,
    rejects,
    position: bytes === undefined ? { rows: firstRow - 1 + rows } : { rows: firstRow - 1 + rows, bytes },
  };
}

/**
 * Whether `valid[0..n)` has a zero; a column whose rows are all valid drops its `valid`.
 * @param valid - validity bytes
 * @param n - rows to look at
 * @returns true when some row is null
 */
export function hasNull(valid: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (valid[i] === 0) return true;
  return false;
}

/**
 * The `chunks` method of a source: checks the options into a plan and starts `read` with it, once;
 * a second call throws, as the Source contract says.
 */
export function chunksOnce(
  columns: readonly SourceColumn[],
  name: string,
  read: (plan: ChunkPlan, options: ChunkOptions | undefined) => AsyncIterable<SourceChunk>,
): (options?: ChunkOptions) => AsyncIterable<SourceChunk> {
  let used = false;
  return (options) => {
    if (used) throw new OctaError('INVALID_ARGUMENT', 'chunks() of a source can be read only once', name);
    const plan = planChunks(columns, options);
    used = true;
    return read(plan, options);
  };
}
