/**
 * `bcc_ranges`: range decomposition as a pure-SQL table macro, the same octree as the core's
 * `coverRegion` (ranges-cover.ts) written as a recursive CTE, one recursion step per octree level.
 *
 * Each level holds contained nodes (carried unchanged), partial nodes, and one sentinel row (lo = −1)
 * that keeps the level alive even when it is empty and carries nothing else. Window functions give
 * every row of a level the level's counts: `runs` (ranges once adjacent same-kind nodes merge),
 * `partial`, and `items` (nodes with contained runs merged, the core's allocation size). A level is
 * refined while it has partial nodes and its runs fit `max_ranges`, exactly as the core loops; the
 * last level's runs are then merged and, if too many, their smallest gaps closed (ties leftmost),
 * then adjacent same-flag ranges merged once more: closeSmallestGaps and appendRange.
 */
import { checkInt, fail, INT64_MIN, type MacroDef, macro } from './functions-sql.js';

const FN = 'bcc_ranges';
/** The core's limit on nodes in one level (ranges-cover.ts MAX_ITEMS). */
const MAX_ITEMS = 1 << 24;
/** The core counts sphere points exactly up to this many z-columns (EXACT_COLUMNS). */
const EXACT_COLUMNS = 1 << 16;

const badList = (len: number) =>
  `len(region) <> ${len} OR len(list_filter(region, lambda v: v IS NULL OR NOT isfinite(v::DOUBLE))) > 0`;

// Argument checks in the core's order: LOD, max_ranges, frame, tier, then the shape's own.
const validate = `CASE
    WHEN shape IS NULL OR region IS NULL OR lod IS NULL OR frame IS NULL OR tier IS NULL THEN 0
    WHEN shape NOT IN ('box', 'sphere') THEN ${fail(FN, 'unknown shape "', `shape || '": use ''box'' (region [x0, y0, z0, x1, y1, z1]) or ''sphere'' (region [cx, cy, cz, radius])'`)}
    ${checkInt(FN, 'LOD', 'lod', 0, 15)}
    WHEN max_ranges IS NOT NULL AND NOT bcc__int_in(max_ranges, 1, ${Number.MAX_SAFE_INTEGER})
      THEN ${fail(FN, `max_ranges must be an integer in 1..${Number.MAX_SAFE_INTEGER} (or NULL for exact ranges), not `, 'max_ranges')}
    ${checkInt(FN, 'frame', 'frame', 0, 255)}
    ${checkInt(FN, 'tier', 'tier', 0, 3)}
    WHEN shape = 'box' AND (${badList(6)} OR len(list_filter(region, lambda v: v::DOUBLE <> trunc(v::DOUBLE))) > 0)
      THEN ${fail(FN, 'box must be 6 integers [x0, y0, z0, x1, y1, z1], not ', 'region::VARCHAR')}
    WHEN shape = 'box' AND (region[1] > region[4] OR region[2] > region[5] OR region[3] > region[6])
      THEN ${fail(FN, 'box is reversed: need x0 <= x1, y0 <= y1, z0 <= z1, not ', 'region::VARCHAR')}
    WHEN shape = 'sphere' AND len(region) <> 4 THEN ${fail(FN, 'sphere takes [cx, cy, cz, radius], not ', 'region::VARCHAR')}
    WHEN shape = 'sphere' AND (region[1] IS NULL OR region[2] IS NULL OR region[3] IS NULL
        OR NOT (isfinite(region[1]::DOUBLE) AND isfinite(region[2]::DOUBLE) AND isfinite(region[3]::DOUBLE)))
      THEN ${fail(FN, 'sphere center must be 3 finite numbers [cx, cy, cz], not ', 'region::VARCHAR')}
    WHEN shape = 'sphere' AND (region[4] IS NULL OR NOT isfinite(region[4]::DOUBLE) OR region[4] < 0)
      THEN ${fail(FN, 'sphere radius must be a finite number >= 0, not ', "coalesce(region[4]::VARCHAR, 'NULL')")}
    ELSE 1 END`;

/** Integer points of node [x, x+s−1]×…: 0 all outside, 1 some inside, 2 all inside (classify). */
function classify(x: string, y: string, z: string, s: string): string {
  const e = (v: string) => `(${v} + ${s} - 1)`;
  const near = (c: string, v: string) =>
    `(CASE WHEN a.${c} < ${v} THEN ${v} - a.${c} WHEN a.${c} > ${e(v)} THEN a.${c} - ${e(v)} ELSE 0 END)`;
  const far = (c: string, v: string) => `greatest(abs(${v} - a.${c}), abs(${e(v)} - a.${c}))`;
  const sq = (t: string) => `${t} * ${t}`;
  return `CASE WHEN a.is_box THEN
      CASE WHEN ${x} > a.bx1 OR ${e(x)} < a.bx0 OR ${y} > a.by1 OR ${e(y)} < a.by0 OR ${z} > a.bz1 OR ${e(z)} < a.bz0 THEN 0
           WHEN ${x} >= a.bx0 AND ${e(x)} <= a.bx1 AND ${y} >= a.by0 AND ${e(y)} <= a.by1 AND ${z} >= a.bz0 AND ${e(z)} <= a.bz1 THEN 2
           ELSE 1 END
    ELSE
      CASE WHEN ${sq(near('cx', x))} + ${sq(near('cy', y))} + ${sq(near('cz', z))} > a.r2 THEN 0
           WHEN ${sq(far('cx', x))} + ${sq(far('cy', y))} + ${sq(far('cz', z))} <= a.r2 THEN 2
           ELSE 1 END END`;
}

/** Marks rows that start a new merged run (not adjacent to the previous row with the same flag). */
const runBreak = (flag: string) =>
  `coalesce(NOT (lag(${flag}) OVER (ORDER BY lo) = ${flag} AND lag(hi) OVER (ORDER BY lo) + 1 = lo), true)`;
const levelStats = `sum(CASE WHEN kind <> 0 AND brk THEN 1 ELSE 0 END) OVER () AS runs,
      sum(CASE WHEN kind = 1 OR (kind = 2 AND brk) THEN 1 ELSE 0 END) OVER () AS items,
      sum(CASE WHEN kind = 1 THEN 1 ELSE 0 END) OVER () AS partial`;

const body = `WITH RECURSIVE
  v AS (SELECT ${validate} AS ok),
  a0 AS (
    SELECT shape = 'box' AS is_box, max_ranges IS NOT NULL AS capped,
      coalesce(max_ranges::BIGINT, 9223372036854775807) AS maxr,
      1::BIGINT << (lod::INTEGER + 1) AS n,
      (tier::BIGINT << 60) | (frame::BIGINT << 52) | (lod::BIGINT << 48) | ${INT64_MIN} AS pre,
      greatest(0, region[1]::DOUBLE) AS bx0, greatest(0, region[2]::DOUBLE) AS by0, greatest(0, region[3]::DOUBLE) AS bz0,
      least((1::BIGINT << (lod::INTEGER + 1)) - 1, region[4]::DOUBLE) AS bx1,
      least((1::BIGINT << (lod::INTEGER + 1)) - 1, region[5]::DOUBLE) AS by1,
      least((1::BIGINT << (lod::INTEGER + 1)) - 1, region[6]::DOUBLE) AS bz1,
      region[1]::DOUBLE AS cx, region[2]::DOUBLE AS cy, region[3]::DOUBLE AS cz,
      region[4]::DOUBLE * region[4]::DOUBLE AS r2
    FROM v WHERE v.ok = 1),
  -- A capped sphere with no integer point inside gives no ranges (the core's countSpherePoints,
  -- exact while the clipped x–y footprint has at most ${EXACT_COLUMNS} columns).
  fp AS (
    SELECT greatest(0, ceil(cx - sqrt(r2)) - 1)::BIGINT AS xa, least(n - 1, floor(cx + sqrt(r2)) + 1)::BIGINT AS xb,
      greatest(0, ceil(cy - sqrt(r2)) - 1)::BIGINT AS ya, least(n - 1, floor(cy + sqrt(r2)) + 1)::BIGINT AS yb
    FROM a0 WHERE capped AND NOT is_box),
  pts AS (
    SELECT count(*) AS k FROM a0, fp,
      range(fp.xa, CASE WHEN (fp.xb - fp.xa + 1) * (fp.yb - fp.ya + 1) <= ${EXACT_COLUMNS} THEN fp.xb + 1 ELSE fp.xa END) gx(x),
      range(fp.ya, fp.yb + 1) gy(y)
    WHERE ((gx.x - a0.cx) * (gx.x - a0.cx) + (gy.y - a0.cy) * (gy.y - a0.cy))
          + (greatest(0, least(a0.n - 1, floor(a0.cz))) - a0.cz) * (greatest(0, least(a0.n - 1, floor(a0.cz))) - a0.cz) <= a0.r2
       OR ((gx.x - a0.cx) * (gx.x - a0.cx) + (gy.y - a0.cy) * (gy.y - a0.cy))
          + (greatest(0, least(a0.n - 1, ceil(a0.cz))) - a0.cz) * (greatest(0, least(a0.n - 1, ceil(a0.cz))) - a0.cz) <= a0.r2),
  a AS (
    SELECT a0.*, coalesce((SELECT fp.xa > fp.xb OR fp.ya > fp.yb
        OR ((fp.xb - fp.xa + 1) * (fp.yb - fp.ya + 1) <= ${EXACT_COLUMNS} AND (SELECT k FROM pts) = 0) FROM fp), false) AS no_points
    FROM a0),
  lv(d, lo, hi, x, y, z, side, kind, runs, items, partial) AS (
    SELECT 0, lo, hi, 0::BIGINT, 0::BIGINT, 0::BIGINT, side, kind,
      sum(CASE WHEN kind <> 0 THEN 1 ELSE 0 END) OVER (), sum(CASE WHEN kind <> 0 THEN 1 ELSE 0 END) OVER (),
      sum(CASE WHEN kind = 1 THEN 1 ELSE 0 END) OVER ()
    FROM (
      SELECT -1::BIGINT AS lo, -1::BIGINT AS hi, a.n AS side, 0 AS kind FROM a
      UNION ALL
      SELECT 0, a.n * a.n * a.n - 1, a.n, CASE WHEN a.no_points THEN 0 ELSE ${classify('0', '0', '0', 'a.n')} END FROM a)
    WHERE kind <> 0 OR lo = -1
    UNION ALL
    SELECT d, lo, hi, x, y, z, side, kind, ${levelStats} FROM (
      SELECT *, ${runBreak('kind')} AS brk FROM (
        SELECT d, lo, hi, x, y, z, side, CASE WHEN pk = 1 THEN ${classify('x', 'y', 'z', 'side')} ELSE pk END AS kind
        FROM (
          SELECT p.d + 1 AS d, p.kind AS pk,
            CASE WHEN p.kind = 1 THEN p.lo + c.j * (p.side // 2) * (p.side // 2) * (p.side // 2) ELSE p.lo END AS lo,
            CASE WHEN p.kind = 1 THEN p.lo + (c.j + 1) * (p.side // 2) * (p.side // 2) * (p.side // 2) - 1 ELSE p.hi END AS hi,
            CASE WHEN p.kind = 1 THEN p.x + (c.j & 1) * (p.side // 2) ELSE p.x END AS x,
            CASE WHEN p.kind = 1 THEN p.y + ((c.j >> 1) & 1) * (p.side // 2) ELSE p.y END AS y,
            CASE WHEN p.kind = 1 THEN p.z + ((c.j >> 2) & 1) * (p.side // 2) ELSE p.z END AS z,
            CASE WHEN p.kind = 1 THEN p.side // 2 ELSE p.side END AS side
          FROM lv p, range(8) c(j)
          WHERE (p.kind = 1 OR c.j = 0) AND p.partial > 0 AND p.runs <= (SELECT maxr FROM a)
            AND CASE WHEN p.items + 7 * p.partial > ${MAX_ITEMS}
              THEN ${fail(FN, `the decomposition needs more than ${MAX_ITEMS} nodes in one level; pass max_ranges to bound it, or a smaller region: `, 'p.items + 7 * p.partial')}
              ELSE 1 END = 1) p, a)
      WHERE kind <> 0 OR lo = -1)),
  last AS (SELECT lo, hi, kind = 2 AS c FROM lv WHERE d = (SELECT max(d) FROM lv) AND kind <> 0),
  runs AS (
    SELECT min(lo) AS lo, max(hi) AS hi, bool_and(c) AS c FROM (
      SELECT lo, hi, c, sum(brk::INTEGER) OVER (ORDER BY lo ROWS UNBOUNDED PRECEDING) AS grp
      FROM (SELECT lo, hi, c, ${runBreak('c')} AS brk FROM last))
    GROUP BY grp),
  gaps AS (
    SELECT lo, hi, c, gap, gap IS NOT NULL
        AND row_number() OVER (ORDER BY gap NULLS LAST, lo) <= count(*) OVER () - (SELECT maxr FROM a) AS joins
    FROM (SELECT lo, hi, c, lo - lag(hi) OVER (ORDER BY lo) - 1 AS gap FROM runs)),
  closed AS (
    SELECT min(lo) AS lo, max(hi) AS hi, bool_and(c AND (gap = 0 OR NOT joins)) AS c FROM (
      SELECT *, sum((NOT joins)::INTEGER) OVER (ORDER BY lo ROWS UNBOUNDED PRECEDING) AS grp FROM gaps)
    GROUP BY grp)
  SELECT (SELECT pre FROM a) | min(lo) AS lo, (SELECT pre FROM a) | max(hi) AS hi, bool_and(c) AS contained
  FROM (
    SELECT lo, hi, c, sum(brk::INTEGER) OVER (ORDER BY lo ROWS UNBOUNDED PRECEDING) AS grp
    FROM (SELECT lo, hi, c, ${runBreak('c')} AS brk FROM closed))
  GROUP BY grp ORDER BY 1`;

/** The range decomposition table macro. */
export const RANGE_MACROS: MacroDef[] = [
  {
    name: FN,
    kind: 'table',
    signature:
      "bcc_ranges(shape, region, lod [, max_ranges := NULL [, frame := 0 [, tier := 0]]]) → TABLE(lo BIGINT, hi BIGINT, contained BOOLEAN); shape 'box' with region [x0, y0, z0, x1, y1, z1] or 'sphere' with [cx, cy, cz, radius], lattice coordinates",
    sql: macro(FN, [['shape, region, lod, max_ranges := NULL, frame := 0, tier := 0', `TABLE ${body}`]]),
  },
];
