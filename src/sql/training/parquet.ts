/**
 * Parquet for training-set shards (docs/TRAINING.md "Files"): zstd, dictionaries only on `split`
 * and `block`, statistics per column chunk; encoded inline or on worker threads, the same bytes
 * either way.
 */
import { fileURLToPath } from 'node:url';
import { parquetWasm } from '../../export/parquet.js';
import { ownBytes, WorkerPool } from '../../node/worker-pool.js';

/**
 * Encodes one shard, given as an Arrow IPC stream, to Parquet. Dictionaries only where values
 * repeat (split, block): trying one on every float of the neighbourhoods, and page-level
 * statistics, more than doubled the encode time for ~5% smaller files. Statistics stay per column
 * chunk, enough for readers to prune on cell.
 */
export function trainingParquet(ipcStream: Uint8Array): Uint8Array {
  const {
    Compression,
    EnabledStatistics,
    Table: WasmTable,
    WriterPropertiesBuilder,
    writeParquet,
  } = parquetWasm();
  const props = new WriterPropertiesBuilder()
    .setCompression(Compression.ZSTD)
    .setDictionaryEnabled(false)
    .setColumnDictionaryEnabled('split', true)
    .setColumnDictionaryEnabled('block', true)
    .setStatisticsEnabled(EnabledStatistics.Chunk)
    .setCreatedBy('octa-lake training set (parquet-wasm 0.8.0)')
    .build();
  return writeParquet(WasmTable.fromIPCStream(ipcStream), props);
}

const WORKER_SCRIPT = fileURLToPath(new URL('./parquet-worker.js', import.meta.url));

/** Encodes shards on up to two worker threads (inline when the compiled worker is absent). */
export class TrainingParquetPool {
  readonly #pool = new WorkerPool<Uint8Array, Uint8Array>({
    script: WORKER_SCRIPT,
    run: trainingParquet,
    transfer: (ipc) => [ipc.buffer as ArrayBuffer],
  });

  /** Encodes an Arrow IPC stream (its buffer is transferred to a worker: do not reuse it). */
  encode(ipcStream: Uint8Array): Promise<Uint8Array> {
    return this.#pool.run(ownBytes(ipcStream));
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.#pool.close();
  }
}
