/**
 * What the maintenance operations share: reading committed files back through the Storage
 * interface (never the file system, so S3 works the same), writing rewritten rows as new files with
 * their catalog records, routing cells to identifier ranges, and committing a replacement so that a
 * refused one leaves nothing behind. Rows go from the files read to the writer as chunks (views of
 * what the reader decoded), the form the lake's encoder takes; event time stays int64 throughout.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AsyncBuffer } from 'hyparquet';
import { arrowToPointBuffer, arrowToPointChunks } from '../../export/arrow.js';
import { type PayloadValues, PointBuffer, type PointChunk } from '../../export/container.js';
import { readParquet } from '../../export/parquet.js';
import { createPointSchema, type PointSchema } from '../../export/schema.js';
import { OctaError } from '../../lattice/errors.js';
import type { CatalogSnapshot, FileRecord, TableConfig } from '../catalog/catalog.js';
import { dataFileKey, rangeLabel } from '../catalog/layout.js';
import { fileRecord } from '../catalog/records.js';
import { encodeInline } from '../ingest/encoder.js';
import type { Storage } from '../storage/storage.js';

/** A table as the maintenance operations see it: its config, point schema and parsed splits. */
export interface MaintainedTable {
  config: TableConfig;
  schema: PointSchema;
  /** Lower bounds of the ranges after the first, signed INT64, ascending. */
  splits: bigint[];
}

/**
 * The tables an operation works on: the one named, or every table of the snapshot.
 * @throws {OctaError} NOT_FOUND naming the table and listing those the catalog has
 */
export function tablesOf(snapshot: CatalogSnapshot, table?: string): MaintainedTable[] {
  const names = table === undefined ? [...snapshot.tables.keys()].sort() : [table];
  return names.map((name) => {
    const state = snapshot.tables.get(name);
    if (state === undefined) {
      const known = [...snapshot.tables.keys()].sort().join(', ') || 'none';
      throw new OctaError('NOT_FOUND', `no such table in the catalog (tables: ${known})`, name);
    }
    return tableOf(state.config);
  });
}

/** The maintenance view of a table config. */
export function tableOf(config: TableConfig): MaintainedTable {
  return {
    config,
    schema: createPointSchema({ payload: config.payload }),
    splits: config.splits.map(BigInt),
  };
}

/** A writer id for one maintenance run, e.g. `compact-1a2b3c4d`; it names the files the run writes. */
export function maintenanceWriter(operation: string): string {
  return `${operation}-${randomBytes(4).toString('hex')}`;
}

/**
 * The range a cell falls in: the number of split points at or below it.
 * @param cell - signed INT64 cell id
 * @param splits - ascending split points
 */
export function rangeIndex(cell: bigint, splits: readonly bigint[]): number {
  let a = 0;
  let b = splits.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (splits[m]! <= cell) a = m + 1;
    else b = m;
  }
  return a;
}

/** The `r=` label of range `i` under `splits`. */
export function labelOf(i: number, splits: readonly bigint[]): string {
  return rangeLabel(i === 0 ? null : splits[i - 1]!);
}

/** The range whose label is `r`, or -1 when no range of `splits` has it. */
export function indexOfLabel(r: string, splits: readonly bigint[]): number {
  for (let i = 0; i <= splits.length; i++) if (labelOf(i, splits) === r) return i;
  return -1;
}

/**
 * Whether a file holds rows outside the range its `r=` label names (a concurrent ingest that
 * routed with split points a rebalance has since changed commits such a file).
 */
export function isMisrouted(file: FileRecord, splits: readonly bigint[]): boolean {
  const i = indexOfLabel(file.r, splits);
  if (i < 0) return true;
  return rangeIndex(BigInt(file.cellMin), splits) !== i || rangeIndex(BigInt(file.cellMax), splits) !== i;
}

/**
 * Reads a committed file back as a point buffer (the whole object through `storage.read`).
 * @throws {OctaError} NOT_FOUND, IO_ERROR, CORRUPT, or SCHEMA_MISMATCH when its columns are not the table's
 */
export async function readPointFile(
  storage: Storage,
  key: string,
  schema: PointSchema,
): Promise<PointBuffer> {
  return arrowToPointBuffer(readParquet(await storage.read(key)), { schema });
}

/**
 * Reads a committed file back as chunks, one per record batch, viewing the decoded columns (no copy
 * into a point buffer).
 * @throws {OctaError} NOT_FOUND, IO_ERROR, CORRUPT, or SCHEMA_MISMATCH when its columns are not the table's
 */
export async function readPointChunks(
  storage: Storage,
  key: string,
  schema: PointSchema,
): Promise<PointChunk[]> {
  return arrowToPointChunks(readParquet(await storage.read(key)), { schema }).chunks;
}

/** An AsyncBuffer for hyparquet over ranged reads, so that only the bytes of the columns read are fetched. */
function rangedBuffer(storage: Storage, key: string, byteLength: number): AsyncBuffer {
  return {
    byteLength,
    slice: async (start: number, end?: number) => {
      const bytes = await storage.readRange(key, start, (end ?? byteLength) - start);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/**
 * The `cell` column of a file, read through ranged reads of its footer and cell column chunks only.
 * @returns the cells in file order (ascending for a lake file)
 * @throws {OctaError} CORRUPT when the file cannot be read as Parquet or its cell count disagrees with the record
 */
export async function readCells(storage: Storage, file: FileRecord): Promise<BigInt64Array> {
  // Loaded at first use, so that importing octa-lake does not load the Parquet reader.
  const [{ parquetRead }, { compressors }] = await Promise.all([
    import('hyparquet'),
    import('hyparquet-compressors'),
  ]);
  const out = new BigInt64Array(file.rows);
  let filled = 0;
  try {
    await parquetRead({
      file: rangedBuffer(storage, file.key, file.bytes),
      columns: ['cell'],
      compressors,
      onChunk: ({ columnData, rowStart }) => {
        const data = columnData as ArrayLike<bigint>;
        if (rowStart + data.length > out.length) throw new Error('more rows than the catalog records');
        if (data instanceof BigInt64Array) out.set(data, rowStart);
        else for (let i = 0; i < data.length; i++) out[rowStart + i] = BigInt.asIntN(64, data[i]!);
        filled += data.length;
      },
    });
  } catch (error) {
    if (error instanceof OctaError) throw error;
    throw new OctaError('CORRUPT', `cannot read the cell column: ${(error as Error).message}`, file.key);
  }
  if (filled !== file.rows) {
    throw new OctaError('CORRUPT', `file holds ${filled} cells, the catalog records ${file.rows}`, file.key);
  }
  return out;
}

/** Options of {@link writePointFile}. */
export interface WritePointFileOptions {
  storage: Storage;
  table: MaintainedTable;
  /** Time bucket and range partition values of the new file. */
  t: string;
  r: string;
  /** Writer id (part of the file name) and source batch recorded with the file. */
  writer: string;
  batch: string;
  /** The rows, as chunks of the table's schema, in any order: they are sorted by cell. */
  chunks: PointChunk[];
}

/**
 * Sorts rows by cell, encodes them exactly as ingest does (same encoder, footer keys, row groups,
 * zstd) and writes a new, still uncommitted file.
 * @returns its catalog record
 */
export async function writePointFile({
  storage,
  table,
  t,
  r,
  writer,
  batch,
  chunks,
}: WritePointFileOptions): Promise<FileRecord> {
  const { config } = table;
  const { bytes, sha256, stats } = encodeInline({
    schema: table.schema,
    chunks,
    metadata: { frame: { ...config.frame }, lod: config.lod, idKind: config.idKind },
  });
  const key = dataFileKey({ table: config.name, lod: config.lod, t, r, writer, id: randomUUID() });
  await storage.write(key, bytes);
  return fileRecord({
    key,
    table: config.name,
    lod: config.lod,
    t,
    r,
    bytes: bytes.length,
    sha256,
    stats,
    batch,
    writer,
  });
}

/**
 * Writes rows into files of at most `fileRows` rows, each in the range its cells fall in under
 * `splits` (so files stay within their `r=` partition), ranges in ascending order. The chunks are
 * cut at range boundaries (views) and a range's pieces go to the encoder as they are; only a range
 * holding more than `fileRows` rows is joined and sorted here, to be cut into files of
 * consecutive cells.
 * @returns the records of the files written
 */
export async function writeRouted({
  storage,
  table,
  t,
  writer,
  batch,
  chunks,
  splits,
  fileRows,
}: Omit<WritePointFileOptions, 'r'> & { splits: readonly bigint[]; fileRows: number }): Promise<
  FileRecord[]
> {
  const ranges = routeChunks(chunks, splits);
  const out: FileRecord[] = [];
  for (const range of [...ranges.keys()].sort((a, b) => a - b)) {
    const pieces = ranges.get(range)!;
    const r = labelOf(range, splits);
    const args = { storage, table, t, r, writer, batch };
    const rows = pieces.reduce((n, c) => n + c.cell.length, 0);
    if (rows <= fileRows) {
      out.push(await writePointFile({ ...args, chunks: pieces }));
      continue;
    }
    const all = PointBuffer.create({ schema: table.schema, capacity: rows });
    for (const piece of pieces) all.append(piece);
    const sorted = all.take(all.sortByCell());
    for (let start = 0; start < rows; start += fileRows) {
      const part = sorted.slice(start, Math.min(rows, start + fileRows));
      out.push(await writePointFile({ ...args, chunks: [chunkOf(part)] }));
    }
  }
  return out;
}

/** The chunks cut into runs of rows of one range each (views), by range index, in input order. */
function routeChunks(chunks: readonly PointChunk[], splits: readonly bigint[]): Map<number, PointChunk[]> {
  const out = new Map<number, PointChunk[]>();
  for (const chunk of chunks) {
    const cells = chunk.cell as BigInt64Array;
    for (let start = 0; start < cells.length; ) {
      const range = rangeIndex(cells[start]!, splits);
      const lo = range > 0 ? splits[range - 1]! : null;
      const hi = range < splits.length ? splits[range]! : null;
      let end = start + 1;
      while (end < cells.length && (hi === null || cells[end]! < hi) && (lo === null || cells[end]! >= lo))
        end++;
      const list = out.get(range);
      const piece = start === 0 && end === cells.length ? chunk : sliceChunk(chunk, start, end);
      if (list) list.push(piece);
      else out.set(range, [piece]);
      start = end;
    }
  }
  return out;
}

/** Rows `start` to `end` (exclusive) of a chunk, as views of its arrays. */
function sliceChunk(chunk: PointChunk, start: number, end: number): PointChunk {
  const payload: Record<string, PayloadValues> = Object.create(null);
  for (const [name, p] of Object.entries(chunk.payload ?? {})) {
    if (ArrayBuffer.isView(p)) payload[name] = p.subarray(start, end);
    else if (Array.isArray(p)) payload[name] = p.slice(start, end);
    else if ('offsets' in p) {
      const { offsets, data, valid } = p;
      payload[name] = {
        offsets: offsets.subarray(start, end + 1),
        data,
        ...(valid && { valid: valid.subarray(start, end) }),
      };
    } else {
      const { values, valid } = p as {
        values: Float64Array | Int32Array | BigInt64Array | Uint8Array;
        valid?: Uint8Array;
      };
      payload[name] = {
        values: values.subarray(start, end),
        ...(valid && { valid: valid.subarray(start, end) }),
      };
    }
  }
  return {
    cell: chunk.cell.subarray(start, end),
    x: chunk.x.subarray(start, end),
    y: chunk.y.subarray(start, end),
    z: chunk.z.subarray(start, end),
    time: chunk.time.subarray(start, end),
    payload,
  };
}

/**
 * Copies a file's bytes unchanged to a new key in another `r=` partition (footers do not name the
 * range, so the bytes stay valid).
 * @returns the new, still uncommitted record
 */
export async function moveToRange(
  storage: Storage,
  file: FileRecord,
  r: string,
  writer: string,
): Promise<FileRecord> {
  const key = dataFileKey({ table: file.table, lod: file.lod, t: file.t, r, writer, id: randomUUID() });
  await storage.write(key, await storage.read(file.key));
  const { committedAt: _, ...rest } = file;
  return { ...rest, key, r, writer };
}

/** A buffer's rows as a chunk of the same schema (views, no copy). */
function chunkOf(buffer: PointBuffer): PointChunk {
  const payload: Record<string, PayloadValues> = Object.create(null);
  for (const spec of buffer.schema.columns.slice(5)) {
    const view = buffer.getColumn(spec.name);
    payload[spec.name] =
      view.type === 'utf8'
        ? { offsets: view.offsets, data: view.data, valid: view.valid }
        : view.valid === undefined
          ? view.values
          : { values: view.values, valid: view.valid };
  }
  const coordinate = (name: string) => (buffer.getColumn(name) as { values: Float64Array }).values;
  return {
    cell: buffer.getCells(),
    x: coordinate('x'),
    y: coordinate('y'),
    z: coordinate('z'),
    time: buffer.getTimes(),
    payload,
  };
}
