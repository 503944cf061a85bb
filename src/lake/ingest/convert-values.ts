/**
 * Reading source values for the conversion: a value as the caller sees it (for reject reasons),
 * nulls and reader failures, integers from any source spelling, and exact doubles.
 */
import type { ColumnData } from '../sources/index.js';

/** A value as a reject reason shows it: text JSON-quoted, anything cut at 80 characters. */
export const show = (v: unknown) => {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/**
 * One source value as the caller sees it: the raw text of a field that did not parse, the digits of
 * an integer its double only approximates, a uint64 as an unsigned bigint.
 */
export function rawValue(data: ColumnData, i: number): unknown {
  if (data.type === 'float64' && data.invalid?.has(i)) return data.invalid.get(i);
  if (data.type === 'float64' && data.inexact?.has(i)) return data.inexact.get(i);
  if ('valid' in data && data.valid && data.valid[i] === 0) return null;
  if (data.type === 'uint64') return BigInt.asUintN(64, data.values[i]!);
  if (data.type === 'decimal') return decimalText(data.values[i]!, data.scale);
  return data.values[i];
}

/** The text of an unscaled decimal, e.g. (-1234n, 2) → "-12.34"; Number() of it rounds correctly. */
export function decimalText(unscaled: bigint, scale: number): string {
  if (scale === 0) return unscaled.toString();
  const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${unscaled < 0n ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** The reason a row's value could not be read exactly by the source, if it could not. */
export function sourceInvalid(data: ColumnData, i: number): string | undefined {
  return 'invalid' in data ? data.invalid?.get(i) : undefined;
}

/** Whether row i of a typed column is null. */
export function isNullAt(data: ColumnData, i: number): boolean {
  return 'valid' in data && data.valid !== undefined && data.valid[i] === 0;
}

export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;
export const UINT64_MAX = (1n << 64n) - 1n;
const DECIMAL_INTEGER = /^[+-]?\d+$/;

/** An integer from a source value (bigint, integral number, decimal digits), or undefined. */
export function integerOf(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string') {
    const t = v.trim();
    return DECIMAL_INTEGER.test(t) ? BigInt(t) : undefined;
  }
  return undefined;
}

/** The nearest double to an integer, or undefined when the double is not that integer. */
export function exactDouble(b: bigint): number | undefined {
  const d = Number(b);
  return BigInt(d) === b ? d : undefined;
}
