/**
 * Text to float64, for the columns a caller names `numeric`. The CSV reader parses plain decimals
 * inline (see csv-records.ts); everything else comes here. The accepted syntax is decimal notation
 * with an optional exponent (what DuckDB's DOUBLE cast accepts), plus inf/infinity/nan in any case:
 * no hex, no binary, no thousands separators, which `Number()` alone would let through or misread.
 */

/** Exact powers of ten (10^0..10^22 are exact doubles): the fast path divides or multiplies by them. */
export const POW10: Float64Array = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL = /^([+-]?)(?:inf|infinity|nan)$/i;

/**
 * Parses one numeric field. Surrounding spaces and tabs are ignored.
 * @param text - the field's text, already unquoted
 * @returns the value; null for an empty field; undefined when the text is not a number
 */
export function textToFloat64(text: string): number | null | undefined {
  const s = text.trim();
  if (s.length === 0) return null;
  if (DECIMAL.test(s)) return Number(s);
  const special = SPECIAL.exec(s);
  if (special === null) return undefined;
  if (/nan$/i.test(s)) return Number.NaN;
  return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}
