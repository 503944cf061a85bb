/**
 * Parquet for training-set shards (docs/TRAINING.md "Files"): the settings of a shard file for the
 * one Parquet writer, and the lake's encoder threads to run it on, the same bytes either way.
 */
import { encodeParquet, type ParquetWriterSettings } from '../../export/parquet-writer.js';
import { ParquetEncoder } from '../../lake/ingest/encoder.js';

/**
 * zstd, dictionaries only where values repeat (split, block): trying one on every float of the
 * neighbourhoods, and page-level statistics, more than doubled the encode time for ~5% smaller
 * files. Statistics stay per column chunk, enough for readers to prune on cell.
 */
export const TRAINING_PARQUET: ParquetWriterSettings = {
  compression: 'zstd',
  dictionary: false,
  dictionaryColumns: { split: true, block: true },
  statistics: 'chunk',
  createdBy: 'octa-lake training set (parquet-wasm 0.8.0)',
};

/** Encodes one shard, given as an Arrow IPC stream, to Parquet on the current thread. */
export function trainingParquet(ipcStream: Uint8Array): Uint8Array {
  return encodeParquet(ipcStream, TRAINING_PARQUET);
}

/** Encodes shards on up to two worker threads (inline when the compiled worker is absent). */
export class TrainingParquetPool {
  readonly #encoder = ParquetEncoder.create();

  /** Encodes an Arrow IPC stream (its buffer is transferred to a worker: do not reuse it). */
  encode(ipcStream: Uint8Array): Promise<Uint8Array> {
    return this.#encoder.encodeTable(ipcStream, TRAINING_PARQUET);
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.#encoder.close();
  }
}
