/** A seeded PRNG so every randomised test replays the same cases (the demo scene's mulberry32). */
export { mulberry32 as prng } from '../src/demo/demo-scene.js';

/** A random integer in [lo, hi] from `rand`. */
export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}
