/**
 * One spelling for public names (issue 15, item 9; docs/NAMING.md): the American names are the
 * functions, the British spellings published first stay as aliases with the same results, in SQL
 * and in the lattice API.
 */
import { describe, expect, it } from 'vitest';
import {
  metersBoxToLatticeBox,
  metersSphereToLattice,
  metresBoxToLatticeBox,
  metresSphereToLattice,
} from '../../src/lattice/index.js';
import { BCC_FUNCTIONS, emitMacros } from '../../src/sql/functions.js';
import { errorOf, rows, withDuckDB } from './bcc-sql.js';

// 2,000 points over a cartesian frame with origin (-50, 10, 0) and edge 1000, at LODs 0..15.
const POINTS = `(SELECT (i * 0.4871) % 1000 - 50 AS x, (i * 0.7919) % 1000 + 10 AS y, (i * 0.2311) % 1000 AS z,
  (i % 16)::INTEGER AS lod FROM range(2000) t(i))`;

describe('the British spellings are aliases', () => {
  it('bcc_from_frame_metres and bcc_cell_centre give what bcc_from_frame_meters and bcc_cell_center give', async () => {
    const got = await withDuckDB((c) =>
      rows(
        c,
        `WITH p AS (SELECT bcc_from_frame_meters(x, y, z, -50, 10, 0, 1000, lod) AS us,
                           bcc_from_frame_metres(x, y, z, -50, 10, 0, 1000, lod) AS uk FROM ${POINTS})
         SELECT count(*) AS n,
                count(*) FILTER (WHERE us IS DISTINCT FROM uk) AS ids_differ,
                count(*) FILTER (WHERE bcc_cell_center(us, -50, 10, 0, 1000)
                                    IS DISTINCT FROM bcc_cell_centre(uk, -50, 10, 0, 1000)) AS centers_differ,
                count(*) FILTER (WHERE bcc_cell_center(bcc_to_string(us), -50, 10, 0, 1000)
                                    IS DISTINCT FROM bcc_cell_centre(bcc_to_string(uk), -50, 10, 0, 1000)) AS text_differ,
                count(us) AS ids,
                count(DISTINCT bcc_cell_center(us, -50, 10, 0, 1000)) > 1000 AS spread
         FROM p`,
      ),
    );
    expect(got).toEqual([
      { n: '2000', ids_differ: '0', centers_differ: '0', text_differ: '0', ids: '2000', spread: true },
    ]);
  });

  it('each name its own errors, as before', async () => {
    await withDuckDB(async (c) => {
      expect(await errorOf(c, 'SELECT bcc_cell_centre(bcc_encode(64, 0, 0, 4), 0, 0, 0, 100)')).toContain(
        'bcc_cell_centre: id coordinates (64, 0, 0) exceed 0..31 at LOD 4',
      );
      expect(await errorOf(c, 'SELECT bcc_cell_center(bcc_encode(64, 0, 0, 4), 0, 0, 0, 100)')).toContain(
        'bcc_cell_center: id coordinates (64, 0, 0) exceed 0..31 at LOD 4',
      );
      expect(await errorOf(c, 'SELECT bcc_from_frame_meters(5, 5, 5, 0, 0, 0, 1, 3)')).toContain(
        'bcc_from_frame_meters: point (5, 5, 5) is outside the frame domain',
      );
      expect(await errorOf(c, 'SELECT bcc_from_frame_metres(5, 5, 5, 0, 0, 0, 1, 3)')).toContain(
        'bcc_from_frame_metres: point (5, 5, 5) is outside the frame domain',
      );
    });
  });

  it('the function list and the emitted macros name both, the alias as an alias', () => {
    const signatures = new Map(BCC_FUNCTIONS.map((f) => [f.name, f.signature]));
    expect(signatures.get('bcc_cell_centre')).toMatch(/\(alias of bcc_cell_center\)$/);
    expect(signatures.get('bcc_from_frame_metres')).toMatch(/\(alias of bcc_from_frame_meters\)$/);
    expect(signatures.get('bcc_cell_center')).not.toMatch(/alias/);
    expect(signatures.get('bcc_from_frame_meters')).not.toMatch(/alias/);
    const text = emitMacros();
    for (const name of [
      'bcc_cell_center',
      'bcc_cell_centre',
      'bcc_from_frame_meters',
      'bcc_from_frame_metres',
    ]) {
      expect(text).toContain(`CREATE OR REPLACE MACRO ${name}(`);
    }
  });

  it('metresBoxToLatticeBox and metresSphereToLattice are the meters functions', () => {
    expect(metresBoxToLatticeBox).toBe(metersBoxToLatticeBox);
    expect(metresSphereToLattice).toBe(metersSphereToLattice);
    expect(
      metersBoxToLatticeBox({ origin: [10, 20, 30], unit: 1, lod: 3, box: [11, 21, 31, 12, 22, 32] }),
    ).toEqual([0, 0, 0, 4, 4, 4]);
  });
});
