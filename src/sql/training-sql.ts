/**
 * The SQL of a training-set export: points filtered and grouped into sample cells at the sample
 * LOD, with their lattice coordinates and blocks; then, per shard, the samples and their present
 * neighbours. Pure text, no engine (docs/TRAINING.md).
 */

import { type FeatureSpec, featureName } from '../export/training-spec.js';
import type { TableConfig } from '../lake/catalog.js';
import { quoteIdent } from './open.js';
import { doubleLiteral, timePredicate } from './planner-sql.js';

/** What selects the points of a training set. */
export interface TrainingFilter {
  /** An SQL boolean expression over the table's columns, trusted as the user's own query. */
  where?: string;
  /** Inclusive box in frame metres [x0, y0, z0, x1, y1, z1]. */
  box?: readonly number[];
  /** ISO 8601, inclusive. */
  from?: string;
  /** ISO 8601, exclusive. */
  to?: string;
}

/** The WHERE clause of the point filter (`true` when there is none). */
export function filterSql({ where, box, from, to }: TrainingFilter): string {
  const parts: string[] = [];
  if (where !== undefined && where.trim() !== '') parts.push(`(${where})`);
  if (box !== undefined) {
    const b = box.map(doubleLiteral);
    parts.push(
      `x BETWEEN ${b[0]} AND ${b[3]} AND y BETWEEN ${b[1]} AND ${b[4]} AND z BETWEEN ${b[2]} AND ${b[5]}`,
    );
  }
  const time = timePredicate(from, to);
  if (time !== null) parts.push(time);
  return parts.length === 0 ? 'true' : parts.join(' AND ');
}

function featureSql(spec: FeatureSpec, i: number): string {
  const as = `f${i}`;
  if (spec.kind === 'count') return `CAST(count(*) AS DOUBLE) AS ${as}`;
  const col = `CAST(${quoteIdent(spec.column)} AS DOUBLE)`;
  return spec.kind === 'mean' ? `coalesce(avg(${col}), 0) AS ${as}` : `coalesce(var_pop(${col}), 0) AS ${as}`;
}

/** Options of {@link cellsSql}. */
export interface CellsSqlOptions {
  config: TableConfig;
  filter: TrainingFilter;
  features: readonly FeatureSpec[];
  lod: number;
  splitLod: number;
  /** The label column, already checked to exist, and the SQL type it is cast to. */
  label?: { column: string; sqlType: 'BIGINT' | 'DOUBLE' | 'VARCHAR' };
}

/**
 * `CREATE TEMP TABLE training_cells`: one row per sample cell (the point's BCC cell at the sample
 * LOD, snapped from its frame metres as the core does), with lattice coordinates, block id and
 * coordinates, features `f0…`, and the label (most frequent non-null value, ties to the smallest).
 */
export function cellsSql({ config, filter, features, lod, splitLod, label }: CellsSqlOptions): string {
  const { origin, edge, id } = config.frame;
  const [x0, y0, z0] = origin.map(doubleLiteral);
  const cell = `bcc_from_frame_metres(x, y, z, ${x0}, ${y0}, ${z0}, ${doubleLiteral(edge)}, ${lod}, frame := ${id})`;
  const labelCol =
    label === undefined ? '' : `, CAST(${quoteIdent(label.column)} AS ${label.sqlType}) AS label`;
  const shift = lod - splitLod;
  const labels =
    label === undefined
      ? ''
      : `, labels AS (SELECT cell, first(label ORDER BY n DESC, label ASC) AS label
           FROM (SELECT cell, label, count(*) AS n FROM p WHERE label IS NOT NULL GROUP BY cell, label)
           GROUP BY cell)`;
  return `CREATE OR REPLACE TEMP TABLE training_cells AS
    WITH p AS MATERIALIZED (
      SELECT ${cell} AS cell, ${features
        .filter((f) => f.kind !== 'count')
        .map((f) => `${quoteIdent((f as { column: string }).column)}`)
        .filter((c, i, all) => all.indexOf(c) === i)
        .map((c) => `${c}, `)
        .join('')}true AS one${labelCol}
      FROM ${quoteIdent(config.name)} WHERE ${filterSql(filter)}
    ), agg AS (
      SELECT cell, ${features.map(featureSql).join(', ')} FROM p GROUP BY cell
    )${labels}
    SELECT agg.cell, d.x AS lx, d.y AS ly, d.z AS lz,
      bcc_tile_parent(agg.cell, ${splitLod}) AS block,
      d.x >> ${shift} AS block_x, d.y >> ${shift} AS block_y, d.z >> ${shift} AS block_z,
      ${features.map((_, i) => `f${i}`).join(', ')}${label === undefined ? '' : ', labels.label'}
    FROM (SELECT *, bcc_decode(cell) AS d FROM agg) agg
    ${label === undefined ? '' : 'LEFT JOIN labels ON labels.cell = agg.cell'}
    ORDER BY agg.cell`;
}

/** The samples of one shard: kept cells of one split after `after`, by cell, at most `limit`. */
export function shardSql(
  split: number,
  after: bigint | null,
  limit: number,
  featureCount: number,
  label: boolean,
): string {
  const f = Array.from({ length: featureCount }, (_, i) => `c.f${i}`).join(', ');
  return `SELECT c.cell, c.block, c.lx, c.ly, c.lz, ${f}${label ? ', c.label' : ''}
    FROM training_cells c JOIN training_blocks b ON b.block = c.block
    WHERE b.split = ${split}${after === null ? '' : ` AND c.cell > ${after}`}
    ORDER BY c.cell LIMIT ${limit}`;
}

/**
 * The present neighbours of a shard's samples (cells of one split in `[first, last]`): sample
 * cell, slot and the neighbour's features, joined on lattice coordinates.
 */
export function neighborsSql(
  split: number,
  first: bigint,
  last: bigint,
  offsets: Int32Array,
  featureCount: number,
): string {
  const values: string[] = [];
  for (let s = 0; s < offsets.length / 3; s++) {
    values.push(`(${s}, ${offsets[3 * s]}, ${offsets[3 * s + 1]}, ${offsets[3 * s + 2]})`);
  }
  const f = Array.from({ length: featureCount }, (_, i) => `n.f${i}`).join(', ');
  return `WITH s AS (
      SELECT c.cell, c.lx, c.ly, c.lz FROM training_cells c JOIN training_blocks b ON b.block = c.block
      WHERE b.split = ${split} AND c.cell BETWEEN ${first} AND ${last}
    ), o AS (SELECT * FROM (VALUES ${values.join(', ')}) AS o(slot, dx, dy, dz))
    SELECT s.cell, o.slot, ${f}
    FROM s CROSS JOIN o JOIN training_cells n
      ON n.lx = s.lx + o.dx AND n.ly = s.ly + o.dy AND n.lz = s.lz + o.dz`;
}

/** Names of the features in the manifest's order. */
export const featureNames = (features: readonly FeatureSpec[]): string[] => features.map(featureName);
