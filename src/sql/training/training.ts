/**
 * `exportTrainingSet`: points of a table aggregated into sample cells at a LOD, each with its k-ring
 * neighbourhood as fixed-size arrays, a label, and a train/validation/test split by spatial blocks,
 * written as sharded Parquet or Arrow IPC with a manifest (docs/TRAINING.md).
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkAborted, claimOutputDir, removeFiles } from '../../lake/ingest/outputs.js';
import { LocalStorage } from '../../lake/storage/local-storage.js';
import { isS3Lake, resolveLake } from '../../lake/storage/open.js';
import { kRingOffsets } from '../../lattice/bcc.js';
import { OctaError } from '../../lattice/errors.js';
import { latticeUnit } from '../../lattice/frame.js';
import { type LakeSession, openLake } from '../open.js';
import { quoteIdent, quoteLiteral } from '../quote.js';
import type { LabelType } from './arrow.js';
import { columnTypes, LABEL_TYPES, labelSqlType, labelTableSource } from './labels.js';
import type { TrainingFile } from './shards.js';
import { checkRatios, type FeatureSpec, featureName, parseFeatures, SPLITS } from './spec.js';
import { assignBlocks, DROPPED } from './split.js';
import { cellsSql, type LabelSource, type TrainingFilter } from './sql.js';
import { readBlocks } from './tiles.js';
import { writeSplits } from './write.js';

export type { TrainingFile } from './shards.js';

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
  /** A column of the points whose most frequent value per cell is the label. */
  label?: string;
  /**
   * Labels from a relation instead (a lake table, or any table or view the session sees), one row
   * per sample cell: `labelColumn` is the label, `labelKey` (default `cell`) the sample cell's
   * Index64 at the sample LOD, as BIGINT (signed form) or text.
   */
  labelTable?: string;
  labelColumn?: string;
  labelKey?: string;
  /** Also write a graph per split: node files and `edge_index` edge files (default false). */
  graph?: boolean;
  /** Block LOD, below `lod` (default `lod − 3`, at least 0). */
  splitLod?: number;
  /** Train, validation, test (default 0.8, 0.1, 0.1). */
  ratios?: readonly number[];
  /** Blocks of Chebyshev distance kept between splits (default 0). */
  buffer?: number;
  /** Seed of the block hash (default 0). */
  seed?: number | bigint;
  format?: 'parquet' | 'arrow';
  /**
   * DuckDB's memory for grouping the points, the cell table and the tile sort, in MiB (default 256);
   * beyond it DuckDB spills to a temporary directory. On a caller's `session` the limit is set for
   * the export and reset after it. What JS holds does not depend on the number of samples (docs/TRAINING.md).
   */
  memoryMb?: number;
  /** At most this many rows per shard file (default 65,536). */
  shardRows?: number;
  /**
   * Output directory: new, empty, or the directory of an earlier export, whose files (those its
   * manifest names, and only those) are replaced. Any other non-empty directory is refused.
   */
  out: string;
  /** Aborts the export (SIGINT, SIGTERM): the files written so far are removed. */
  signal?: AbortSignal;
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
  /** The label column (of the points, or of `labelTable`). */
  label: string | null;
  /** Where labels come from when they come from a relation. */
  labelTable: { relation: string; column: string; key: string } | null;
  shapes: { features: number[]; neighbors: number[]; neighbor_mask: number[]; position: number[] };
  columns: string[];
  splits: { train: number; validation: number; test: number };
  /** Cells in blocks the buffer dropped. */
  dropped: number;
  blocks: { train: number; validation: number; test: number; dropped: number };
  /** With `graph`: nodes and directed edges per split, and the two tables' columns. */
  graph: {
    nodes: { train: number; validation: number; test: number };
    edges: { train: number; validation: number; test: number };
    columns: { nodes: string[]; edges: string[] };
  } | null;
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

/** The files a parsed `manifest.json` of an earlier export names, or undefined when it is not one. */
function manifestFiles(json: unknown): string[] | undefined {
  const m = json as Partial<TrainingManifest> | null;
  if (typeof m !== 'object' || m === null || m.version !== 1 || typeof m.table !== 'string') return undefined;
  if (!Array.isArray(m.files) || !m.files.every((f) => typeof f?.path === 'string')) return undefined;
  return m.files.map((f) => f.path);
}

/** Checks the option `name` (named between backticks, for the CLI to rename) is an integer in lo..hi. */
function checkInt(name: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new OctaError('INVALID_ARGUMENT', `\`${name}\` must be an integer ${lo}..${hi}`, v, {
      params: [name],
    });
  }
  return v;
}

/**
 * Exports a training set (see docs/TRAINING.md for every definition).
 * @param options - lake or session, table, filter, LOD, k, features, label, split settings, output
 * @returns the manifest, also written to `out/manifest.json`
 * @throws {OctaError} INVALID_ARGUMENT for bad options, an unknown column, a non-numeric feature
 *   column, a label table with a bad key or duplicate keys, or an `out` that is not empty and holds
 *   no earlier export (or lies inside the lake); INTERRUPTED when `signal` aborts; NOT_FOUND for an unknown table or
 *   label table; DuckDB's error for a bad `where` or `sql(EXPR)`
 */
export async function exportTrainingSet(options: TrainingSetOptions): Promise<TrainingManifest> {
  const {
    lake,
    session,
    table,
    lod,
    k = 1,
    label,
    labelTable,
    labelColumn,
    labelKey = 'cell',
    graph = false,
    buffer = 0,
    format = 'parquet',
    shardRows = 65_536,
    memoryMb = 256,
    out,
  } = options;
  if ((lake === undefined) === (session === undefined)) {
    throw new OctaError('INVALID_ARGUMENT', 'exportTrainingSet needs exactly one of lake and session', lake);
  }
  if (labelTable !== undefined && (label !== undefined || labelColumn === undefined)) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'a label table needs a label column (`labelColumn`) and no points label (`label`)',
      labelTable,
      { params: ['labelColumn', 'label'] },
    );
  }
  if (labelColumn !== undefined && labelTable === undefined) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'a label column needs a label table (`labelTable`)',
      labelColumn,
      { params: ['labelTable'] },
    );
  }
  const features =
    typeof options.features === 'string'
      ? parseFeatures(options.features)
      : (options.features ?? [{ kind: 'count' }]);
  if (features.length === 0) throw new OctaError('INVALID_ARGUMENT', 'give at least one feature', features);
  const ratios = checkRatios(options.ratios ?? [0.8, 0.1, 0.1]);
  const offsets = kRingOffsets(k);
  checkInt('shardRows', shardRows, 1, 1 << 24);
  checkInt('memoryMb', memoryMb, 16, 1 << 20);
  checkInt('buffer', buffer, 0, 8);
  // The one check of the format: the CLI passes its --format as given.
  if (format !== 'parquet' && format !== 'arrow') {
    throw new OctaError('INVALID_ARGUMENT', '`format` must be parquet or arrow', format, {
      params: ['format'],
    });
  }
  const seedValue = options.seed ?? 0;
  if (typeof seedValue === 'number' && !Number.isSafeInteger(seedValue)) {
    throw new OctaError('INVALID_ARGUMENT', 'seed must be an integer', seedValue);
  }
  const seed = BigInt(seedValue);
  const localLake =
    lake !== undefined
      ? isS3Lake(lake)
        ? undefined
        : resolveLake(lake)
      : session?.storage instanceof LocalStorage
        ? session.storage.root
        : undefined;
  // Checked before anything is read: a folder with files this tool did not write is never touched.
  const claimed = claimOutputDir({
    dir: out,
    option: 'out',
    manifest: 'manifest.json',
    filesOf: manifestFiles,
    ...(localLake === undefined ? {} : { lake: localLake }),
  });
  const mentioned = labelTable === undefined ? table : `${table} ${labelTable}`;
  const s = session ?? (await openLake({ lake: lake!, views: { mentionedIn: mentioned } }));
  const spill = mkdtempSync(join(tmpdir(), 'octa-training-spill-'));
  try {
    await s.connection.run(`SET memory_limit = '${memoryMb}MiB'`);
    await s.connection.run(`SET temp_directory = ${quoteLiteral(spill)}`);
    const state = s.snapshot.tables.get(table);
    if (state === undefined) {
      // The message lists the tables, as liveFiles does: there is no command that lists them.
      const names = [...s.snapshot.tables.keys()].sort().join(', ') || 'none';
      throw new OctaError('NOT_FOUND', `no table ${table} in the lake (tables: ${names})`, table);
    }
    const config = state.config;
    checkInt('lod', lod, 0, config.lod);
    const splitLod = options.splitLod ?? Math.max(0, lod - 3);
    checkInt('splitLod', splitLod, 0, lod);
    const c = s.connection;
    const types = await columnTypes(c, quoteIdent(table));
    for (const f of features) {
      if (f.kind === 'count' || f.kind === 'sql') continue;
      const t = types.get(f.column);
      if (t === undefined)
        throw new OctaError('INVALID_ARGUMENT', `no column ${f.column} in ${table}`, f.column);
      if (!(t in LABEL_TYPES) && !t.startsWith('DECIMAL')) {
        throw new OctaError('INVALID_ARGUMENT', `feature column ${f.column} is ${t}, not a number`, f.column);
      }
    }
    let labelType: LabelType | undefined;
    let labelSource: LabelSource | undefined;
    if (label !== undefined) {
      const t = types.get(label);
      if (t === undefined)
        throw new OctaError('INVALID_ARGUMENT', `no label column ${label} in ${table}`, label);
      labelType = LABEL_TYPES[t] ?? 'utf8';
      labelSource = { kind: 'points', column: label, sqlType: labelSqlType(labelType) };
    } else if (labelTable !== undefined) {
      ({ source: labelSource, type: labelType } = await labelTableSource(
        c,
        labelTable,
        labelColumn!,
        labelKey,
      ));
    }
    // Parallel aggregation sums in an order that varies from run to run; one thread makes the
    // means and variances (and a user's sums), hence the shards' bytes, the same for the same
    // inputs. Counts, modes and keys do not depend on the order, so they keep every thread.
    const serial = features.some((f) => f.kind !== 'count');
    if (serial) await c.run('SET threads = 1');
    try {
      await c.run(
        cellsSql({
          config,
          filter: options,
          features,
          lod,
          splitLod,
          ...(labelSource === undefined ? {} : { label: labelSource }),
        }),
      );
    } finally {
      if (serial) await c.run('RESET threads');
    }
    const { blocks, coords, cells } = await readBlocks(c);
    const codes = assignBlocks({ blocks, coords, ratios, seed, buffer });
    const blockCounts = { train: 0, validation: 0, test: 0, dropped: 0 };
    const totals = { train: 0, validation: 0, test: 0 };
    let dropped = 0;
    codes.forEach((code, i) => {
      const n = cells[i]!;
      if (code === DROPPED) {
        blockCounts.dropped++;
        dropped += n;
      } else {
        blockCounts[SPLITS[code]!]++;
        totals[SPLITS[code]!] += n;
      }
    });
    checkAborted(options.signal);
    // The earlier export goes only now, once the cells are known to export.
    removeFiles(claimed.dir, claimed.earlier);
    mkdirSync(out, { recursive: true });
    const F = features.length;
    const S = offsets.length / 3;
    const written = await writeSplits({
      connection: c,
      blocks,
      codes,
      totals,
      out,
      format,
      shardRows,
      featureCount: F,
      offsets,
      labelType,
      graph,
      unit: latticeUnit(config.frame, lod),
      origin: config.frame.origin,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const labelColumns = labelType === undefined ? [] : ['label'];
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
      label: label ?? labelColumn ?? null,
      labelTable:
        labelTable === undefined ? null : { relation: labelTable, column: labelColumn!, key: labelKey },
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
        ...labelColumns,
      ],
      splits: written.splits,
      dropped,
      blocks: blockCounts,
      graph: graph
        ? {
            nodes: written.splits,
            edges: written.edges,
            columns: {
              nodes: ['node', 'cell', 'block', 'split', 'lattice', 'position', 'features', ...labelColumns],
              edges: ['src', 'dst', 'slot'],
            },
          }
        : null,
      source: {
        table,
        where: options.where ?? null,
        box: options.box === undefined ? null : [...options.box],
        from: options.from ?? null,
        to: options.to ?? null,
      },
      lakeVersion: s.snapshot.version,
      files: written.files,
    };
    try {
      // Atomic: a manifest is whole or absent, and names only files that were written.
      const temp = join(out, `.manifest.json.tmp-${process.pid}`);
      writeFileSync(temp, `${JSON.stringify(manifest, null, 2)}\n`);
      renameSync(temp, join(out, 'manifest.json'));
    } catch (err) {
      rmSync(join(out, `.manifest.json.tmp-${process.pid}`), { force: true });
      removeFiles(
        claimed.dir,
        written.files.map((f) => f.path),
      );
      throw err;
    }
    return manifest;
  } finally {
    // A caller's session keeps running: free the per-cell tables, best effort.
    await s.connection.run('DROP TABLE IF EXISTS training_cells').catch(() => {});
    if (session === undefined) s.close();
    else {
      for (const setting of ['memory_limit', 'temp_directory']) {
        await s.connection.run(`RESET ${setting}`).catch(() => {});
      }
    }
    rmSync(spill, { recursive: true, force: true });
  }
}
