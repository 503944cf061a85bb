/**
 * The out-of-core gather held against brute force where it can go wrong: cells packed around the
 * corner where eight of the export's 64-step tiles meet, so that most neighbourhoods reach into
 * another tile's halo. Every sample's features, slots and mask, each split's cell order, and every
 * graph edge are compared with the lattice core's answer, for k = 1 and for k = 4 (a reach of 8).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kRingOffsets } from '../../src/lattice/bcc.js';
import { exportTrainingSet } from '../../src/sql/training/training.js';
import { TILE_BITS } from '../../src/sql/training/write.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { prng } from '../prng.js';
import { bruteCells, FIRST_DAY, makeLake, type Pt, readShards } from './training-fixture.js';

const LOD = 6; // lattice 0..127: two tiles per axis, meeting at 64
const UNIT = 64 / 2 ** (LOD + 1);

/** ~70% of the BCC points of [54, 74)³ with 1–3 points each, plus a few cells at the domain's corners. */
function cornerPoints(): Pt[] {
  const rand = prng(11);
  const out: Pt[] = [];
  const add = (x: number, y: number, z: number) => {
    for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) {
      // Within a tenth of a step of the lattice point, inside the frame's domain [0, 64).
      const at = (l: number) => Math.min(64 - 1e-9, Math.max(0, (l + (rand() - 0.5) * 0.2) * UNIT));
      out.push({
        x: at(x),
        y: at(y),
        z: at(z),
        timeMs: FIRST_DAY + Math.floor(rand() * 1000) * 1000,
        intensity: Math.floor(rand() * 1000),
        cls: 'a',
      });
    }
  };
  for (let x = 54; x < 74; x++) {
    for (let y = 54; y < 74; y++) {
      for (let z = 54; z < 74; z++) {
        if ((x - y) % 2 === 0 && (y - z) % 2 === 0 && rand() < 0.7) add(x, y, z);
      }
    }
  }
  for (const [x, y, z] of [
    [0, 0, 0],
    [2, 0, 0],
    [1, 1, 1],
    [127, 127, 127],
    [125, 127, 127],
    [126, 126, 126],
  ]) {
    add(x!, y!, z!);
  }
  return out;
}

let dir: string;
let lake: string;
let points: Pt[];

beforeAll(async () => {
  dir = tempDir('training-tiles');
  points = cornerPoints();
  lake = await makeLake(dir, points);
}, 60_000);

afterAll(() => removeDir(dir));

const tileOf = (l: readonly number[]) => l.map((v) => v >> TILE_BITS).join(',');

describe('exportTrainingSet across tiles', () => {
  for (const k of [1, 4]) {
    it(`gathers k = ${k} neighbourhoods across tile faces, edges and corners as brute force does`, async () => {
      const out = join(dir, `k${k}`);
      const m = await exportTrainingSet({
        lake,
        table: 'pts',
        lod: LOD,
        k,
        splitLod: 3,
        features: 'count,mean(intensity)',
        ratios: [0.5, 0.25, 0.25],
        seed: 3,
        graph: true,
        shardRows: 97,
        out,
      });
      const brute = bruteCells(points, LOD);
      const offsets = kRingOffsets(k);
      const S = offsets.length / 3;
      expect(m.splits.train + m.splits.validation + m.splits.test).toBe(brute.size);
      let crossing = 0;
      let edgeCount = 0;
      for (const split of ['train', 'validation', 'test'] as const) {
        const of = (kind: string) => m.files.filter((f) => f.split === split && f.kind === kind);
        const samples = await readShards(out, of('samples'));
        const edges = await readShards(out, of('edges'));
        expect(samples).toHaveLength(m.splits[split]);
        const cells = samples.map((r) => BigInt(r.cell as bigint));
        expect(cells).toEqual([...cells].sort((a, b) => (a < b ? -1 : 1)));
        const node = new Map(samples.map((r, i) => [(r.lattice as number[]).map(Number).join(','), i]));
        const want: string[] = [];
        samples.forEach((r, i) => {
          const l = (r.lattice as number[]).map(Number);
          const b = brute.get(l.join(','))!;
          expect(BigInt(r.cell as bigint)).toBe(b.cell);
          expect((r.features as number[]).map(Number)).toEqual([b.count, Math.fround(b.mean)]);
          // One comparison per row: k = 4 has hundreds of slots.
          const wantMask: number[] = [];
          const wantNbs: number[][] = [];
          for (let s = 0; s < S; s++) {
            const q = [l[0]! + offsets[3 * s]!, l[1]! + offsets[3 * s + 1]!, l[2]! + offsets[3 * s + 2]!];
            const n = brute.get(q.join(','));
            wantMask.push(n === undefined ? 0 : 1);
            wantNbs.push(n === undefined ? [0, 0] : [n.count, Math.fround(n.mean)]);
            if (n !== undefined && tileOf(q) !== tileOf(l)) crossing++;
            const j = node.get(q.join(','));
            if (j !== undefined) want.push(`${i},${j},${s}`);
          }
          expect((r.neighbor_mask as number[]).map(Number), `${l}`).toEqual(wantMask);
          expect(
            (r.neighbors as number[][]).map((f) => f.map(Number)),
            `${l}`,
          ).toEqual(wantNbs);
        });
        expect(edges.map((e) => `${e.src},${e.dst},${e.slot}`)).toEqual(want);
        edgeCount += edges.length;
      }
      expect(m.graph!.edges.train + m.graph!.edges.validation + m.graph!.edges.test).toBe(edgeCount);
      // Most of the work crosses tiles: thousands of present neighbours lie in another tile.
      expect(crossing).toBeGreaterThan(k === 1 ? 1000 : 20_000);
    }, 120_000);
  }
});
