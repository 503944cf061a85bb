/**
 * A small pool of worker threads that run one function on jobs, moving the jobs' and results'
 * buffers instead of copying them. Without a worker script beside the caller's module (running from
 * TypeScript sources) or with `workers: 0`, jobs run inline with the same result. The lake's Parquet
 * encoder and the training-set shard encoder both run on it.
 *
 * Threads start on demand: a job goes to an idle thread, and another thread starts (up to `workers`)
 * only when every started one is busy. Each thread costs its own start-up (loading and compiling its
 * modules, ~0.2 s of CPU), which a small ingest or a stream that flushes one file at a time would
 * pay for nothing; a burst of files (every partition of a shuffled input flushing at its end) still
 * gets every thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parentPort, Worker } from 'node:worker_threads';
import { OctaError, type OctaErrorCode } from '../lattice/errors.js';

type Reply<R> =
  | { id: number; result: R }
  | { id: number; error: { code?: string; message: string; params?: readonly string[] } };

/** What a pool needs: the worker script, how to run a job inline, and what a job can move. */
export interface WorkerPoolOptions<J, R> {
  /** The compiled worker script (one that calls {@link serveWorker} with the same `run`). */
  script: string;
  /** Worker threads (default: one per core, at most 2, when `script` exists; else 0, inline). */
  workers?: number;
  /** The job's function, for inline runs. */
  run: (job: J) => R;
  /** The buffers under a job that postMessage may move (they are unusable after). */
  transfer: (job: J) => ArrayBuffer[];
}

/** Runs jobs on worker threads (or inline). Call `close()` when done. */
export class WorkerPool<J, R> {
  readonly #script: string;
  readonly #limit: number;
  #closed = false;
  /** The started workers, with the jobs running or queued on each. */
  readonly #busy = new Map<Worker, number>();
  #next = 0;
  readonly #pending = new Map<number, { resolve: (r: R) => void; reject: (err: Error) => void }>();
  readonly #run: (job: J) => R;
  readonly #transfer: (job: J) => ArrayBuffer[];

  constructor({
    script,
    workers = Math.min(2, availableParallelism()),
    run,
    transfer,
  }: WorkerPoolOptions<J, R>) {
    this.#run = run;
    this.#transfer = transfer;
    this.#script = script;
    // Without the compiled worker script (running from TypeScript sources) every job runs inline.
    this.#limit = existsSync(script) ? workers : 0;
  }

  #start(): Worker {
    const worker = new Worker(this.#script);
    this.#busy.set(worker, 0);
    worker.on('message', (reply: Reply<R>) => {
      const p = this.#pending.get(reply.id);
      if (p === undefined) return;
      this.#pending.delete(reply.id);
      const busy = this.#busy.get(worker);
      if (busy !== undefined) this.#busy.set(worker, busy - 1);
      if ('error' in reply) {
        const { code, message, params = [] } = reply.error;
        p.reject(
          code === undefined
            ? new Error(message)
            : new OctaError(code as OctaErrorCode, message.replace(/ \(code: .*\)$/, ''), undefined, {
                params,
              }),
        );
      } else p.resolve(reply.result);
    });
    worker.on('error', (err) => {
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
      // A thread that died takes no more jobs; a later job starts another.
      this.#busy.delete(worker);
    });
    return worker;
  }

  /** The worker for the next job: an idle one, else a new one while under the limit, else the least busy. */
  #pick(): Worker {
    let least: Worker | undefined;
    for (const [worker, busy] of this.#busy) {
      if (busy === 0) return worker;
      if (least === undefined || busy < this.#busy.get(least)!) least = worker;
    }
    return least !== undefined && this.#busy.size >= this.#limit ? least : this.#start();
  }

  /** How many worker threads the pool runs jobs on, at most (0: inline). */
  get threads(): number {
    return this.#limit;
  }

  /** Worker threads started so far (they start as jobs need them). */
  get started(): number {
    return this.#busy.size;
  }

  /** Whether every thread the pool may start is started and busy. */
  get saturated(): boolean {
    if (this.#busy.size < this.#limit) return false;
    for (const busy of this.#busy.values()) if (busy === 0) return false;
    return true;
  }

  /**
   * Runs one job; its buffers are moved to the worker (do not reuse them).
   * @param job - the job
   * @param options.inlineWhenBusy - run it on this thread when every worker thread is busy (a caller
   *   with nothing else to do, such as an ingest flushing its last files, lends its own core)
   */
  run(job: J, { inlineWhenBusy = false }: { inlineWhenBusy?: boolean } = {}): Promise<R> {
    if (this.#limit === 0 || this.#closed || (inlineWhenBusy && this.saturated)) {
      try {
        return Promise.resolve(this.#run(job));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const worker = this.#pick();
    this.#busy.set(worker, this.#busy.get(worker)! + 1);
    const id = this.#next++;
    return new Promise<R>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, job }, this.#transfer(job));
    });
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    const workers = [...this.#busy.keys()];
    this.#closed = true;
    this.#busy.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * The body of a pool's worker script: runs each job it is sent and answers with the result (its
 * `transfer` buffers moved back) or the error, with an OctaError's code kept.
 */
export function serveWorker<J, R>(run: (job: J) => R, transfer: (result: R) => ArrayBuffer[]): void {
  parentPort?.on('message', ({ id, job }: { id: number; job: J }) => {
    try {
      const result = run(job);
      parentPort?.postMessage({ id, result }, transfer(result));
    } catch (err) {
      parentPort?.postMessage({
        id,
        error: {
          ...(err instanceof OctaError ? { code: err.code, params: err.params } : {}),
          message: err instanceof Error ? err.message : String(err),
        },
      });
    }
  });
}

/** `bytes` itself when it spans its whole buffer, else a copy: only a view's own bytes may move. */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}
