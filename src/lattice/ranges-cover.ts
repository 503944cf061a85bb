/**
 * The octree engine behind range decomposition (ranges.ts is the validated public face).
 *
 * The tree is the id-level tile hierarchy of one LOD: the root is the whole domain [0, 2^(L+1))³,
 * each node splits into 8 octants, and a node's ids are one contiguous run of the 48-bit code
 * space. Index64 places octant o at child position o; Hilbert64 (per-digit Gray code) places the
 * octant ungray(j) at position j, so one descent serves both curves. Codes stay plain doubles
 * (below 2^48, exact) and nodes live in typed arrays, one level at a time, in id order.
 */
import { OctaError } from './errors.js';

/** A validated region in lattice coordinates, clamped to the domain where that matters. */
export type Region =
  | { kind: 'box'; x0: number; y0: number; z0: number; x1: number; y1: number; z1: number }
  | { kind: 'sphere'; cx: number; cy: number; cz: number; r2: number };

/** Sorted, merged code ranges (inclusive), `contained[i]` 1 when every code of range i is inside. */
export interface CodeRanges {
  n: number;
  lo: Float64Array;
  hi: Float64Array;
  contained: Uint8Array;
}

const OUTSIDE = 0;
const PARTIAL = 1;
const CONTAINED = 2;

/** Octant at child position j: the identity for Index64, 3-bit ungray(j) for Hilbert64. */
const MORTON_OCTANTS = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
const HILBERT_OCTANTS = Uint8Array.from([0, 1, 3, 2, 7, 6, 4, 5]);

/** More nodes than this in one level means the caller asked for something unbounded. */
const MAX_ITEMS = 1 << 24;

/**
 * Whether the integer points of the node [x, x+s-1] × [y, y+s-1] × [z, z+s-1] are all outside,
 * some inside, or all inside. Sphere tests use (dx·dx + dy·dy) + dz·dz ≤ r² exactly as a point test
 * would, so node answers agree with per-point answers even in the last bit.
 */
function classify(r: Region, x: number, y: number, z: number, s: number): number {
  const xe = x + s - 1;
  const ye = y + s - 1;
  const ze = z + s - 1;
  if (r.kind === 'box') {
    if (x > r.x1 || xe < r.x0 || y > r.y1 || ye < r.y0 || z > r.z1 || ze < r.z0) return OUTSIDE;
    if (x >= r.x0 && xe <= r.x1 && y >= r.y0 && ye <= r.y1 && z >= r.z0 && ze <= r.z1) return CONTAINED;
    return PARTIAL;
  }
  const nx = r.cx < x ? x - r.cx : r.cx > xe ? r.cx - xe : 0;
  const ny = r.cy < y ? y - r.cy : r.cy > ye ? r.cy - ye : 0;
  const nz = r.cz < z ? z - r.cz : r.cz > ze ? r.cz - ze : 0;
  if (nx * nx + ny * ny + nz * nz > r.r2) return OUTSIDE;
  const fx = Math.max(Math.abs(x - r.cx), Math.abs(xe - r.cx));
  const fy = Math.max(Math.abs(y - r.cy), Math.abs(ye - r.cy));
  const fz = Math.max(Math.abs(z - r.cz), Math.abs(ze - r.cz));
  return fx * fx + fy * fy + fz * fz <= r.r2 ? CONTAINED : PARTIAL;
}

/** One breadth-first level: contained runs (already merged) and partial nodes, in id order. */
interface Level {
  n: number;
  lo: Float64Array;
  hi: Float64Array;
  kind: Uint8Array;
  x: Uint16Array;
  y: Uint16Array;
  z: Uint16Array;
  /** Partial nodes in the level. */
  partial: number;
  /** Ranges the level would emit once adjacent partial nodes are merged too. */
  runs: number;
}

function newLevel(capacity: number): Level {
  if (capacity > MAX_ITEMS) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `the decomposition needs more than ${MAX_ITEMS} ranges; pass a smaller maxRanges (or none) to bound it`,
      capacity,
    );
  }
  return {
    n: 0,
    lo: new Float64Array(capacity),
    hi: new Float64Array(capacity),
    kind: new Uint8Array(capacity),
    x: new Uint16Array(capacity),
    y: new Uint16Array(capacity),
    z: new Uint16Array(capacity),
    partial: 0,
    runs: 0,
  };
}

function push(l: Level, lo: number, hi: number, kind: number, x: number, y: number, z: number): void {
  const last = l.n - 1;
  if (last >= 0 && l.kind[last] === kind && l.hi[last]! + 1 === lo) {
    // Contained runs never refine again, so they merge now; partial nodes stay apart (each one
    // refines on its own) but would share one emitted range.
    if (kind === CONTAINED) {
      l.hi[last] = hi;
      return;
    }
  } else {
    l.runs++;
  }
  l.lo[l.n] = lo;
  l.hi[l.n] = hi;
  l.kind[l.n] = kind;
  l.x[l.n] = x;
  l.y[l.n] = y;
  l.z[l.n] = z;
  if (kind === PARTIAL) l.partial++;
  l.n++;
}

/** Replaces every partial node of side `side` by its non-outside children, keeping id order. */
function refine(l: Level, region: Region, side: number, octants: Uint8Array): Level {
  const half = side / 2;
  const vol = half * half * half;
  const next = newLevel(l.n - l.partial + 8 * l.partial);
  for (let i = 0; i < l.n; i++) {
    const lo = l.lo[i]!;
    if (l.kind[i] === CONTAINED) {
      push(next, lo, l.hi[i]!, CONTAINED, 0, 0, 0);
      continue;
    }
    const x = l.x[i]!;
    const y = l.y[i]!;
    const z = l.z[i]!;
    for (let j = 0; j < 8; j++) {
      const o = octants[j]!;
      const cx = x + (o & 1) * half;
      const cy = y + ((o >> 1) & 1) * half;
      const cz = z + ((o >> 2) & 1) * half;
      const k = classify(region, cx, cy, cz, half);
      if (k !== OUTSIDE) push(next, lo + j * vol, lo + j * vol + vol - 1, k, cx, cy, cz);
    }
  }
  return next;
}

/** The level's emitted ranges: partial nodes become non-contained, adjacent ones merged. */
function runsOf(l: Level): CodeRanges {
  const out: CodeRanges = {
    n: 0,
    lo: new Float64Array(l.runs),
    hi: new Float64Array(l.runs),
    contained: new Uint8Array(l.runs),
  };
  for (let i = 0; i < l.n; i++) {
    appendRange(out, l.lo[i]!, l.hi[i]!, l.kind[i] === CONTAINED ? 1 : 0);
  }
  return out;
}

/** Appends a range after the last one, merging when adjacent with the same flag. */
function appendRange(out: CodeRanges, lo: number, hi: number, contained: number): void {
  const last = out.n - 1;
  if (last >= 0 && out.contained[last] === contained && out.hi[last]! + 1 === lo) {
    out.hi[last] = hi;
    return;
  }
  out.lo[out.n] = lo;
  out.hi[out.n] = hi;
  out.contained[out.n] = contained;
  out.n++;
}

/**
 * Closes the smallest gaps between consecutive ranges until at most `cap` remain. Every closure
 * removes exactly one range and costs its gap, so closing the smallest ones (ties: leftmost first)
 * adds the least volume possible for this list. A closed range is contained only when both parts
 * are and the gap was empty.
 */
function closeSmallestGaps(r: CodeRanges, cap: number): CodeRanges {
  const close = r.n - cap;
  if (close <= 0) return r;
  const gaps = new Float64Array(r.n - 1);
  for (let i = 0; i < gaps.length; i++) gaps[i] = r.lo[i + 1]! - r.hi[i]! - 1;
  const threshold = Float64Array.from(gaps).sort()[close - 1]!;
  let atThreshold = close;
  for (const g of gaps) if (g < threshold) atThreshold--;
  const out: CodeRanges = {
    n: 0,
    lo: new Float64Array(cap),
    hi: new Float64Array(cap),
    contained: new Uint8Array(cap),
  };
  let lo = r.lo[0]!;
  let hi = r.hi[0]!;
  let contained = r.contained[0]!;
  for (let i = 1; i < r.n; i++) {
    const g = gaps[i - 1]!;
    if (g < threshold || (g === threshold && atThreshold-- > 0)) {
      hi = r.hi[i]!;
      contained = contained && r.contained[i] && g === 0 ? 1 : 0;
    } else {
      appendRange(out, lo, hi, contained);
      lo = r.lo[i]!;
      hi = r.hi[i]!;
      contained = r.contained[i]!;
    }
  }
  appendRange(out, lo, hi, contained);
  return out;
}

/**
 * Decomposes a region into sorted, merged code ranges at a LOD.
 *
 * Breadth-first, coarse to fine. Uncapped, it descends to single tiles, so the result is exact and
 * all contained. Capped, it stops at the first level whose merged range count exceeds `maxRanges`
 * and closes that level's smallest gaps; this is never worse than keeping the previous level, whose
 * cover is one particular way of closing gaps in the finer list.
 * @param region - validated region; boxes already clamped to the domain
 * @param lod - 0..15 (trusted)
 * @param hilbert - order children as Hilbert64 ids instead of Index64 ones
 * @param maxRanges - at least 1, or Infinity for an exact decomposition
 * @returns code ranges (the 48 low bits of the ids)
 * @throws {OctaError} INVALID_ARGUMENT when a level would hold more than 2^24 nodes
 */
export function coverRegion(region: Region, lod: number, hilbert: boolean, maxRanges: number): CodeRanges {
  const octants = hilbert ? HILBERT_OCTANTS : MORTON_OCTANTS;
  let side = 2 ** (lod + 1);
  let level = newLevel(1);
  const k = classify(region, 0, 0, 0, side);
  if (k !== OUTSIDE) push(level, 0, side * side * side - 1, k, 0, 0, 0);
  while (level.partial > 0) {
    const next = refine(level, region, side, octants);
    side /= 2;
    if (next.runs > maxRanges) return closeSmallestGaps(runsOf(next), maxRanges);
    level = next;
  }
  return runsOf(level);
}

/** Column-count budget for exact sphere counting; beyond it the count is sampled. */
const EXACT_COLUMNS = 1 << 16;
/** Sample grid side when estimating. */
const SAMPLES = 256;

/**
 * Integer points of a sphere inside the domain [0, n)³, by columns along z.
 * Exact while the sphere's clipped x–y footprint has at most 2^16 columns; otherwise a 256 × 256
 * grid of columns is counted exactly and each is weighted by the columns it stands for.
 * @returns the count and whether it is exact
 */
export function countSpherePoints(
  cx: number,
  cy: number,
  cz: number,
  r2: number,
  n: number,
): { count: number; exact: boolean } {
  const r = Math.sqrt(r2);
  // One spare column each side absorbs rounding in cx ± r; the per-column test decides.
  const xa = Math.max(0, Math.ceil(cx - r) - 1);
  const xb = Math.min(n - 1, Math.floor(cx + r) + 1);
  const ya = Math.max(0, Math.ceil(cy - r) - 1);
  const yb = Math.min(n - 1, Math.floor(cy + r) + 1);
  if (xa > xb || ya > yb) return { count: 0, exact: true };
  const nx = xb - xa + 1;
  const ny = yb - ya + 1;
  let count = 0;
  if (nx * ny <= EXACT_COLUMNS) {
    for (let x = xa; x <= xb; x++) {
      for (let y = ya; y <= yb; y++) count += columnCount(x - cx, y - cy, cz, r2, n);
    }
    return { count, exact: true };
  }
  const sx = Math.ceil(nx / SAMPLES);
  const sy = Math.ceil(ny / SAMPLES);
  for (let x = xa; x <= xb; x += sx) {
    const wx = Math.min(sx, xb - x + 1);
    for (let y = ya; y <= yb; y += sy) {
      const wy = Math.min(sy, yb - y + 1);
      count += wx * wy * columnCount(x + (wx >> 1) - cx, y + (wy >> 1) - cy, cz, r2, n);
    }
  }
  return { count: Math.round(count), exact: false };
}

/** Integer z in [0, n) with (dx·dx + dy·dy) + (z−cz)² ≤ r2, the same expression as the node test. */
function columnCount(dx: number, dy: number, cz: number, r2: number, n: number): number {
  const s = dx * dx + dy * dy;
  if (s > r2) return 0;
  const h = Math.sqrt(r2 - s);
  let za = Math.max(0, Math.ceil(cz - h));
  let zb = Math.min(n - 1, Math.floor(cz + h));
  // sqrt and the two roundings can be off by one; settle the ends with the exact test.
  while (za > 0 && s + (za - 1 - cz) * (za - 1 - cz) <= r2) za--;
  while (za <= zb && s + (za - cz) * (za - cz) > r2) za++;
  while (zb < n - 1 && s + (zb + 1 - cz) * (zb + 1 - cz) <= r2) zb++;
  while (zb >= za && s + (zb - cz) * (zb - cz) > r2) zb--;
  return zb >= za ? zb - za + 1 : 0;
}
