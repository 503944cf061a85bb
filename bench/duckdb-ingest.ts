/**
 * The peer of bench/ingest: DuckDB doing the ingest job in plain SQL, as a DuckDB user would —
 * read_csv, the Index64 cell computed in SQL (frame → lattice units → nearest BCC point → Morton
 * code → id bits; a -1 on the origin face becomes the equally near 1, as in the frame code), then COPY … PARTITION_BY (lod, t, r) to zstd Parquet sorted by cell, the same
 * files octa-lake writes (row groups of 64 Ki rows).
 *
 * Run by bench/ingest.ts as `node dist/bench/duckdb-ingest.js CSV OUT_DIR [sorted|unsorted] [epoch|iso]`.
 */
import { DuckDBInstance, quotedString } from '@duckdb/node-api';

/** The frame and LOD of the benchmark: cartesian:0,0,0,1024 at LOD 12 (unit 1/8 m), frame id 0. */
export const BENCH_FRAME = {
  origin: [0, 0, 0],
  edge: 1024,
  lod: 12,
  frameSpec: 'cartesian:0,0,0,1024',
} as const;

/** Spreads the 16 bits of a BIGINT column to every third bit (x in bit 0 of each digit). */
function spread(v: string): string[] {
  const masks = [
    8725724278095871n,
    8725728556220671n,
    1157144660301377551n,
    1207822528635744451n,
    1317624576693539401n,
  ];
  const shifts = [32, 16, 8, 4, 2];
  return masks.map((m, i) => {
    const prev = i === 0 ? v : `${v}_${i - 1}`;
    return `(${prev} | (${prev} << ${shifts[i]})) & ${m} AS ${v}_${i}`;
  });
}

/**
 * The COPY statement of the peer job.
 * @param times - `epoch`: column t holds epoch seconds; `iso`: ISO 8601 UTC text with milliseconds
 *   (`2025-04-01T00:00:00.000Z`), parsed with strptime
 */
export function duckdbIngestSql(
  csv: string,
  out: string,
  sorted: boolean,
  times: 'epoch' | 'iso' = 'epoch',
): string {
  const { origin, edge, lod } = BENCH_FRAME;
  const scale = 2 ** (lod + 1) / edge;
  // Index64 prefix: header 10, tier 0, frame 0, lod; as a signed BIGINT the high bits are negative.
  const prefix16 = (0b10 << 14) | lod;
  const prefix = BigInt(prefix16 - 65536) * 2n ** 48n;
  return `COPY (
  WITH src AS (
    SELECT * FROM read_csv(${quotedString(csv)}, header = true,
      columns = {'x': 'DOUBLE', 'y': 'DOUBLE', 'z': 'DOUBLE', 't': '${times === 'iso' ? 'VARCHAR' : 'DOUBLE'}', 'value': 'DOUBLE'})
  ), lattice AS (
    SELECT x, y, z, ${times === 'iso' ? "strptime(t, '%Y-%m-%dT%H:%M:%S.%gZ')" : 'to_timestamp(t)'} AS time, value,
      (x - ${origin[0]}) * ${scale} AS ux, (y - ${origin[1]}) * ${scale} AS uy, (z - ${origin[2]}) * ${scale} AS uz,
      2 * round(ux / 2) AS ex, 2 * round(uy / 2) AS ey, 2 * round(uz / 2) AS ez,
      2 * round((ux - 1) / 2) + 1 AS ox, 2 * round((uy - 1) / 2) + 1 AS oy, 2 * round((uz - 1) / 2) + 1 AS oz,
      (ux - ex) ** 2 + (uy - ey) ** 2 + (uz - ez) ** 2 AS d_even,
      (ux - ox) ** 2 + (uy - oy) ** 2 + (uz - oz) ** 2 AS d_odd,
      abs(CAST(CASE WHEN d_odd < d_even THEN ox ELSE ex END AS BIGINT)) AS lx,
      abs(CAST(CASE WHEN d_odd < d_even THEN oy ELSE ey END AS BIGINT)) AS ly,
      abs(CAST(CASE WHEN d_odd < d_even THEN oz ELSE ez END AS BIGINT)) AS lz
    FROM src
  ), morton AS (
    SELECT *, ${[...spread('lx'), ...spread('ly'), ...spread('lz')].join(',\n      ')}
    FROM lattice
  )
  SELECT ${prefix} + (lx_4 | (ly_4 << 1) | (lz_4 << 2)) AS cell, x, y, z, time, value,
    ${lod} AS lod, strftime(time, '%Y-%m-%d') AS t, '0000000000000000' AS r
  FROM morton${sorted ? '\n  ORDER BY cell' : ''}
) TO ${quotedString(out)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (lod, t, r), ROW_GROUP_SIZE 65536)`;
}

async function main(): Promise<void> {
  const [csv, out, mode = 'sorted', times = 'epoch'] = process.argv.slice(2);
  if (!csv || !out || (times !== 'epoch' && times !== 'iso')) {
    throw new Error('usage: duckdb-ingest CSV OUT_DIR [sorted|unsorted] [epoch|iso]');
  }
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  try {
    await c.run(duckdbIngestSql(csv, out, mode === 'sorted', times));
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

if (process.argv[1]?.endsWith('duckdb-ingest.js')) await main();
