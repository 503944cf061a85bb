/**
 * CSV source: reads the header at open, then hands blocks of bytes to the record parser.
 * Memory holds one block, the record that straddles it, and one chunk of columns.
 */
import { OctaError } from '../../lattice/errors.js';
import { ByteFeed } from './byte-feed.js';
import { type ChunkPlan, chunksOnce } from './chunk.js';
import { CsvChunk, type CsvCursor, type CsvPlan, NUMERIC, SKIP, TEXT, TIME } from './csv-chunk.js';
import { headerNames, splitHeader } from './csv-header.js';
import { parseCsvRecords } from './csv-records.js';
import { messageOf } from './errors.js';
import type { ByteInput } from './input.js';
import type { Source, SourceChunk, SourceColumn } from './types.js';

/**
 * Opens a CSV input and reads its header.
 * @param input - the bytes
 * @param options.delimiter - one character, default `,`
 * @returns the source; its columns are the header fields, all `text`
 * @throws {OctaError} INVALID_INPUT for empty input, a malformed header or duplicate names
 */
export async function openCsvSource(
  input: ByteInput,
  { delimiter = ',' }: { delimiter?: string } = {},
): Promise<Source> {
  const code = delimiter.charCodeAt(0);
  if (
    delimiter.length !== 1 ||
    code > 0x7f ||
    delimiter === '"' ||
    delimiter === '\n' ||
    delimiter === '\r'
  ) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'the CSV delimiter must be one ASCII character other than a quote or newline',
      delimiter,
    );
  }
  const feed = ByteFeed.create(input);
  let header: ReturnType<typeof splitHeader> = null;
  for (;;) {
    try {
      header = feed.undecided ? null : splitHeader(feed.bytes, feed.eof, code);
    } catch (error) {
      throw new OctaError('INVALID_INPUT', `${input.name}: ${messageOf(error)}`, input.name);
    }
    if (header !== null || !(await feed.more())) break;
  }
  if (header === null) {
    throw new OctaError(
      'INVALID_INPUT',
      `${input.name}: empty input; a CSV needs a header line naming its columns`,
      input.name,
    );
  }
  feed.pos = header.end;
  const names = headerNames(header.fields, input.name);
  const cursor: CsvCursor = { line: 1 + header.lines, row: 0 };
  const columns: SourceColumn[] = names.map((name) => ({ name, type: 'text' }));

  async function* read({ chunkRows, selected, numeric, time }: ChunkPlan): AsyncGenerator<SourceChunk> {
    const keep = new Set(selected.map((c) => c.name));
    const kind = (n: string) =>
      numeric.has(n) ? NUMERIC : n === time?.column ? TIME : keep.has(n) ? TEXT : SKIP;
    const plan: CsvPlan = {
      names,
      kinds: Uint8Array.from(names, kind),
      delimiter: code,
      timeUnit: time?.unit ?? 's',
    };
    let chunk = CsvChunk.create({ plan, capacity: chunkRows, firstRow: 1 });
    for (;;) {
      feed.pos = parseCsvRecords(feed.bytes, feed.pos, feed.eof, plan, chunk, cursor);
      const full = chunk.span === chunk.capacity;
      if (full || (feed.eof && feed.pos >= feed.bytes.length)) {
        if (chunk.span > 0) yield finish(chunk, cursor, feed.bytePosition());
        if (!full) return;
        chunk = CsvChunk.create({ plan, capacity: chunkRows, firstRow: cursor.row + 1 });
      } else {
        await feed.more();
      }
    }
  }

  return {
    format: 'csv',
    columns,
    identity: input.identity,
    chunks: chunksOnce(columns, input.name, (plan) => read(plan)),
    close: () => input.close(),
  };
}

function finish(chunk: CsvChunk, cursor: CsvCursor, bytes: number): SourceChunk {
  return {
    firstRow: chunk.firstRow,
    rows: chunk.rows,
    rowNumbers: chunk.rowNumbers.subarray(0, chunk.rows),
    lineNumbers: chunk.lineNumbers.subarray(0, chunk.rows),
    columns: chunk.columns(),
    rejects: chunk.rejects,
    position: { rows: cursor.row, bytes },
  };
}
