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

import { cutRejectText } from './chunk.js';
import {
  type CsvChunk,
  type CsvCursor,
  type CsvPlan,
  NUMERIC,
  numericSlow,
  SKIP,
  TEXT,
  TIME,
} from './csv-chunk.js';
import { decimalQuotient, POW10 } from './numbers.js';
import { REJECT_TEXT_CHARS } from './types.js';

const LF = 10;
const CR = 13;
const QUOTE = 34;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const ZERO = 48;
const LOWER_E = 101;
const UPPER_E = 69;

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
 * A record cut by the end of the bytes: forgets what its fields wrote so far (they are read again,
 * whole, with the next bytes) and returns where the record starts.
 */
function cut(chunk: CsvChunk, row: number, pos: number): number {
  chunk.rollback(row);
  return pos;
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
          else if (kind === TIME) chunk.timeText[field]!.set(row, value);
          else numericSlow(chunk, field, row, value);
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
