/**
 * `rebalance`: keeps identifier ranges near a target size. A range holding more than `targetRows`
 * rows (all time buckets together) is split at the exact median of its cells; two adjacent ranges
 * holding together at most `mergeBelow × targetRows` are merged by removing the split point between
 * them. Each split or merge is one commit that removes the files it moves, adds their rewritten
 * versions and changes the split points with compare-and-set (`expected`), so readers see the old
 * layout or the new one, and later ingests route by the new split points.
 *
 * Moving a file costs what it must: a file entirely on one side of the new layout keeps its key (or
 * is copied byte for byte under its new `r=` label); only a file that straddles the median is read
 * and written as two files (it is sorted, so each side is one slice). Memory: 8 bytes per row of the
 * range being split (its cell column, for the exact median), plus one file.
 */
import { checkInt, OctaError } from '../../lattice/errors.js';
import { type CommitAction, EmbeddedCatalog, type FileRecord } from '../catalog/catalog.js';
import { WriterLease } from '../catalog/writer-lease.js';
import { checkAborted } from '../ingest/outputs.js';
import type { Storage } from '../storage/storage.js';
import { commitReplacement } from './commit-replacement.js';
import {
  labelOf,
  type MaintainedTable,
  maintenanceWriter,
  moveToRange,
  rangeIndex,
  readCells,
  readPointChunks,
  tablesOf,
  writeRouted,
} from './files.js';

/** Options of {@link rebalance}. */
export interface RebalanceOptions {
  storage: Storage;
  /** The table to rebalance (default every table). */
  table?: string;
  /** Rows a range may hold before it is split (default 10,000,000). */
  targetRows?: number;
  /** Adjacent ranges holding together at most this fraction of `targetRows` are merged (default 0.5, at most 0.5). */
  mergeBelow?: number;
  /** Splits and merges per table at most, per run (default 64). */
  maxOperations?: number;
  /** Plan the first operation of each table and report it without writing or committing. */
  dryRun?: boolean;
  /** Lost races (a concurrent compaction or rebalance) tolerated per table before giving up (default 5). */
  maxConflicts?: number;
  /** Aborts between files (SIGINT, SIGTERM): the operation in progress commits nothing and its files are removed. */
  signal?: AbortSignal;
}

/** One split or merge. */
export interface RebalanceOperation {
  table: string;
  kind: 'split' | 'merge';
  /** The split point added (split) or removed (merge), signed INT64 decimal. */
  split: string;
  /** `r=` labels of the ranges before and after. */
  before: string[];
  after: string[];
  rows: number;
  filesRemoved: number;
  filesAdded: number;
  /** Catalog version of the commit, null in a dry run. */
  version: number | null;
}

/** What a rebalance did. */
export interface RebalanceSummary {
  operations: RebalanceOperation[];
  /** Ranges that hold more than the target but cannot be split (every row shares one cell). */
  unsplittable: { table: string; r: string; rows: number }[];
  conflicts: number;
  version: number;
  /** Views (Delta Lake, Iceberg) that could not be brought up to date; the commits stand. */
  publish_errors: string[];
}

/** Rows per range, by the files' `r=` labels. */
function rowsPerRange(files: Iterable<FileRecord>, splits: readonly bigint[]): number[] {
  const rows = new Array<number>(splits.length + 1).fill(0);
  const index = new Map(rows.map((_, i) => [labelOf(i, splits), i]));
  for (const f of files) {
    const i = index.get(f.r);
    if (i !== undefined) rows[i]! += f.rows;
  }
  return rows;
}

/**
 * The next operation: split the largest range above the target (unless it cannot be split), else
 * merge the adjacent pair with the fewest rows together, if that is at most `mergeBelow × target`.
 */
function chooseOperation(
  rows: readonly number[],
  targetRows: number,
  mergeBelow: number,
  isUnsplittable: (range: number) => boolean,
): { kind: 'split' | 'merge'; range: number } | null {
  let largest = -1;
  rows.forEach((n, i) => {
    if (n > targetRows && !isUnsplittable(i) && (largest < 0 || n > rows[largest]!)) largest = i;
  });
  if (largest >= 0) return { kind: 'split', range: largest };
  let best = -1;
  for (let i = 0; i + 1 < rows.length; i++) {
    const both = rows[i]! + rows[i + 1]!;
    if (both <= mergeBelow * targetRows && (best < 0 || both < rows[best]! + rows[best + 1]!)) best = i;
  }
  return best >= 0 ? { kind: 'merge', range: best } : null;
}

/**
 * The exact split point of a range: the cell at position ⌊n/2⌋ of its sorted cells, so the lower
 * range gets the ⌊n/2⌋ smallest rows (fewer when the median value repeats below it); when that
 * value is the range's smallest, the next larger value. Null when every row has the same cell or
 * the point would not lie inside the range.
 * @param cells - the range's cells; sorted in place (no second copy of a large range)
 * @param lo - the range's lower bound (null for the first range)
 * @param hi - the next range's lower bound (null for the last range)
 */
export function medianSplit(cells: BigInt64Array, lo: bigint | null, hi: bigint | null): bigint | null {
  if (cells.length < 2) return null;
  const sorted = cells.sort();
  let at = sorted.length >> 1;
  while (at < sorted.length && sorted[at] === sorted[0]) at++;
  if (at === sorted.length) return null;
  const split = sorted[at]!;
  if ((lo !== null && split <= lo) || (hi !== null && split >= hi)) return null;
  return split;
}

/**
 * Moves files into the ranges of `splits`: a file already in its range under its label is left
 * alone, a file wholly inside another range is copied under that range's label, and a file that
 * straddles ranges is read and written as one file per range.
 * @returns the files removed and the files written
 */
async function moveFiles(
  storage: Storage,
  table: MaintainedTable,
  files: readonly FileRecord[],
  splits: readonly bigint[],
  writer: string,
  signal: AbortSignal | undefined,
): Promise<{ removed: FileRecord[]; added: FileRecord[] }> {
  const removed: FileRecord[] = [];
  const added: FileRecord[] = [];
  try {
    for (const f of files) {
      checkAborted(signal);
      const first = rangeIndex(BigInt(f.cellMin), splits);
      const last = rangeIndex(BigInt(f.cellMax), splits);
      if (first === last && labelOf(first, splits) === f.r) continue;
      removed.push(f);
      if (first === last) {
        added.push(await moveToRange(storage, f, labelOf(first, splits), writer));
        continue;
      }
      const chunks = await readPointChunks(storage, f.key, table.schema);
      const batch = `rebalance:${writer}`;
      const fileRows = chunks.reduce((n, c) => n + c.cell.length, 0);
      const args = { storage, table, t: f.t, writer, batch, chunks, splits, fileRows };
      added.push(...(await writeRouted(args)));
    }
    checkAborted(signal);
  } catch (error) {
    await Promise.allSettled(added.map((f) => storage.delete(f.key)));
    throw error;
  }
  return { removed, added };
}

/**
 * Splits ranges that outgrew the target and merges small neighbours, one commit per operation.
 * @param options - storage, table, target; see {@link RebalanceOptions}
 * @returns the operations committed (or planned, in a dry run)
 * @throws {OctaError} NOT_FOUND for an unknown table; INVALID_ARGUMENT for bad options; IO_ERROR
 *   or CORRUPT when a file cannot be read (that operation commits nothing)
 */
export async function rebalance({
  storage,
  table,
  targetRows = 10_000_000,
  mergeBelow = 0.5,
  maxOperations = 64,
  dryRun = false,
  maxConflicts = 5,
  signal,
}: RebalanceOptions): Promise<RebalanceSummary> {
  // The one check of these bounds: the CLI relies on it (its flags are these names, renamed).
  checkInt(targetRows, 2, Number.MAX_SAFE_INTEGER, 'INVALID_ARGUMENT', '`targetRows`', {
    params: ['targetRows'],
  });
  checkInt(maxOperations, 1, 1_000_000, 'INVALID_ARGUMENT', '`maxOperations`', { params: ['maxOperations'] });
  checkInt(maxConflicts, 0, 1000, 'INVALID_ARGUMENT', 'maxConflicts');
  // Above one half, a merged range could come out above the target and be split again at once.
  if (!(mergeBelow >= 0 && mergeBelow <= 0.5)) {
    throw new OctaError('INVALID_ARGUMENT', 'mergeBelow must be a fraction in 0..0.5', mergeBelow);
  }
  const catalog = await EmbeddedCatalog.open({ storage });
  const writer = maintenanceWriter('rebalance');
  // Vacuum keeps the files of a live lease, whatever its grace, until this run is done.
  const lease = dryRun ? null : await WriterLease.acquire(storage, writer, 'rebalance');
  try {
    return await rebalanceTables({
      storage,
      table,
      targetRows,
      mergeBelow,
      maxOperations,
      dryRun,
      maxConflicts,
      catalog,
      writer,
      signal,
    });
  } finally {
    await lease?.release();
  }
}

/** The work of {@link rebalance}, under the run's lease. */
async function rebalanceTables({
  storage,
  table,
  targetRows,
  mergeBelow,
  maxOperations,
  dryRun,
  maxConflicts,
  catalog,
  writer,
  signal,
}: Required<Omit<RebalanceOptions, 'table' | 'signal'>> &
  Pick<RebalanceOptions, 'table' | 'signal'> & {
    catalog: EmbeddedCatalog;
    writer: string;
  }): Promise<RebalanceSummary> {
  const summary: RebalanceSummary = {
    operations: [],
    unsplittable: [],
    conflicts: 0,
    version: 0,
    publish_errors: [],
  };
  for (const { config } of tablesOf(await catalog.snapshot(), table)) {
    const unsplittable = new Set<string>();
    let conflicts = 0;
    for (let done = 0; done < maxOperations; ) {
      checkAborted(signal);
      const snapshot = await catalog.snapshot();
      const current = tablesOf(snapshot, config.name)[0]!;
      const { splits } = current;
      const files = [...snapshot.tables.get(config.name)!.files.values()];
      const rows = rowsPerRange(files, splits);
      const labels = rows.map((_, i) => labelOf(i, splits));
      const next = chooseOperation(rows, targetRows, mergeBelow, (i) => unsplittable.has(labels[i]!));
      if (next === null) break;

      let newSplits: bigint[];
      let point: bigint;
      let moving: FileRecord[];
      if (next.kind === 'split') {
        const i = next.range;
        moving = files.filter((f) => f.r === labels[i]);
        const cells = new BigInt64Array(rows[i]!);
        let at = 0;
        for (const f of moving) {
          cells.set(await readCells(storage, f), at);
          at += f.rows;
        }
        const split = medianSplit(
          cells,
          i === 0 ? null : splits[i - 1]!,
          i < splits.length ? splits[i]! : null,
        );
        if (split === null) {
          unsplittable.add(labels[i]!);
          summary.unsplittable.push({ table: config.name, r: labels[i]!, rows: rows[i]! });
          continue;
        }
        point = split;
        newSplits = [...splits.slice(0, i), split, ...splits.slice(i)];
      } else {
        const i = next.range;
        point = splits[i]!;
        moving = files.filter((f) => f.r === labels[i + 1]);
        newSplits = [...splits.slice(0, i), ...splits.slice(i + 1)];
      }
      const operation: RebalanceOperation = {
        table: config.name,
        kind: next.kind,
        split: point.toString(),
        before: labels,
        after: Array.from({ length: newSplits.length + 1 }, (_, i) => labelOf(i, newSplits)),
        rows: moving.reduce((n, f) => n + f.rows, 0),
        filesRemoved: 0,
        filesAdded: 0,
        version: null,
      };
      if (dryRun) {
        summary.operations.push(operation);
        break;
      }
      const { removed, added } = await moveFiles(storage, current, moving, newSplits, writer, signal);
      const actions: CommitAction[] = [
        ...removed.map((f) => ({ op: 'remove' as const, key: f.key, table: f.table })),
        ...added.map((file) => ({ op: 'add' as const, file })),
        {
          op: 'set_splits',
          table: config.name,
          splits: newSplits.map(String),
          expected: splits.map(String),
        },
      ];
      const version = await commitReplacement(catalog, {
        publishErrors: summary.publish_errors,
        operation: 'rebalance',
        writer,
        actions,
        written: added,
      });
      if (version === null) {
        summary.conflicts++;
        if (++conflicts > maxConflicts) break;
        continue;
      }
      summary.operations.push({
        ...operation,
        filesRemoved: removed.length,
        filesAdded: added.length,
        version,
      });
      done++;
    }
  }
  summary.version = (await catalog.snapshot()).version;
  return summary;
}
