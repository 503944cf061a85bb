/**
 * Point tables ⇄ Parquet bytes. Writing checks the rows, then goes Arrow JS → IPC stream → the one
 * Parquet writer (parquet-writer.ts: parquet-wasm, arrow-rs) with the point files' settings; the
 * footer's `octa.*` keys are measured from the rows, never trusted from the caller. Reading the
 * footer uses hyparquet's metadata parser, because parquet-wasm exposes no column statistics.
 */
import { type Data, Field, RecordBatch, Schema, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
// The footer parser alone, not hyparquet's whole reader.
import { parquetMetadata } from 'hyparquet/src/metadata.js';
import type { Table as WasmTable } from 'parquet-wasm';
import { OctaError } from '../lattice/errors.js';
import { arrowToPointSchema } from './arrow.js';
import {
  checkPointFileDescriptor,
  keyValuesToPointFileMetadata,
  OCTA_KEYS,
  type PointFileDescriptor,
  type PointFileMetadata,
  pointFileMetadataToKeyValues,
} from './metadata.js';
import {
  checkWriterSettings,
  encodeParquet,
  type ParquetCompression,
  type ParquetWriterSettings,
  parquetWasm,
} from './parquet-writer.js';
import { columnFieldId, POINT_SCHEMA_VERSION, type PointSchema, REQUIRED_COLUMNS } from './schema.js';
import { findHighWordMismatch, int64Range, isSortedInt64 } from './sort.js';

/**
 * Default rows per row group: 64 Ki. A file is sorted by cell, so each row group covers a narrow,
 * disjoint cell range and its min/max statistics let an engine skip all row groups but one for a
 * point lookup. Smaller groups prune more finely but cost footer size and compression; at 64 Ki
 * rows a group of the five required columns is about 2.5 MB before compression, still large enough
 * for zstd and for the 1 MB pages inside it (which carry their own page-level statistics), while a
 * 1 M-row file offers 16 ranges to prune — DuckDB's own writer default (122,880) would give 8.
 */
export const DEFAULT_ROW_GROUP_SIZE = 65_536;

export type { ParquetCompression } from './parquet-writer.js';

// Only text and small integers (classes, flags) repeat enough for a dictionary to pay: ids,
// coordinates, times and measured float64/int64 values are nearly all distinct, and arrow-rs would
// keep a useless dictionary for a whole 64 Ki-row group before falling back (measured on 1 M random
// doubles: 7.6 MB with a dictionary, 6.4 MB plain).
const DICTIONARY_TYPES: ReadonlySet<string> = new Set(['utf8', 'int32', 'bool']);
// The sorted cell column and the event times are stored DELTA_BINARY_PACKED: consecutive cells
// differ in their low bits only, and times of one bucket span far less than 64 bits. Measured on
// 166k rows of one partition: 14% less encoding time and 9% smaller files than PLAIN, both with
// zstd. DuckDB, hyparquet, Athena, Trino and Spark read it.
const DELTA_COLUMNS: readonly string[] = ['cell', 'time'];
const CREATED_BY = 'octa-lake (parquet-wasm 0.8.0, arrow-rs)';

/** Options of `writeParquet`. */
export interface WriteParquetOptions {
  /** Points sorted by cell, e.g. from `pointBufferToArrow(buffer.take(buffer.sortByCell()))`. */
  table: Table;
  /** Frame, LOD and id kind of the file; ranges, row count and schema version are measured. */
  metadata: PointFileDescriptor;
  /** Maximum rows per row group (default `DEFAULT_ROW_GROUP_SIZE`). */
  rowGroupSize?: number;
  /** Codec of every column (default zstd). */
  compression?: ParquetCompression;
}

function columnChunks(table: Table, name: string): BigInt64Array[] {
  const index = table.schema.fields.findIndex((f) => f.name === name);
  return table.batches.map((batch) => {
    const data = batch.data.children[index] as Data;
    // Arrow JS slices fixed-width value buffers eagerly: `offset` only applies to bitmaps.
    return (data.values as BigInt64Array).subarray(0, data.length);
  });
}

function rangeOf(chunks: BigInt64Array[]): { min: bigint; max: bigint } {
  let min: bigint | undefined;
  let max: bigint | undefined;
  for (const chunk of chunks) {
    const range = int64Range(chunk);
    if (range === undefined) continue;
    if (min === undefined || range.min < min) min = range.min;
    if (max === undefined || range.max > max) max = range.max;
  }
  return { min: min!, max: max! };
}

/** Checks the invariants of a point file's `cell` column and returns its range. */
function checkCells(
  chunks: BigInt64Array[],
  { idKind, lod }: PointFileDescriptor,
): { min: bigint; max: bigint } {
  let last: bigint | undefined;
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    if (!isSortedInt64(chunk) || (last !== undefined && chunk[0]! < last)) {
      throw new OctaError(
        'INVALID_INPUT',
        'rows must be sorted by cell before writing; use buffer.take(buffer.sortByCell())',
      );
    }
    last = chunk[chunk.length - 1]!;
    // High word: header (2 bits) | tier (2) | frame (8) | lod (4) | Morton.
    const header = idKind === 'index64' ? 0b10 : 0b11;
    const bad = findHighWordMismatch(chunk, 0xc00f0000, ((header << 30) | (lod << 16)) >>> 0);
    if (bad >= 0) {
      throw new OctaError(
        'INVALID_INPUT',
        `every cell must be an ${idKind} id at LOD ${lod}; check the id kind and LOD of the file`,
        BigInt.asUintN(64, chunk[bad]!),
      );
    }
  }
  return rangeOf(chunks);
}

/**
 * Writes a table of points as a Parquet file: zstd, row groups of `rowGroupSize` rows with chunk and
 * page statistics, `cell` as INT64, `time` as TIMESTAMP(MICROS, UTC), and `octa.*` footer keys.
 * @param options - see `WriteParquetOptions`
 * @returns the file's bytes
 * @throws {OctaError} INVALID_ARGUMENT for a bad option, INVALID_LOD, SCHEMA_MISMATCH for a table
 *   that is not a point table, INVALID_INPUT for an empty table, nulls in a required column,
 *   unsorted cells or cells of another id kind or LOD
 */
export function writeParquet({
  table,
  metadata,
  rowGroupSize = DEFAULT_ROW_GROUP_SIZE,
  compression = 'zstd',
}: WriteParquetOptions): Uint8Array {
  checkPointFileDescriptor(metadata);
  checkWriterSettings({ compression, rowGroupSize });
  const schema = arrowToPointSchema(table.schema);
  if (table.numRows === 0) {
    throw new OctaError('INVALID_INPUT', 'a point file needs at least one row; skip empty partitions', 0);
  }
  for (const required of REQUIRED_COLUMNS) {
    if (table.getChild(required.name)!.nullCount > 0) {
      throw new OctaError('INVALID_INPUT', 'required point columns cannot hold nulls', required.name);
    }
  }
  const cells = checkCells(columnChunks(table, 'cell'), metadata);
  const times = rangeOf(columnChunks(table, 'time'));
  const keyValues = pointFileMetadataToKeyValues({
    frame: metadata.frame,
    lod: metadata.lod,
    idKind: metadata.idKind,
    schemaVersion: POINT_SCHEMA_VERSION,
    rows: table.numRows,
    cellMin: cells.min,
    cellMax: cells.max,
    timeMin: times.min,
    timeMax: times.max,
  });

  const plain = schema.columns.filter((c) => !DICTIONARY_TYPES.has(c.type));
  const settings: ParquetWriterSettings = {
    compression,
    rowGroupSize,
    statistics: 'page',
    dictionaryColumns: Object.fromEntries(plain.map((c) => [c.name, false])),
    deltaColumns: DELTA_COLUMNS,
    createdBy: CREATED_BY,
    keyValues,
  };
  return encodeParquet(tableToIPC(withFieldIds(table, schema), 'stream'), settings);
}

/** Arrow field metadata that parquet-wasm writes as a column's Parquet field id. */
const FIELD_ID_KEY = 'PARQUET:field_id';

/**
 * The table with each column's field id in its field metadata: {@link columnFieldId} of the
 * column's place in the point schema (required columns first, whatever the table's order); no data
 * is copied.
 */
function withFieldIds(table: Table, point: PointSchema): Table {
  const ids = new Map(point.columns.map((c, i) => [c.name, columnFieldId(i)]));
  const fields = table.schema.fields.map((f) => {
    const metadata = new Map(f.metadata);
    metadata.set(FIELD_ID_KEY, String(ids.get(f.name)));
    return new Field(f.name, f.type, f.nullable, metadata);
  });
  const schema = new Schema(fields, table.schema.metadata);
  return new Table(table.batches.map((b) => new RecordBatch(schema, b.data)));
}

/**
 * Reads a Parquet file into an Arrow table (any Parquet file, not only point files).
 * @param bytes - the whole file
 * @param options.columns - columns to keep (default all); parquet-wasm 0.8's in-memory reader
 *   ignores its own column option, so every column is still decoded and the rest dropped after
 * @param options.batchSize - rows per record batch (default `DEFAULT_ROW_GROUP_SIZE`)
 * @returns the table; footer key/value metadata appears as schema metadata
 * @throws {OctaError} CORRUPT when the bytes are not a readable Parquet file, SCHEMA_MISMATCH for a
 *   column the file does not have
 */
export function readParquet(
  bytes: Uint8Array,
  { columns, batchSize = DEFAULT_ROW_GROUP_SIZE }: { columns?: string[]; batchSize?: number } = {},
): Table {
  let wasmTable: WasmTable | undefined;
  let ipc: Uint8Array;
  try {
    wasmTable = parquetWasm().readParquet(bytes, { batchSize });
    // intoIPCStream consumes the wasm table.
    const input = wasmTable;
    wasmTable = undefined;
    ipc = input.intoIPCStream();
  } catch (error) {
    throw new OctaError('CORRUPT', `not a readable Parquet file: ${String(error)}`, bytes.length);
  } finally {
    wasmTable?.free();
  }
  const table = tableFromIPC(ipc);
  if (columns === undefined) return table;
  const missing = columns.filter((name) => !table.schema.fields.some((f) => f.name === name));
  if (missing.length > 0) throw new OctaError('SCHEMA_MISMATCH', 'the file has no such columns', missing);
  return table.select(columns);
}

/** One row group as its footer describes it. */
export interface RowGroupInfo {
  rows: number;
  compressedBytes: number;
  /** Min/max statistics of `cell`, or undefined when the column or its statistics are absent. */
  cellMin: bigint | undefined;
  cellMax: bigint | undefined;
}

/** What a Parquet footer says, read without touching any row. */
export interface ParquetFileInfo {
  rows: number;
  createdBy: string | undefined;
  /** Every key/value pair of the footer. */
  keyValues: Record<string, string>;
  /** The `octa.*` keys parsed, or undefined for a file that has none. */
  point: PointFileMetadata | undefined;
  rowGroups: RowGroupInfo[];
}

/**
 * Reads a Parquet footer: key/value metadata and, per row group, row count and cell statistics.
 * @param bytes - the file, or any tail of it that holds the whole footer (e.g. from a range read)
 * @returns the footer's content
 * @throws {OctaError} CORRUPT when there is no valid footer, or `octa.*` keys are malformed
 */
export function readParquetMetadata(bytes: Uint8Array): ParquetFileInfo {
  let footer: ReturnType<typeof parquetMetadata>;
  try {
    footer = parquetMetadata(bytes);
  } catch (error) {
    throw new OctaError('CORRUPT', `no valid Parquet footer: ${(error as Error).message}`, bytes.length);
  }
  const keyValues: Record<string, string> = Object.create(null);
  for (const { key, value } of footer.key_value_metadata ?? []) keyValues[key] = value ?? '';
  const hasOcta = Object.values(OCTA_KEYS).some((key) => Object.hasOwn(keyValues, key));
  const asBigInt = (v: unknown): bigint | undefined => (typeof v === 'bigint' ? v : undefined);
  const rowGroups = footer.row_groups.map((group) => {
    const cell = group.columns.find((c) => c.meta_data?.path_in_schema.join('.') === 'cell')?.meta_data;
    const stats = cell?.type === 'INT64' ? cell.statistics : undefined;
    return {
      rows: Number(group.num_rows),
      compressedBytes: Number(group.total_compressed_size ?? group.total_byte_size),
      cellMin: asBigInt(stats?.min_value ?? stats?.min),
      cellMax: asBigInt(stats?.max_value ?? stats?.max),
    };
  });
  return {
    rows: Number(footer.num_rows),
    createdBy: footer.created_by,
    keyValues: { ...keyValues },
    point: hasOcta ? keyValuesToPointFileMetadata(keyValues) : undefined,
    rowGroups,
  };
}
