/**
 * Range decomposition: a box or sphere in lattice coordinates at one LOD becomes the sorted,
 * non-overlapping, inclusive Index64 or Hilbert64 id ranges that cover it, for `BETWEEN` filters,
 * row-group pruning and partition selection. Also the conservative step from frame metres to
 * lattice coordinates that such queries start from.
 *
 * A tile is "inside" when its integer lattice coordinates are; every integer triple of the domain
 * [0, 2^(L+1))³ counts, not only BCC points, because Index64 encodes any triple. Uncapped results
 * are exact; with `maxRanges` they are a cheap superset whose ranges say whether they are exact.
 */
import type { Triple } from './bcc.js';
import { checkInt, OctaError } from './errors.js';
import type { TileIdKind } from './ids.js';
import { HILBERT64_HEADER, INDEX64_HEADER, tileKeyPrefix } from './index64.js';
import { type CodeRanges, countSpherePoints, coverRegion, type Region } from './ranges-cover.js';

/**
 * An inclusive range of 64-bit ids (unsigned bigint form, header/tier/frame/LOD bits set). For the
 * INT64 column form apply `toI64` to both ends: within one id kind the order is the same.
 */
export interface IdRange {
  lo: bigint;
  hi: bigint;
  /** True when every id in [lo, hi] is a tile inside the region; false when some are not. */
  contained: boolean;
}

/** Ranges and how well they fit the region. */
export interface RangeCover {
  /** Sorted, non-overlapping; adjacent ranges with the same `contained` flag are merged. */
  ranges: IdRange[];
  stats: {
    /** `ranges.length`. */
    ranges: number;
    /** Ids covered by the ranges (tiles, whether inside or not). */
    coveredTiles: number;
    /** Integer points in the region and the domain. */
    queryTiles: number;
    /** False when `queryTiles` of a large capped sphere is estimated (see {@link sphereToRanges}). */
    queryTilesExact: boolean;
    /** coveredTiles / max(queryTiles, 1): 1 is a perfect fit, 0 an empty query. */
    ratio: number;
  };
}

/** Which 64-bit id order the ranges are in: a tile-key kind. */
export type RangeCurve = TileIdKind;

/** An inclusive box [x0, y0, z0, x1, y1, z1]. */
export type Box6 = [number, number, number, number, number, number];

/** Options shared by {@link boxToRanges} and {@link sphereToRanges}. */
export interface RangeOptions {
  /** Level of detail, 0..15; lattice coordinates run over [0, 2^(lod+1)). */
  lod: number;
  /** Id kind of the ranges (default `index64`). */
  curve?: RangeCurve;
  /** At most this many ranges (integer ≥ 1); omitted for an exact decomposition. */
  maxRanges?: number;
  /** Frame id, 0..255 (default 0). */
  frame?: number;
  /** Scale tier, 0..3 (default 0). */
  tier?: number;
}

/**
 * Id ranges covering the integer points of an inclusive lattice box at a LOD.
 *
 * A box that overlaps the domain [0, 2^(lod+1) − 1]³ is clamped to it; a box wholly outside gives
 * no ranges. Without `maxRanges` the ranges hold exactly the box's ids and all are contained (cost
 * grows with the box's surface in tiles: a 64³ box is a few milliseconds, a 10,000³ one at LOD 15
 * is too many ranges and throws). With `maxRanges` the octree is refined breadth-first until the
 * next level would need more ranges, then that level's smallest gaps are closed: a superset in at
 * most `maxRanges` ranges, ranges that include outside ids flagged `contained: false`.
 * @param options - lod, box (integers, x0 ≤ x1, y0 ≤ y1, z0 ≤ z1), curve, maxRanges, frame, tier
 * @returns sorted, merged ranges and their fit
 * @throws {OctaError} INVALID_LOD, INVALID_FRAME, INVALID_TIER, or INVALID_ARGUMENT for a malformed
 *   or reversed box, an unknown curve, a bad maxRanges, or an uncapped decomposition beyond 2^24 nodes
 */
export function boxToRanges({
  lod,
  box,
  curve = 'index64',
  maxRanges,
  frame = 0,
  tier = 0,
}: RangeOptions & { box: Box6 }): RangeCover {
  const prefix = checkCommon(lod, curve, maxRanges, frame, tier);
  if (!Array.isArray(box) || box.length !== 6 || !box.every((v) => Number.isInteger(v))) {
    throw new OctaError('INVALID_ARGUMENT', 'box must be 6 integers [x0, y0, z0, x1, y1, z1]', box);
  }
  const [x0, y0, z0, x1, y1, z1] = box as Box6;
  if (x0 > x1 || y0 > y1 || z0 > z1) {
    throw new OctaError('INVALID_ARGUMENT', 'box is reversed: need x0 <= x1, y0 <= y1, z0 <= z1', box);
  }
  const top = 2 ** (lod + 1) - 1;
  const region: Region = {
    kind: 'box',
    x0: Math.max(0, x0),
    y0: Math.max(0, y0),
    z0: Math.max(0, z0),
    x1: Math.min(top, x1),
    y1: Math.min(top, y1),
    z1: Math.min(top, z1),
  };
  if (region.x0 > region.x1 || region.y0 > region.y1 || region.z0 > region.z1) {
    return toCover(prefix, null, 0, true);
  }
  const queryTiles = (region.x1 - region.x0 + 1) * (region.y1 - region.y0 + 1) * (region.z1 - region.z0 + 1);
  const codes = coverRegion(region, lod, curve === 'hilbert64', maxRanges ?? Number.POSITIVE_INFINITY);
  return toCover(prefix, codes, queryTiles, true);
}

/**
 * Id ranges covering the integer points within a sphere at a LOD: (x, y, z) is inside when
 * (x−cx)² + (y−cy)² + (z−cz)² ≤ radius², evaluated in doubles in that order, and inside the domain.
 * The centre may be fractional and may lie outside the domain.
 *
 * Ranges and `maxRanges` behave as in {@link boxToRanges}. `stats.queryTiles` is exact for uncapped
 * decompositions and for capped ones whose x–y footprint spans at most 65,536 columns; beyond that
 * it is estimated from a 256 × 256 sample of exactly counted z-columns (`queryTilesExact: false`,
 * error well under 1% for spheres that large). A sphere with no integer point gives no ranges.
 * @param options - lod, center (finite), radius (finite, ≥ 0), curve, maxRanges, frame, tier
 * @returns sorted, merged ranges and their fit
 * @throws {OctaError} INVALID_LOD, INVALID_FRAME, INVALID_TIER, or INVALID_ARGUMENT for a bad centre
 *   or radius, an unknown curve, a bad maxRanges, or an uncapped decomposition beyond 2^24 nodes
 */
export function sphereToRanges({
  lod,
  center,
  radius,
  curve = 'index64',
  maxRanges,
  frame = 0,
  tier = 0,
}: RangeOptions & { center: Triple; radius: number }): RangeCover {
  const prefix = checkCommon(lod, curve, maxRanges, frame, tier);
  checkFinite(center, 3, 'sphere center must be 3 finite numbers [cx, cy, cz]');
  if (!Number.isFinite(radius) || radius < 0) {
    throw new OctaError('INVALID_ARGUMENT', 'sphere radius must be a finite number >= 0', radius);
  }
  const [cx, cy, cz] = center;
  const region: Region = { kind: 'sphere', cx, cy, cz, r2: radius * radius };
  const n = 2 ** (lod + 1);
  if (maxRanges === undefined) {
    const codes = coverRegion(region, lod, curve === 'hilbert64', Number.POSITIVE_INFINITY);
    let inside = 0;
    for (let i = 0; i < codes.n; i++) inside += codes.hi[i]! - codes.lo[i]! + 1;
    return toCover(prefix, codes, inside, true);
  }
  const { count, exact } = countSpherePoints(cx, cy, cz, region.r2, n);
  if (exact && count === 0) return toCover(prefix, null, 0, true);
  const codes = coverRegion(region, lod, curve === 'hilbert64', maxRanges);
  return toCover(prefix, codes, count, exact);
}

function checkCommon(
  lod: number,
  curve: RangeCurve,
  maxRanges: number | undefined,
  frame: number,
  tier: number,
): number {
  checkInt(lod, 0, 15, 'INVALID_LOD', 'LOD');
  if (curve !== 'index64' && curve !== 'hilbert64') {
    throw new OctaError('INVALID_ARGUMENT', "curve must be 'index64' or 'hilbert64'", curve);
  }
  if (maxRanges !== undefined) {
    checkInt(maxRanges, 1, Number.MAX_SAFE_INTEGER, 'INVALID_ARGUMENT', 'maxRanges');
  }
  return tileKeyPrefix(curve === 'hilbert64' ? HILBERT64_HEADER : INDEX64_HEADER, { frame, tier, lod });
}

function checkFinite(values: unknown, length: number, message: string): void {
  if (
    !Array.isArray(values) ||
    values.length !== length ||
    !values.every((v) => typeof v === 'number' && Number.isFinite(v))
  ) {
    throw new OctaError('INVALID_ARGUMENT', message, values);
  }
}

function toCover(prefix: number, codes: CodeRanges | null, queryTiles: number, exact: boolean): RangeCover {
  const ranges: IdRange[] = [];
  let covered = 0;
  if (codes !== null) {
    const base = BigInt(prefix) << 48n;
    for (let i = 0; i < codes.n; i++) {
      const lo = codes.lo[i]!;
      const hi = codes.hi[i]!;
      covered += hi - lo + 1;
      ranges.push({ lo: base + BigInt(lo), hi: base + BigInt(hi), contained: codes.contained[i] === 1 });
    }
  }
  return {
    ranges,
    stats: {
      ranges: ranges.length,
      coveredTiles: covered,
      queryTiles,
      queryTilesExact: exact,
      ratio: covered / Math.max(queryTiles, 1),
    },
  };
}

/** Where a frame's lattice sits in frame metres at one LOD. */
export interface LatticeGrid {
  /** Frame-local metres of lattice point (0, 0, 0), the domain's low corner. */
  origin: Triple;
  /** Metres per lattice unit at `lod` (the frame edge / 2^(lod+1)); finite, > 0. */
  unit: number;
  /** Level of detail, 0..15. */
  lod: number;
}

/**
 * The lattice box whose tiles hold every stored point of a box in frame metres.
 *
 * A point at lattice position u = (p − origin) / unit is stored under the nearest BCC point of the
 * domain (`frameToLattice`). Away from the domain's top faces that point differs from u by at most 1
 * per axis (the BCC Voronoi cell, a truncated octahedron, fits in the cube [−1, 1]³). At the top
 * faces the snap keeps BCC parity by moving n to n − 2 (n = 2^(lod+1)), up to 1.5 from u, but only
 * for u in (n − 1, n − 0.5], where floor(u − 1) is already n − 2. So margin 1 is enough in exact
 * arithmetic; the default 1.5 leaves room for rounding in however the ingest path computed u.
 * The result is [floor(lo − margin), ceil(hi + margin)] per axis in lattice units, clamped to
 * [0, n − 1].
 * @param options - origin, unit, lod, box in metres [x0, y0, z0, x1, y1, z1] (x0 ≤ x1, ...),
 *   margin in lattice units (finite, ≥ 0, default 1.5)
 * @returns an integer lattice box for {@link boxToRanges}, or null when the box misses the domain
 *   [origin, origin + 2^(lod+1)·unit)³ so no stored point can be inside
 * @throws {OctaError} INVALID_LOD, or INVALID_ARGUMENT for a non-finite or reversed box, a bad origin,
 *   unit or margin
 */
export function metersBoxToLatticeBox({
  origin,
  unit,
  lod,
  box,
  margin = 1.5,
}: LatticeGrid & { box: Box6; margin?: number }): Box6 | null {
  const n = checkGrid(origin, unit, lod, margin);
  checkFinite(box, 6, 'box must be 6 finite numbers [x0, y0, z0, x1, y1, z1] in metres');
  if (box[0] > box[3] || box[1] > box[4] || box[2] > box[5]) {
    throw new OctaError('INVALID_ARGUMENT', 'box is reversed: need x0 <= x1, y0 <= y1, z0 <= z1', box);
  }
  const out: Box6 = [0, 0, 0, 0, 0, 0];
  for (let axis = 0; axis < 3; axis++) {
    const lo = (box[axis]! - origin[axis]!) / unit;
    const hi = (box[axis + 3]! - origin[axis]!) / unit;
    if (hi < 0 || lo >= n) return null;
    out[axis] = Math.max(0, Math.floor(lo - margin));
    out[axis + 3] = Math.min(n - 1, Math.ceil(hi + margin));
  }
  return out;
}

/**
 * The lattice sphere whose tiles hold every stored point of a sphere in frame metres.
 *
 * Snapping moves a point at most √5/2 lattice units, and up to √3 at the domain's top faces where
 * the snap keeps BCC parity (see {@link metersBoxToLatticeBox}); unlike a box's floor and ceil,
 * nothing rounds that up for free, so the default margin is 2.
 * @param options - origin, unit, lod, center in metres, radius in metres (finite, ≥ 0), margin in
 *   lattice units (finite, ≥ 0, default 2)
 * @returns centre and radius in lattice units for {@link sphereToRanges}, or null when the sphere
 *   misses the domain [origin, origin + 2^(lod+1)·unit)³
 * @throws {OctaError} INVALID_LOD, or INVALID_ARGUMENT for a non-finite centre, a bad radius, origin,
 *   unit or margin
 */
export function metersSphereToLattice({
  origin,
  unit,
  lod,
  center,
  radius,
  margin = 2,
}: LatticeGrid & { center: Triple; radius: number; margin?: number }): {
  center: Triple;
  radius: number;
} | null {
  const n = checkGrid(origin, unit, lod, margin);
  checkFinite(center, 3, 'sphere center must be 3 finite numbers in metres');
  if (!Number.isFinite(radius) || radius < 0) {
    throw new OctaError('INVALID_ARGUMENT', 'sphere radius must be a finite number >= 0', radius);
  }
  const c: Triple = [
    (center[0] - origin[0]) / unit,
    (center[1] - origin[1]) / unit,
    (center[2] - origin[2]) / unit,
  ];
  const r = radius / unit;
  let gap2 = 0;
  for (const v of c) {
    const d = v < 0 ? -v : v > n ? v - n : 0;
    gap2 += d * d;
  }
  if (gap2 > r * r) return null;
  return { center: c, radius: r + margin };
}

function checkGrid(origin: Triple, unit: number, lod: number, margin: number): number {
  checkInt(lod, 0, 15, 'INVALID_LOD', 'LOD');
  checkFinite(origin, 3, 'origin must be 3 finite numbers in metres');
  if (!Number.isFinite(unit) || unit <= 0) {
    throw new OctaError('INVALID_ARGUMENT', 'unit must be a finite number of metres > 0', unit);
  }
  if (!Number.isFinite(margin) || margin < 0) {
    throw new OctaError('INVALID_ARGUMENT', 'margin must be a finite number of lattice units >= 0', margin);
  }
  return 2 ** (lod + 1);
}

/** The British spelling published first: the same function as {@link metersBoxToLatticeBox} (docs/NAMING.md). */
export const metresBoxToLatticeBox = metersBoxToLatticeBox;

/** The British spelling published first: the same function as {@link metersSphereToLattice} (docs/NAMING.md). */
export const metresSphereToLattice = metersSphereToLattice;
