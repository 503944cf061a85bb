/**
 * What `--explain` counts: row groups from Parquet footer statistics, all of a table's and those of
 * the selected files that the query's prunable conjuncts (and, ideally, its id ranges) meet.
 */
import { liveFiles } from '../lake/catalog/catalog-state.js';
import type { LakeSession } from './open.js';
import {
  boundingBox,
  doubleLiteral,
  type PlanRange,
  type PlanRegion,
  type QueryPlan,
  type RangeShape,
  timeLiteral,
} from './planner-sql.js';
import { quoteLiteral } from './quote.js';

/** The footer statistics test of one row group, as SQL over `parquet_metadata` rows (lo, hi text). */
function rowGroupTest(
  ranges: readonly PlanRange[],
  region: PlanRegion,
  fromIso?: string,
  toIso?: string,
): string {
  const cell = ranges.map((r) => `(TRY_CAST(hi AS BIGINT) >= ${r.lo} AND TRY_CAST(lo AS BIGINT) <= ${r.hi})`);
  const box = boundingBox(region);
  const axis = (i: number) =>
    `TRY_CAST(hi AS DOUBLE) >= ${doubleLiteral(box[i]!)} AND TRY_CAST(lo AS DOUBLE) <= ${doubleLiteral(box[i + 3]!)}`;
  const time = [
    ...(fromIso === undefined ? [] : [`TRY_CAST(hi AS TIMESTAMPTZ) >= ${timeLiteral(fromIso)}`]),
    ...(toIso === undefined ? [] : [`TRY_CAST(lo AS TIMESTAMPTZ) < ${timeLiteral(toIso)}`]),
  ];
  // A column without statistics (NULL lo/hi) cannot rule its row group out.
  const guard = (test: string) => `(lo IS NULL OR hi IS NULL OR coalesce(${test}, true))`;
  return `CASE col
    WHEN 'cell' THEN ${guard(cell.length === 0 ? 'false' : cell.join(' OR '))}
    WHEN 'x' THEN ${guard(axis(0))} WHEN 'y' THEN ${guard(axis(1))} WHEN 'z' THEN ${guard(axis(2))}
    WHEN 'time' THEN ${guard(time.length === 0 ? 'true' : time.join(' AND '))}
    ELSE true END`;
}

/**
 * Counts row groups from Parquet footers: all of the table's, and those of the selected files whose
 * statistics intersect the query.
 * @param options - the session, the plan, the paths its files are read at (in the order of
 *   `plan.files`), the region, the normal ISO time window and the range shape
 * @returns row groups considered (meeting every prunable conjunct), matching (also meeting an id
 *   range) and in total
 */
export async function countRowGroups({
  session,
  plan,
  paths,
  region,
  from,
  to,
  shape,
}: {
  session: LakeSession;
  plan: QueryPlan;
  paths: readonly string[];
  region: PlanRegion;
  from?: string;
  to?: string;
  shape: RangeShape;
}): Promise<{ considered: number; matching: number; total: number }> {
  const all = liveFiles(session.snapshot, plan.table);
  if (all.length === 0) return { considered: 0, matching: 0, total: 0 };
  // Through the file cache the other files are not fetched: their footers are read in place.
  const total = await session.reader.countRowGroups(all);
  if (paths.length === 0 || plan.ranges.length === 0) return { considered: 0, matching: 0, total };
  const span = [{ lo: plan.ranges[0]!.lo, hi: plan.ranges[plan.ranges.length - 1]!.hi, contained: false }];
  // `union` scans prune by each range; the other shapes only by the span (see RangeShape).
  const read = rowGroupTest(shape === 'union' ? plan.ranges : span, region, from, to);
  const ideal = rowGroupTest(plan.ranges, region, from, to);
  const r = await session.connection.runAndReadAll(
    `SELECT count(*) FILTER (WHERE hit)::INTEGER, count(*) FILTER (WHERE hit AND ideal)::INTEGER FROM (
      SELECT file_name, row_group_id, bool_and(${read}) AS hit, bool_and(${ideal}) AS ideal
      FROM (SELECT file_name, row_group_id, path_in_schema AS col, stats_min_value AS lo, stats_max_value AS hi
            FROM parquet_metadata([${paths.map(quoteLiteral).join(', ')}]))
      GROUP BY file_name, row_group_id)`,
  );
  const [considered, matching] = r.getRows()[0]!;
  return { considered: Number(considered), matching: Number(matching), total };
}
