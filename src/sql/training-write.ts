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
  Compression,
  EnabledStatistics,
  Table as WasmTable,
  WriterPropertiesBuilder,
  writeParquet,
} from 'parquet-wasm';
import {
  type LabelType,
  type TrainingShard,
  trainingEdgesToArrow,
  trainingNodesToArrow,
  trainingShardToArrow,
} from '../export/training-arrow.js';
import { SPLITS, type SplitName } from '../export/training-spec.js';
import { neighborsSql, shardSql } from './training-sql.js';

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
  /** A connection holding `training_samples` (see `samplesSql`). */
  connection: DuckDBConnection;
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

/**
 * Writes every split's shards, in split order and node order within a split.
 * @param options - connection, output, format, sizes, offsets, label type, graph, frame geometry
 * @returns the files, and sample and edge counts per split
 */
export async function writeSplits(options: WriteSplitsOptions): Promise<WrittenSplits> {
  const { connection: c, out, format, shardRows, graph } = options;
  const counts = new Map<number, number>();
  await forEachChunk(c, 'SELECT split, count(*) FROM training_samples GROUP BY split', (chunk) => {
    for (let i = 0, n = chunk.rowCount; i < n; i++) {
      counts.set(Number(column(chunk, 0).getItem(i)), Number(column(chunk, 1).getItem(i)));
    }
  });
  const files: TrainingFile[] = [];
  const splits = { train: 0, validation: 0, test: 0 };
  const edges = { train: 0, validation: 0, test: 0 };
  const ext = format === 'parquet' ? 'parquet' : 'arrow';
  const tasks: { code: number; split: SplitName; first: number; n: number; part: number }[] = [];
  for (const [code, split] of SPLITS.entries()) {
    rmSync(join(out, split), { recursive: true, force: true });
    const total = counts.get(code) ?? 0;
    for (let first = 0, part = 0; first < total; first += shardRows, part++) {
      tasks.push({ code, split, first, n: Math.min(shardRows, total - first), part });
    }
  }
  const read = (t: (typeof tasks)[number] | undefined) => {
    if (t === undefined) return undefined;
    const p = readShard(options, t.code, t.split, t.first, t.n);
    p.catch(() => {}); // awaited below; this only keeps an abandoned prefetch from crashing
    return p;
  };
  // DuckDB runs the next shard's queries on its own threads while this one is encoded: JS holds
  // at most two shards.
  let next = read(tasks[0]);
  for (const [i, { split, first, n, part }] of tasks.entries()) {
    const { shard, nodeOf } = (await next)!;
    next = read(tasks[i + 1]);
    const suffix = `${String(part).padStart(5, '0')}.${ext}`;
    mkdirSync(join(out, split), { recursive: true });
    const write = (kind: TrainingFile['kind'], name: string, table: Table) => {
      writeFileSync(join(out, split, name), encode(table, format));
      files.push({ path: `${split}/${name}`, split, kind, rows: table.numRows });
    };
    write('samples', `part-${suffix}`, trainingShardToArrow(shard, options.featureCount, nodeOf.length / n));
    splits[split] += n;
    if (!graph) continue;
    write('nodes', `nodes-${suffix}`, trainingNodesToArrow(shard, first, options.featureCount));
    const edgeTable = trainingEdgesToArrow(edgeList(nodeOf, n, first));
    write('edges', `edges-${suffix}`, edgeTable);
    edges[split] += edgeTable.numRows;
  }
  return { files, splits, edges };
}

/**
 * Reads nodes `first … first + n − 1` of a split: the samples, then their present neighbours.
 * @returns the shard, and per (row, slot) the neighbour's node index in the same split, or −1
 */
async function readShard(
  options: WriteSplitsOptions,
  code: number,
  split: SplitName,
  first: number,
  n: number,
): Promise<{ shard: TrainingShard; nodeOf: Float64Array }> {
  const { connection: c, featureCount: F, offsets, labelType, unit, origin } = options;
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
  const read = await forEachChunk(c, shardSql(code, first, n, F, labelType !== undefined), (chunk, row) => {
    // rowCount is a native call: read it once per chunk, not once per row.
    const rowCount = chunk.rowCount;
    const cell = numbers<bigint>(chunk, 0);
    const block = numbers<bigint>(chunk, 1);
    const lattice = [numbers<number>(chunk, 2), numbers<number>(chunk, 3), numbers<number>(chunk, 4)];
    const feats = Array.from({ length: F }, (_, f) => numbers<number>(chunk, 5 + f));
    const label = labelType === undefined ? undefined : column(chunk, 5 + F);
    for (let j = 0; j < rowCount; j++) {
      const i = row + j;
      shard.cell[i] = cell[j]!;
      shard.block[i] = block[j]!;
      for (let a = 0; a < 3; a++) {
        const l = lattice[a]![j]!;
        shard.lattice[3 * i + a] = l;
        shard.position[3 * i + a] = origin[a]! + l * unit;
      }
      for (let f = 0; f < F; f++) shard.features[F * i + f] = feats[f]![j]!;
      if (label !== undefined) labels.push(label.getItem(j) as string | number | bigint | null);
    }
  });
  if (read !== n) throw new Error(`training shard read ${read} rows, expected ${n}`);
  if (labelType !== undefined) shard.labels = { type: labelType, values: labels };
  let reach = 0;
  for (const o of offsets) reach = Math.max(reach, Math.abs(o));
  const box = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      const l = shard.lattice[3 * i + a]!;
      box[a] = Math.min(box[a]!, l - reach);
      box[3 + a] = Math.max(box[3 + a]!, l + reach);
    }
  }
  const nodeOf = new Float64Array(S * n).fill(-1);
  const sql = neighborsSql({ split: code, first, last: first + n - 1, box, offsets, featureCount: F });
  await forEachChunk(c, sql, (chunk) => {
    const rowCount = chunk.rowCount;
    const row = numbers<number>(chunk, 0);
    const slot = numbers<number>(chunk, 1);
    const node = numbers<number>(chunk, 2);
    const feats = Array.from({ length: F }, (_, f) => numbers<number>(chunk, 3 + f));
    for (let j = 0; j < rowCount; j++) {
      const at = S * row[j]! + slot[j]!;
      shard.mask[at] = 1;
      nodeOf[at] = node[j]!;
      for (let f = 0; f < F; f++) shard.neighbors[at * F + f] = feats[f]![j]!;
    }
  });
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

function encode(table: Table, format: 'parquet' | 'arrow'): Uint8Array {
  if (format === 'arrow') return tableToIPC(table, 'file');
  const wasm = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
  // Dictionaries only where values repeat (split, block): trying one on every float of the
  // neighbourhoods, and page-level statistics, more than doubled the encode time for ~5% smaller
  // files. Statistics stay per column chunk, enough for readers to prune on cell.
  const props = new WriterPropertiesBuilder()
    .setCompression(Compression.ZSTD)
    .setDictionaryEnabled(false)
    .setColumnDictionaryEnabled('split', true)
    .setColumnDictionaryEnabled('block', true)
    .setStatisticsEnabled(EnabledStatistics.Chunk)
    .setCreatedBy('octa-lake training set (parquet-wasm 0.8.0)')
    .build();
  return writeParquet(wasm, props);
}
