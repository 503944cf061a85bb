/**
 * The shard files of a training-set export: one shard being filled per split, full shards written
 * as Parquet (on the lake's encoder threads, at most three files in flight) or Arrow IPC, with their
 * graph node and edge files, and every file written removed again when the export fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Table, tableToIPC } from 'apache-arrow';
import { checkAborted, removeFiles } from '../../lake/ingest/outputs.js';
import {
  type LabelType,
  type TrainingShard,
  trainingEdgesToArrow,
  trainingNodesToArrow,
  trainingShardToArrow,
} from './arrow.js';
import { TrainingParquetPool } from './parquet.js';
import { SPLITS, type SplitName } from './spec.js';

/** One written file. */
export interface TrainingFile {
  /** Path relative to the output directory. */
  path: string;
  split: string;
  /** `samples` (the training rows), or with `graph` `nodes` and `edges`. */
  kind: 'samples' | 'nodes' | 'edges';
  rows: number;
}

/** Per-split row counts. */
export type SplitCounts = Record<SplitName, number>;

/** The shard being filled for one split. */
export interface OpenShard {
  shard: TrainingShard;
  labels: (string | number | bigint | null)[];
  /** Per (row, slot) the neighbour's node index in the same split, or −1. */
  nodeOf: Float64Array;
  /** Rows filled. */
  n: number;
  /** Node index of the first row. */
  first: number;
}

/** Options of {@link ShardWriter}. */
export interface ShardWriterOptions {
  out: string;
  format: 'parquet' | 'arrow';
  shardRows: number;
  /** Samples per split. */
  totals: SplitCounts;
  featureCount: number;
  /** Neighbour slots. */
  slots: number;
  labelType: LabelType | undefined;
  graph: boolean;
  signal?: AbortSignal | undefined;
}

/** Fills and writes the shards of every split, node order within a split. Call `close()` when done. */
export class ShardWriter {
  readonly #o: ShardWriterOptions;
  readonly #files: TrainingFile[][] = SPLITS.map(() => []);
  readonly #splits: SplitCounts = { train: 0, validation: 0, test: 0 };
  readonly #edges: SplitCounts = { train: 0, validation: 0, test: 0 };
  // Parquet is encoded on worker threads while the next tiles are gathered.
  readonly #pool: TrainingParquetPool | undefined;
  readonly #inflight: Promise<void>[] = [];
  readonly #open: (OpenShard | undefined)[] = SPLITS.map(() => undefined);
  readonly #full: { code: number; shard: OpenShard }[] = [];
  readonly #parts = SPLITS.map(() => 0);

  constructor(options: ShardWriterOptions) {
    this.#o = options;
    this.#pool = options.format === 'parquet' ? new TrainingParquetPool() : undefined;
  }

  /** The shard of split `code` being filled, opened when there is none. */
  shardOf(code: number): OpenShard {
    const open = this.#open[code];
    if (open !== undefined) return open;
    const { shardRows, totals, featureCount: F, slots: S, graph } = this.#o;
    const first = this.#splits[SPLITS[code]!];
    const n = Math.min(shardRows, totals[SPLITS[code]!] - first);
    if (n <= 0) throw new Error(`training split ${SPLITS[code]} has more cells than its blocks`);
    const o: OpenShard = {
      shard: {
        cell: new BigInt64Array(n),
        block: new BigInt64Array(n),
        split: SPLITS[code]!,
        lattice: new Int32Array(3 * n),
        position: new Float64Array(3 * n),
        features: new Float32Array(F * n),
        neighbors: new Float32Array(S * F * n),
        mask: new Uint8Array(S * n),
      },
      labels: [],
      nodeOf: new Float64Array(graph ? S * n : 0).fill(-1),
      n: 0,
      first,
    };
    this.#open[code] = o;
    return o;
  }

  /** Called after a row of split `code` is filled: a full shard is queued for {@link writeFull}. */
  filled(code: number, o: OpenShard): void {
    if (o.n !== o.shard.cell.length) return;
    this.#full.push({ code, shard: o });
    this.#splits[SPLITS[code]!] += o.n;
    this.#open[code] = undefined;
  }

  /** Writes the full shards (and their node and edge files). */
  async writeFull(): Promise<void> {
    const { featureCount: F, slots: S, labelType, graph } = this.#o;
    const ext = this.#o.format === 'parquet' ? 'parquet' : 'arrow';
    for (const { code, shard: o } of this.#full.splice(0)) {
      const split = SPLITS[code]!;
      const suffix = `${String(this.#parts[code]!++).padStart(5, '0')}.${ext}`;
      if (labelType !== undefined) o.shard.labels = { type: labelType, values: o.labels };
      await this.#write(split, code, 'samples', `part-${suffix}`, trainingShardToArrow(o.shard, F, S));
      if (!graph) continue;
      await this.#write(split, code, 'nodes', `nodes-${suffix}`, trainingNodesToArrow(o.shard, o.first, F));
      const edgeTable = trainingEdgesToArrow(edgeList(o.nodeOf, o.n, o.first));
      await this.#write(split, code, 'edges', `edges-${suffix}`, edgeTable);
      this.#edges[split] += edgeTable.numRows;
    }
  }

  async #write(split: SplitName, code: number, kind: TrainingFile['kind'], name: string, table: Table) {
    const { out, signal } = this.#o;
    checkAborted(signal);
    this.#files[code]!.push({ path: `${split}/${name}`, split, kind, rows: table.numRows });
    mkdirSync(join(out, split), { recursive: true });
    const path = join(out, split, name);
    const pool = this.#pool;
    const done =
      pool === undefined
        ? Promise.resolve(writeFileSync(path, tableToIPC(table, 'file')))
        : pool.encode(tableToIPC(table, 'stream')).then((bytes) => writeFileSync(path, bytes));
    done.catch(() => {}); // awaited later; this only keeps a failure from going unhandled first
    this.#inflight.push(done);
    while (this.#inflight.length >= 3) await this.#inflight.shift();
  }

  /**
   * Writes the last shards once every cell was gathered, and waits for every file.
   * @returns the files, and sample and edge counts per split
   * @throws {Error} when a split got fewer or more cells than its blocks hold
   */
  async finish(): Promise<{ files: TrainingFile[]; splits: SplitCounts; edges: SplitCounts }> {
    for (const [code, o] of this.#open.entries()) {
      if (o !== undefined)
        throw new Error(`training split ${SPLITS[code]} ended ${o.shard.cell.length - o.n} cells short`);
    }
    await this.writeFull();
    for (const split of SPLITS) {
      if (this.#splits[split] !== this.#o.totals[split]) {
        throw new Error(
          `training split ${split} wrote ${this.#splits[split]} cells of ${this.#o.totals[split]}`,
        );
      }
    }
    await Promise.all(this.#inflight);
    return { files: this.#files.flat(), splits: this.#splits, edges: this.#edges };
  }

  /** After a failure: lets the files in flight settle, then removes every file written. */
  async discard(): Promise<void> {
    await Promise.allSettled(this.#inflight);
    removeFiles(
      this.#o.out,
      this.#files.flat().map((f) => f.path),
    );
  }

  /** Waits for the files in flight and stops the encoder threads. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#inflight);
    await this.#pool?.close();
  }
}

/** The shard's edges in (src, slot) order: each present same-split neighbour of each node. */
function edgeList(nodeOf: Float64Array, n: number, first: number) {
  const S = nodeOf.length / n;
  let m = 0;
  for (const v of nodeOf) if (v >= 0) m++;
  const src = new BigInt64Array(m);
  const dst = new BigInt64Array(m);
  const slot = new Uint16Array(m);
  let e = 0;
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < S; s++) {
      const v = nodeOf[S * i + s]!;
      if (v < 0) continue;
      src[e] = BigInt(first + i);
      dst[e] = BigInt(v);
      slot[e++] = s;
    }
  }
  return { src, dst, slot };
}
