/**
 * `ingest`: stream point files (or stdin) into a table of the lake. Sources are opened and checked
 * first (missing columns, unknown frame, a table's frame or LOD mismatch fail before anything is
 * written: table-plan.ts); rows are converted chunk by chunk, rejects go to the reject file, the
 * partition writer flushes sorted Parquet files (load.ts), and one catalog commit at the end makes
 * them visible together (commit.ts). A run that fails commits nothing. Each source is a batch
 * identified by its identity (file path, size, modification time; for a stream, a digest of its
 * rows), so running the same ingest again commits nothing twice unless `force` is set.
 */
import { realpathSync } from 'node:fs';
import { checkInt, OctaError } from '../../lattice/errors.js';
import { checkNewTableName, EmbeddedCatalog, type TableConfig, validateName } from '../catalog/catalog.js';
import type { WriterLease } from '../catalog/writer-lease.js';
import { openSource } from '../sources/index.js';
import { LocalStorage } from '../storage/local-storage.js';
import { commitLoaded } from './commit.js';
import { type LoadRun, loadSources } from './load.js';
import { checkOutputFile } from './outputs.js';
import { type IngestOptions, type IngestSummary, inputRefs, nameOf, type Prepared } from './plan.js';
import { planTable } from './table-plan.js';
import { openFileSource } from './threads.js';

export {
  boundedChunkRows,
  type IngestInput,
  type IngestOptions,
  type IngestProgress,
  type IngestSummary,
} from './plan.js';

/**
 * Ingests the inputs into the table.
 * @returns counts of rows read, committed and rejected, files and partitions written
 * @throws {OctaError} for structural problems (before anything is written) and when rejects exceed `maxRejects`
 */
export async function ingest(opts: IngestOptions): Promise<IngestSummary> {
  const { storage, table, force = false, maxRejects = 1000 } = opts;
  validateName('table', table);
  checkInt(maxRejects, 0, Number.MAX_SAFE_INTEGER, 'INVALID_ARGUMENT', 'maxRejects');
  for (const [what, value] of [
    ['fileRows', opts.fileRows],
    ['memoryBytes', opts.memoryBytes],
    ['rowGroupSize', opts.rowGroupSize],
    ['chunkRows', opts.chunkRows],
  ] as const) {
    if (value !== undefined) checkInt(value, 1, Number.MAX_SAFE_INTEGER, 'INVALID_ARGUMENT', what);
  }
  if (opts.inputs.length === 0)
    throw new OctaError('INVALID_ARGUMENT', 'no input: name files, or - for stdin');
  if (typeof opts.rejectFile === 'string') {
    // Before anything is read: a reject file that is an input would be truncated while it is read.
    checkOutputFile({
      path: opts.rejectFile,
      option: 'the reject file',
      inputs: inputRefs(opts.inputs),
      ...(storage instanceof LocalStorage ? { lake: storage.root } : {}),
      lakeFolder: '_rejects',
      createParents: true,
    });
  }
  const catalog = await EmbeddedCatalog.open({ storage });
  const snap = await catalog.snapshot();
  const existing = snap.tables.get(table);
  if (existing === undefined) checkNewTableName(table);

  const prepared: Prepared[] = [];
  // The run's writer lease, taken before it writes its first file and released when it is done.
  const leases: WriterLease[] = [];
  try {
    for (const input of opts.inputs) {
      const name = nameOf(input);
      const source =
        'source' in input
          ? input.source
          : 'path' in input && input.path !== '-'
            ? await openFileSource(input.path, opts.format)
            : await openSource({
                stream: 'stream' in input ? input.stream : process.stdin,
                ...(opts.format ? { format: opts.format } : {}),
              });
      const identity =
        source.identity.kind === 'file'
          ? JSON.stringify({
              path: realpathSync(source.identity.path),
              size: source.identity.size,
              mtimeMs: source.identity.mtimeMs,
            })
          : null;
      prepared.push({ input, name, source, identity });
    }
    return await run({
      opts,
      catalog,
      existing: existing?.config,
      committedBatches: existing?.batches ?? new Set(),
      prepared,
      force,
      maxRejects,
      leases,
    });
  } finally {
    for (const lease of leases) await lease.release();
    for (const p of prepared) await p.source.close();
  }
}

/** One run over opened sources: plan the table, load the sources into files, commit them. */
async function run(
  input: Omit<LoadRun, 'table' | 'summary'> & { catalog: EmbeddedCatalog; existing: TableConfig | undefined },
): Promise<IngestSummary> {
  const { opts, catalog, existing } = input;
  const table = await planTable(opts, existing, input.prepared);
  const summary: IngestSummary = {
    rows_read: 0,
    rows_committed: 0,
    rows_rejected: 0,
    files: 0,
    partitions: 0,
    batches_skipped: 0,
    version: null,
    reject_file: null,
    publish_errors: [],
  };
  const loaded = await loadSources({ ...input, table, summary });
  return commitLoaded({ opts, catalog, existing, config: table.config, loaded, summary });
}
