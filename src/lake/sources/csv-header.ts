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
  /** Position after the record's terminator. */
  end: number;
  /** Line terminators consumed (blank lines before it included). */
  lines: number;
}

/**
 * Splits the first record of `text` (the header), skipping blank lines before it.
 * @param text - decoded input from its start (BOM removed)
 * @param eof - whether `text` is the whole input
 * @param delimiter - delimiter character code
 * @returns the record; null when the text holds no complete record yet (or none at all at eof)
 * @throws {Error} with a message for an unterminated quote, which the caller wraps
 */
export function splitHeader(text: string, eof: boolean, delimiter: number): HeaderRecord | null {
  const len = text.length;
  let p = 0;
  let lines = 0;
  for (;;) {
    if (p >= len) return null;
    const c = text.charCodeAt(p);
    if (c !== LF && c !== CR) break;
    if (c === CR && p + 1 >= len && !eof) return null;
    p += c === CR && text.charCodeAt(p + 1) === LF ? 2 : 1;
    lines++;
  }
  const fields: string[] = [];
  for (;;) {
    let c = p < len ? text.charCodeAt(p) : -1;
    if (c === QUOTE) {
      let value = '';
      let from = p + 1;
      for (;;) {
        const k = text.indexOf('"', from);
        if (k < 0 || (k + 1 >= len && !eof)) {
          if (!eof) return null;
          throw new Error('the header has an unterminated quoted field');
        }
        value += text.slice(from, k);
        if (text.charCodeAt(k + 1) === QUOTE) {
          value += '"';
          from = k + 2;
          continue;
        }
        lines += countLines(text, p, k);
        p = k + 1;
        break;
      }
      fields.push(value);
    } else {
      const e = fieldEnd(text, p, delimiter);
      fields.push(text.slice(p, e));
      p = e;
    }
    if (p >= len) {
      if (!eof) return null;
      return { fields, end: p, lines };
    }
    c = text.charCodeAt(p);
    if (c === delimiter) {
      p++;
      continue;
    }
    if (c !== LF && c !== CR)
      throw new Error(`the header has text after a closing quote in field ${fields.length}`);
    if (c === CR && p + 1 >= len && !eof) return null;
    p += c === CR && text.charCodeAt(p + 1) === LF ? 2 : 1;
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
