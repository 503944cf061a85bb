/**
 * The partition writer: routes converted rows to their (time bucket, identifier range) partition,
 * buffers each partition as a list of struct-of-arrays chunks it owns, and flushes a partition as
 * one sorted, zstd Parquet file when it reaches `fileRows`, when all buffers together pass
 * `memoryBytes` (the largest goes first), or when the caller ends a batch. A flushed partition's
 * chunks move to an encoder thread without a copy (their buffers are transferred), where they are
 * joined, sorted by cell and encoded. Files are written to storage but stay invisible until the
 * caller commits their records to the catalog.
 */
import { randomUUID } from 'node:crypto';
import type { PayloadValues, PointChunk } from '../../export/container.js';
import { readTimeSeconds } from '../../export/event-time.js';
import { type FixedArray, gather } from '../../export/gather.js';
import type { PointSchema } from '../../export/schema.js';
import type { Frame } from '../../lattice/frame.js';
import type { TileIdKind } from '../../lattice/ids.js';
import type { FileRecord } from '../catalog/catalog.js';
import {
  bucketIndexOfSeconds,
  bucketLabel,
  dataFileKey,
  rangeLabel,
  type TimeBucket,
} from '../catalog/layout.js';
import { fileRecord } from '../catalog/records.js';
import type { Storage } from '../storage/storage.js';
import type { ConvertedRows } from './convert.js';
import { ParquetEncoder } from './encoder.js';

/** What the writer needs to know about the table. */
export interface PartitionTable {
  name: string;
  frame: Frame;
  lod: number;
  idKind: TileIdKind;
  timeBucket: TimeBucket;
  schema: PointSchema;
  /** Sorted signed-INT64 lower bounds of the ranges after the first. */
  splits: bigint[];
}

/** Options of {@link PartitionWriter.create}. */
export interface PartitionWriterOptions {
  storage: Storage;
  table: PartitionTable;
  /** Short id of this writer, part of every file name. */
  writer: string;
  /** Rows after which a partition is flushed (default 1,000,000). */
  fileRows?: number;
  /** Bytes of buffered rows, all partitions together, above which the largest is flushed (default 256 MiB). */
  memoryBytes?: number;
  /** Parquet row group size (default: the export stage's). */
  rowGroupSize?: number;
  /** Called after each file is written (for progress and metrics), with the seconds it took to sort, encode and store. */
  onFile?: (file: FileRecord, seconds: number) => void;
  /** Encode on a worker thread (1, the default when available) or inline (0). */
  workers?: number;
}

interface Partition {
  t: string;
  r: string;
  /** Rows routed here, in arrival order; the partition owns every array in them. */
  chunks: PointChunk[];
  rows: number;
  bytes: number;
  /** The `add` call that last gave this partition rows. */
  touched: number;
}

/**
 * A partition that got no rows for this many `add` calls is flushed: time-ordered input (the usual
 * sensor or survey stream) finishes its buckets one after another, and encoding a finished bucket
 * while the next one is read keeps both cores busy instead of encoding everything at the end.
 */
const COLD_AFTER_ADDS = 4;

/** Splits as (high signed word, low unsigned word) pairs for per-row comparison without BigInt. */
function splitWords(splits: bigint[]): { hi: Int32Array; lo: Uint32Array } {
  const hi = new Int32Array(splits.length);
  const lo = new Uint32Array(splits.length);
  splits.forEach((s, i) => {
    hi[i] = Number(BigInt.asIntN(32, s >> 32n));
    lo[i] = Number(BigInt.asUintN(32, s));
  });
  return { hi, lo };
}

/** Buffers and flushes partitions of one table for one writer. */
export class PartitionWriter {
  readonly #opts: Required<Omit<PartitionWriterOptions, 'onFile' | 'rowGroupSize' | 'workers'>> &
    Pick<PartitionWriterOptions, 'onFile' | 'rowGroupSize'>;
  readonly #encoder: ParquetEncoder;
  /** Files being encoded and written; at most one more than encoder threads, so memory stays bounded. */
  readonly #inflight = new Set<Promise<void>>();
  #failure: unknown = null;
  readonly #partitions = new Map<number, Partition>();
  readonly #splits: { hi: Int32Array; lo: Uint32Array };
  readonly #files: FileRecord[] = [];
  #adds = 0;

  private constructor(opts: PartitionWriterOptions) {
    this.#opts = { fileRows: 1_000_000, memoryBytes: 256 * 2 ** 20, ...opts };
    this.#splits = splitWords(opts.table.splits);
    this.#encoder = ParquetEncoder.create(opts.workers === undefined ? {} : { workers: opts.workers });
  }

  /** Creates a writer; it holds buffers until flushed. */
  static create(opts: PartitionWriterOptions): PartitionWriter {
    return new PartitionWriter(opts);
  }

  /** Records of every file written so far; the caller fills in `batch` when the batch is known. */
  get files(): readonly FileRecord[] {
    return this.#files;
  }

  /** Bytes held in buffers now. */
  get bufferedBytes(): number {
    let n = 0;
    for (const p of this.#partitions.values()) n += p.bytes;
    return n;
  }

  /** Rows held in buffers now. */
  get bufferedRows(): number {
    let n = 0;
    for (const p of this.#partitions.values()) n += p.rows;
    return n;
  }

  #rangeOf(hi: number, lo: number): number {
    const s = this.#splits;
    let a = 0;
    let b = s.hi.length;
    while (a < b) {
      const m = (a + b) >> 1;
      const less = s.hi[m]! < hi || (s.hi[m] === hi && s.lo[m]! <= lo);
      if (less) a = m + 1;
      else b = m;
    }
    return a;
  }

  #partition(key: number, bucket: number, range: number): Partition {
    let p = this.#partitions.get(key);
    if (!p) {
      const { timeBucket, splits } = this.#opts.table;
      p = {
        t: bucketLabel(bucket, timeBucket),
        r: rangeLabel(range === 0 ? null : splits[range - 1]!),
        chunks: [],
        rows: 0,
        bytes: 0,
        touched: this.#adds,
      };
      this.#partitions.set(key, p);
    }
    return p;
  }

  /**
   * Routes rows to their partitions, flushing as limits are reached.
   * @param rows - converted rows of the current batch
   */
  async add(rows: ConvertedRows): Promise<void> {
    const n = rows.rows;
    if (n === 0) return;
    const adds = ++this.#adds;
    const { timeBucket } = this.#opts.table;
    const ranges = this.#splits.hi.length + 1;
    const words = new Int32Array(rows.cell.buffer, rows.cell.byteOffset, 2 * n);
    const timeWords = new Int32Array(rows.timeUs.buffer, rows.timeUs.byteOffset, 2 * n);
    // Group rows by partition key with a counting sort: keys change rarely along time-ordered
    // input, so the key → group lookup runs once per run of equal keys, not once per row.
    const groupOf = new Uint32Array(n);
    const groupKeys: number[] = [];
    const groupBucket: number[] = [];
    const groupRange: number[] = [];
    const groupIndex = new Map<number, number>();
    let lastKey = Number.NaN;
    let lastGroup = 0;
    for (let i = 0; i < n; i++) {
      const b = bucketIndexOfSeconds(readTimeSeconds(timeWords, i), timeBucket);
      const r = ranges === 1 ? 0 : this.#rangeOf(words[2 * i + 1]!, words[2 * i]! >>> 0);
      const key = b * 4096 + r;
      if (key !== lastKey) {
        let g = groupIndex.get(key);
        if (g === undefined) {
          g = groupKeys.length;
          groupIndex.set(key, g);
          groupKeys.push(key);
          groupBucket.push(b);
          groupRange.push(r);
        }
        lastKey = key;
        lastGroup = g;
      }
      groupOf[i] = lastGroup;
    }
    const groups = groupKeys.length;
    const starts = new Uint32Array(groups + 1);
    let order: Uint32Array | null = null;
    if (groups > 1) {
      for (let i = 0; i < n; i++) starts[groupOf[i]! + 1]!++;
      for (let g = 0; g < groups; g++) starts[g + 1]! += starts[g]!;
      const at = starts.slice(0, groups);
      order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[at[groupOf[i]!]!++] = i;
    } else starts[1] = n;
    const time = rows.timeUs;
    for (let g = 0; g < groups; g++) {
      const key = groupKeys[g]!;
      const from = starts[g]!;
      const count = starts[g + 1]! - from;
      // Cut the group where the partition reaches fileRows, so no file holds more.
      for (let at = 0; at < count; ) {
        const p = this.#partition(key, groupBucket[g]!, groupRange[g]!);
        p.touched = adds;
        const take = Math.min(count - at, this.#opts.fileRows - p.rows);
        const chunk =
          order === null
            ? toChunk(rows, time, from + at, from + at + take)
            : toChunk(rows, time, order.subarray(from + at, from + at + take));
        p.chunks.push(chunk);
        p.rows += take;
        p.bytes += chunkBytes(chunk);
        at += take;
        if (p.rows >= this.#opts.fileRows) await this.#flush(key);
      }
    }
    for (const [key, p] of [...this.#partitions])
      if (adds - p.touched >= COLD_AFTER_ADDS) await this.#flush(key);
    while (this.bufferedBytes > this.#opts.memoryBytes && this.#partitions.size > 0) {
      let largest = -1;
      let size = -1;
      for (const [k, p] of this.#partitions) {
        if (p.bytes > size) {
          size = p.bytes;
          largest = k;
        }
      }
      await this.#flush(largest);
    }
  }

  /** Flushes every partition and waits until every file is written (at the end of a batch). */
  async flushAll(): Promise<void> {
    // Nothing is left to route: this thread encodes whatever the encoder threads have no room for.
    for (const key of [...this.#partitions.keys()]) await this.#flush(key, true);
    await Promise.all(this.#inflight);
    this.#check();
  }

  /** Stops the encoder thread (after `flushAll`, or to abandon the buffers after a failure). */
  async close(): Promise<void> {
    await Promise.allSettled(this.#inflight);
    await this.#encoder.close();
  }

  #check(): void {
    if (this.#failure !== null) throw this.#failure;
  }

  async #flush(key: number, inlineWhenBusy = false): Promise<void> {
    this.#check();
    const p = this.#partitions.get(key);
    if (!p) return;
    this.#partitions.delete(key);
    if (p.rows === 0) return;
    const { table, storage, writer } = this.#opts;
    const fileKey = dataFileKey({
      table: table.name,
      lod: table.lod,
      t: p.t,
      r: p.r,
      writer,
      id: randomUUID(),
    });
    const started = performance.now();
    const job = this.#encoder
      .encode(
        {
          schema: table.schema,
          chunks: p.chunks,
          metadata: { frame: { ...table.frame }, lod: table.lod, idKind: table.idKind },
          ...(this.#opts.rowGroupSize === undefined ? {} : { rowGroupSize: this.#opts.rowGroupSize }),
        },
        { inlineWhenBusy },
      )
      .then(async ({ bytes, sha256, stats }) => {
        await storage.write(fileKey, bytes);
        const record = fileRecord({
          key: fileKey,
          table: table.name,
          lod: table.lod,
          t: p.t,
          r: p.r,
          bytes: bytes.length,
          sha256,
          stats,
          batch: '',
          writer,
        });
        this.#files.push(record);
        this.#opts.onFile?.(record, (performance.now() - started) / 1000);
      })
      .catch((err: unknown) => {
        this.#failure ??= err;
      });
    this.#inflight.add(job);
    void job.finally(() => this.#inflight.delete(job));
    if (this.#inflight.size > this.#encoder.threads) await Promise.race(this.#inflight);
    this.#check();
  }
}

/**
 * Rows of a converted batch as a chunk the partition owns: the rows at `idx`, or the range
 * `[from, to)`, always copied, so the chunk's buffers can be transferred to an encoder thread.
 */
function toChunk(rows: ConvertedRows, time: BigInt64Array, idx: Uint32Array): PointChunk;
function toChunk(rows: ConvertedRows, time: BigInt64Array, from: number, to: number): PointChunk;
function toChunk(rows: ConvertedRows, time: BigInt64Array, idx: Uint32Array | number, to = 0): PointChunk {
  const pick = <T extends FixedArray>(a: T): T =>
    typeof idx === 'number' ? (a.slice(idx, to) as T) : gather(a, idx);
  const payload: Record<string, PayloadValues> = {};
  for (const [name, col] of Object.entries(rows.payload)) {
    payload[name] =
      col.type === 'utf8'
        ? typeof idx === 'number'
          ? col.values.slice(idx, to)
          : Array.from(idx, (i) => col.values[i] ?? null)
        : { values: pick(col.values), valid: pick(col.valid) };
  }
  return {
    cell: pick(rows.cell),
    x: pick(rows.x),
    y: pick(rows.y),
    z: pick(rows.z),
    time: pick(time),
    payload,
  };
}

/** Bytes a chunk holds (text counted at two bytes a character plus a slot). */
function chunkBytes(chunk: PointChunk): number {
  let bytes = chunk.cell.byteLength * 5;
  for (const values of Object.values(chunk.payload ?? {})) {
    if (Array.isArray(values)) {
      for (const v of values as readonly unknown[]) bytes += 8 + (typeof v === 'string' ? 2 * v.length : 0);
    } else if (ArrayBuffer.isView(values)) bytes += values.byteLength;
    else if ('offsets' in values) bytes += values.offsets.byteLength + values.data.byteLength;
    else {
      const v = values as { values: ArrayBufferView; valid?: Uint8Array };
      bytes += v.values.byteLength + (v.valid?.byteLength ?? 0);
    }
  }
  return bytes;
}
