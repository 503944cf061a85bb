/**
 * Per-file statistics of the Delta view (PROTOCOL.md, "Per-file Statistics"): the `stats` JSON of an
 * `add` gives numRecords and minValues, maxValues and nullCount of cell, x, y, z and time. The cell
 * is a Delta `long` written as its exact decimal digits (never through a double); timestamps are
 * written as Delta Kernel writes them (`yyyy-MM-dd'T'HH:mm:ss.SSS` and `Z`, in UTC), since "Timestamp
 * columns are truncated down to milliseconds".
 */
import { OctaError } from '../../../lattice/errors.js';
import type { FileRecord } from '../records.js';
import type { PublishedFile } from './table-view.js';

const STATS_COLUMNS = ['cell', 'x', 'y', 'z', 'time'] as const;
const INT64 = /^-?\d{1,19}$/;

/** A timestamp statistic: UTC, truncated down to the millisecond. */
function statsTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new OctaError('CORRUPT', 'a file record has an unreadable time bound', iso);
  return new Date(ms).toISOString();
}

/**
 * The `stats` JSON of a file. Built as text so that the INT64 cell bounds keep every digit (a JS
 * number would round ids past 2^53).
 */
export function statsJson(file: FileRecord): string {
  const [minX, minY, minZ, maxX, maxY, maxZ] = file.bbox;
  const values = (cell: string, coords: Record<string, number>, time: string) => {
    const parts = [`"cell":${int64Text(cell, file.key)}`];
    for (const [name, v] of Object.entries(coords)) {
      if (Number.isFinite(v)) parts.push(`"${name}":${JSON.stringify(v)}`);
    }
    parts.push(`"time":${JSON.stringify(statsTime(time))}`);
    return `{${parts.join(',')}}`;
  };
  const nulls = STATS_COLUMNS.map((c) => `"${c}":0`).join(',');
  return (
    `{"numRecords":${file.rows},` +
    `"minValues":${values(file.cellMin, { x: minX, y: minY, z: minZ }, file.timeMin)},` +
    `"maxValues":${values(file.cellMax, { x: maxX, y: maxY, z: maxZ }, file.timeMax)},` +
    `"nullCount":{${nulls}}}`
  );
}

/** An INT64 as a JSON number's text: canonical decimal digits, checked to fit 64 bits. */
function int64Text(text: string, key: string): string {
  const value = INT64.test(text) ? BigInt(text) : null;
  if (value === null || value !== BigInt.asIntN(64, value)) {
    throw new OctaError('CORRUPT', 'a file record has a cell bound that is not an INT64', key);
  }
  return value.toString();
}

/**
 * JSON text with every integer literal of 16 or more digits turned into a string, so that
 * `JSON.parse` keeps its digits (Node 20 has no access to a number's source text).
 */
export function quoteBigIntegers(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))!;
      const token = m[0];
      out +=
        m[1] === undefined && m[2] === undefined && token.replace('-', '').length > 15 ? `"${token}"` : token;
      i += Math.max(1, token.length);
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * A file as the view's `add` records it, in the catalog's units (time bounds as the stats hold
 * them: truncated down to the millisecond).
 * @throws {OctaError} CORRUPT when the stats lack a bound
 */
export function publishedFile(add: { path: string; size: number; stats?: string }): PublishedFile {
  let stats: Record<string, Record<string, unknown> | number> = {};
  try {
    stats = JSON.parse(quoteBigIntegers(add.stats ?? '{}'));
  } catch {
    throw new OctaError('CORRUPT', 'a Delta add has stats that are not JSON', add.path);
  }
  const min = (stats.minValues ?? {}) as Record<string, unknown>;
  const max = (stats.maxValues ?? {}) as Record<string, unknown>;
  const int64 = (v: unknown) => {
    const text = typeof v === 'number' ? String(v) : v;
    if (typeof text !== 'string' || !INT64.test(text))
      throw new OctaError('CORRUPT', 'a Delta add lacks a cell bound', add.path);
    return BigInt(text).toString();
  };
  const micros = (v: unknown) => {
    const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
    if (Number.isNaN(ms)) throw new OctaError('CORRUPT', 'a Delta add lacks a time bound', add.path);
    return (BigInt(ms) * 1000n).toString();
  };
  const num = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);
  return {
    rows: typeof stats.numRecords === 'number' ? stats.numRecords : Number(stats.numRecords),
    bytes: add.size,
    cellMin: int64(min.cell),
    cellMax: int64(max.cell),
    timeMinMicros: micros(min.time),
    timeMaxMicros: micros(max.time),
    bbox: [num(min.x), num(min.y), num(min.z), num(max.x), num(max.y), num(max.z)],
  };
}

/** A time bound as the Delta view records it: microseconds, truncated down to the millisecond. */
export function deltaTimeMicros(micros: string): string {
  const us = BigInt(micros);
  const rest = ((us % 1000n) + 1000n) % 1000n;
  return (us - rest).toString();
}
