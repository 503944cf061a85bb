/**
 * `vacuum`: deletes data files that no committed state needs any more, once they are older than a
 * grace period (default one hour):
 * - orphans, never committed (a crashed or refused writer's files), aged by their modification time;
 * - superseded files, removed by a commit (compaction, rebalance), aged from that commit's time,
 *   which the catalog records, so a reader that opened an older snapshot less than the grace period
 *   ago still finds every file it lists.
 * A committed file is never deleted: storage is listed first and the catalog read after, so a file
 * committed meanwhile counts as committed, and the state is read again just before deleting.
 *
 * Files of a running writer (ingest, compact, rebalance) are never deleted, whatever the grace: each
 * holds a lease naming its writer id (`writer-lease.ts`), and vacuum keeps every file of a live
 * lease. It reads the leases after listing the files, so a writer that started later has no file in
 * the listing, and reads the catalog again after the leases, so a writer that committed and released
 * its lease in between has its files live. Leases of writers that are gone (expired, or their
 * process on this host ended) are deleted. `grace 0` deletes every other uncommitted file at once.
 *
 * The catalog log is left alone (every entry stays; checkpoints make old entries redundant for
 * readers, but verify and a reader whose checkpoint is damaged replay them). Superseded files that
 * vacuum deleted are dropped from the catalog's record with one `forget` commit.
 */
import { OctaError } from '../../lattice/errors.js';
import {
  type CatalogSnapshot,
  type CommitAction,
  EmbeddedCatalog,
  validateName,
} from '../catalog/catalog.js';
import { parseDataFileKey } from '../catalog/layout.js';
import { tableViews } from '../catalog/publish/views.js';
import { isLeased, readLeases } from '../catalog/writer-lease.js';
import type { Storage, StorageEntry } from '../storage/storage.js';

/** Options of {@link vacuum}. */
export interface VacuumOptions {
  storage: Storage;
  /** Only this table's files (default the whole lake, including tables no commit created). */
  table?: string;
  /** Files younger than this are kept, in ms (default one hour; 0 deletes every uncommitted file now). */
  graceMs?: number;
  /** Report what would be deleted, deleting nothing. */
  dryRun?: boolean;
  /** The current time in ms since the epoch (default now). */
  now?: number;
}

/** One file vacuum deleted (or would delete). */
export interface VacuumedFile {
  key: string;
  reason: 'orphan' | 'superseded';
  bytes: number;
  /** Age in ms: since modification (orphan) or since the commit that removed it (superseded). */
  ageMs: number;
}

/** What a vacuum did. */
export interface VacuumSummary {
  deleted: VacuumedFile[];
  bytes_deleted: number;
  /**
   * Uncommitted or superseded files kept because they are younger than the grace period, or
   * because a running writer holds a lease on them.
   */
  kept: number;
  /** Superseded-file records dropped from the catalog. */
  forgotten: number;
  dry_run: boolean;
  version: number;
  /**
   * Delta Lake and Iceberg metadata files deleted because no view version inside the grace period
   * (the time-travel retention) needs them; none in a dry run.
   */
  metadata_deleted: string[];
  /** Views whose expiry failed (their files stay; the next vacuum tries again). */
  publish_errors: string[];
}

const HOUR_MS = 3_600_000;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS } as const;

/**
 * Parses a duration such as `1h`, `30m`, `45s`, `2d`, `500ms` or `0`.
 * @returns milliseconds
 * @throws {OctaError} INVALID_ARGUMENT for anything else
 */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(String(text).trim());
  // A bare number is only accepted for zero, where the unit does not matter.
  const value = m === null || (m[2] === undefined && Number(m[1]) !== 0) ? Number.NaN : Number(m[1]);
  const ms = value * UNIT_MS[(m?.[2] ?? 'ms') as keyof typeof UNIT_MS];
  if (!Number.isFinite(ms) || ms > Number.MAX_SAFE_INTEGER) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'duration must be a number with a unit: ms, s, m, h or d (e.g. 1h, 30m), or 0',
      text,
    );
  }
  return Math.round(ms);
}

function liveKeys(snapshot: CatalogSnapshot): Set<string> {
  const keys = new Set<string>();
  // Every table's, even with `table` given: a key is only ever under its own table's prefix.
  for (const state of snapshot.tables.values()) for (const key of state.files.keys()) keys.add(key);
  return keys;
}

/** When each superseded file was removed, in ms, by key. */
function removedTimes(
  snapshot: CatalogSnapshot,
  only: string | undefined,
): Map<string, { table: string; at: number }> {
  const out = new Map<string, { table: string; at: number }>();
  for (const [table, state] of snapshot.tables) {
    if (only !== undefined && table !== only) continue;
    for (const [key, at] of state.removed) out.set(key, { table, at: Date.parse(at) });
  }
  return out;
}

/**
 * Deletes orphaned and superseded data files older than the grace period.
 * @param options - storage, grace, dry run; see {@link VacuumOptions}
 * @returns what was deleted and kept
 * @throws {OctaError} INVALID_ARGUMENT for a bad grace or table name; IO_ERROR or CORRUPT from storage or catalog
 */
export async function vacuum({
  storage,
  table,
  graceMs = HOUR_MS,
  dryRun = false,
  now = Date.now(),
}: VacuumOptions): Promise<VacuumSummary> {
  if (!Number.isSafeInteger(graceMs) || graceMs < 0) {
    throw new OctaError('INVALID_ARGUMENT', 'graceMs must be an integer >= 0', graceMs);
  }
  if (table !== undefined) validateName('table', table);
  const catalog = await EmbeddedCatalog.open({ storage });
  // List first, read the catalog after: a file committed in between is seen as committed.
  const listed = (await storage.list(table === undefined ? '' : `${table}/`)).filter(
    (e) => parseDataFileKey(e.key) !== null,
  );
  const snapshot = await catalog.snapshot();
  const live = liveKeys(snapshot);
  const removed = removedTimes(snapshot, table);
  const summary: VacuumSummary = {
    deleted: [],
    bytes_deleted: 0,
    kept: 0,
    forgotten: 0,
    dry_run: dryRun,
    version: snapshot.version,
    metadata_deleted: [],
    publish_errors: [],
  };
  // After the listing (a writer that starts later has no file in it), before the catalog is read
  // again (a writer that commits and releases in between has its files live by then).
  const leases = await readLeases(storage, now);
  const due: StorageEntry[] = [];
  for (const entry of listed) {
    if (live.has(entry.key)) continue;
    const gone = removed.get(entry.key);
    if (gone === undefined && isLeased(entry.key, leases.live)) {
      summary.kept++;
      continue;
    }
    // A file is written before it is committed and removed: the later time is the safer one.
    const since = gone === undefined ? entry.mtimeMs : Math.max(gone.at, entry.mtimeMs);
    const ageMs = now - since;
    if (graceMs > 0 && ageMs < graceMs) {
      summary.kept++;
      continue;
    }
    due.push(entry);
    summary.deleted.push({
      key: entry.key,
      reason: gone === undefined ? 'orphan' : 'superseded',
      bytes: entry.size,
      ageMs,
    });
  }
  summary.bytes_deleted = due.reduce((n, e) => n + e.size, 0);
  if (dryRun) return summary;

  // Read the state once more just before deleting: never delete what became live.
  const latest = await catalog.snapshot();
  const nowLive = liveKeys(latest);
  const skipped = new Set(due.filter((e) => nowLive.has(e.key)).map((e) => e.key));
  summary.deleted = summary.deleted.filter((d) => !skipped.has(d.key));
  summary.bytes_deleted = summary.deleted.reduce((n, d) => n + d.bytes, 0);
  for (const entry of due) if (!skipped.has(entry.key)) await storage.delete(entry.key);
  for (const lease of leases.dead) {
    // A writer that renewed its lease since it was read is back: its lease stays.
    const current = await storage.stat(lease.key);
    if (current !== null && current.mtimeMs === lease.mtimeMs) await storage.delete(lease.key);
  }

  // Forget superseded files past the grace period whose bytes are gone (deleted now or earlier).
  const present = new Set(listed.map((e) => e.key));
  const deleted = new Set(summary.deleted.map((d) => d.key));
  const forget: CommitAction[] = [];
  for (const [key, { table: name, at }] of removedTimes(latest, table)) {
    const old = graceMs === 0 || now - at >= graceMs;
    if (old && (deleted.has(key) || !present.has(key))) forget.push({ op: 'forget', key, table: name });
  }
  if (forget.length > 0) {
    const result = await catalog.commit({ operation: 'vacuum', writer: 'vacuum', actions: forget });
    summary.forgotten = result.committed ? forget.length : 0;
    summary.version = result.version;
  } else summary.version = latest.version;
  await expireViews(catalog, table, new Date(now - graceMs), summary);
  return summary;
}

/**
 * Expires the view versions superseded before the grace period began, as the data files they
 * list may now be gone: the grace period is the time-travel retention of every view.
 */
async function expireViews(
  catalog: EmbeddedCatalog,
  table: string | undefined,
  before: Date,
  summary: VacuumSummary,
): Promise<void> {
  const tables = table === undefined ? [...(await catalog.snapshot()).tables.keys()].sort() : [table];
  for (const view of await tableViews()) {
    for (const name of tables) {
      try {
        summary.metadata_deleted.push(...(await view.expire(catalog.storage, name, before)));
      } catch (error) {
        summary.publish_errors.push(
          `the ${view.format} view of table ${name} was not expired: ${String(error)}`,
        );
      }
    }
  }
}
