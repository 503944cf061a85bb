/**
 * The actions of a Delta Lake log (Delta's PROTOCOL.md, reader 1 / writer 2) as the Delta view of a
 * lake table writes them: the table's `protocol` and `metaData`, one `add` or `remove` per file that
 * a catalog step adds or removes, `txn` actions carrying the catalog version (appId `octa-catalog`)
 * and the ingest batch ids, and `commitInfo`. Everything in a commit is derived from the catalog
 * step alone, so two publishers of the same step write the same bytes.
 * The `stats` of an `add` are built in `delta-stats.ts`.
 */
import { createHash } from 'node:crypto';
import { createPointSchema, decimalOf, type NamedPayloadType } from '../../../export/schema.js';
import { OctaError } from '../../../lattice/errors.js';
import type { FileRecord, TableConfig } from '../records.js';
import { statsJson } from './delta-stats.js';
import { tableProperties } from './hive.js';
import type { PublishStep } from './table-view.js';

/** The txn appId whose version is the catalog version a Delta version reflects. */
export const CATALOG_APP_ID = 'octa-catalog';
/** Delta versions between two checkpoints (also recorded as `delta.checkpointInterval`). */
export const CHECKPOINT_INTERVAL = 10;
/** Delta's default `delta.deletedFileRetentionDuration`: checkpoints keep younger tombstones. */
export const TOMBSTONE_RETENTION_MS = 7 * 24 * 3_600_000;
export const PARTITION_COLUMNS = ['lod', 't', 'r'] as const;

export interface DeltaProtocol {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}
export interface DeltaMetaData {
  id: string;
  name?: string;
  description?: string;
  format: { provider: string; options: Record<string, string> };
  schemaString: string;
  partitionColumns: string[];
  createdTime?: number;
  configuration: Record<string, string>;
}
export interface DeltaAdd {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  stats?: string;
  tags?: Record<string, string>;
}
export interface DeltaRemove {
  path: string;
  deletionTimestamp?: number;
  dataChange: boolean;
  extendedFileMetadata?: boolean;
  partitionValues?: Record<string, string | null>;
  size?: number;
}
export interface DeltaTxn {
  appId: string;
  version: number;
  lastUpdated?: number;
}
/** One line of a Delta commit. */
export type DeltaAction =
  | { protocol: DeltaProtocol }
  | { metaData: DeltaMetaData }
  | { add: DeltaAdd }
  | { remove: DeltaRemove }
  | { txn: DeltaTxn }
  | { commitInfo: Record<string, unknown> };

/** `<table>/_delta_log/`. */
export const logDir = (table: string) => `${table}/_delta_log/`;
const pad = (version: number) => String(version).padStart(20, '0');
/** `<table>/_delta_log/%020d.json`. */
export const commitKey = (table: string, version: number) => `${logDir(table)}${pad(version)}.json`;
/** `<table>/_delta_log/%020d.checkpoint.parquet` (a classic single-file checkpoint). */
export const checkpointKey = (table: string, version: number) =>
  `${logDir(table)}${pad(version)}.checkpoint.parquet`;
export const lastCheckpointKey = (table: string) => `${logDir(table)}_last_checkpoint`;

/** What a key under `_delta_log/` is: a commit or a classic checkpoint of a version, or neither. */
export function parseLogKey(
  table: string,
  key: string,
): { version: number; kind: 'commit' | 'checkpoint' } | null {
  const m = /^(\d{20})\.(json|checkpoint\.parquet)$/.exec(key.slice(logDir(table).length));
  if (m === null || !key.startsWith(logDir(table))) return null;
  const version = Number(m[1]);
  return Number.isSafeInteger(version) ? { version, kind: m[2] === 'json' ? 'commit' : 'checkpoint' } : null;
}

/**
 * The `add`/`remove` path of a data file: relative to the table root, each segment percent-encoded
 * (the path "is a URI as specified by RFC 2396"; `=` is a legal path character and stays).
 */
export function keyToPath(table: string, key: string): string {
  return key
    .slice(table.length + 1)
    .split('/')
    .map((s) => encodeURIComponent(s).replaceAll('%3D', '='))
    .join('/');
}

/** The catalog key of an `add`/`remove` path. */
export function pathToKey(table: string, path: string): string {
  try {
    return `${table}/${decodeURIComponent(path)}`;
  } catch {
    throw new OctaError('CORRUPT', 'a Delta file path is not a valid URI path', path);
  }
}

/** Delta types of the payload types (decimals keep their own spelling). */
const DELTA_TYPES: Readonly<Record<NamedPayloadType, string>> = {
  float64: 'double',
  int32: 'integer',
  int64: 'long',
  // Delta has no unsigned integers; Spark reads Parquet UINT_64 as decimal(20,0).
  uint64: 'decimal(20,0)',
  bool: 'boolean',
  utf8: 'string',
  date: 'date',
  // No TIME type: the INT64 count since midnight, as the Hive view shows it.
  time_us: 'long',
  time_ns: 'long',
  timestamp_us: 'timestamp',
  // timestamp_ntz would need the timestampNtz feature (reader 3 / writer 7), past reader 1 / writer 2.
  local_timestamp_us: 'timestamp',
  local_timestamp_ns: 'timestamp',
};

/** The table schema as Delta serializes it: the file columns, then the partition columns lod, t, r. */
export function schemaString(config: TableConfig): string {
  const field = (name: string, type: string, nullable: boolean) => ({ name, type, nullable, metadata: {} });
  const columns = createPointSchema({ payload: config.payload }).columns.map((c) =>
    field(
      c.name,
      decimalOf(c.type) === undefined ? DELTA_TYPES[c.type as NamedPayloadType] : c.type,
      c.nullable,
    ),
  );
  return JSON.stringify({
    type: 'struct',
    fields: [
      ...columns,
      field('lod', 'integer', true),
      field('t', 'string', true),
      field('r', 'string', true),
    ],
  });
}

/** A GUID derived from the table's name and creation time: every publisher of version 0 writes the same one. */
export function tableId(config: TableConfig): string {
  const h = createHash('sha256').update(`${config.name}\n${config.createdAt}`).digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The `metaData` action of a table. */
export function metaDataAction(config: TableConfig): DeltaMetaData {
  const { classification: _c, 'parquet.compression': _p, ...octa } = tableProperties(config);
  return {
    id: tableId(config),
    name: config.name,
    format: { provider: 'parquet', options: {} },
    schemaString: schemaString(config),
    partitionColumns: [...PARTITION_COLUMNS],
    createdTime: Date.parse(config.createdAt),
    configuration: { 'delta.checkpointInterval': String(CHECKPOINT_INTERVAL), ...octa },
  };
}

const partitionValues = (f: FileRecord) => ({ lod: String(f.lod), t: f.t, r: f.r });

/**
 * Delta's name and parameters for a catalog operation (Spark's names, so engines' history views
 * read well; Spark writes parameter values as JSON text).
 */
function operationOf(step: PublishStep): { operation: string; operationParameters: Record<string, string> } {
  const partitioning = JSON.stringify(PARTITION_COLUMNS);
  if (step.initial) return { operation: 'CONVERT', operationParameters: { partitionedBy: partitioning } };
  if (step.operation === 'compact' || step.operation === 'rebalance') {
    return { operation: 'OPTIMIZE', operationParameters: {} };
  }
  if (step.operation === 'vacuum') return { operation: 'DELETE', operationParameters: {} };
  return { operation: 'WRITE', operationParameters: { mode: 'Append', partitionBy: partitioning } };
}

/**
 * The actions of one step. `live`, for an initial step over a log that already exists (a publisher
 * that lost the race to create it), lists the paths the log has live: those the step does not keep
 * are removed, so the commit makes the table equal to the step's files.
 */
export function stepActions(
  table: string,
  step: PublishStep,
  live?: ReadonlyMap<string, DeltaAdd>,
): DeltaAction[] {
  const ms = Date.parse(step.timestamp);
  const dataChange = !(step.operation === 'compact' || step.operation === 'rebalance');
  const actions: DeltaAction[] = [
    {
      commitInfo: {
        timestamp: ms,
        ...operationOf(step),
        isBlindAppend: step.removed.length === 0,
        engineInfo: 'octa-lake',
        octa: { catalogVersion: step.version, operation: step.operation },
      },
    },
  ];
  if (step.initial && live === undefined) {
    actions.push(
      { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
      { metaData: metaDataAction(step.config) },
    );
  }
  actions.push({ txn: { appId: CATALOG_APP_ID, version: step.version, lastUpdated: ms } });
  for (const appId of new Set(step.batches)) {
    if (appId !== CATALOG_APP_ID) actions.push({ txn: { appId, version: step.version, lastUpdated: ms } });
  }
  const removes = step.removed.map((f) => ({
    path: keyToPath(table, f.key),
    partitionValues: partitionValues(f) as DeltaAdd['partitionValues'],
    size: f.bytes,
  }));
  if (live !== undefined) {
    const keep = new Set(step.added.map((f) => keyToPath(table, f.key)));
    for (const [path, add] of [...live].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!keep.has(path)) removes.push({ path, partitionValues: add.partitionValues, size: add.size });
    }
  }
  for (const { path, partitionValues: values, size } of removes) {
    actions.push({
      remove: {
        path,
        deletionTimestamp: ms,
        dataChange,
        extendedFileMetadata: true,
        partitionValues: values,
        size,
      },
    });
  }
  for (const f of step.added) {
    actions.push({
      add: {
        path: keyToPath(table, f.key),
        partitionValues: partitionValues(f),
        size: f.bytes,
        modificationTime: ms,
        dataChange,
        stats: statsJson(f),
      },
    });
  }
  return actions;
}

/** A commit file's bytes: one action per line. */
export function encodeCommit(actions: readonly DeltaAction[]): Uint8Array {
  return new TextEncoder().encode(`${actions.map((a) => JSON.stringify(a)).join('\n')}\n`);
}

/**
 * The actions of a commit file, unrecognised ones dropped (the protocol says to ignore them).
 * @throws {OctaError} CORRUPT when a line is not a JSON object or a known action lacks its fields
 */
export function decodeCommit(bytes: Uint8Array, key: string): DeltaAction[] {
  const actions: DeltaAction[] = [];
  for (const line of new TextDecoder().decode(bytes).split('\n')) {
    if (line.trim() === '') continue;
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new OctaError('CORRUPT', `Delta commit ${key} has a line that is not JSON`, key);
    }
    const action = checkAction(raw);
    if (action === 'bad') throw new OctaError('CORRUPT', `Delta commit ${key} has a malformed action`, key);
    if (action !== null) actions.push(action);
  }
  return actions;
}

/** An action with the fields this reader relies on checked; null for one it does not know. */
export function checkAction(raw: unknown): DeltaAction | null | 'bad' {
  if (typeof raw !== 'object' || raw === null) return 'bad';
  const r = raw as Record<string, Record<string, unknown> | null | undefined>;
  const isNum = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v);
  if (r.add)
    return typeof r.add.path === 'string' && isNum(r.add.size)
      ? { add: r.add as unknown as DeltaAdd }
      : 'bad';
  if (r.remove)
    return typeof r.remove.path === 'string' ? { remove: r.remove as unknown as DeltaRemove } : 'bad';
  if (r.txn)
    return typeof r.txn.appId === 'string' && isNum(r.txn.version)
      ? { txn: r.txn as unknown as DeltaTxn }
      : 'bad';
  if (r.metaData) {
    return typeof r.metaData.schemaString === 'string' && Array.isArray(r.metaData.partitionColumns)
      ? { metaData: r.metaData as unknown as DeltaMetaData }
      : 'bad';
  }
  if (r.protocol) {
    return isNum(r.protocol.minReaderVersion) && isNum(r.protocol.minWriterVersion)
      ? { protocol: r.protocol as unknown as DeltaProtocol }
      : 'bad';
  }
  if (r.commitInfo) return { commitInfo: r.commitInfo };
  return null;
}
