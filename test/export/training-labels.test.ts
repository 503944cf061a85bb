/**
 * Training-set labels from a relation keyed by sample cell (BIGINT and text keys, Int64 labels) and
 * `sql(EXPR)` features, held against brute force over the input points; shards read back with
 * hyparquet, label types checked in the embedded Arrow schema.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { readParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameToLattice, OctaError } from '../../src/lattice/index.js';
import { type LakeSession, openLake } from '../../src/sql/open.js';
import { parseFeatures } from '../../src/sql/training/spec.js';
import { exportTrainingSet, type TrainingManifest } from '../../src/sql/training/training.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { bruteCells, FRAME, makeLake, makePoints, type Pt } from './training-fixture.js';

type Row = Record<string, unknown>;
const LOD = 3;

let dir: string;
let lake: string;
let points: Pt[];
let session: LakeSession;

beforeAll(async () => {
  dir = tempDir('training-labels');
  points = makePoints(21);
  lake = await makeLake(dir, points);
  session = await openLake({ lake });
}, 60_000);

afterAll(() => {
  session?.close();
  removeDir(dir);
});

async function readRows(out: string, m: TrainingManifest): Promise<Row[]> {
  const rows: Row[] = [];
  for (const f of m.files.filter((f) => f.kind === 'samples')) {
    const bytes = readFileSync(join(out, f.path));
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    rows.push(...(await parquetReadObjects({ file, compressors })));
  }
  return rows;
}

const labelType = (out: string, m: TrainingManifest) =>
  tableFromIPC(readParquet(readFileSync(join(out, m.files[0]!.path))).intoIPCStream())
    .schema.fields.find((f) => f.name === 'label')
    ?.type.toString();

/** A label for about two cells in three, as a large integer (beyond 2^53) so Int64 matters. */
function labelOf(lattice: readonly number[]): bigint | null {
  const h = (lattice[0]! * 7 + lattice[1]! * 3 + lattice[2]!) % 3;
  return h === 0 ? null : (1n << 60n) + BigInt(lattice[0]! * 1000 + lattice[1]!) - BigInt(h);
}

describe('labels from a table keyed by sample cell', () => {
  it('gives each sample its row of the label table (BIGINT and text keys), null without one', async () => {
    const brute = bruteCells(points, LOD);
    const values = [...brute.values()]
      .map((b) => ({ cell: b.cell, label: labelOf(b.lattice) }))
      .filter((v) => v.label !== null);
    expect(values.length).toBeGreaterThan(50);
    const c = session.connection;
    await c.run('CREATE OR REPLACE TEMP TABLE cell_labels (cell BIGINT, klass BIGINT, note VARCHAR)');
    await c.run(
      `INSERT INTO cell_labels VALUES ${values.map((v) => `(${v.cell}, ${v.label}, 'x')`).join(', ')}, (NULL, 1, 'no key')`,
    );
    // The same labels keyed by the cells' text form, with another key column name.
    await c.run(
      'CREATE OR REPLACE TEMP TABLE text_labels AS SELECT bcc_to_string(cell) AS sample, CAST(klass & 1023 AS INTEGER) AS small FROM cell_labels WHERE cell IS NOT NULL',
    );
    const outA = join(dir, 'table-labels');
    const setting = async () =>
      (await c.runAndReadAll("SELECT current_setting('memory_limit') AS m")).getRowObjectsJS()[0]!.m;
    const before = await setting();
    const m = await exportTrainingSet({
      session,
      memoryMb: 64,
      table: 'pts',
      lod: LOD,
      splitLod: 1,
      labelTable: 'cell_labels',
      labelColumn: 'klass',
      shardRows: 100,
      out: outA,
    });
    // The export's DuckDB memory limit is reset on the caller's session.
    expect(await setting()).toBe(before);
    expect(m.label).toBe('klass');
    expect(m.labelTable).toEqual({ relation: 'cell_labels', column: 'klass', key: 'cell' });
    expect(m.columns).toContain('label');
    expect(labelType(outA, m)).toBe('Int64');
    const rows = await readRows(outA, m);
    expect(rows).toHaveLength(brute.size);
    let nulls = 0;
    for (const r of rows) {
      const want = labelOf((r.lattice as number[]).map(Number));
      if (want === null) {
        nulls++;
        expect(r.label).toBeNull();
      } else expect(BigInt(r.label as bigint)).toBe(want);
    }
    expect(nulls).toBeGreaterThan(20);

    const outB = join(dir, 'text-labels');
    const mt = await exportTrainingSet({
      session,
      table: 'pts',
      lod: LOD,
      splitLod: 1,
      labelTable: 'text_labels',
      labelColumn: 'small',
      labelKey: 'sample',
      out: outB,
    });
    expect(labelType(outB, mt)).toBe('Int64');
    for (const r of await readRows(outB, mt)) {
      const want = labelOf((r.lattice as number[]).map(Number));
      expect(r.label === null ? null : BigInt(r.label as bigint)).toBe(want === null ? null : want & 1023n);
    }
  }, 60_000);

  it('rejects duplicate keys, missing columns, a bad key type and unknown tables with codes', async () => {
    const c = session.connection;
    const [first] = bruteCells(points, LOD).values();
    await c.run(
      `CREATE OR REPLACE TEMP TABLE dup_labels AS SELECT * FROM (VALUES (${first!.cell}, 1), (${first!.cell}, 2), (7, 3)) AS t(cell, klass)`,
    );
    await c.run('CREATE OR REPLACE TEMP TABLE real_keys AS SELECT 1.5::DOUBLE AS cell, 1 AS klass');
    const fail = async (o: object, code: string, message?: RegExp) => {
      const e = await exportTrainingSet({
        session,
        table: 'pts',
        lod: LOD,
        out: join(dir, 'bad'),
        labelColumn: 'klass',
        ...o,
      }).catch((x) => x);
      expect(e).toBeInstanceOf(OctaError);
      expect((e as OctaError).code).toBe(code);
      if (message) expect((e as Error).message).toMatch(message);
    };
    await fail(
      { labelTable: 'dup_labels' },
      'INVALID_ARGUMENT',
      new RegExp(`2 rows for sample cell ${first!.cell}`),
    );
    await fail({ labelTable: 'dup_labels', labelColumn: 'nope' }, 'INVALID_ARGUMENT', /no label column nope/);
    await fail({ labelTable: 'dup_labels', labelKey: 'nope' }, 'INVALID_ARGUMENT', /no key column nope/);
    await fail({ labelTable: 'real_keys' }, 'INVALID_ARGUMENT', /BIGINT/);
    await fail({ labelTable: 'no_such_labels' }, 'NOT_FOUND');
    await fail({ labelTable: 'a; DROP TABLE pts' }, 'INVALID_ARGUMENT');
    await fail({ labelTable: 'dup_labels', label: 'cls' }, 'INVALID_ARGUMENT');
    await fail({}, 'INVALID_ARGUMENT', /needs a label table/);
  }, 60_000);

  it('takes an integer column of the points as an Int64 label (most frequent value)', async () => {
    const out = join(dir, 'int-label');
    await session.connection.run(
      'CREATE OR REPLACE TEMP TABLE pts_int AS SELECT * REPLACE (CAST(intensity AS INTEGER) % 4 AS intensity) FROM pts',
    );
    // The lake table's `intensity` is DOUBLE; a view of the points with an INTEGER column gives Int64.
    await session.connection.run('CREATE OR REPLACE TEMP VIEW pts AS SELECT * FROM pts_int');
    try {
      const m = await exportTrainingSet({
        session,
        table: 'pts',
        lod: 2,
        splitLod: 0,
        label: 'intensity',
        out,
      });
      expect(labelType(out, m)).toBe('Int64');
      const byCell = new Map<string, Map<number, number>>();
      for (const p of points) {
        if (p.intensity === null) continue;
        const key = frameToLattice(FRAME, 2, p.x, p.y, p.z).join(',');
        const counts = byCell.get(key) ?? new Map<number, number>();
        counts.set(p.intensity % 4, (counts.get(p.intensity % 4) ?? 0) + 1);
        byCell.set(key, counts);
      }
      const rows = await readRows(out, m);
      expect(rows).toHaveLength(bruteCells(points, 2).size);
      for (const r of rows) {
        const counts = [...(byCell.get((r.lattice as number[]).join(',')) ?? new Map<number, number>())];
        counts.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
        const want = counts[0]?.[0];
        expect(r.label === null ? null : BigInt(r.label as bigint)).toBe(
          want === undefined ? null : BigInt(want),
        );
      }
    } finally {
      await session.connection.run('DROP VIEW IF EXISTS temp.pts');
    }
  }, 60_000);
});

describe('sql(EXPR) features', () => {
  it('parses nested parentheses, commas and quotes inside sql()', () => {
    expect(
      parseFeatures(
        "count, sql(max(intensity) - min(intensity)), sql(sum(CASE WHEN cls IN ('a', 'b)') THEN 1 ELSE 0 END)), mean(intensity)",
      ),
    ).toEqual([
      { kind: 'count' },
      { kind: 'sql', expr: 'max(intensity) - min(intensity)' },
      { kind: 'sql', expr: "sum(CASE WHEN cls IN ('a', 'b)') THEN 1 ELSE 0 END)" },
      { kind: 'mean', column: 'intensity' },
    ]);
    for (const bad of ['sql()', 'sql(max(x)', 'sql(a) + sql(b)', "sql('x)", 'count)']) {
      expect(() => parseFeatures(bad), bad).toThrow(OctaError);
    }
  });

  it('computes each sql feature per cell, neighbours included, as brute force does', async () => {
    const out = join(dir, 'sql-features');
    const features =
      "sql(max(intensity) - min(intensity)),sql(sum(CASE WHEN cls IN ('a', 'b') THEN 1 ELSE 0 END) / count(*)),count";
    const m = await exportTrainingSet({
      session,
      table: 'pts',
      lod: LOD,
      splitLod: 1,
      features,
      out,
      seed: 2,
    });
    expect(m.features).toEqual([
      'sql(max(intensity) - min(intensity))',
      "sql(sum(CASE WHEN cls IN ('a', 'b') THEN 1 ELSE 0 END) / count(*))",
      'count',
    ]);
    const cells = new Map<string, [number, number, number]>();
    const groups = new Map<string, Pt[]>();
    for (const p of points) {
      const key = frameToLattice(FRAME, LOD, p.x, p.y, p.z).join(',');
      groups.set(key, [...(groups.get(key) ?? []), p]);
    }
    for (const [key, pts] of groups) {
      const vals = pts.map((p) => p.intensity).filter((v): v is number => v !== null);
      const range = vals.length === 0 ? 0 : Math.max(...vals) - Math.min(...vals);
      const ab = pts.filter((p) => p.cls === 'a' || p.cls === 'b').length / pts.length;
      cells.set(key, [range, ab, pts.length]);
    }
    const rows = await readRows(out, m);
    expect(rows).toHaveLength(cells.size);
    let spread = 0;
    for (const r of rows) {
      const l = (r.lattice as number[]).map(Number);
      const want = cells.get(l.join(','))!;
      const got = (r.features as number[]).map(Number);
      expect(got[0]).toBe(want[0]);
      expect(got[1]).toBeCloseTo(want[1], 5);
      expect(got[2]).toBe(want[2]);
      if (want[0] > 0) spread++;
      (r.neighbors as number[][]).forEach((nb, s) => {
        if (Number((r.neighbor_mask as number[])[s]) === 0) return;
        expect(Number(nb[0])).toBeGreaterThanOrEqual(0);
      });
    }
    expect(spread).toBeGreaterThan(100);
  }, 60_000);
});
