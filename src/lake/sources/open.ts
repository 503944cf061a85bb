/**
 * The one entry point: picks the reader for a path or a stream and checks the bytes fit it.
 */
import { OctaError } from '../../lattice/errors.js';
import { openArrowSource } from './arrow.js';
import { openCsvSource } from './csv.js';
import { checkFormat, inferFormat, SNIFF_BYTES, sniffFormat } from './format.js';
import { type ByteInput, openFileInput, openStreamInput } from './input.js';
import { openLasSource } from './las.js';
import { LAS_HEADER_MAX, parseLasHeader } from './las-header.js';
import { openLazSource } from './laz.js';
import { openNdjsonSource } from './ndjson.js';
import { openParquetSource } from './parquet.js';
import type { Source, SourceFormat } from './types.js';

const FORMATS: ReadonlySet<string> = new Set<SourceFormat>([
  'csv',
  'ndjson',
  'parquet',
  'arrow',
  'las',
  'laz',
]);

/** Options of `openSource`. */
export interface OpenSourceOptions {
  /** A file, or `-` for stdin. */
  path?: string;
  /** A stream to read instead of a path (stdin when neither is given). */
  stream?: NodeJS.ReadableStream;
  /** The format; default by the path's extension, else sniffed from the first bytes. */
  format?: SourceFormat;
  /** CSV delimiter, default `,` (a tab for a `.tsv` path). */
  delimiter?: string;
}

/**
 * Opens an input for reading in chunks. The columns are known when this resolves; no data row has
 * been parsed yet. With no format, the extension decides, and for stdin or an unknown extension the
 * first bytes do (binary magic, else `{` for NDJSON, else CSV). LAS and LAZ are one family: the
 * header's compression bit picks the decoder, and `format` reports which.
 * @param options.path - a file, or `-` for stdin
 * @param options.stream - a stream to read instead (stdin when neither is given)
 * @param options.format - the format, when the extension is not enough
 * @param options.delimiter - CSV delimiter
 * @returns the source; `close()` it when done, also after an error
 * @throws {OctaError} INVALID_ARGUMENT for contradictory options; IO_ERROR for a missing or
 *   unreadable file; INVALID_INPUT for empty input, bytes that do not fit the format, a bad header
 */
export async function openSource({
  path,
  stream,
  format,
  delimiter,
}: OpenSourceOptions = {}): Promise<Source> {
  if (path !== undefined && stream !== undefined) {
    throw new OctaError('INVALID_ARGUMENT', 'give a path or a stream, not both', path);
  }
  if (format !== undefined && !FORMATS.has(format)) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `unknown input format; use one of ${[...FORMATS].join(', ')}`,
      format,
    );
  }
  const file = path !== undefined && path !== '-' ? path : undefined;
  const input = file !== undefined ? await openFileInput(file) : openStreamInput(stream ?? process.stdin);
  try {
    return await openInput(input, format ?? (file !== undefined ? inferFormat(file) : null), {
      delimiter: delimiter ?? (file !== undefined && /\.tsv$/i.test(file) ? '\t' : ','),
    });
  } catch (error) {
    await input.close();
    throw error;
  }
}

async function openInput(
  input: ByteInput,
  named: SourceFormat | null,
  { delimiter }: { delimiter: string },
): Promise<Source> {
  const head = await input.head(SNIFF_BYTES);
  if (head.length === 0) throw new OctaError('INVALID_INPUT', `${input.name}: empty input`, input.name);
  const format = named ?? sniffFormat(head);
  checkFormat(head, format, input.name);
  switch (format) {
    case 'csv':
      return openCsvSource(input, { delimiter });
    case 'ndjson':
      return openNdjsonSource(input);
    case 'parquet':
      return openParquetSource(input);
    case 'arrow':
      return openArrowSource(input);
    case 'las':
    case 'laz': {
      const header = parseLasHeader(head.subarray(0, LAS_HEADER_MAX), input.name);
      return header.compressed ? openLazSource(input, header) : openLasSource(input, header);
    }
  }
}
