/**
 * The CSV header: the first record, split with the same quoting rules as the data, and the column
 * names made from it.
 */
import { OctaError } from '../../lattice/errors.js';
import { countLines, fieldEnd } from './csv-records.js';

const LF = 10;
const CR = 13;
const QUOTE = 34;

/** A header record split into fields. */
export interface HeaderRecord {
  fields: string[];
  /** Byte position after the record's terminator. */
  end: number;
  /** Line terminators consumed (blank lines before it included). */
  lines: number;
}

/**
 * Splits the first record of `bytes` (the header), skipping blank lines before it.
 * @param bytes - UTF-8 input from its start (BOM removed)
 * @param eof - whether `bytes` is the whole input
 * @param delimiter - delimiter character code
 * @returns the record; null when the bytes hold no complete record yet (or none at all at eof)
 * @throws {Error} with a message for an unterminated quote, which the caller wraps
 */
export function splitHeader(bytes: Buffer, eof: boolean, delimiter: number): HeaderRecord | null {
  const len = bytes.length;
  let p = 0;
  let lines = 0;
  for (;;) {
    if (p >= len) return null;
    const c = bytes[p]!;
    if (c !== LF && c !== CR) break;
    if (c === CR && p + 1 >= len && !eof) return null;
    p += c === CR && bytes[p + 1] === LF ? 2 : 1;
    lines++;
  }
  const fields: string[] = [];
  for (;;) {
    let c = p < len ? bytes[p]! : -1;
    if (c === QUOTE) {
      let value = '';
      let from = p + 1;
      for (;;) {
        const k = bytes.indexOf(QUOTE, from);
        if (k < 0 || (k + 1 >= len && !eof)) {
          if (!eof) return null;
          throw new Error('the header has an unterminated quoted field');
        }
        value += bytes.toString('utf8', from, k);
        if (bytes[k + 1] === QUOTE) {
          value += '"';
          from = k + 2;
          continue;
        }
        lines += countLines(bytes, p, k);
        p = k + 1;
        break;
      }
      fields.push(value);
    } else {
      const e = fieldEnd(bytes, p, delimiter);
      fields.push(bytes.toString('utf8', p, e));
      p = e;
    }
    if (p >= len) {
      if (!eof) return null;
      return { fields, end: p, lines };
    }
    c = bytes[p]!;
    if (c === delimiter) {
      p++;
      continue;
    }
    if (c !== LF && c !== CR)
      throw new Error(`the header has text after a closing quote in field ${fields.length}`);
    if (c === CR && p + 1 >= len && !eof) return null;
    p += c === CR && bytes[p + 1] === LF ? 2 : 1;
    return { fields, end: p, lines: lines + 1 };
  }
}

/**
 * Column names from header fields: an empty field is named `column<N>` (1-based, as DuckDB does),
 * and a name used twice is an error rather than a silent rename.
 */
export function headerNames(fields: readonly string[], name: string): string[] {
  const names = fields.map((f, i) => (f.length === 0 ? `column${i + 1}` : f));
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) {
      throw new OctaError(
        'INVALID_INPUT',
        `${name}: the CSV header names column "${n}" twice; rename one`,
        n,
      );
    }
    seen.add(n);
  }
  return names;
}
