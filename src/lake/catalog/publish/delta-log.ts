/**
 * Reading a Delta log back from storage (never from memory): the newest readable checkpoint at or
 * below the wanted version, found through `_last_checkpoint` and a listing that starts at it, then
 * the JSON commits after it, reconciled as PROTOCOL.md's "Action Reconciliation" says (the latest
 * protocol and metaData win, the latest txn per appId, the newest action per path decides whether a
 * file is live or a tombstone). Also the head of the log (its latest version and the catalog version
 * that version reflects), which publishing needs without replaying anything, and checkpoint writing.
 */
import { OctaError } from '../../../lattice/errors.js';
import type { Storage, StorageEntry } from '../../storage/storage.js';
import {
  CATALOG_APP_ID,
  checkpointKey,
  commitKey,
  type DeltaAction,
  type DeltaAdd,
  type DeltaMetaData,
  type DeltaProtocol,
  type DeltaRemove,
  type DeltaTxn,
  decodeCommit,
  lastCheckpointKey,
  logDir,
  parseLogKey,
} from './delta-actions.js';
import { decodeCheckpoint, encodeCheckpoint } from './delta-checkpoint.js';

/** A table's state at one Delta version. */
export interface DeltaState {
  /** -1 before version 0. */
  version: number;
  protocol: DeltaProtocol | null;
  metaData: DeltaMetaData | null;
  txns: Map<string, DeltaTxn>;
  /** Live files by path. */
  files: Map<string, DeltaAdd>;
  /** Removed files by path. */
  tombstones: Map<string, DeltaRemove>;
}

const isCode = (error: unknown, ...codes: string[]) =>
  error instanceof OctaError && codes.includes(error.code);

const emptyState = (): DeltaState => ({
  version: -1,
  protocol: null,
  metaData: null,
  txns: new Map(),
  files: new Map(),
  tombstones: new Map(),
});

/** Applies one version's actions to a state, in place. */
export function applyActions(state: DeltaState, actions: readonly DeltaAction[], version: number): void {
  for (const a of actions) {
    if ('protocol' in a) state.protocol = a.protocol;
    else if ('metaData' in a) state.metaData = a.metaData;
    else if ('txn' in a) state.txns.set(a.txn.appId, a.txn);
    else if ('add' in a) {
      state.files.set(a.add.path, a.add);
      state.tombstones.delete(a.add.path);
    } else if ('remove' in a) {
      state.files.delete(a.remove.path);
      state.tombstones.set(a.remove.path, a.remove);
    }
  }
  state.version = version;
}

/**
 * Refuses a log this code cannot read (reader version past 1) or write without breaking it
 * (writer version past 2).
 * @throws {OctaError} CORRUPT naming the table's log
 */
export function checkProtocol(state: DeltaState, table: string, use: 'read' | 'write'): void {
  const p = state.protocol;
  if (p === null || state.metaData === null) {
    throw new OctaError(
      'CORRUPT',
      `the Delta log of table ${table} has no protocol or metaData`,
      logDir(table),
    );
  }
  if (p.minReaderVersion > 1 || (use === 'write' && p.minWriterVersion > 2)) {
    throw new OctaError(
      'CORRUPT',
      `the Delta log of table ${table} needs reader ${p.minReaderVersion} / writer ${p.minWriterVersion}; octa-lake reads reader 1 and writes writer 2 logs only`,
      logDir(table),
    );
  }
}

/** `_last_checkpoint`'s version, or null when it is absent or unreadable (readers then list). */
export async function lastCheckpoint(storage: Storage, table: string): Promise<number | null> {
  try {
    const raw = JSON.parse(new TextDecoder().decode(await storage.read(lastCheckpointKey(table))));
    return Number.isSafeInteger(raw?.version) && raw.version >= 0 ? raw.version : null;
  } catch (error) {
    if (error instanceof OctaError && !isCode(error, 'NOT_FOUND', 'CORRUPT')) throw error;
    return null;
  }
}

/** The commits and classic checkpoints of the log, by version (from `from` on when given). */
export interface LogListing {
  commits: Map<number, StorageEntry>;
  checkpoints: Map<number, StorageEntry>;
}

/**
 * Lists the log's commits and checkpoints.
 * @param from - list only versions from this one on (S3's StartAfter)
 */
export async function listLog(storage: Storage, table: string, from?: number): Promise<LogListing> {
  const dir = logDir(table);
  const after = from === undefined ? undefined : `${dir}${String(from).padStart(20, '0')}`;
  const listing: LogListing = { commits: new Map(), checkpoints: new Map() };
  for (const entry of await storage.list(dir, after)) {
    const parsed = parseLogKey(table, entry.key);
    if (parsed === null || (from !== undefined && parsed.version < from)) continue;
    (parsed.kind === 'commit' ? listing.commits : listing.checkpoints).set(parsed.version, entry);
  }
  return listing;
}

async function readCommit(storage: Storage, table: string, version: number): Promise<DeltaAction[]> {
  const key = commitKey(table, version);
  return decodeCommit(await storage.read(key), key);
}

/** Replays a listing up to `atMost`: the state, or null when the listing cannot give it. */
async function replayListing(
  storage: Storage,
  table: string,
  listing: LogListing,
  atMost: number,
): Promise<DeltaState | null> {
  const top = Math.min(atMost, Math.max(-1, ...listing.commits.keys()));
  let state = emptyState();
  const candidates = [...listing.checkpoints.keys()].filter((v) => v <= top).sort((a, b) => b - a);
  for (const version of candidates) {
    try {
      const key = checkpointKey(table, version);
      applyActions(state, await decodeCheckpoint(await storage.read(key), key), version);
      break;
    } catch (error) {
      if (!isCode(error, 'CORRUPT', 'NOT_FOUND')) throw error;
      state = emptyState();
    }
  }
  const wanted: number[] = [];
  for (let v = state.version + 1; v <= top; v++) {
    if (!listing.commits.has(v)) return null;
    wanted.push(v);
  }
  for (let i = 0; i < wanted.length; i += 16) {
    const batch = wanted.slice(i, i + 16);
    const commits = await Promise.all(batch.map((v) => readCommit(storage, table, v)));
    for (const [j, actions] of commits.entries()) applyActions(state, actions, batch[j]!);
  }
  return state.version < 0 ? null : state;
}

/**
 * The table's Delta state at `atMost` (default: the latest version), read back from storage.
 * @returns null when the table has no Delta log
 * @throws {OctaError} CORRUPT when the log has a gap that no checkpoint covers, a damaged commit,
 *   or a protocol past reader 1; IO_ERROR from storage
 */
export async function loadState(
  storage: Storage,
  table: string,
  atMost = Number.MAX_SAFE_INTEGER,
): Promise<DeltaState | null> {
  const last = await lastCheckpoint(storage, table);
  let state: DeltaState | null = null;
  if (last !== null && last <= atMost) {
    state = await replayListing(storage, table, await listLog(storage, table, last), atMost);
  }
  if (state === null) {
    const listing = await listLog(storage, table);
    if (listing.commits.size === 0 && listing.checkpoints.size === 0) return null;
    state = await replayListing(storage, table, listing, atMost);
    if (state === null) {
      throw new OctaError(
        'CORRUPT',
        `the Delta log of table ${table} misses commits that no readable checkpoint covers`,
        logDir(table),
      );
    }
  }
  checkProtocol(state, table, 'read');
  return state;
}

/** The latest Delta version of a table and the catalog version it reflects. */
export interface DeltaHead {
  version: number;
  catalogVersion: number;
}

/**
 * The head of the log: its latest commit, and the catalog version that commit records in its
 * `octa-catalog` txn (a replay finds it when the latest commit was written by another writer).
 * @returns null when the table has no Delta log
 * @throws {OctaError} CORRUPT when the log carries no catalog version (octa-lake did not write it)
 */
export async function readHead(storage: Storage, table: string): Promise<DeltaHead | null> {
  const last = await lastCheckpoint(storage, table);
  let listing = await listLog(storage, table, last ?? undefined);
  if (listing.commits.size === 0 && last !== null) listing = await listLog(storage, table);
  if (listing.commits.size === 0) {
    if (listing.checkpoints.size === 0) return null;
    throw new OctaError(
      'CORRUPT',
      `the Delta log of table ${table} has checkpoints but no commit`,
      logDir(table),
    );
  }
  const version = Math.max(...listing.commits.keys());
  const txn = (await readCommit(storage, table, version)).find(
    (a): a is { txn: DeltaTxn } => 'txn' in a && a.txn.appId === CATALOG_APP_ID,
  );
  const catalogVersion =
    txn?.txn.version ?? (await loadState(storage, table, version))?.txns.get(CATALOG_APP_ID)?.version;
  if (catalogVersion === undefined) {
    throw new OctaError(
      'CORRUPT',
      `the Delta log of table ${table} records no catalog version (no ${CATALOG_APP_ID} txn): octa-lake did not write it`,
      logDir(table),
    );
  }
  return { version, catalogVersion };
}

/**
 * Writes the checkpoint of a state and points `_last_checkpoint` at it unless it already points at
 * a newer one. Tombstones removed before `tombstonesSince` (ms) are left out.
 * @returns the checkpoint's key
 */
export async function writeCheckpoint(
  storage: Storage,
  table: string,
  state: DeltaState,
  tombstonesSince: number,
): Promise<string> {
  checkProtocol(state, table, 'write');
  const byPath = <T extends { path: string }>(a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const { bytes, rows } = await encodeCheckpoint({
    protocol: state.protocol!,
    metaData: state.metaData!,
    txns: [...state.txns.values()].sort((a, b) => (a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : 0)),
    adds: [...state.files.values()].sort(byPath),
    removes: [...state.tombstones.values()]
      .filter((r) => (r.deletionTimestamp ?? 0) >= tombstonesSince)
      .sort(byPath),
  });
  const key = checkpointKey(table, state.version);
  await storage.write(key, bytes);
  const last = await lastCheckpoint(storage, table);
  if (last === null || last < state.version) {
    const pointer = {
      version: state.version,
      size: rows,
      sizeInBytes: bytes.length,
      numOfAddFiles: state.files.size,
    };
    await storage.write(lastCheckpointKey(table), new TextEncoder().encode(JSON.stringify(pointer)));
  }
  return key;
}
