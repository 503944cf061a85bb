/**
 * The SQL of a training-set export: points filtered and grouped into sample cells at the sample
 * LOD, with their lattice coordinates and blocks; then, per shard, the samples and their present
 * neighbours. Pure text, no engine (docs/TRAINING.md).
 */

import type { TableConfig } from '../../lake/catalog/catalog.js';
import { doubleLiteral, timePredicate } from '../planner-sql.js';
import { quoteIdent } from '../quote.js';
import { type FeatureSpec, featureName } from './spec.js';

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
  // The user's aggregate, run as written; null (say, max over no values) is stored as 0 like a mean.
  if (spec.kind === 'sql') return `coalesce(CAST((${spec.expr}) AS DOUBLE), 0) AS ${as}`;
  const col = `CAST(${quoteIdent(spec.column)} AS DOUBLE)`;
  return spec.kind === 'mean' ? `coalesce(avg(${col}), 0) AS ${as}` : `coalesce(var_pop(${col}), 0) AS ${as}`;
}

/** The SQL type a label is cast to: Int64, Float64 or Utf8 in the files. */
export type LabelSqlType = 'BIGINT' | 'DOUBLE' | 'VARCHAR';

/**
 * Where labels come from: the most frequent value of a column of the points, or the value of a
 * column of a relation keyed by sample cell (`keyType` id: an INT64 Index64; text: any form
 * `bcc_from_string` reads).
 */
export type LabelSource =
  | { kind: 'points'; column: string; sqlType: LabelSqlType }
  | {
      kind: 'table';
      /** The relation, already quoted as SQL. */
      relation: string;
      column: string;
      key: string;
      keyType: 'id' | 'text';
      sqlType: LabelSqlType;
    };

/** Options of {@link cellsSql}. */
export interface CellsSqlOptions {
  config: TableConfig;
  filter: TrainingFilter;
  features: readonly FeatureSpec[];
  lod: number;
  splitLod: number;
  /** The label source, already checked to exist. */
  label?: LabelSource;
}

/** The key of a label relation as a sample cell id (signed INT64 form). */
export function labelKeySql(source: Extract<LabelSource, { kind: 'table' }>): string {
  const key = quoteIdent(source.key);
  return source.keyType === 'text' ? `bcc_from_string(${key})` : `CAST(${key} AS BIGINT)`;
}

/**
 * `CREATE TEMP TABLE training_cells`: one row per sample cell (the point's BCC cell at the sample
 * LOD, snapped from its frame metres as the core does), with lattice coordinates, block id and
 * coordinates, features `f0…`, and the label (from the points: the most frequent non-null value,
 * ties to the smallest; from a relation: its value for the cell, null when it has no row).
 */
export function cellsSql({ config, filter, features, lod, splitLod, label }: CellsSqlOptions): string {
  const { origin, edge, id } = config.frame;
  const [x0, y0, z0] = origin.map(doubleLiteral);
  // The core's snap (bcc_from_frame_meters) per point, but only to lattice coordinates packed in
  // one BIGINT: the Index64 is encoded once per cell, not per point (the encode is the costly part).
  // u = (p − origin) × (n / edge) in the core's order, so the same doubles and the same cells.
  const n = `${2 ** (lod + 1)}::BIGINT`;
  const scale = `(${n} / ${doubleLiteral(edge)})`;
  const pack = (p: string) =>
    `(CAST(${p}x AS BIGINT) << 34) | (CAST(${p}y AS BIGINT) << 17) | CAST(${p}z AS BIGINT)`;
  const sq = (p: string) => ['x', 'y', 'z'].map((c) => `bcc__sq(octa__u${c} - ${p}${c})`).join(' + ');
  const fromPoints = label?.kind === 'points' ? label : undefined;
  const labelCol =
    fromPoints === undefined
      ? ''
      : `, CAST(${quoteIdent(fromPoints.column)} AS ${fromPoints.sqlType}) AS octa__label`;
  const shift = lod - splitLod;
  let labels = '';
  if (fromPoints !== undefined) {
    labels = `, labels AS (SELECT cell, first(octa__label ORDER BY n DESC, octa__label ASC) AS label
           FROM (SELECT octa__key AS cell, octa__label, count(*) AS n FROM p WHERE octa__label IS NOT NULL
                 GROUP BY octa__key, octa__label)
           GROUP BY cell)`;
  } else if (label?.kind === 'table') {
    labels = `, labels AS (SELECT ${labelKeySql(label)} AS cell,
           CAST(${quoteIdent(label.column)} AS ${label.sqlType}) AS label
           FROM ${label.relation} WHERE ${quoteIdent(label.key)} IS NOT NULL)`;
  }
  // sql(EXPR) may name any column, so the points keep them all.
  const columns = features.some((f) => f.kind === 'sql')
    ? '*'
    : features
        .flatMap((f) => (f.kind === 'mean' || f.kind === 'var' ? [quoteIdent(f.column)] : []))
        .filter((c, i, all) => all.indexOf(c) === i)
        .concat(['true AS octa__one'])
        .join(', ');
  const fromTable = quoteIdent(config.name);
  const agg = `SELECT octa__key, ${features.map(featureSql).join(', ')} FROM p GROUP BY octa__key`;
  const join =
    label === undefined
      ? ''
      : label.kind === 'points'
        ? 'LEFT JOIN labels ON labels.cell = agg.octa__key'
        : 'LEFT JOIN labels ON labels.cell = agg.cell';
  return `CREATE OR REPLACE TEMP TABLE training_cells AS
    WITH q AS (
      SELECT *, ${['x', 'y', 'z']
        .map((c) => `bcc__even(octa__u${c}, ${n}) AS octa__e${c}, bcc__odd(octa__u${c}, ${n}) AS octa__o${c}`)
        .join(', ')}
      FROM (
        SELECT ${columns}${labelCol}, (x - ${x0}) * ${scale} AS octa__ux, (y - ${y0}) * ${scale} AS octa__uy,
          (z - ${z0}) * ${scale} AS octa__uz
        FROM ${fromTable} WHERE ${filterSql(filter)})
    ), p AS ${fromPoints === undefined ? '' : 'MATERIALIZED '}(
      -- bcc__odd_wins, with each candidate computed once: odd wins only when strictly nearer.
      SELECT *, CASE WHEN ${sq('octa__o')} < ${sq('octa__e')}
        THEN ${pack('octa__o')} ELSE ${pack('octa__e')} END AS octa__key FROM q
    ), a AS (${agg}
    ), agg AS (
      SELECT *, CAST(octa__key >> 34 AS INTEGER) AS lx, CAST((octa__key >> 17) & 131071 AS INTEGER) AS ly,
        CAST(octa__key & 131071 AS INTEGER) AS lz FROM a
    ), agg2 AS (SELECT *, bcc_encode(lx, ly, lz, ${lod}, frame := ${id}) AS cell FROM agg
    )${labels}
    SELECT agg.cell, agg.lx, agg.ly, agg.lz,
      bcc_tile_parent(agg.cell, ${splitLod}) AS block,
      agg.lx >> ${shift} AS block_x, agg.ly >> ${shift} AS block_y, agg.lz >> ${shift} AS block_z,
      ${features.map((_, i) => `f${i}`).join(', ')}${label === undefined ? '' : ', labels.label'}
    FROM agg2 agg
    ${join}`;
}

/** Names of the features in the manifest's order. */
export const featureNames = (features: readonly FeatureSpec[]): string[] => features.map(featureName);
