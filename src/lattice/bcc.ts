/**
 * BCC lattice geometry: parity, nearest-point snapping, the 14 neighbours in the crate's order,
 * k-rings, distances, and the BCC-correct lattice hierarchy.
 *
 * A BCC point has all-even or all-odd integer coordinates. The lattice hierarchy here is the
 * geometric one (children of p are 2p + (0,0,0), (2,0,0), (0,2,0), (0,0,2), (1,±1,±1)); the id-level
 * tile hierarchy is `tileToParent` / `tileToChildren` in index64.ts. The two must not be mixed.
 */
import { checkInt, OctaError } from './errors.js';

/** A lattice point or offset. */
export type Triple = [number, number, number];

/**
 * The 14 neighbour offsets in octaindex3d's order, flat (stride 3): the eight (±1,±1,±1) diagonals
 * x-major, then (±2,0,0), (0,±2,0), (0,0,±2).
 */
export const NEIGHBOR_OFFSETS: Int8Array = Int8Array.from([
  1, 1, 1, 1, 1, -1, 1, -1, 1, 1, -1, -1, -1, 1, 1, -1, 1, -1, -1, -1, 1, -1, -1, -1, 2, 0, 0, -2, 0, 0, 0, 2,
  0, 0, -2, 0, 0, 0, 2, 0, 0, -2,
]);

/** Child offsets from 2p, in the order children are listed. */
export const CHILD_OFFSETS: Int8Array = Int8Array.from([
  0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 1, 1, 1, 1, -1, 1, -1, 1, 1, -1, -1,
]);

/** Whether (x, y, z) is a BCC lattice point (all even or all odd). */
export function isBccPoint(x: number, y: number, z: number): boolean {
  if (!Number.isInteger(x) || !Number.isInteger(y) || !Number.isInteger(z)) return false;
  const p = mod2(x);
  return mod2(y) === p && mod2(z) === p;
}

function mod2(v: number): number {
  return ((v % 2) + 2) % 2;
}

/** Rounds half away from zero, as Rust's `f64::round` (JS `Math.round` rounds half up). */
export function rustRound(v: number): number {
  return v < 0 ? -Math.round(-v) || 0 : Math.round(v);
}

/**
 * Nearest BCC point to a physical point at a resolution (lattice spacing 1 / 2^resolution): per axis
 * the nearest even and nearest odd integers (Rust rounding), the nearer candidate wins and ties go
 * to the all-even one. Never farther than √5/2 lattice units from the scaled point.
 * @param px - physical x
 * @param py - physical y
 * @param pz - physical z
 * @param options - resolution (0..30, default 0)
 * @returns the lattice point
 * @throws {OctaError} INVALID_INPUT for a non-finite coordinate
 */
export function snapToLattice(px: number, py: number, pz: number, { resolution = 0 } = {}): Triple {
  checkInt(resolution, 0, 30, 'INVALID_ARGUMENT', 'resolution');
  if (!Number.isFinite(px) || !Number.isFinite(py) || !Number.isFinite(pz)) {
    throw new OctaError('INVALID_INPUT', 'cannot snap a non-finite coordinate', [px, py, pz]);
  }
  const s = 2 ** resolution;
  const out: Triple = [0, 0, 0];
  snapInto(px * s, py * s, pz * s, out, 0);
  return out;
}

/**
 * Snaps lattice-unit coordinates into `out[at..at+2]`; the shared kernel of the scalar and batch forms.
 * @returns the squared distance to the chosen point
 */
export function snapInto(u: number, v: number, w: number, out: { [i: number]: number }, at: number): number {
  const ex = 2 * rustRound(u / 2);
  const ey = 2 * rustRound(v / 2);
  const ez = 2 * rustRound(w / 2);
  const ox = 2 * rustRound((u - 1) / 2) + 1;
  const oy = 2 * rustRound((v - 1) / 2) + 1;
  const oz = 2 * rustRound((w - 1) / 2) + 1;
  const de = (u - ex) ** 2 + (v - ey) ** 2 + (w - ez) ** 2;
  const dodd = (u - ox) ** 2 + (v - oy) ** 2 + (w - oz) ** 2;
  if (dodd < de) {
    out[at] = ox;
    out[at + 1] = oy;
    out[at + 2] = oz;
    return dodd;
  }
  out[at] = ex + 0;
  out[at + 1] = ey + 0;
  out[at + 2] = ez + 0;
  return de;
}

function checkPoint(x: number, y: number, z: number): void {
  if (!isBccPoint(x, y, z)) {
    throw new OctaError(
      'INVALID_PARITY',
      'not a BCC lattice point: coordinates must be integers, all even or all odd',
      [x, y, z],
    );
  }
}

/**
 * The 14 neighbours of a BCC point in the crate's order.
 * @throws {OctaError} INVALID_PARITY when the point is not on the lattice
 */
export function latticeToNeighbors(x: number, y: number, z: number): Triple[] {
  checkPoint(x, y, z);
  const out: Triple[] = [];
  for (let i = 0; i < 42; i += 3) {
    out.push([x + NEIGHBOR_OFFSETS[i]!, y + NEIGHBOR_OFFSETS[i + 1]!, z + NEIGHBOR_OFFSETS[i + 2]!]);
  }
  return out;
}

/**
 * The 8 BCC children of a point one level finer: 2p + (0,0,0), (2,0,0), (0,2,0), (0,0,2), (1,±1,±1).
 * @throws {OctaError} INVALID_PARITY when the point is not on the lattice
 */
export function latticeToChildren(x: number, y: number, z: number): Triple[] {
  checkPoint(x, y, z);
  const out: Triple[] = [];
  for (let i = 0; i < 24; i += 3) {
    out.push([2 * x + CHILD_OFFSETS[i]!, 2 * y + CHILD_OFFSETS[i + 1]!, 2 * z + CHILD_OFFSETS[i + 2]!]);
  }
  return out;
}

/**
 * The BCC parent: the unique BCC point p one level coarser with this point among its children.
 * @throws {OctaError} INVALID_PARITY when the point is not on the lattice
 */
export function latticeToParent(x: number, y: number, z: number): Triple {
  checkPoint(x, y, z);
  for (let i = 0; i < 24; i += 3) {
    const dx = x - CHILD_OFFSETS[i]!;
    const dy = y - CHILD_OFFSETS[i + 1]!;
    const dz = z - CHILD_OFFSETS[i + 2]!;
    if (mod2(dx) === 0 && mod2(dy) === 0 && mod2(dz) === 0 && isBccPoint(dx / 2, dy / 2, dz / 2)) {
      return [dx / 2 + 0, dy / 2 + 0, dz / 2 + 0];
    }
  }
  // Unreachable for a BCC point: the child offsets cover every residue class exactly once.
  throw new OctaError('INVALID_PARITY', 'no BCC parent found', [x, y, z]);
}

/** Euclidean distance between two lattice points, in lattice units (the crate's `distance_to`). */
export function latticeDistance(a: Triple, b: Triple): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/**
 * The fewest neighbour steps between two BCC points: (largest + middle absolute difference) / 2.
 * @throws {OctaError} INVALID_PARITY when either point is not on the lattice
 */
export function latticeStepDistance(a: Triple, b: Triple): number {
  checkPoint(a[0], a[1], a[2]);
  checkPoint(b[0], b[1], b[2]);
  return stepsBetween(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Step distance of a BCC offset (trusted input). */
export function stepsBetween(dx: number, dy: number, dz: number): number {
  const a = Math.abs(dx);
  const b = Math.abs(dy);
  const c = Math.abs(dz);
  const min = Math.min(a, b, c);
  return (a + b + c - min) / 2;
}

/** Number of BCC points within k steps of a point (the size of {@link latticeToKRing}). */
export function kRingSize(k: number): number {
  checkInt(k, 0, 1000, 'INVALID_ARGUMENT', 'k');
  let n = 0;
  for (let dx = -2 * k; dx <= 2 * k; dx++) {
    for (let dy = -2 * k; dy <= 2 * k; dy++) {
      if (mod2(dy) !== mod2(dx)) continue;
      for (let dz = -2 * k; dz <= 2 * k; dz++) {
        if (mod2(dz) === mod2(dx) && stepsBetween(dx, dy, dz) <= k) n++;
      }
    }
  }
  return n;
}

/**
 * All BCC points within k neighbour steps, in breadth-first order from the centre with neighbours
 * taken in the crate's order: the centre first, then the 14 neighbours, then ring 2, and so on.
 * @param k - 0..64
 * @throws {OctaError} INVALID_PARITY or INVALID_ARGUMENT
 */
export function latticeToKRing(x: number, y: number, z: number, k: number): Triple[] {
  checkPoint(x, y, z);
  checkInt(k, 0, 64, 'INVALID_ARGUMENT', 'k');
  const seen = new Set<string>([`${x},${y},${z}`]);
  const out: Triple[] = [[x, y, z]];
  let frontier = 0;
  for (let ring = 0; ring < k; ring++) {
    const end = out.length;
    for (let f = frontier; f < end; f++) {
      const p = out[f]!;
      for (let i = 0; i < 42; i += 3) {
        const q: Triple = [
          p[0] + NEIGHBOR_OFFSETS[i]!,
          p[1] + NEIGHBOR_OFFSETS[i + 1]!,
          p[2] + NEIGHBOR_OFFSETS[i + 2]!,
        ];
        const key = `${q[0]},${q[1]},${q[2]}`;
        if (!seen.has(key)) {
          seen.add(key);
          out.push(q);
        }
      }
    }
    frontier = end;
  }
  return out;
}

/**
 * The lattice offsets of a k-ring without its centre, in {@link latticeToKRing}'s order: for k = 1
 * the crate's 14 neighbours in the crate's order, then ring 2 breadth-first, and so on.
 * @param k - 1..4
 * @returns flat [dx, dy, dz, …], 3 × (kRingSize(k) − 1) values
 * @throws {OctaError} INVALID_ARGUMENT for k outside 1..4
 */
export function kRingOffsets(k: number): Int32Array {
  if (!Number.isInteger(k) || k < 1 || k > 4) {
    throw new OctaError('INVALID_ARGUMENT', 'k must be an integer 1..4 (k = 1: the 14 neighbours)', k);
  }
  // Any BCC point far enough from 0 works: the ring's order is translation invariant.
  const c = 16;
  const ring = latticeToKRing(c, c, c, k).slice(1);
  const out = new Int32Array(3 * (kRingSize(k) - 1));
  ring.forEach((p, i) => {
    out[3 * i] = p[0] - c;
    out[3 * i + 1] = p[1] - c;
    out[3 * i + 2] = p[2] - c;
  });
  return out;
}
