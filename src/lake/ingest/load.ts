/**
 * The load half of an ingest run: takes the run's writer lease, reads each source chunk by chunk
 * (a source committed before is skipped), converts the rows, sends rejects to the reject file, and
 * hands the rows to the partition writer, which writes sorted Parquet files that stay invisible
 * until the commit (commit.ts). Each source is one batch: its id is known up front for a file, and
 * from a digest of its stored rows at its end for a stream. A failure deletes what the run wrote.
 */
import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { index64ToHilbert64Batch } from '../../lattice/batch.js';
import { OctaError } from '../../lattice/errors.js';
import type { FileRecord } from '../catalog/catalog.js';
import { WriterLease } from '../catalog/writer-lease.js';
import type { SourceChunk } from '../sources/index.js';
import { type ConvertedRows, convertChunk, type RowReject } from './convert.js';
import { fileMetrics } from './metrics.js';
import { checkAborted } from './outputs.js';
import { PartitionWriter } from './partition-writer.js';
import { batchIds, hasTypedTime, type IngestOptions, type IngestSummary, type Prepared } from './plan.js';
import { RejectSink } from './rejects.js';
import type { TablePlan } from './table-plan.js';
import { ingestThreads, THREADED_SOURCE_BYTES } from './threads.js';

/** What the load leaves for the commit: the run's writer id, its files and its batch ids. */
export interface Loaded {
  writerId: string;
  files: readonly FileRecord[];
  batches: string[];
}

/** What {@link loadSources} works on. */
export interface LoadRun {
  opts: IngestOptions;
  table: TablePlan;
  prepared: Prepared[];
  /** Batch ids the table has committed before. */
  committedBatches: ReadonlySet<string>;
  force: boolean;
  maxRejects: number;
  /** The run's leases: the writer lease is added here, and the caller releases it. */
  leases: WriterLease[];
  /** Counts rows read and rejected, sources skipped and the reject file. */
  summary: IngestSummary;
}

/**
 * Loads every source of a run into written, uncommitted files.
 * @throws {OctaError} INVALID_INPUT when rejects exceed `maxRejects`; what a source, the conversion,
 *   the reject file or the storage throws (after deleting the files written)
 */
export async function loadSources({
  opts,
  table,
  prepared,
  committedBatches,
  force,
  maxRejects,
  leases,
  summary,
}: LoadRun): Promise<Loaded> {
  const { plan, config, schema, frame, lod, idKind, timeBucket, firstChunks, peek, optionsFor } = table;
  const writerId = randomBytes(4).toString('hex');
  // Vacuum keeps the files of a live lease, whatever its grace, until this run is done.
  leases.push(await WriterLease.acquire(opts.storage, writerId, 'ingest'));
  const writer = PartitionWriter.create({
    storage: opts.storage,
    table: {
      name: config.name,
      frame,
      lod,
      idKind,
      timeBucket,
      schema,
      splits: config.splits.map(BigInt),
    },
    writer: writerId,
    ...(opts.fileRows === undefined ? {} : { fileRows: opts.fileRows }),
    ...(opts.memoryBytes === undefined ? {} : { memoryBytes: opts.memoryBytes }),
    ...(opts.rowGroupSize === undefined ? {} : { rowGroupSize: opts.rowGroupSize }),
    ...(opts.metrics === undefined ? {} : { onFile: fileMetrics(opts.metrics) }),
    workers: smallTextInputs(prepared) ? 0 : ingestThreads(availableParallelism()).encoders,
  });
  const rejects = RejectSink.create({ path: opts.rejectFile ?? null });
  const batches: string[] = [];
  try {
    for (const [index, p] of prepared.entries()) {
      const typed = hasTypedTime(plan, p.source);
      const ids = p.identity === null ? null : batchIds(plan, config.name, p.identity, force, typed);
      const known = ids?.[0] ?? null;
      // Committed before (under any equivalent spelling), or named twice in this run (also
      // through a link): read it once.
      if (ids !== null && (ids.some((id) => committedBatches.has(id)) || batches.includes(known!))) {
        summary.batches_skipped++;
        continue;
      }
      const digest = createHash('sha256');
      const firstFile = writer.files.length;
      const chunks: AsyncIterator<SourceChunk> =
        index === 0 ? firstChunks : p.source.chunks(optionsFor(p.source))[Symbol.asyncIterator]();
      let next = index === 0 ? peek : await chunks.next();
      let sourceBytes = 0;
      while (!next.done) {
        const chunk = next.value;
        summary.rows_read += chunk.rows + chunk.rejects.length;
        const { rows: converted, rejects: bad } = convertChunk(plan, chunk);
        if (idKind === 'hilbert64') index64ToHilbert64Batch(converted.cell);
        if (known === null) digestRows(digest, converted, bad);
        await rejects.add(p.name, bad);
        summary.rows_rejected += bad.length;
        opts.metrics?.inc(
          'octa_ingest_rows_read_total',
          'Input rows read, rejected ones included',
          chunk.rows + chunk.rejects.length,
        );
        opts.metrics?.inc(
          'octa_ingest_rows_rejected_total',
          'Input rows sent to the reject file',
          bad.length,
        );
        if (chunk.position.bytes !== undefined) {
          opts.metrics?.inc(
            'octa_ingest_bytes_read_total',
            'Input bytes read',
            chunk.position.bytes - sourceBytes,
          );
          sourceBytes = chunk.position.bytes;
        }
        if (summary.rows_rejected > maxRejects) {
          throw new OctaError(
            'INVALID_INPUT',
            `${summary.rows_rejected} rows rejected, more than \`maxRejects\` ${maxRejects}; nothing was committed${rejects.path ? ` (reasons in ${rejects.path})` : ''}`,
            summary.rows_rejected,
            { params: ['maxRejects'] },
          );
        }
        await writer.add(converted);
        opts.onProgress?.({
          source: p.name,
          rowsRead: summary.rows_read,
          rowsRejected: summary.rows_rejected,
          files: writer.files.length,
          ...(chunk.position.bytes === undefined ? {} : { bytes: chunk.position.bytes }),
          ...(p.source.identity.kind === 'file' ? { size: p.source.identity.size } : {}),
        });
        checkAborted(opts.signal);
        next = await chunks.next();
      }
      // A stream's rows committed under an equivalent spelling keep that id, so the commit skips them.
      const streamIds =
        known === null ? batchIds(plan, config.name, `stream:${digest.digest('hex')}`, force, typed) : [];
      const id = known ?? streamIds.find((s) => committedBatches.has(s)) ?? streamIds[0]!;
      await writer.flushAll();
      // Every file written while this source was read belongs to its batch (a stream's id is only
      // known at its end, after the memory cap may already have flushed some of its files).
      for (const f of writer.files.slice(firstFile)) f.batch = id;
      batches.push(id);
    }
    checkAborted(opts.signal);
    // Rejects that could not all be written fail the run, as any other failure before the commit.
    await rejects.close();
  } catch (err) {
    await rejects.close().catch(() => {});
    await writer.close();
    // Nothing is committed; remove what this run wrote (a crash leaves them for vacuum instead).
    await Promise.allSettled(writer.files.map((f) => opts.storage.delete(f.key)));
    throw err;
  }
  await writer.close();
  summary.reject_file = rejects.count > 0 ? rejects.path : null;
  return { writerId, files: writer.files, batches };
}

/**
 * Feeds a stream's converted rows to its digest: the stored values (not the parsed text), so the
 * same rows give the same batch id however the reader was asked to parse them.
 */
function digestRows(
  h: ReturnType<typeof createHash>,
  rows: ConvertedRows,
  rejected: readonly RowReject[],
): void {
  const bytes = (a: ArrayBufferView) => h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  h.update(`${rows.rows}:${rejected.map((r) => r.row).join(',')};`);
  for (const a of [rows.rowNumbers, rows.cell, rows.x, rows.y, rows.z]) bytes(a);
  // Times as the doubles earlier versions digested (so a stream committed by them is known), and
  // their exact words too when a double cannot hold one.
  const words = new Int32Array(rows.timeUs.buffer, rows.timeUs.byteOffset, 2 * rows.rows);
  const doubles = new Float64Array(rows.rows);
  let inexact = false;
  for (let i = 0; i < rows.rows; i++) {
    const hi = words[2 * i + 1]!;
    doubles[i] = hi * 4294967296 + (words[2 * i]! >>> 0);
    if (hi >= 2097152 || hi < -2097152) inexact = true;
  }
  bytes(doubles);
  if (inexact) bytes(rows.timeUs);
  for (const name of Object.keys(rows.payload).sort()) {
    const c = rows.payload[name]!;
    h.update(name);
    if (c.type === 'utf8') h.update(JSON.stringify(c.values));
    else {
      bytes(c.values);
      bytes(c.valid);
    }
  }
}

/**
 * Whether every input is a CSV or NDJSON file and all of them together are smaller than a file
 * that gets its own reader thread: then the few files they make are encoded on this thread, which
 * is quicker than starting an encoder thread (~0.3 s to load and compile parquet-wasm and Arrow).
 */
function smallTextInputs(prepared: readonly Prepared[]): boolean {
  let bytes = 0;
  for (const { source } of prepared) {
    if (source.identity.kind !== 'file' || (source.format !== 'csv' && source.format !== 'ndjson'))
      return false;
    bytes += source.identity.size;
  }
  return bytes < THREADED_SOURCE_BYTES;
}
