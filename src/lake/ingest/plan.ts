/**
 * Planning an ingest: its options, and what is checked and resolved before a row is read (sources
 * opened, coordinate and time mappings, the frame of LAS/LAZ bounds, required columns, batch ids).
 * `ingest.ts` then loads the rows and commits them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import {
  civilToDays,
  type EpochUnit,
  lakeTimeProblem,
  parseIsoTime,
  timeToMicros,
} from '../../export/event-time.js';
import { OctaError } from '../../lattice/errors.js';
import { type Frame, frameToJSON, parseFrameSpec } from '../../lattice/frame.js';
import type { TileIdKind } from '../../lattice/ids.js';
import type { TimeBucket } from '../catalog/layout.js';
import type { Source, SourceFormat } from '../sources/index.js';
import type { Storage } from '../storage/storage.js';
import type { ConversionPlan, CoordinateMapping } from './convert.js';
import type { TimeMapping } from './convert-time.js';
import type { Metrics } from './metrics.js';
import type { InputRef } from './outputs.js';

/** One input: a file path, or a stream (stdin) with a display name. */
export type IngestInput =
  | { path: string }
  | { stream: NodeJS.ReadableStream; name?: string }
  | { source: Source; name: string };

/** Options of `ingest` (ingest.ts). */
export interface IngestOptions {
  storage: Storage;
  table: string;
  inputs: IngestInput[];
  format?: SourceFormat;
  /** Frame spec (`ecef`, `enu:…`, `cartesian:…`, `auto`); default: the table's, else ecef for geodetic input, auto for LAS/LAZ. */
  frame?: string;
  /** Frame id for a new frame (0..255, default 0). */
  frameId?: number;
  /** Level of detail of a new table (default 15); must equal an existing table's. */
  lod?: number;
  /** Coordinate columns: x/y/z (default `x`,`y`,`z`) or lat/lon with height or depth in km. */
  coords?: Partial<{
    x: string;
    y: string;
    z: string;
    lat: string;
    lon: string;
    height: string;
    depthKm: string;
  }>;
  /** Event time column, or a constant time (ISO 8601) for every row. */
  time?: string;
  timeValue?: string;
  /** Unit of numeric times (default seconds). */
  timeUnit?: EpochUnit;
  timeBucket?: TimeBucket;
  /** Cell id kind of a new table: `index64` (default) or `hilbert64` (sorts into tighter row groups). */
  idKind?: TileIdKind;
  /** Source columns not to carry as payload. */
  exclude?: string[];
  rejectFile?: string | null;
  maxRejects?: number;
  force?: boolean;
  fileRows?: number;
  memoryBytes?: number;
  rowGroupSize?: number;
  chunkRows?: number;
  onProgress?: (p: IngestProgress) => void;
  /** Counters and histograms to add this run's figures to (see metrics.ts). */
  metrics?: Metrics;
  /**
   * Aborts the run (SIGINT, SIGTERM) between chunks: it then fails with INTERRUPTED and removes its
   * files, as a failed run does. Once the commit has started it completes.
   */
  signal?: AbortSignal;
}

/** Progress so far, reported after every chunk. */
export interface IngestProgress {
  source: string;
  rowsRead: number;
  rowsRejected: number;
  files: number;
  /** Bytes into the current source and its size, when known. */
  bytes?: number;
  size?: number;
}

/** What an ingest did (the CLI prints it as JSON with these keys). */
export interface IngestSummary {
  rows_read: number;
  rows_committed: number;
  rows_rejected: number;
  files: number;
  partitions: number;
  batches_skipped: number;
  version: number | null;
  reject_file: string | null;
  /**
   * Why a Delta Lake or Iceberg view of the table could not be brought up to the committed version
   * (empty when both were): the commit stands, and the next commit or `octa catalog publish`
   * catches the view up.
   */
  publish_errors: string[];
}

export interface Prepared {
  input: IngestInput;
  name: string;
  source: Source;
  identity: string | null;
}

/** Bytes of buffered rows the partition writer holds at most unless told otherwise (its default). */
export const DEFAULT_MEMORY_BYTES = 256 * 2 ** 20;

/** Most bytes one chunk of source rows may take, estimated: a few chunks are in flight at once. */
const CHUNK_BYTES = 64 * 2 ** 20;

/** Estimated bytes per value of a chunk: a double and its validity byte, or a string reference. */
const CHUNK_VALUE_BYTES = 16;

/**
 * Rows per source chunk: the rows asked for, fewer when the input is so wide that a chunk of them
 * would pass its share of the memory budget (a quarter of `memoryBytes`, at most 64 MiB). Readers
 * allocate a chunk's columns up front, so 65,536 rows of 8,000 numeric columns would take 4.7 GB;
 * inputs of up to 64 columns keep the full default chunk at the default budget.
 * @param wanted - rows per chunk asked for
 * @param columns - the widest input's column count
 * @param memoryBytes - the ingest's memory budget
 * @returns rows per chunk, at least 1
 */
export function boundedChunkRows(wanted: number, columns: number, memoryBytes: number): number {
  const budget = Math.min(CHUNK_BYTES, memoryBytes / 4);
  return Math.max(1, Math.min(wanted, Math.floor(budget / (CHUNK_VALUE_BYTES * Math.max(columns, 1)))));
}

/** True for a regular file (or a link to one): one that can be read twice and has a size. */
export function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** What the inputs are on disk, to keep the outputs off them. */
export function inputRefs(inputs: readonly IngestInput[]): InputRef[] {
  return inputs.flatMap((input): InputRef[] => {
    if ('path' in input) return input.path === '-' ? [{ fd: 0 }] : [{ path: input.path }];
    if (!('stream' in input)) return [];
    if (input.stream === process.stdin) return [{ fd: 0 }];
    const { path, fd } = input.stream as { path?: unknown; fd?: unknown };
    if (typeof path === 'string') return [{ path }];
    return typeof fd === 'number' ? [{ fd }] : [];
  });
}

/** The name an input is reported by: its path, or the stream's name (`-` for stdin). */
export const nameOf = (input: IngestInput) => ('path' in input ? input.path : (input.name ?? '-'));

/** Which columns hold the coordinates: the options' x/y/z or lat/lon, else `x`, `y`, `z` as the source spells them. */

/** The input columns a coordinate mapping reads (x, y, z, or latitude, longitude and height or depth). */
export function coordinateColumns(coords: CoordinateMapping): string[] {
  return coords.kind === 'xyz'
    ? [coords.x, coords.y, coords.z]
    : [
        coords.lat,
        coords.lon,
        ...(coords.height ? [coords.height] : []),
        ...(coords.depthKm ? [coords.depthKm] : []),
      ];
}

export function coordinateMapping(opts: IngestOptions, source: Source): CoordinateMapping {
  const c = opts.coords ?? {};
  if (c.lat !== undefined || c.lon !== undefined) {
    if (c.lat === undefined || c.lon === undefined) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        'geodetic input needs both `coords.lat` and `coords.lon`',
        undefined,
        {
          params: ['coords.lat', 'coords.lon'],
        },
      );
    }
    if (c.height !== undefined && c.depthKm !== undefined) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        'give `coords.height` or `coords.depthKm`, not both',
        undefined,
        {
          params: ['coords.height', 'coords.depthKm'],
        },
      );
    }
    return { kind: 'geodetic', lat: c.lat, lon: c.lon, height: c.height, depthKm: c.depthKm };
  }
  const names = new Set(source.columns.map((s) => s.name));
  const pick = (given: string | undefined, axis: string) =>
    given ?? (names.has(axis) ? axis : names.has(axis.toUpperCase()) ? axis.toUpperCase() : axis);
  return { kind: 'xyz', x: pick(c.x, 'x'), y: pick(c.y, 'y'), z: pick(c.z, 'z') };
}

/**
 * Where each row's event time comes from: a column, a constant, or a LAS/LAZ header's creation date.
 * @throws {OctaError} INVALID_ARGUMENT when no event time is given or found; INVALID_INPUT for a header date that is no day
 */
export function timeMapping(opts: IngestOptions, source: Source, name: string): TimeMapping {
  if (opts.time !== undefined && opts.timeValue !== undefined) {
    throw new OctaError('INVALID_ARGUMENT', 'give `time` or `timeValue`, not both', undefined, {
      params: ['time', 'timeValue'],
    });
  }
  if (opts.timeValue !== undefined) {
    const time = parseIsoTime(opts.timeValue);
    const problem =
      time === null ? 'not an ISO 8601 time' : typeof time === 'string' ? time : lakeTimeProblem(time);
    if (time === null || typeof time === 'string' || problem !== null) {
      throw new OctaError('INVALID_ARGUMENT', `\`timeValue\`: ${problem}`, opts.timeValue, {
        params: ['timeValue'],
      });
    }
    return { kind: 'constant', time };
  }
  if (opts.time !== undefined) return { kind: 'column', column: opts.time, unit: opts.timeUnit ?? 'auto' };
  const created = source.lasHeader?.creation;
  if (created && created.year > 0) {
    // LAS/LAZ without a time column: the file's creation date from its header, if it is a date.
    const { year, dayOfYear } = created;
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    if (dayOfYear < 1 || dayOfYear > (leap ? 366 : 365)) {
      throw new OctaError(
        'INVALID_INPUT',
        `${name}: the LAS header's creation day of year ${dayOfYear} is not a day of ${year} (1-${leap ? 366 : 365}); give the time with \`timeValue\``,
        { field: 'creation day of year', year, dayOfYear },
        { params: ['timeValue'] },
      );
    }
    const day = civilToDays(year, 1, 1) + dayOfYear - 1;
    return { kind: 'constant', time: { seconds: day * 86400, micros: 0 } };
  }
  for (const candidate of ['time', 't', 'timestamp']) {
    if (source.columns.some((c) => c.name === candidate))
      return { kind: 'column', column: candidate, unit: opts.timeUnit ?? 'auto' };
  }
  throw new OctaError(
    'INVALID_ARGUMENT',
    source.lasHeader
      ? `no event time: ${name} has no creation date in its header; give \`timeValue\` (or \`time\` with a column)`
      : `no event time: ${name} has no column time, t or timestamp; name one with \`time\` or give \`timeValue\``,
    name,
    { params: ['time', 'timeValue'] },
  );
}

/** @throws {OctaError} SCHEMA_MISMATCH naming the columns the source lacks */
export function requireColumns(source: Source, name: string, columns: string[]): void {
  const have = new Set(source.columns.map((c) => c.name));
  const missing = columns.filter((c) => !have.has(c));
  if (missing.length > 0) {
    throw new OctaError(
      'SCHEMA_MISMATCH',
      `${name} has no column ${missing.map((m) => JSON.stringify(m)).join(', ')} (it has: ${[...have].join(', ')})`,
      missing,
    );
  }
}

/** The `--frame auto` frame: ECEF for geodetic input, else a cartesian cube around the LAS/LAZ headers' bounds. */
export function autoFrame(sources: Prepared[], coords: CoordinateMapping, frameId: number): Frame {
  if (coords.kind === 'geodetic') return parseFrameSpec('ecef', { id: frameId });
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const p of sources) {
    const h = p.source.lasHeader;
    if (!h) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        `\`frame\` auto reads bounds from a LAS/LAZ header; ${p.name} has none: give \`frame\` cartesian:X0,Y0,Z0,EDGE`,
        p.name,
        { params: ['frame'] },
      );
    }
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a]!, h.min[a]!);
      hi[a] = Math.max(hi[a]!, h.max[a]!);
    }
  }
  const extent = Math.max(hi[0]! - lo[0]!, hi[1]! - lo[1]!, hi[2]! - lo[2]!);
  // A power-of-two edge keeps lattice units exact binary fractions; one unit of slack on each side.
  const edge = 2 ** Math.ceil(Math.log2(Math.max(extent + 2, 1)));
  const origin = lo.map((v) => Math.floor(v) - 1);
  return parseFrameSpec(`cartesian:${origin.join(',')},${edge}`, { id: frameId });
}

/** Whether two frames are the same frame. */
export function sameFrame(a: Frame, b: Frame): boolean {
  return frameToJSON(a) === frameToJSON(b);
}

/**
 * Batch ids of a source: what it is (identity or row digest) and how it is read into the table,
 * after every default and alias is resolved (the frame, LOD, coordinate and time columns the run
 * uses, the table's payload), so that equivalent spellings of the options give one id. Options
 * that cannot change the stored rows (reject file, metrics, max rejects, memory, file rows, worker
 * counts, output format) never enter it.
 *
 * The unit of numeric times is the one option with equivalent spellings that used to enter the id
 * as spelled: the default (`auto`) and `s` read numbers alike, and a typed timestamp column reads
 * the same whatever the unit. The first id, which a commit records, is the one the default
 * spelling has always had; the others are those earlier versions gave the equivalent spellings, so
 * that a lake ingested with them still recognises the batch.
 * @param timeTyped - whether this source's time column holds typed timestamps
 * @returns the id to record, then the ids of equivalent spellings
 */
export function batchIds(
  plan: ConversionPlan,
  table: string,
  identity: string,
  force: boolean,
  timeTyped: boolean,
): string[] {
  const { time } = plan;
  const units =
    time.kind !== 'column'
      ? [null]
      : timeTyped
        ? (['auto', 's', 'ms', 'us'] as const)
        : time.unit === 'auto' || time.unit === 's'
          ? (['auto', 's'] as const)
          : [time.unit];
  const nonce = force ? randomBytes(16) : null;
  return units.map((unit) => {
    const h = createHash('sha256');
    h.update(
      JSON.stringify({
        table,
        frame: frameToJSON(plan.frame),
        lod: plan.lod,
        coords: plan.coords,
        // A constant time as the µs number it always was, so batch ids of earlier runs still match.
        time:
          unit !== null
            ? { ...time, unit }
            : time.kind === 'constant'
              ? { kind: 'constant', micros: Number(timeToMicros(time.time)) }
              : time,
        payload: plan.payload,
      }),
    );
    h.update(identity);
    if (nonce !== null) h.update(nonce);
    return h.digest('hex');
  });
}

/** Whether a source's time column (when the plan reads one) holds typed timestamps, which no unit changes. */
export function hasTypedTime(plan: ConversionPlan, source: Source): boolean {
  const { time } = plan;
  return (
    time.kind === 'column' && source.columns.some((c) => c.name === time.column && c.type === 'timestamp_us')
  );
}
