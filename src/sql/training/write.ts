/**
 * The shard loop of a training-set export, out of core: JS reads the tile stream (tiles.ts) once
 * and holds one tile at a time, gathers each cell's neighbours there through a dense grid of the
 * tile and its halo, and appends the samples to the shard being filled for their split
 * (shards.ts), which writes full shards as Parquet or Arrow IPC. What JS holds is bounded by the
 * tile size and the shard size, whatever the number of samples (docs/TRAINING.md "Memory and speed").
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { checkAborted } from '../../lake/ingest/outputs.js';
import type { LabelType } from './arrow.js';
import { ShardWriter, type SplitCounts, type TrainingFile } from './shards.js';
import { column, numbers, reachOf, TILE, TILE_BITS, TileRows, tileStreamSql } from './tiles.js';

// The tile size, where the tests have always found it.
export { TILE_BITS } from './tiles.js';

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

  const shards = new ShardWriter({
    out,
    format,
    shardRows,
    totals,
    featureCount: F,
    slots: S,
    labelType,
    graph,
    signal: options.signal,
  });

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
      const o = shards.shardOf(code);
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
      shards.filled(code, o);
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
      await shards.writeFull();
      checkAborted(options.signal);
    }
    if (tile !== undefined) gatherTile(t, ...tile);
    return await shards.finish();
  } catch (err) {
    // A failed export leaves none of its files: let those in flight settle, then remove them all.
    await shards.discard();
    throw err;
  } finally {
    await shards.close();
    await c.run('DROP TABLE IF EXISTS training_splits').catch(() => {});
  }
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
