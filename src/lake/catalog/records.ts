/**
 * The records the embedded catalog keeps (DESIGN §4): table settings, committed files, snapshots,
 * actions and log entries, and the one builder of a new file's record. `catalog-log.ts` checks and
 * encodes them and `catalog-state.ts` folds them into snapshots.
 */
import type { BoundingBox } from '../../export/container.js';
import { microsToIso } from '../../export/event-time.js';
import type { PayloadColumn } from '../../export/schema.js';
import type { Frame } from '../../lattice/frame.js';
import type { TileIdKind } from '../../lattice/ids.js';
import type { TimeBucket } from './layout.js';

/** A table's fixed settings; only `splits` changes after creation. */
export interface TableConfig {
  name: string;
  frame: Frame;
  lod: number;
  idKind: TileIdKind;
  timeBucket: TimeBucket;
  payload: PayloadColumn[];
  /** Sorted signed INT64 decimals: lower bounds of the identifier ranges after the first; empty = one range. */
  splits: string[];
  /** ISO 8601 UTC. */
  createdAt: string;
}

/** A committed data file. */
export interface FileRecord {
  /** `<table>/lod=<L>/t=<t>/r=<r>/<file>`. */
  key: string;
  table: string;
  lod: number;
  /** Time bucket partition value. */
  t: string;
  /** Range partition value. */
  r: string;
  rows: number;
  bytes: number;
  /** Lowercase hex SHA-256 of the file's bytes. */
  sha256: string;
  /** Signed INT64 decimals. */
  cellMin: string;
  cellMax: string;
  /** ISO 8601 UTC with six fraction digits. */
  timeMin: string;
  timeMax: string;
  /** minX, minY, minZ, maxX, maxY, maxZ in frame metres. */
  bbox: [number, number, number, number, number, number];
  /** The source batch that produced the file. */
  batch: string;
  writer: string;
  /** Timestamp of the commit that added the file; set by the catalog, ignored on input. */
  committedAt?: string;
}

/** What an encoded file holds, as its encoder reports it (64-bit values as signed decimals). */
export interface WrittenFileStats {
  rows: number;
  cellMin: string;
  cellMax: string;
  /** Event time range in microseconds since the epoch. */
  timeMin: string;
  timeMax: string;
  bbox: BoundingBox;
}

/** Where a new file was written and what it holds: the input of {@link fileRecord}. */
export interface WrittenFile {
  key: string;
  table: string;
  lod: number;
  t: string;
  r: string;
  /** The file's size in bytes. */
  bytes: number;
  sha256: string;
  stats: WrittenFileStats;
  batch: string;
  writer: string;
}

/**
 * The catalog record of a file just written (by ingest or maintenance), not yet committed. Event
 * times go from decimal microseconds to ISO text through bigint, never through a double.
 */
export function fileRecord({
  key,
  table,
  lod,
  t,
  r,
  bytes,
  sha256,
  stats,
  batch,
  writer,
}: WrittenFile): FileRecord {
  const b = stats.bbox;
  return {
    key,
    table,
    lod,
    t,
    r,
    rows: stats.rows,
    bytes,
    sha256,
    cellMin: stats.cellMin,
    cellMax: stats.cellMax,
    timeMin: microsToIso(BigInt(stats.timeMin)),
    timeMax: microsToIso(BigInt(stats.timeMax)),
    bbox: [b.minX, b.minY, b.minZ, b.maxX, b.maxY, b.maxZ],
    batch,
    writer,
  };
}

/** A table as of one version. Snapshots are shared: treat every part as read-only. */
export interface TableState {
  config: TableConfig;
  /** Live files by key. */
  files: Map<string, FileRecord>;
  /** Source batch ids committed to the table, for idempotent retries. */
  batches: Set<string>;
  /**
   * Superseded files: keys that a `remove` took out of `files`, with the time of that commit. Their
   * bytes stay on storage for readers of older snapshots until `vacuum` deletes them once the
   * grace period has passed since this time, and then drops them from here with `forget`.
   */
  removed: Map<string, string>;
}

/** The catalog as of one version (0 = empty lake). */
export interface CatalogSnapshot {
  version: number;
  tables: Map<string, TableState>;
}

/** A table config as a commit may give it: `splits` defaults to none, `createdAt` to the commit time. */
export type TableConfigInput = Omit<TableConfig, 'splits' | 'createdAt'> & {
  splits?: string[];
  createdAt?: string;
};

/** One change, as stored in the log. */
export type CatalogAction =
  | { op: 'create_table'; config: TableConfig }
  | { op: 'add'; file: FileRecord }
  | { op: 'remove'; key: string; table: string }
  /** `expected`, when given, must equal the current splits (compare-and-set for rebalancing). */
  | { op: 'set_splits'; table: string; splits: string[]; expected?: string[] }
  /** Drops a superseded file's entry from `removed` once vacuum has deleted its bytes. */
  | { op: 'forget'; key: string; table: string };

/** One change, as a caller hands it to a commit. */
export type CommitAction =
  | Exclude<CatalogAction, { op: 'create_table' }>
  | { op: 'create_table'; config: TableConfigInput };

/** What a caller commits. */
export interface CommitRequest {
  /** What the commit does, e.g. `ingest`, `compact`, `rebalance`. */
  operation: string;
  /** Who commits (a process or run id). */
  writer: string;
  /** Source batch ids for idempotency; default none. */
  batches?: readonly string[];
  actions: readonly CommitAction[];
}

/** One commit, as stored at `_octa/log/<version>.json`. */
export interface CommitEntry {
  version: number;
  /** ISO 8601 UTC. */
  timestamp: string;
  operation: string;
  writer: string;
  /** Source batch ids committed. */
  batches: string[];
  /** The tables the batch ids are recorded in: every table the request's actions named. */
  tables: string[];
  actions: CatalogAction[];
}
