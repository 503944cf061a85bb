/**
 * `exportTrainingSet`: points of a table aggregated into sample cells at a LOD, each with its k-ring
 * neighbourhood as fixed-size arrays, a label, and a train/validation/test split by spatial blocks,
 * written as sharded Parquet or Arrow IPC with a manifest (docs/TRAINING.md).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { tableToIPC } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { type LabelType, trainingShardToArrow } from '../export/training-arrow.js';
import {
  checkRatios,
  type FeatureSpec,
  featureName,
  kRingOffsets,
  parseFeatures,
  SPLITS,
} from '../export/training-spec.js';
import { assignBlocks, DROPPED } from '../export/training-split.js';
import { OctaError } from '../lattice/errors.js';
import { latticeUnit } from '../lattice/frame.js';
import { type LakeSession, openLake } from './open.js';
import { cellsSql, neighborsSql, shardSql, type TrainingFilter } from './training-sql.js';

/** Options of {@link exportTrainingSet}. */
export interface TrainingSetOptions extends TrainingFilter {
  /** A lake location, or an open `session` (left open). */
  lake?: string;
  session?: LakeSession;
  table: string;
  /** Sample LOD, at most the table's. */
  lod: number;
  /** Neighbourhood radius in lattice steps, 1..4 (default 1: the 14 neighbours). */
  k?: number;
  /** Features, as parsed by `parseFeatures` or its text form (default `count`). */
  features?: string | readonly FeatureSpec[];
  /** A column whose most frequent value per cell is the label. */
  label?: string;
  /** Block LOD, below `lod` (default `lod − 3`, at least 0). */
  splitLod?: number;
  /** Train, validation, test (default 0.8, 0.1, 0.1). */
  ratios?: readonly number[];
  /** Blocks of Chebyshev distance kept between splits (default 0). */
  buffer?: number;
  /** Seed of the block hash (default 0). */
  seed?: number | bigint;
  format?: 'parquet' | 'arrow';
  /** At most this many rows per shard file (default 65,536). */
  shardRows?: number;
  /** Output directory, created; files of an earlier run with the same names are replaced. */
  out: string;
}

/** One written file. */
export interface TrainingFile {
  /** Path relative to the output directory. */
  path: string;
  split: string;
  rows: number;
}

/** `manifest.json`. */
export interface TrainingManifest {
  version: 1;
  table: string;
  lod: number;
  splitLod: number;
  k: number;
  format: 'parquet' | 'arrow';
  seed: string;
  ratios: number[];
  buffer: number;
  features: string[];
  label: string | null;
  shapes: { features: number[]; neighbors: number[]; neighbor_mask: number[]; position: number[] };
  columns: string[];
  splits: { train: number; validation: number; test: number };
  /** Cells in blocks the buffer dropped. */
  dropped: number;
  blocks: { train: number; validation: number; test: number; dropped: number };
  source: {
    table: string;
    where: string | null;
    box: number[] | null;
    from: string | null;
    to: string | null;
  };
  /** The catalog version the points were read at. */
  lakeVersion: number;
  files: TrainingFile[];
}

const LABEL_TYPES: Record<string, LabelType> = {
  TINYINT: 'int64',
  SMALLINT: 'int64',
  INTEGER: 'int64',
  BIGINT: 'int64',
  FLOAT: 'float64',
  DOUBLE: 'float64',
};

function checkInt(name: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new OctaError('INVALID_ARGUMENT', `${name} must be an integer ${lo}..${hi}`, v);
  }
  return v;
}

async function columnTypes(c: DuckDBConnection, table: string): Promise<Map<string, string>> {
  const r = await c.runAndReadAll(`DESCRIBE SELECT * FROM "${table.replaceAll('"', '""')}"`);
  return new Map(r.getRowObjectsJS().map((row) => [String(row.column_name), String(row.column_type)]));
}

/**
 * Exports a training set (see docs/TRAINING.md for every definition).
 * @param options - lake or session, table, filter, LOD, k, features, label, split settings, output
 * @returns the manifest, also written to `out/manifest.json`
 * @throws {OctaError} INVALID_ARGUMENT for bad options, an unknown column or a non-numeric feature
 *   column; NOT_FOUND for an unknown table; DuckDB's error for a bad `where`
 */
export async function exportTrainingSet(options: TrainingSetOptions): Promise<TrainingManifest> {
  const {
    lake,
    session,
    table,
    lod,
    k = 1,
    label,
    buffer = 0,
    format = 'parquet',
    shardRows = 65_536,
    out,
  } = options;
  if ((lake === undefined) === (session === undefined)) {
    throw new OctaError('INVALID_ARGUMENT', 'exportTrainingSet needs exactly one of lake and session', lake);
  }
  const features =
    typeof options.features === 'string'
      ? parseFeatures(options.features)
      : (options.features ?? [{ kind: 'count' }]);
  if (features.length === 0) throw new OctaError('INVALID_ARGUMENT', 'give at least one feature', features);
  const ratios = checkRatios(options.ratios ?? [0.8, 0.1, 0.1]);
  const offsets = kRingOffsets(k);
  checkInt('shard rows', shardRows, 1, 1 << 24);
  checkInt('buffer', buffer, 0, 8);
  if (format !== 'parquet' && format !== 'arrow') {
    throw new OctaError('INVALID_ARGUMENT', 'format must be parquet or arrow', format);
  }
  const seedValue = options.seed ?? 0;
  if (typeof seedValue === 'number' && !Number.isSafeInteger(seedValue)) {
    throw new OctaError('INVALID_ARGUMENT', 'seed must be an integer', seedValue);
  }
  const seed = BigInt(seedValue);
  const s = session ?? (await openLake({ lake: lake!, views: { mentionedIn: table } }));
  try {
    const state = s.snapshot.tables.get(table);
    if (state === undefined) {
      throw new OctaError('NOT_FOUND', `no table ${table} in the lake; octa catalog lists the tables`, table);
    }
    const config = state.config;
    checkInt('lod', lod, 0, config.lod);
    const splitLod = options.splitLod ?? Math.max(0, lod - 3);
    checkInt('split LOD', splitLod, 0, lod);
    const types = await columnTypes(s.connection, table);
    for (const f of features) {
      if (f.kind === 'count') continue;
      const t = types.get(f.column);
      if (t === undefined)
        throw new OctaError('INVALID_ARGUMENT', `no column ${f.column} in ${table}`, f.column);
      if (!(t in LABEL_TYPES) && !t.startsWith('DECIMAL')) {
        throw new OctaError('INVALID_ARGUMENT', `feature column ${f.column} is ${t}, not a number`, f.column);
      }
    }
    let labelType: LabelType | undefined;
    if (label !== undefined) {
      const t = types.get(label);
      if (t === undefined)
        throw new OctaError('INVALID_ARGUMENT', `no label column ${label} in ${table}`, label);
      labelType = LABEL_TYPES[t] ?? 'utf8';
    }
    const sqlType = labelType === 'int64' ? 'BIGINT' : labelType === 'float64' ? 'DOUBLE' : 'VARCHAR';
    const c = s.connection;
    // Parallel aggregation sums in an order that varies from run to run; one thread makes the
    // means and variances, hence the shards' bytes, the same for the same inputs.
    await c.run('SET threads = 1');
    try {
      await c.run(
        cellsSql({
          config,
          filter: options,
          features,
          lod,
          splitLod,
          ...(label === undefined ? {} : { label: { column: label, sqlType } }),
        }),
      );
    } finally {
      await c.run('RESET threads');
    }
    const blockRows = (
      await c.runAndReadAll(
        'SELECT block, any_value(block_x) AS bx, any_value(block_y) AS by_, any_value(block_z) AS bz, count(*) AS n FROM training_cells GROUP BY block ORDER BY block',
      )
    ).getRowObjectsJS();
    const blocks = BigInt64Array.from(blockRows.map((r) => r.block as bigint));
    const coords = Int32Array.from(blockRows.flatMap((r) => [Number(r.bx), Number(r.by_), Number(r.bz)]));
    const codes = assignBlocks({ blocks, coords, ratios, seed, buffer });
    await c.run('CREATE OR REPLACE TEMP TABLE training_blocks (block BIGINT, split TINYINT)');
    for (let i = 0; i < blocks.length; i += 2000) {
      const values = Array.from(codes.subarray(i, i + 2000), (code, j) => `(${blocks[i + j]}, ${code})`);
      await c.run(`INSERT INTO training_blocks VALUES ${values.join(', ')}`);
    }
    const blockCounts = { train: 0, validation: 0, test: 0, dropped: 0 };
    let dropped = 0;
    codes.forEach((code, i) => {
      if (code === DROPPED) {
        blockCounts.dropped++;
        dropped += Number(blockRows[i]!.n);
      } else blockCounts[SPLITS[code]!]++;
    });
    mkdirSync(out, { recursive: true });
    const F = features.length;
    const S = offsets.length / 3;
    const unit = latticeUnit(config.frame, lod);
    const [ox, oy, oz] = config.frame.origin;
    const files: TrainingFile[] = [];
    const splits = { train: 0, validation: 0, test: 0 };
    for (const [code, split] of SPLITS.entries()) {
      rmSync(join(out, split), { recursive: true, force: true });
      let after: bigint | null = null;
      for (let part = 0; ; part++) {
        const rows: Record<string, unknown>[] = (
          await c.runAndReadAll(shardSql(code, after, shardRows, F, label !== undefined))
        ).getRowObjectsJS();
        if (rows.length === 0) break;
        const n = rows.length;
        const shard = {
          cell: new BigInt64Array(n),
          block: new BigInt64Array(n),
          split,
          lattice: new Int32Array(3 * n),
          position: new Float64Array(3 * n),
          features: new Float32Array(F * n),
          neighbors: new Float32Array(S * F * n),
          mask: new Uint8Array(S * n),
        };
        const row = new Map<bigint, number>();
        rows.forEach((r, i) => {
          shard.cell[i] = r.cell as bigint;
          shard.block[i] = r.block as bigint;
          const l = [Number(r.lx), Number(r.ly), Number(r.lz)];
          shard.lattice.set(l, 3 * i);
          shard.position.set([ox + l[0]! * unit, oy + l[1]! * unit, oz + l[2]! * unit], 3 * i);
          for (let f = 0; f < F; f++) shard.features[F * i + f] = Number(r[`f${f}`]);
          row.set(r.cell as bigint, i);
        });
        const first = shard.cell[0]!;
        const last: bigint = shard.cell[n - 1]!;
        const neighbors = (
          await c.runAndReadAll(neighborsSql(code, first, last, offsets, F))
        ).getRowObjectsJS();
        for (const nb of neighbors) {
          const i = row.get(nb.cell as bigint)!;
          const slot = Number(nb.slot);
          shard.mask[S * i + slot] = 1;
          for (let f = 0; f < F; f++) shard.neighbors[(S * i + slot) * F + f] = Number(nb[`f${f}`]);
        }
        const labels =
          labelType === undefined
            ? undefined
            : {
                type: labelType,
                values: rows.map((r) => (r.label === null ? null : (r.label as string | number | bigint))),
              };
        const arrow = trainingShardToArrow({ ...shard, ...(labels ? { labels } : {}) }, F, S);
        const name = `${split}/part-${String(part).padStart(5, '0')}.${format === 'parquet' ? 'parquet' : 'arrow'}`;
        mkdirSync(join(out, split), { recursive: true });
        writeFileSync(join(out, name), encode(arrow, format));
        files.push({ path: name, split, rows: n });
        splits[split] += n;
        after = last;
        if (n < shardRows) break;
      }
    }
    const manifest: TrainingManifest = {
      version: 1,
      table,
      lod,
      splitLod,
      k,
      format,
      seed: seed.toString(),
      ratios: [...ratios],
      buffer,
      features: features.map(featureName),
      label: label ?? null,
      shapes: { features: [F], neighbors: [S, F], neighbor_mask: [S], position: [3] },
      columns: [
        'cell',
        'block',
        'split',
        'lattice',
        'position',
        'features',
        'neighbors',
        'neighbor_mask',
        ...(label === undefined ? [] : ['label']),
      ],
      splits,
      dropped,
      blocks: blockCounts,
      source: {
        table,
        where: options.where ?? null,
        box: options.box === undefined ? null : [...options.box],
        from: options.from ?? null,
        to: options.to ?? null,
      },
      lakeVersion: s.snapshot.version,
      files,
    };
    writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  } finally {
    if (session === undefined) s.close();
  }
}

function encode(table: ReturnType<typeof trainingShardToArrow>, format: 'parquet' | 'arrow'): Uint8Array {
  if (format === 'arrow') return tableToIPC(table, 'file');
  const wasm = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
  const props = new WriterPropertiesBuilder()
    .setCompression(Compression.ZSTD)
    .setCreatedBy('octa-lake training set (parquet-wasm 0.8.0)')
    .build();
  return writeParquet(wasm, props);
}
