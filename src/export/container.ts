/**
 * `PointBuffer`: a struct-of-arrays container that collects points in chunks before they are
 * sorted by cell and written. One growable typed array per column, no object per row; the Arrow
 * conversion hands these arrays to Arrow without copying.
 */
import { OctaError } from '../lattice/errors.js';
import { checkInput, type PointChunk, writeInput } from './chunk.js';
import {
  type Column,
  createColumn,
  type FixedColumn,
  grownCapacity,
  type RowIndices,
  Utf8Column,
} from './columns.js';
import type { DecimalType, PointSchema } from './schema.js';
import { argsortInt64, int64Range } from './sort.js';

export type { NullableValues, PayloadValues, PointChunk, Utf8Values } from './chunk.js';
export type { RowIndices } from './columns.js';

/** A read-only view of one column's first `rows` rows, sharing memory with the buffer. */
export type ColumnView =
  | { type: 'float64'; values: Float64Array; valid: Uint8Array | undefined }
  | { type: 'int32' | 'date'; values: Int32Array; valid: Uint8Array | undefined }
  | {
      type:
        | 'int64'
        | 'uint64'
        | 'time_us'
        | 'time_ns'
        | 'timestamp_us'
        | 'local_timestamp_us'
        | 'local_timestamp_ns'
        | DecimalType;
      values: BigInt64Array;
      valid: Uint8Array | undefined;
    }
  | { type: 'bool'; values: Uint8Array; valid: Uint8Array | undefined }
  | { type: 'utf8'; offsets: Int32Array; data: Uint8Array; valid: Uint8Array };

/** Axis-aligned bounds of x, y, z in frame metres. */
export interface BoundingBox {
  minX: number;
  minY: number;
  minZ: number;
  maxX: number;
  maxY: number;
  maxZ: number;
}

/** What a file's footer and the catalog record about a set of rows. */
export interface PointStatistics {
  rows: number;
  /** Smallest and largest cell id, signed INT64 form. */
  cellMin: bigint;
  cellMax: bigint;
  /** Earliest and latest event time, microseconds since the epoch. */
  timeMin: bigint;
  timeMax: bigint;
  bbox: BoundingBox;
}
/** A growable struct-of-arrays buffer of points with one schema. */
export class PointBuffer {
  readonly schema: PointSchema;
  #rows: number;
  #capacity: number;
  readonly #columns: (FixedColumn | Utf8Column)[];
  readonly #byName: Map<string, number>;

  private constructor(schema: PointSchema, rows: number, capacity: number, columns: Column[]) {
    this.schema = schema;
    this.#rows = rows;
    this.#capacity = capacity;
    this.#columns = columns as (FixedColumn | Utf8Column)[];
    this.#byName = new Map(schema.columns.map((c, i) => [c.name, i]));
  }

  /**
   * Creates an empty buffer.
   * @param options.schema - from `createPointSchema`
   * @param options.capacity - rows to preallocate (default 1024); the buffer grows past it
   * @returns the buffer
   * @throws {OctaError} INVALID_ARGUMENT for a negative or fractional capacity
   */
  static create({ schema, capacity = 1024 }: { schema: PointSchema; capacity?: number }): PointBuffer {
    if (!Number.isSafeInteger(capacity) || capacity < 0) {
      throw new OctaError('INVALID_ARGUMENT', 'capacity must be a non-negative integer', capacity);
    }
    const columns = schema.columns.map((c) => createColumn(c.type, c.nullable, capacity));
    return new PointBuffer(schema, 0, capacity, columns);
  }

  /** Number of rows held. */
  get rows(): number {
    return this.#rows;
  }

  /** Rows the buffer can hold before it grows. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Bytes allocated by the columns, spare capacity included: the figure for a memory cap. */
  get byteSize(): number {
    let bytes = 0;
    for (const column of this.#columns) bytes += column.byteSize;
    return bytes;
  }

  /**
   * Appends a chunk of rows, copying every array. The chunk is validated whole before anything is
   * copied, so a rejected chunk leaves the buffer unchanged.
   * @param chunk - columns of equal length
   * @returns the number of rows appended
   * @throws {OctaError} SCHEMA_MISMATCH for a missing, unknown or wrongly typed column;
   *   INVALID_INPUT for arrays of different lengths or malformed utf8 offsets
   */
  append(chunk: PointChunk): number {
    const n = chunk.cell?.length ?? 0;
    const inputs = this.schema.columns.map((spec) => checkInput(spec, chunk, n));
    for (const name of Object.keys(chunk.payload ?? {})) {
      const index = this.#byName.get(name);
      if (index === undefined || index < 5) {
        throw new OctaError(
          'SCHEMA_MISMATCH',
          'chunk has a payload column the schema does not declare',
          name,
        );
      }
    }
    const needed = this.#rows + n;
    if (needed > this.#capacity) {
      const capacity = grownCapacity(this.#capacity, needed);
      for (const column of this.#columns) column.reserve(this.#rows, capacity);
      this.#capacity = capacity;
    }
    this.#columns.forEach((column, i) => {
      writeInput(column, this.#rows, inputs[i]!, n);
    });
    this.#rows = needed;
    return n;
  }

  /**
   * The stable order of rows by cell id (signed INT64), without moving any row.
   * @returns a permutation for `take`
   */
  sortByCell(): Uint32Array {
    return argsortInt64(this.getCells());
  }

  /**
   * A new buffer holding the rows at `indices`, in that order (a permutation, or any subset).
   * @param indices - row numbers, each below `rows`
   * @returns the new buffer, sized exactly
   * @throws {OctaError} OUT_OF_RANGE for an index that is not a row
   */
  take(indices: RowIndices): PointBuffer {
    const count = indices.length;
    for (let i = 0; i < count; i++) {
      const j = indices[i]!;
      if (!(j >= 0 && j < this.#rows && Number.isInteger(j))) {
        throw new OctaError('OUT_OF_RANGE', `row index must be an integer in 0..${this.#rows - 1}`, j);
      }
    }
    const columns = this.#columns.map((column) => column.gather(indices, count));
    return new PointBuffer(this.schema, count, count, columns);
  }

  /**
   * A new buffer holding a copy of rows `start` to `end` (exclusive).
   * @param start - first row (default 0)
   * @param end - row after the last (default `rows`)
   * @throws {OctaError} OUT_OF_RANGE unless 0 <= start <= end <= rows
   */
  slice(start = 0, end = this.#rows): PointBuffer {
    if (
      !(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= this.#rows)
    ) {
      throw new OctaError('OUT_OF_RANGE', `slice bounds must satisfy 0 <= start <= end <= ${this.#rows}`, {
        start,
        end,
      });
    }
    const columns = this.#columns.map((column) => column.slice(start, end));
    return new PointBuffer(this.schema, end - start, end - start, columns);
  }

  /**
   * Forgets every row and keeps the allocation for reuse. Arrow tables built from this buffer share
   * its memory: finish with them (write them out) before appending again.
   */
  clear(): void {
    this.#rows = 0;
  }

  /**
   * A view of one column's rows, sharing memory with the buffer (valid until the next append).
   * @param name - column name
   * @throws {OctaError} SCHEMA_MISMATCH for a name the schema does not have
   */
  getColumn(name: string): ColumnView {
    const index = this.#byName.get(name);
    const column = index === undefined ? undefined : this.#columns[index];
    if (column === undefined) throw new OctaError('SCHEMA_MISMATCH', 'no such column', name);
    if (column instanceof Utf8Column) return { type: 'utf8', ...column.views(this.#rows) };
    return {
      type: column.type,
      values: column.values(this.#rows),
      valid: column.validity(this.#rows),
    } as ColumnView;
  }

  /** The cell ids (signed INT64 form), sharing memory with the buffer. */
  getCells(): BigInt64Array {
    return (this.#columns[0] as FixedColumn).values(this.#rows) as BigInt64Array;
  }

  /** The event times in microseconds, sharing memory with the buffer. */
  getTimes(): BigInt64Array {
    return (this.#columns[4] as FixedColumn).values(this.#rows) as BigInt64Array;
  }

  /**
   * Cell range, time range and bounding box of the rows (NaN coordinates are ignored).
   * @returns the statistics, or undefined when the buffer is empty
   */
  getStatistics(): PointStatistics | undefined {
    const cells = int64Range(this.getCells());
    const times = int64Range(this.getTimes());
    if (cells === undefined || times === undefined) return undefined;
    const [minX, maxX] = extent((this.#columns[1] as FixedColumn).values(this.#rows) as Float64Array);
    const [minY, maxY] = extent((this.#columns[2] as FixedColumn).values(this.#rows) as Float64Array);
    const [minZ, maxZ] = extent((this.#columns[3] as FixedColumn).values(this.#rows) as Float64Array);
    return {
      rows: this.#rows,
      cellMin: cells.min,
      cellMax: cells.max,
      timeMin: times.min,
      timeMax: times.max,
      bbox: { minX, minY, minZ, maxX, maxY, maxZ },
    };
  }
}

function extent(values: Float64Array): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}
