/**
 * Parquet for training-set shards (docs/TRAINING.md "Files"): zstd, dictionaries only on `split`
 * and `block`, statistics per column chunk; encoded inline or on worker threads, the same bytes
 * either way.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  Compression,
  EnabledStatistics,
  Table as WasmTable,
  WriterPropertiesBuilder,
  writeParquet,
} from 'parquet-wasm';

/**
 * Encodes one shard, given as an Arrow IPC stream, to Parquet. Dictionaries only where values
 * repeat (split, block): trying one on every float of the neighbourhoods, and page-level
 * statistics, more than doubled the encode time for ~5% smaller files. Statistics stay per column
 * chunk, enough for readers to prune on cell.
 */
export function trainingParquet(ipcStream: Uint8Array): Uint8Array {
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

const WORKER_SCRIPT = fileURLToPath(new URL('./training-parquet-worker.js', import.meta.url));

type Reply = { id: number; bytes: Uint8Array } | { id: number; error: string };

/** Encodes shards on up to two worker threads (inline when the compiled worker is absent). */
export class TrainingParquetPool {
  readonly #workers: Worker[];
  #next = 0;
  readonly #pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();

  constructor(workers = existsSync(WORKER_SCRIPT) ? Math.min(2, availableParallelism()) : 0) {
    this.#workers = Array.from({ length: workers }, () => new Worker(WORKER_SCRIPT));
    for (const w of this.#workers) {
      w.on('message', (reply: Reply) => {
        const p = this.#pending.get(reply.id);
        if (p === undefined) return;
        this.#pending.delete(reply.id);
        if ('error' in reply) p.reject(new Error(reply.error));
        else p.resolve(reply.bytes);
      });
      w.on('error', (err) => {
        for (const p of this.#pending.values()) p.reject(err);
        this.#pending.clear();
      });
    }
  }

  /** Encodes an Arrow IPC stream (its buffer is transferred to a worker: do not reuse it). */
  encode(ipcStream: Uint8Array): Promise<Uint8Array> {
    const worker = this.#workers[this.#next % Math.max(1, this.#workers.length)];
    if (worker === undefined) {
      try {
        return Promise.resolve(trainingParquet(ipcStream));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const id = this.#next++;
    const own =
      ipcStream.byteOffset === 0 && ipcStream.byteLength === ipcStream.buffer.byteLength
        ? ipcStream
        : ipcStream.slice();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, ipc: own }, [own.buffer as ArrayBuffer]);
    });
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
