/**
 * A small lake for the training-set tests, and the brute-force training set computed from its
 * points in plain JS with the lattice core (independent of the SQL that exports it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { expect } from 'vitest';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import {
  frameToIndex64,
  frameToLattice,
  latticeToNeighbors,
  parseFrameSpec,
  tileToParent,
} from '../../src/lattice/index.js';
import type { TrainingFile } from '../../src/sql/training/training.js';
import { prng } from '../prng.js';

export const FRAME_SPEC = 'cartesian:0,0,0,64';
export const FRAME = parseFrameSpec(FRAME_SPEC);
export const TABLE_LOD = 6;
const DAY_MS = 86_400_000;
export const FIRST_DAY = Date.UTC(2025, 5, 1);

/** One input point. */
export interface Pt {
  x: number;
  y: number;
  z: number;
  timeMs: number;
  intensity: number | null;
  cls: string;
}

/** 2,500 seeded points in a 64 m cube over two days, many on the faces and corners of the domain. */
export function makePoints(seed = 5): Pt[] {
  const rand = prng(seed);
  const out: Pt[] = [];
  const edge = (v: number, i: number) => (i % 3 === 0 ? 0 : i % 3 === 1 ? 64 - 1e-9 : v);
  for (let i = 0; i < 2500; i++) {
    let x = rand() * 64;
    let y = rand() * 64;
    let z = rand() * 64;
    if (i % 7 === 0) x = edge(x, i);
    if (i % 11 === 0) y = edge(y, i >> 1);
    if (i % 13 === 0) z = edge(z, i >> 2);
    out.push({
      x,
      y,
      z,
      timeMs: FIRST_DAY + (i % 2) * DAY_MS + Math.floor(rand() * 1000) * 1000,
      intensity: i % 17 === 0 ? null : Math.floor(rand() * 1000),
      cls: ['a', 'b', 'c'][Math.floor(rand() * 3)]!,
    });
  }
  return out;
}

/** Writes the points as CSV and ingests them into table `pts` of a lake at `dir/lake`. */
export async function makeLake(dir: string, points: readonly Pt[]): Promise<string> {
  const csv = ['x,y,z,time,intensity,cls'];
  for (const p of points) {
    csv.push(`${p.x},${p.y},${p.z},${new Date(p.timeMs).toISOString()},${p.intensity ?? ''},${p.cls}`);
  }
  const path = join(dir, 'points.csv');
  writeFileSync(path, `${csv.join('\n')}\n`);
  const lake = join(dir, 'lake');
  const storage = await LocalStorage.create({ root: lake });
  await ingest({
    storage,
    table: 'pts',
    inputs: [{ path }],
    frame: FRAME_SPEC,
    lod: TABLE_LOD,
    time: 'time',
    rejectFile: join(dir, 'rejects.ndjson'),
  });
  return lake;
}

/** A cell of the brute-force set. */
export interface BruteCell {
  cell: bigint;
  lattice: [number, number, number];
  count: number;
  mean: number;
  variance: number;
  label: string | null;
}

/** Cells at `lod` of the points: count, mean and population variance of intensity, mode of cls. */
export function bruteCells(points: readonly Pt[], lod: number): Map<string, BruteCell> {
  const groups = new Map<string, { cell: bigint; lattice: [number, number, number]; pts: Pt[] }>();
  for (const p of points) {
    const l = frameToLattice(FRAME, lod, p.x, p.y, p.z);
    const key = l.join(',');
    const g = groups.get(key) ?? {
      cell: BigInt.asIntN(64, frameToIndex64(FRAME, lod, p.x, p.y, p.z, {})),
      lattice: l,
      pts: [],
    };
    g.pts.push(p);
    groups.set(key, g);
  }
  const out = new Map<string, BruteCell>();
  for (const [key, g] of groups) {
    const vals = g.pts.map((p) => p.intensity).filter((v): v is number => v !== null);
    const mean = vals.length === 0 ? 0 : vals.reduce((a, b) => a + b, 0) / vals.length;
    const variance = vals.length === 0 ? 0 : vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length;
    const counts = new Map<string, number>();
    for (const p of g.pts) counts.set(p.cls, (counts.get(p.cls) ?? 0) + 1);
    const label = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
    out.set(key, { cell: g.cell, lattice: g.lattice, count: g.pts.length, mean, variance, label });
  }
  return out;
}

/** The 14 neighbour keys of a lattice point in the crate's order. */
export const neighborKeys = (l: readonly number[]): string[] =>
  latticeToNeighbors(l[0]!, l[1]!, l[2]!).map((q) => q.join(','));

/** The tile ancestor of an INT64 cell id `levels` LODs up, INT64. */
export function tileAncestor(cell: bigint, levels: number): bigint {
  let id = BigInt.asUintN(64, cell);
  for (let i = 0; i < levels; i++) id = tileToParent(id)!;
  return BigInt.asIntN(64, id);
}

/** The rows of Parquet shards of an export, read with hyparquet (an independent reader), in order. */
export async function readShards(
  out: string,
  files: readonly TrainingFile[],
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const f of files) {
    const bytes = readFileSync(join(out, f.path));
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const part = await parquetReadObjects({ file, compressors });
    expect(part).toHaveLength(f.rows);
    rows.push(...part);
  }
  return rows;
}
