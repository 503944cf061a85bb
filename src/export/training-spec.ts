/**
 * Training-set options that need no engine: the feature list grammar, split ratios, and the k-ring
 * offsets that fix the order of a sample's neighbour slots (docs/TRAINING.md).
 */
import { kRingSize, latticeToKRing } from '../lattice/bcc.js';
import { OctaError } from '../lattice/errors.js';

/** One per-cell feature: the point count, or the mean or population variance of a column. */
export type FeatureSpec = { kind: 'count' } | { kind: 'mean' | 'var'; column: string };

/** The three splits, in the order they are written and reported. */
export const SPLITS = ['train', 'validation', 'test'] as const;
/** A split's name. */
export type SplitName = (typeof SPLITS)[number];

const FEATURE = /^(mean|var)\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/;

/**
 * Parses `count,mean(COL),var(COL)`.
 * @param text - comma-separated features; column names are plain identifiers
 * @returns the features in the given order
 * @throws {OctaError} INVALID_ARGUMENT for an empty list, an unknown feature or a repeated one
 */
export function parseFeatures(text: string): FeatureSpec[] {
  const parts = text
    .split(/,(?![^(]*\))/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) {
    throw new OctaError('INVALID_ARGUMENT', 'give at least one feature: count, mean(COL) or var(COL)', text);
  }
  const seen = new Set<string>();
  return parts.map((p) => {
    const m = FEATURE.exec(p);
    if (p !== 'count' && m === null) {
      throw new OctaError('INVALID_ARGUMENT', 'a feature is count, mean(COL) or var(COL)', p);
    }
    const spec: FeatureSpec =
      m === null ? { kind: 'count' } : { kind: m[1] as 'mean' | 'var', column: m[2]! };
    const name = featureName(spec);
    if (seen.has(name)) throw new OctaError('INVALID_ARGUMENT', 'a feature is listed twice', name);
    seen.add(name);
    return spec;
  });
}

/**
 * A feature's canonical text, as the manifest lists it.
 * @param spec - the feature
 * @returns `count`, `mean(COL)` or `var(COL)`
 */
export function featureName(spec: FeatureSpec): string {
  return spec.kind === 'count' ? 'count' : `${spec.kind}(${spec.column})`;
}

/**
 * Checks split ratios: three non-negative finite numbers with a positive sum, normalised to sum 1.
 * @param ratios - train, validation, test
 * @returns the normalised ratios
 * @throws {OctaError} INVALID_ARGUMENT
 */
export function checkRatios(ratios: readonly number[]): [number, number, number] {
  const sum = ratios.reduce((a, b) => a + b, 0);
  if (ratios.length !== 3 || !ratios.every((r) => Number.isFinite(r) && r >= 0) || !(sum > 0)) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'ratios are three non-negative numbers (train, validation, test) with a positive sum, e.g. 0.8,0.1,0.1',
      ratios,
    );
  }
  return [ratios[0]! / sum, ratios[1]! / sum, ratios[2]! / sum];
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
