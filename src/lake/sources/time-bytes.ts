/**
 * Event times read straight from CSV bytes, for the column an ingest names as its time: the common
 * forms only, each to the exact INT64 microseconds the full grammar (src/export/event-time.ts) gives
 * for the same text, with no string made per row. The forms are
 *
 * - ISO 8601 / RFC 3339 `yyyy-MM-dd`, optionally `T` (or `t`, or a space) and `HH:mm`, `:ss`,
 *   `.f` (1 to 9 digits, floored to the microsecond), then `Z`, `z` or `±hh:mm` (none means UTC);
 * - plain epoch digits (an integer below 2^53), optionally `.` and 1 to 9 digits, in the ingest's unit.
 *
 * Anything else (signs, exponents, other zone spellings, spaces, second 60, a date that does not
 * exist, a time the lake cannot store) is declined: the reader keeps the field's text, and the full
 * grammar reads it or gives the reason it is no time. So this path never decides a reject.
 */
import {
  civilToDays,
  type EpochUnit,
  LAKE_FIRST_SECOND,
  LAKE_LAST_SECOND,
  writeMicrosWords,
} from '../../export/event-time.js';

const ZERO = 48;
const DASH = 45;
const PLUS = 43;
const COLON = 58;
const DOT = 46;
const SPACE = 32;
const UPPER_T = 84;
const LOWER_T = 116;
const UPPER_Z = 90;
const LOWER_Z = 122;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The value of the two digits at `p`, or -1. */
function two(bytes: Uint8Array, p: number): number {
  const a = bytes[p]! - ZERO;
  const b = bytes[p + 1]! - ZERO;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Microseconds of the fraction digits in `bytes[p..e)` (first six, padded), or -1 if not digits. */
function fractionMicros(bytes: Uint8Array, p: number, e: number): number {
  if (e <= p || e - p > 9) return -1;
  let micros = 0;
  for (let i = 0; i < 6; i++) {
    const d = p + i < e ? bytes[p + i]! - ZERO : 0;
    if (d < 0 || d > 9) return -1;
    micros = micros * 10 + d;
  }
  for (let i = p + 6; i < e; i++) {
    const d = bytes[i]! - ZERO;
    if (d < 0 || d > 9) return -1;
  }
  return micros;
}

/**
 * Reads the time in `bytes[p..e)` and writes its INT64 µs as words `2·row`, `2·row + 1` of `words`.
 * @param bytes - the input
 * @param p - the field's first byte
 * @param e - the byte after the field
 * @param unit - the unit of epoch numbers
 * @param words - Int32 view of the BigInt64Array being filled
 * @param row - the row to write
 * @returns true when written; false when the text is not in a common form (nothing written)
 */
export function readTimeBytes(
  bytes: Uint8Array,
  p: number,
  e: number,
  unit: EpochUnit,
  words: Int32Array,
  row: number,
): boolean {
  const n = e - p;
  if (n >= 10 && bytes[p + 4] === DASH) return readIso(bytes, p, e, words, row);
  return readEpoch(bytes, p, e, unit, words, row);
}

function readIso(bytes: Uint8Array, p: number, e: number, words: Int32Array, row: number): boolean {
  const hi = two(bytes, p);
  const lo = two(bytes, p + 2);
  const month = two(bytes, p + 5);
  const day = two(bytes, p + 8);
  if (hi < 0 || lo < 0 || month < 1 || month > 12 || day < 1 || bytes[p + 7] !== DASH) return false;
  const year = hi * 100 + lo;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (day > (month === 2 && !leap ? 28 : DAYS_IN_MONTH[month - 1]!)) return false;
  let q = p + 10;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let micros = 0;
  let offset = 0;
  if (q < e) {
    const sep = bytes[q]!;
    if ((sep !== UPPER_T && sep !== LOWER_T && sep !== SPACE) || q + 6 > e) return false;
    hour = two(bytes, q + 1);
    minute = two(bytes, q + 4);
    if (hour < 0 || hour > 23 || bytes[q + 3] !== COLON || minute < 0 || minute > 59) return false;
    q += 6;
    if (q < e && bytes[q] === COLON) {
      if (q + 3 > e) return false;
      second = two(bytes, q + 1);
      if (second < 0 || second > 59) return false;
      q += 3;
      if (q < e && bytes[q] === DOT) {
        let f = q + 1;
        while (f < e && bytes[f]! >= ZERO && bytes[f]! <= ZERO + 9) f++;
        micros = fractionMicros(bytes, q + 1, f);
        if (micros < 0) return false;
        q = f;
      }
    }
    if (q < e) {
      const z = bytes[q]!;
      if (z === UPPER_Z || z === LOWER_Z) q++;
      else if (z === PLUS || z === DASH) {
        if (q + 6 !== e || bytes[q + 3] !== COLON) return false;
        const oh = two(bytes, q + 1);
        const om = two(bytes, q + 4);
        if (oh < 0 || oh > 23 || om < 0 || om > 59) return false;
        offset = (z === DASH ? -1 : 1) * (oh * 3600 + om * 60);
        q = e;
      } else return false;
      if (q !== e) return false;
    }
  }
  const seconds = civilToDays(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  if (seconds < LAKE_FIRST_SECOND || seconds > LAKE_LAST_SECOND) return false;
  writeMicrosWords(words, row, seconds, micros);
  return true;
}

function readEpoch(
  bytes: Uint8Array,
  p: number,
  e: number,
  unit: EpochUnit,
  words: Int32Array,
  row: number,
): boolean {
  let whole = 0;
  let q = p;
  for (; q < e; q++) {
    const d = bytes[q]! - ZERO;
    if (d < 0 || d > 9) break;
    whole = whole * 10 + d;
  }
  // Up to 16 digits while exact (epoch microseconds of today have 16).
  if (q === p || q - p > 16 || whole > Number.MAX_SAFE_INTEGER) return false;
  let fraction = 0; // microseconds of the fraction, in the unit's terms below
  if (q < e) {
    if (bytes[q] !== DOT) return false;
    fraction = fractionMicros(bytes, q + 1, e);
    if (fraction < 0) return false;
  }
  let seconds: number;
  let micros: number;
  if (unit === 's') {
    seconds = whole;
    micros = fraction;
  } else if (unit === 'ms') {
    seconds = Math.floor(whole / 1000);
    // The fraction of a millisecond: its first three digits are microseconds.
    micros = (whole - seconds * 1000) * 1000 + Math.floor(fraction / 1000);
  } else {
    seconds = Math.floor(whole / 1_000_000);
    micros = whole - seconds * 1_000_000;
  }
  if (seconds > LAKE_LAST_SECOND) return false;
  writeMicrosWords(words, row, seconds, micros);
  return true;
}
