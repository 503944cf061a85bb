/**
 * Training sets held against brute force: every sample's features, neighbour slots and masks
 * against cells aggregated in JS from the input points with the lattice core; blocks against
 * repeated tileToParent; splits and buffers checked pair by pair; shards read back with hyparquet
 * (an independent Parquet reader) and apache-arrow; the same seed gives the same bytes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { readParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kRingOffsets } from '../../src/lattice/bcc.js';
import { frameToLattice, index64ToLattice, OctaError } from '../../src/lattice/index.js';
import { parseFeatures } from '../../src/sql/training/spec.js';
import { blockToUnit } from '../../src/sql/training/split.js';
import { exportTrainingSet, type TrainingManifest } from '../../src/sql/training/training.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import {
  bruteCells,
  FIRST_DAY,
  FRAME,
  makeLake,
  makePoints,
  neighborKeys,
  type Pt,
  tileAncestor,
} from './training-fixture.js';

type Row = Record<string, unknown>;
const LOD = 3;
const SPLIT_LOD = 1;
const FEATURES = 'count,mean(intensity),var(intensity)';

let dir: string;
let lake: string;
let points: Pt[];

beforeAll(async () => {
  dir = tempDir('training');
  points = makePoints();
  lake = await makeLake(dir, points);
}, 60_000);

afterAll(() => removeDir(dir));

async function readRows(out: string, m: TrainingManifest): Promise<Row[]> {
  const rows: Row[] = [];
  for (const f of m.files) {
    const bytes = readFileSync(join(out, f.path));
    if (m.format === 'parquet') {
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      const part = await parquetReadObjects({ file, compressors });
      expect(part.length).toBe(f.rows);
      rows.push(...part);
    } else {
      const table = tableFromIPC(bytes);
      expect(table.numRows).toBe(f.rows);
      for (const r of table.toArray()) {
        const o = r.toJSON() as Row;
        const nested = (v: unknown): unknown =>
          v !== null && typeof v === 'object' && 'toArray' in v
            ? Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), nested)
            : v;
        rows.push(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, nested(v)])));
      }
    }
  }
  return rows;
}

const close = (a: unknown, b: number) => expect(Number(a)).toBeCloseTo(Math.fround(b), b > 1e4 ? 0 : 2);

/** Checks each row against the brute-force cells; returns the keys of the rows. */
function checkAgainstBrute(
  rows: Row[],
  brute: Map<string, ReturnType<typeof bruteCells> extends Map<string, infer C> ? C : never>,
) {
  for (const r of rows) {
    const lattice = (r.lattice as number[]).map(Number);
    const key = lattice.join(',');
    const b = brute.get(key);
    expect(b, key).toBeDefined();
    expect(BigInt(r.cell as bigint)).toBe(b!.cell);
    const [cnt, mean, variance] = (r.features as number[]).map(Number);
    expect(cnt).toBe(b!.count);
    close(mean, b!.mean);
    close(variance, b!.variance);
    expect(r.label).toBe(b!.label);
    expect(BigInt(r.block as bigint)).toBe(tileAncestor(b!.cell, LOD - SPLIT_LOD));
    const mask = (r.neighbor_mask as number[]).map(Number);
    const nbs = r.neighbors as number[][];
    expect(mask).toHaveLength(14);
    expect(nbs).toHaveLength(14);
    neighborKeys(lattice).forEach((nk, s) => {
      const n = brute.get(nk);
      expect(mask[s], `${key} slot ${s}`).toBe(n === undefined ? 0 : 1);
      const f = nbs[s]!.map(Number);
      expect(f).toHaveLength(3);
      if (n === undefined) expect(f).toEqual([0, 0, 0]);
      else {
        expect(f[0]).toBe(n.count);
        close(f[1], n.mean);
        close(f[2], n.variance);
      }
    });
    const unit = 64 / 2 ** (LOD + 1);
    expect((r.position as number[]).map(Number)).toEqual(lattice.map((l) => l * unit));
  }
}

describe('exportTrainingSet', () => {
  it('gives every cell its features, 14 neighbour slots and masks, labels and blocks (Parquet)', async () => {
    const out = join(dir, 'full');
    const m = await exportTrainingSet({
      lake,
      table: 'pts',
      lod: LOD,
      splitLod: SPLIT_LOD,
      features: FEATURES,
      label: 'cls',
      seed: 7,
      out,
      shardRows: 100,
    });
    const brute = bruteCells(points, LOD);
    expect(m.splits.train + m.splits.validation + m.splits.test).toBe(brute.size);
    expect(m.dropped).toBe(0);
    expect(m.shapes).toEqual({ features: [3], neighbors: [14, 3], neighbor_mask: [14], position: [3] });
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toEqual(m);
    expect(m.files.every((f) => f.rows <= 100)).toBe(true);
    const rows = await readRows(out, m);
    expect(rows).toHaveLength(brute.size);
    checkAgainstBrute(rows, brute);
    // Arrow readers get the fixed sizes back from the Parquet file's embedded Arrow schema.
    const wasm = readParquet(readFileSync(join(out, m.files[0]!.path)));
    const types = tableFromIPC(wasm.intoIPCStream()).schema.fields.map((f) => `${f.name}: ${f.type}`);
    expect(types).toContain('neighbors: FixedSizeList[14]<FixedSizeList[3]<Float32>>');
    expect(types).toContain('neighbor_mask: FixedSizeList[14]<Uint8>');
    // Shards are ordered by cell within each split, and each row carries its file's split.
    for (const f of m.files) expect(f.path.startsWith(`${f.split}/`)).toBe(true);
    const bySplit = new Map<string, bigint[]>();
    for (const r of rows)
      bySplit.set(r.split as string, [...(bySplit.get(r.split as string) ?? []), BigInt(r.cell as bigint)]);
    for (const cells of bySplit.values()) expect(cells).toEqual([...cells].sort((a, b) => (a < b ? -1 : 1)));
    // Frame edges: cells on the faces exist and their out-of-domain slots are masked.
    const top = 2 ** (LOD + 1) - 1;
    const edgeRows = rows.filter((r) =>
      (r.lattice as number[]).some((l) => Number(l) === 0 || Number(l) === top),
    );
    expect(edgeRows.length).toBeGreaterThan(20);
    const corner = rows.find((r) => (r.lattice as number[]).every((l) => Number(l) === 0));
    expect(corner).toBeDefined();
    // At (0,0,0) only (1,1,1), (2,0,0), (0,2,0), (0,0,2) are inside the domain: slots 0, 8, 10, 12.
    (corner!.neighbor_mask as number[]).forEach((v, s) => {
      if (![0, 8, 10, 12].includes(s)) expect(Number(v)).toBe(0);
    });
    // Splits follow the seeded hash of the block id.
    for (const r of rows) {
      const u = blockToUnit(BigInt(r.block as bigint), 7n);
      expect(r.split).toBe(u < 0.8 ? 'train' : u < 0.9 ? 'validation' : 'test');
    }
  }, 60_000);

  it('keeps every block in one split and kept blocks of different splits more than the buffer apart', async () => {
    for (const buffer of [0, 1]) {
      const out = join(dir, `buffer${buffer}`);
      const m = await exportTrainingSet({
        lake,
        table: 'pts',
        lod: LOD,
        splitLod: 2,
        features: 'count',
        ratios: [0.5, 0.25, 0.25],
        buffer,
        seed: 3,
        out,
      });
      const rows = await readRows(out, m);
      const splitOf = new Map<bigint, string>();
      for (const r of rows) {
        const b = BigInt(r.block as bigint);
        expect(splitOf.get(b) ?? r.split).toBe(r.split);
        splitOf.set(b, r.split as string);
      }
      const blocks = [...splitOf].map(([b, s]) => ({ l: index64ToLattice(BigInt.asUintN(64, b)), s }));
      for (const a of blocks) {
        for (const b of blocks) {
          if (a.s === b.s) continue;
          const d = Math.max(Math.abs(a.l.x - b.l.x), Math.abs(a.l.y - b.l.y), Math.abs(a.l.z - b.l.z));
          expect(d).toBeGreaterThan(buffer);
        }
      }
      const total = bruteCells(points, LOD).size;
      expect(rows.length + m.dropped).toBe(total);
      if (buffer === 0) expect(m.dropped).toBe(0);
      else {
        expect(m.dropped).toBeGreaterThan(0);
        expect(m.splits.test).toBeGreaterThan(0);
      }
    }
  }, 60_000);

  it('writes byte-identical shards for the same seed, and other splits for another seed', async () => {
    const run = (seed: number, name: string, format: 'parquet' | 'arrow', memoryMb?: number) =>
      exportTrainingSet({
        lake,
        table: 'pts',
        lod: LOD,
        splitLod: SPLIT_LOD,
        features: FEATURES,
        label: 'cls',
        seed,
        buffer: 1,
        format,
        out: join(dir, name),
        shardRows: 64,
        ...(memoryMb === undefined ? {} : { memoryMb }),
      });
    for (const format of ['parquet', 'arrow'] as const) {
      const a = await run(11, `${format}-a`, format);
      // DuckDB's smallest memory limit gives the same bytes as the default.
      const b = await run(11, `${format}-b`, format, 16);
      expect(b.files).toEqual(a.files);
      for (const f of a.files) {
        expect(
          readFileSync(join(dir, `${format}-b`, f.path)).equals(
            readFileSync(join(dir, `${format}-a`, f.path)),
          ),
        ).toBe(true);
      }
      const c = await run(12, `${format}-c`, format);
      expect(c.splits).not.toEqual(a.splits);
    }
    const m = await run(11, 'arrow-check', 'arrow');
    checkAgainstBrute(await readRows(join(dir, 'arrow-check'), m), bruteCells(points, LOD));
  }, 120_000);

  it('filters points by box, time and SQL before aggregating', async () => {
    const out = join(dir, 'filtered');
    const box = [0, 0, 0, 40, 64, 30];
    const from = new Date(FIRST_DAY + 86_400_000).toISOString();
    const m = await exportTrainingSet({
      lake,
      table: 'pts',
      lod: LOD,
      splitLod: SPLIT_LOD,
      features: FEATURES,
      label: 'cls',
      box,
      from,
      where: "cls <> 'c'",
      out,
    });
    const kept = points.filter(
      (p) => p.x <= 40 && p.z <= 30 && p.timeMs >= FIRST_DAY + 86_400_000 && p.cls !== 'c',
    );
    const brute = bruteCells(kept, LOD);
    const rows = await readRows(out, m);
    expect(rows).toHaveLength(brute.size);
    checkAgainstBrute(rows, brute);
    expect(m.source).toEqual({ table: 'pts', where: "cls <> 'c'", box, from, to: null });
  }, 60_000);

  it('takes a numeric label as the most frequent value of the cell, ties to the smallest', async () => {
    const out = join(dir, 'numeric-label');
    const m = await exportTrainingSet({ lake, table: 'pts', lod: 2, splitLod: 0, label: 'intensity', out });
    const byCell = new Map<string, Map<number, number>>();
    for (const p of points) {
      if (p.intensity === null) continue;
      const key = frameToLattice(FRAME, 2, p.x, p.y, p.z).join(',');
      const counts = byCell.get(key) ?? new Map<number, number>();
      counts.set(p.intensity, (counts.get(p.intensity) ?? 0) + 1);
      byCell.set(key, counts);
    }
    const rows = await readRows(out, m);
    expect(rows).toHaveLength(bruteCells(points, 2).size);
    let ties = 0;
    for (const r of rows) {
      const counts = [...(byCell.get((r.lattice as number[]).join(',')) ?? new Map<number, number>())];
      counts.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      if (counts.length > 1 && counts[0]![1] === counts[1]![1]) ties++;
      expect(r.label).toBe(counts[0]?.[0] ?? null);
    }
    expect(ties).toBeGreaterThan(0);
  }, 60_000);

  it('orders k = 2 slots as the k-ring and rejects bad options with codes', async () => {
    const offsets = kRingOffsets(2);
    expect(Array.from(offsets.subarray(0, 6))).toEqual([1, 1, 1, 1, 1, -1]);
    const out = join(dir, 'k2');
    const m = await exportTrainingSet({
      lake,
      table: 'pts',
      lod: LOD,
      k: 2,
      features: 'count',
      out,
      seed: 1,
    });
    expect(m.shapes.neighbors).toEqual([offsets.length / 3, 1]);
    const brute = bruteCells(points, LOD);
    for (const r of (await readRows(out, m)).slice(0, 200)) {
      const l = (r.lattice as number[]).map(Number);
      (r.neighbor_mask as number[]).forEach((v, s) => {
        const key = [l[0]! + offsets[3 * s]!, l[1]! + offsets[3 * s + 1]!, l[2]! + offsets[3 * s + 2]!].join(
          ',',
        );
        expect(Number(v)).toBe(brute.has(key) ? 1 : 0);
        expect(Number((r.neighbors as number[][])[s]![0])).toBe(brute.get(key)?.count ?? 0);
      });
    }
    const bad = async (o: object, code: string) => {
      const e = await exportTrainingSet({ lake, table: 'pts', lod: LOD, out: join(dir, 'bad'), ...o }).catch(
        (x) => x,
      );
      expect(e).toBeInstanceOf(OctaError);
      expect((e as OctaError).code).toBe(code);
    };
    await bad({ lod: 7 }, 'INVALID_ARGUMENT');
    await bad({ table: 'nope' }, 'NOT_FOUND');
    await bad({ features: 'mean(nope)' }, 'INVALID_ARGUMENT');
    await bad({ features: 'mean(cls)' }, 'INVALID_ARGUMENT');
    await bad({ features: 'median(x)' }, 'INVALID_ARGUMENT');
    await bad({ ratios: [1, -1, 0] }, 'INVALID_ARGUMENT');
    await bad({ k: 0 }, 'INVALID_ARGUMENT');
    await bad({ splitLod: 4 }, 'INVALID_ARGUMENT');
    await bad({ seed: 1.5 }, 'INVALID_ARGUMENT');
    await bad({ memoryMb: 8 }, 'INVALID_ARGUMENT');
    expect(parseFeatures('count, mean(a) ,var(b)')).toEqual([
      { kind: 'count' },
      { kind: 'mean', column: 'a' },
      { kind: 'var', column: 'b' },
    ]);
  }, 60_000);
});
