/**
 * Publishing the catalog's tables as open table formats (DESIGN §4): for each table and each view,
 * the catalog versions the view has not reflected yet become {@link PublishStep}s, which the view
 * writes in order. Runs after every commit that changes a table (ingest, compact, rebalance,
 * vacuum) and from `octa catalog publish`; since it always starts from what the view says it
 * reflects, a run that crashed or failed half way is caught up by the next one.
 */
import { OctaError } from '../../../lattice/errors.js';
import type { EmbeddedCatalog } from '../catalog.js';
import { replay } from '../catalog-state.js';
import type { CatalogSnapshot, CommitEntry, FileRecord } from '../records.js';
import type { PublishStep, TableFormat, TableView } from './table-view.js';

/** What publishing one table to one view did. */
export interface PublishOutcome {
  table: string;
  format: TableFormat;
  /** The catalog version the view reflected before (null: it had no view). */
  from: number | null;
  /** The catalog version it reflects now (`from` when this run failed). */
  to: number | null;
  /** Steps this run handed the view. */
  steps: number;
  /** Why this view could not be brought up to date (the catalog commit itself stands). */
  error?: OctaError;
}

/** How far back a table without a view may have been created to have its view start there. */
const RECENT_VERSIONS = 64;

const byKey = (a: FileRecord, b: FileRecord) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Whether an entry changed which files of `table` are live (the only changes a view records). */
function changesFiles(entry: CommitEntry, table: string): boolean {
  return entry.actions.some(
    (a) => (a.op === 'add' ? a.file.table : a.op === 'remove' ? a.table : null) === table,
  );
}

/**
 * The steps that bring a view of `table` from catalog version `from` (null: no view yet) to
 * `latest`.
 * @throws {OctaError} CORRUPT when the view claims a version the catalog does not have
 */
export async function stepsSince(
  catalog: EmbeddedCatalog,
  latest: CatalogSnapshot,
  table: string,
  from: number | null,
): Promise<PublishStep[]> {
  const state = latest.tables.get(table);
  if (state === undefined) return [];
  if (from === null) {
    // A table created with its first files within the last few versions (ingests racing to create
    // and fill it) starts its view at that commit, so that every catalog version since has its own
    // view version; an older table (a lake written before publishing existed) starts at the latest
    // version instead of replaying its whole history.
    const recent = await catalog.entries(Math.max(1, latest.version - RECENT_VERSIONS + 1), latest.version);
    const created = recent.find(
      (e) =>
        e.actions.some((a) => a.op === 'create_table' && a.config.name === table) &&
        e.actions.some((a) => a.op === 'add' && a.file.table === table),
    );
    const start = created === undefined ? latest : await catalog.snapshotAt(created.version);
    const startState = start.tables.get(table)!;
    const initial: PublishStep = {
      version: start.version,
      timestamp: created?.timestamp ?? recent.at(-1)?.timestamp ?? state.config.createdAt,
      operation: 'publish',
      batches: [...startState.batches].sort(),
      config: startState.config,
      initial: true,
      added: [...startState.files.values()].sort(byKey),
      removed: [],
    };
    return start.version === latest.version
      ? [initial]
      : [initial, ...(await stepsSince(catalog, latest, table, start.version))];
  }
  if (from > latest.version) {
    throw new OctaError(
      'CORRUPT',
      `the published view of table ${table} claims catalog version ${from}, past the catalog's latest (${latest.version}): it was not written by this catalog`,
      table,
    );
  }
  if (from === latest.version) return [];
  const steps: PublishStep[] = [];
  let before = await catalog.snapshotAt(from);
  for (const entry of await catalog.entries(from + 1, latest.version)) {
    const after = entry.version === latest.version ? latest : replay([entry], before);
    if (changesFiles(entry, table)) {
      const was = before.tables.get(table)?.files ?? new Map<string, FileRecord>();
      const now = after.tables.get(table)!;
      const added: FileRecord[] = [];
      const removed: FileRecord[] = [];
      for (const a of entry.actions) {
        if (a.op === 'add' && a.file.table === table) added.push(now.files.get(a.file.key) ?? a.file);
        if (a.op === 'remove' && a.table === table && was.has(a.key)) removed.push(was.get(a.key)!);
      }
      steps.push({
        version: entry.version,
        timestamp: entry.timestamp,
        operation: entry.operation,
        batches: entry.tables.includes(table) ? [...entry.batches] : [],
        config: now.config,
        initial: false,
        added: added.sort(byKey),
        removed: removed.sort(byKey),
      });
    }
    before = after;
  }
  return steps;
}

/**
 * Brings every view of the named tables (default: every table) up to the catalog's latest version.
 * A view that fails is reported, not thrown: the catalog commit that preceded this run stands, and
 * the next run catches the view up.
 * @param catalog - the lake's catalog
 * @param views - the formats to publish
 * @param tables - the tables to publish (default all)
 * @returns one outcome per table and view
 */
export async function publishTables(
  catalog: EmbeddedCatalog,
  views: readonly TableView[],
  tables?: readonly string[],
): Promise<PublishOutcome[]> {
  const latest = await catalog.snapshot();
  const names = tables ?? [...latest.tables.keys()].sort();
  const outcomes: PublishOutcome[] = [];
  for (const table of names) {
    if (!latest.tables.has(table)) continue;
    for (const view of views) {
      let from: number | null = null;
      try {
        from = await view.publishedVersion(catalog.storage, table);
        const steps = await stepsSince(catalog, latest, table, from);
        const to = steps.length === 0 ? from : await view.publish(catalog.storage, table, steps);
        outcomes.push({ table, format: view.format, from, to, steps: steps.length });
      } catch (error) {
        const cause = error instanceof OctaError ? error : new OctaError('IO_ERROR', String(error), table);
        outcomes.push({ table, format: view.format, from, to: from, steps: 0, error: cause });
      }
    }
  }
  return outcomes;
}
