/**
 * `compact`: merges the small files of each (time bucket, range) partition into files of up to
 * `targetRows` rows, sorted by cell, and replaces them in one commit per partition. Small files are
 * packed into groups in cell order, each group at most `targetRows` rows, so memory is bounded by
 * one output file; a group of one file is left alone unless its rows belong in another range (a
 * file an ingest routed with split points that a rebalance has since changed), which is rewritten
 * into the right ranges. The replaced files stay on storage, recorded as superseded, until vacuum.
 *
 * Concurrency: a partition's commit removes exactly the files it read. A concurrent ingest only
 * adds files, so the commit retries past it; a concurrent compaction that removed one of them makes
 * the catalog refuse it (CONFLICT), and this run deletes what it wrote and plans that partition
 * again on the new state, so rows are never lost or duplicated.
 */
import type { PointChunk } from '../../export/container.js';
import { checkInt } from '../../lattice/errors.js';
import { EmbeddedCatalog, type FileRecord } from '../catalog/catalog.js';
import { WriterLease } from '../catalog/writer-lease.js';
import { checkAborted } from '../ingest/outputs.js';
import type { Storage } from '../storage/storage.js';
import { commitReplacement } from './commit-replacement.js';
import {
  isMisrouted,
  type MaintainedTable,
  maintenanceWriter,
  readPointChunks,
  tablesOf,
  writeRouted,
} from './files.js';

/** Options of {@link compact}. */
export interface CompactOptions {
  storage: Storage;
  /** The table to compact (default every table). */
  table?: string;
  /** Rows per output file at most (default 1,000,000, as ingest's file size). */
  targetRows?: number;
  /** A file with fewer rows is small (default half of `targetRows`). */
  minFileRows?: number;
  /** Plan and report without writing or committing. */
  dryRun?: boolean;
  /** Times a partition is planned again after losing a race to another compaction (default 3). */
  maxAttempts?: number;
  /** Called after each partition is committed (for progress). */
  onPartition?: (p: CompactedPartition) => void;
  /** Aborts between files (SIGINT, SIGTERM): the partition in progress commits nothing and its files are removed. */
  signal?: AbortSignal;
}

/** One partition's replacement. */
export interface CompactedPartition {
  table: string;
  t: string;
  r: string;
  filesRemoved: number;
  filesAdded: number;
  rows: number;
  /** Catalog version of the commit, null in a dry run. */
  version: number | null;
}

/** What a compaction did. */
export interface CompactSummary {
  partitions: CompactedPartition[];
  files_removed: number;
  files_added: number;
  rows_rewritten: number;
  /** Partitions given up after losing `maxAttempts` races (their files are unchanged). */
  conflicts: number;
  version: number;
  /** Views (Delta Lake, Iceberg) that could not be brought up to date; the commits stand. */
  publish_errors: string[];
}

/** Groups of files to merge in one partition: each at most `targetRows` rows. */
function planPartition(
  files: readonly FileRecord[],
  table: MaintainedTable,
  targetRows: number,
  minFileRows: number,
): FileRecord[][] {
  const misrouted = (f: FileRecord) => isMisrouted(f, table.splits);
  const candidates = files
    .filter((f) => f.rows < minFileRows || misrouted(f))
    .sort((a, b) =>
      BigInt(a.cellMin) < BigInt(b.cellMin) ? -1 : BigInt(a.cellMin) > BigInt(b.cellMin) ? 1 : 0,
    );
  const groups: FileRecord[][] = [];
  let group: FileRecord[] = [];
  let rows = 0;
  for (const f of candidates) {
    if (group.length > 0 && rows + f.rows > targetRows) {
      groups.push(group);
      group = [];
      rows = 0;
    }
    group.push(f);
    rows += f.rows;
  }
  if (group.length > 0) groups.push(group);
  return groups.filter((g) => g.length > 1 || g.some(misrouted));
}

/** Files of a table by `t/r` partition. */
function partitionsOf(files: Iterable<FileRecord>): Map<string, FileRecord[]> {
  const out = new Map<string, FileRecord[]>();
  for (const f of files) {
    const key = `${f.t}/${f.r}`;
    const list = out.get(key);
    if (list) list.push(f);
    else out.set(key, [f]);
  }
  return out;
}

/**
 * Compacts the small files of a lake's tables.
 * @param options - storage, table, sizes; see {@link CompactOptions}
 * @returns what was replaced, per partition
 * @throws {OctaError} NOT_FOUND for an unknown table; INVALID_ARGUMENT for bad sizes; IO_ERROR or
 *   CORRUPT when a file cannot be read (nothing of that partition is committed)
 */
export async function compact({
  storage,
  table,
  targetRows = 1_000_000,
  minFileRows = Math.max(1, Math.floor(targetRows / 2)),
  dryRun = false,
  maxAttempts = 3,
  onPartition,
  signal,
}: CompactOptions): Promise<CompactSummary> {
  checkInt(targetRows, 1, 2 ** 31 - 1, 'INVALID_ARGUMENT', '`targetRows`', { params: ['targetRows'] });
  // The one check of this bound: the CLI relies on it (its flags are these names, renamed).
  checkInt(minFileRows, 1, targetRows, 'INVALID_ARGUMENT', '`minFileRows` (at most `targetRows`)', {
    params: ['minFileRows', 'targetRows'],
  });
  checkInt(maxAttempts, 1, 1000, 'INVALID_ARGUMENT', 'maxAttempts');
  const catalog = await EmbeddedCatalog.open({ storage });
  const writer = maintenanceWriter('compact');
  // Vacuum keeps the files of a live lease, whatever its grace, until this run is done.
  const lease = dryRun ? null : await WriterLease.acquire(storage, writer, 'compact');
  try {
    return await compactTables({
      storage,
      table,
      targetRows,
      minFileRows,
      dryRun,
      maxAttempts,
      onPartition,
      catalog,
      writer,
      signal,
    });
  } finally {
    await lease?.release();
  }
}

/** The work of {@link compact}, under the run's lease. */
async function compactTables({
  storage,
  table,
  targetRows,
  minFileRows,
  dryRun,
  maxAttempts,
  onPartition,
  catalog,
  writer,
  signal,
}: Required<Omit<CompactOptions, 'table' | 'onPartition' | 'signal'>> &
  Pick<CompactOptions, 'table' | 'onPartition' | 'signal'> & {
    catalog: EmbeddedCatalog;
    writer: string;
  }): Promise<CompactSummary> {
  const summary: CompactSummary = {
    partitions: [],
    files_removed: 0,
    files_added: 0,
    rows_rewritten: 0,
    conflicts: 0,
    version: 0,
    publish_errors: [],
  };
  const first = await catalog.snapshot();
  for (const { config } of tablesOf(first, table)) {
    const keys = [...partitionsOf(first.tables.get(config.name)!.files.values()).keys()].sort();
    for (const partition of keys) {
      for (let attempt = 1; ; attempt++) {
        // Plan on the latest state: an earlier partition's commit or another writer may have moved on.
        const snapshot = await catalog.snapshot();
        const state = snapshot.tables.get(config.name)!;
        const current = tablesOf(snapshot, config.name)[0]!;
        const files = partitionsOf(state.files.values()).get(partition) ?? [];
        const groups = planPartition(files, current, targetRows, minFileRows);
        if (groups.length === 0) break;
        const removed = groups.flat();
        const [t, r] = [removed[0]!.t, removed[0]!.r];
        const rows = removed.reduce((n, f) => n + f.rows, 0);
        if (dryRun) {
          const planned = {
            table: config.name,
            t,
            r,
            filesRemoved: removed.length,
            filesAdded: groups.length,
          };
          summary.partitions.push({ ...planned, rows, version: null });
          break;
        }
        const written: FileRecord[] = [];
        try {
          for (const group of groups) {
            const chunks: PointChunk[] = [];
            for (const f of group) {
              chunks.push(...(await readPointChunks(storage, f.key, current.schema)));
              checkAborted(signal);
            }
            const batch = `compact:${writer}`;
            const args = { storage, table: current, t, writer, batch, chunks };
            written.push(...(await writeRouted({ ...args, splits: current.splits, fileRows: targetRows })));
            checkAborted(signal);
          }
        } catch (error) {
          await Promise.allSettled(written.map((f) => storage.delete(f.key)));
          throw error;
        }
        const version = await commitReplacement(catalog, {
          publishErrors: summary.publish_errors,
          operation: 'compact',
          writer,
          written,
          actions: [
            ...removed.map((f) => ({ op: 'remove' as const, key: f.key, table: f.table })),
            ...written.map((file) => ({ op: 'add' as const, file })),
          ],
        });
        if (version === null) {
          if (attempt < maxAttempts) continue;
          summary.conflicts++;
          break;
        }
        const done: CompactedPartition = {
          table: config.name,
          t,
          r,
          filesRemoved: removed.length,
          filesAdded: written.length,
          rows,
          version,
        };
        summary.partitions.push(done);
        onPartition?.(done);
        break;
      }
    }
  }
  for (const p of summary.partitions) {
    summary.files_removed += p.filesRemoved;
    summary.files_added += p.filesAdded;
    summary.rows_rewritten += p.rows;
  }
  summary.version = (await catalog.snapshot()).version;
  return summary;
}
