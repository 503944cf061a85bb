/**
 * Growable column storage behind `PointBuffer`: one preallocated ArrayBuffer per column (plus a
 * byte-per-row validity array for nullable columns and an offsets/bytes pair for utf8), so rows
 * are appended with memcpy-like `set` calls and read by Arrow without copying.
 *
 * Values are moved as raw bytes or 32-bit words, never through a float64 or bigint register: a
 * 64-bit id can have a NaN bit pattern when viewed as a double, and a per-row BigInt is slow.
 */
import { OctaError } from '../lattice/errors.js';
import { type FixedArray, gatherInto, type RowIndices } from './gather.js';
import type { ColumnType } from './schema.js';

export type { FixedArray, RowIndices } from './gather.js';

/** Columns share this small surface so the container can treat them alike. */
export interface Column {
  readonly type: ColumnType;
  /** Bytes allocated, including spare capacity: what the buffer really holds in memory. */
  readonly byteSize: number;
  /** Grows storage to hold `capacity` rows, keeping the first `rows`. */
  reserve(rows: number, capacity: number): void;
  /** A new column holding the rows at `indices`, in that order. */
  gather(indices: RowIndices, count: number): Column;
  /** A new column holding rows `start` to `end` (exclusive). */
  slice(start: number, end: number): Column;
}

const WIDTH = {
  float64: 8,
  int32: 4,
  int64: 8,
  uint64: 8,
  bool: 1,
  date: 4,
  time_us: 8,
  time_ns: 8,
  timestamp_us: 8,
  local_timestamp_us: 8,
  local_timestamp_ns: 8,
} as const;
type FixedType = Exclude<ColumnType, 'utf8'>;

/** Bytes per value of a fixed-width type; decimals hold their unscaled int64. */
function widthOf(type: FixedType): 1 | 4 | 8 {
  return Object.hasOwn(WIDTH, type) ? WIDTH[type as keyof typeof WIDTH] : 8;
}

/** Next capacity: at least `needed`, doubling to keep appends amortised O(1). */
export function grownCapacity(current: number, needed: number): number {
  return Math.max(needed, current * 2, 1024);
}

/** A column of fixed-width values (numbers, ids, timestamps, booleans as bytes). */
export class FixedColumn implements Column {
  readonly type: FixedType;
  readonly width: 1 | 4 | 8;
  #buffer: ArrayBuffer;
  #valid: Uint8Array | undefined;

  private constructor(type: FixedType, buffer: ArrayBuffer, valid: Uint8Array | undefined) {
    this.type = type;
    this.width = widthOf(type);
    this.#buffer = buffer;
    this.#valid = valid;
  }

  /**
   * @param type - value type
   * @param nullable - whether rows carry a validity byte
   * @param capacity - rows to preallocate
   */
  static create(type: FixedType, nullable: boolean, capacity: number): FixedColumn {
    return new FixedColumn(
      type,
      new ArrayBuffer(capacity * widthOf(type)),
      nullable ? new Uint8Array(capacity) : undefined,
    );
  }

  get byteSize(): number {
    return this.#buffer.byteLength + (this.#valid?.byteLength ?? 0);
  }

  get nullable(): boolean {
    return this.#valid !== undefined;
  }

  reserve(rows: number, capacity: number): void {
    if (capacity * this.width <= this.#buffer.byteLength) return;
    const next = new ArrayBuffer(capacity * this.width);
    new Uint8Array(next).set(new Uint8Array(this.#buffer, 0, rows * this.width));
    this.#buffer = next;
    if (this.#valid) {
      const valid = new Uint8Array(capacity);
      valid.set(this.#valid.subarray(0, rows));
      this.#valid = valid;
    }
  }

  /**
   * Copies `count` values (and validity, nonzero = valid; all valid when absent) to row `at`.
   * Storage must already hold `at + count` rows.
   */
  write(at: number, values: FixedArray, valid: Uint8Array | undefined, count: number): void {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, count * this.width);
    new Uint8Array(this.#buffer).set(bytes, at * this.width);
    if (this.#valid) {
      if (valid) this.#valid.set(valid.subarray(0, count), at);
      else this.#valid.fill(1, at, at + count);
    }
  }

  /** Typed view of the first `rows` values, sharing memory with the column. */
  values(rows: number): FixedArray {
    switch (this.type) {
      case 'float64':
        return new Float64Array(this.#buffer, 0, rows);
      case 'int32':
      case 'date':
        return new Int32Array(this.#buffer, 0, rows);
      case 'bool':
        return new Uint8Array(this.#buffer, 0, rows);
      default:
        return new BigInt64Array(this.#buffer, 0, rows);
    }
  }

  /** Validity bytes of the first `rows` rows (nonzero = valid), or undefined for a required column. */
  validity(rows: number): Uint8Array | undefined {
    return this.#valid?.subarray(0, rows);
  }

  gather(indices: RowIndices, count: number): FixedColumn {
    const out = FixedColumn.create(this.type, this.nullable, count);
    const view = (buffer: ArrayBuffer) =>
      this.width === 8
        ? new BigInt64Array(buffer)
        : this.width === 4
          ? new Int32Array(buffer)
          : new Uint8Array(buffer);
    gatherInto(view(out.#buffer), view(this.#buffer), indices, count);
    if (this.#valid && out.#valid) gatherInto(out.#valid, this.#valid, indices, count);
    return out;
  }

  slice(start: number, end: number): FixedColumn {
    const out = FixedColumn.create(this.type, this.nullable, end - start);
    new Uint8Array(out.#buffer).set(
      new Uint8Array(this.#buffer, start * this.width, (end - start) * this.width),
    );
    if (this.#valid && out.#valid) out.#valid.set(this.#valid.subarray(start, end));
    return out;
  }
}

/** Arrow-style utf8 input: `offsets[i]..offsets[i+1]` are row i's UTF-8 bytes in `data`. */
export interface Utf8Values {
  offsets: Int32Array;
  data: Uint8Array;
  valid?: Uint8Array;
}

// Arrow's Utf8 uses int32 offsets, so one column holds at most 2 GiB of text.
const MAX_UTF8_BYTES = 0x7fffffff;
const encoder = new TextEncoder();

/** A nullable utf8 column: int32 offsets and UTF-8 bytes, as Arrow lays them out. */
export class Utf8Column implements Column {
  readonly type = 'utf8' as const;
  #offsets: Int32Array;
  #data: Uint8Array;
  #valid: Uint8Array;

  private constructor(offsets: Int32Array, data: Uint8Array, valid: Uint8Array) {
    this.#offsets = offsets;
    this.#data = data;
    this.#valid = valid;
  }

  /**
   * @param capacity - rows to preallocate
   * @param dataBytes - text bytes to preallocate (default 16 per row)
   */
  static create(capacity: number, dataBytes = capacity * 16): Utf8Column {
    return new Utf8Column(new Int32Array(capacity + 1), new Uint8Array(dataBytes), new Uint8Array(capacity));
  }

  get byteSize(): number {
    return this.#offsets.byteLength + this.#data.byteLength + this.#valid.byteLength;
  }

  reserve(rows: number, capacity: number): void {
    if (capacity + 1 <= this.#offsets.length) return;
    const offsets = new Int32Array(capacity + 1);
    offsets.set(this.#offsets.subarray(0, rows + 1));
    const valid = new Uint8Array(capacity);
    valid.set(this.#valid.subarray(0, rows));
    this.#offsets = offsets;
    this.#valid = valid;
  }

  #reserveBytes(used: number, needed: number): void {
    if (needed <= this.#data.length) return;
    if (needed > MAX_UTF8_BYTES) {
      throw new OctaError(
        'OUT_OF_RANGE',
        'a utf8 column holds at most 2 GiB of text per buffer; flush the buffer more often',
        needed,
      );
    }
    const data = new Uint8Array(Math.min(MAX_UTF8_BYTES, Math.max(needed, this.#data.length * 2, 1024)));
    data.set(this.#data.subarray(0, used));
    this.#data = data;
  }

  /** Encodes `count` strings (null or undefined = null) into rows `at`… */
  writeStrings(at: number, strings: readonly (string | null | undefined)[], count: number): void {
    let used = this.#offsets[at]!;
    for (let i = 0; i < count; i++) {
      const s = strings[i];
      if (s === null || s === undefined) {
        this.#valid[at + i] = 0;
      } else {
        // UTF-16 to UTF-8 grows at most 3x; reserve that, then encode in place.
        this.#reserveBytes(used, used + s.length * 3);
        used += encoder.encodeInto(s, this.#data.subarray(used)).written;
        this.#valid[at + i] = 1;
      }
      this.#offsets[at + i + 1] = used;
    }
  }

  /** Copies `count` rows of Arrow-style utf8 to rows `at`…, byte ranges as they are. */
  writeRaw(at: number, { offsets, data, valid }: Utf8Values, count: number): void {
    const base = offsets[0]!;
    const used = this.#offsets[at]!;
    const total = offsets[count]! - base;
    this.#reserveBytes(used, used + total);
    this.#data.set(data.subarray(base, base + total), used);
    for (let i = 0; i < count; i++) {
      this.#offsets[at + i + 1] = used + offsets[i + 1]! - base;
      this.#valid[at + i] = valid === undefined || valid[i] ? 1 : 0;
    }
  }

  /** Views of the first `rows` rows, sharing memory with the column. */
  views(rows: number): Required<Utf8Values> {
    return {
      offsets: this.#offsets.subarray(0, rows + 1),
      data: this.#data.subarray(0, this.#offsets[rows]!),
      valid: this.#valid.subarray(0, rows),
    };
  }

  gather(indices: RowIndices, count: number): Utf8Column {
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const j = indices[i]!;
      bytes += this.#offsets[j + 1]! - this.#offsets[j]!;
    }
    const out = Utf8Column.create(count, bytes);
    const src = this.#data;
    const dst = out.#data;
    let pos = 0;
    for (let i = 0; i < count; i++) {
      const j = indices[i]!;
      const end = this.#offsets[j + 1]!;
      for (let k = this.#offsets[j]!; k < end; k++) dst[pos++] = src[k]!;
      out.#offsets[i + 1] = pos;
      out.#valid[i] = this.#valid[j]!;
    }
    return out;
  }

  slice(start: number, end: number): Utf8Column {
    const from = this.#offsets[start]!;
    const to = this.#offsets[end]!;
    const out = Utf8Column.create(end - start, to - from);
    out.#data.set(this.#data.subarray(from, to));
    for (let i = start; i <= end; i++) out.#offsets[i - start] = this.#offsets[i]! - from;
    out.#valid.set(this.#valid.subarray(start, end));
    return out;
  }
}

/**
 * Creates empty storage for a column.
 * @param type - column type
 * @param nullable - whether rows may be null (utf8 columns always are)
 * @param capacity - rows to preallocate
 */
export function createColumn(
  type: ColumnType,
  nullable: boolean,
  capacity: number,
): FixedColumn | Utf8Column {
  return type === 'utf8' ? Utf8Column.create(capacity) : FixedColumn.create(type, nullable, capacity);
}
