/**
 * The tile stream of a training-set export and what reads it: DuckDB sorts the sample cells into
 * cubic tiles of the lattice in Index64 order, each tile followed by copies of the cells of its
 * neighbouring tiles within reach of the neighbourhood (its halo); JS reads the stream chunk by
 * chunk into one tile's rows at a time (docs/TRAINING.md "Memory and speed").
 */
import type { DuckDBConnection, DuckDBDataChunk } from '@duckdb/node-api';
import { grownCapacity } from '../../export/columns.js';

/**
 * Tiles are cubes of 2^TILE_BITS lattice steps per axis, aligned to the Morton grid, so that the
 * cells of a tile are a run of Index64 order and tiles in Morton order give the cells in Index64
 * order. A tile holds at most 64³ / 4 cells (BCC points are a quarter of the integer points).
 */
export const TILE_BITS = 6;
export const TILE = 1 << TILE_BITS;

/** Item reader of a chunk's column (DuckDB's vectors check validity per item). */
export const column = (chunk: DuckDBDataChunk, j: number) =>
  chunk.getColumnVector(j) as unknown as { getItem(i: number): unknown };

/**
 * The values of a NOT NULL numeric column of a chunk as an array. @duckdb/node-api's number vectors
 * keep a typed-array view of DuckDB's own buffer (`items`, private in its typings); reading it skips
 * a validity check and a call per value, which the profile of a 2M-sample export showed as a hot
 * spot. A vector without that view (another type, another version) falls back to the public
 * `toArray`.
 */
export function numbers<T extends number | bigint>(chunk: DuckDBDataChunk, j: number): ArrayLike<T> {
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
export class TileRows {
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
