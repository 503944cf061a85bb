/**
 * Which reader an input needs: by file extension when the caller does not say, by magic bytes to
 * catch a wrong `--format` before a binary file turns into garbage rows.
 */
import { OctaError } from '../../lattice/errors.js';
import type { SourceFormat } from './types.js';

/** Bytes of the head that `sniffFormat` and `checkFormat` look at. */
export const SNIFF_BYTES = 64 * 1024;

const EXTENSIONS: Readonly<Record<string, SourceFormat>> = {
  csv: 'csv',
  tsv: 'csv',
  ndjson: 'ndjson',
  jsonl: 'ndjson',
  json: 'ndjson',
  parquet: 'parquet',
  pq: 'parquet',
  arrow: 'arrow',
  arrows: 'arrow',
  ipc: 'arrow',
  feather: 'arrow',
  las: 'las',
  laz: 'laz',
};

/**
 * The format a path's extension names, case-insensitively. `.tsv` reads as CSV with a tab delimiter,
 * `.json` as NDJSON.
 * @param path - a file path
 * @returns the format, or null when the extension is unknown
 */
export function inferFormat(path: string): SourceFormat | null {
  const match = /\.([A-Za-z0-9]+)$/.exec(path);
  if (!match) return null;
  return EXTENSIONS[match[1]!.toLowerCase()] ?? null;
}

/** What the head of an input looks like. */
export type Magic =
  | 'parquet'
  | 'arrow-file'
  | 'arrow-stream'
  | 'las'
  | 'laz'
  | 'gzip'
  | 'zip'
  | 'zstd'
  | null;

const startsWith = (head: Uint8Array, bytes: readonly number[]): boolean =>
  head.length >= bytes.length && bytes.every((b, i) => head[i] === b);

/**
 * Recognises binary formats by their first bytes.
 * @param head - the first bytes of the input (at least 8 to see every magic)
 * @returns the binary format, or null for anything else (text, or too short to tell)
 */
export function magicOf(head: Uint8Array): Magic {
  if (startsWith(head, [0x50, 0x41, 0x52, 0x31])) return 'parquet'; // PAR1
  if (startsWith(head, [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31])) return 'arrow-file'; // ARROW1
  if (startsWith(head, [0xff, 0xff, 0xff, 0xff])) return 'arrow-stream'; // IPC continuation marker
  if (startsWith(head, [0x4c, 0x41, 0x53, 0x46])) {
    // LASF; bit 7 or 6 of the point data format byte marks LAZ compression.
    const formatByte = head[104];
    return formatByte !== undefined && (formatByte & 0xc0) !== 0 ? 'laz' : 'las';
  }
  if (startsWith(head, [0x1f, 0x8b])) return 'gzip';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return 'zip';
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) return 'zstd';
  return null;
}

/**
 * Guesses a format from the head when neither the caller nor the extension names one: binary magic
 * first, then NDJSON when the first non-blank character opens an object, else CSV.
 * @param head - the first bytes of the input
 * @returns a format
 */
export function sniffFormat(head: Uint8Array): SourceFormat {
  const magic = magicOf(head);
  if (magic === 'parquet' || magic === 'las' || magic === 'laz') return magic;
  if (magic === 'arrow-file' || magic === 'arrow-stream') return 'arrow';
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d))
    i++;
  return head[i] === 0x7b ? 'ndjson' : 'csv';
}

const DESCRIBE: Readonly<Record<Exclude<Magic, null>, string>> = {
  parquet: 'a Parquet file (use `format` parquet)',
  'arrow-file': 'an Arrow IPC file (use `format` arrow)',
  'arrow-stream': 'an Arrow IPC stream (use `format` arrow)',
  las: 'a LAS point cloud (use `format` las)',
  laz: 'a LAZ point cloud (use `format` laz)',
  gzip: 'gzip-compressed (decompress it first, e.g. `gunzip -c file` piped into `ingest()`)',
  zip: 'a zip archive (extract it first)',
  zstd: 'zstd-compressed (decompress it first, e.g. `zstd -dc file` piped into `ingest()`)',
};

/** The library names each description mentions, for {@link OctaError.params}. */
const DESCRIBE_PARAMS: Readonly<Record<Exclude<Magic, null>, readonly string[]>> = {
  parquet: ['format'],
  'arrow-file': ['format'],
  'arrow-stream': ['format'],
  las: ['format'],
  laz: ['format'],
  gzip: ['ingest()'],
  zip: [],
  zstd: ['ingest()'],
};

/**
 * Checks that the head fits the format, so a wrong format fails at once with a clear message.
 * Text formats refuse known binary magic, UTF-16 and NUL bytes; binary formats require their magic.
 * LAS and LAZ are one family: the header's compression bit decides which decoder runs.
 * @param head - the first bytes (up to `SNIFF_BYTES`)
 * @param format - the format the caller asked for
 * @param name - the input's name for the message
 * @throws {OctaError} INVALID_INPUT naming the input and what it looks like
 */
export function checkFormat(head: Uint8Array, format: SourceFormat, name: string): void {
  const magic = magicOf(head);
  const fail = (what: string, params: readonly string[] = []): never => {
    throw new OctaError('INVALID_INPUT', `${name} is not ${ARTICLE[format]}: ${what}`, name, { params });
  };
  const looksLike = (m: Exclude<Magic, null>) => fail(`it looks like ${DESCRIBE[m]}`, DESCRIBE_PARAMS[m]);
  switch (format) {
    case 'csv':
    case 'ndjson': {
      if (magic !== null) looksLike(magic);
      if (startsWith(head, [0xff, 0xfe]) || startsWith(head, [0xfe, 0xff])) {
        fail('it is UTF-16 text; convert it to UTF-8');
      }
      if (head.includes(0)) fail('it contains NUL bytes, so it is binary, not text');
      return;
    }
    case 'parquet':
      if (magic !== 'parquet') magic === null ? fail('it does not start with PAR1') : looksLike(magic);
      return;
    case 'arrow':
      if (magic !== 'arrow-file' && magic !== 'arrow-stream') {
        if (magic === null) fail('it starts with neither ARROW1 nor an IPC stream continuation marker');
        else looksLike(magic);
      }
      return;
    case 'las':
    case 'laz':
      if (magic !== 'las' && magic !== 'laz')
        magic === null ? fail('it does not start with LASF') : looksLike(magic);
      return;
  }
}

const ARTICLE: Readonly<Record<SourceFormat, string>> = {
  csv: 'CSV',
  ndjson: 'NDJSON',
  parquet: 'Parquet',
  arrow: 'Arrow IPC',
  las: 'LAS',
  laz: 'LAZ',
};
