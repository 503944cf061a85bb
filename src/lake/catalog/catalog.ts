/**
 * The embedded catalog (DESIGN §4): a versioned, append-only commit log in `<lake>/_octa/`, after
 * Delta Lake. Commit N is the object `_octa/log/<N>.json`, created with `writeIfAbsent`, so of two
 * writers that both read version N−1 exactly one gets N; the other re-reads, re-checks its actions
 * against the newer state (a real conflict fails, a lost race retries with N+1 after a jittered
 * backoff). Readers replay the log from the newest checkpoint (the full state, written every 32
 * versions); a checkpoint is an optimisation, so a missing or damaged one is skipped. Where the
 * entries end, the log is listed: an entry missing before later ones is a gap (damage), reported as
 * CORRUPT rather than read as the end, so that no commit ever fills it.
 *
 * Formats and record rules: `catalog-log.ts`; the state machine: `catalog-state.ts`.
 */
import { checkInt, OctaError } from '../../lattice/errors.js';
import type { Storage } from '../storage/storage.js';
import {
  CHECKPOINT_PREFIX,
  checkCommitRequest,
  checkpointKey,
  decodeCheckpoint,
  decodeEntry,
  encodeCheckpoint,
  encodeEntry,
  keyToVersion,
  LOG_PREFIX,
  logKey,
} from './catalog-log.js';
import {
  type CatalogSnapshot,
  type CommitEntry,
  type CommitRequest,
  emptySnapshot,
  prepareCommit,
  replay,
} from './catalog-state.js';

export * from './catalog-log.js';
export * from './catalog-state.js';

/** Options of {@link EmbeddedCatalog.open}. */
export interface OpenCatalogOptions {
  /** The lake's storage. */
  storage: Storage;
  /** Attempts at a commit that keeps losing the race for the next version before CONFLICT (default 64). */
  maxAttempts?: number;
  /** First backoff after a lost race, in ms; doubles per attempt, jittered (default 4). */
  backoffMs?: number;
  /** Longest backoff, in ms (default 1000). */
  maxBackoffMs?: number;
  /** Versions between checkpoints (default 32). */
  checkpointInterval?: number;
}

/** What a commit did. */
export interface CommitResult {
  /** The new version, or the current one when nothing was committed. */
  version: number;
  /** Batch ids that were already committed, and whose files were therefore left out. */
  skippedBatches: string[];
  /** False when nothing was left to commit (no log entry was written). */
  committed: boolean;
  /** Versions tried: 1, plus one per race lost to another writer. */
  attempts: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const isCode = (error: unknown, ...codes: string[]) =>
  error instanceof OctaError && codes.includes(error.code);

/** A session on a lake's embedded catalog; many may run at once, in one process or many. */
export class EmbeddedCatalog {
  readonly storage: Storage;
  readonly #options: Required<Omit<OpenCatalogOptions, 'storage'>>;
  #current: CatalogSnapshot;
  // The last few states this session moved past, for snapshotAt() just behind the latest (a
  // publisher reading the state before the commit it publishes). Snapshots are immutable.
  #recent: CatalogSnapshot[] = [];
  // Serialises reads of the log within this session, so that entries are replayed once, in order.
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    storage: Storage,
    base: CatalogSnapshot,
    options: Required<Omit<OpenCatalogOptions, 'storage'>>,
  ) {
    this.storage = storage;
    this.#current = base;
    this.#options = options;
  }

  /**
   * Opens the catalog of a lake, empty or not, and reads it up to the latest version.
   * @param options - storage, and the retry and checkpoint settings
   * @returns the session
   * @throws {OctaError} CORRUPT naming a damaged log entry; IO_ERROR from storage; INVALID_ARGUMENT
   *   for a bad option
   */
  static async open({
    storage,
    maxAttempts = 64,
    backoffMs = 4,
    maxBackoffMs = 1000,
    checkpointInterval = 32,
  }: OpenCatalogOptions): Promise<EmbeddedCatalog> {
    checkInt(maxAttempts, 1, 1_000_000, 'INVALID_ARGUMENT', 'maxAttempts');
    checkInt(backoffMs, 0, 60_000, 'INVALID_ARGUMENT', 'backoffMs');
    checkInt(maxBackoffMs, 0, 600_000, 'INVALID_ARGUMENT', 'maxBackoffMs');
    checkInt(checkpointInterval, 1, 1_000_000, 'INVALID_ARGUMENT', 'checkpointInterval');
    const base = await loadCheckpoint(storage);
    const catalog = new EmbeddedCatalog(storage, base, {
      maxAttempts,
      backoffMs,
      maxBackoffMs,
      checkpointInterval,
    });
    // Reading to the latest version also proves the log has no gap after the checkpoint.
    await catalog.snapshot();
    return catalog;
  }

  /**
   * The latest committed state, reading the log entries committed since the last call. The
   * snapshot is never changed afterwards: treat it as read-only.
   * @throws {OctaError} CORRUPT naming a damaged log entry; IO_ERROR from storage
   */
  snapshot(): Promise<CatalogSnapshot> {
    return this.#exclusive(() => this.#refresh());
  }

  /**
   * Commits actions atomically as the next version. Batch ids that a table the commit touches
   * already holds (a retry, or a concurrent writer of the same input) are skipped with their
   * `add`s; when nothing is left, no entry is written.
   * @param request - operation, writer, batches (default none) and actions, applied in order
   * @returns the version, the skipped batch ids, and whether an entry was written
   * @throws {OctaError} CONFLICT when an action conflicts with the latest state (a table with
   *   other settings, a file that is no longer live, splits that changed) or when other writers
   *   kept winning the race for `maxAttempts` attempts; NOT_FOUND for an unknown table;
   *   INVALID_ARGUMENT for a malformed request
   */
  async commit(request: CommitRequest): Promise<CommitResult> {
    const checked = checkCommitRequest(request);
    const { maxAttempts, backoffMs, maxBackoffMs } = this.#options;
    for (let attempt = 1; ; attempt++) {
      const snapshot = await this.snapshot();
      const { entry, skippedBatches } = prepareCommit(snapshot, checked, new Date().toISOString());
      if (entry === null)
        return { version: snapshot.version, skippedBatches, committed: false, attempts: attempt };
      const key = logKey(entry.version);
      const bytes = encodeEntry(entry);
      // Decode our own bytes before publishing them: this session folds in exactly what every other
      // reader will read, and an entry that does not decode is never published.
      const written = decodeEntry(bytes, key);
      if (await this.storage.writeIfAbsent(key, bytes)) {
        await this.#committed(written);
        return { version: entry.version, skippedBatches, committed: true, attempts: attempt };
      }
      if (attempt >= maxAttempts) {
        throw new OctaError(
          'CONFLICT',
          `other writers took every version this commit tried (${attempt} attempts); retry later or with a larger maxAttempts`,
          key,
        );
      }
      await sleep(Math.random() * Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1)));
    }
  }

  /**
   * The log entries of versions `from` to `to` inclusive, in order.
   * @throws {OctaError} INVALID_ARGUMENT for a range outside 1..the latest version; CORRUPT naming a
   *   damaged or missing entry; IO_ERROR from storage
   */
  async entries(from: number, to: number): Promise<CommitEntry[]> {
    const latest = (await this.#reaching(to)).version;
    checkInt(from, 1, Math.max(1, latest), 'INVALID_ARGUMENT', 'from');
    checkInt(to, from - 1, latest, 'INVALID_ARGUMENT', 'to');
    const out: CommitEntry[] = [];
    for (let start = from; start <= to; start += 16) {
      const versions = Array.from({ length: Math.min(16, to - start + 1) }, (_, i) => start + i);
      const found = await Promise.all(versions.map((v) => this.#readEntry(v)));
      found.forEach((entry, i) => {
        if (entry === null) {
          const key = logKey(versions[i]!);
          throw new OctaError('CORRUPT', `catalog log entry ${key} is missing below the latest version`, key);
        }
        out.push(entry);
      });
    }
    return out;
  }

  /**
   * The catalog as it was at `version` (time travel): the newest checkpoint at or below it, then
   * the log up to it. Older states share nothing with the latest one.
   * @param version - 0 (the empty lake) to the latest version
   * @throws {OctaError} INVALID_ARGUMENT for a version past the latest; CORRUPT or IO_ERROR as
   *   {@link snapshot}
   */
  async snapshotAt(version: number): Promise<CatalogSnapshot> {
    const latest = await this.#reaching(version);
    checkInt(version, 0, latest.version, 'INVALID_ARGUMENT', 'version');
    if (version === latest.version) return latest;
    const kept = this.#recent.find((s) => s.version === version);
    if (kept !== undefined) return kept;
    const base = await loadCheckpoint(this.storage, version);
    return version === base.version ? base : replay(await this.entries(base.version + 1, version), base);
  }

  /**
   * The state this session knows when it has reached `version` already (entries are immutable, so
   * reading the past needs no new look at the log), else the latest state read from the log.
   */
  #reaching(version: number): Promise<CatalogSnapshot> {
    return Number.isSafeInteger(version) && version <= this.#current.version
      ? Promise.resolve(this.#current)
      : this.snapshot();
  }

  /** Folds our own new entry in without reading it back, then checkpoints when it is due. */
  async #committed(entry: CommitEntry): Promise<void> {
    const state = await this.#exclusive(async () => {
      // Nothing else can sit between the snapshot we prepared on and our entry; a concurrent
      // snapshot() in this session may have read it already.
      if (this.#current.version === entry.version - 1) this.#advance(replay([entry], this.#current));
      return this.#current.version === entry.version ? this.#current : null;
    });
    if (state === null || entry.version % this.#options.checkpointInterval !== 0) return;
    try {
      await this.storage.write(checkpointKey(state.version), encodeCheckpoint(state));
    } catch {
      // Best effort: readers replay a longer stretch of the log instead.
    }
  }

  async #refresh(): Promise<CatalogSnapshot> {
    const entries: CommitEntry[] = [];
    let next = this.#current.version + 1;
    // Probe ahead in a widening window: usually zero or one new entry, after a checkpoint up to 31.
    for (let window = 1; ; window = Math.min(window * 2, 16)) {
      const found = await Promise.all(Array.from({ length: window }, (_, i) => this.#readEntry(next + i)));
      const end = found.indexOf(null);
      for (const entry of end < 0 ? found : found.slice(0, end)) entries.push(entry!);
      next += end < 0 ? window : end;
      if (end >= 0 && (await isLogEnd(this.storage, next))) break;
    }
    if (entries.length > 0) this.#advance(replay(entries, this.#current));
    return this.#current;
  }

  #advance(next: CatalogSnapshot): void {
    this.#recent = [...this.#recent.slice(-3), this.#current];
    this.#current = next;
  }

  async #readEntry(version: number): Promise<CommitEntry | null> {
    const key = logKey(version);
    try {
      return decodeEntry(await this.storage.read(key), key);
    } catch (error) {
      if (isCode(error, 'NOT_FOUND')) return null;
      throw error;
    }
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/**
 * Whether version `missing`, which a read found absent, is the end of the log: true when no later
 * entry exists; false when `missing` exists after all (a writer created it since the read).
 * Entries are created in version order and never deleted, so a later entry without this one is a
 * gap: the log was damaged, and reading on (or committing `missing`) would lose what the absent
 * entry committed.
 * @throws {OctaError} CORRUPT naming the missing entry
 */
async function isLogEnd(storage: Storage, missing: number): Promise<boolean> {
  const key = logKey(missing);
  const later = (await storage.list(LOG_PREFIX, key)).find(
    (e) => (keyToVersion(e.key, LOG_PREFIX) ?? 0) > missing,
  );
  if (later === undefined) return true;
  if ((await storage.stat(key)) !== null) return false;
  throw new OctaError(
    'CORRUPT',
    `catalog log entry ${key} is missing but later entries exist (${later.key}): the log is damaged; nothing reads or commits past it (\`verify()\` lists the damage; restore the entry from a backup)`,
    key,
    { params: ['verify()'] },
  );
}

/**
 * The newest readable checkpoint whose version the log has reached (and is at most `atMost`), or
 * the empty state.
 * A missing, damaged or unreadable-as-a-checkpoint file is skipped; storage failures are not.
 */
async function loadCheckpoint(storage: Storage, atMost = Number.MAX_SAFE_INTEGER): Promise<CatalogSnapshot> {
  const versions = (await storage.list(CHECKPOINT_PREFIX))
    .map((e) => keyToVersion(e.key, CHECKPOINT_PREFIX))
    .filter((v): v is number => v !== null && v <= atMost)
    .sort((a, b) => b - a);
  for (const version of versions) {
    try {
      if ((await storage.stat(logKey(version))) === null) continue;
      const key = checkpointKey(version);
      return decodeCheckpoint(await storage.read(key), key);
    } catch (error) {
      if (!isCode(error, 'CORRUPT', 'NOT_FOUND')) throw error;
    }
  }
  return emptySnapshot();
}
