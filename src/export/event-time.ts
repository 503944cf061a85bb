/**
 * Event times, the one grammar every route goes through: ISO 8601 / RFC 3339 text and epoch numbers
 * to exact microseconds, the years the lake stores, and civil dates. A time is kept as whole seconds
 * plus microseconds, both exact doubles, so no step rounds through a double of 2^53+ µs and no
 * BigInt is made per row.
 *
 * The lake stores 0000-01-01T00:00:00Z through 9999-12-31T23:59:59.999999Z: four-digit years, so a
 * `t=` label is a plain `yyyy-MM-dd` that sorts as text and that DuckDB's DATE, Athena's partition
 * projection and JavaScript dates all read back as the same day. Digits past the microsecond are
 * dropped (the time is floored to the microsecond), as DuckDB and the Parquet/Arrow readers do.
 *
 * The catalog's own text form is ISO 8601 UTC with six fraction digits: {@link microsToIso} writes it
 * and {@link isoToMicros} reads it (with its zone) back to the same microseconds, as bigints.
 */
import { OctaError } from '../lattice/errors.js';

/** Whole seconds since 1970-01-01T00:00:00Z and the microseconds past them (0..999999). */
export interface EventTime {
  seconds: number;
  micros: number;
}

/** Units of epoch numbers. */
export type EpochUnit = 's' | 'ms' | 'us';

/** First and last second the lake stores: 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
export const LAKE_FIRST_SECOND = -62_167_219_200;
export const LAKE_LAST_SECOND = 253_402_300_799;
/** The same bounds in microseconds (the last one is 9999-12-31T23:59:59.999999Z). */
export const LAKE_FIRST_MICROS = -62_167_219_200_000_000n;
export const LAKE_LAST_MICROS = 253_402_300_799_999_999n;
const RANGE_TEXT = '0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z';

/** Days since 1970-01-01 of a proleptic Gregorian date (year 0 is 1 BC), after Howard Hinnant. */
export function civilToDays(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Civil date of a day number (days since 1970-01-01), the inverse of {@link civilToDays}. */
export function daysToCivil(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

const ISO =
  /^([+-]\d{4,6}|\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses ISO 8601 / RFC 3339 text: a date, or a date and time, with an optional zone (none means
 * UTC). Years are four digits or signed (`+10000`, `-0001`), parsed as themselves (`0050` is year 50).
 * @param text - e.g. `2025-04-15T12:00:00.5+02:00`, `2025-04-15 12:00`, `0050-01-01`
 * @param requireZone - when true, a time and a zone are required (the catalog's own form)
 * @returns the time; null when the text is not shaped like one; or the reason it is none: a second 60 (a leap second, at any time of day:
 *   the lake's times are POSIX and have none), an hour past 23, an offset past ±23:59
 */
export function parseIsoTime(text: string, requireZone = false): EventTime | string | null {
  const m = ISO.exec(text.trim());
  if (!m || (requireZone && (m[4] === undefined || m[8] === undefined))) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const [hour, minute, second] = [m[4], m[5], m[6]].map((v) => (v === undefined ? 0 : Number(v))) as [
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12) return `month ${m[2]} is not 01..12`;
  if (day < 1 || day > (month === 2 && !isLeap(year) ? 28 : DAYS_IN_MONTH[month - 1]!)) {
    return `${m[1]}-${m[2]}-${m[3]} is not a date`;
  }
  if (hour > 23 || minute > 59) return `${m[4]}:${m[5]} is not a time of day (00:00..23:59)`;
  if (second === 60) return 'second 60 (a leap second) cannot be stored: the lake keeps POSIX times';
  if (second > 59) return `second ${m[6]} is not 00..59`;
  let offset = 0;
  const zone = m[8];
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || '0');
    if (oh > 23 || om > 59) return `offset ${zone} is not within -23:59..+23:59`;
    offset = (zone[0] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  // Digits past the microsecond are dropped; the fraction is positive, so this floors.
  const micros = m[7] === undefined ? 0 : Number(m[7].slice(0, 6).padEnd(6, '0'));
  return {
    seconds: civilToDays(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset,
    micros,
  };
}

const UNIT_DIGITS: Readonly<Record<EpochUnit, number>> = { s: 6, ms: 3, us: 0 };
const UNIT_NAMES: Readonly<Record<EpochUnit, string>> = {
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
};
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Whether text is a decimal number (what {@link parseEpochTime} reads as epoch rather than ISO). */
export function isDecimalText(text: string): boolean {
  const m = DECIMAL.exec(text);
  return m !== null && (m[2] !== '' || (m[3] ?? '') !== '');
}

/** A decimal string (digits, sign, exponent) to exact microseconds, floored; null when absurdly large. */
function decimalToTime(text: string, unit: EpochUnit): EventTime | null {
  const m = DECIMAL.exec(text)!;
  const negative = m[1] === '-';
  let digits = `${m[2]}${m[3] ?? ''}`.replace(/^0+/, '');
  // Power of ten of the last digit, in microseconds.
  let exp = (m[4] === undefined ? 0 : Number(m[4])) - (m[3] ?? '').length + UNIT_DIGITS[unit];
  if (digits === '') return { seconds: 0, micros: 0 };
  const trailing = /0*$/.exec(digits)![0].length;
  digits = digits.slice(0, digits.length - trailing);
  exp += trailing;
  // Beyond 10^24 µs nothing is storable: no need to be exact.
  if (digits.length + exp > 24) return null;
  let whole: string;
  let cut = false;
  if (exp >= 0) whole = digits + '0'.repeat(exp);
  else {
    whole = digits.slice(0, Math.max(0, digits.length + exp)) || '0';
    cut = true; // trailing zeros were removed, so the dropped digits are not all zero
  }
  let us = BigInt(whole);
  if (negative) us = cut ? -us - 1n : -us; // floor toward −∞
  return microsToTime(us);
}

/** Microseconds (as a BigInt) split into seconds and microseconds. */
export function microsToTime(us: bigint): EventTime {
  let seconds = us / 1_000_000n;
  let micros = us % 1_000_000n;
  if (micros < 0n) {
    seconds -= 1n;
    micros += 1_000_000n;
  }
  return { seconds: Number(seconds), micros: Number(micros) };
}

/** The exact microseconds of a time. */
export function timeToMicros(t: EventTime): bigint {
  return BigInt(t.seconds) * 1_000_000n + BigInt(t.micros);
}

/**
 * Reads an epoch number in a unit. A JavaScript number is taken at its shortest decimal form (what
 * `JSON.parse` read), except an integer past 2^53, which JSON may already have rounded: that is
 * refused (write it as a string).
 * @param value - decimal text (`1700000000.5`, `-1e3`), a number or a bigint
 * @param unit - the unit the number counts
 * @returns the time floored to the microsecond, or null when it is not a number, or the reason
 */
export function parseEpochTime(value: string | number | bigint, unit: EpochUnit): EventTime | string | null {
  if (typeof value === 'bigint') {
    const scale = unit === 's' ? 1_000_000n : unit === 'ms' ? 1000n : 1n;
    return microsToTime(value * scale);
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    if (Number.isInteger(value) && !Number.isSafeInteger(value) && unit === 'us' && Math.abs(value) < 1e19) {
      return `${value} is an integer past 2^53 that a JSON number may have rounded: write it as a string`;
    }
    if (Number.isSafeInteger(value)) {
      // The common case: integer seconds, milliseconds or microseconds, exact without text.
      if (unit === 's') return { seconds: value, micros: 0 };
      const per = unit === 'ms' ? 1000 : 1_000_000;
      const seconds = Math.floor(value / per);
      return { seconds, micros: (value - seconds * per) * (unit === 'ms' ? 1000 : 1) };
    }
    return decimalToTime(String(value), unit) ?? outOfRange(value, unit);
  }
  const text = value.trim();
  // Plain integers of up to 15 digits (epoch seconds, milliseconds, microseconds) are exact doubles:
  // the BigInt-free path above, as for a number.
  if (/^-?\d{1,15}$/.test(text)) return parseEpochTime(Number(text), unit);
  const fraction = unit === 's' ? /^(\d{1,12})\.(\d{1,9})$/.exec(text) : null;
  if (fraction !== null)
    return { seconds: Number(fraction[1]), micros: Number(fraction[2]!.slice(0, 6).padEnd(6, '0')) };
  if (!isDecimalText(text)) return null;
  return decimalToTime(text, unit) ?? outOfRange(text, unit);
}

/**
 * Why a time cannot be stored, or null when it can.
 * @param t - the time
 * @returns a reason naming the bound it passes
 */
export function lakeTimeProblem(t: EventTime): string | null {
  if (t.seconds < LAKE_FIRST_SECOND) return `is before 0000-01-01T00:00:00Z (the lake stores ${RANGE_TEXT})`;
  if (t.seconds > LAKE_LAST_SECOND)
    return `is after 9999-12-31T23:59:59.999999Z (the lake stores ${RANGE_TEXT})`;
  return null;
}

function outOfRange(value: string | number, unit: EpochUnit): string {
  return `${value} ${UNIT_NAMES[unit]} is outside the times the lake stores (${RANGE_TEXT})`;
}

/** An ISO 8601 UTC form of a storable time, six fraction digits (`2025-04-15T12:00:00.000000Z`). */
export function timeToIso({ seconds, micros }: EventTime): string {
  const days = Math.floor(seconds / 86400);
  const [y, mo, d] = daysToCivil(days);
  const s = seconds - days * 86400;
  const pad = (v: number, n = 2) => String(v).padStart(n, '0');
  const year = y >= 0 && y <= 9999 ? pad(y, 4) : `${y < 0 ? '-' : '+'}${pad(Math.abs(y), 6)}`;
  return `${year}-${pad(mo)}-${pad(d)}T${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}.${pad(micros, 6)}Z`;
}

/**
 * Why an epoch number cannot be stored, with a hint when another unit would put it in range
 * (epoch milliseconds read as seconds land in year 55,000).
 * @param value - the number as given
 * @param unit - the unit in force
 * @returns the reason, or null when the number is a storable time
 */
export function epochTimeProblem(value: string | number | bigint, unit: EpochUnit): string | null {
  const t = parseEpochTime(value, unit);
  if (t === null) return `${String(value)} is not a number`;
  if (typeof t === 'string') return t;
  const problem = lakeTimeProblem(t);
  if (problem === null) return null;
  let hint = '';
  for (const other of ['s', 'ms', 'us'] as const) {
    // A number is moved as the decimal it prints as: a hint needs no exactness past 2^53.
    const moved =
      other === unit ? null : parseEpochTime(typeof value === 'number' ? String(value) : value, other);
    if (moved !== null && typeof moved !== 'string' && lakeTimeProblem(moved) === null) {
      hint = `; as ${UNIT_NAMES[other]} it would be ${timeToIso(moved)}: give --time-unit ${other}`;
      break;
    }
  }
  return `${String(value)} ${UNIT_NAMES[unit]} ${problem}${hint}`;
}

const TWO_32 = 4294967296;

/**
 * Writes a time as INT64 microseconds into two 32-bit words (low, high) of an Int32Array view of a
 * BigInt64Array, without a BigInt. Exact for every time within ±2^38 seconds.
 */
export function writeTimeWords(words: Int32Array, i: number, { seconds, micros }: EventTime): void {
  writeMicrosWords(words, i, seconds, micros);
}

/** {@link writeTimeWords} of a time given as its two parts (no object per row). */
export function writeMicrosWords(words: Int32Array, i: number, seconds: number, micros: number): void {
  const base = seconds * 1_000_000; // exact: seconds · 15625 < 2^53, then · 64
  let hi = Math.floor(base / TWO_32);
  let lo = base - hi * TWO_32 + micros;
  if (lo >= TWO_32) {
    lo -= TWO_32;
    hi += 1;
  }
  words[2 * i] = lo | 0;
  words[2 * i + 1] = hi | 0;
}

/** Whole seconds (floored) of the INT64 microseconds at `i` of an Int32Array view, without a BigInt. */
export function readTimeSeconds(words: Int32Array, i: number): number {
  const lo = words[2 * i]! >>> 0;
  const hi = words[2 * i + 1]!;
  // hi · 2^32 = hi · 4294 · 10^6 + hi · 967296; the second part plus lo stays below 2^52, exact.
  const rest = hi * 967296 + lo;
  let q = Math.floor(rest / 1_000_000);
  const r = rest - q * 1_000_000;
  if (r < 0) q -= 1;
  else if (r >= 1_000_000) q += 1;
  return hi * 4294 + q;
}

/**
 * Microseconds since the epoch as an ISO 8601 UTC string with six fraction digits.
 * @param micros - microseconds since 1970-01-01T00:00:00Z
 * @returns e.g. `2024-05-01T12:00:00.123456Z`
 * @throws {OctaError} OUT_OF_RANGE outside the years JavaScript dates reach (±275760)
 */
export function microsToIso(micros: bigint): string {
  let ms = micros / 1000n;
  let rest = micros % 1000n;
  if (rest < 0n) {
    ms -= 1n;
    rest += 1000n;
  }
  const date = new Date(Number(ms));
  if (Number.isNaN(date.getTime())) {
    throw new OctaError('OUT_OF_RANGE', 'timestamp is outside the range of JavaScript dates', micros);
  }
  return `${date.toISOString().slice(0, -1)}${rest.toString().padStart(3, '0')}Z`;
}

const CATALOG_ISO = /^([+-]\d{6}|\d{4})-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;

/**
 * Parses an ISO 8601 timestamp with a zone (`Z` or `±hh:mm`) to microseconds; digits past the
 * microsecond are dropped.
 * @param iso - e.g. `2024-05-01T12:00:00.123456Z`
 * @returns microseconds since the epoch
 * @throws {OctaError} INVALID_ARGUMENT for anything else
 */
export function isoToMicros(iso: string): bigint {
  const time = CATALOG_ISO.test(iso) ? parseIsoTime(iso, true) : null;
  if (time === null || typeof time === 'string') {
    const why = time === null ? '' : `: ${time}`;
    throw new OctaError('INVALID_ARGUMENT', `expected an ISO 8601 timestamp with a zone${why}`, iso);
  }
  return timeToMicros(time);
}
