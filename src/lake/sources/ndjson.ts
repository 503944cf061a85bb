/**
 * NDJSON source: one JSON object per line. The columns are the keys of the first non-blank line, in
 * its order, fixed at open; a later line's missing keys are null. No value is dropped unseen: a line
 * with a key that is not a column (unless the caller names it in `ignoreKeys`), or with a key given
 * twice in one object (where `JSON.parse` would keep only the last value), is a reject, as is a line
 * that is not valid JSON or not an object; blank lines are skipped and are not data rows. Values
 * stay as `JSON.parse` made them (`json` columns) unless named `numeric`, except
 * that an integer past ±(2^53 − 1) is a bigint (json-exact.ts).
 */
import { OctaError } from '../../lattice/errors.js';
import { type ChunkPlan, chunksOnce, cutRejectText, hasNull } from './chunk.js';
import { messageOf } from './errors.js';
import type { ByteInput } from './input.js';
import { parseJsonExact } from './json-exact.js';
import { textToFloat64 } from './numbers.js';
import { TextFeed } from './text-feed.js';
import type { ColumnData, Source, SourceChunk, SourceColumn, SourceReject } from './types.js';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;

/** The position of the quote closing the string that opens at `open`, in valid JSON text. */
function stringEnd(text: string, open: number): number {
  let k = text.indexOf('"', open + 1);
  for (;;) {
    let slashes = 0;
    while (text.charCodeAt(k - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return k;
    k = text.indexOf('"', k + 1);
  }
}

/** Keys written in valid JSON text, at every depth: the colons outside strings. */
function keysInText(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i);
    else if (c === COLON) n++;
  }
  return n;
}

/** Keys of a parsed value, at every depth. */
function keysInValue(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (const item of v) n += keysInValue(item);
    return n;
  }
  for (const key of Object.keys(v)) n += 1 + keysInValue((v as Record<string, unknown>)[key]);
  return n;
}

/**
 * The first key written twice in one object of valid JSON text, at any depth; undefined when none.
 * `JSON.parse` keeps the last value of a repeated key, so the parsed object has fewer keys than the
 * text: only then is the text walked object by object to name the key.
 */
export function repeatedKey(text: string, parsed: unknown): string | undefined {
  if (keysInText(text) === keysInValue(parsed)) return undefined;
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') stack.push(new Set());
    else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === '"') {
      const end = stringEnd(text, i);
      let next = end + 1;
      while (/\s/.test(text[next] ?? '')) next++;
      const keys = stack[stack.length - 1];
      if (text.charCodeAt(next) === COLON && keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      i = end;
    }
  }
  return undefined;
}

/** One column being filled: JSON values, or float64 with validity and raw text of non-numbers. */
type Sink =
  | { name: string; numeric: false; values: unknown[] }
  | {
      name: string;
      numeric: true;
      values: Float64Array;
      valid: Uint8Array;
      invalid: Map<number, string>;
      inexact: Map<number, string>;
    };

function put(sink: Sink, row: number, value: unknown): void {
  if (!sink.numeric) {
    sink.values[row] = value === undefined ? null : value;
    return;
  }
  let number: number | null | undefined;
  if (typeof value === 'number') number = value;
  else if (typeof value === 'bigint') {
    number = Number(value);
    if (BigInt(number) !== value) sink.inexact.set(row, value.toString());
  } else if (value === null || value === undefined) number = null;
  else if (typeof value === 'string') number = textToFloat64(value);
  sink.valid[row] = number === null ? 0 : 1;
  sink.values[row] = number ?? Number.NaN;
  if (number === undefined) sink.invalid.set(row, typeof value === 'string' ? value : JSON.stringify(value));
}

function finishSink(sink: Sink, n: number): ColumnData {
  if (!sink.numeric) {
    sink.values.length = n;
    return { type: 'json', values: sink.values };
  }
  const valid = sink.valid.subarray(0, n);
  return {
    type: 'float64',
    values: sink.values.subarray(0, n),
    ...(hasNull(valid, n) ? { valid } : {}),
    ...(sink.invalid.size > 0 ? { invalid: sink.invalid } : {}),
    ...(sink.inexact.size > 0 ? { inexact: sink.inexact } : {}),
  };
}

/**
 * Opens an NDJSON input and reads the keys of its first line.
 * @param input - the bytes
 * @returns the source; its columns are the first object's keys, all `json`
 * @throws {OctaError} INVALID_INPUT for empty input or a first line that is not a JSON object
 */
export async function openNdjsonSource(input: ByteInput): Promise<Source> {
  const feed = TextFeed.create(input);
  let first: string | undefined;
  let blank = 0;
  while (first === undefined) {
    const nl = feed.text.indexOf('\n', feed.pos);
    if (nl < 0 && !feed.eof) {
      await feed.more();
      continue;
    }
    const end = nl < 0 ? feed.text.length : nl;
    const line = feed.text.slice(feed.pos, end);
    if (line.trim().length > 0) first = line;
    else if (nl < 0) break;
    else {
      feed.pos = end + 1;
      blank++;
    }
  }
  if (first === undefined)
    throw new OctaError(
      'INVALID_INPUT',
      `${input.name}: empty input; NDJSON needs one object per line`,
      input.name,
    );
  let parsed: unknown;
  try {
    parsed = parseJsonExact(first);
  } catch {
    parsed = undefined;
  }
  if (!isObject(parsed)) {
    throw new OctaError(
      'INVALID_INPUT',
      `${input.name}: line ${blank + 1} is not a JSON object, so the columns are unknown; NDJSON needs one object per line`,
      cutRejectText(first).slice(0, 80),
    );
  }
  const columns: SourceColumn[] = Object.keys(parsed).map((name) => ({ name, type: 'json' }));
  const cursor = { line: blank + 1, row: 0 };

  const known = new Set(columns.map((c) => c.name));
  const firstLine = blank + 1;

  async function* read(
    { chunkRows, selected, numeric }: ChunkPlan,
    ignoreKeys: ReadonlySet<string>,
  ): AsyncGenerator<SourceChunk> {
    for (;;) {
      const firstRow = cursor.row + 1;
      const sinks: Sink[] = selected.map(({ name }) =>
        numeric.has(name)
          ? {
              name,
              numeric: true,
              values: new Float64Array(chunkRows),
              valid: new Uint8Array(chunkRows),
              invalid: new Map(),
              inexact: new Map(),
            }
          : { name, numeric: false, values: new Array<unknown>(chunkRows) },
      );
      const rowNumbers = new Float64Array(chunkRows);
      const lineNumbers = new Float64Array(chunkRows);
      const rejects: SourceReject[] = [];
      let rows = 0;
      let span = 0;
      let done = false;
      while (span < chunkRows) {
        const { text, pos } = feed;
        let nl = text.indexOf('\n', pos);
        if (nl < 0) {
          if (!feed.eof) {
            await feed.more();
            continue;
          }
          if (pos >= text.length) {
            done = true;
            break;
          }
          nl = text.length;
        }
        const line = text.slice(pos, nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
        feed.pos = Math.min(nl + 1, text.length);
        const lineNumber = cursor.line++;
        if (line.trim().length === 0) continue;
        const row = ++cursor.row;
        span++;
        let value: unknown;
        try {
          value = parseJsonExact(line);
        } catch (error) {
          rejects.push({
            row,
            line: lineNumber,
            reason: `invalid JSON: ${messageOf(error)}`,
            text: cutRejectText(line),
          });
          continue;
        }
        if (!isObject(value)) {
          rejects.push({ row, line: lineNumber, reason: 'not a JSON object', text: cutRejectText(line) });
          continue;
        }
        const stray = Object.keys(value).find((key) => !known.has(key) && !ignoreKeys.has(key));
        if (stray !== undefined) {
          rejects.push({
            row,
            line: lineNumber,
            reason: `key ${JSON.stringify(stray)} is not a column (the columns are the keys of line ${firstLine}); put it on that line to keep it, or leave it out with --exclude ${JSON.stringify(stray)}`,
            text: cutRejectText(line),
          });
          continue;
        }
        const repeated = repeatedKey(line, value);
        if (repeated !== undefined) {
          rejects.push({
            row,
            line: lineNumber,
            reason: `key ${JSON.stringify(repeated)} is given twice in one object; which value to keep is not clear`,
            text: cutRejectText(line),
          });
          continue;
        }
        for (const sink of sinks) put(sink, rows, Object.hasOwn(value, sink.name) ? value[sink.name] : null);
        lineNumbers[rows] = lineNumber;
        rowNumbers[rows++] = row;
      }
      if (span > 0) {
        const out: Record<string, ColumnData> = {};
        for (const sink of sinks) out[sink.name] = finishSink(sink, rows);
        yield {
          firstRow,
          rows,
          rowNumbers: rowNumbers.subarray(0, rows),
          lineNumbers: lineNumbers.subarray(0, rows),
          columns: out,
          rejects,
          position: { rows: cursor.row, bytes: feed.bytePosition() },
        };
      }
      if (done) return;
    }
  }

  return {
    format: 'ndjson',
    columns,
    identity: input.identity,
    chunks: chunksOnce(columns, input.name, (plan, options) =>
      read(plan, new Set(options?.ignoreKeys ?? [])),
    ),
    close: () => input.close(),
  };
}
