/**
 * The columns a CSV read fills: the column plan, the cursor that outlives chunks, and the chunk the
 * record parser (csv-records.ts) writes fields into, with the slow path for numbers it cannot read
 * inline.
 */
import type { EpochUnit } from '../../export/event-time.js';
import { hasNull } from './chunk.js';
import { isExactDouble } from './json-exact.js';
import { textToFloat64 } from './numbers.js';
import { readTimeBytes } from './time-bytes.js';
import type { ColumnData, SourceReject } from './types.js';

/** What to do with the field at each header position. */
export const SKIP = 0;
export const TEXT = 1;
export const NUMERIC = 2;
/** The event-time column, read by time-bytes.ts where it can be. */
export const TIME = 3;

/** Column plan of a CSV read. */
export interface CsvPlan {
  /** Header fields. */
  names: readonly string[];
  /** `SKIP`, `TEXT`, `NUMERIC` or `TIME` per header position. */
  kinds: Uint8Array;
  /** Delimiter byte (an ASCII character code). */
  delimiter: number;
  /** Unit of epoch numbers in the `TIME` column. */
  timeUnit: EpochUnit;
}

/** Where the reader is in the input: counters that outlive chunks. */
export interface CsvCursor {
  /** 1-based line of the next character to parse. */
  line: number;
  /** Data rows seen so far, rejects included. */
  row: number;
}

/** The rows of one chunk, filled in place by `parseCsvRecords`. */
export class CsvChunk {
  readonly capacity: number;
  readonly firstRow: number;
  /** Rows delivered. */
  rows = 0;
  /** Data rows covered, delivered plus rejected. */
  span = 0;
  readonly rowNumbers: Float64Array;
  readonly lineNumbers: Float64Array;
  readonly rejects: SourceReject[] = [];
  readonly numbers: (Float64Array | undefined)[];
  readonly valid: (Uint8Array | undefined)[];
  readonly invalid: (Map<number, string> | undefined)[];
  /** Integers a double cannot hold exactly, by field (see `ColumnData` `inexact`). */
  readonly inexact: (Map<number, string> | undefined)[];
  readonly texts: ((string | null)[] | undefined)[];
  /** `TIME` fields: INT64 µs, its Int32 view, and the raw text of the rows not read from bytes. */
  readonly times: (BigInt64Array | undefined)[];
  readonly timeWords: (Int32Array | undefined)[];
  readonly timeText: Map<number, string | null>[];
  private readonly plan: CsvPlan;

  private constructor(plan: CsvPlan, capacity: number, firstRow: number) {
    this.plan = plan;
    this.capacity = capacity;
    this.firstRow = firstRow;
    this.rowNumbers = new Float64Array(capacity);
    this.lineNumbers = new Float64Array(capacity);
    const kinds = [...plan.kinds];
    this.numbers = kinds.map((k) => (k === NUMERIC ? new Float64Array(capacity) : undefined));
    this.valid = kinds.map((k) => (k === NUMERIC ? new Uint8Array(capacity) : undefined));
    this.invalid = kinds.map(() => undefined);
    this.inexact = kinds.map(() => undefined);
    this.texts = kinds.map((k) => (k === TEXT ? new Array<string | null>(capacity) : undefined));
    this.times = kinds.map((k) => (k === TIME ? new BigInt64Array(capacity) : undefined));
    this.timeWords = this.times.map((t) => (t ? new Int32Array(t.buffer) : undefined));
    this.timeText = kinds.map(() => new Map());
  }

  /**
   * @param options.plan - the column plan
   * @param options.capacity - most data rows in the chunk
   * @param options.firstRow - data row number of the first row
   * @returns an empty chunk
   */
  static create({
    plan,
    capacity,
    firstRow,
  }: {
    plan: CsvPlan;
    capacity: number;
    firstRow: number;
  }): CsvChunk {
    return new CsvChunk(plan, capacity, firstRow);
  }

  /** Records a field that is not a number. */
  markInvalid(field: number, row: number, text: string): void {
    let map = this.invalid[field];
    if (map === undefined) {
      map = new Map();
      this.invalid[field] = map;
    }
    map.set(row, text);
  }

  /** Records a field holding an integer that its double only approximates. */
  markInexact(field: number, row: number, text: string): void {
    let map = this.inexact[field];
    if (map === undefined) {
      map = new Map();
      this.inexact[field] = map;
    }
    map.set(row, text);
  }

  /** Forgets what a rejected row wrote (only these maps keep state beyond the row index). */
  rollback(row: number): void {
    for (const map of this.invalid) map?.delete(row);
    for (const map of this.inexact) map?.delete(row);
    for (const map of this.timeText) map.delete(row);
  }

  /** Stores a `TIME` field: read from its bytes when in a common form, else kept as text. */
  time(field: number, row: number, bytes: Buffer, p: number, e: number): void {
    // A row index is reused only after rollback() forgot its text, so a read row has none.
    if (e === p || !readTimeBytes(bytes, p, e, this.plan.timeUnit, this.timeWords[field]!, row)) {
      this.timeText[field]!.set(row, e === p ? null : bytes.toString('utf8', p, e));
    }
  }

  /** @returns the delivered columns by name */
  columns(): Record<string, ColumnData> {
    const out: Record<string, ColumnData> = {};
    const n = this.rows;
    this.plan.kinds.forEach((kind, i) => {
      const name = this.plan.names[i]!;
      if (kind === NUMERIC) {
        const valid = this.valid[i]!.subarray(0, n);
        const invalid = this.invalid[i];
        const inexact = this.inexact[i];
        out[name] = {
          type: 'float64',
          values: this.numbers[i]!.subarray(0, n),
          ...(hasNull(valid, n) ? { valid } : {}),
          ...(invalid !== undefined && invalid.size > 0 ? { invalid } : {}),
          ...(inexact !== undefined && inexact.size > 0 ? { inexact } : {}),
        };
      } else if (kind === TEXT) {
        const values = this.texts[i]!;
        values.length = n;
        out[name] = { type: 'text', values };
      } else if (kind === TIME) {
        out[name] = {
          type: 'event_time',
          values: this.times[i]!.subarray(0, n),
          text: this.timeText[i]!,
        };
      }
    });
    return out;
  }
}

/** Parses a numeric field that the inline path declined (numbers.ts grammar). */
export function numericSlow(chunk: CsvChunk, field: number, row: number, text: string): void {
  const value = textToFloat64(text);
  const numbers = chunk.numbers[field]!;
  const valid = chunk.valid[field]!;
  if (value === null) {
    numbers[row] = Number.NaN;
    valid[row] = 0;
  } else if (value === undefined) {
    numbers[row] = Number.NaN;
    valid[row] = 1;
    chunk.markInvalid(field, row, text);
  } else {
    numbers[row] = value;
    valid[row] = 1;
    // Only the slow path sees integers of 16 digits or more, the only ones a double may round.
    const digits = text.trim();
    if (INTEGER.test(digits) && !isExactDouble(digits)) chunk.markInexact(field, row, digits);
  }
}

const INTEGER = /^[+-]?\d{16,}$/;
