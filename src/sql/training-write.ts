/**
 * The shard loop of a training-set export: per split, a run of `shardRows` samples at a time is read
 * from DuckDB column by column, their present neighbours are joined in, and the shard is written as
 * one Parquet or Arrow IPC file (with `graph`, also a node file and an edge file). JS holds the shard
 * being written and the next one being read (docs/TRAINING.md "Memory and speed").
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBDataChunk } from '@duckdb/node-api';
import { type Table, tableToIPC } from 'apache-arrow';
import {
  type LabelType,
  type TrainingShard,
  trainingEdgesToArrow,
  trainingNodesToArrow,
  trainingShardToArrow,
} from '../export/training-arrow.js';
import { TrainingParquetPool } from '../export/training-parquet.js';
import { SPLITS, type SplitName } from '../export/training-spec.js';

/** One written file. */
export interface TrainingFile {
  /** Path relative to the output directory. */
  path: string;
  split: string;
  /** `samples` (the training rows), or with `graph` `nodes` and `edges`. */
  kind: 'samples' | 'nodes' | 'edges';
  rows: number;
}

/** Options of {@link writeSplits}. */
export interface WriteSplitsOptions {
  /** A connection holding `training_cells` (see `cellsSql`), dropped once read. */
  connection: DuckDBConnection;
  /** The blocks, ascending, and each one's split code (`assignBlocks`; −1: dropped). */
  blocks: BigInt64Array;
  codes: Int8Array;
  out: string;
  format: 'parquet' | 'arrow';
  shardRows: number;
  featureCount: number;
  /** Neighbour offsets, 3 per slot (`kRingOffsets`). */
  offsets: Int32Array;
  /** The label's Arrow type, when there is a label. */
  labelType: LabelType | undefined;
  /** Also write node and edge files. */
  graph: boolean;
  /** Lattice unit at the sample LOD and frame origin, for cell centres. */
  unit: number;
  origin: readonly number[];
}

/** Per-split row counts. */
export type SplitCounts = Record<SplitName, number>;

/** What {@link writeSplits} wrote. */
export interface WrittenSplits {
  files: TrainingFile[];
  splits: SplitCounts;
  /** Edges per split (zero without `graph`). */
  edges: SplitCounts;
}

/** Runs `sql` and hands each result chunk to `each` with the row index of its first row. */
async function forEachChunk(
  c: DuckDBConnection,
  sql: string,
  each: (chunk: DuckDBDataChunk, row: number) => void,
): Promise<number> {
  const result = await c.run(sql);
  let row = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null) return row;
    const n = chunk.rowCount;
    if (n === 0) return row;
    each(chunk, row);
    row += n;
  }
}

/** Item reader of a chunk's column (DuckDB's vectors check validity per item). */
const column = (chunk: DuckDBDataChunk, j: number) =>
  chunk.getColumnVector(j) as unknown as { getItem(i: number): unknown };

/**
 * The values of a NOT NULL numeric column of a chunk as an array. @duckdb/node-api's number vectors
 * keep a typed-array view of DuckDB's own buffer (`items`, private in its typings); reading it skips
 * a validity check and a call per value, which the profile of a 2M-sample export showed as a hot
 * spot. A vector without that view (another type, another version) falls back to the public
 * `toArray`.
 */
function numbers<T extends number | bigint>(chunk: DuckDBDataChunk, j: number): ArrayLike<T> {
  const vector = chunk.getColumnVector(j);
  const items = (vector as unknown as { items?: unknown }).items;
  if (ArrayBuffer.isView(items) && (items as unknown as ArrayLike<T>).length === chunk.rowCount) {
    return items as unknown as ArrayLike<T>;
  }
  return vector.toArray() as unknown as ArrayLike<T>;
}

/** Every sample cell, read once from `training_cells` in cell order, as columns. */
interface Samples {
  n: number;
  cell: BigInt64Array;
  block: BigInt64Array;
  /** Lattice coordinates, 3 per row. */
  lattice: Int32Array;
  features: Float32Array;
  /** Split code per row (−1: a block the buffer dropped). */
  split: Int8Array;
  /** Index among the split's samples in cell order. */
  node: Int32Array;
  labels: (string | number | bigint | null)[] | undefined;
  /** Rows grouped by split, in cell order within a split; split `code` is `order[start[code] …]`. */
  order: Int32Array;
  start: number[];
}

/** The split code of `block` (`blocks` ascending). */
function splitOf(blocks: BigInt64Array, codes: Int8Array, block: bigint): number {
  let lo = 0;
  let hi = blocks.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const b = blocks[mid]!;
    if (b === block) return codes[mid]!;
    if (b < block) lo = mid + 1;
    else hi = mid - 1;
  }
  throw new Error(`training block ${block} has no split`);
}

async function readSamples(options: WriteSplitsOptions): Promise<Samples> {
  const { connection: c, featureCount: F, labelType, blocks, codes } = options;
  let total = 0;
  await forEachChunk(c, 'SELECT count(*) FROM training_cells', (chunk) => {
    total = Number(column(chunk, 0).getItem(0));
  });
  const t: Samples = {
    n: total,
    cell: new BigInt64Array(total),
    block: new BigInt64Array(total),
    lattice: new Int32Array(3 * total),
    features: new Float32Array(F * total),
    split: new Int8Array(total),
    node: new Int32Array(total),
    labels: labelType === undefined ? undefined : [],
    order: new Int32Array(total),
    start: [],
  };
  const f = Array.from({ length: F }, (_, i) => `f${i}`).join(', ');
  const sql = `SELECT cell, block, lx, ly, lz, ${f}${labelType === undefined ? '' : ', label'}
    FROM training_cells ORDER BY cell`;
  const read = await forEachChunk(c, sql, (chunk, row) => {
    // rowCount is a native call: read it once per chunk, not once per row.
    const rowCount = chunk.rowCount;
    t.cell.set(numbers<bigint>(chunk, 0), row);
    t.block.set(numbers<bigint>(chunk, 1), row);
    const lattice = [numbers<number>(chunk, 2), numbers<number>(chunk, 3), numbers<number>(chunk, 4)];
    const feats = Array.from({ length: F }, (_, i) => numbers<number>(chunk, 5 + i));
    const label = labelType === undefined ? undefined : column(chunk, 5 + F);
    for (let j = 0; j < rowCount; j++) {
      const i = row + j;
      t.lattice[3 * i] = lattice[0]![j]!;
      t.lattice[3 * i + 1] = lattice[1]![j]!;
      t.lattice[3 * i + 2] = lattice[2]![j]!;
      for (let k = 0; k < F; k++) t.features[F * i + k] = feats[k]![j]!;
      if (label !== undefined) t.labels!.push(label.getItem(j) as string | number | bigint | null);
    }
  });
  if (read !== total) throw new Error(`training cells read ${read} rows, expected ${total}`);
  // Splits by block, then a counting sort by split that keeps cell order: node = rank in the split.
  const count = SPLITS.map(() => 0);
  let previous: bigint | undefined;
  let code = 0;
  for (let i = 0; i < total; i++) {
    const block = t.block[i]!;
    if (block !== previous) code = splitOf(blocks, codes, block);
    previous = block;
    t.split[i] = code;
    if (code >= 0) t.node[i] = count[code]!++;
  }
  let at = 0;
  for (const n of count) {
    t.start.push(at);
    at += n;
  }
  t.start.push(at);
  for (let i = 0; i < total; i++) {
    const code = t.split[i]!;
    if (code >= 0) t.order[t.start[code]! + t.node[i]!] = i;
  }
  return t;
}

/**
 * An open-addressing hash of the samples by lattice coordinates: `find(x, y, z)` is the row of the
 * sample at that lattice point, or −1. 4 bytes per slot, at least two slots per sample.
 */
function latticeIndex(t: Samples): (x: number, y: number, z: number) => number {
  let bits = 1;
  while (1 << bits < 2 * t.n) bits++;
  const mask = (1 << bits) - 1;
  const slots = new Int32Array(1 << bits); // row + 1; 0 = empty
  const L = t.lattice;
  const hash = (x: number, y: number, z: number) =>
    (Math.imul(x, 0x9e3779b1) ^ Math.imul(y, 0x85ebca77) ^ Math.imul(z, 0xc2b2ae3d)) >>> (32 - bits);
  for (let i = 0; i < t.n; i++) {
    let h = hash(L[3 * i]!, L[3 * i + 1]!, L[3 * i + 2]!);
    while (slots[h] !== 0) h = (h + 1) & mask;
    slots[h] = i + 1;
  }
  return (x, y, z) => {
    for (let h = hash(x, y, z); ; h = (h + 1) & mask) {
      const r = slots[h]! - 1;
      if (r < 0) return -1;
      if (L[3 * r] === x && L[3 * r + 1] === y && L[3 * r + 2] === z) return r;
    }
  };
}

/**
 * Writes every split's shards, in split order and node order within a split. The samples are read
 * from DuckDB once, as columns; each shard's neighbourhoods are gathered from them through a hash
 * on lattice coordinates (docs/TRAINING.md "Memory and speed").
 * @param options - connection, output, format, sizes, offsets, label type, graph, frame geometry
 * @returns the files, and sample and edge counts per split
 */
export async function writeSplits(options: WriteSplitsOptions): Promise<WrittenSplits> {
  const { connection: c, out, format, shardRows, graph, featureCount: F, offsets } = options;
  const samples = await readSamples(options);
  await c.run('DROP TABLE training_cells');
  const find = latticeIndex(samples);
  // Parquet is encoded on worker threads while the next shard is gathered; at most three files
  // are in flight, so JS holds a few shards at a time whatever the number of samples.
  const pool = format === 'parquet' ? new TrainingParquetPool() : undefined;
  const inflight: Promise<void>[] = [];
  const files: TrainingFile[] = [];
  const splits = { train: 0, validation: 0, test: 0 };
  const edges = { train: 0, validation: 0, test: 0 };
  const ext = format === 'parquet' ? 'parquet' : 'arrow';
  try {
    for (const [code, split] of SPLITS.entries()) {
      rmSync(join(out, split), { recursive: true, force: true });
      const total = samples.start[code + 1]! - samples.start[code]!;
      for (let first = 0, part = 0; first < total; first += shardRows, part++) {
        const n = Math.min(shardRows, total - first);
        const { shard, nodeOf } = gatherShard(options, samples, find, code, split, first, n);
        const suffix = `${String(part).padStart(5, '0')}.${ext}`;
        mkdirSync(join(out, split), { recursive: true });
        const write = async (kind: TrainingFile['kind'], name: string, table: Table) => {
          files.push({ path: `${split}/${name}`, split, kind, rows: table.numRows });
          const path = join(out, split, name);
          const done =
            pool === undefined
              ? Promise.resolve(writeFileSync(path, tableToIPC(table, 'file')))
              : pool.encode(tableToIPC(table, 'stream')).then((bytes) => writeFileSync(path, bytes));
          done.catch(() => {}); // awaited below; this only keeps a failure from going unhandled first
          inflight.push(done);
          while (inflight.length >= 3) await inflight.shift();
        };
        await write('samples', `part-${suffix}`, trainingShardToArrow(shard, F, offsets.length / 3));
        splits[split] += n;
        if (!graph) continue;
        await write('nodes', `nodes-${suffix}`, trainingNodesToArrow(shard, first, F));
        const edgeTable = trainingEdgesToArrow(edgeList(nodeOf, n, first));
        await write('edges', `edges-${suffix}`, edgeTable);
        edges[split] += edgeTable.numRows;
      }
    }
    await Promise.all(inflight);
  } finally {
    // On an error, let the files in flight settle before the workers stop.
    await Promise.allSettled(inflight);
    await pool?.close();
  }
  return { files, splits, edges };
}

/**
 * The shard of nodes `first … first + n − 1` of one split, with their neighbourhoods.
 * @returns the shard, and per (row, slot) the neighbour's node index in the same split, or −1
 */
function gatherShard(
  options: WriteSplitsOptions,
  t: Samples,
  find: (x: number, y: number, z: number) => number,
  code: number,
  split: SplitName,
  first: number,
  n: number,
): { shard: TrainingShard; nodeOf: Float64Array } {
  const { featureCount: F, offsets, labelType, unit, origin } = options;
  const S = offsets.length / 3;
  const shard: TrainingShard = {
    cell: new BigInt64Array(n),
    block: new BigInt64Array(n),
    split,
    lattice: new Int32Array(3 * n),
    position: new Float64Array(3 * n),
    features: new Float32Array(F * n),
    neighbors: new Float32Array(S * F * n),
    mask: new Uint8Array(S * n),
  };
  const labels: (string | number | bigint | null)[] = [];
  const nodeOf = new Float64Array(S * n).fill(-1);
  const rows = t.order.subarray(t.start[code]! + first, t.start[code]! + first + n);
  for (let i = 0; i < n; i++) {
    const r0 = rows[i]!;
    shard.cell[i] = t.cell[r0]!;
    shard.block[i] = t.block[r0]!;
    for (let f = 0; f < F; f++) shard.features[F * i + f] = t.features[F * r0 + f]!;
    if (t.labels !== undefined) labels.push(t.labels[r0]!);
    const x = t.lattice[3 * r0]!;
    const y = t.lattice[3 * r0 + 1]!;
    const z = t.lattice[3 * r0 + 2]!;
    shard.lattice[3 * i] = x;
    shard.lattice[3 * i + 1] = y;
    shard.lattice[3 * i + 2] = z;
    shard.position[3 * i] = origin[0]! + x * unit;
    shard.position[3 * i + 1] = origin[1]! + y * unit;
    shard.position[3 * i + 2] = origin[2]! + z * unit;
    for (let s = 0; s < S; s++) {
      const r = find(x + offsets[3 * s]!, y + offsets[3 * s + 1]!, z + offsets[3 * s + 2]!);
      if (r < 0) continue;
      const at = S * i + s;
      shard.mask[at] = 1;
      if (t.split[r] === code) nodeOf[at] = t.node[r]!;
      for (let f = 0; f < F; f++) shard.neighbors[at * F + f] = t.features[F * r + f]!;
    }
  }
  if (labelType !== undefined) shard.labels = { type: labelType, values: labels };
  return { shard, nodeOf };
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
