/**
 * The SQL text of a spatial query plan: the id-range filter in a shape DuckDB prunes row groups
 * with, the exact residual filter on the coordinates, and the time window. Pure text, no engine.
 */
import type { FileRecord, TableConfig } from '../lake/catalog/catalog-state.js';
import { tableViewSql } from './open.js';
import { quoteIdent, quoteLiteral } from './quote.js';

/** One id range in the signed INT64 form stored in Parquet and SQL. */
export interface PlanRange {
  lo: bigint;
  hi: bigint;
  /** Every id in [lo, hi] is a tile inside the region (the residual filter still runs). */
  contained: boolean;
}

/** The region in frame metres: an inclusive box or a sphere. */
export type PlanRegion =
  | { kind: 'box'; box: [number, number, number, number, number, number] }
  | { kind: 'sphere'; center: [number, number, number]; radius: number };

/**
 * How the id ranges reach DuckDB. DuckDB 1.5.6 pushes an OR of `cell BETWEEN`s into the Parquet
 * scan but prunes no row group with it (≥ 2 terms), and evaluates it row by row at a cost that
 * grows with the number of ranges (2M rows, 8 / 64 / 256 ranges: 31 / 137 / 492 ms, against 4 ms
 * for one BETWEEN pruned to one row group). So `span` (the default) gives
 * one `cell BETWEEN min_lo AND max_hi`, which does prune, and leaves exactness to the residual
 * filter; `or` adds the OR of the ranges as well; `union` is one scan per range, UNION ALL.
 */
export type RangeShape = 'span' | 'or' | 'union';

/** A DOUBLE literal that round-trips the JS number exactly (a bare `0.1` would be a DECIMAL). */
export function doubleLiteral(v: number): string {
  return `CAST('${String(v)}' AS DOUBLE)`;
}

/** A TIMESTAMPTZ literal from an ISO string (the session is UTC). */
export function timeLiteral(iso: string): string {
  return `CAST(${quoteLiteral(iso)} AS TIMESTAMPTZ)`;
}

/**
 * The region's box, or the sphere's bounding box widened by 1e-12 relative (far above the rounding
 * of x − cx and of the squares), so no point the exact test keeps falls outside it.
 */
export function boundingBox(region: PlanRegion): [number, number, number, number, number, number] {
  if (region.kind === 'box') return region.box;
  const r = region.radius;
  const c = region.center;
  const w = c.map((v) => r + (Math.abs(v) + r) * 1e-12);
  return [c[0] - w[0]!, c[1] - w[1]!, c[2] - w[2]!, c[0] + w[0]!, c[1] + w[1]!, c[2] + w[2]!];
}

/** The exact coordinate predicate of a region. */
export function regionPredicate(region: PlanRegion): string {
  if (region.kind === 'box') {
    const b = region.box.map(doubleLiteral);
    return `x BETWEEN ${b[0]} AND ${b[3]} AND y BETWEEN ${b[1]} AND ${b[4]} AND z BETWEEN ${b[2]} AND ${b[5]}`;
  }
  const [cx, cy, cz] = region.center.map(doubleLiteral);
  const r = doubleLiteral(region.radius);
  // The bounding box is redundant but prunable: DuckDB checks plain ranges against row-group stats.
  const bound = boundingBox(region).map(doubleLiteral);
  return `x BETWEEN ${bound[0]} AND ${bound[3]} AND y BETWEEN ${bound[1]} AND ${bound[4]} AND z BETWEEN ${bound[2]} AND ${bound[5]} AND (x - ${cx}) * (x - ${cx}) + (y - ${cy}) * (y - ${cy}) + (z - ${cz}) * (z - ${cz}) <= ${r} * ${r}`;
}

/** The time window predicate, or null when the window is open on both sides. */
export function timePredicate(from: string | undefined, to: string | undefined): string | null {
  const parts: string[] = [];
  if (from !== undefined) parts.push(`time >= ${timeLiteral(from)}`);
  if (to !== undefined) parts.push(`time < ${timeLiteral(to)}`);
  return parts.length === 0 ? null : parts.join(' AND ');
}

function rangesPredicate(ranges: readonly PlanRange[]): string {
  const ors = ranges.map((r) => (r.lo === r.hi ? `cell = ${r.lo}` : `cell BETWEEN ${r.lo} AND ${r.hi}`));
  return ors.length === 1 ? ors[0]! : `(${ors.join(' OR ')})`;
}

/**
 * The query over exactly the given files.
 * @param options - table config, file paths, region, time window (ISO, from inclusive, to
 *   exclusive), select list (`*` or column names), id ranges (sorted), range shape
 * @returns one SELECT statement (no trailing semicolon)
 */
export function planSql({
  config,
  paths,
  region,
  from,
  to,
  select,
  ranges,
  shape = 'span',
}: {
  config: TableConfig;
  paths: readonly string[];
  region: PlanRegion;
  from?: string;
  to?: string;
  select: readonly string[];
  ranges: readonly PlanRange[];
  shape?: RangeShape;
}): string {
  const cols = select.map((c) => (c === '*' ? '*' : quoteIdent(c))).join(', ');
  const source = `(${tableViewSql(config, [...paths])}) AS q`;
  if (paths.length === 0 || ranges.length === 0) return `SELECT ${cols} FROM ${source} WHERE false`;
  const residual = [regionPredicate(region)];
  const time = timePredicate(from, to);
  if (time !== null) residual.push(time);
  const where = (idFilter: string) =>
    `SELECT ${cols} FROM ${source} WHERE ${[idFilter, ...residual].join(' AND ')}`;
  if (shape === 'union') {
    // Ranges are disjoint, so UNION ALL neither drops nor repeats a row.
    return ranges.map((r) => where(rangesPredicate([r]))).join('\nUNION ALL\n');
  }
  const span = rangesPredicate([{ lo: ranges[0]!.lo, hi: ranges[ranges.length - 1]!.hi, contained: false }]);
  return where(shape === 'or' && ranges.length > 1 ? `${span} AND ${rangesPredicate(ranges)}` : span);
}

/** What `planQuery` (planner.ts) decided. */
export interface QueryPlan {
  table: string;
  /** The files the query reads. */
  files: FileRecord[];
  /** Live files of the table. */
  totalFiles: number;
  /** Id ranges covering the region, signed INT64, sorted; empty when the region misses the domain. */
  ranges: PlanRange[];
  /** One SELECT over exactly `files`. */
  sql: string;
}
