/**
 * The one Parquet writer: an Arrow IPC stream and the settings of a kind of file (codec, row group
 * size, statistics level, dictionaries, delta-encoded columns, footer keys) → Parquet bytes, through
 * parquet-wasm (arrow-rs). Lake point files (`writeParquet`) and training-set shards both write
 * through here; each kind of file names its settings where its reasons are written.
 */
import type * as ParquetWasm from 'parquet-wasm';
import type { Table as WasmTable, WriterProperties } from 'parquet-wasm';
import { OctaError } from '../lattice/errors.js';

/** Compression codecs the writer offers. */
export type ParquetCompression = 'zstd' | 'snappy' | 'gzip' | 'brotli' | 'lz4_raw' | 'uncompressed';

const CODECS: Readonly<Record<ParquetCompression, keyof typeof ParquetWasm.Compression>> = {
  zstd: 'ZSTD',
  snappy: 'SNAPPY',
  gzip: 'GZIP',
  brotli: 'BROTLI',
  lz4_raw: 'LZ4_RAW',
  uncompressed: 'UNCOMPRESSED',
};

let wasmModule: typeof ParquetWasm | undefined;

/**
 * parquet-wasm, loaded at first use rather than with octa-lake: its Node build compiles 5 MB of
 * WebAssembly as it loads. That build is CommonJS, so a synchronous require gives the very module
 * an `import 'parquet-wasm'` gives, and the functions using it stay synchronous.
 */
export function parquetWasm(): typeof ParquetWasm {
  if (wasmModule === undefined) {
    const { createRequire } = process.getBuiltinModule('node:module');
    wasmModule = createRequire(import.meta.url)('parquet-wasm') as typeof ParquetWasm;
  }
  return wasmModule;
}

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

function writerProperties(wasm: typeof ParquetWasm, settings: ParquetWriterSettings): WriterProperties {
  const { Compression, EnabledStatistics, Encoding, WriterPropertiesBuilder } = wasm;
  // Every setter consumes its builder and returns the next one, and build() consumes the last, so
  // the chain leaves nothing to free but the properties it returns.
  let builder = new WriterPropertiesBuilder().setCompression(Compression[CODECS[settings.compression]]);
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
  const wasm = parquetWasm();
  let properties: WriterProperties | undefined;
  let wasmTable: WasmTable | undefined;
  try {
    properties = writerProperties(wasm, settings);
    wasmTable = wasm.Table.fromIPCStream(ipcStream);
    // writeParquet takes ownership of both: forget them first so `finally` frees only what we kept.
    const [input, props] = [wasmTable, properties];
    wasmTable = undefined;
    properties = undefined;
    return wasm.writeParquet(input, props);
  } catch (error) {
    throw new OctaError('INVALID_INPUT', `Parquet writer failed: ${String(error)}`);
  } finally {
    wasmTable?.free();
    properties?.free();
  }
}
