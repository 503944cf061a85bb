/**
 * The table an ingest run writes and how it reads its sources, fixed before the first row is
 * converted: the coordinate and time mappings, the frame and LOD (a table remembers them; another
 * layout is refused), the payload columns and their types (from the table, or the first chunk of a
 * new one), the refusals of columns that do not fit, and the conversion plan. Nothing is written.
 */
import {
  createPointSchema,
  type PayloadColumn,
  type PointSchema,
  RESERVED_COLUMN_NAMES,
} from '../../export/schema.js';
import { OctaError } from '../../lattice/errors.js';
import { type Frame, frameToJSON, parseFrameSpec } from '../../lattice/frame.js';
import type { TileIdKind } from '../../lattice/ids.js';
import type { TableConfig } from '../catalog/catalog.js';
import type { TimeBucket } from '../catalog/layout.js';
import {
  type ChunkOptions,
  DEFAULT_CHUNK_ROWS,
  openSource,
  type Source,
  type SourceChunk,
  type SourceFormat,
} from '../sources/index.js';
import type { ConversionPlan } from './convert.js';
import { inferPayloadType } from './convert-payload.js';
import { timeUnit } from './convert-time.js';
import { checkInputColumns } from './payload-types.js';
import {
  autoFrame,
  boundedChunkRows,
  coordinateColumns,
  coordinateMapping,
  DEFAULT_MEMORY_BYTES,
  type IngestOptions,
  isRegularFile,
  type Prepared,
  requireColumns,
  sameFrame,
  timeMapping,
} from './plan.js';

/** What {@link planTable} fixes for a run. */
export interface TablePlan {
  plan: ConversionPlan;
  /** The table's config: the existing one, or the one the run's commit creates. */
  config: TableConfig;
  schema: PointSchema;
  frame: Frame;
  lod: number;
  idKind: TileIdKind;
  timeBucket: TimeBucket;
  /** The first source's chunks, and its first chunk already read from them. */
  firstChunks: AsyncIterator<SourceChunk>;
  peek: IteratorResult<SourceChunk>;
  /** The `chunks()` options of a source. */
  optionsFor: (source: Source) => ChunkOptions;
}

/**
 * Fixes the table and the reading of a run's sources, reading only the first chunk of the first.
 * @param opts - the ingest's options
 * @param existing - the table's config when it exists
 * @param prepared - the opened sources, in input order (at least one)
 * @throws {OctaError} CONFLICT for another layout than the table's; SCHEMA_MISMATCH, INVALID_INPUT or
 *   INVALID_ARGUMENT for columns that are missing, collide, do not fit the table or are excluded
 *   without existing; INVALID_FRAME when a new table has no frame
 */
export async function planTable(
  opts: IngestOptions,
  existing: TableConfig | undefined,
  prepared: Prepared[],
): Promise<TablePlan> {
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
  // Text sources parse the coordinate columns straight into doubles, and CSV reads the time column
  // straight into INT64 µs where its text is in a common form (the rest stays text, read exactly).
  const numeric = coordinateColumns(coords);
  const timeOption =
    time.kind === 'column' && !numeric.includes(time.column)
      ? { time: { column: time.column, unit: timeUnit(time) } }
      : {};
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
        .chunks({ chunkRows, numeric, ignoreKeys, columns: readColumns(first), ...timeOption })
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
      ...(timeOption.time && names.has(timeOption.time.column) ? timeOption : {}),
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
  return { plan, config, schema, frame, lod, idKind, timeBucket, firstChunks, peek, optionsFor };
}

function missingFrame(): never {
  throw new OctaError(
    'INVALID_FRAME',
    'no frame for a new table: give `frame` (ecef, enu:LAT,LON,H,EDGE, cartesian:X0,Y0,Z0,EDGE or auto)',
    undefined,
    { params: ['frame'] },
  );
}
