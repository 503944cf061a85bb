/**
 * The worker pool behind both Parquet encoders, on real worker threads (the compiled modules in
 * dist/, which `npm test` builds first): results match the inline run, buffers move instead of
 * being copied, an OctaError keeps its code across the thread boundary, the lake's encoder writes
 * the same rows, footer and statistics on workers as inline, and the training-set encoder the same
 * bytes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tableToIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { readParquet, readParquetMetadata } from '../../src/export/parquet.js';
import { type EncodeJob, encodeInline } from '../../src/lake/ingest/encoder.js';
import { OctaError } from '../../src/lattice/errors.js';
import { ownBytes, WorkerPool } from '../../src/node/worker-pool.js';
import { trainingShardToArrow } from '../../src/sql/training/arrow.js';
import { trainingParquet } from '../../src/sql/training/parquet.js';
import { FRAME, fullSchema, LOD, makeRows, rowsToChunk } from './fixtures.js';

const DIST = join(import.meta.dirname, '..', '..', 'dist', 'src');
const dir = mkdtempSync(join(tmpdir(), 'octa-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Job {
  n: number;
  values: Float64Array;
  fail?: 'octa' | 'plain';
}

/** Doubles the values; the worker script runs the same body. */
const BODY = `(job) => {
  if (job.fail === 'octa') throw new OctaError('INVALID_ARGUMENT', 'job ' + job.n + ' is bad', job.n);
  if (job.fail === 'plain') throw new Error('job ' + job.n + ' failed');
  return { n: job.n, out: job.values.map((v) => 2 * v) };
}`;
const double = new Function('OctaError', `return ${BODY}`)(OctaError) as (job: Job) => {
  n: number;
  out: Float64Array;
};

function script(): string {
  const path = join(dir, 'double-worker.mjs');
  const url = (p: string) => pathToFileURL(join(DIST, p)).href;
  writeFileSync(
    path,
    `import { serveWorker } from '${url('node/worker-pool.js')}';
import { OctaError } from '${url('lattice/errors.js')}';
serveWorker(${BODY}, (r) => [r.out.buffer]);
`,
  );
  return path;
}

/** A pool of `workers` threads that double a job's values, moving its buffer. */
const doublePool = (workers: number) =>
  new WorkerPool<Job, { n: number; out: Float64Array }>({
    script: script(),
    workers,
    run: double,
    transfer: (j) => [j.values.buffer as ArrayBuffer],
  });

const job = (n: number): Job => ({ n, values: Float64Array.from({ length: 1000 }, (_, i) => n + i / 7) });

describe('WorkerPool', () => {
  it('starts a thread only when every started one is busy', async () => {
    const pool = doublePool(2);
    try {
      expect(pool.started).toBe(0);
      // One job at a time (a time-ordered stream flushing file after file): one thread.
      for (let n = 0; n < 4; n++) expect((await pool.run(job(n))).out).toEqual(double(job(n)).out);
      expect(pool.started).toBe(1);
      // A burst (every partition flushing at the end): the second thread starts, no third.
      const burst = await Promise.all(Array.from({ length: 6 }, (_, n) => pool.run(job(n))));
      for (const [n, r] of burst.entries()) expect(r.out).toEqual(double(job(n)).out);
      expect(pool.started).toBe(2);
      expect(pool.threads).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('runs a job on the calling thread when asked to and every thread is busy', async () => {
    const pool = doublePool(1);
    try {
      const [a, b] = [job(1), job(2)];
      // The first goes to the thread, which is then busy: the second runs here, its buffer kept.
      const first = pool.run(a, { inlineWhenBusy: true });
      expect(pool.saturated).toBe(true);
      const second = pool.run(b, { inlineWhenBusy: true });
      expect(b.values.byteLength).toBe(8000);
      expect(a.values.byteLength).toBe(0);
      expect((await second).out).toEqual(double(job(2)).out);
      expect((await first).out).toEqual(double(job(1)).out);
      expect(pool.saturated).toBe(false);
      // With a thread idle, even an inline-when-busy job goes to it.
      const c = job(3);
      await pool.run(c, { inlineWhenBusy: true });
      expect(c.values.byteLength).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('runs jobs on two threads with the inline results, moving the buffers', async () => {
    const pool = doublePool(2);
    try {
      expect(pool.threads).toBe(2);
      const jobs = Array.from({ length: 9 }, (_, n) => job(n));
      const results = await Promise.all(jobs.map((j) => pool.run(j)));
      results.forEach((r, n) => {
        expect(r.n).toBe(n);
        expect(r.out).toEqual(double(job(n)).out);
      });
      // The jobs' buffers went to the workers: nothing is left here.
      for (const j of jobs) expect(j.values.byteLength).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it("keeps an OctaError's code and message across threads, and a plain error's message", async () => {
    const pool = new WorkerPool<Job, unknown>({
      script: script(),
      workers: 1,
      run: double,
      transfer: () => [],
    });
    try {
      const octa = await pool.run({ ...job(4), fail: 'octa' }).catch((e: unknown) => e);
      expect(octa).toBeInstanceOf(OctaError);
      expect((octa as OctaError).code).toBe('INVALID_ARGUMENT');
      expect((octa as OctaError).message).toMatch(/^job 4 is bad/);
      const plain = await pool.run({ ...job(5), fail: 'plain' }).catch((e: unknown) => e);
      expect(plain).not.toBeInstanceOf(OctaError);
      expect((plain as Error).message).toBe('job 5 failed');
      // The worker still answers after failing.
      expect((await pool.run(job(6))) as { n: number }).toMatchObject({ n: 6 });
    } finally {
      await pool.close();
    }
  });

  it('runs inline with no workers, or when the script does not exist, and rejects what throws', async () => {
    for (const pool of [
      new WorkerPool<Job, unknown>({ script: script(), workers: 0, run: double, transfer: () => [] }),
      new WorkerPool<Job, unknown>({ script: join(dir, 'absent.js'), run: double, transfer: () => [] }),
    ]) {
      expect(pool.threads).toBe(0);
      const values = job(3).values;
      expect(await pool.run({ n: 3, values })).toMatchObject({ n: 3 });
      expect(values.byteLength).toBe(8000);
      await expect(pool.run({ ...job(1), fail: 'octa' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await pool.close();
    }
  });

  it('copies a view before moving it, so the rest of its buffer stays usable', () => {
    const whole = new Uint8Array([1, 2, 3, 4, 5, 6]);
    expect(ownBytes(whole)).toBe(whole);
    const view = whole.subarray(2, 4);
    const own = ownBytes(view);
    expect(own).not.toBe(view);
    expect(Array.from(own)).toEqual([3, 4]);
    expect(own.buffer.byteLength).toBe(2);
  });
});

describe('the Parquet encoders on worker threads', () => {
  it("the lake's encoder writes the same rows, footer and statistics on workers as inline", async () => {
    const { ParquetEncoder } = (await import(
      pathToFileURL(join(DIST, 'lake', 'ingest', 'encoder.js')).href
    )) as {
      ParquetEncoder: {
        create(o: { workers: number }): {
          threads: number;
          encode(j: EncodeJob): Promise<ReturnType<typeof encodeInline>>;
          close(): Promise<void>;
        };
      };
    };
    const jobOf = (seed: number): EncodeJob => ({
      schema: fullSchema(),
      chunks: [rowsToChunk(makeRows(700, seed)), rowsToChunk(makeRows(300, seed + 1, 700))],
      metadata: { frame: FRAME, lod: LOD, idKind: 'index64' },
    });
    const encoder = ParquetEncoder.create({ workers: 2 });
    try {
      expect(encoder.threads).toBe(2);
      const onWorkers = await Promise.all([1, 2, 3].map((seed) => encoder.encode(jobOf(seed))));
      onWorkers.forEach((e, i) => {
        const inline = encodeInline(jobOf(i + 1));
        expect(e.stats).toEqual(inline.stats);
        // The footer's key/value pairs come out in the order of parquet-wasm's hash map, which
        // depends on how many files its instance wrote before: compare what the files hold.
        const [a, b] = [e.bytes, inline.bytes].map((bytes) => readParquetMetadata(bytes));
        expect(a!.keyValues).toEqual(b!.keyValues);
        expect(a!.rowGroups).toEqual(b!.rowGroups);
        const [ta, tb] = [e.bytes, inline.bytes].map((bytes) => readParquet(bytes));
        expect(ta!.numRows).toBe(1000);
        for (const name of ta!.schema.names) {
          expect(ta!.getChild(name)!.toArray(), String(name)).toEqual(tb!.getChild(name)!.toArray());
        }
      });
    } finally {
      await encoder.close();
    }
  });

  it('the training-set encoder writes the same shard on workers as inline', async () => {
    const { TrainingParquetPool } = (await import(
      pathToFileURL(join(DIST, 'sql', 'training', 'parquet.js')).href
    )) as {
      TrainingParquetPool: new () => { encode(b: Uint8Array): Promise<Uint8Array>; close(): Promise<void> };
    };
    const n = 50;
    const shard = trainingShardToArrow(
      {
        cell: BigInt64Array.from({ length: n }, (_, i) => BigInt(i) - 2n ** 62n),
        block: new BigInt64Array(n).fill(-7n),
        split: 'train',
        lattice: Int32Array.from({ length: 3 * n }, (_, i) => i),
        position: Float64Array.from({ length: 3 * n }, (_, i) => i / 3),
        features: Float32Array.from({ length: 2 * n }, (_, i) => i * 0.5),
        neighbors: Float32Array.from({ length: 14 * 2 * n }, (_, i) => i % 11),
        mask: Uint8Array.from({ length: 14 * n }, (_, i) => i % 2),
      },
      2,
      14,
    );
    const pool = new TrainingParquetPool();
    try {
      const onWorker = await pool.encode(tableToIPC(shard, 'stream'));
      const inline = trainingParquet(tableToIPC(shard, 'stream'));
      expect(Buffer.from(onWorker).equals(Buffer.from(inline))).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
