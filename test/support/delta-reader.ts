/**
 * A Delta Lake reader written for the tests from Delta's PROTOCOL.md alone, sharing no code with
 * src/lake/catalog/publish/delta*.ts: a snapshot at version v is the newest checkpoint at or below v
 * (`_last_checkpoint` first, as "Last Checkpoint File" says, else the listing), read with hyparquet,
 * then the JSON commits after it up to v, reconciled as "Action Reconciliation" says: the latest
 * protocol and metaData win, the latest txn per appId, and the newest action per path decides
 * whether a logical file is live (`add`) or a tombstone (`remove`). Paths are URIs, decoded here.
 */
import { parquetReadObjects } from 'hyparquet';
import type { Storage } from '../../src/lake/storage/storage.js';

/** One file's per-file statistics, with the INT64 cell kept as text. */
export interface DeltaStats {
  numRecords: number;
  minValues: Record<string, unknown>;
  maxValues: Record<string, unknown>;
  nullCount: Record<string, unknown>;
}

export interface DeltaFile {
  /** The `add` as the log holds it. */
  add: Record<string, unknown>;
  /** The decoded path relative to the table root. */
  path: string;
  stats: DeltaStats;
}

export interface DeltaSnapshot {
  version: number;
  /** The checkpoint the replay started from, or null when it replayed from version 0. */
  checkpoint: number | null;
  /** The JSON commits the replay read. */
  commitsRead: number[];
  protocol: Record<string, unknown>;
  metaData: Record<string, unknown>;
  txns: Map<string, number>;
  files: Map<string, DeltaFile>;
  tombstones: Map<string, Record<string, unknown>>;
  /** The commitInfo of the commit at `version` (checkpoints do not keep it). */
  commitInfo: Record<string, unknown> | null;
}

const name20 = (v: number) => String(v).padStart(20, '0');

/** Stats JSON → object; the `cell` bounds keep every digit (quoted before JSON.parse). */
export function parseStats(text: string): DeltaStats {
  const stats = JSON.parse(text.replace(/"cell":(-?\d+)/g, '"cell":"$1"')) as DeltaStats;
  // nullCount is a count, not a cell value.
  if (stats.nullCount?.cell !== undefined) stats.nullCount.cell = Number(stats.nullCount.cell);
  return stats;
}

/** Delta versions the log has commits for, ascending. */
export async function deltaVersions(storage: Storage, table: string): Promise<number[]> {
  const dir = `${table}/_delta_log/`;
  return (await storage.list(dir))
    .map((e) => /^(\d{20})\.json$/.exec(e.key.slice(dir.length))?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number);
}

function bigintsToNumbers(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(bigintsToNumbers);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bigintsToNumbers(v)]));
  }
  return value;
}

/**
 * The table's snapshot at `version` (default: the latest commit).
 * @throws Error when a needed commit or checkpoint is missing
 */
export async function readDelta(storage: Storage, table: string, version?: number): Promise<DeltaSnapshot> {
  const dir = `${table}/_delta_log/`;
  const listed = (await storage.list(dir)).map((e) => e.key.slice(dir.length));
  const commits = listed
    .map((k) => /^(\d{20})\.json$/.exec(k)?.[1])
    .filter(Boolean)
    .map(Number);
  const target = version ?? Math.max(...commits);
  let start: number | null = null;
  try {
    const pointer = JSON.parse(new TextDecoder().decode(await storage.read(`${dir}_last_checkpoint`)));
    if (pointer.version <= target) start = pointer.version;
  } catch {
    // No pointer: list.
  }
  const checkpoints = listed
    .map((k) => /^(\d{20})\.checkpoint\.parquet$/.exec(k)?.[1])
    .filter(Boolean)
    .map(Number)
    .filter((v) => v <= target);
  if (start === null || (version !== undefined && checkpoints.some((c) => c > start!))) {
    start = checkpoints.length > 0 ? Math.max(...checkpoints) : null;
  }

  const snapshot: DeltaSnapshot = {
    version: target,
    checkpoint: start,
    commitsRead: [],
    protocol: {},
    metaData: {},
    txns: new Map(),
    files: new Map(),
    tombstones: new Map(),
    commitInfo: null,
  };
  // biome-ignore lint/suspicious/noExplicitAny: actions are untyped JSON, read as the protocol describes them
  const apply = (action: Record<string, any>) => {
    if (action.protocol) snapshot.protocol = action.protocol;
    if (action.metaData) snapshot.metaData = action.metaData;
    if (action.txn) snapshot.txns.set(action.txn.appId, action.txn.version);
    if (action.add) {
      const path = decodeURIComponent(action.add.path);
      snapshot.files.set(path, { add: action.add, path, stats: parseStats(action.add.stats) });
      snapshot.tombstones.delete(path);
    }
    if (action.remove) {
      const path = decodeURIComponent(action.remove.path);
      snapshot.files.delete(path);
      snapshot.tombstones.set(path, action.remove);
    }
  };
  if (start !== null) {
    const bytes = await storage.read(`${dir}${name20(start)}.checkpoint.parquet`);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    for (const row of (await parquetReadObjects({ file })) as Record<string, unknown>[]) {
      for (const [column, value] of Object.entries(row)) {
        if (value !== null && value !== undefined) apply({ [column]: bigintsToNumbers(value) });
      }
    }
  }
  for (let v = start === null ? 0 : start + 1; v <= target; v++) {
    const text = new TextDecoder().decode(await storage.read(`${dir}${name20(v)}.json`));
    snapshot.commitsRead.push(v);
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const action = JSON.parse(line);
      if (action.commitInfo && v === target) snapshot.commitInfo = action.commitInfo;
      apply(action);
    }
  }
  if (start === target) {
    const text = new TextDecoder().decode(await storage.read(`${dir}${name20(target)}.json`));
    const info = text.split('\n').find((l) => l.startsWith('{"commitInfo"'));
    snapshot.commitInfo = info ? JSON.parse(info).commitInfo : null;
  }
  return snapshot;
}
