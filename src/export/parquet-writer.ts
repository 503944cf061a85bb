/**
 * The one Parquet writer: an Arrow IPC stream and the settings of a kind of file (codec, row group
 * size, statistics level, dictionaries, delta-encoded columns, footer keys) → Parquet bytes, through
 * parquet-wasm (arrow-rs). Lake point files (`writeParquet`) and training-set shards both write
 * through here; each kind of file names its settings where its reasons are written.
 */
import {
  Compression,
  EnabledStatistics,
  Encoding,
  Table as WasmTable,
  type WriterProperties,
  WriterPropertiesBuilder,
  writeParquet as wasmWriteParquet,
} from 'parquet-wasm';
import { OctaError } from '../lattice/errors.js';

/** Compression codecs the writer offers. */
export type ParquetCompression = 'zstd' | 'snappy' | 'gzip' | 'brotli' | 'lz4_raw' | 'uncompressed';

const CODECS: Readonly<Record<ParquetCompression, Compression>> = {
  zstd: Compression.ZSTD,
  snappy: Compression.SNAPPY,
  gzip: Compression.GZIP,
  brotli: Compression.BROTLI,
  lz4_raw: Compression.LZ4_RAW,
  uncompressed: Compression.UNCOMPRESSED,
};

/**
 * Checks the codec and row group size of writer settings.
 * @throws {OctaError} INVALID_ARGUMENT naming the bad one
 */
export function checkWriterSettings({
  compression,
  rowGroupSize,
}: Pick<ParquetWriterSettings, 'compression' | 'rowGroupSize'>): void {
  if (rowGroupSize !== undefined && !(Number.isSafeInteger(rowGroupSize) && rowGroupSize >= 1)) {
    throw new OctaError('INVALID_ARGUMENT', 'rowGroupSize must be a positive integer', rowGroupSize);
  }
  if (!(typeof compression === 'string' && Object.hasOwn(CODECS, compression))) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `compression must be one of ${Object.keys(CODECS).join(', ')}`,
      compression,
    );
  }
}

/** How one kind of file is written. Plain data (no functions), so it can go to a worker thread. */
export interface ParquetWriterSettings {
  compression: ParquetCompression;
  /** Maximum rows per row group (default: arrow-rs's, 1 Mi rows). */
  rowGroupSize?: number;
  /** Min/max statistics per column chunk only, or per page too. */
  statistics: 'chunk' | 'page';
  /** Dictionary encoding of the columns `dictionaryColumns` does not name (default true). */
  dictionary?: boolean;
  /** Per-column exceptions to `dictionary`. */
  dictionaryColumns?: Readonly<Record<string, boolean>>;
  /** Columns stored DELTA_BINARY_PACKED (integer columns). */
  deltaColumns?: readonly string[];
  /** The footer's `created_by`. */
  createdBy: string;
  /** Footer key/value metadata (default none). */
  keyValues?: Readonly<Record<string, string>>;
}

function writerProperties(settings: ParquetWriterSettings): WriterProperties {
  // Every setter consumes its builder and returns the next one, and build() consumes the last, so
  // the chain leaves nothing to free but the properties it returns.
  let builder = new WriterPropertiesBuilder().setCompression(CODECS[settings.compression]);
  if (settings.rowGroupSize !== undefined) builder = builder.setMaxRowGroupSize(settings.rowGroupSize);
  if (settings.dictionary !== undefined) builder = builder.setDictionaryEnabled(settings.dictionary);
  for (const [column, enabled] of Object.entries(settings.dictionaryColumns ?? {}))
    builder = builder.setColumnDictionaryEnabled(column, enabled);
  builder = builder
    .setStatisticsEnabled(settings.statistics === 'page' ? EnabledStatistics.Page : EnabledStatistics.Chunk)
    .setCreatedBy(settings.createdBy);
  if (settings.keyValues !== undefined)
    builder = builder.setKeyValueMetadata(new Map(Object.entries(settings.keyValues)));
  for (const column of settings.deltaColumns ?? [])
    builder = builder.setColumnEncoding(column, Encoding.DELTA_BINARY_PACKED);
  return builder.build();
}

/**
 * Writes an Arrow IPC stream as one Parquet file; the same stream and settings give the same bytes.
 * @param ipcStream - the rows, as `tableToIPC(table, 'stream')`
 * @param settings - how this kind of file is written
 * @returns the file's bytes
 * @throws {OctaError} INVALID_ARGUMENT for an unknown codec or a bad row group size; INVALID_INPUT
 *   when parquet-wasm refuses the rows
 */
export function encodeParquet(ipcStream: Uint8Array, settings: ParquetWriterSettings): Uint8Array {
  checkWriterSettings(settings);
  let properties: WriterProperties | undefined;
  let wasmTable: WasmTable | undefined;
  try {
    properties = writerProperties(settings);
    wasmTable = WasmTable.fromIPCStream(ipcStream);
    // writeParquet takes ownership of both: forget them first so `finally` frees only what we kept.
    const [input, props] = [wasmTable, properties];
    wasmTable = undefined;
    properties = undefined;
    return wasmWriteParquet(input, props);
  } catch (error) {
    throw new OctaError('INVALID_INPUT', `Parquet writer failed: ${String(error)}`);
  } finally {
    wasmTable?.free();
    properties?.free();
  }
}
