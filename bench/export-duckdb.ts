/**
 * The peer of bench/export: the same k = 1 neighbourhood gather as a DuckDB user would write it in
 * plain SQL — points to their BCC cell at the sample LOD (the lake session's `bcc_from_frame_meters`,
 * so the very same cells), a count per cell, a self-join of the cells on the 14 neighbour offsets,
 * a list per cell in slot order (features and mask), COPY to zstd Parquet ordered by cell. No split
 * assignment, no shards: only the gather.
 *
 * Run by bench/export.ts as `node dist/bench/export-duckdb.js LAKE LOD OUT_FILE`; prints the rows.
 */
import { rmSync } from 'node:fs';
import { kRingOffsets } from '../src/lattice/bcc.js';
import { openLake } from '../src/sql/open.js';
import { quoteLiteral } from '../src/sql/quote.js';

/**
 * The COPY statement of the peer job.
 * @param lod - sample LOD
 * @param out - Parquet file written
 * @returns SQL over the lake view `points` (frame cartesian:0,0,0,1024, frame id 0)
 */
export function duckdbGatherSql(lod: number, out: string): string {
  const offsets = kRingOffsets(1);
  const values = Array.from(
    { length: 14 },
    (_, s) => `(${s}, ${offsets[3 * s]}, ${offsets[3 * s + 1]}, ${offsets[3 * s + 2]})`,
  );
  return `COPY (
    WITH cells AS (
      SELECT cell, f0, d.x AS lx, d.y AS ly, d.z AS lz FROM (
        SELECT cell, f0, bcc_decode(cell) AS d FROM (
          SELECT bcc_from_frame_meters(x, y, z, 0.0, 0.0, 0.0, 1024.0, ${lod}) AS cell, count(*)::DOUBLE AS f0
          FROM points GROUP BY 1))
    ), o AS (SELECT * FROM (VALUES ${values.join(', ')}) AS o(slot, dx, dy, dz))
    SELECT c.cell, [any_value(c.f0)] AS features,
      list([coalesce(n.f0, 0)] ORDER BY o.slot) AS neighbors,
      list(CAST(n.f0 IS NOT NULL AS UTINYINT) ORDER BY o.slot) AS neighbor_mask
    FROM cells c CROSS JOIN o
      LEFT JOIN cells n ON n.lx = c.lx + o.dx AND n.ly = c.ly + o.dy AND n.lz = c.lz + o.dz
    GROUP BY c.cell ORDER BY c.cell
  ) TO ${quoteLiteral(out)} (FORMAT parquet, COMPRESSION zstd)`;
}

const [lake, lodText, out] = process.argv.slice(2);
if (lake === undefined || lodText === undefined || out === undefined) {
  throw new Error('usage: node dist/bench/export-duckdb.js LAKE LOD OUT_FILE');
}
rmSync(out, { force: true });
const session = await openLake({ lake, views: { mentionedIn: 'points' } });
try {
  const r = await session.connection.runAndReadAll(duckdbGatherSql(Number(lodText), out));
  console.log(String(r.getRowsJS()[0]?.[0] ?? 0));
} finally {
  session.close();
}
