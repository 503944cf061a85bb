// Over 400 lines: `run`, the load-and-commit loop, is one function of about 420 lines; planning is already
// cut into plan.ts, and cutting `run` is issue 15 item 5 (ingest).
/**
 * `ingest`: stream point files (or stdin) into a table of the lake. Sources are opened and checked
 * first (missing columns, unknown frame, a table's frame or LOD mismatch fail before anything is
 * written); rows are converted chunk by chunk, rejects go to the reject file, the partition writer
 * flushes sorted Parquet files, and one catalog commit at the end makes them visible together. A run
 * that fails commits nothing. Each source is a batch identified by its identity (file path, size,
 * modification time; for a stream, a digest of its rows), so running the same ingest again commits
 * nothing twice unless `force` is set.
 */
import { createHash, randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createPointSchema, type PayloadColumn, RESERVED_COLUMN_NAMES } from '../../export/schema.js';
import { index64ToHilbert64Batch } from '../../lattice/batch.js';
import { checkInt, OctaError } from '../../lattice/errors.js';
import { type Frame, frameToJSON, parseFrameSpec } from '../../lattice/frame.js';
import {
  checkNewTableName,
  EmbeddedCatalog,
  type FileRecord,
  type TableConfig,
  validateName,
} from '../catalog/catalog.js';
import { checkWrittenFiles, WriterLease } from '../catalog/writer-lease.js';
import {
  DEFAULT_CHUNK_ROWS,
  openSource,
  type Source,
  type SourceChunk,
  type SourceFormat,
} from '../sources/index.js';
import { LocalStorage } from '../storage/local-storage.js';
import {
  type ConversionPlan,
  type ConvertedRows,
  convertChunk,
  inferPayloadType,
  type RowReject,
} from './convert.js';
import type { Metrics } from './metrics.js';
import { checkAborted, checkOutputFile } from './outputs.js';
import { PartitionWriter } from './partition-writer.js';
import { checkInputColumns } from './payload-types.js';
import {
  autoFrame,
  batchIds,
  boundedChunkRows,
  coordinateColumns,
  coordinateMapping,
  DEFAULT_MEMORY_BYTES,
  hasTypedTime,
  type IngestOptions,
  type IngestSummary,
  inputRefs,
  isRegularFile,
  nameOf,
  openFileSource,
  type Prepared,
  requireColumns,
  sameFrame,
  timeMapping,
} from './plan.js';
import { RejectSink } from './rejects.js';

export {
  boundedChunkRows,
  type IngestInput,
  type IngestOptions,
  type IngestProgress,
  type IngestSummary,
} from './plan.js';

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
    return await run(
      opts,
      catalog,
      existing?.config,
      existing?.batches ?? new Set(),
      prepared,
      force,
      maxRejects,
      leases,
    );
  } finally {
    for (const lease of leases) await lease.release();
    for (const p of prepared) await p.source.close();
  }
}

async function run(
  opts: IngestOptions,
  catalog: EmbeddedCatalog,
  existing: TableConfig | undefined,
  committedBatches: ReadonlySet<string>,
  prepared: Prepared[],
  force: boolean,
  maxRejects: number,
  leases: WriterLease[],
): Promise<IngestSummary> {
  const first = prepared[0]!.source;
  const coords = coordinateMapping(opts, first);
  const time = timeMapping(opts, first, prepared[0]!.name);

  // Frame and LOD: a table remembers them; a different one is refused before anything is written.
  const frameId = opts.frameId ?? existing?.frame.id ?? 0;
  let frame: Frame;
  if (opts.frame === undefined || opts.frame === '') {
    frame =
      existing?.frame ??
      (coords.kind === 'geodetic' || first.lasHeader ? autoFrame(prepared, coords, frameId) : missingFrame());
  } else if (opts.frame === 'auto') frame = existing?.frame ?? autoFrame(prepared, coords, frameId);
  else frame = parseFrameSpec(opts.frame, { id: frameId });
  const lod = opts.lod ?? existing?.lod ?? 15;
  const timeBucket = opts.timeBucket ?? existing?.timeBucket ?? 'day';
  const idKind = opts.idKind ?? existing?.idKind ?? 'index64';
  if (existing) {
    const diffs: string[] = [];
    if (!sameFrame(existing.frame, frame))
      diffs.push(`frame ${frameToJSON(frame)} (the table has ${frameToJSON(existing.frame)})`);
    if (existing.lod !== lod) diffs.push(`LOD ${lod} (the table has ${existing.lod})`);
    if (existing.idKind !== idKind) diffs.push(`id kind ${idKind} (the table has ${existing.idKind})`);
    if (existing.timeBucket !== timeBucket)
      diffs.push(`time bucket ${timeBucket} (the table has ${existing.timeBucket})`);
    if (diffs.length > 0) {
      throw new OctaError(
        'CONFLICT',
        `table ${existing.name} was created with another layout: refused ${diffs.join('; ')}`,
        existing.name,
      );
    }
  }

  // Columns: the mapped ones must exist in every source; the rest become payload.
  const consumed = new Set<string>(coords.kind === 'xyz' ? [coords.x, coords.y, coords.z] : []);
  if (time.kind === 'column') consumed.add(time.column);
  const exclude = new Set(opts.exclude ?? []);
  // An NDJSON input's columns are the keys of its first line, and a key that first appears later
  // rejects its line unless it is excluded: with an NDJSON input, any name may be excluded.
  const anyNdjson = prepared.some((p) => p.source.format === 'ndjson');
  const unknown = [...exclude].filter(
    (name) => !anyNdjson && !prepared.some((p) => p.source.columns.some((c) => c.name === name)),
  );
  if (unknown.length > 0) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `\`exclude\` names no input column: ${unknown.map((u) => JSON.stringify(u)).join(', ')}`,
      unknown,
      { params: ['exclude'] },
    );
  }
  for (const p of prepared) {
    const needed = coordinateColumns(coords);
    if (time.kind === 'column') needed.push(time.column);
    requireColumns(p.source, p.name, needed);
  }
  const payloadSources = first.columns.filter((c) => !consumed.has(c.name) && !exclude.has(c.name));
  // Column names are the input's: two that differ only in case (the lake compares names as SQL
  // does, case-insensitively) are a fault of the data, as a name used twice in a CSV header is.
  const folded = new Map<string, string>();
  for (const c of payloadSources) {
    const other = folded.get(c.name.toLowerCase());
    if (other !== undefined) {
      throw new OctaError(
        'INVALID_INPUT',
        `${prepared[0]!.name}: columns "${other}" and "${c.name}" differ only in case, and the lake's column names ignore case; rename one, or leave one out with \`exclude\``,
        c.name,
        { params: ['exclude'] },
      );
    }
    folded.set(c.name.toLowerCase(), c.name);
  }
  const reserved = payloadSources.filter((c) => RESERVED_COLUMN_NAMES.includes(c.name.toLowerCase()));
  if (reserved.length > 0) {
    throw new OctaError(
      'SCHEMA_MISMATCH',
      `input columns ${reserved.map((c) => JSON.stringify(c.name)).join(', ')} collide with the lake's own columns (${RESERVED_COLUMN_NAMES.join(', ')}): map them or leave them out with \`exclude\``,
      reserved.map((c) => c.name),
      { params: ['exclude'] },
    );
  }

  // Types: every column read is decoded exactly and every payload column kept as its own type, or
  // the ingest is refused here, before anything is read.
  const mapped = new Set<string>(coordinateColumns(coords));
  if (time.kind === 'column') mapped.add(time.column);
  const readColumns = (source: Source) =>
    source.columns.filter((c) => mapped.has(c.name) || !exclude.has(c.name)).map((c) => c.name);
  for (const p of prepared) {
    checkInputColumns({
      name: p.name,
      columns: p.source.columns,
      read: new Set(readColumns(p.source)),
      payload: new Set(
        p.source.columns.filter((c) => !consumed.has(c.name) && !exclude.has(c.name)).map((c) => c.name),
      ),
      mapped,
      ...(existing ? { table: existing.payload } : {}),
    });
  }

  const chunkRows = boundedChunkRows(
    opts.chunkRows ?? DEFAULT_CHUNK_ROWS,
    Math.max(...prepared.map((p) => p.source.columns.length)),
    opts.memoryBytes ?? DEFAULT_MEMORY_BYTES,
  );
  const ignoreKeys = [...exclude];
  // Text sources parse the coordinate columns straight into doubles; times stay text, read exactly.
  const numeric = coordinateColumns(coords);
  const firstInput = prepared[0]!.input;
  const textFile =
    (first.format === 'csv' || first.format === 'ndjson') &&
    'path' in firstInput &&
    firstInput.path !== '-' &&
    isRegularFile(firstInput.path);
  let payload: PayloadColumn[];
  let peek: IteratorResult<SourceChunk> | undefined;
  let firstChunks: AsyncIterator<SourceChunk> | undefined;
  if (existing) {
    const known = new Map(existing.payload.map((c) => [c.name, c]));
    const extra = payloadSources.filter((c) => !known.has(c.name));
    if (extra.length > 0) {
      throw new OctaError(
        'SCHEMA_MISMATCH',
        `table ${existing.name} has no column ${extra.map((c) => JSON.stringify(c.name)).join(', ')}: leave them out with \`exclude\``,
        extra.map((c) => c.name),
        { params: ['exclude'] },
      );
    }
    payload = [...existing.payload];
  } else {
    // Payload types come from the first chunk. A text file is sampled through a second reader, so
    // the real read can parse the numeric payload columns straight into doubles too; a stream
    // cannot be read twice, so its first chunk is kept and its payload parsed from text.
    let sample: SourceChunk | undefined;
    if (textFile) {
      const sampler = await openSource({ path: firstInput.path, format: first.format as SourceFormat });
      try {
        const it = sampler.chunks({ chunkRows, numeric, ignoreKeys })[Symbol.asyncIterator]();
        const r = await it.next();
        sample = r.done ? undefined : r.value;
      } finally {
        await sampler.close();
      }
    } else {
      firstChunks = first
        .chunks({ chunkRows, numeric, ignoreKeys, columns: readColumns(first) })
        [Symbol.asyncIterator]();
      peek = await firstChunks.next();
      sample = peek.done ? undefined : peek.value;
    }
    payload = payloadSources.map((c) => ({
      name: c.name,
      type:
        mapped.has(c.name) && c.type === 'wide_decimal'
          ? 'float64'
          : inferPayloadType(c, sample?.columns[c.name]),
    }));
  }
  const chunkOptions = {
    chunkRows,
    numeric: [
      ...numeric,
      ...payload
        .filter((c) => (c.type === 'float64' || c.type === 'int32') && !exclude.has(c.name))
        .map((c) => c.name),
    ],
  };
  const optionsFor = (source: Source) => {
    const names = new Set(source.columns.map((c) => c.name));
    return {
      chunkRows,
      columns: readColumns(source),
      numeric: chunkOptions.numeric.filter((name) => names.has(name)),
      ignoreKeys,
    };
  };
  firstChunks ??= first.chunks(optionsFor(first))[Symbol.asyncIterator]();
  peek ??= await firstChunks.next();
  // Every input must fit the table: a column of a later input that the table lacks is refused
  // too, not silently dropped.
  const tableColumns = new Set(payload.map((c) => c.name));
  for (const p of prepared) {
    const extra = p.source.columns.filter(
      (c) => !consumed.has(c.name) && !exclude.has(c.name) && !tableColumns.has(c.name),
    );
    if (extra.length > 0) {
      throw new OctaError(
        'SCHEMA_MISMATCH',
        `table ${opts.table} has no column ${extra.map((c) => JSON.stringify(c.name)).join(', ')} of ${p.name}${existing ? '' : ` (a new table takes its columns from the first input, ${prepared[0]!.name})`}: leave them out with \`exclude\``,
        extra.map((c) => c.name),
        { params: ['exclude'] },
      );
    }
  }
  const schema = createPointSchema({ payload });
  const plan: ConversionPlan = {
    frame,
    lod,
    coords,
    time,
    // Each input's own column of that name, when it has one (a chunk without it gives nulls).
    payload: payload.map((c) => ({ ...c, ...(exclude.has(c.name) ? {} : { source: c.name }) })),
  };
  const config: TableConfig = existing ?? {
    name: opts.table,
    frame,
    lod,
    idKind,
    timeBucket,
    payload,
    splits: [],
    createdAt: new Date().toISOString(),
  };
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
  });
  const rejects = RejectSink.create({ path: opts.rejectFile ?? null });
  const summary: IngestSummary = {
    rows_read: 0,
    rows_committed: 0,
    rows_rejected: 0,
    files: 0,
    partitions: 0,
    batches_skipped: 0,
    version: null,
    reject_file: null,
  };
  const batches: string[] = [];
  const batchRows = new Map<string, number>();
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
      let rows = 0;
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
        rows += converted.rows;
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
      batchRows.set(id, rows);
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
  const files = writer.files;
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
  return summary;
}

/** Per written file: count, bytes and the seconds from flush to stored. */
function fileMetrics(metrics: Metrics): (file: FileRecord, seconds: number) => void {
  return (file, seconds) => {
    metrics.inc('octa_ingest_files_written_total', 'Data files written (committed or not)');
    metrics.inc('octa_ingest_bytes_written_total', 'Parquet bytes written', file.bytes);
    metrics.observe('octa_ingest_file_write_seconds', 'Sort, encode and store time per data file', seconds);
  };
}

function missingFrame(): never {
  throw new OctaError(
    'INVALID_FRAME',
    'no frame for a new table: give `frame` (ecef, enu:LAT,LON,H,EDGE, cartesian:X0,Y0,Z0,EDGE or auto)',
    undefined,
    { params: ['frame'] },
  );
}
