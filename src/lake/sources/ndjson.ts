/**
 * NDJSON source: one JSON object per line. The columns are the keys of the first non-blank line, in
 * its order, fixed at open; a later line's other keys are ignored and its missing keys are null.
 * A line that is not valid JSON, or not an object, is a reject; blank lines are skipped and are not
 * data rows. Values stay as `JSON.parse` made them (`json` columns) unless named `numeric`, except
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

  async function* read({ chunkRows, selected, numeric }: ChunkPlan): AsyncGenerator<SourceChunk> {
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
    chunks: chunksOnce(columns, input.name, (plan) => read(plan)),
    close: () => input.close(),
  };
}
