/**
 * The contract between the embedded catalog and the open table formats it publishes (DESIGN §4):
 * a {@link TableView} (Delta Lake at `<table>/_delta_log/`, Iceberg v2 at `<table>/metadata/`)
 * receives the catalog's changes to one table as {@link PublishStep}s, one per catalog version that
 * added or removed files, and writes each as one version of its own. The catalog stays the source
 * of truth: a view only ever follows it, so a crash between a catalog commit and its publication
 * leaves the view behind (never ahead), and the next publication catches up.
 */
import type { Storage } from '../../storage/storage.js';
import type { FileRecord, TableConfig } from '../records.js';

/** The open table formats a lake publishes. */
export type TableFormat = 'delta' | 'iceberg';
export const TABLE_FORMATS: readonly TableFormat[] = ['delta', 'iceberg'];

/** One catalog version's change to one table, as a view publishes it. */
export interface PublishStep {
  /** The catalog version the view reflects once this step is published. */
  version: number;
  /** ISO 8601 UTC time of that catalog commit. */
  timestamp: string;
  /** The catalog operation (`ingest`, `compact`, `rebalance`, `vacuum`), or `publish` for an initial step. */
  operation: string;
  /** Source batch ids the commit recorded in this table. */
  batches: string[];
  /** The table's settings at this version. */
  config: TableConfig;
  /**
   * True for a view's first step: `added` is every live file of the table at `version` and the view
   * is created by it (a table created before publishing existed starts its view here).
   */
  initial: boolean;
  /** Files that became live, sorted by key. */
  added: FileRecord[];
  /** Files that stopped being live (their full records as they were), sorted by key. */
  removed: FileRecord[];
}

/** What a view lists at its latest version (for `verify`). */
export interface PublishedState {
  /** The catalog version the view reflects. */
  version: number;
  /** Live files by catalog key (`<table>/lod=…/…parquet`) with the statistics the view records. */
  files: Map<string, PublishedFile>;
}

/** A live file as a view records it, in the catalog's units. */
export interface PublishedFile {
  rows: number;
  bytes: number;
  /** Signed INT64 decimals. */
  cellMin: string;
  cellMax: string;
  /** Microseconds since the epoch, as decimals. */
  timeMinMicros: string;
  timeMaxMicros: string;
  /** minX, minY, minZ, maxX, maxY, maxZ. */
  bbox: [number, number, number, number, number, number];
}

/** One open table format's writer and reader of its own metadata, for one table at a time. */
export interface TableView {
  readonly format: TableFormat;
  /**
   * The catalog version the table's published view reflects, or null when it has none yet.
   * @throws {OctaError} CORRUPT when the view's metadata cannot be read; IO_ERROR from storage
   */
  publishedVersion(storage: Storage, table: string): Promise<number | null>;
  /**
   * Publishes steps in order, each as one new version of the view, written create-if-absent so that
   * concurrent publishers never fork it. A step whose catalog version the view already reflects
   * (another publisher got there first) is skipped; on a lost race the view re-reads and goes on.
   * @returns the catalog version the view reflects afterwards
   */
  publish(storage: Storage, table: string, steps: readonly PublishStep[]): Promise<number>;
  /**
   * The view's latest state as its own metadata records it (read back, not from memory).
   * @returns null when the table has no view
   */
  read(storage: Storage, table: string): Promise<PublishedState | null>;
  /**
   * Expires view versions superseded before `before` (the newest version at or before it stays,
   * and so does the latest), and deletes the view's own metadata files that no retained version
   * references and that are older than `before`.
   * @returns the metadata keys deleted
   */
  expire(storage: Storage, table: string, before: Date): Promise<string[]>;
}
