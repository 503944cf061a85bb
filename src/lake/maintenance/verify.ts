// Over 400 lines: one pass that collects every problem of a lake (catalog, files, leftovers) into one
// report; cutting the catalog checks from the file checks is issue 15 item 5 work.
/**
 * `verify`: checks a lake end to end and collects every problem instead of stopping at the first.
 * - The catalog: every log entry from version 1 is present and decodes, the entries replay, every
 *   checkpoint matches the replayed state at its version, and the state readers open (newest
 *   checkpoint plus the entries after it) equals the full replay.
 * - Every committed file: it exists, its size and SHA-256 match the record, its Parquet footer reads,
 *   and the footer's row count, cell and time ranges, LOD, id kind and frame match the record and the
 *   table; the row groups add up to the file's rows; its time range lies within its `t=` bucket and
 *   within the years the lake stores (0000–9999).
 * - Storage: data files no committed state lists are reported as warnings (orphans, and superseded
 *   files that vacuum has not deleted yet), as are files holding rows outside their `r=` range.
 * - The Delta Lake and Iceberg views (`verify-views.ts`): each lists exactly the files of the catalog
 *   version it reflects, with the same statistics; a view behind the catalog is a warning.
 * Errors make the report fail; warnings do not.
 */
import { createHash } from 'node:crypto';
import {
  isoToMicros,
  LAKE_FIRST_MICROS,
  LAKE_LAST_MICROS,
  microsToIso,
  microsToTime,
} from '../../export/event-time.js';
import { type ParquetFileInfo, readParquetMetadata } from '../../export/parquet.js';
import { OctaError } from '../../lattice/errors.js';
import { frameFromJSON, frameToJSON } from '../../lattice/frame.js';
import {
  type CatalogSnapshot,
  CHECKPOINT_PREFIX,
  type CommitEntry,
  decodeCheckpoint,
  decodeEntry,
  EmbeddedCatalog,
  emptySnapshot,
  type FileRecord,
  keyToVersion,
  LOG_PREFIX,
  logKey,
  replay,
  type TableConfig,
} from '../catalog/catalog.js';
import {
  bucketIndexOfSeconds,
  bucketLabel,
  parseBucketLabel,
  parseDataFileKey,
  type TimeBucket,
} from '../catalog/layout.js';
import type { Storage } from '../storage/storage.js';
import { isMisrouted } from './files.js';
import { checkViews, type ViewProblem } from './verify-views.js';

/** What went wrong, by kind. */
export type VerifyCode =
  | 'CATALOG_UNREADABLE'
  | 'LOG_MISSING'
  | 'LOG_CORRUPT'
  | 'CHECKPOINT_DAMAGED'
  | 'CHECKPOINT_MISMATCH'
  | 'CATALOG_MISMATCH'
  | 'MISSING'
  | 'SIZE_MISMATCH'
  | 'CHECKSUM_MISMATCH'
  | 'FOOTER_UNREADABLE'
  | 'ROWS_MISMATCH'
  | 'STATS_MISMATCH'
  | 'FOOTER_MISMATCH'
  | 'TIME_OUTSIDE_BUCKET'
  | 'MISROUTED'
  | 'ORPHAN'
  | 'SUPERSEDED'
  | ViewProblem['code'];

/** One problem: `file` is the storage key it concerns (a data file, log entry or checkpoint), if any. */
export interface VerifyProblem {
  severity: 'error' | 'warning';
  code: VerifyCode;
  file: string | null;
  detail: string;
}

/** What verify found. */
export interface VerifyReport {
  /** No errors (warnings allowed). */
  ok: boolean;
  /** The catalog version checked, null when the catalog could not be read at all. */
  version: number | null;
  log_entries: number;
  checkpoints: number;
  files_checked: number;
  bytes_checked: number;
  errors: number;
  warnings: number;
  problems: VerifyProblem[];
}

/** Options of {@link verify}. */
export interface VerifyOptions {
  storage: Storage;
  /** Only this table's files (default every table); the catalog is always checked whole. */
  table?: string;
  /** Files checked at once (default 4). */
  concurrency?: number;
  /** Called after each committed file is checked (for progress). */
  onFile?: (checked: number, total: number) => void;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Storage that fails to answer (a network error, S3 still throttling after its retries) says
 * nothing about the lake: verify then fails with that IO_ERROR instead of reporting the file as
 * missing or corrupt.
 */
function rethrowIoError(error: unknown): void {
  if (error instanceof OctaError && error.code === 'IO_ERROR') throw error;
}

/** A snapshot in a comparable form: configs, live file records and batches, per table. */
function canonical(snapshot: CatalogSnapshot): string {
  const tables = [...snapshot.tables.keys()].sort().map((name) => {
    const t = snapshot.tables.get(name)!;
    const files = [...t.files.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
    return { config: t.config, files, batches: [...t.batches].sort() };
  });
  return JSON.stringify({ version: snapshot.version, tables });
}

/** Replays the whole log from version 1, checking every entry and checkpoint on the way. */
async function checkLog(storage: Storage, problems: VerifyProblem[]) {
  const versions = (await storage.list(LOG_PREFIX))
    .map((e) => keyToVersion(e.key, LOG_PREFIX))
    .filter((v): v is number => v !== null);
  const last = versions.length === 0 ? 0 : Math.max(...versions);
  const present = new Set(versions);
  const checkpoints = new Map<number, string>();
  for (const e of await storage.list(CHECKPOINT_PREFIX)) {
    const v = keyToVersion(e.key, CHECKPOINT_PREFIX);
    if (v !== null) checkpoints.set(v, e.key);
  }
  let state: CatalogSnapshot | null = emptySnapshot();
  for (let v = 1; v <= last; v++) {
    const key = logKey(v);
    if (!present.has(v)) {
      problems.push({
        severity: 'error',
        code: 'LOG_MISSING',
        file: key,
        detail: `log entry ${v} of ${last} is missing`,
      });
      state = null;
      continue;
    }
    let entry: CommitEntry;
    try {
      entry = decodeEntry(await storage.read(key), key);
    } catch (error) {
      rethrowIoError(error);
      problems.push({ severity: 'error', code: 'LOG_CORRUPT', file: key, detail: messageOf(error) });
      state = null;
      continue;
    }
    if (state === null) continue;
    try {
      state = replay([entry], state);
    } catch (error) {
      problems.push({ severity: 'error', code: 'LOG_CORRUPT', file: key, detail: messageOf(error) });
      state = null;
    }
    const checkpoint = checkpoints.get(v);
    if (checkpoint !== undefined && state !== null)
      await checkCheckpoint(storage, checkpoint, state, problems);
  }
  for (const [v, key] of checkpoints) {
    if (v > last) {
      problems.push({
        severity: 'warning',
        code: 'CHECKPOINT_DAMAGED',
        file: key,
        detail: `checkpoint of version ${v} is ahead of the log (version ${last}); readers ignore it`,
      });
    }
  }
  return { state, entries: versions.length, checkpoints: checkpoints.size };
}

async function checkCheckpoint(
  storage: Storage,
  key: string,
  state: CatalogSnapshot,
  problems: VerifyProblem[],
): Promise<void> {
  let stored: CatalogSnapshot;
  try {
    stored = decodeCheckpoint(await storage.read(key), key);
  } catch (error) {
    rethrowIoError(error);
    const detail = `${messageOf(error)}; readers skip it and replay the log instead`;
    problems.push({ severity: 'warning', code: 'CHECKPOINT_DAMAGED', file: key, detail });
    return;
  }
  if (canonical(stored) !== canonical(state)) {
    problems.push({
      severity: 'error',
      code: 'CHECKPOINT_MISMATCH',
      file: key,
      detail: `checkpoint differs from the log replayed to version ${state.version}; readers that start from it see another state`,
    });
  }
}

/** A footer time as the catalog writes it, or its µs when no date reaches it (a damaged footer). */
function isoOrMicros(micros: bigint): string {
  try {
    return microsToIso(micros);
  } catch {
    return `${micros} µs`;
  }
}

/** Compares one file's footer with its record and table. */
function checkFooter(
  file: FileRecord,
  config: TableConfig,
  info: ParquetFileInfo,
  problems: VerifyProblem[],
) {
  const problem = (code: VerifyCode, detail: string) =>
    problems.push({ severity: 'error', code, file: file.key, detail });
  const point = info.point;
  if (point === undefined) {
    problem('FOOTER_UNREADABLE', 'the footer has no octa.* keys: not a point file of this lake');
    return;
  }
  if (info.rows !== file.rows || point.rows !== file.rows) {
    problem(
      'ROWS_MISMATCH',
      `catalog records ${file.rows} rows, the footer says ${info.rows} (octa.rows ${point.rows})`,
    );
  }
  const groupRows = info.rowGroups.reduce((n, g) => n + g.rows, 0);
  if (groupRows !== info.rows) {
    problem('FOOTER_MISMATCH', `row groups hold ${groupRows} rows, the footer says ${info.rows}`);
  }
  const stats: [string, string, string][] = [
    ['cell min', file.cellMin, point.cellMin.toString()],
    ['cell max', file.cellMax, point.cellMax.toString()],
    ['time min', file.timeMin, isoOrMicros(point.timeMin)],
    ['time max', file.timeMax, isoOrMicros(point.timeMax)],
  ];
  for (const [what, recorded, footer] of stats) {
    if (recorded !== footer)
      problem('STATS_MISMATCH', `catalog records ${what} ${recorded}, the footer says ${footer}`);
  }
  if (stats[2]![1] !== stats[2]![2] || stats[3]![1] !== stats[3]![2]) {
    // The catalog's range was checked against t already; a footer that says otherwise is checked too.
    const footer = timeBucketProblem(point.timeMin, point.timeMax, file.t, config.timeBucket);
    if (footer !== null) problem('TIME_OUTSIDE_BUCKET', `footer time range ${footer}`);
  }
  const groupCells = info.rowGroups.flatMap((g) => [g.cellMin, g.cellMax]);
  if (groupCells.length > 0 && groupCells.every((c) => c !== undefined)) {
    const cells = groupCells as bigint[];
    let [min, max] = [cells[0]!, cells[0]!];
    for (const c of cells) {
      if (c < min) min = c;
      if (c > max) max = c;
    }
    if (min !== point.cellMin || max !== point.cellMax) {
      problem(
        'STATS_MISMATCH',
        `row group statistics span cells ${min}..${max}, the footer says ${point.cellMin}..${point.cellMax}`,
      );
    }
  }
  if (point.lod !== config.lod)
    problem('FOOTER_MISMATCH', `footer LOD ${point.lod}, the table has ${config.lod}`);
  if (point.idKind !== config.idKind)
    problem('FOOTER_MISMATCH', `footer id kind ${point.idKind}, the table has ${config.idKind}`);
  let frame: string;
  try {
    frame = frameToJSON(frameFromJSON(JSON.stringify(point.frame)));
  } catch (error) {
    frame = `unreadable (${messageOf(error)})`;
  }
  if (frame !== frameToJSON(config.frame)) {
    problem('FOOTER_MISMATCH', `footer frame ${frame}, the table has ${frameToJSON(config.frame)}`);
  }
}

/**
 * Why a file's time range does not fit its `t=` partition (or the years the lake stores), or null.
 * Labels written before years were zero-padded (`t=500-06-15`) name their bucket too.
 */
function timeBucketProblem(min: bigint, max: bigint, t: string, bucket: TimeBucket): string | null {
  if (min < LAKE_FIRST_MICROS || max > LAKE_LAST_MICROS) {
    return 'is outside the times the lake stores (0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z)';
  }
  const label = parseBucketLabel(t, bucket);
  if (label === null) return `t=${t} is not a ${bucket} bucket label`;
  const first = bucketIndexOfSeconds(microsToTime(min).seconds, bucket);
  const last = bucketIndexOfSeconds(microsToTime(max).seconds, bucket);
  if (first !== label || last !== label) {
    return `falls in ${first === last ? `bucket ${bucketLabel(first, bucket)}` : `buckets ${bucketLabel(first, bucket)}..${bucketLabel(last, bucket)}`}, not in its partition t=${t}`;
  }
  return null;
}

/** Checks one committed file against storage and its footer. */
async function checkFile(
  storage: Storage,
  file: FileRecord,
  config: TableConfig,
  problems: VerifyProblem[],
): Promise<number> {
  const problem = (code: VerifyCode, detail: string) =>
    problems.push({ severity: 'error', code, file: file.key, detail });
  const recorded = timeBucketProblem(
    isoToMicros(file.timeMin),
    isoToMicros(file.timeMax),
    file.t,
    config.timeBucket,
  );
  if (recorded !== null) {
    problem('TIME_OUTSIDE_BUCKET', `catalog time range ${file.timeMin}..${file.timeMax} ${recorded}`);
  }
  const entry = await storage.stat(file.key);
  if (entry === null) {
    problem('MISSING', `committed file is missing from ${storage.url}`);
    return 0;
  }
  if (entry.size !== file.bytes)
    problem('SIZE_MISMATCH', `catalog records ${file.bytes} bytes, storage holds ${entry.size}`);
  const bytes = await storage.read(file.key);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== file.sha256)
    problem('CHECKSUM_MISMATCH', `SHA-256 is ${sha256}, the catalog records ${file.sha256}`);
  let info: ParquetFileInfo;
  try {
    info = readParquetMetadata(bytes);
  } catch (error) {
    problem('FOOTER_UNREADABLE', messageOf(error));
    return bytes.length;
  }
  checkFooter(file, config, info, problems);
  if (isMisrouted(file, config.splits.map(BigInt))) {
    problems.push({
      severity: 'warning',
      code: 'MISROUTED',
      file: file.key,
      detail: `cells ${file.cellMin}..${file.cellMax} lie outside range r=${file.r} (queries are unaffected; compact moves the rows)`,
    });
  }
  return bytes.length;
}

/**
 * Verifies a lake: catalog, committed files and storage; see the module comment.
 * @param options - storage, table, concurrency
 * @returns every problem found, errors and warnings
 * @throws {OctaError} NOT_FOUND for a `table` the catalog does not hold; IO_ERROR when storage fails
 *   to answer (cannot list, or a read still fails after the storage's retries); every other failure
 *   is a problem
 */
export async function verify({
  storage,
  table,
  concurrency = 4,
  onFile,
}: VerifyOptions): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const log = await checkLog(storage, problems);
  let snapshot: CatalogSnapshot | null = null;
  let catalog: EmbeddedCatalog | null = null;
  try {
    catalog = await EmbeddedCatalog.open({ storage });
    snapshot = await catalog.snapshot();
  } catch (error) {
    rethrowIoError(error);
    problems.push({ severity: 'error', code: 'CATALOG_UNREADABLE', file: null, detail: messageOf(error) });
  }
  if (snapshot !== null && log.state !== null && canonical(snapshot) !== canonical(log.state)) {
    problems.push({
      severity: 'error',
      code: 'CATALOG_MISMATCH',
      file: null,
      detail: `the state readers open (version ${snapshot.version}) differs from the log replayed from version 1 (version ${log.state.version})`,
    });
  }
  const state = snapshot ?? log.state;
  // A table the catalog lacks would be checked as "no files, no problems": say so instead.
  if (table !== undefined && state !== null && !state.tables.has(table)) {
    const known = [...state.tables.keys()].sort().join(', ') || 'none';
    throw new OctaError('NOT_FOUND', `no such table in the catalog (tables: ${known})`, table);
  }
  const report: VerifyReport = {
    ok: false,
    version: state?.version ?? null,
    log_entries: log.entries,
    checkpoints: log.checkpoints,
    files_checked: 0,
    bytes_checked: 0,
    errors: 0,
    warnings: 0,
    problems,
  };
  if (state !== null) {
    const files: { file: FileRecord; config: TableConfig }[] = [];
    for (const [name, t] of state.tables) {
      if (table !== undefined && name !== table) continue;
      for (const file of t.files.values()) files.push({ file, config: t.config });
    }
    let next = 0;
    const work = async () => {
      while (next < files.length) {
        const { file, config } = files[next++]!;
        try {
          // Await first: `x += await …` would read x before the wait and lose concurrent additions.
          const bytes = await checkFile(storage, file, config, problems);
          report.bytes_checked += bytes;
        } catch (error) {
          rethrowIoError(error);
          problems.push({
            severity: 'error',
            code: 'MISSING',
            file: file.key,
            detail: `cannot read: ${messageOf(error)}`,
          });
        }
        report.files_checked++;
        onFile?.(report.files_checked, files.length);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, work));
    const live = new Set<string>();
    const removed = new Map<string, string>();
    for (const t of state.tables.values()) {
      for (const key of t.files.keys()) live.add(key);
      for (const [key, at] of t.removed) removed.set(key, at);
    }
    for (const entry of await storage.list(table === undefined ? '' : `${table}/`)) {
      if (parseDataFileKey(entry.key) === null || live.has(entry.key)) continue;
      const at = removed.get(entry.key);
      problems.push(
        at === undefined
          ? {
              severity: 'warning',
              code: 'ORPHAN',
              file: entry.key,
              detail: `not committed (modified ${new Date(entry.mtimeMs).toISOString()}); vacuum deletes it after the grace period`,
            }
          : {
              severity: 'warning',
              code: 'SUPERSEDED',
              file: entry.key,
              detail: `removed from the catalog at ${at}; vacuum deletes it after the grace period`,
            },
      );
    }
    if (catalog !== null && snapshot !== null) problems.push(...(await checkViews(catalog, snapshot, table)));
  }
  problems.sort((a, b) =>
    a.severity !== b.severity
      ? a.severity === 'error'
        ? -1
        : 1
      : (a.file ?? '') < (b.file ?? '')
        ? -1
        : (a.file ?? '') > (b.file ?? '')
          ? 1
          : 0,
  );
  report.errors = problems.filter((p) => p.severity === 'error').length;
  report.warnings = problems.length - report.errors;
  report.ok = report.errors === 0;
  return report;
}
