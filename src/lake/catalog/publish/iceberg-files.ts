/**
 * A lake file as an Iceberg `data_file` (spec v2, "Manifests"; bounds in Appendix D's single-value
 * serialisation) and back: record count, size, the `<bucket>(time)` partition value from the
 * file's `t=` bucket (a file never straddles a bucket), counts and lower/upper bounds for cell,
 * x, y, z and time, and the row group offsets read from the file's own footer (the catalog does not
 * keep them).
 */
import { isoToMicros } from '../../../export/event-time.js';
import { OctaError } from '../../../lattice/errors.js';
import type { Storage } from '../../storage/storage.js';
import { parseBucketLabel } from '../layout.js';
import type { FileRecord, TableConfig } from '../records.js';
import type { DataFileRecord, IntMap } from './iceberg-avro.js';
import { keyOf, locationOf, partitionField, TIME_FIELD_ID } from './iceberg-metadata.js';
import type { PublishedFile } from './table-view.js';

const CELL = 1;
const X = 2;
const Y = 3;
const Z = 4;
const BOUNDED = [CELL, X, Y, Z, TIME_FIELD_ID];

const longBytes = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(v);
  return b;
};
const doubleBytes = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b;
};
const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/**
 * The partition value of a file of `config`'s table in bucket `t`: days, hours or months since
 * 1970-01-01 (Iceberg's `day`, `hour` and `month` transforms of a timestamp).
 * @throws {OctaError} CORRUPT for a bucket label the table's bucket does not read
 */
export function partitionValue(config: TableConfig, t: string): number {
  const index = parseBucketLabel(t, config.timeBucket);
  if (index === null) {
    throw new OctaError('CORRUPT', `a file's time bucket is not a ${config.timeBucket} bucket`, t);
  }
  return config.timeBucket === 'month' ? index - 1970 * 12 : index;
}

type AsyncBuffer = { byteLength: number; slice(start: number, end?: number): Promise<ArrayBuffer> };

/**
 * The offsets of a Parquet file's row groups, ascending, from its footer (read through ranged reads).
 * @throws {OctaError} CORRUPT when the file is not readable Parquet; NOT_FOUND when it is gone
 */
export async function rowGroupOffsets(storage: Storage, key: string, bytes: number): Promise<number[]> {
  const { parquetMetadataAsync } = await import('hyparquet');
  const file: AsyncBuffer = {
    byteLength: bytes,
    async slice(start, end = bytes) {
      const data = await storage.readRange(key, start, end - start);
      return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    },
  };
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    metadata = await parquetMetadataAsync(file, { initialFetchSize: 1 << 16 });
  } catch (error) {
    throw new OctaError(
      'CORRUPT',
      `a committed data file has no readable Parquet footer: ${String(error)}`,
      key,
    );
  }
  return metadata.row_groups
    .map((g) => {
      const first = g.columns[0]?.meta_data;
      if (first === undefined) return Number(g.file_offset ?? 0n);
      const dict = first.dictionary_page_offset;
      return Number(dict !== undefined && dict < first.data_page_offset ? dict : first.data_page_offset);
    })
    .sort((a, b) => a - b);
}

/** The `data_file` record of a lake file. */
export function dataFileOf(
  storage: Storage,
  config: TableConfig,
  file: FileRecord,
  splitOffsets: number[],
): DataFileRecord {
  const [minX, minY, minZ, maxX, maxY, maxZ] = file.bbox;
  const counts = (value: number): IntMap<number> => BOUNDED.map((key) => ({ key, value }));
  return {
    content: 0,
    file_path: locationOf(storage, file.key),
    file_format: 'PARQUET',
    partition: { [partitionField(config).name]: partitionValue(config, file.t) },
    record_count: file.rows,
    file_size_in_bytes: file.bytes,
    column_sizes: null,
    value_counts: counts(file.rows),
    null_value_counts: counts(0),
    nan_value_counts: null,
    lower_bounds: [
      { key: CELL, value: longBytes(BigInt(file.cellMin)) },
      { key: X, value: doubleBytes(minX) },
      { key: Y, value: doubleBytes(minY) },
      { key: Z, value: doubleBytes(minZ) },
      { key: TIME_FIELD_ID, value: longBytes(isoToMicros(file.timeMin)) },
    ],
    upper_bounds: [
      { key: CELL, value: longBytes(BigInt(file.cellMax)) },
      { key: X, value: doubleBytes(maxX) },
      { key: Y, value: doubleBytes(maxY) },
      { key: Z, value: doubleBytes(maxZ) },
      { key: TIME_FIELD_ID, value: longBytes(isoToMicros(file.timeMax)) },
    ],
    key_metadata: null,
    split_offsets: splitOffsets,
    equality_ids: null,
    sort_order_id: null,
  };
}

function bound(map: IntMap<Uint8Array>, id: number, path: string): Buffer {
  const value = map?.find((e) => e.key === id)?.value;
  if (value === undefined || value.byteLength !== 8) {
    throw new OctaError('CORRUPT', `an Iceberg manifest entry lacks the 8-byte bound of field ${id}`, path);
  }
  return asBuffer(value);
}

/**
 * A `data_file` record in the catalog's terms.
 * @returns the file's catalog key and its statistics
 * @throws {OctaError} CORRUPT for a record this view did not write
 */
export function publishedFileOf(storage: Storage, df: DataFileRecord): { key: string; file: PublishedFile } {
  const lo = (id: number) => bound(df.lower_bounds, id, df.file_path);
  const hi = (id: number) => bound(df.upper_bounds, id, df.file_path);
  return {
    key: keyOf(storage, df.file_path),
    file: {
      rows: df.record_count,
      bytes: df.file_size_in_bytes,
      cellMin: lo(CELL).readBigInt64LE().toString(),
      cellMax: hi(CELL).readBigInt64LE().toString(),
      timeMinMicros: lo(TIME_FIELD_ID).readBigInt64LE().toString(),
      timeMaxMicros: hi(TIME_FIELD_ID).readBigInt64LE().toString(),
      bbox: [
        lo(X).readDoubleLE(),
        lo(Y).readDoubleLE(),
        lo(Z).readDoubleLE(),
        hi(X).readDoubleLE(),
        hi(Y).readDoubleLE(),
        hi(Z).readDoubleLE(),
      ],
    },
  };
}

/** The partition value's single-value serialisation (an `int` or `date`: 4 bytes little-endian). */
export function partitionBytes(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value);
  return b;
}
