/**
 * The CSV hot loop: RFC 4180 records from UTF-8 bytes into typed columns. Delimiters, quotes and
 * line breaks are ASCII bytes, which never occur inside a multi-byte UTF-8 character, so records
 * are split on bytes and only text fields are decoded. Numeric columns are parsed inline from the
 * bytes, with no string per field: a plain decimal of at most 15
 * significant digits and a power-of-ten scale within ±22 is `mantissa / 10^k` (or `* 10^k`), one
 * correctly rounded operation on exact operands, so it equals `Number(text)` bit for bit; one of 16
 * to 19 digits with a fraction (full-precision doubles print so) goes through `decimalQuotient`,
 * which is exact too or declines; anything else takes the slow path in numbers.ts.
 *
 * Decisions: a record ends at LF, CRLF or a lone CR; blank lines are skipped and are not data rows;
 * a `"` inside an unquoted field is an ordinary character; text after a closing quote, a wrong field
 * count and an unterminated quote at the end make the record a reject. A record cut by the end of
 * the bytes is left for the next call, which starts again at its first byte. Positions are byte
 * offsets; a text field decodes as TextDecoder does (an invalid byte becomes U+FFFD).
 */

import type { EpochUnit } from '../../export/event-time.js';
import { cutRejectText, hasNull } from './chunk.js';
import { isExactDouble } from './json-exact.js';
import { decimalQuotient, POW10, textToFloat64 } from './numbers.js';
import { readTimeBytes } from './time-bytes.js';
import { type ColumnData, REJECT_TEXT_CHARS, type SourceReject } from './types.js';

const LF = 10;
const CR = 13;
const QUOTE = 34;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const ZERO = 48;
const LOWER_E = 101;
const UPPER_E = 69;

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
  /** `TIME` fields: INT64 µs, its Int32 view, whether each row was read, and the raw text of the rest. */
  readonly times: (BigInt64Array | undefined)[];
  readonly timeWords: (Int32Array | undefined)[];
  readonly timeParsed: (Uint8Array | undefined)[];
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
    this.timeParsed = kinds.map((k) => (k === TIME ? new Uint8Array(capacity) : undefined));
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
    const parsed = this.timeParsed[field]!;
    if (e > p && readTimeBytes(bytes, p, e, this.plan.timeUnit, this.timeWords[field]!, row)) parsed[row] = 1;
    else {
      parsed[row] = 0;
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
          parsed: this.timeParsed[i]!.subarray(0, n),
          text: this.timeText[i]!,
        };
      }
    });
    return out;
  }
}

function numericSlow(chunk: CsvChunk, field: number, row: number, text: string): void {
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

/** The end of an unquoted field: the first delimiter, CR or LF at or after `p`, else the end. */
export function fieldEnd(bytes: Uint8Array, p: number, delimiter: number): number {
  const len = bytes.length;
  let e = p;
  for (; e < len; e++) {
    const c = bytes[e]!;
    if (c === delimiter || c === LF || c === CR) break;
  }
  return e;
}

/** LF bytes in `bytes[from..to)`. */
export function countLines(bytes: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = bytes.indexOf(LF, from); i >= 0 && i < to; i = bytes.indexOf(LF, i + 1)) n++;
  return n;
}

/** The raw text of a rejected record for the reject file: decoded, cut, without its line break. */
export function rejectText(bytes: Buffer, from: number, to: number): string {
  return cutRejectText(bytes.toString('utf8', from, Math.min(to, from + 4 * REJECT_TEXT_CHARS)));
}

/**
 * Parses records from `bytes[start..]` into `chunk` until it is full or the bytes run out.
 * @param bytes - input bytes (BOM removed); `bytes[start]` begins a record or a blank line
 * @param start - where to begin
 * @param eof - whether `bytes` reaches the end of the input (else a cut record waits for more)
 * @param plan - the column plan
 * @param chunk - the chunk to fill
 * @param cursor - line and row counters, advanced past every consumed record
 * @returns the position after the last consumed record
 */
/**
 * A record cut by the end of the bytes: forgets what its fields wrote so far (they are read again,
 * whole, with the next bytes) and returns where the record starts.
 */
function cut(chunk: CsvChunk, row: number, pos: number): number {
  chunk.rollback(row);
  return pos;
}

export function parseCsvRecords(
  bytes: Buffer,
  start: number,
  eof: boolean,
  plan: CsvPlan,
  chunk: CsvChunk,
  cursor: CsvCursor,
): number {
  const len = bytes.length;
  const { kinds, delimiter } = plan;
  const ncols = kinds.length;
  const { numbers, valid, texts } = chunk;
  let pos = start;
  while (chunk.span < chunk.capacity) {
    if (pos >= len) return pos;
    let c = bytes[pos]!;
    if (c === LF || c === CR) {
      if (c === CR && pos + 1 >= len && !eof) return pos;
      pos += c === CR && bytes[pos + 1] === LF ? 2 : 1;
      cursor.line++;
      continue;
    }
    const row = chunk.rows;
    let lines = 0;
    let field = 0;
    let p = pos;
    let error: string | undefined;
    for (;;) {
      const kind = field < ncols ? kinds[field]! : SKIP;
      c = p < len ? bytes[p]! : -1;
      if (c === QUOTE) {
        let from = p + 1;
        let close = -1;
        let escaped = false;
        for (;;) {
          const k = bytes.indexOf(QUOTE, from);
          if (k < 0 || (k + 1 >= len && !eof)) break;
          if (bytes[k + 1] === QUOTE) {
            escaped = true;
            from = k + 2;
            continue;
          }
          close = k;
          break;
        }
        if (close < 0) {
          if (!eof) return cut(chunk, row, pos);
          // The quote never closes: the rest of the input is this one bad record.
          cursor.row++;
          chunk.span++;
          chunk.rollback(row);
          chunk.rejects.push({
            row: cursor.row,
            line: cursor.line,
            reason: `unterminated quoted field ${field + 1}: a " opens a field that never closes`,
            text: rejectText(bytes, pos, len),
          });
          cursor.line += countLines(bytes, pos, len);
          return len;
        }
        lines += countLines(bytes, p + 1, close);
        if (kind !== SKIP) {
          let value = bytes.toString('utf8', p + 1, close);
          if (escaped) value = value.replaceAll('""', '"');
          if (kind === TEXT) texts[field]![row] = value;
          else if (kind === TIME) {
            chunk.timeParsed[field]![row] = 0;
            chunk.timeText[field]!.set(row, value);
          } else numericSlow(chunk, field, row, value);
        }
        p = close + 1;
        c = p < len ? bytes[p]! : -1;
        if (c !== delimiter && c !== LF && c !== CR && c !== -1) {
          error ??= `field ${field + 1}: unexpected text after a closing quote`;
          p = fieldEnd(bytes, p, delimiter);
        }
      } else if (kind === NUMERIC) {
        let j = p;
        let negative = false;
        if (c === MINUS) {
          negative = true;
          j++;
        } else if (c === PLUS) j++;
        // The first 15 digits in `mantissa` (exact), up to 4 more in `tail`.
        let mantissa = 0;
        let tail = 0;
        let digits = 0;
        let scale = 0;
        let exponent = 0;
        let ch = j < len ? bytes[j]! : -1;
        for (let d = ch - ZERO; d >= 0 && d <= 9; d = ch - ZERO) {
          if (digits < 15) mantissa = mantissa * 10 + d;
          else tail = tail * 10 + d;
          digits++;
          ch = ++j < len ? bytes[j]! : -1;
        }
        if (ch === DOT) {
          ch = ++j < len ? bytes[j]! : -1;
          for (let d = ch - ZERO; d >= 0 && d <= 9; d = ch - ZERO) {
            if (digits < 15) mantissa = mantissa * 10 + d;
            else tail = tail * 10 + d;
            digits++;
            scale++;
            ch = ++j < len ? bytes[j]! : -1;
          }
        }
        let fast = digits > 0 && digits <= 19;
        if (fast && (ch === LOWER_E || ch === UPPER_E)) {
          ch = ++j < len ? bytes[j]! : -1;
          let expNegative = false;
          if (ch === MINUS || ch === PLUS) {
            expNegative = ch === MINUS;
            ch = ++j < len ? bytes[j]! : -1;
          }
          let expDigits = 0;
          for (let d = ch - ZERO; d >= 0 && d <= 9 && expDigits < 4; d = ch - ZERO) {
            exponent = exponent * 10 + d;
            expDigits++;
            ch = ++j < len ? bytes[j]! : -1;
          }
          if (expNegative) exponent = -exponent;
          fast = expDigits > 0;
        }
        const k = exponent - scale;
        let magnitude = Number.NaN;
        if (fast && k >= -22 && k <= 22 && (ch === delimiter || ch === LF || ch === CR || ch === -1)) {
          if (digits <= 15)
            magnitude = k === 0 ? mantissa : k < 0 ? mantissa / POW10[-k]! : mantissa * POW10[k]!;
          // 16 to 19 digits with a fraction (integers that long may not be exact doubles: slow path).
          else if (k < 0) magnitude = decimalQuotient(mantissa, tail, digits - 15, -k);
        }
        if (!Number.isNaN(magnitude)) {
          numbers[field]![row] = negative ? -magnitude : magnitude;
          valid[field]![row] = 1;
          p = j;
        } else {
          const e = fieldEnd(bytes, p, delimiter);
          numericSlow(chunk, field, row, bytes.toString('utf8', p, e));
          p = e;
        }
      } else {
        const e = fieldEnd(bytes, p, delimiter);
        if (kind === TEXT) texts[field]![row] = e === p ? null : bytes.toString('utf8', p, e);
        else if (kind === TIME) chunk.time(field, row, bytes, p, e);
        p = e;
      }
      field++;
      if (p >= len) {
        if (!eof) return cut(chunk, row, pos);
        break;
      }
      c = bytes[p]!;
      if (c === delimiter) {
        p++;
        continue;
      }
      if (c === CR && p + 1 >= len && !eof) return cut(chunk, row, pos);
      p += c === CR && bytes[p + 1] === LF ? 2 : 1;
      lines++;
      break;
    }
    cursor.row++;
    chunk.span++;
    if (error === undefined && field !== ncols) error = `expected ${ncols} fields, found ${field}`;
    if (error === undefined) {
      chunk.rowNumbers[row] = cursor.row;
      chunk.lineNumbers[row] = cursor.line;
      chunk.rows++;
    } else {
      chunk.rollback(row);
      chunk.rejects.push({
        row: cursor.row,
        line: cursor.line,
        reason: error,
        text: rejectText(bytes, pos, p),
      });
    }
    cursor.line += lines;
    pos = p;
  }
  return pos;
}
