/**
 * From source columns to lake rows: coordinates to frame metres and Index64 cells (here), event
 * times to microseconds (convert-time.ts), payload values to their column types
 * (convert-payload.ts). Every row that cannot be converted becomes a reject with its row number and
 * a reason; the rest are compacted into a chunk for the writer.
 */
import { type FixedArray, gather } from '../../export/gather.js';
import type { PayloadColumn } from '../../export/schema.js';
import { OctaError } from '../../lattice/errors.js';
import { type Frame, geodeticToFrameBatch } from '../../lattice/frame.js';
import { frameToIndex64Batch, REJECT_NON_FINITE, REJECT_OUT_OF_DOMAIN } from '../../lattice/frame-index.js';
import type { ColumnData, SourceChunk } from '../sources/index.js';
import { textToFloat64 } from '../sources/numbers.js';
import { type PayloadArray, payloadColumn } from './convert-payload.js';
import { convertTimes, type TimeMapping } from './convert-time.js';
import { decimalText, show } from './convert-values.js';

/** Where the coordinates come from. */
export type CoordinateMapping =
  | { kind: 'xyz'; x: string; y: string; z: string }
  | { kind: 'geodetic'; lat: string; lon: string; height?: string; depthKm?: string };

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
    case 'event_time':
      // Only the time column is read as times, and never when it is also numeric (planChunks).
      throw new OctaError('SCHEMA_MISMATCH', 'the event-time column cannot also be a coordinate', name);
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
  const timeUs = convertTimes(plan.time, chunk, n, fail);
  const payload = plan.payload.map((p) => payloadColumn(p, chunk, n, fail));

  const rejects: RowReject[] = chunk.rejects.map((r) => ({ ...r }));
  // Without a reject every row is kept as it is: no index list, no gather below.
  const clean = reasons.size === 0;
  const keep = new Uint32Array(clean ? 0 : n);
  let k = clean ? n : 0;
  for (let i = 0; !clean && i < n; i++) {
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
      const i = clean ? j : keep[j]!;
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
