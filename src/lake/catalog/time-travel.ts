/**
 * Time travel: the catalog as it was at a past version, chosen by number or by commit time
 * (`openLake({ asOf })`, `octa sql --as-of`), and refused when `vacuum` has deleted files that
 * version lists, so that no query of it fails half way on a missing file.
 *
 * Readable versions: a version lists files that later commits may have superseded; `vacuum` deletes
 * a superseded file once its grace period has passed since the removing commit, then `forget`s it.
 * Against the latest state, each of the version's files is therefore live (never deleted), still
 * recorded as superseded (its bytes are there until a vacuum deletes them: checked with one `stat`
 * each), or neither (forgotten, so deleted; or superseded before the catalog recorded removals, so
 * an orphan to vacuum): the version is readable when none is gone. The check costs the set
 * difference of the two states and a `stat` per file superseded since the version but not yet
 * forgotten; the log is read only to name the oldest readable version when refusing (below).
 */
import { isoToMicros } from '../../export/event-time.js';
import { OctaError } from '../../lattice/errors.js';
import type { EmbeddedCatalog } from './catalog.js';
import type { CatalogSnapshot, CommitEntry, FileRecord } from './catalog-state.js';

/**
 * A past state of the lake: a version number (0, the empty lake, to the latest; a string of digits
 * counts as a number), or a time, an ISO 8601 text with a zone, a bare date meaning UTC midnight,
 * or a `Date`, meaning the latest version committed at or before it.
 */
export type AsOf = number | string | Date;

/** An {@link AsOf} checked: a version number, or a time in µs since the epoch. */
type AsOfPoint = { version: number } | { micros: bigint; text: string };

const DATE_ONLY = /^\d{4}-\d\d-\d\d$/;

/**
 * Checks the form of an `asOf` (not yet whether the version exists).
 * @throws {OctaError} INVALID_ARGUMENT for anything but a non-negative integer, a string of digits,
 *   an ISO 8601 time with a zone, a date, or a valid `Date`
 */
export function checkAsOf(asOf: AsOf): AsOfPoint {
  const digits = typeof asOf === 'string' && /^\d+$/.test(asOf);
  if (typeof asOf === 'number' || digits) {
    const version = Number(asOf);
    if (Number.isSafeInteger(version) && version >= 0) return { version };
  } else if (asOf instanceof Date) {
    const ms = asOf.getTime();
    if (Number.isFinite(ms)) return { micros: BigInt(ms) * 1000n, text: asOf.toISOString() };
  } else if (typeof asOf === 'string') {
    try {
      return { micros: isoToMicros(DATE_ONLY.test(asOf) ? `${asOf}T00:00:00Z` : asOf), text: asOf };
    } catch {
      // Refused below with the forms that are accepted.
    }
  }
  throw new OctaError(
    'INVALID_ARGUMENT',
    '`asOf` must be a version number (0 to the latest) or a time: ISO 8601 with a zone (2026-06-03T12:00:00Z) or a date (2026-06-03, UTC midnight)',
    asOf instanceof Date ? String(asOf) : asOf,
    { params: ['asOf'] },
  );
}

/**
 * Visits log entries newest first, from `to` down to `from`, reading 16 at a time, until `visit`
 * returns true.
 * @returns the entry `visit` stopped at, or undefined
 */
async function findBackwards(
  catalog: EmbeddedCatalog,
  from: number,
  to: number,
  visit: (entry: CommitEntry) => boolean,
): Promise<CommitEntry | undefined> {
  for (let hi = to; hi >= from; hi -= 16) {
    const entries = await catalog.entries(Math.max(from, hi - 15), hi);
    for (let i = entries.length - 1; i >= 0; i--) if (visit(entries[i]!)) return entries[i];
  }
  return undefined;
}

/**
 * The version an `asOf` names. A time resolves to the highest version whose commit timestamp is at
 * or before it. Timestamps come from the writers' clocks and need not rise with the version (a
 * machine whose clock is behind): the log is scanned from the latest entry backwards to the first
 * one at or before the time, so a version whose clock ran ahead never hides an older-stamped
 * commit after it. The scan reads the entries committed after the time, 16 at a time.
 */
async function versionOf(catalog: EmbeddedCatalog, point: AsOfPoint, latest: number): Promise<number> {
  if ('version' in point) {
    if (point.version <= latest) return point.version;
    throw new OctaError(
      'NOT_FOUND',
      `the lake has no version ${point.version}: the latest is ${latest}`,
      point.version,
    );
  }
  const found = await findBackwards(catalog, 1, latest, (e) => isoToMicros(e.timestamp) <= point.micros);
  if (found !== undefined) return found.version;
  const first =
    latest === 0
      ? 'the lake has no commit yet'
      : `the first commit is at ${(await catalog.entries(1, 1))[0]!.timestamp}`;
  throw new OctaError(
    'NOT_FOUND',
    `no version was committed at or before ${point.text}: ${first}`,
    point.text,
  );
}

/** `stat` of many keys, 16 at a time: the keys that are not on storage. */
async function missingKeys(catalog: EmbeddedCatalog, files: readonly FileRecord[]): Promise<Set<string>> {
  const missing = new Set<string>();
  for (let i = 0; i < files.length; i += 16) {
    const found = await Promise.all(files.slice(i, i + 16).map((f) => catalog.storage.stat(f.key)));
    found.forEach((entry, j) => {
      if (entry === null) missing.add(files[i + j]!.key);
    });
  }
  return missing;
}

/**
 * Throws when `vacuum` has deleted files that `past` lists (see the module comment). The oldest
 * readable version named is the newest commit that removed a gone file: every later version lists
 * no file gone by the catalog's record. It is found by reading the log backwards from the latest
 * entry, which ends after the version asked for, since each of its gone files was removed after it.
 * @throws {OctaError} NOT_FOUND with the version and the oldest readable one
 */
async function checkReadable(
  catalog: EmbeddedCatalog,
  past: CatalogSnapshot,
  latest: CatalogSnapshot,
): Promise<void> {
  const forgotten: FileRecord[] = [];
  const superseded: FileRecord[] = [];
  for (const [name, state] of past.tables) {
    const now = latest.tables.get(name);
    for (const [key, file] of state.files) {
      if (now?.files.has(key)) continue;
      if (now?.removed.has(key)) superseded.push(file);
      else forgotten.push(file);
    }
  }
  // A vacuum deletes before it forgets (and may have stopped in between): superseded files are stat'ed.
  const missing = await missingKeys(catalog, superseded);
  const gone = [...forgotten, ...superseded.filter((f) => missing.has(f.key))];
  if (gone.length === 0) return;
  const isGone = (table: string, key: string) => {
    const now = latest.tables.get(table);
    return !now?.files.has(key) && (!now?.removed.has(key) || missing.has(key));
  };
  const newest = await findBackwards(catalog, past.version + 1, latest.version, (e) =>
    e.actions.some((a) => a.op === 'remove' && isGone(a.table, a.key)),
  );
  const oldestReadable = newest?.version ?? latest.version;
  throw new OctaError(
    'NOT_FOUND',
    `version ${past.version} is no longer readable: vacuum deleted ${gone.length} of the files it lists (${gone[0]!.key}${gone.length > 1 ? ', …' : ''}), superseded since; the oldest version still readable is ${oldestReadable} (versions ${oldestReadable} to ${latest.version}). Vacuum keeps superseded files for its grace period, which is how far back time travel reaches`,
    { version: past.version, oldestReadable },
  );
}

/**
 * The catalog as it was at `asOf`, checked to be readable.
 * @param catalog - an open catalog session
 * @param asOf - a version or a time (see {@link AsOf})
 * @returns the snapshot of that version
 * @throws {OctaError} INVALID_ARGUMENT for a malformed `asOf`; NOT_FOUND for a version past the
 *   latest, a time before the first commit, or a version whose files vacuum has deleted (the value
 *   `{ version, oldestReadable }`); CORRUPT or IO_ERROR from the catalog
 */
export async function snapshotAsOf(catalog: EmbeddedCatalog, asOf: AsOf): Promise<CatalogSnapshot> {
  const point = checkAsOf(asOf);
  const latest = await catalog.snapshot();
  const past = await catalog.snapshotAt(await versionOf(catalog, point, latest.version));
  await checkReadable(catalog, past, latest);
  return past;
}
