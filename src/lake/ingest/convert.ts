// Over 400 lines: one conversion per chunk (coordinates, times, payload types) whose parts share the reject
// bookkeeping; cutting it into coordinate, time and payload files is issue 15 item 5 work.
/**
 * From source columns to lake rows: coordinates to frame metres and Index64 cells, event times to
 * microseconds, payload values to their column types. Every row that cannot be converted becomes a
 * reject with its row number and a reason; the rest are compacted into a chunk for the writer.
 */

import {
  type EventTime,
  epochTimeProblem,
  isDecimalText,
  lakeTimeProblem,
  microsToTime,
  parseEpochTime,
  parseIsoTime,
  writeTimeWords,
} from '../../export/event-time.js';
import { type FixedArray, gather } from '../../export/gather.js';
import { decimalOf, type PayloadColumn, type PayloadType } from '../../export/schema.js';
import { OctaError } from '../../lattice/errors.js';
import { type Frame, geodeticToFrameBatch } from '../../lattice/frame.js';
import { frameToIndex64Batch, REJECT_NON_FINITE, REJECT_OUT_OF_DOMAIN } from '../../lattice/frame-index.js';
import type { ColumnData, SourceChunk, SourceColumn } from '../sources/index.js';
import { jsonToText } from '../sources/json-exact.js';
import { textToFloat64 } from '../sources/numbers.js';
import { payloadTypeOf } from './payload-types.js';

/** Where the coordinates come from. */
export type CoordinateMapping =
  | { kind: 'xyz'; x: string; y: string; z: string }
  | { kind: 'geodetic'; lat: string; lon: string; height?: string; depthKm?: string };

/** Where the event time comes from. */
export type TimeMapping =
  | { kind: 'column'; column: string; unit: 'auto' | 's' | 'ms' | 'us' }
  | { kind: 'constant'; time: EventTime };

/** Everything the conversion needs, fixed before the first row is read. */
export interface ConversionPlan {
  frame: Frame;
  lod: number;
  coords: CoordinateMapping;
  time: TimeMapping;
  /** Payload columns in table order; `source` names the source column (absent: always null). */
  payload: (PayloadColumn & { source?: string })[];
}

/** A row that did not make it, with where it was and why. */
export interface RowReject {
  row: number;
  line?: number;
  reason: string;
  text?: string;
}

/** Rows ready for the partition writer: parallel arrays of the accepted rows. */
export interface ConvertedRows {
  rows: number;
  cell: BigInt64Array;
  x: Float64Array;
  y: Float64Array;
  z: Float64Array;
  /** Event time, µs since the epoch (INT64, within the years the lake stores: 0000–9999). */
  timeUs: BigInt64Array;
  payload: Record<string, PayloadArray>;
  rowNumbers: Float64Array;
}

/** Payload types held as 64-bit integers (uint64 as its raw bits). */
export type Int64PayloadType = Exclude<PayloadType, 'float64' | 'int32' | 'date' | 'bool' | 'utf8'>;

/** A converted payload column. */
export type PayloadArray =
  | { type: 'float64'; values: Float64Array; valid: Uint8Array }
  | { type: 'int32' | 'date'; values: Int32Array; valid: Uint8Array }
  | { type: Int64PayloadType; values: BigInt64Array; valid: Uint8Array }
  | { type: 'bool'; values: Uint8Array; valid: Uint8Array }
  | { type: 'utf8'; values: (string | null)[] };

const show = (v: unknown) => {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/**
 * One source value as the caller sees it: the raw text of a field that did not parse, the digits of
 * an integer its double only approximates, a uint64 as an unsigned bigint.
 */
function rawValue(data: ColumnData, i: number): unknown {
  if (data.type === 'float64' && data.invalid?.has(i)) return data.invalid.get(i);
  if (data.type === 'float64' && data.inexact?.has(i)) return data.inexact.get(i);
  if ('valid' in data && data.valid && data.valid[i] === 0) return null;
  if (data.type === 'uint64') return BigInt.asUintN(64, data.values[i]!);
  if (data.type === 'decimal') return decimalText(data.values[i]!, data.scale);
  return data.values[i];
}

/** The text of an unscaled decimal, e.g. (-1234n, 2) → "-12.34"; Number() of it rounds correctly. */
function decimalText(unscaled: bigint, scale: number): string {
  if (scale === 0) return unscaled.toString();
  const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${unscaled < 0n ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** The reason a row's value could not be read exactly by the source, if it could not. */
function sourceInvalid(data: ColumnData, i: number): string | undefined {
  return 'invalid' in data ? data.invalid?.get(i) : undefined;
}

/** Whether row i of a typed column is null. */
function isNullAt(data: ColumnData, i: number): boolean {
  return 'valid' in data && data.valid !== undefined && data.valid[i] === 0;
}

/**
 * Reads a column as doubles. `fail(i, reason)` is called for every row whose value is missing or not
 * a number; those rows get NaN.
 */
export function toFloat64(
  data: ColumnData,
  name: string,
  n: number,
  fail: (i: number, reason: string) => void,
): Float64Array {
  if (data.type === 'float64' && !data.valid && (!data.invalid || data.invalid.size === 0)) {
    // Every value present and numeric: the source's own array, no copy.
    return data.values.length === n ? data.values : data.values.subarray(0, n);
  }
  const out = new Float64Array(n);
  switch (data.type) {
    case 'float64':
    case 'int32':
    case 'date':
    case 'bool':
      for (let i = 0; i < n; i++) {
        if (data.valid && data.valid[i] === 0) {
          out[i] = Number.NaN;
          fail(i, `column ${show(name)} is empty`);
        } else if (data.type === 'float64' && data.invalid?.has(i)) {
          out[i] = Number.NaN;
          fail(i, `column ${show(name)}: not a number: ${show(data.invalid.get(i))}`);
        } else out[i] = data.values[i]!;
      }
      return out;
    case 'text':
    case 'json':
      break;
    case 'decimal':
      for (let i = 0; i < n; i++) {
        if (data.valid && data.valid[i] === 0) {
          out[i] = Number.NaN;
          fail(i, `column ${show(name)} is empty`);
        } else out[i] = Number(decimalText(data.values[i]!, data.scale));
      }
      return out;
    default:
      for (let i = 0; i < n; i++) {
        const invalid = data.invalid?.get(i);
        if (data.valid && data.valid[i] === 0) {
          out[i] = Number.NaN;
          fail(i, `column ${show(name)} is empty`);
        } else if (invalid !== undefined) {
          out[i] = Number.NaN;
          fail(i, `column ${show(name)}: ${invalid}`);
        } else
          out[i] = Number(data.type === 'uint64' ? BigInt.asUintN(64, data.values[i]!) : data.values[i]!);
      }
      return out;
  }
  for (let i = 0; i < n; i++) {
    const v = data.values[i];
    if (v === null || v === undefined || v === '') {
      out[i] = Number.NaN;
      fail(i, `column ${show(name)} is empty`);
      continue;
    }
    // The readers' number grammar (numbers.ts): no hex, binary or thousands separators.
    const d =
      typeof v === 'number' || typeof v === 'bigint'
        ? Number(v)
        : typeof v === 'string'
          ? textToFloat64(v)
          : undefined;
    if (d === undefined || d === null) fail(i, `column ${show(name)}: not a number: ${show(v)}`);
    out[i] = d ?? Number.NaN;
  }
  return out;
}

/** Source timestamp types that are event times, with their units per microsecond. */
const TIMESTAMP_NS_PER_US: Readonly<Partial<Record<ColumnData['type'], bigint>>> = {
  timestamp_us: 1n,
  local_timestamp_us: 1n,
  timestamp_ns: 1000n,
  local_timestamp_ns: 1000n,
};

/** Event times as INT64 µs, with a reject for each row whose time cannot be read or stored. */
function times(
  plan: TimeMapping,
  chunk: SourceChunk,
  n: number,
  fail: (i: number, reason: string) => void,
): BigInt64Array {
  const out = new BigInt64Array(n);
  const words = new Int32Array(out.buffer, out.byteOffset, 2 * n);
  if (plan.kind === 'constant') {
    for (let i = 0; i < n; i++) writeTimeWords(words, i, plan.time);
    return out;
  }
  const data = chunk.columns[plan.column];
  if (!data) throw new OctaError('SCHEMA_MISMATCH', 'the time column is missing from the input', plan.column);
  const name = show(plan.column);
  // Typed times: timestamps in µs as they are, in ns floored to µs, dates at their midnight (UTC).
  if (data.type === 'date' || TIMESTAMP_NS_PER_US[data.type] !== undefined) {
    const perUs = TIMESTAMP_NS_PER_US[data.type] ?? 1n;
    for (let i = 0; i < n; i++) {
      const invalid = sourceInvalid(data, i);
      if (isNullAt(data, i)) {
        fail(i, `column ${name}: no time`);
        continue;
      }
      if (invalid !== undefined) {
        fail(i, `column ${name}: ${invalid}`);
        continue;
      }
      let us: bigint;
      if (data.type === 'date') us = BigInt(data.values[i] as number) * 86_400_000_000n;
      else {
        const v = data.values[i] as bigint;
        const q = v / perUs;
        us = v < 0n && q * perUs !== v ? q - 1n : q;
      }
      const t = microsToTime(us);
      const problem = lakeTimeProblem(t);
      if (problem !== null) {
        fail(i, `column ${name}: time ${us} µs ${problem}`);
        continue;
      }
      writeTimeWords(words, i, t);
    }
    return out;
  }
  const unit = plan.unit === 'auto' ? 's' : plan.unit;
  for (let i = 0; i < n; i++) {
    const v = data.type === 'text' || data.type === 'json' ? data.values[i] : rawValue(data, i);
    if (v === null || v === undefined || v === '') {
      fail(i, `column ${name} is empty`);
      continue;
    }
    let t: EventTime | string | null;
    let epoch = false;
    if (data.type === 'timestamp_us') t = microsToTime(v as bigint);
    else if (typeof v === 'number' || typeof v === 'bigint') {
      t = parseEpochTime(v, unit);
      epoch = true;
    } else if (typeof v === 'string') {
      epoch = isDecimalText(v.trim());
      t = epoch ? parseEpochTime(v, unit) : parseIsoTime(v);
    } else t = null;
    if (t === null) {
      fail(i, `column ${name}: unparsable time ${show(v)}`);
      continue;
    }
    if (typeof t === 'string') {
      fail(i, epoch ? `column ${name}: time ${t}` : `column ${name}: unparsable time ${show(v)}: ${t}`);
      continue;
    }
    const problem = lakeTimeProblem(t);
    if (problem !== null) {
      fail(
        i,
        epoch
          ? `column ${name}: time ${epochTimeProblem(typeof v === 'string' ? v.trim() : (v as number | bigint), unit)}`
          : `column ${name}: time ${typeof v === 'bigint' ? `${v} µs` : show(v)} ${problem}`,
      );
      continue;
    }
    writeTimeWords(words, i, t);
  }
  return out;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const DECIMAL_INTEGER = /^[+-]?\d+$/;

/** An integer from a source value (bigint, integral number, decimal digits), or undefined. */
function integerOf(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string') {
    const t = v.trim();
    return DECIMAL_INTEGER.test(t) ? BigInt(t) : undefined;
  }
  return undefined;
}

/**
 * A 64-bit payload column (int64, uint64, times, timestamps, decimals). A source column of the same
 * type is copied as it is. Times, timestamps and decimals take no other (ingest refuses any other
 * before reading); int64 and uint64 take any integer in their range and reject other values.
 */
function int64Column(
  type: Int64PayloadType,
  data: ColumnData | undefined,
  name: string,
  n: number,
  fail: (i: number, reason: string) => void,
): PayloadArray {
  const values = new BigInt64Array(n);
  const valid = new Uint8Array(n);
  if (data === undefined) return { type, values, valid };
  const decimal = decimalOf(type);
  if (decimal !== undefined) {
    // Only a decimal of the same scale fills a decimal column (ingest checks it before reading).
    if (data.type !== 'decimal' || data.scale !== decimal.scale) {
      for (let i = 0; i < n; i++) {
        const v = rawValue(data, i);
        if (v !== null && v !== undefined && v !== '')
          fail(i, `column ${name}: expected a ${type}, got ${show(v)}`);
      }
      return { type, values, valid };
    }
    values.set(data.values.subarray(0, n));
    if (data.valid) valid.set(data.valid.subarray(0, n));
    else valid.fill(1);
    for (let i = 0; i < n; i++) if (valid[i] === 0) values[i] = 0n;
    return { type, values, valid };
  }
  if (data.type === type) {
    values.set(data.values.subarray(0, n));
    if (data.valid) valid.set(data.valid.subarray(0, n));
    else valid.fill(1);
    for (const [i, reason] of data.invalid ?? []) {
      if (i >= n) continue;
      valid[i] = 0;
      fail(i, `column ${name}: ${reason}`);
    }
    for (let i = 0; i < n; i++) if (valid[i] === 0) values[i] = 0n;
    return { type, values, valid };
  }
  const [min, max] = type === 'uint64' ? [0n, UINT64_MAX] : [INT64_MIN, INT64_MAX];
  const temporal = type !== 'int64' && type !== 'uint64';
  for (let i = 0; i < n; i++) {
    const v = rawValue(data, i);
    if (v === null || v === undefined || v === '') continue;
    const b = temporal ? undefined : integerOf(v);
    if (b === undefined || b < min || b > max) {
      fail(i, `column ${name}: expected ${temporal ? 'a' : 'an integer'} (${type}), got ${show(v)}`);
      continue;
    }
    values[i] = BigInt.asIntN(64, b);
    valid[i] = 1;
  }
  return { type, values, valid };
}

/** The nearest double to an integer, or undefined when the double is not that integer. */
function exactDouble(b: bigint): number | undefined {
  const d = Number(b);
  return BigInt(d) === b ? d : undefined;
}

/** Converts one payload column; values that do not fit the type reject their row. */
function payloadColumn(
  col: PayloadColumn & { source?: string },
  chunk: SourceChunk,
  n: number,
  fail: (i: number, reason: string) => void,
): PayloadArray {
  const data = col.source === undefined ? undefined : chunk.columns[col.source];
  const valid = new Uint8Array(n);
  const type: PayloadType = col.type;
  const name = show(col.name);
  if (type === 'utf8') {
    const values: (string | null)[] = new Array(n).fill(null);
    if (data) {
      for (let i = 0; i < n; i++) {
        const invalid = data.type === 'text' ? data.invalid?.get(i) : undefined;
        if (invalid !== undefined) {
          fail(i, `column ${name}: ${invalid}`);
          continue;
        }
        const v = rawValue(data, i);
        values[i] =
          v === null || v === undefined
            ? null
            : typeof v === 'string'
              ? v
              : typeof v === 'object'
                ? jsonToText(v)
                : String(v);
      }
    }
    return { type, values };
  }
  if (type !== 'float64' && type !== 'int32' && type !== 'date' && type !== 'bool') {
    return int64Column(type, data, name, n, fail);
  }
  if (data && data.type === type && (type === 'float64' || type === 'int32' || type === 'date')) {
    // Same type in and out: copy the values, keep the nulls, reject what the reader could not parse.
    const typed = data as {
      values: Float64Array | Int32Array;
      valid?: Uint8Array;
      invalid?: Map<number, string>;
      inexact?: Map<number, string>;
    };
    const values = typed.values.slice(0, n);
    if (typed.valid) valid.set(typed.valid.subarray(0, n));
    else valid.fill(1);
    for (const [i, text] of typed.invalid ?? []) {
      valid[i] = 0;
      fail(i, `column ${name}: expected a number (${type}), got ${show(text)}`);
    }
    for (const [i, text] of typed.inexact ?? []) {
      valid[i] = 0;
      fail(i, `column ${name}: the integer ${text} has no exact ${type} (DOUBLE) value`);
    }
    // Nulls hold 0, as in the general path, so equal rows are equal bytes (stream batch digests).
    if (typed.valid || typed.inexact) for (let i = 0; i < n; i++) if (valid[i] === 0) values[i] = 0;
    return { type, values, valid } as PayloadArray;
  }
  const values =
    type === 'float64' ? new Float64Array(n) : type === 'bool' ? new Uint8Array(n) : new Int32Array(n);
  if (data && type === 'date') {
    // Only a date column fills a date column (ingest refuses any other before reading).
    for (let i = 0; i < n; i++) {
      const v = rawValue(data, i);
      if (v !== null && v !== undefined && v !== '')
        fail(i, `column ${name}: expected a date, got ${show(v)}`);
    }
  } else if (data) {
    for (let i = 0; i < n; i++) {
      const v = rawValue(data, i);
      if (v === null || v === undefined || v === '') continue;
      let d: number;
      if (type === 'bool') {
        const word = typeof v === 'string' ? v.trim().toLowerCase() : v;
        if (word === true || word === 1 || word === 'true' || word === '1') d = 1;
        else if (word === false || word === 0 || word === 'false' || word === '0') d = 0;
        else {
          fail(i, `column ${name}: expected a boolean, got ${show(v)}`);
          continue;
        }
      } else {
        // An integer is stored only where the double is that integer: 9007199254740993 is not.
        const integer = typeof v === 'bigint' ? v : typeof v === 'string' ? integerOf(v) : undefined;
        const exact = integer === undefined ? undefined : exactDouble(integer);
        if (integer !== undefined && exact === undefined) {
          fail(i, `column ${name}: the integer ${integer} has no exact ${type} value`);
          continue;
        }
        // Text goes through the readers' number grammar, so a stream (whose payload arrives as
        // text) stores what a file (parsed by the reader) stores.
        const parsed =
          exact !== undefined
            ? exact
            : typeof v === 'number'
              ? v
              : typeof v === 'string'
                ? textToFloat64(v)
                : undefined;
        if (parsed === undefined || parsed === null) {
          fail(i, `column ${name}: expected a number (${type}), got ${show(v)}`);
          continue;
        }
        d = parsed;
        if (type === 'int32' && (!Number.isInteger(d) || d < -(2 ** 31) || d >= 2 ** 31)) {
          fail(i, `column ${name}: expected an integer (int32), got ${show(v)}`);
          continue;
        }
      }
      values[i] = d;
      valid[i] = 1;
    }
  }
  return { type, values, valid } as PayloadArray;
}

/**
 * Converts a source chunk into lake rows.
 * @param plan - the conversion plan
 * @param chunk - one chunk from a source
 * @returns the accepted rows and the rejects (source-level rejects included), in row order
 * @throws {OctaError} SCHEMA_MISMATCH when a mapped column is missing from the chunk
 */
export function convertChunk(
  plan: ConversionPlan,
  chunk: SourceChunk,
): { rows: ConvertedRows; rejects: RowReject[] } {
  const n = chunk.rows;
  const reasons = new Map<number, string>();
  const fail = (i: number, reason: string) => {
    if (!reasons.has(i)) reasons.set(i, reason);
  };
  const column = (name: string): ColumnData => {
    const c = chunk.columns[name];
    if (!c) throw new OctaError('SCHEMA_MISMATCH', 'a mapped column is missing from the input', name);
    return c;
  };
  const points = new Float64Array(3 * n);
  const c = plan.coords;
  // Frame metres as separate columns when the input gives them (x, y, z mapping): kept as they are.
  let metres: Float64Array[] | undefined;
  if (c.kind === 'xyz') {
    const cols = [
      toFloat64(column(c.x), c.x, n, fail),
      toFloat64(column(c.y), c.y, n, fail),
      toFloat64(column(c.z), c.z, n, fail),
    ];
    for (let i = 0; i < n; i++) {
      points[3 * i] = cols[0]![i]!;
      points[3 * i + 1] = cols[1]![i]!;
      points[3 * i + 2] = cols[2]![i]!;
    }
    metres = cols;
  } else {
    const lat = toFloat64(column(c.lat), c.lat, n, fail);
    const lon = toFloat64(column(c.lon), c.lon, n, fail);
    const h =
      c.height !== undefined
        ? toFloat64(column(c.height), c.height, n, fail)
        : c.depthKm !== undefined
          ? toFloat64(column(c.depthKm), c.depthKm, n, fail).map((d) => -1000 * d)
          : new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (!(lat[i]! >= -90 && lat[i]! <= 90)) fail(i, `latitude ${show(lat[i])} is outside -90..90`);
      if (!(lon[i]! >= -180 && lon[i]! <= 360)) fail(i, `longitude ${show(lon[i])} is outside -180..360`);
      points[3 * i] = lat[i]!;
      points[3 * i + 1] = lon[i]!;
      points[3 * i + 2] = h[i]!;
    }
    geodeticToFrameBatch({ frame: plan.frame, points, out: points });
  }
  const cells = frameToIndex64Batch({ frame: plan.frame, lod: plan.lod, points });
  for (let i = 0; i < n; i++) {
    const code = cells.rejects[i];
    if (code === REJECT_NON_FINITE) fail(i, 'coordinate is NaN or infinite');
    else if (code === REJECT_OUT_OF_DOMAIN) {
      const p = [points[3 * i], points[3 * i + 1], points[3 * i + 2]].map((v) => Number(v!.toPrecision(12)));
      fail(
        i,
        `point (${p.join(', ')}) is outside frame ${plan.frame.id} (${plan.frame.kind}, origin ${plan.frame.origin.join(',')}, edge ${plan.frame.edge})`,
      );
    }
  }
  const timeUs = times(plan.time, chunk, n, fail);
  const payload = plan.payload.map((p) => payloadColumn(p, chunk, n, fail));

  const rejects: RowReject[] = chunk.rejects.map((r) => ({ ...r }));
  const keep = new Uint32Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const reason = reasons.get(i);
    if (reason === undefined) keep[k++] = i;
    else {
      const line = chunk.lineNumbers?.[i];
      rejects.push(
        line === undefined
          ? { row: chunk.rowNumbers[i]!, reason }
          : { row: chunk.rowNumbers[i]!, line, reason },
      );
    }
  }
  rejects.sort((a, b) => a.row - b.row);
  const take = <T extends FixedArray>(a: T): T => (k === n ? a : gather(a, keep, k));
  let [xs, ys, zs] = k === n && metres !== undefined ? metres : [];
  if (xs === undefined || ys === undefined || zs === undefined) {
    xs = new Float64Array(k);
    ys = new Float64Array(k);
    zs = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      const i = keep[j]!;
      xs[j] = points[3 * i]!;
      ys[j] = points[3 * i + 1]!;
      zs[j] = points[3 * i + 2]!;
    }
  }
  const out: Record<string, PayloadArray> = {};
  plan.payload.forEach((p, idx) => {
    const a = payload[idx]!;
    out[p.name] =
      a.type === 'utf8'
        ? {
            type: 'utf8',
            values: k === n ? a.values : Array.from(keep.subarray(0, k), (i) => a.values[i] ?? null),
          }
        : ({ type: a.type, values: take(a.values), valid: take(a.valid) } as PayloadArray);
  });
  return {
    rows: {
      rows: k,
      cell: take(cells.ids),
      x: xs,
      y: ys,
      z: zs,
      timeUs: take(timeUs),
      payload: out,
      rowNumbers: take(chunk.rowNumbers),
    },
    rejects,
  };
}

/**
 * The payload type a source column gets in a new table: typed sources keep their type (see
 * {@link payloadTypeOf}); text and JSON columns become float64 when every non-empty value of the
 * first chunk is a number in the readers' grammar (numbers.ts: decimal with an optional exponent,
 * so `0x10` stays text), bool when every one is a boolean, and utf8 otherwise. A column of
 * integers of which some has no exact double (beyond ±2^53) becomes int64 when all fit in it, and
 * utf8 (every digit kept) when some does not or some value is not an integer.
 * @throws {OctaError} SCHEMA_MISMATCH for a typed column the lake cannot store exactly
 */
export function inferPayloadType(column: SourceColumn, sample: ColumnData | undefined): PayloadType {
  const typed = payloadTypeOf(column);
  if (typed !== undefined) return typed;
  // A column the reader already parsed as numbers (a coordinate column also kept as payload).
  if (sample?.type === 'float64') return 'float64';
  if (!sample || (sample.type !== 'text' && sample.type !== 'json')) return 'utf8';
  let numbers = 0;
  let bools = 0;
  let others = 0;
  let fractions = 0;
  let inexact = 0;
  let beyondInt64 = 0;
  for (const v of sample.values) {
    if (v === null || v === undefined || v === '') continue;
    if (typeof v === 'number') {
      numbers++;
      if (!Number.isInteger(v)) fractions++;
    } else if (typeof v === 'bigint') {
      numbers++;
      if (exactDouble(v) === undefined) {
        inexact++;
        if (v < INT64_MIN || v > INT64_MAX) beyondInt64++;
      }
    } else if (typeof v === 'boolean' || (typeof v === 'string' && /^\s*(true|false)\s*$/i.test(v))) bools++;
    else if (typeof v === 'string' && Number.isFinite(textToFloat64(v))) {
      numbers++;
      const integer = integerOf(v);
      if (integer === undefined) fractions++;
      else if (exactDouble(integer) === undefined) {
        inexact++;
        if (integer < INT64_MIN || integer > INT64_MAX) beyondInt64++;
      }
    } else others++;
  }
  if (others === 0 && numbers > 0 && bools === 0) {
    if (inexact === 0) return 'float64';
    return fractions === 0 && beyondInt64 === 0 ? 'int64' : 'utf8';
  }
  if (others === 0 && bools > 0 && numbers === 0) return 'bool';
  return 'utf8';
}
