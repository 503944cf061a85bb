/**
 * The contract every input reader keeps: a `Source` knows its columns before the first row is read
 * and hands out rows a chunk at a time, so memory stays bounded by the chunk size, not the file.
 * Rows it cannot parse travel beside the good ones as `rejects`, never as exceptions.
 */
import type { EpochUnit } from '../../export/event-time.js';

/** Input formats a source can read. */
export type SourceFormat = 'csv' | 'ndjson' | 'parquet' | 'arrow' | 'las' | 'laz';

/** A column as the source declares it before any chunk is read. */
export interface SourceColumn {
  name: string;
  /**
   * How its values are delivered (see `ColumnData`). `unsupported` is a typed column the lake has no
   * lossless type for (nested, binary, interval, decimal, …): it is never decoded, and an ingest that
   * would store it is refused naming it.
   */
  type:
    | 'text'
    | 'float64'
    | 'int32'
    | 'int64'
    | 'uint64'
    | 'bool'
    | 'date'
    | 'time_us'
    | 'time_ns'
    | 'timestamp_us'
    | 'local_timestamp_us'
    | 'timestamp_ns'
    | 'local_timestamp_ns'
    | 'utf8'
    | 'json'
    /** DECIMAL of precision ≤ 18: its unscaled values. */
    | 'decimal'
    /** DECIMAL of precision > 18: delivered as float64, for a mapped coordinate; never stored as payload. */
    | 'wide_decimal'
    | 'unsupported';
  /** The input's own type, as the file names it (typed sources), for messages. */
  detail?: string;
  /** Decimals: precision and scale. */
  precision?: number;
  scale?: number;
}

/** Source types whose values are 64-bit integers in a BigInt64Array. */
export type Int64SourceType =
  | 'int64'
  | 'uint64'
  | 'time_us'
  | 'time_ns'
  | 'timestamp_us'
  | 'local_timestamp_us'
  | 'timestamp_ns'
  | 'local_timestamp_ns';

/**
 * The values of one column of a chunk. `valid[i] === 0` marks row i null; without `valid` no row is
 * null. Text sources deliver `text` (or `float64` for the columns named in `numeric`), NDJSON
 * delivers `json`, typed sources deliver their own types.
 */
export type ColumnData =
  | {
      type: 'float64';
      values: Float64Array;
      valid?: Uint8Array;
      /**
       * Text sources only: rows (index within the chunk) whose field was present but not a number;
       * such a row holds NaN with valid 1, and this map keeps the raw text for the reject reason.
       */
      invalid?: Map<number, string>;
      /**
       * Text sources only: rows whose field is an integer a double cannot hold exactly (such as
       * 9007199254740993); the row holds the nearest double, and this map keeps the digits. A
       * coordinate may be rounded so; a payload value is not (its row is rejected).
       */
      inexact?: Map<number, string>;
    }
  /** `date`: days since 1970-01-01. */
  | { type: 'int32' | 'date'; values: Int32Array; valid?: Uint8Array }
  /**
   * `uint64`: the raw 64 bits. Times count from midnight, timestamps from 1970-01-01T00:00:00
   * (UTC for `timestamp_*`, local for `local_timestamp_*`), in µs or ns as the name says. A value
   * the source could not convert exactly (a timestamp in seconds past the µs range) has valid 1
   * and its raw text in `invalid`.
   */
  | { type: Int64SourceType; values: BigInt64Array; valid?: Uint8Array; invalid?: Map<number, string> }
  /** Unscaled decimal values: the value is `values[i] × 10^-scale`. */
  | { type: 'decimal'; values: BigInt64Array; scale: number; valid?: Uint8Array }
  /** 1 = true, 0 = false. */
  | { type: 'bool'; values: Uint8Array; valid?: Uint8Array }
  /**
   * CSV: the column `ChunkOptions.time` names. Rows whose field is a time in a common form (see
   * time-bytes.ts) hold its INT64 µs in `values`; every other row has its raw field in `text` (null
   * for an empty field), for the full time grammar to read or refuse.
   */
  | { type: 'event_time'; values: BigInt64Array; text: Map<number, string | null> }
  /**
   * CSV fields (an unquoted empty field is null, a quoted `""` is ''), Arrow/Parquet strings.
   * `invalid`: rows (null in `values`) whose bytes were not text, with the reason.
   */
  | { type: 'text'; values: (string | null)[]; invalid?: Map<number, string> }
  /**
   * NDJSON values as `JSON.parse` gave them, except integers past ±(2^53 − 1), which are bigints;
   * a missing key is null.
   */
  | { type: 'json'; values: unknown[] };

/** A row the reader could not parse. */
export interface SourceReject {
  /** 1-based data row number (the CSV header is not a data row). */
  row: number;
  /** 1-based text line where the row starts (text formats). */
  line?: number;
  reason: string;
  /** The raw row, cut to 1,024 characters. */
  text?: string;
}

/** Rows of a source, a bounded number at a time. */
export interface SourceChunk {
  /** Data row number of the chunk's first row (1-based, counting rejected rows too). */
  firstRow: number;
  /** Rows delivered in `columns` (rejected rows excluded). */
  rows: number;
  /** The data row number of each delivered row. */
  rowNumbers: Float64Array;
  /** Text formats: the 1-based line where each delivered row starts. */
  lineNumbers?: Float64Array;
  columns: Record<string, ColumnData>;
  /** Rows the reader could not parse (malformed CSV record, wrong field count, bad JSON line). */
  rejects: SourceReject[];
  /** How far into the source the chunk ends: rows including rejects, bytes for text formats. */
  position: { rows: number; bytes?: number };
}

/** Where a source's bytes come from; a file identity lets an ingest recognise a file it has seen. */
export type SourceIdentity =
  | { kind: 'file'; path: string; size: number; mtimeMs: number }
  | { kind: 'stream' };

/** The public header fields of a LAS/LAZ file. */
export interface LasHeaderInfo {
  pointFormat: number;
  count: number;
  scale: [number, number, number];
  offset: [number, number, number];
  min: [number, number, number];
  max: [number, number, number];
  creation?: { year: number; dayOfYear: number };
}

/** Options of `Source.chunks`. */
export interface ChunkOptions {
  /**
   * Most data rows (delivered plus rejected) per chunk, default `DEFAULT_CHUNK_ROWS`. Text and LAS
   * sources fill every chunk but the last; Arrow and Parquet chunks also end at batch boundaries.
   */
  chunkRows?: number;
  /**
   * CSV and NDJSON: columns to deliver as `float64`, parsed straight from the text. An empty field
   * (or JSON null, or a missing key) is null; anything else that is not a number is NaN with
   * `valid` 1 and its raw text in `invalid`. Typed sources ignore this option.
   */
  numeric?: readonly string[];
  /** Columns to deliver, default all; the others are skipped without being decoded. */
  columns?: readonly string[];
  /**
   * CSV: the event-time column and the unit of its epoch numbers, delivered as `event_time` (times
   * read from the bytes). Other formats ignore it and deliver the column as they would.
   */
  time?: { column: string; unit: EpochUnit };
  /**
   * NDJSON: keys to skip where a line has them though they are not columns (not keys of the first
   * line). Any other such key rejects its line, so no value is dropped unseen.
   */
  ignoreKeys?: readonly string[];
}

/** An open input. Call `chunks()` once, then `close()` (also after an error). */
export interface Source {
  /** The input format; `generated` for sources made in memory (the demo scene). */
  format: SourceFormat | 'generated';
  /**
   * Known before any chunk is read: the CSV header (all `text`), the Parquet or Arrow schema, the
   * LAS point format's fields, and for NDJSON the keys of the first line (all `json`; a later line
   * with another key is a reject unless `ignoreKeys` names it).
   */
  columns: SourceColumn[];
  identity: SourceIdentity;
  lasHeader?: LasHeaderInfo;
  chunks(options?: ChunkOptions): AsyncIterable<SourceChunk>;
  close(): Promise<void>;
}

/** Rows per chunk unless the caller says otherwise. */
export const DEFAULT_CHUNK_ROWS = 65_536;

/** The largest `chunkRows` accepted (16 Mi rows; a float64 column of it is 128 MiB). */
export const MAX_CHUNK_ROWS = 1 << 24;

/**
 * The longest text record (a CSV record or an NDJSON line) a reader holds, in characters. A longer
 * one, typically an unterminated quote swallowing the rest of a large file, fails the read instead
 * of growing memory without bound.
 */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;
/** The same bound for readers that scan bytes (CSV), in bytes. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** Length at which a reject's raw text is cut. */
export const REJECT_TEXT_CHARS = 1024;
