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

const SPLIT = 134217729; // 2^27 + 1, Veltkamp's splitter for doubles
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** How close to a halfway point (in half-ulps) a result must not be for the fast path to keep it. */
const TIE_GUARD = 2 ** -20;

/** The rounding error of `a · b`, whose double is `p`: `a · b = p + error` exactly (Dekker). */
function productError(a: number, b: number, p: number): number {
  let c = SPLIT * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLIT * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/**
 * The double nearest to a decimal of 16 to 19 significant digits with a fraction: `(head · 10^tailDigits
 * + tail) / 10^shift`, where `head` holds the first 15 digits and `tail` the rest. One division alone
 * would round twice (the 16+ digit mantissa is no exact double), so the mantissa is held exactly as
 * a pair of doubles, the quotient's remainder is computed exactly (Dekker's product, Sterbenz's
 * subtraction) and the quotient corrected by it. The corrected sum is within 2^-48 ulp of the exact
 * value, so it is the correctly rounded double (what `Number(text)` gives) unless the exact value
 * lies within 2^-20 half-ulp of a halfway point between two doubles; there, and at powers of two
 * (where the ulp changes), this returns NaN and the caller takes the slow path.
 * @param head - the first 15 digits as an integer
 * @param tail - the remaining digits as an integer
 * @param tailDigits - how many digits `tail` has, 1..4
 * @param shift - the power of ten to divide by, 1..22
 * @returns the value, or NaN when the fast path cannot be sure
 */
export function decimalQuotient(head: number, tail: number, tailDigits: number, shift: number): number {
  const scale = POW10[tailDigits]!;
  const p = head * scale;
  const pe = productError(head, scale, p);
  // The mantissa exactly: m1 + m2 (Knuth's two-sum of p and tail, plus the product's error).
  const m1 = p + tail;
  const bv = m1 - p;
  const m2 = p - (m1 - bv) + (tail - bv) + pe;
  const d = POW10[shift]!;
  const q = m1 / d;
  const t = q * d;
  const te = productError(q, d, t);
  // m1 − t is exact (Sterbenz: t is within a factor of two of m1).
  const r = m1 - t - te + m2;
  const correction = r / d;
  const result = q + correction;
  const rest = correction - (result - q);
  F64[0] = result;
  const high = U32[1]!;
  const exponent = (high >>> 20) & 0x7ff;
  if (exponent <= 54 || exponent === 0x7ff || ((high & 0xfffff) === 0 && U32[0] === 0)) return Number.NaN;
  U32[1] = (exponent - 53) << 20;
  U32[0] = 0;
  const half = F64[0];
  if (Math.abs(Math.abs(rest) - half) <= half * TIE_GUARD) return Number.NaN;
  return result;
}
