/**
 * The commit half of an ingest run: one catalog commit makes the run's files visible together, after
 * checking that every one is still there. A refused commit deletes them; batches another writer
 * committed meanwhile are skipped and their files deleted. Fills in the summary's counts.
 */
import type { EmbeddedCatalog, TableConfig } from '../catalog/catalog.js';
import { publishAfterCommit } from '../catalog/publish/views.js';
import { checkWrittenFiles } from '../catalog/writer-lease.js';
import type { Loaded } from './load.js';
import type { IngestOptions, IngestSummary } from './plan.js';

/**
 * Commits what {@link loadSources} wrote, creating the table when it is new.
 * @returns the summary, with the version (null when nothing was committed) and the committed counts
 * @throws {OctaError} what the catalog throws (CONFLICT, NOT_FOUND naming a vanished file, …)
 */
export async function commitLoaded({
  opts,
  catalog,
  existing,
  config,
  loaded,
  summary,
}: {
  opts: IngestOptions;
  catalog: EmbeddedCatalog;
  existing: TableConfig | undefined;
  config: TableConfig;
  loaded: Loaded;
  summary: IngestSummary;
}): Promise<IngestSummary> {
  const { writerId, batches, files } = loaded;
  const actions = [
    ...(existing ? [] : [{ op: 'create_table' as const, config }]),
    ...files.map((file) => ({ op: 'add' as const, file })),
  ];
  // An input without a row to store (a header-only CSV, every row rejected) commits nothing: it
  // neither creates the table (whose payload types it could only guess) nor records its batch.
  const stored = batches.filter((id) => files.some((f) => f.batch === id));
  if (stored.length === 0) return summary;
  let result: Awaited<ReturnType<EmbeddedCatalog['commit']>>;
  const commitStart = performance.now();
  try {
    // Every file must still be there: a commit naming a vanished file would break the table.
    await checkWrittenFiles(opts.storage, files);
    result = await catalog.commit({ operation: 'ingest', writer: writerId, batches: stored, actions });
    opts.metrics?.observe(
      'octa_ingest_commit_seconds',
      'Catalog commit latency',
      (performance.now() - commitStart) / 1000,
    );
    opts.metrics?.inc(
      'octa_ingest_commit_retries_total',
      'Catalog versions lost to other writers and retried',
      result.attempts - 1,
    );
  } catch (err) {
    // A refused commit (a concurrent writer created the table with other settings, a file that
    // vanished) leaves no files.
    await Promise.allSettled(files.map((f) => opts.storage.delete(f.key)));
    throw err;
  }
  const skipped = new Set(result.skippedBatches);
  summary.batches_skipped += skipped.size;
  const kept = files.filter((f) => !skipped.has(f.batch));
  await Promise.allSettled(files.filter((f) => skipped.has(f.batch)).map((f) => opts.storage.delete(f.key)));
  summary.version = result.committed ? result.version : null;
  summary.files = kept.length;
  summary.partitions = new Set(kept.map((f) => `${f.t}/${f.r}`)).size;
  summary.rows_committed = kept.reduce((n, f) => n + f.rows, 0);
  opts.metrics?.inc(
    'octa_ingest_rows_committed_total',
    'Rows made visible by the commit',
    summary.rows_committed,
  );
  opts.metrics?.inc(
    'octa_ingest_files_committed_total',
    'Data files made visible by the commit',
    summary.files,
  );
  opts.metrics?.inc(
    'octa_ingest_batches_skipped_total',
    'Input batches already committed before',
    skipped.size,
  );
  // A run whose batches were all committed before (a retry after a crash) publishes too: the crash
  // may have come between that commit and its publication.
  if (result.committed || skipped.size > 0) {
    const publishStart = performance.now();
    summary.publish_errors = await publishAfterCommit(catalog, [config.name]);
    opts.metrics?.observe(
      'octa_ingest_publish_seconds',
      'Publishing the Delta Lake and Iceberg views after the commit',
      (performance.now() - publishStart) / 1000,
    );
  }
  return summary;
}
