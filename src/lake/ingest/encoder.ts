/**
 * Parquet encoding off the main thread: the partition writer hands a partition's rows (as chunks
 * whose buffers are transferred, or as an Arrow IPC stream) to a worker that joins them, sorts them
 * by cell, runs the parquet-wasm writer and hashes the file, while the main thread goes on parsing
 * and routing rows. With no worker script beside this module (running from TypeScript sources) or
 * `workers: 0`, encoding runs inline with the same result.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import { arrowToPointBuffer, pointBufferToArrow } from '../../export/arrow.js';
import { PointBuffer, type PointChunk } from '../../export/container.js';
import type { PointFileDescriptor } from '../../export/metadata.js';
import { writeParquet } from '../../export/parquet.js';
import type { PointSchema } from '../../export/schema.js';
import { ownBytes, WorkerPool } from '../../node/worker-pool.js';
import type { WrittenFileStats } from '../catalog/records.js';

/** One file to encode: its rows in any order (the encoder sorts them by cell). */
export type EncodeJob = (
  | {
      /** The rows as an Arrow IPC stream. */
      ipc: Uint8Array;
    }
  | {
      schema: PointSchema;
      /** The rows as chunks of the schema; their buffers are transferred to the worker. */
      chunks: PointChunk[];
    }
) & {
  metadata: PointFileDescriptor;
  rowGroupSize?: number;
};

function jobRows(job: EncodeJob): PointBuffer {
  if ('ipc' in job) return arrowToPointBuffer(tableFromIPC(job.ipc));
  let rows = 0;
  for (const chunk of job.chunks) rows += chunk.cell.length;
  const buffer = PointBuffer.create({ schema: job.schema, capacity: rows });
  for (const chunk of job.chunks) buffer.append(chunk);
  return buffer;
}

/** The distinct buffers under a job's typed arrays: what postMessage can move instead of copy. */
function transferables(job: EncodeJob): ArrayBuffer[] {
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

const WORKER_SCRIPT = fileURLToPath(new URL('./encoder-worker.js', import.meta.url));

/** Encodes Parquet files on worker threads (or inline). Call `close()` when done. */
export class ParquetEncoder {
  readonly #pool: WorkerPool<EncodeJob, Encoded>;

  private constructor(workers: number | undefined) {
    this.#pool = new WorkerPool({
      script: WORKER_SCRIPT,
      ...(workers === undefined ? {} : { workers }),
      run: encodeInline,
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

  /** Encodes one file; the job's buffers are transferred to the worker (do not reuse them). */
  encode(job: EncodeJob): Promise<Encoded> {
    return this.#pool.run('ipc' in job ? { ...job, ipc: ownBytes(job.ipc) } : job);
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.#pool.close();
  }
}
