/**
 * `ingest`: stream point files (or stdin) into a table of the lake. Sources are opened and checked
 * first (missing columns, unknown frame, a table's frame or LOD mismatch fail before anything is
 * written); rows are converted chunk by chunk, rejects go to the reject file, the partition writer
 * flushes sorted Parquet files, and one catalog commit at the end makes them visible together. A run
 * that fails commits nothing. Each source is a batch identified by its identity (file path, size,
 * modification time; for a stream, a digest of its rows), so running the same ingest again commits
 * nothing twice unless `force` is set.
 */
import { createHash, randomBytes } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { civilToDays, lakeTimeProblem, parseIsoTime, timeToMicros } from '../export/event-time.js';
import { createPointSchema, type PayloadColumn, RESERVED_COLUMN_NAMES } from '../export/schema.js';
import { index64ToHilbert64Batch } from '../lattice/batch.js';
import { checkInt, OctaError } from '../lattice/errors.js';
import { type Frame, frameToJSON, parseFrameSpec } from '../lattice/frame.js';
import {
  checkNewTableName,
  EmbeddedCatalog,
  type FileRecord,
  type TableConfig,
  validateName,
} from './catalog.js';
import {
  type ConversionPlan,
  type ConvertedRows,
  type CoordinateMapping,
  convertChunk,
  inferPayloadType,
  type RowReject,
  type TimeMapping,
} from './convert.js';
import type { TimeBucket } from './layout.js';
import { LocalStorage } from './local-storage.js';
import type { Metrics } from './metrics.js';
import { checkAborted, checkOutputFile, type InputRef } from './outputs.js';
import { PartitionWriter } from './partition-writer.js';
import { checkInputColumns } from './payload-types.js';
import { RejectSink } from './rejects.js';
import {
  DEFAULT_CHUNK_ROWS,
  inferFormat,
  openSource,
  type Source,
  type SourceChunk,
  type SourceFormat,
} from './sources/index.js';
import { canThreadSources, openThreadedSource } from './sources/threaded.js';
import type { Storage } from './storage.js';
import { checkWrittenFiles, WriterLease } from './writer-lease.js';

/** One input: a file path, or a stream (stdin) with a display name. */
export type IngestInput =
  | { path: string }
  | { stream: NodeJS.ReadableStream; name?: string }
  | { source: Source; name: string };

/** Options of {@link ingest}. */
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
  timeUnit?: 's' | 'ms' | 'us';
  timeBucket?: TimeBucket;
  /** Cell id kind of a new table: `index64` (default) or `hilbert64` (sorts into tighter row groups). */
  idKind?: 'index64' | 'hilbert64';
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
}

interface Prepared {
  input: IngestInput;
  name: string;
  source: Source;
  identity: string | null;
}

/** Bytes of buffered rows the partition writer holds at most unless told otherwise (its default). */
const DEFAULT_MEMORY_BYTES = 256 * 2 ** 20;

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

/** The input columns a coordinate mapping reads (x, y, z, or latitude, longitude and height or depth). */
function coordinateColumns(coords: CoordinateMapping): string[] {
  return coords.kind === 'xyz'
    ? [coords.x, coords.y, coords.z]
    : [
        coords.lat,
        coords.lon,
        ...(coords.height ? [coords.height] : []),
        ...(coords.depthKm ? [coords.depthKm] : []),
      ];
}

/**
 * Opens a file input; CSV and NDJSON are parsed on a worker thread when the compiled worker exists.
 * A named pipe, `/dev/fd/N` of a process substitution or a character device is read once, as a
 * stream, on this thread.
 */
async function openFileSource(path: string, format: SourceFormat | undefined): Promise<Source> {
  const f = format ?? inferFormat(path);
  if ((f === 'csv' || f === 'ndjson') && canThreadSources() && isRegularFile(path)) {
    return openThreadedSource({ path, format: f });
  }
  return openSource({ path, ...(format ? { format } : {}) });
}

/** True for a regular file (or a link to one): one that can be read twice and has a size. */
function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** What the inputs are on disk, to keep the outputs off them. */
function inputRefs(inputs: readonly IngestInput[]): InputRef[] {
  return inputs.flatMap((input): InputRef[] => {
    if ('path' in input) return input.path === '-' ? [{ fd: 0 }] : [{ path: input.path }];
    if (!('stream' in input)) return [];
    if (input.stream === process.stdin) return [{ fd: 0 }];
    const { path, fd } = input.stream as { path?: unknown; fd?: unknown };
    if (typeof path === 'string') return [{ path }];
    return typeof fd === 'number' ? [{ fd }] : [];
  });
}

const nameOf = (input: IngestInput) => ('path' in input ? input.path : (input.name ?? '-'));

function coordinateMapping(opts: IngestOptions, source: Source): CoordinateMapping {
  const c = opts.coords ?? {};
  if (c.lat !== undefined || c.lon !== undefined) {
    if (c.lat === undefined || c.lon === undefined) {
      throw new OctaError('INVALID_ARGUMENT', 'geodetic input needs both --lat and --lon');
    }
    if (c.height !== undefined && c.depthKm !== undefined) {
      throw new OctaError('INVALID_ARGUMENT', 'give --height or --depth-km, not both');
    }
    return { kind: 'geodetic', lat: c.lat, lon: c.lon, height: c.height, depthKm: c.depthKm };
  }
  const names = new Set(source.columns.map((s) => s.name));
  const pick = (given: string | undefined, axis: string) =>
    given ?? (names.has(axis) ? axis : names.has(axis.toUpperCase()) ? axis.toUpperCase() : axis);
  return { kind: 'xyz', x: pick(c.x, 'x'), y: pick(c.y, 'y'), z: pick(c.z, 'z') };
}

function timeMapping(opts: IngestOptions, source: Source, name: string): TimeMapping {
  if (opts.time !== undefined && opts.timeValue !== undefined) {
    throw new OctaError('INVALID_ARGUMENT', 'give --time or --time-value, not both');
  }
  if (opts.timeValue !== undefined) {
    const time = parseIsoTime(opts.timeValue);
    const problem =
      time === null ? 'not an ISO 8601 time' : typeof time === 'string' ? time : lakeTimeProblem(time);
    if (time === null || typeof time === 'string' || problem !== null) {
      throw new OctaError('INVALID_ARGUMENT', `--time-value: ${problem}`, opts.timeValue);
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
        `${name}: the LAS header's creation day of year ${dayOfYear} is not a day of ${year} (1-${leap ? 366 : 365}); give the time with --time-value`,
        { field: 'creation day of year', year, dayOfYear },
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
      ? `no event time: ${name} has no creation date in its header; give --time-value (or --time with a column)`
      : `no event time: ${name} has no column time, t or timestamp; name one with --time or give --time-value`,
    name,
  );
}

function requireColumns(source: Source, name: string, columns: string[]): void {
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

function autoFrame(sources: Prepared[], coords: CoordinateMapping, frameId: number): Frame {
  if (coords.kind === 'geodetic') return parseFrameSpec('ecef', { id: frameId });
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const p of sources) {
    const h = p.source.lasHeader;
    if (!h) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        `--frame auto reads bounds from a LAS/LAZ header; ${p.name} has none: give --frame cartesian:X0,Y0,Z0,EDGE`,
        p.name,
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

function sameFrame(a: Frame, b: Frame): boolean {
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
function batchIds(
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
function hasTypedTime(plan: ConversionPlan, source: Source): boolean {
  const { time } = plan;
  return (
    time.kind === 'column' && source.columns.some((c) => c.name === time.column && c.type === 'timestamp_us')
  );
}

/**
 * Feeds a stream's converted rows to its digest: the stored values (not the parsed text), so the
 * same rows give the same batch id however the reader was asked to parse them.
 */
function digestRows(
  h: ReturnType<typeof createHash>,
  rows: ConvertedRows,
  rejected: readonly RowReject[],
): void {
  const bytes = (a: ArrayBufferView) => h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  h.update(`${rows.rows}:${rejected.map((r) => r.row).join(',')};`);
  for (const a of [rows.rowNumbers, rows.cell, rows.x, rows.y, rows.z]) bytes(a);
  // Times as the doubles earlier versions digested (so a stream committed by them is known), and
  // their exact words too when a double cannot hold one.
  const words = new Int32Array(rows.timeUs.buffer, rows.timeUs.byteOffset, 2 * rows.rows);
  const doubles = new Float64Array(rows.rows);
  let inexact = false;
  for (let i = 0; i < rows.rows; i++) {
    const hi = words[2 * i + 1]!;
    doubles[i] = hi * 4294967296 + (words[2 * i]! >>> 0);
    if (hi >= 2097152 || hi < -2097152) inexact = true;
  }
  bytes(doubles);
  if (inexact) bytes(rows.timeUs);
  for (const name of Object.keys(rows.payload).sort()) {
    const c = rows.payload[name]!;
    h.update(name);
    if (c.type === 'utf8') h.update(JSON.stringify(c.values));
    else {
      bytes(c.values);
      bytes(c.valid);
    }
  }
}

/**
 * Ingests the inputs into the table.
 * @returns counts of rows read, committed and rejected, files and partitions written
 * @throws {OctaError} for structural problems (before anything is written) and when rejects exceed `maxRejects`
 */
export async function ingest(opts: IngestOptions): Promise<IngestSummary> {
  const { storage, table, force = false, maxRejects = 1000 } = opts;
  validateName('table', table);
  checkInt(maxRejects, 0, Number.MAX_SAFE_INTEGER, 'INVALID_ARGUMENT', 'maxRejects');
  for (const [what, value] of [
    ['fileRows', opts.fileRows],
    ['memoryBytes', opts.memoryBytes],
    ['rowGroupSize', opts.rowGroupSize],
    ['chunkRows', opts.chunkRows],
  ] as const) {
    if (value !== undefined) checkInt(value, 1, Number.MAX_SAFE_INTEGER, 'INVALID_ARGUMENT', what);
  }
  if (opts.inputs.length === 0)
    throw new OctaError('INVALID_ARGUMENT', 'no input: name files, or - for stdin');
  if (typeof opts.rejectFile === 'string') {
    // Before anything is read: a reject file that is an input would be truncated while it is read.
    checkOutputFile({
      path: opts.rejectFile,
      option: 'the reject file',
      inputs: inputRefs(opts.inputs),
      ...(storage instanceof LocalStorage ? { lake: storage.root } : {}),
      lakeFolder: '_rejects',
      createParents: true,
    });
  }
  const catalog = await EmbeddedCatalog.open({ storage });
  const snap = await catalog.snapshot();
  const existing = snap.tables.get(table);
  if (existing === undefined) checkNewTableName(table);

  const prepared: Prepared[] = [];
  // The run's writer lease, taken before it writes its first file and released when it is done.
  const leases: WriterLease[] = [];
  try {
    for (const input of opts.inputs) {
      const name = nameOf(input);
      const source =
        'source' in input
          ? input.source
          : 'path' in input && input.path !== '-'
            ? await openFileSource(input.path, opts.format)
            : await openSource({
                stream: 'stream' in input ? input.stream : process.stdin,
                ...(opts.format ? { format: opts.format } : {}),
              });
      const identity =
        source.identity.kind === 'file'
          ? JSON.stringify({
              path: realpathSync(source.identity.path),
              size: source.identity.size,
              mtimeMs: source.identity.mtimeMs,
            })
          : null;
      prepared.push({ input, name, source, identity });
    }
    return await run(
      opts,
      catalog,
      existing?.config,
      existing?.batches ?? new Set(),
      prepared,
      force,
      maxRejects,
      leases,
    );
  } finally {
    for (const lease of leases) await lease.release();
    for (const p of prepared) await p.source.close();
  }
}

async function run(
  opts: IngestOptions,
  catalog: EmbeddedCatalog,
  existing: TableConfig | undefined,
  committedBatches: ReadonlySet<string>,
  prepared: Prepared[],
  force: boolean,
  maxRejects: number,
  leases: WriterLease[],
): Promise<IngestSummary> {
  const first = prepared[0]!.source;
  const coords = coordinateMapping(opts, first);
  const time = timeMapping(opts, first, prepared[0]!.name);

  // Frame and LOD: a table remembers them; a different one is refused before anything is written.
  const frameId = opts.frameId ?? existing?.frame.id ?? 0;
  let frame: Frame;
  if (opts.frame === undefined || opts.frame === '') {
    frame =
      existing?.frame ??
      (coords.kind === 'geodetic' || first.lasHeader ? autoFrame(prepared, coords, frameId) : missingFrame());
  } else if (opts.frame === 'auto') frame = existing?.frame ?? autoFrame(prepared, coords, frameId);
  else frame = parseFrameSpec(opts.frame, { id: frameId });
  const lod = opts.lod ?? existing?.lod ?? 15;
  const timeBucket = opts.timeBucket ?? existing?.timeBucket ?? 'day';
  const idKind = opts.idKind ?? existing?.idKind ?? 'index64';
  if (existing) {
    const diffs: string[] = [];
    if (!sameFrame(existing.frame, frame))
      diffs.push(`frame ${frameToJSON(frame)} (the table has ${frameToJSON(existing.frame)})`);
    if (existing.lod !== lod) diffs.push(`LOD ${lod} (the table has ${existing.lod})`);
    if (existing.idKind !== idKind) diffs.push(`id kind ${idKind} (the table has ${existing.idKind})`);
    if (existing.timeBucket !== timeBucket)
      diffs.push(`time bucket ${timeBucket} (the table has ${existing.timeBucket})`);
    if (diffs.length > 0) {
      throw new OctaError(
        'CONFLICT',
        `table ${existing.name} was created with another layout: refused ${diffs.join('; ')}`,
        existing.name,
      );
    }
  }

  // Columns: the mapped ones must exist in every source; the rest become payload.
  const consumed = new Set<string>(coords.kind === 'xyz' ? [coords.x, coords.y, coords.z] : []);
  if (time.kind === 'column') consumed.add(time.column);
  const exclude = new Set(opts.exclude ?? []);
  // An NDJSON input's columns are the keys of its first line, and a key that first appears later
  // rejects its line unless it is excluded: with an NDJSON input, any name may be excluded.
  const anyNdjson = prepared.some((p) => p.source.format === 'ndjson');
  const unknown = [...exclude].filter(
    (name) => !anyNdjson && !prepared.some((p) => p.source.columns.some((c) => c.name === name)),
  );
  if (unknown.length > 0) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `--exclude names no input column: ${unknown.map((u) => JSON.stringify(u)).join(', ')}`,
      unknown,
    );
  }
  for (const p of prepared) {
    const needed = coordinateColumns(coords);
    if (time.kind === 'column') needed.push(time.column);
    requireColumns(p.source, p.name, needed);
  }
  const payloadSources = first.columns.filter((c) => !consumed.has(c.name) && !exclude.has(c.name));
  // Column names are the input's: two that differ only in case (the lake compares names as SQL
  // does, case-insensitively) are a fault of the data, as a name used twice in a CSV header is.
  const folded = new Map<string, string>();
  for (const c of payloadSources) {
    const other = folded.get(c.name.toLowerCase());
    if (other !== undefined) {
      throw new OctaError(
        'INVALID_INPUT',
        `${prepared[0]!.name}: columns "${other}" and "${c.name}" differ only in case, and the lake's column names ignore case; rename one, or leave one out with --exclude`,
        c.name,
      );
    }
    folded.set(c.name.toLowerCase(), c.name);
  }
  const reserved = payloadSources.filter((c) => RESERVED_COLUMN_NAMES.includes(c.name.toLowerCase()));
  if (reserved.length > 0) {
    throw new OctaError(
      'SCHEMA_MISMATCH',
      `input columns ${reserved.map((c) => JSON.stringify(c.name)).join(', ')} collide with the lake's own columns (${RESERVED_COLUMN_NAMES.join(', ')}): map them or leave them out with --exclude`,
      reserved.map((c) => c.name),
    );
  }

  // Types: every column read is decoded exactly and every payload column kept as its own type, or
  // the ingest is refused here, before anything is read.
  const mapped = new Set<string>(coordinateColumns(coords));
  if (time.kind === 'column') mapped.add(time.column);
  const readColumns = (source: Source) =>
    source.columns.filter((c) => mapped.has(c.name) || !exclude.has(c.name)).map((c) => c.name);
  for (const p of prepared) {
    checkInputColumns({
      name: p.name,
      columns: p.source.columns,
      read: new Set(readColumns(p.source)),
      payload: new Set(
        p.source.columns.filter((c) => !consumed.has(c.name) && !exclude.has(c.name)).map((c) => c.name),
      ),
      mapped,
      ...(existing ? { table: existing.payload } : {}),
    });
  }

  const chunkRows = boundedChunkRows(
    opts.chunkRows ?? DEFAULT_CHUNK_ROWS,
    Math.max(...prepared.map((p) => p.source.columns.length)),
    opts.memoryBytes ?? DEFAULT_MEMORY_BYTES,
  );
  const ignoreKeys = [...exclude];
  // Text sources parse the coordinate columns straight into doubles; times stay text, read exactly.
  const numeric = coordinateColumns(coords);
  const firstInput = prepared[0]!.input;
  const textFile =
    (first.format === 'csv' || first.format === 'ndjson') &&
    'path' in firstInput &&
    firstInput.path !== '-' &&
    isRegularFile(firstInput.path);
  let payload: PayloadColumn[];
  let peek: IteratorResult<SourceChunk> | undefined;
  let firstChunks: AsyncIterator<SourceChunk> | undefined;
  if (existing) {
    const known = new Map(existing.payload.map((c) => [c.name, c]));
    const extra = payloadSources.filter((c) => !known.has(c.name));
    if (extra.length > 0) {
      throw new OctaError(
        'SCHEMA_MISMATCH',
        `table ${existing.name} has no column ${extra.map((c) => JSON.stringify(c.name)).join(', ')}: leave them out with --exclude`,
        extra.map((c) => c.name),
      );
    }
    payload = [...existing.payload];
  } else {
    // Payload types come from the first chunk. A text file is sampled through a second reader, so
    // the real read can parse the numeric payload columns straight into doubles too; a stream
    // cannot be read twice, so its first chunk is kept and its payload parsed from text.
    let sample: SourceChunk | undefined;
    if (textFile) {
      const sampler = await openSource({ path: firstInput.path, format: first.format as SourceFormat });
      try {
        const it = sampler.chunks({ chunkRows, numeric, ignoreKeys })[Symbol.asyncIterator]();
        const r = await it.next();
        sample = r.done ? undefined : r.value;
      } finally {
        await sampler.close();
      }
    } else {
      firstChunks = first
        .chunks({ chunkRows, numeric, ignoreKeys, columns: readColumns(first) })
        [Symbol.asyncIterator]();
      peek = await firstChunks.next();
      sample = peek.done ? undefined : peek.value;
    }
    payload = payloadSources.map((c) => ({
      name: c.name,
      type:
        mapped.has(c.name) && c.type === 'wide_decimal'
          ? 'float64'
          : inferPayloadType(c, sample?.columns[c.name]),
    }));
  }
  const chunkOptions = {
    chunkRows,
    numeric: [
      ...numeric,
      ...payload
        .filter((c) => (c.type === 'float64' || c.type === 'int32') && !exclude.has(c.name))
        .map((c) => c.name),
    ],
  };
  const optionsFor = (source: Source) => {
    const names = new Set(source.columns.map((c) => c.name));
    return {
      chunkRows,
      columns: readColumns(source),
      numeric: chunkOptions.numeric.filter((name) => names.has(name)),
      ignoreKeys,
    };
  };
  firstChunks ??= first.chunks(optionsFor(first))[Symbol.asyncIterator]();
  peek ??= await firstChunks.next();
  // Every input must fit the table: a column of a later input that the table lacks is refused
  // too, not silently dropped.
  const tableColumns = new Set(payload.map((c) => c.name));
  for (const p of prepared) {
    const extra = p.source.columns.filter(
      (c) => !consumed.has(c.name) && !exclude.has(c.name) && !tableColumns.has(c.name),
    );
    if (extra.length > 0) {
      throw new OctaError(
        'SCHEMA_MISMATCH',
        `table ${opts.table} has no column ${extra.map((c) => JSON.stringify(c.name)).join(', ')} of ${p.name}${existing ? '' : ` (a new table takes its columns from the first input, ${prepared[0]!.name})`}: leave them out with --exclude`,
        extra.map((c) => c.name),
      );
    }
  }
  const schema = createPointSchema({ payload });
  const plan: ConversionPlan = {
    frame,
    lod,
    coords,
    time,
    // Each input's own column of that name, when it has one (a chunk without it gives nulls).
    payload: payload.map((c) => ({ ...c, ...(exclude.has(c.name) ? {} : { source: c.name }) })),
  };
  const config: TableConfig = existing ?? {
    name: opts.table,
    frame,
    lod,
    idKind,
    timeBucket,
    payload,
    splits: [],
    createdAt: new Date().toISOString(),
  };
  const writerId = randomBytes(4).toString('hex');
  // Vacuum keeps the files of a live lease, whatever its grace, until this run is done.
  leases.push(await WriterLease.acquire(opts.storage, writerId, 'ingest'));
  const writer = PartitionWriter.create({
    storage: opts.storage,
    table: {
      name: config.name,
      frame,
      lod,
      idKind,
      timeBucket,
      schema,
      splits: config.splits.map(BigInt),
    },
    writer: writerId,
    ...(opts.fileRows === undefined ? {} : { fileRows: opts.fileRows }),
    ...(opts.memoryBytes === undefined ? {} : { memoryBytes: opts.memoryBytes }),
    ...(opts.rowGroupSize === undefined ? {} : { rowGroupSize: opts.rowGroupSize }),
    ...(opts.metrics === undefined ? {} : { onFile: fileMetrics(opts.metrics) }),
  });
  const rejects = RejectSink.create({ path: opts.rejectFile ?? null });
  const summary: IngestSummary = {
    rows_read: 0,
    rows_committed: 0,
    rows_rejected: 0,
    files: 0,
    partitions: 0,
    batches_skipped: 0,
    version: null,
    reject_file: null,
  };
  const batches: string[] = [];
  const batchRows = new Map<string, number>();
  try {
    for (const [index, p] of prepared.entries()) {
      const typed = hasTypedTime(plan, p.source);
      const ids = p.identity === null ? null : batchIds(plan, config.name, p.identity, force, typed);
      const known = ids?.[0] ?? null;
      // Committed before (under any equivalent spelling), or named twice in this run (also
      // through a link): read it once.
      if (ids !== null && (ids.some((id) => committedBatches.has(id)) || batches.includes(known!))) {
        summary.batches_skipped++;
        continue;
      }
      const digest = createHash('sha256');
      const firstFile = writer.files.length;
      let rows = 0;
      const chunks: AsyncIterator<SourceChunk> =
        index === 0 ? firstChunks : p.source.chunks(optionsFor(p.source))[Symbol.asyncIterator]();
      let next = index === 0 ? peek : await chunks.next();
      let sourceBytes = 0;
      while (!next.done) {
        const chunk = next.value;
        summary.rows_read += chunk.rows + chunk.rejects.length;
        const { rows: converted, rejects: bad } = convertChunk(plan, chunk);
        if (idKind === 'hilbert64') index64ToHilbert64Batch(converted.cell);
        if (known === null) digestRows(digest, converted, bad);
        await rejects.add(p.name, bad);
        summary.rows_rejected += bad.length;
        opts.metrics?.inc(
          'octa_ingest_rows_read_total',
          'Input rows read, rejected ones included',
          chunk.rows + chunk.rejects.length,
        );
        opts.metrics?.inc(
          'octa_ingest_rows_rejected_total',
          'Input rows sent to the reject file',
          bad.length,
        );
        if (chunk.position.bytes !== undefined) {
          opts.metrics?.inc(
            'octa_ingest_bytes_read_total',
            'Input bytes read',
            chunk.position.bytes - sourceBytes,
          );
          sourceBytes = chunk.position.bytes;
        }
        if (summary.rows_rejected > maxRejects) {
          throw new OctaError(
            'INVALID_INPUT',
            `${summary.rows_rejected} rows rejected, more than --max-rejects ${maxRejects}; nothing was committed${rejects.path ? ` (reasons in ${rejects.path})` : ''}`,
            summary.rows_rejected,
          );
        }
        rows += converted.rows;
        await writer.add(converted);
        opts.onProgress?.({
          source: p.name,
          rowsRead: summary.rows_read,
          rowsRejected: summary.rows_rejected,
          files: writer.files.length,
          ...(chunk.position.bytes === undefined ? {} : { bytes: chunk.position.bytes }),
          ...(p.source.identity.kind === 'file' ? { size: p.source.identity.size } : {}),
        });
        checkAborted(opts.signal);
        next = await chunks.next();
      }
      // A stream's rows committed under an equivalent spelling keep that id, so the commit skips them.
      const streamIds =
        known === null ? batchIds(plan, config.name, `stream:${digest.digest('hex')}`, force, typed) : [];
      const id = known ?? streamIds.find((s) => committedBatches.has(s)) ?? streamIds[0]!;
      await writer.flushAll();
      // Every file written while this source was read belongs to its batch (a stream's id is only
      // known at its end, after the memory cap may already have flushed some of its files).
      for (const f of writer.files.slice(firstFile)) f.batch = id;
      batches.push(id);
      batchRows.set(id, rows);
    }
    checkAborted(opts.signal);
    // Rejects that could not all be written fail the run, as any other failure before the commit.
    await rejects.close();
  } catch (err) {
    await rejects.close().catch(() => {});
    await writer.close();
    // Nothing is committed; remove what this run wrote (a crash leaves them for vacuum instead).
    await Promise.allSettled(writer.files.map((f) => opts.storage.delete(f.key)));
    throw err;
  }
  await writer.close();
  summary.reject_file = rejects.count > 0 ? rejects.path : null;
  const files = writer.files;
  const actions = [
    ...(existing ? [] : [{ op: 'create_table' as const, config }]),
    ...files.map((file) => ({ op: 'add' as const, file })),
  ];
  // An input without a row to store (a header-only CSV, every row rejected) commits nothing: it
  // neither creates the table (whose payload types it could only guess) nor records its batch.
  const stored = batches.filter((id) => files.some((f) => f.batch === id));
  if (stored.length === 0) return summary;
  let result: Awaited<ReturnType<EmbeddedCatalog['commit']>>;
  const commitStart = performance.now();
  try {
    // Every file must still be there: a commit naming a vanished file would break the table.
    await checkWrittenFiles(opts.storage, files);
    result = await catalog.commit({ operation: 'ingest', writer: writerId, batches: stored, actions });
    opts.metrics?.observe(
      'octa_ingest_commit_seconds',
      'Catalog commit latency',
      (performance.now() - commitStart) / 1000,
    );
    opts.metrics?.inc(
      'octa_ingest_commit_retries_total',
      'Catalog versions lost to other writers and retried',
      result.attempts - 1,
    );
  } catch (err) {
    // A refused commit (a concurrent writer created the table with other settings, a file that
    // vanished) leaves no files.
    await Promise.allSettled(files.map((f) => opts.storage.delete(f.key)));
    throw err;
  }
  const skipped = new Set(result.skippedBatches);
  summary.batches_skipped += skipped.size;
  const kept = files.filter((f) => !skipped.has(f.batch));
  await Promise.allSettled(files.filter((f) => skipped.has(f.batch)).map((f) => opts.storage.delete(f.key)));
  summary.version = result.committed ? result.version : null;
  summary.files = kept.length;
  summary.partitions = new Set(kept.map((f) => `${f.t}/${f.r}`)).size;
  summary.rows_committed = kept.reduce((n, f) => n + f.rows, 0);
  opts.metrics?.inc(
    'octa_ingest_rows_committed_total',
    'Rows made visible by the commit',
    summary.rows_committed,
  );
  opts.metrics?.inc(
    'octa_ingest_files_committed_total',
    'Data files made visible by the commit',
    summary.files,
  );
  opts.metrics?.inc(
    'octa_ingest_batches_skipped_total',
    'Input batches already committed before',
    skipped.size,
  );
  return summary;
}

/** Per written file: count, bytes and the seconds from flush to stored. */
function fileMetrics(metrics: Metrics): (file: FileRecord, seconds: number) => void {
  return (file, seconds) => {
    metrics.inc('octa_ingest_files_written_total', 'Data files written (committed or not)');
    metrics.inc('octa_ingest_bytes_written_total', 'Parquet bytes written', file.bytes);
    metrics.observe('octa_ingest_file_write_seconds', 'Sort, encode and store time per data file', seconds);
  };
}

function missingFrame(): never {
  throw new OctaError(
    'INVALID_FRAME',
    'no frame for a new table: give --frame (ecef, enu:LAT,LON,H,EDGE, cartesian:X0,Y0,Z0,EDGE or auto)',
  );
}
