/**
 * Parquet encoding off the main thread: the partition writer hands a partition's rows (as chunks
 * whose buffers are transferred, or as an Arrow IPC stream) to a worker that joins them, sorts them
 * by cell, runs the parquet-wasm writer and hashes the file, while the main thread goes on parsing
 * and routing rows. With no worker script beside this module (running from TypeScript sources) or
 * `workers: 0`, encoding runs inline with the same result.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { tableFromIPC } from 'apache-arrow';
import { arrowToPointBuffer, pointBufferToArrow } from '../export/arrow.js';
import { type BoundingBox, PointBuffer, type PointChunk } from '../export/container.js';
import type { PointFileDescriptor } from '../export/metadata.js';
import { writeParquet } from '../export/parquet.js';
import type { PointSchema } from '../export/schema.js';
import { OctaError, type OctaErrorCode } from '../lattice/errors.js';

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
  stats: {
    rows: number;
    cellMin: string;
    cellMax: string;
    timeMin: string;
    timeMax: string;
    bbox: BoundingBox;
  };
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

type Reply = ({ id: number } & Encoded) | { id: number; error: { code?: string; message: string } };

/** Encodes Parquet files on worker threads (or inline). Call `close()` when done. */
export class ParquetEncoder {
  #workers: Worker[];
  #next = 0;
  readonly #pending = new Map<number, { resolve: (e: Encoded) => void; reject: (err: Error) => void }>();

  private constructor(workers: Worker[]) {
    this.#workers = workers;
    for (const worker of workers) this.#listen(worker);
  }

  #listen(worker: Worker): void {
    worker.on('message', (reply: Reply) => {
      const p = this.#pending.get(reply.id);
      if (!p) return;
      this.#pending.delete(reply.id);
      if ('error' in reply) {
        p.reject(
          reply.error.code
            ? new OctaError(
                reply.error.code as OctaErrorCode,
                reply.error.message.replace(/ \(code: .*\)$/, ''),
              )
            : new Error(reply.error.message),
        );
      } else p.resolve({ bytes: reply.bytes, sha256: reply.sha256, stats: reply.stats });
    });
    worker.on('error', (err) => {
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    });
  }

  /**
   * Starts an encoder.
   * @param options.workers - worker threads (default: one per core, at most 2, when the compiled
   *   worker exists; else 0, inline)
   */
  static create({
    workers = existsSync(WORKER_SCRIPT) ? Math.min(2, availableParallelism()) : 0,
  }: {
    workers?: number;
  } = {}): ParquetEncoder {
    return new ParquetEncoder(Array.from({ length: workers }, () => new Worker(WORKER_SCRIPT)));
  }

  /** How many worker threads encode (0: inline). */
  get threads(): number {
    return this.#workers.length;
  }

  /** Encodes one file; the job's buffers are transferred to the worker (do not reuse them). */
  encode(job: EncodeJob): Promise<Encoded> {
    const worker = this.#workers[this.#next % Math.max(1, this.#workers.length)];
    if (!worker) {
      try {
        return Promise.resolve(encodeInline(job));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const id = this.#next++;
    return new Promise<Encoded>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // An IPC view into a larger buffer is copied out first: only its own bytes may move.
      const owned =
        'ipc' in job && (job.ipc.byteOffset !== 0 || job.ipc.byteLength !== job.ipc.buffer.byteLength)
          ? { ...job, ipc: job.ipc.slice() }
          : job;
      worker.postMessage({ id, ...owned }, transferables(owned));
    });
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    const workers = this.#workers;
    this.#workers = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
