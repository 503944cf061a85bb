// Over 400 lines: the out-of-core shard loop and the shard writers share the tile state; cutting them apart
// is issue 15 item 5 (training write).
/**
 * The shard loop of a training-set export, out of core: DuckDB sorts the sample cells into cubic
 * tiles of the lattice in Index64 order, each tile followed by copies of the cells of its
 * neighbouring tiles within reach of the neighbourhood (its halo). JS reads that stream once and
 * holds one tile at a time, gathers each cell's neighbours there, and appends the samples to the
 * shard being filled for their split; a full shard goes to the Parquet or Arrow IPC writer. What JS
 * holds is bounded by the tile size and the shard size, whatever the number of samples
 * (docs/TRAINING.md "Memory and speed").
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBDataChunk } from '@duckdb/node-api';
import { type Table, tableToIPC } from 'apache-arrow';
import { grownCapacity } from '../../export/columns.js';
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

/** Options of {@link writeSplits}. */
export interface WriteSplitsOptions {
  /** A connection holding `training_cells` (see `cellsSql`); the caller drops it. */
  connection: DuckDBConnection;
  /** The blocks, ascending, and each one's split code (`assignBlocks`; −1: dropped). */
  blocks: BigInt64Array;
  codes: Int8Array;
  /** Samples per split (the cells of its blocks). */
  totals: SplitCounts;
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
  /** Stops the export between chunks; the files written so far are removed, as on any failure. */
  signal?: AbortSignal;
}

/** What {@link writeSplits} wrote. */
export interface WrittenSplits {
  files: TrainingFile[];
  splits: SplitCounts;
  /** Edges per split (zero without `graph`). */
  edges: SplitCounts;
}

/**
 * Tiles are cubes of 2^TILE_BITS lattice steps per axis, aligned to the Morton grid, so that the
 * cells of a tile are a run of Index64 order and tiles in Morton order give the cells in Index64
 * order. A tile holds at most 64³ / 4 cells (BCC points are a quarter of the integer points).
 */
export const TILE_BITS = 6;
const TILE = 1 << TILE_BITS;

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

/** The largest absolute coordinate of the offsets: how far a neighbour can lie on one axis. */
export function reachOf(offsets: Int32Array): number {
  let reach = 0;
  for (const v of offsets) reach = Math.max(reach, Math.abs(v));
  return reach;
}

/**
 * The tile stream's SQL: every sample cell once for its own tile and once more for each
 * neighbouring tile whose halo (`reach` steps beyond its faces) holds it, ordered by tile in Morton
 * order, then by cell. Columns: tx, ty, tz (the tile), cell, block, lx, ly, lz, split, f0…,
 * and `node` (the rank of the cell in its split, in cell order) with `graph`, `label` with a label.
 */
export function tileStreamSql(options: {
  featureCount: number;
  reach: number;
  graph: boolean;
  label: boolean;
}): string {
  const { featureCount, reach, graph, label } = options;
  if (reach >= TILE) throw new Error(`a reach of ${reach} needs tiles wider than ${TILE}`);
  const f = Array.from({ length: featureCount }, (_, i) => `f${i}`).join(', ');
  const node = graph
    ? ', CAST(row_number() OVER (PARTITION BY s.split ORDER BY c.cell) - 1 AS INTEGER) AS node'
    : '';
  // Tile coordinates are below 2^(16 − TILE_BITS): interleave their bits as Index64 does (x bit 0).
  const bits = 16 - TILE_BITS;
  const morton = Array.from({ length: bits }, (_, i) =>
    ['tx', 'ty', 'tz'].map((t, a) => `(((${t} >> ${i}) & 1) << ${3 * i + a})`).join(' | '),
  ).join(' | ');
  const around = (l: string, t: string) =>
    `unnest(range(greatest(${l} - ${reach}, 0) >> ${TILE_BITS}, ((${l} + ${reach}) >> ${TILE_BITS}) + 1)) AS ${t}`;
  return `SELECT CAST(tx AS INTEGER), CAST(ty AS INTEGER), CAST(tz AS INTEGER), cell, block, lx, ly, lz, split, ${f}${graph ? ', node' : ''}${label ? ', label' : ''}
    FROM (SELECT *, ${around('lz', 'tz')}
      FROM (SELECT *, ${around('ly', 'ty')}
        FROM (SELECT *, ${around('lx', 'tx')}
          FROM (SELECT c.*, s.split${node} FROM training_cells c JOIN training_splits s USING (block)))))
    ORDER BY ${morton}, cell`;
}

/** A growable column store of one tile's rows (its own cells and its halo). */
class TileRows {
  n = 0;
  cell = new BigInt64Array(1024);
  block = new BigInt64Array(1024);
  lattice = new Int32Array(3 * 1024);
  split = new Int8Array(1024);
  node = new Int32Array(1024);
  features: Float32Array;
  labels: (string | number | bigint | null)[] = [];

  constructor(readonly featureCount: number) {
    this.features = new Float32Array(featureCount * 1024);
  }

  /** Makes room for `more` rows. */
  reserve(more: number): void {
    const need = this.n + more;
    if (need <= this.cell.length) return;
    const next = grownCapacity(this.cell.length, need);
    this.cell = grown(this.cell, next);
    this.block = grown(this.block, next);
    this.lattice = grown(this.lattice, 3 * next);
    this.split = grown(this.split, next);
    this.node = grown(this.node, next);
    this.features = grown(this.features, this.featureCount * next);
  }
}

/** A copy of `a` with room for `length` items. */
function grown<A extends BigInt64Array | Int32Array | Int8Array | Float32Array | Float64Array>(
  a: A,
  length: number,
): A {
  const b = new (a.constructor as new (n: number) => A)(length);
  (b as unknown as { set(a: A): void }).set(a);
  return b;
}

/** The blocks of `training_cells`, ascending, with their grid coordinates and cell counts. */
export interface TrainingBlocks {
  blocks: BigInt64Array;
  /** [bx, by, bz] per block. */
  coords: Int32Array;
  cells: Float64Array;
}

/**
 * Reads the blocks of `training_cells` as typed arrays (about 32 bytes per block: blocks are the
 * one thing of an export JS holds whole).
 */
export async function readBlocks(c: DuckDBConnection): Promise<TrainingBlocks> {
  const result = await c.stream(
    `SELECT block, any_value(block_x), any_value(block_y), any_value(block_z), CAST(count(*) AS DOUBLE)
     FROM training_cells GROUP BY block ORDER BY block`,
  );
  let t: TrainingBlocks = {
    blocks: new BigInt64Array(1024),
    coords: new Int32Array(3 * 1024),
    cells: new Float64Array(1024),
  };
  let n = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const rows = chunk.rowCount;
    if (n + rows > t.blocks.length) {
      const cap = grownCapacity(t.blocks.length, n + rows);
      t = { blocks: grown(t.blocks, cap), coords: grown(t.coords, 3 * cap), cells: grown(t.cells, cap) };
    }
    t.blocks.set(numbers<bigint>(chunk, 0), n);
    t.cells.set(numbers<number>(chunk, 4), n);
    const [bx, by, bz] = [1, 2, 3].map((j) => numbers<number>(chunk, j));
    for (let j = 0; j < rows; j++) {
      t.coords[3 * (n + j)] = bx![j]!;
      t.coords[3 * (n + j) + 1] = by![j]!;
      t.coords[3 * (n + j) + 2] = bz![j]!;
    }
    n += rows;
  }
  return { blocks: t.blocks.slice(0, n), coords: t.coords.slice(0, 3 * n), cells: t.cells.slice(0, n) };
}

/** The shard being filled for one split. */
interface OpenShard {
  shard: TrainingShard;
  labels: (string | number | bigint | null)[];
  /** Per (row, slot) the neighbour's node index in the same split, or −1. */
  nodeOf: Float64Array;
  /** Rows filled. */
  n: number;
  /** Node index of the first row. */
  first: number;
}

/**
 * Writes every split's shards, node order within a split (Index64 order of the cells). The cells are
 * read from DuckDB once, tile by tile with their halos; each tile's neighbourhoods are gathered
 * through a dense grid of the tile and its halo (docs/TRAINING.md "Memory and speed").
 * @param options - connection, blocks and their splits, output, format, sizes, offsets, label type,
 *   graph, frame geometry
 * @returns the files, and sample and edge counts per split
 */
export async function writeSplits(options: WriteSplitsOptions): Promise<WrittenSplits> {
  const { connection: c, out, format, shardRows, graph, featureCount: F, offsets, labelType } = options;
  const { unit, origin, totals } = options;
  const S = offsets.length / 3;
  const reach = reachOf(offsets);
  await loadSplits(c, options.blocks, options.codes);

  // A dense grid over a tile and its halo: the row (+1) of the cell at each lattice point, 0 empty.
  const G = TILE + 2 * reach;
  const grid = new Int32Array(G * G * G);
  const slotStep = new Int32Array(S);
  for (let s = 0; s < S; s++) {
    slotStep[s] = (offsets[3 * s]! * G + offsets[3 * s + 1]!) * G + offsets[3 * s + 2]!;
  }

  const files: TrainingFile[][] = SPLITS.map(() => []);
  const splits = { train: 0, validation: 0, test: 0 };
  const edges = { train: 0, validation: 0, test: 0 };
  const ext = format === 'parquet' ? 'parquet' : 'arrow';
  // Parquet is encoded on worker threads while the next tiles are gathered; at most three files
  // are in flight.
  const pool = format === 'parquet' ? new TrainingParquetPool() : undefined;
  const inflight: Promise<void>[] = [];
  const open: (OpenShard | undefined)[] = SPLITS.map(() => undefined);
  const full: { code: number; shard: OpenShard }[] = [];
  const parts = SPLITS.map(() => 0);

  const openShard = (code: number): OpenShard => {
    const first = splits[SPLITS[code]!];
    const n = Math.min(shardRows, totals[SPLITS[code]!] - first);
    if (n <= 0) throw new Error(`training split ${SPLITS[code]} has more cells than its blocks`);
    return {
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
  };

  const write = async (
    split: SplitName,
    code: number,
    kind: TrainingFile['kind'],
    name: string,
    table: Table,
  ) => {
    checkAborted(options.signal);
    files[code]!.push({ path: `${split}/${name}`, split, kind, rows: table.numRows });
    mkdirSync(join(out, split), { recursive: true });
    const path = join(out, split, name);
    const done =
      pool === undefined
        ? Promise.resolve(writeFileSync(path, tableToIPC(table, 'file')))
        : pool.encode(tableToIPC(table, 'stream')).then((bytes) => writeFileSync(path, bytes));
    done.catch(() => {}); // awaited below; this only keeps a failure from going unhandled first
    inflight.push(done);
    while (inflight.length >= 3) await inflight.shift();
  };

  const writeFull = async () => {
    for (const { code, shard: o } of full.splice(0)) {
      const split = SPLITS[code]!;
      const suffix = `${String(parts[code]!++).padStart(5, '0')}.${ext}`;
      if (labelType !== undefined) o.shard.labels = { type: labelType, values: o.labels };
      await write(split, code, 'samples', `part-${suffix}`, trainingShardToArrow(o.shard, F, S));
      if (!graph) continue;
      await write(split, code, 'nodes', `nodes-${suffix}`, trainingNodesToArrow(o.shard, o.first, F));
      const edgeTable = trainingEdgesToArrow(edgeList(o.nodeOf, o.n, o.first));
      await write(split, code, 'edges', `edges-${suffix}`, edgeTable);
      edges[split] += edgeTable.numRows;
    }
  };

  /** Gathers the neighbourhoods of the tile's own cells into their splits' shards. */
  const gatherTile = (t: TileRows, tx: number, ty: number, tz: number) => {
    const x0 = tx * TILE - reach;
    const y0 = ty * TILE - reach;
    const z0 = tz * TILE - reach;
    const L = t.lattice;
    const at = (r: number) => ((L[3 * r]! - x0) * G + (L[3 * r + 1]! - y0)) * G + (L[3 * r + 2]! - z0);
    for (let r = 0; r < t.n; r++) grid[at(r)] = r + 1;
    for (let r = 0; r < t.n; r++) {
      const code = t.split[r]!;
      if (code < 0) continue;
      const x = L[3 * r]!;
      const y = L[3 * r + 1]!;
      const z = L[3 * r + 2]!;
      if (x >> TILE_BITS !== tx || y >> TILE_BITS !== ty || z >> TILE_BITS !== tz) continue; // halo
      let o = open[code];
      if (o === undefined) {
        o = openShard(code);
        open[code] = o;
      }
      const i = o.n++;
      const s0 = o.shard;
      if (graph && t.node[r] !== o.first + i) {
        throw new Error(
          `training cell ${t.cell[r]} came out of order (node ${t.node[r]}, expected ${o.first + i})`,
        );
      }
      s0.cell[i] = t.cell[r]!;
      s0.block[i] = t.block[r]!;
      for (let f = 0; f < F; f++) s0.features[F * i + f] = t.features[F * r + f]!;
      if (labelType !== undefined) o.labels.push(t.labels[r]!);
      s0.lattice[3 * i] = x;
      s0.lattice[3 * i + 1] = y;
      s0.lattice[3 * i + 2] = z;
      s0.position[3 * i] = origin[0]! + x * unit;
      s0.position[3 * i + 1] = origin[1]! + y * unit;
      s0.position[3 * i + 2] = origin[2]! + z * unit;
      const g = at(r);
      for (let s = 0; s < S; s++) {
        const q = grid[g + slotStep[s]!]! - 1;
        if (q < 0) continue;
        const k = S * i + s;
        s0.mask[k] = 1;
        if (graph && t.split[q] === code) o.nodeOf[k] = t.node[q]!;
        for (let f = 0; f < F; f++) s0.neighbors[k * F + f] = t.features[F * q + f]!;
      }
      if (o.n === s0.cell.length) {
        full.push({ code, shard: o });
        splits[SPLITS[code]!] += o.n;
        open[code] = undefined;
      }
    }
    for (let r = 0; r < t.n; r++) grid[at(r)] = 0;
  };

  try {
    const sql = tileStreamSql({ featureCount: F, reach, graph, label: labelType !== undefined });
    const result = await c.stream(sql);
    const t = new TileRows(F);
    let tile: [number, number, number] | undefined;
    const nodeColumn = 9 + F;
    const labelColumn = nodeColumn + (graph ? 1 : 0);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      // rowCount is a native call: read it once per chunk, not once per row.
      const rowCount = chunk.rowCount;
      const [tx, ty, tz] = [0, 1, 2].map((j) => numbers<number>(chunk, j));
      const cell = numbers<bigint>(chunk, 3);
      const block = numbers<bigint>(chunk, 4);
      const [lx, ly, lz] = [5, 6, 7].map((j) => numbers<number>(chunk, j));
      const split = numbers<number>(chunk, 8);
      const feats = Array.from({ length: F }, (_, i) => numbers<number>(chunk, 9 + i));
      const node = graph ? numbers<number>(chunk, nodeColumn) : undefined;
      const label = labelType === undefined ? undefined : column(chunk, labelColumn);
      for (let j = 0; j < rowCount; ) {
        const x = tx![j]!;
        const y = ty![j]!;
        const z = tz![j]!;
        if (tile === undefined || tile[0] !== x || tile[1] !== y || tile[2] !== z) {
          if (tile !== undefined) gatherTile(t, ...tile);
          t.n = 0;
          t.labels.length = 0;
          tile = [x, y, z];
        }
        // The run of this chunk's rows in the current tile.
        let end = j + 1;
        while (end < rowCount && tx![end] === x && ty![end] === y && tz![end] === z) end++;
        t.reserve(end - j);
        for (; j < end; j++) {
          const r = t.n++;
          t.cell[r] = cell[j]!;
          t.block[r] = block[j]!;
          t.lattice[3 * r] = lx![j]!;
          t.lattice[3 * r + 1] = ly![j]!;
          t.lattice[3 * r + 2] = lz![j]!;
          t.split[r] = split[j]!;
          if (node !== undefined) t.node[r] = node[j]!;
          for (let f = 0; f < F; f++) t.features[F * r + f] = feats[f]![j]!;
          if (label !== undefined) t.labels[r] = label.getItem(j) as string | number | bigint | null;
        }
      }
      await writeFull();
      checkAborted(options.signal);
    }
    if (tile !== undefined) gatherTile(t, ...tile);
    for (const [code, o] of open.entries()) {
      if (o !== undefined)
        throw new Error(`training split ${SPLITS[code]} ended ${o.shard.cell.length - o.n} cells short`);
    }
    await writeFull();
    for (const split of SPLITS) {
      if (splits[split] !== totals[split]) {
        throw new Error(`training split ${split} wrote ${splits[split]} cells of ${totals[split]}`);
      }
    }
    await Promise.all(inflight);
  } catch (err) {
    // A failed export leaves none of its files: let those in flight settle, then remove them all.
    await Promise.allSettled(inflight);
    removeFiles(
      out,
      files.flat().map((f) => f.path),
    );
    throw err;
  } finally {
    await Promise.allSettled(inflight);
    await pool?.close();
    await c.run('DROP TABLE IF EXISTS training_splits').catch(() => {});
  }
  return { files: files.flat(), splits, edges };
}

/** `training_splits`: each block's split code, for DuckDB to join to the cells. */
async function loadSplits(c: DuckDBConnection, blocks: BigInt64Array, codes: Int8Array): Promise<void> {
  await c.run('CREATE OR REPLACE TEMP TABLE training_splits (block BIGINT, split TINYINT)');
  const appender = await c.createAppender('training_splits', 'main', 'temp');
  try {
    for (let i = 0; i < blocks.length; i++) {
      appender.appendBigInt(blocks[i]!);
      appender.appendTinyInt(codes[i]!);
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
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
