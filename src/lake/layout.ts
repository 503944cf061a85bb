/**
 * The lake's path layout (DESIGN §4): `<table>/lod=<L>/t=<bucket>/r=<range>/part-<writer>-<uuid>.parquet`.
 * Time buckets are UTC: `day` → `2025-04-15`, `hour` → `2025-04-15T13`, `month` → `2025-04`.
 * A range is named by its lower bound: 16 hex digits of the unsigned id (the first range, which
 * starts below every id, is `0000000000000000`).
 */
import { OctaError } from '../lattice/errors.js';

/** Time bucket granularity of a table's `t=` partitions. */
export type TimeBucket = 'hour' | 'day' | 'month';
export const TIME_BUCKETS: readonly TimeBucket[] = ['hour', 'day', 'month'];

const US_PER_HOUR = 3_600_000_000;
const US_PER_DAY = 86_400_000_000;

/** Civil date of a day number (days since 1970-01-01), after Howard Hinnant's algorithm. */
function civil(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const pad = (v: number, n = 2) => String(v).padStart(n, '0');

/**
 * A number identifying the bucket of an event time (µs since epoch, as a double: exact to 2^53),
 * cheap enough to compute per row; {@link bucketLabel} names it.
 */
export function bucketIndex(micros: number, bucket: TimeBucket): number {
  if (bucket === 'hour') return Math.floor(micros / US_PER_HOUR);
  const day = Math.floor(micros / US_PER_DAY);
  if (bucket === 'day') return day;
  const [y, m] = civil(day);
  return y * 12 + (m - 1);
}

/** The partition value of a bucket index. */
export function bucketLabel(index: number, bucket: TimeBucket): string {
  if (bucket === 'month') return `${Math.floor(index / 12)}-${pad((index % 12) + 1)}`;
  if (bucket === 'day') {
    const [y, m, d] = civil(index);
    return `${y}-${pad(m)}-${pad(d)}`;
  }
  const [y, m, d] = civil(Math.floor(index / 24));
  return `${y}-${pad(m)}-${pad(d)}T${pad(((index % 24) + 24) % 24)}`;
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
