/**
 * The Delta Lake view of a lake table (DESIGN §4): `<table>/_delta_log/`, reader 1 / writer 2, one
 * Delta version per catalog step. Commits are created with `writeIfAbsent`, so concurrent
 * publishers never fork the log: the one that loses a version re-reads the head and skips the steps
 * the winner already wrote. Every commit carries the catalog version it reflects in a `txn` with
 * appId `octa-catalog`, which survives checkpoints and log cleanup. A classic checkpoint is written
 * every {@link CHECKPOINT_INTERVAL} versions, best effort (readers replay the JSON commits instead).
 */
import { OctaError } from '../../../lattice/errors.js';
import type { Storage } from '../../storage/storage.js';
import {
  CATALOG_APP_ID,
  CHECKPOINT_INTERVAL,
  checkpointKey,
  commitKey,
  encodeCommit,
  logDir,
  pathToKey,
  stepActions,
  TOMBSTONE_RETENTION_MS,
} from './delta-actions.js';
import { decodeCheckpoint } from './delta-checkpoint.js';
import {
  applyActions,
  type DeltaState,
  lastCheckpoint,
  listLog,
  loadState,
  readHead,
  writeCheckpoint,
} from './delta-log.js';
import { publishedFile } from './delta-stats.js';
import type { PublishedFile, PublishedState, PublishStep, TableView } from './table-view.js';

export { deltaTimeMicros } from './delta-stats.js';

/** Writes the checkpoint of version `version` (best effort: a failure leaves readers replaying JSON). */
async function checkpointBestEffort(
  storage: Storage,
  table: string,
  state: DeltaState | null,
  version: number,
  timestamp: string,
): Promise<void> {
  try {
    const at = state?.version === version ? state : await loadState(storage, table, version);
    if (at === null || at.version !== version) return;
    await writeCheckpoint(storage, table, at, Date.parse(timestamp) - TOMBSTONE_RETENTION_MS);
  } catch {
    // Best effort: readers replay the JSON commits since the previous checkpoint.
  }
}

async function publish(storage: Storage, table: string, steps: readonly PublishStep[]): Promise<number> {
  let head = await readHead(storage, table);
  // The full state, loaded only when a step needs it (a checkpoint, or an initial step over a log
  // that another publisher created meanwhile), then kept in step with our own commits.
  let state = null as DeltaState | null;
  for (const step of steps) {
    for (;;) {
      if (head !== null && step.version <= head.catalogVersion) break;
      if (head === null && !step.initial) {
        throw new OctaError(
          'CORRUPT',
          `the Delta log of table ${table} vanished while it was being published; run the publication again`,
          logDir(table),
        );
      }
      let live: DeltaState['files'] | undefined;
      if (head !== null && step.initial) {
        state = state?.version === head.version ? state : await loadState(storage, table);
        live = state!.files;
      }
      const actions = stepActions(table, step, live);
      const next = head === null ? 0 : head.version + 1;
      if (await storage.writeIfAbsent(commitKey(table, next), encodeCommit(actions))) {
        if (state !== null && state.version === next - 1) applyActions(state, actions, next);
        head = { version: next, catalogVersion: step.version };
        if (next % CHECKPOINT_INTERVAL === 0 && next > 0) {
          await checkpointBestEffort(storage, table, state, next, step.timestamp);
        }
        break;
      }
      // Lost the race for this version: re-read the head and go on from there.
      head = await readHead(storage, table);
    }
  }
  return head?.catalogVersion ?? -1;
}

async function read(storage: Storage, table: string): Promise<PublishedState | null> {
  const state = await loadState(storage, table);
  if (state === null) return null;
  const version = state.txns.get(CATALOG_APP_ID)?.version;
  if (version === undefined) {
    throw new OctaError(
      'CORRUPT',
      `the Delta log of table ${table} records no catalog version (no ${CATALOG_APP_ID} txn)`,
      logDir(table),
    );
  }
  const files = new Map<string, PublishedFile>();
  for (const add of state.files.values()) files.set(pathToKey(table, add.path), publishedFile(add));
  return { version, files };
}

/** Whether a checkpoint file reads; storage failures other than an absent file are thrown. */
async function isReadableCheckpoint(storage: Storage, key: string): Promise<boolean> {
  try {
    await decodeCheckpoint(await storage.read(key), key);
    return true;
  } catch (error) {
    if (error instanceof OctaError && (error.code === 'CORRUPT' || error.code === 'NOT_FOUND')) return false;
    throw error;
  }
}

/**
 * Delta's metadata cleanup (PROTOCOL.md, "Metadata Cleanup"): the newest commit at or before
 * `before` (by its file's modification time) is the cutoff; the newest readable checkpoint at or
 * below it (written at the cutoff when there is none, without tombstones older than `before`) is
 * kept with every commit from its version on, and the commits and checkpoints below it are
 * deleted. A log that octa-lake did not write is refused (CORRUPT), never cleaned up. `_last_checkpoint` is moved up first when it names a version below the kept checkpoint.
 */
async function expire(storage: Storage, table: string, before: Date): Promise<string[]> {
  // Only a log this lake wrote is cleaned up: readHead refuses one without the octa-catalog txn.
  if ((await readHead(storage, table)) === null) return [];
  const beforeMs = before.getTime();
  const listing = await listLog(storage, table);
  const cutoff = Math.max(
    -1,
    ...[...listing.commits].filter(([, e]) => e.mtimeMs <= beforeMs).map(([v]) => v),
  );
  if (cutoff <= 0) return [];
  let kept = -1;
  for (const version of [...listing.checkpoints.keys()].filter((v) => v <= cutoff).sort((a, b) => b - a)) {
    // Deleting the commits below a checkpoint that does not read would lose versions.
    const key = checkpointKey(table, version);
    if (await isReadableCheckpoint(storage, key)) {
      kept = version;
      break;
    }
  }
  const pointer = await lastCheckpoint(storage, table);
  if (kept < 0 || pointer === null || pointer < kept) {
    const at = kept < 0 ? cutoff : kept;
    const state = await loadState(storage, table, at);
    if (state === null || state.version !== at) return [];
    await writeCheckpoint(storage, table, state, beforeMs);
    kept = at;
  }
  const deleted: string[] = [];
  for (const [version, entry] of [...listing.commits, ...listing.checkpoints]) {
    if (version >= kept) continue;
    await storage.delete(entry.key);
    deleted.push(entry.key);
  }
  return deleted.sort();
}

/** The Delta Lake view (format `delta`). */
export const deltaView: TableView = {
  format: 'delta',
  publishedVersion: async (storage, table) => (await readHead(storage, table))?.catalogVersion ?? null,
  publish,
  read,
  expire,
};
