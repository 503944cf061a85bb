/**
 * The lake's path layout (DESIGN §4): `<table>/lod=<L>/t=<bucket>/r=<range>/part-<writer>-<uuid>.parquet`.
 * Time buckets are UTC: `day` → `2025-04-15`, `hour` → `2025-04-15T13`, `month` → `2025-04`, with
 * four-digit years (`0500-06-15`).
 * A range is named by its lower bound: 16 hex digits of the unsigned id (the first range, which
 * starts below every id, is `0000000000000000`).
 */
import { civilToDays, daysToCivil } from '../../export/event-time.js';
import { OctaError } from '../../lattice/errors.js';

/** Time bucket granularity of a table's `t=` partitions. */
export type TimeBucket = 'hour' | 'day' | 'month';
export const TIME_BUCKETS: readonly TimeBucket[] = ['hour', 'day', 'month'];

const pad = (v: number, n = 2) => String(v).padStart(n, '0');

/**
 * A number identifying the bucket of an event time given in whole seconds since the epoch (floored),
 * cheap enough to compute per row; {@link bucketLabel} names it.
 */
export function bucketIndexOfSeconds(seconds: number, bucket: TimeBucket): number {
  if (bucket === 'hour') return Math.floor(seconds / 3600);
  const day = Math.floor(seconds / 86400);
  if (bucket === 'day') return day;
  const [y, m] = daysToCivil(day);
  return y * 12 + (m - 1);
}

/** {@link bucketIndexOfSeconds} of a time in µs since the epoch, as a double (exact to 2^53). */
export function bucketIndex(micros: number, bucket: TimeBucket): number {
  return bucketIndexOfSeconds(Math.floor(micros / 1_000_000), bucket);
}

/**
 * The partition value of a bucket index. Years have four digits (`0500-06-15`), as Athena's
 * `yyyy-MM-dd` projection format and DuckDB's DATE read them; the lake stores years 0000–9999.
 */
export function bucketLabel(index: number, bucket: TimeBucket): string {
  if (bucket === 'month') return `${pad(Math.floor(index / 12), 4)}-${pad((index % 12) + 1)}`;
  if (bucket === 'day') {
    const [y, m, d] = daysToCivil(index);
    return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
  }
  const [y, m, d] = daysToCivil(Math.floor(index / 24));
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(((index % 24) + 24) % 24)}`;
}

const LABEL = {
  month: /^(\d{1,4})-(\d\d)$/,
  day: /^(\d{1,4})-(\d\d)-(\d\d)$/,
  hour: /^(\d{1,4})-(\d\d)-(\d\d)T(\d\d)$/,
} as const;

/**
 * The bucket index a partition value names, or null when it names none. Years written before labels
 * were zero-padded (`500-06-15`) are read too, so older lakes check and read as before.
 */
export function parseBucketLabel(label: string, bucket: TimeBucket): number | null {
  const m = LABEL[bucket].exec(label);
  if (!m) return null;
  const [y, mo, d = 1, h = 0] = m.slice(1).map((v) => (v === undefined ? undefined : Number(v))) as [
    number,
    number,
    number | undefined,
    number | undefined,
  ];
  if (mo < 1 || mo > 12 || h > 23) return null;
  if (bucket === 'month') return y * 12 + (mo - 1);
  const days = civilToDays(y, mo, d);
  if (daysToCivil(days)[2] !== d) return null;
  return bucket === 'day' ? days : days * 24 + h;
}

/** The partition value of the range that starts at `lo` (a signed INT64 split point, or null for the first range). */
export function rangeLabel(lo: bigint | null): string {
  return lo === null ? '0'.repeat(16) : BigInt.asUintN(64, lo).toString(16).padStart(16, '0');
}

/**
 * The key of a data file.
 * @throws {OctaError} INVALID_ARGUMENT when a partition value could escape its directory
 */
export function dataFileKey({
  table,
  lod,
  t,
  r,
  writer,
  id,
}: {
  table: string;
  lod: number;
  t: string;
  r: string;
  writer: string;
  id: string;
}): string {
  for (const [name, value] of [
    ['table', table],
    ['t', t],
    ['r', r],
    ['writer', writer],
    ['file id', id],
  ] as const) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/.test(value) || value.includes('..')) {
      throw new OctaError('INVALID_ARGUMENT', `${name} is not usable in a path`, value);
    }
  }
  return `${table}/lod=${lod}/t=${t}/r=${r}/part-${writer}-${id}.parquet`;
}

/** Reads the partition values back from a data file key, or null when the key is not one. */
export function parseDataFileKey(key: string): { table: string; lod: number; t: string; r: string } | null {
  const m = /^([^/]+)\/lod=(\d+)\/t=([^/]+)\/r=([0-9a-f]{16})\/part-[^/]+\.parquet$/.exec(key);
  if (!m) return null;
  return { table: m[1]!, lod: Number(m[2]), t: m[3]!, r: m[4]! };
}
