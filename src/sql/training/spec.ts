/**
 * Training-set options that need no engine: the feature list grammar, split ratios (docs/TRAINING.md).
 * The k-ring offsets that fix the order of a sample's neighbour slots are `kRingOffsets` in
 * src/lattice/bcc.ts.
 */
import { OctaError } from '../../lattice/errors.js';

/**
 * One per-cell feature: the point count, the mean or population variance of a column, or the
 * user's own aggregate SQL expression over the table's columns.
 */
export type FeatureSpec =
  | { kind: 'count' }
  | { kind: 'mean' | 'var'; column: string }
  | { kind: 'sql'; expr: string };

/** The three splits, in the order they are written and reported. */
export const SPLITS = ['train', 'validation', 'test'] as const;
/** A split's name. */
export type SplitName = (typeof SPLITS)[number];

const FEATURE = /^(mean|var)\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/;
const SQL_FEATURE = /^sql\s*\(([\s\S]*)\)$/;
const GRAMMAR = 'a feature is count, mean(COL), var(COL) or sql(AGGREGATE EXPRESSION)';

/**
 * Splits a feature list at its top-level commas: commas inside parentheses, SQL string literals
 * ('…') and quoted identifiers ("…") belong to the feature.
 * @throws {OctaError} INVALID_ARGUMENT for unbalanced parentheses or an unclosed quote
 */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote !== null) {
      // A doubled quote inside a quoted run is an escaped quote: the next char reopens the run.
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') {
      if (--depth < 0) throw new OctaError('INVALID_ARGUMENT', `unbalanced ")" in the features`, text);
    } else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quote !== null) throw new OctaError('INVALID_ARGUMENT', `unclosed ${quote} in the features`, text);
  if (depth !== 0) throw new OctaError('INVALID_ARGUMENT', 'unbalanced "(" in the features', text);
  parts.push(text.slice(start));
  return parts;
}

/**
 * Parses `count,mean(COL),var(COL),sql(EXPR)`.
 * @param text - comma-separated features; column names are plain identifiers; EXPR is any SQL
 *   aggregate expression (commas, parentheses and quotes inside it are kept whole)
 * @returns the features in the given order
 * @throws {OctaError} INVALID_ARGUMENT for an empty list, an unknown feature, an empty `sql()`,
 *   unbalanced parentheses or a repeated feature
 */
export function parseFeatures(text: string): FeatureSpec[] {
  const parts = splitTopLevel(text)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0)
    throw new OctaError('INVALID_ARGUMENT', `give at least one feature: ${GRAMMAR}`, text);
  const seen = new Set<string>();
  return parts.map((p) => {
    let spec: FeatureSpec;
    const m = FEATURE.exec(p);
    const sql = SQL_FEATURE.exec(p);
    if (p === 'count') spec = { kind: 'count' };
    else if (m !== null) spec = { kind: m[1] as 'mean' | 'var', column: m[2]! };
    // splitTopLevel checks EXPR is balanced on its own, so `sql(a) + sql(b)` is no single feature.
    else if (sql !== null && sql[1]!.trim() !== '' && splitTopLevel(sql[1]!).length > 0) {
      spec = { kind: 'sql', expr: sql[1]!.trim() };
    } else throw new OctaError('INVALID_ARGUMENT', GRAMMAR, p);
    const name = featureName(spec);
    if (seen.has(name)) throw new OctaError('INVALID_ARGUMENT', 'a feature is listed twice', name);
    seen.add(name);
    return spec;
  });
}

/**
 * A feature's canonical text, as the manifest lists it.
 * @param spec - the feature
 * @returns `count`, `mean(COL)`, `var(COL)` or `sql(EXPR)` (EXPR trimmed)
 */
export function featureName(spec: FeatureSpec): string {
  if (spec.kind === 'count') return 'count';
  return spec.kind === 'sql' ? `sql(${spec.expr})` : `${spec.kind}(${spec.column})`;
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
