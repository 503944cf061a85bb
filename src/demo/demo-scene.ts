/**
 * The demo's synthetic survey: a seeded, documented generator of airborne-LiDAR-like points over a
 * 1 km² site scanned on several days, produced chunk by chunk (nothing is held beyond one chunk).
 *
 * The scene (all distances in metres, frame `cartesian:0,0,-64,1024`):
 * - terrain: a smooth heightfield of a few sines, 15–50 m above the datum;
 * - 12 buildings (flat roofs, 8–35 m tall, 20–60 m footprints); building 12 is a construction site
 *   that appears on day 2 and rises 6 m a day;
 * - 80 trees with round crowns (radius 3–7 m) that grow 5 cm a day;
 * - one flight a day from 09:00 UTC, flight lines along y from west to east over two hours; each
 *   pulse hits the first surface below it (roof, wall, crown or ground), with ±2 cm noise; under a
 *   crown, one pulse in three also returns from the ground (return number 2).
 * Classes follow ASPRS LAS codes: 2 ground, 5 high vegetation, 6 building.
 */
import { checkInt } from '../lattice/errors.js';

/** One generated chunk, parallel typed arrays. */
export interface SceneChunk {
  rows: number;
  x: Float64Array;
  y: Float64Array;
  z: Float64Array;
  /** Event time, µs since the epoch. */
  timeUs: Float64Array;
  intensity: Int32Array;
  classification: Int32Array;
  returnNumber: Int32Array;
}

/** Options of {@link generateScene}. */
export interface SceneOptions {
  seed?: number;
  points?: number;
  days?: number;
  /** First survey day, UTC (ISO date). */
  start?: string;
  chunkRows?: number;
}

/**
 * The values {@link generateScene} takes, inclusive: at least one point and one day (the points are
 * spread over the days), and a seed mulberry32 reads as it is (32 bits).
 */
export const SCENE_LIMITS = {
  points: { min: 1, max: 1_000_000_000 },
  days: { min: 1, max: 3660 },
  seed: { min: 0, max: 2 ** 32 - 1 },
} as const;

/**
 * Checks scene options against {@link SCENE_LIMITS}.
 * @throws {OctaError} INVALID_ARGUMENT naming the option and its allowed range
 */
export function checkScene(options: SceneOptions): void {
  for (const key of ['points', 'days', 'seed'] as const) {
    const value = options[key];
    const { min, max } = SCENE_LIMITS[key];
    if (value !== undefined) checkInt(value, min, max, 'INVALID_ARGUMENT', `the scene's ${key}`);
  }
}

/** The frame spec the scene lives in. */
export const SCENE_FRAME = 'cartesian:0,0,-64,1024';
const SITE = 1000;

/** A small seeded PRNG (mulberry32): the same seed gives the same scene, test or benchmark input. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function ground(x: number, y: number): number {
  return (
    30 +
    15 * Math.sin(x / 170) * Math.cos(y / 130) +
    6 * Math.sin((x + y) / 61) +
    2 * Math.sin(x / 17) * Math.cos(y / 23)
  );
}

interface Building {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  height: number;
  from: number;
  growth: number;
}

interface Tree {
  x: number;
  y: number;
  r: number;
  top: number;
}

/**
 * Generates the scene chunk by chunk.
 * @param options - seed (7), points (500,000), days (5), start (2025-06-02), chunkRows (65,536)
 */
export function* generateScene({
  seed = 7,
  points = 500_000,
  days = 5,
  start = '2025-06-02',
  chunkRows = 65_536,
}: SceneOptions = {}): Generator<SceneChunk> {
  const rand = mulberry32(seed);
  const buildings: Building[] = [];
  for (let i = 0; i < 12; i++) {
    const w = 20 + 40 * rand();
    const d = 20 + 40 * rand();
    const x0 = 50 + (SITE - 150) * rand();
    const y0 = 50 + (SITE - 150) * rand();
    buildings.push({
      x0,
      y0,
      x1: x0 + w,
      y1: y0 + d,
      height: 8 + 27 * rand(),
      from: i === 11 ? 1 : 0,
      growth: i === 11 ? 6 : 0,
    });
  }
  const trees: Tree[] = [];
  for (let i = 0; i < 80; i++) {
    const x = 20 + (SITE - 40) * rand();
    const y = 20 + (SITE - 40) * rand();
    trees.push({ x, y, r: 3 + 4 * rand(), top: 6 + 10 * rand() });
  }
  const day0 = Date.parse(`${start}T09:00:00Z`) * 1000;
  const perDay = Math.ceil(points / days);
  let emitted = 0;
  while (emitted < points) {
    const n = Math.min(chunkRows, points - emitted);
    const c: SceneChunk = {
      rows: n,
      x: new Float64Array(n),
      y: new Float64Array(n),
      z: new Float64Array(n),
      timeUs: new Float64Array(n),
      intensity: new Int32Array(n),
      classification: new Int32Array(n),
      returnNumber: new Int32Array(n),
    };
    for (let i = 0; i < n; i++) {
      const k = emitted + i;
      const day = Math.min(days - 1, Math.floor(k / perDay));
      const progress = (k - day * perDay) / perDay; // flight progress through the day's lines
      const x = Math.min(SITE - 1e-6, Math.max(0, progress * SITE + (rand() - 0.5) * 4));
      const y = rand() * SITE;
      let z = ground(x, y);
      let cls = 2;
      let intensity = 30 + 30 * rand();
      let ret = 1;
      for (const b of buildings) {
        if (day < b.from || x < b.x0 || x > b.x1 || y < b.y0 || y > b.y1) continue;
        const h = b.growth > 0 ? Math.min(b.height, b.growth * (day - b.from + 1)) : b.height;
        const roof = ground(b.x0, b.y0) + h;
        // Near an edge the pulse grazes the wall: a point somewhere down the facade.
        const edge = Math.min(x - b.x0, b.x1 - x, y - b.y0, b.y1 - y);
        z = edge < 0.5 ? roof - h * rand() : roof;
        cls = 6;
        intensity = 70 + 50 * rand();
      }
      if (cls === 2) {
        for (const t of trees) {
          const dx = x - t.x;
          const dy = y - t.y;
          const r = t.r + 0.05 * day;
          const d2 = dx * dx + dy * dy;
          if (d2 > r * r) continue;
          if (rand() < 1 / 3) {
            ret = 2; // the pulse went through the crown: ground return
          } else {
            z = ground(t.x, t.y) + t.top + 0.05 * day + Math.sqrt(r * r - d2) - r;
            cls = 5;
            intensity = 10 + 30 * rand();
          }
          break;
        }
      }
      c.x[i] = x;
      c.y[i] = y;
      c.z[i] = z + (rand() - 0.5) * 0.04;
      c.timeUs[i] = Math.round(day0 + day * 86_400e6 + progress * 7_200e6);
      c.intensity[i] = Math.round(intensity);
      c.classification[i] = cls;
      c.returnNumber[i] = ret;
    }
    emitted += n;
    yield c;
  }
}
