import { describe, expect, it } from 'vitest';
import {
  type Box6,
  boxToRanges,
  type Frame,
  frameToLattice,
  hilbert64ToLattice,
  type IdRange,
  index64ToLattice,
  latticeToHilbert64,
  latticeToIndex64,
  latticeUnit,
  metresBoxToLatticeBox,
  metresSphereToLattice,
  OctaError,
  type RangeCover,
  type RangeCurve,
  sphereToRanges,
  type Triple,
} from '../../src/lattice/index.js';
import { prng, randInt } from '../prng.js';

type Inside = (x: number, y: number, z: number) => boolean;

interface Key {
  lod: number;
  curve: RangeCurve;
  frame: number;
  tier: number;
}

/** Ids of every integer point of the domain inside the region, sorted, via the public encoders. */
function bruteIds(key: Key, inside: Inside): bigint[] {
  const n = 2 ** (key.lod + 1);
  const encode = key.curve === 'hilbert64' ? latticeToHilbert64 : latticeToIndex64;
  const ids: bigint[] = [];
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) {
      for (let z = 0; z < n; z++) if (inside(x, y, z)) ids.push(encode(x, y, z, key));
    }
  }
  return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Maximal runs of consecutive ids: what an exact, merged decomposition must be. */
function runsOf(ids: bigint[]): IdRange[] {
  const out: IdRange[] = [];
  for (const id of ids) {
    const last = out[out.length - 1];
    if (last !== undefined && last.hi + 1n === id) last.hi = id;
    else out.push({ lo: id, hi: id, contained: true });
  }
  return out;
}

function insideOf(key: Key, id: bigint, inside: Inside): boolean {
  const f = key.curve === 'hilbert64' ? hilbert64ToLattice(id) : index64ToLattice(id);
  expect([f.lod, f.frame, f.tier]).toEqual([key.lod, key.frame, key.tier]);
  return inside(f.x, f.y, f.z);
}

/** Sorted, non-overlapping, and adjacent ranges differ in their flag. */
function expectWellFormed(ranges: IdRange[]): void {
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    expect(r.lo <= r.hi).toBe(true);
    const next = ranges[i + 1];
    if (next === undefined) continue;
    expect(next.lo > r.hi).toBe(true);
    if (next.lo === r.hi + 1n) expect(next.contained).not.toBe(r.contained);
  }
}

/** Capped contract: superset, at most `cap`, and each flag true exactly when all its ids are inside. */
function expectCappedCover(key: Key, cover: RangeCover, exact: bigint[], cap: number, inside: Inside): void {
  const { ranges } = cover;
  expect(ranges.length).toBeLessThanOrEqual(cap);
  expectWellFormed(ranges);
  let j = 0;
  let covered = 0;
  for (const r of ranges) {
    let allInside = true;
    for (let id = r.lo; id <= r.hi; id++) {
      covered++;
      const isIn = insideOf(key, id, inside);
      allInside &&= isIn;
      if (isIn) {
        expect(exact[j]).toBe(id);
        j++;
      }
    }
    expect(r.contained).toBe(allInside);
  }
  expect(j).toBe(exact.length);
  expect(cover.stats).toMatchObject({
    ranges: ranges.length,
    coveredTiles: covered,
    queryTiles: exact.length,
  });
}

function randomKey(rand: () => number, maxLod: number): Key {
  return {
    lod: randInt(rand, 0, maxLod),
    curve: rand() < 0.5 ? 'index64' : 'hilbert64',
    frame: randInt(rand, 0, 255),
    tier: randInt(rand, 0, 3),
  };
}

function randomBox(rand: () => number, n: number): Box6 {
  const a = [0, 0, 0].map(() => randInt(rand, -3, n + 1));
  const b = a.map((v) => v + randInt(rand, 0, n));
  return [a[0]!, a[1]!, a[2]!, b[0]!, b[1]!, b[2]!];
}

function inBox(b: Box6): Inside {
  return (x, y, z) => x >= b[0] && x <= b[3] && y >= b[1] && y <= b[4] && z >= b[2] && z <= b[5];
}

function randomSphere(rand: () => number, n: number): { center: Triple; radius: number } {
  const c = (): number => (rand() < 0.5 ? randInt(rand, -2, n + 1) : -2 + rand() * (n + 4));
  const radius = rand() < 0.3 ? randInt(rand, 0, n) : rand() * n;
  return { center: [c(), c(), c()], radius };
}

/** The point test sphereToRanges documents: (x−cx)² + (y−cy)² + (z−cz)² ≤ r², in this order. */
function inSphere(center: Triple, radius: number): Inside {
  const [cx, cy, cz] = center;
  const r2 = radius * radius;
  return (x, y, z) => (x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - cz) * (z - cz) <= r2;
}

function codeOf(e: unknown): string {
  return e instanceof OctaError ? e.code : `not an OctaError: ${String(e)}`;
}

function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return codeOf(e);
  }
  return 'did not throw';
}

describe('boxToRanges, uncapped', () => {
  it('equals the maximal runs of brute-force ids on random small boxes', () => {
    const rand = prng(1);
    let nonEmpty = 0;
    for (let t = 0; t < 400; t++) {
      const key = randomKey(rand, 3);
      const box = randomBox(rand, 2 ** (key.lod + 1));
      const exact = bruteIds(key, inBox(box));
      const cover = boxToRanges({ ...key, box });
      expect(cover.ranges).toEqual(runsOf(exact));
      expectWellFormed(cover.ranges);
      expect(cover.stats).toEqual({
        ranges: cover.ranges.length,
        coveredTiles: exact.length,
        queryTiles: exact.length,
        queryTilesExact: true,
        ratio: exact.length === 0 ? 0 : 1,
      });
      if (exact.length > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(150);
  });

  it('is exact on an unaligned box at LOD 10', () => {
    const key: Key = { lod: 10, curve: 'index64', frame: 3, tier: 1 };
    const box: Box6 = [1021, 5, 7, 1030, 30, 19];
    const exact: bigint[] = [];
    for (let x = box[0]; x <= box[3]; x++) {
      for (let y = box[1]; y <= box[4]; y++) {
        for (let z = box[2]; z <= box[5]; z++) exact.push(latticeToIndex64(x, y, z, key));
      }
    }
    exact.sort((a, b) => (a < b ? -1 : 1));
    for (const curve of ['index64', 'hilbert64'] as const) {
      const ids = curve === 'index64' ? exact : exact.map((id) => latticeToHilbert64(...xyz(id), key));
      ids.sort((a, b) => (a < b ? -1 : 1));
      expect(boxToRanges({ ...key, curve, box }).ranges).toEqual(runsOf(ids));
    }
  });

  it('gives one range for every aligned tile, from its lowest to its highest id', () => {
    const rand = prng(2);
    for (let t = 0; t < 100; t++) {
      const key = randomKey(rand, 4);
      const level = randInt(rand, 0, key.lod + 1);
      const side = 2 ** level;
      const cells = 2 ** (key.lod + 1) / side;
      const [x, y, z] = [0, 0, 0].map(() => randInt(rand, 0, cells - 1) * side);
      const box: Box6 = [x!, y!, z!, x! + side - 1, y! + side - 1, z! + side - 1];
      const exact = bruteIds(key, inBox(box));
      const { ranges } = boxToRanges({ ...key, box });
      expect(ranges).toEqual([{ lo: exact[0], hi: exact[exact.length - 1], contained: true }]);
      expect(ranges[0]!.hi - ranges[0]!.lo + 1n).toBe(BigInt(side ** 3));
    }
  });

  it('covers the whole domain with the full code range', () => {
    const { ranges } = boxToRanges({ lod: 15, box: [-5, 0, 0, 70000, 65535, 65535], frame: 9, tier: 2 });
    const base = (((0b10 << 14) | (2 << 12) | (9 << 4) | 15) >>> 0) * 2 ** 48;
    expect(ranges).toEqual([{ lo: BigInt(base), hi: BigInt(base) + (1n << 48n) - 1n, contained: true }]);
  });

  it('gives no ranges for a box outside the domain', () => {
    for (const box of [
      [4, 0, 0, 9, 3, 3],
      [0, -9, 0, 3, -1, 3],
      [0, 0, 100, 3, 3, 200],
    ] as Box6[]) {
      const cover = boxToRanges({ lod: 1, box, maxRanges: 4 });
      expect(cover).toEqual({
        ranges: [],
        stats: { ranges: 0, coveredTiles: 0, queryTiles: 0, queryTilesExact: true, ratio: 0 },
      });
      expect(boxToRanges({ lod: 1, box }).ranges).toEqual([]);
    }
  });
});

function xyz(id: bigint): Triple {
  const f = index64ToLattice(id);
  return [f.x, f.y, f.z];
}

describe('sphereToRanges, uncapped', () => {
  it('equals the maximal runs of brute-force ids on random small spheres', () => {
    const rand = prng(3);
    let nonEmpty = 0;
    for (let t = 0; t < 400; t++) {
      const key = randomKey(rand, 3);
      const { center, radius } = randomSphere(rand, 2 ** (key.lod + 1));
      const exact = bruteIds(key, inSphere(center, radius));
      const cover = sphereToRanges({ ...key, center, radius });
      expect(cover.ranges).toEqual(runsOf(exact));
      expect(cover.stats.queryTiles).toBe(exact.length);
      expect(cover.stats.coveredTiles).toBe(exact.length);
      if (exact.length > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(200);
  });

  it('includes points exactly on the surface and gives nothing when no integer point is inside', () => {
    const on = sphereToRanges({ lod: 2, center: [3, 3, 3], radius: 1 });
    expect(on.stats.queryTiles).toBe(7);
    const none = sphereToRanges({ lod: 2, center: [3.5, 3.5, 3.5], radius: 0.8 });
    expect(none.ranges).toEqual([]);
    expect(sphereToRanges({ lod: 2, center: [3.5, 3.5, 3.5], radius: 0.8, maxRanges: 3 }).ranges).toEqual([]);
    expect(sphereToRanges({ lod: 2, center: [-20, 3, 3], radius: 10, maxRanges: 3 }).ranges).toEqual([]);
  });
});

describe('capped decompositions', () => {
  it('are flagged supersets in at most maxRanges ranges (boxes)', () => {
    const rand = prng(4);
    for (let t = 0; t < 250; t++) {
      const key = randomKey(rand, 3);
      const box = randomBox(rand, 2 ** (key.lod + 1));
      const exact = bruteIds(key, inBox(box));
      const cap = randInt(rand, 1, 12);
      expectCappedCover(key, boxToRanges({ ...key, box, maxRanges: cap }), exact, cap, inBox(box));
    }
  });

  it('are flagged supersets in at most maxRanges ranges (spheres)', () => {
    const rand = prng(5);
    for (let t = 0; t < 250; t++) {
      const key = randomKey(rand, 3);
      const { center, radius } = randomSphere(rand, 2 ** (key.lod + 1));
      const inside = inSphere(center, radius);
      const exact = bruteIds(key, inside);
      const cap = randInt(rand, 1, 12);
      const cover = sphereToRanges({ ...key, center, radius, maxRanges: cap });
      expectCappedCover(key, cover, exact, cap, inside);
      expect(cover.stats.queryTilesExact).toBe(true);
    }
  });

  it('equal the exact decomposition when the cap is not binding', () => {
    const rand = prng(6);
    for (let t = 0; t < 100; t++) {
      const key = randomKey(rand, 4);
      const box = randomBox(rand, 2 ** (key.lod + 1));
      const exact = boxToRanges({ ...key, box });
      const cap = exact.ranges.length + randInt(rand, 0, 3);
      expect(boxToRanges({ ...key, box, maxRanges: Math.max(cap, 1) })).toEqual(exact);
    }
  });

  it('merge everything into one range at maxRanges 1', () => {
    const exact = boxToRanges({ lod: 3, box: [1, 2, 3, 9, 10, 11] }).ranges;
    const one = boxToRanges({ lod: 3, box: [1, 2, 3, 9, 10, 11], maxRanges: 1 }).ranges;
    expect(one).toHaveLength(1);
    expect(one[0]!.contained).toBe(false);
    expect(one[0]!.lo <= exact[0]!.lo && one[0]!.hi >= exact[exact.length - 1]!.hi).toBe(true);
  });

  it('Hilbert64 contained ranges decode only to points inside', () => {
    const rand = prng(7);
    let checked = 0;
    for (let t = 0; t < 60; t++) {
      const lod = randInt(rand, 3, 6);
      const n = 2 ** (lod + 1);
      const c = (): number => rand() * n;
      const radius = 2 + rand() * 10;
      const center: Triple = [c(), c(), c()];
      const inside = inSphere(center, radius);
      const box: Box6 = [randInt(rand, 0, n - 9), randInt(rand, 0, n - 9), randInt(rand, 0, n - 9), 0, 0, 0];
      box[3] = box[0] + randInt(rand, 0, 8);
      box[4] = box[1] + randInt(rand, 0, 8);
      box[5] = box[2] + randInt(rand, 0, 8);
      const maxRanges = randInt(rand, 2, 40);
      for (const [cover, test] of [
        [sphereToRanges({ lod, center, radius, curve: 'hilbert64', maxRanges }), inside],
        [boxToRanges({ lod, box, curve: 'hilbert64', maxRanges }), inBox(box)],
      ] as const) {
        for (const r of cover.ranges) {
          if (!r.contained) continue;
          for (let id = r.lo; id <= r.hi; id++) {
            const f = hilbert64ToLattice(id);
            expect(test(f.x, f.y, f.z)).toBe(true);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('cover a 64³ box at LOD 10 within 256 ranges', () => {
    const key: Key = { lod: 10, curve: 'index64', frame: 0, tier: 0 };
    const box: Box6 = [3, 3, 3, 66, 66, 66];
    const exact = boxToRanges({ ...key, box });
    expect(exact.stats).toMatchObject({ coveredTiles: 64 ** 3, queryTiles: 64 ** 3, ratio: 1 });
    for (const curve of ['index64', 'hilbert64'] as const) {
      const capped = boxToRanges({ ...key, curve, box, maxRanges: 256 });
      const exactIds = boxToRanges({ ...key, curve, box }).ranges;
      expect(capped.ranges.length).toBeLessThanOrEqual(256);
      expect(capped.stats.ratio).toBeGreaterThan(1);
      expect(capped.stats.ratio).toBeLessThan(2);
      expectWellFormed(capped.ranges);
      // Every exact id lies in some capped range (a run may span adjacent capped ranges).
      let j = 0;
      for (const r of exactIds) {
        for (let pos = r.lo; pos <= r.hi; pos = capped.ranges[j]!.hi + 1n) {
          while (capped.ranges[j]!.hi < pos) j++;
          expect(capped.ranges[j]!.lo <= pos).toBe(true);
        }
      }
    }
  });

  it('count a large sphere by sampling and say so', () => {
    const cover = sphereToRanges({ lod: 15, center: [30000.5, 30000, 30000], radius: 5000, maxRanges: 64 });
    expect(cover.stats.queryTilesExact).toBe(false);
    const volume = (4 / 3) * Math.PI * 5000 ** 3;
    expect(Math.abs(cover.stats.queryTiles / volume - 1)).toBeLessThan(1e-3);
    expect(cover.ranges.length).toBeLessThanOrEqual(64);
  });
});

describe('argument checks', () => {
  const box: Box6 = [0, 0, 0, 1, 1, 1];
  it.each([
    ['LOD 16', () => boxToRanges({ lod: 16, box }), 'INVALID_LOD'],
    ['LOD 1.5', () => sphereToRanges({ lod: 1.5, center: [0, 0, 0], radius: 1 }), 'INVALID_LOD'],
    ['reversed box', () => boxToRanges({ lod: 3, box: [0, 5, 0, 1, 4, 1] }), 'INVALID_ARGUMENT'],
    ['fractional box', () => boxToRanges({ lod: 3, box: [0, 0.5, 0, 1, 4, 1] }), 'INVALID_ARGUMENT'],
    ['short box', () => boxToRanges({ lod: 3, box: [0, 0, 0, 1, 1] as unknown as Box6 }), 'INVALID_ARGUMENT'],
    ['maxRanges 0', () => boxToRanges({ lod: 3, box, maxRanges: 0 }), 'INVALID_ARGUMENT'],
    ['maxRanges 2.5', () => boxToRanges({ lod: 3, box, maxRanges: 2.5 }), 'INVALID_ARGUMENT'],
    ['maxRanges NaN', () => boxToRanges({ lod: 3, box, maxRanges: Number.NaN }), 'INVALID_ARGUMENT'],
    ['curve', () => boxToRanges({ lod: 3, box, curve: 'hilbert' as RangeCurve }), 'INVALID_ARGUMENT'],
    ['frame 256', () => boxToRanges({ lod: 3, box, frame: 256 }), 'INVALID_FRAME'],
    ['tier 4', () => boxToRanges({ lod: 3, box, tier: 4 }), 'INVALID_TIER'],
    ['radius -1', () => sphereToRanges({ lod: 3, center: [0, 0, 0], radius: -1 }), 'INVALID_ARGUMENT'],
    [
      'radius NaN',
      () => sphereToRanges({ lod: 3, center: [0, 0, 0], radius: Number.NaN }),
      'INVALID_ARGUMENT',
    ],
    [
      'center NaN',
      () => sphereToRanges({ lod: 3, center: [0, Number.NaN, 0], radius: 1 }),
      'INVALID_ARGUMENT',
    ],
    [
      'an uncapped decomposition too large to hold',
      () => boxToRanges({ lod: 15, box: [1, 1, 1, 60000, 60000, 60000] }),
      'INVALID_ARGUMENT',
    ],
    [
      'metres unit 0',
      () => metresBoxToLatticeBox({ origin: [0, 0, 0], unit: 0, lod: 3, box: [0, 0, 0, 1, 1, 1] }),
      'INVALID_ARGUMENT',
    ],
    [
      'metres reversed box',
      () => metresBoxToLatticeBox({ origin: [0, 0, 0], unit: 1, lod: 3, box: [0, 0, 2, 1, 1, 1] }),
      'INVALID_ARGUMENT',
    ],
    [
      'metres LOD',
      () => metresSphereToLattice({ origin: [0, 0, 0], unit: 1, lod: -1, center: [0, 0, 0], radius: 1 }),
      'INVALID_LOD',
    ],
    [
      'metres margin',
      () => metresBoxToLatticeBox({ origin: [0, 0, 0], unit: 1, lod: 3, box, margin: -1 }),
      'INVALID_ARGUMENT',
    ],
  ])('%s throws its code', (_name, f, code) => {
    expect(thrown(f)).toBe(code);
  });

  it('clamps a box that overlaps the domain', () => {
    expect(boxToRanges({ lod: 1, box: [-10, -10, -10, 1, 1, 1] })).toEqual(
      boxToRanges({ lod: 1, box: [0, 0, 0, 1, 1, 1] }),
    );
  });
});

/** Random metres points inside a metres box, dense on its faces and on the domain's top faces. */
function pointsIn(rand: () => number, lo: Triple, hi: Triple, frame: Frame, unit: number): Triple[] {
  const top = frame.origin.map((o) => o + frame.edge);
  const out: Triple[] = [];
  for (let i = 0; i < 300; i++) {
    const p = [0, 1, 2].map((a) => {
      const r = rand();
      // Faces, near-top lattice positions with the other axes on integers, or anywhere.
      let v =
        r < 0.2
          ? lo[a]!
          : r < 0.4
            ? hi[a]!
            : r < 0.6
              ? top[a]! - unit * (0.4 + 0.7 * rand())
              : r < 0.7
                ? frame.origin[a]! + unit * randInt(rand, 0, frame.edge / unit)
                : lo[a]! + rand() * (hi[a]! - lo[a]!);
      v = Math.min(Math.max(v, lo[a]!), hi[a]!);
      return v;
    });
    out.push(p as Triple);
  }
  return out;
}

function inDomain(frame: Frame, p: Triple): boolean {
  return p.every((v, a) => v >= frame.origin[a]! && v < frame.origin[a]! + frame.edge);
}

describe('metres to lattice', () => {
  it('a lattice box holds the cell of every point of a metres box', () => {
    const rand = prng(8);
    const misses = { 0: 0, 1: 0, 1.5: 0 } as Record<number, number>;
    let points = 0;
    for (let t = 0; t < 300; t++) {
      const lod = randInt(rand, 0, 4);
      const frame: Frame = {
        id: 0,
        kind: 'cartesian',
        origin: [rand() * 200 - 100, rand() * 200 - 100, rand() * 200 - 100],
        edge: 1 + rand() * 100,
      };
      const unit = latticeUnit(frame, lod);
      const lo = frame.origin.map((o) => o + (rand() * 1.4 - 0.2) * frame.edge) as Triple;
      const hi = lo.map((v) => v + rand() * frame.edge * (rand() < 0.3 ? 0.05 : 0.8)) as Triple;
      const box: Box6 = [...lo, ...hi];
      const grid = { origin: frame.origin, unit, lod, box };
      const lattice = metresBoxToLatticeBox(grid);
      const inside = pointsIn(rand, lo, hi, frame, unit).filter((p) => inDomain(frame, p));
      if (lattice === null) {
        // Null only when the box misses the domain: test its corner nearest the domain.
        const nearest = lo.map((v, a) => Math.min(Math.max(v, frame.origin[a]!), hi[a]!)) as Triple;
        expect(inDomain(frame, nearest)).toBe(false);
        continue;
      }
      for (const m of [0, 1, 1.5]) {
        const b = m === 1.5 ? lattice : metresBoxToLatticeBox({ ...grid, margin: m })!;
        for (const p of inside) {
          if (!inBox(b)(...frameToLattice(frame, lod, ...p))) misses[m]!++;
        }
      }
      points += inside.length;
    }
    expect(points).toBeGreaterThan(20_000);
    expect(misses).toEqual({ 0: expect.any(Number), 1: 0, 1.5: 0 });
    // Without a margin the snap does escape, so the check above can fail.
    expect(misses[0]).toBeGreaterThan(20);
  });

  it('a lattice sphere holds the cell of every point of a metres sphere', () => {
    const rand = prng(9);
    let misses0 = 0;
    let farthest = 0;
    let points = 0;
    for (let t = 0; t < 300; t++) {
      const lod = randInt(rand, 0, 4);
      const frame: Frame = {
        id: 0,
        kind: 'cartesian',
        origin: [rand() * 50, -rand() * 50, 0],
        edge: 2 + rand() * 50,
      };
      const unit = latticeUnit(frame, lod);
      const n = 2 ** (lod + 1);
      // Centres near the domain's top corner stress the parity-keeping clamp.
      const center = frame.origin.map(
        (o) => o + frame.edge * (rand() < 0.5 ? 1 - rand() * 0.1 : rand()),
      ) as Triple;
      const radius = unit * rand() * 4;
      const grid = { origin: frame.origin, unit, lod, center, radius };
      const sphere = metresSphereToLattice(grid);
      expect(sphere).not.toBeNull();
      const { center: c, radius: r } = sphere!;
      const tight = metresSphereToLattice({ ...grid, margin: 0 })!;
      for (let i = 0; i < 200; i++) {
        // Uniform direction, radius biased to the surface.
        const d = [0, 0, 0].map(() => rand() * 2 - 1);
        const len = Math.hypot(...d) || 1;
        const s = (radius * Math.sqrt(Math.sqrt(rand()))) / len;
        const p = center.map((v, a) => v + d[a]! * s) as Triple;
        if (!inDomain(frame, p)) continue;
        const cell = frameToLattice(frame, lod, ...p);
        expect(cell.every((v) => v >= 0 && v < n)).toBe(true);
        const dist = Math.hypot(cell[0] - c[0], cell[1] - c[1], cell[2] - c[2]);
        expect(dist).toBeLessThanOrEqual(r);
        if (dist > tight.radius) misses0++;
        const u = p.map((v, a) => (v - frame.origin[a]!) / unit);
        farthest = Math.max(farthest, Math.hypot(cell[0] - u[0]!, cell[1] - u[1]!, cell[2] - u[2]!));
        points++;
      }
    }
    expect(points).toBeGreaterThan(20_000);
    expect(misses0).toBeGreaterThan(100);
    expect(farthest).toBeLessThanOrEqual(Math.sqrt(3) + 1e-9);
  });

  it('returns null only when the region misses the domain', () => {
    const grid = { origin: [10, 20, 30] as Triple, unit: 0.5, lod: 2 }; // domain [10, 14) × [20, 24) × [30, 34)
    expect(metresBoxToLatticeBox({ ...grid, box: [14, 20, 30, 15, 21, 31] })).toBeNull();
    expect(metresBoxToLatticeBox({ ...grid, box: [0, 20, 30, 9.99, 21, 31] })).toBeNull();
    expect(metresBoxToLatticeBox({ ...grid, box: [13.9, 23.9, 33.9, 99, 99, 99] })).toEqual([
      6, 6, 6, 7, 7, 7,
    ]);
    expect(metresBoxToLatticeBox({ ...grid, box: [11, 21, 31, 11.2, 21.2, 31.2], margin: 0 })).toEqual([
      2, 2, 2, 3, 3, 3,
    ]);
    // floor and ceil, not rounding: lattice 2.6..2.8 → 2..3.
    expect(metresBoxToLatticeBox({ ...grid, box: [11.3, 21.3, 31.3, 11.4, 21.4, 31.4], margin: 0 })).toEqual([
      2, 2, 2, 3, 3, 3,
    ]);
    expect(metresSphereToLattice({ ...grid, center: [16, 20, 30], radius: 1.9 })).toBeNull();
    expect(metresSphereToLattice({ ...grid, center: [16, 20, 30], radius: 2, margin: 0.5 })).toEqual({
      center: [12, 0, 0],
      radius: 4.5,
    });
  });
});
