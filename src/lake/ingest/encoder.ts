/**
 * Parquet encoding off the main thread, for lake files and training-set shards alike: the partition
 * writer hands a partition's rows (as chunks whose buffers are transferred) to a worker that joins
 * them, sorts them by cell, runs the point-file writer and hashes the file, while the main thread
 * goes on parsing and routing rows; the training export hands over a shard as an Arrow IPC stream
 * with its writer settings. Both end in the one Parquet writer (`export/parquet-writer.ts`). With
 * no worker script beside this module (running from TypeScript sources) or `workers: 0`, encoding
 * runs inline with the same result.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pointBufferToArrow } from '../../export/arrow.js';
import { PointBuffer, type PointChunk } from '../../export/container.js';
import type { PointFileDescriptor } from '../../export/metadata.js';
import { writeParquet } from '../../export/parquet.js';
import { encodeParquet, type ParquetWriterSettings } from '../../export/parquet-writer.js';
import type { PointSchema } from '../../export/schema.js';
import { ownBytes, WorkerPool } from '../../node/worker-pool.js';
import type { WrittenFileStats } from '../catalog/records.js';

/** One point file to encode: its rows in any order (the encoder sorts them by cell). */
export interface EncodeJob {
  schema: PointSchema;
  /** The rows as chunks of the schema; their buffers are transferred to the worker. */
  chunks: PointChunk[];
  metadata: PointFileDescriptor;
  rowGroupSize?: number;
}

/** Any other table to encode (a training shard): its rows as an Arrow IPC stream, and how to write it. */
export interface TableJob {
  ipc: Uint8Array;
  settings: ParquetWriterSettings;
}

function jobRows(job: EncodeJob): PointBuffer {
  let rows = 0;
  for (const chunk of job.chunks) rows += chunk.cell.length;
  const buffer = PointBuffer.create({ schema: job.schema, capacity: rows });
  for (const chunk of job.chunks) buffer.append(chunk);
  return buffer;
}

/** The distinct buffers under a job's typed arrays: what postMessage can move instead of copy. */
function transferables(job: EncodeJob | TableJob): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const add = (v: unknown) => {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.add(v.buffer);
  };
  if ('ipc' in job) add(job.ipc);
  else
    for (const chunk of job.chunks) {
      for (const v of [chunk.cell, chunk.x, chunk.y, chunk.z, chunk.time]) add(v);
      for (const p of Object.values(chunk.payload ?? {})) {
        if (ArrayBuffer.isView(p)) add(p);
        else if (!Array.isArray(p) && typeof p === 'object' && p !== null)
          for (const v of Object.values(p)) add(v);
      }
    }
  return [...out];
}

/** An encoded file, its SHA-256, and what it holds (64-bit values as decimal strings). */
export interface Encoded {
  bytes: Uint8Array;
  sha256: string;
  stats: WrittenFileStats;
}

/**
 * Sorts a job's rows by cell and encodes them, on the current thread (a worker runs this same
 * function): sorting on the encoder threads keeps the main thread free for converting and routing.
 */
export function encodeInline(job: EncodeJob): Encoded {
  const { metadata, rowGroupSize } = job;
  const buffer = jobRows(job);
  const sorted = buffer.take(buffer.sortByCell());
  const s = sorted.getStatistics()!;
  const bytes = writeParquet({
    table: pointBufferToArrow(sorted),
    metadata,
    ...(rowGroupSize === undefined ? {} : { rowGroupSize }),
  });
  return {
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    stats: {
      rows: s.rows,
      cellMin: s.cellMin.toString(),
      cellMax: s.cellMax.toString(),
      timeMin: s.timeMin.toString(),
      timeMax: s.timeMax.toString(),
      bbox: s.bbox,
    },
  };
}

/** Runs either kind of job on the current thread: what the worker script serves. */
export function encodeAny(job: EncodeJob | TableJob): Encoded | Uint8Array {
  return 'ipc' in job ? encodeParquet(job.ipc, job.settings) : encodeInline(job);
}

/** The buffer a result moves back in. */
export function resultBuffers(result: Encoded | Uint8Array): ArrayBuffer[] {
  return [(result instanceof Uint8Array ? result : result.bytes).buffer as ArrayBuffer];
}

const WORKER_SCRIPT = fileURLToPath(new URL('./encoder-worker.js', import.meta.url));

/** Encodes Parquet files on worker threads (or inline). Call `close()` when done. */
export class ParquetEncoder {
  readonly #pool: WorkerPool<EncodeJob | TableJob, Encoded | Uint8Array>;

  private constructor(workers: number | undefined) {
    this.#pool = new WorkerPool({
      script: WORKER_SCRIPT,
      ...(workers === undefined ? {} : { workers }),
      run: encodeAny,
      transfer: transferables,
    });
  }

  /**
   * Starts an encoder.
   * @param options.workers - worker threads (default: one per core, at most 2, when the compiled
   *   worker exists; else 0, inline)
   */
  static create({ workers }: { workers?: number } = {}): ParquetEncoder {
    return new ParquetEncoder(workers);
  }

  /** How many worker threads encode (0: inline). */
  get threads(): number {
    return this.#pool.threads;
  }

  /**
   * Encodes one point file; the job's buffers are transferred to the worker (do not reuse them).
   * With `inlineWhenBusy`, a job that would wait for a busy thread is encoded on this one.
   */
  encode(job: EncodeJob, options: { inlineWhenBusy?: boolean } = {}): Promise<Encoded> {
    return this.#pool.run(job, options) as Promise<Encoded>;
  }

  /**
   * Encodes a table given as an Arrow IPC stream with `settings` (its buffer is transferred to a
   * worker: do not reuse it).
   */
  encodeTable(ipcStream: Uint8Array, settings: ParquetWriterSettings): Promise<Uint8Array> {
    return this.#pool.run({ ipc: ownBytes(ipcStream), settings }) as Promise<Uint8Array>;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.#pool.close();
  }
}
