/**
 * The graph export held against brute force: node files index each split's samples in order, and the
 * edge files hold exactly the directed pairs of same-split samples that are lattice neighbours
 * within k rings (each with the slot of its offset), symmetric, with no pair missing or extra.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kRingOffsets } from '../../src/lattice/bcc.js';
import { exportTrainingSet } from '../../src/sql/training/training.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { bruteCells, makeLake, makePoints, type Pt, readShards } from './training-fixture.js';

const LOD = 3;

let dir: string;
let lake: string;
let points: Pt[];

beforeAll(async () => {
  dir = tempDir('training-graph');
  points = makePoints(33);
  lake = await makeLake(dir, points);
}, 60_000);

afterAll(() => removeDir(dir));

describe('exportTrainingSet graph', () => {
  for (const k of [1, 2]) {
    it(`writes per-split nodes and every same-split neighbour pair within ${k} ring(s) as edges`, async () => {
      const out = join(dir, `graph-k${k}`);
      const m = await exportTrainingSet({
        lake,
        table: 'pts',
        lod: LOD,
        k,
        splitLod: 1,
        features: 'count,mean(intensity)',
        label: 'cls',
        ratios: [0.5, 0.25, 0.25],
        seed: 5,
        graph: true,
        shardRows: 40,
        out,
      });
      const offsets = kRingOffsets(k);
      const slotOf = new Map<string, number>();
      for (let s = 0; s < offsets.length / 3; s++) {
        slotOf.set(`${offsets[3 * s]},${offsets[3 * s + 1]},${offsets[3 * s + 2]}`, s);
      }
      expect(m.graph?.columns).toEqual({
        nodes: ['node', 'cell', 'block', 'split', 'lattice', 'position', 'features', 'label'],
        edges: ['src', 'dst', 'slot'],
      });
      const brute = bruteCells(points, LOD);
      let totalEdges = 0;
      for (const split of ['train', 'validation', 'test'] as const) {
        const of = (kind: string) => m.files.filter((f) => f.split === split && f.kind === kind);
        const samples = await readShards(out, of('samples'));
        const nodes = await readShards(out, of('nodes'));
        const edges = await readShards(out, of('edges'));
        expect(of('nodes').map((f) => f.rows)).toEqual(of('samples').map((f) => f.rows));
        expect(nodes).toHaveLength(m.graph!.nodes[split]);
        expect(edges).toHaveLength(m.graph!.edges[split]);
        totalEdges += edges.length;
        // Node i is the split's i-th sample, with the sample's own columns.
        const index = new Map<string, number>();
        nodes.forEach((n, i) => {
          expect(Number(n.node)).toBe(i);
          expect(n.cell).toBe(samples[i]!.cell);
          expect(n.split).toBe(split);
          expect(n.label).toBe(samples[i]!.label);
          expect(n.features).toEqual(samples[i]!.features);
          expect(n.neighbors).toBeUndefined();
          const l = (n.lattice as number[]).map(Number);
          expect(brute.get(l.join(','))?.cell).toBe(BigInt(n.cell as bigint));
          index.set(l.join(','), i);
        });
        // Brute force: every present same-split neighbour of every node, in (src, slot) order.
        const want: string[] = [];
        nodes.forEach((n, i) => {
          const l = (n.lattice as number[]).map(Number);
          for (let s = 0; s < offsets.length / 3; s++) {
            const key = `${l[0]! + offsets[3 * s]!},${l[1]! + offsets[3 * s + 1]!},${l[2]! + offsets[3 * s + 2]!}`;
            const j = index.get(key);
            if (j !== undefined) want.push(`${i},${j},${s}`);
          }
        });
        const got = edges.map((e) => `${e.src},${e.dst},${e.slot}`);
        expect(got).toEqual(want);
        const pairs = new Set(edges.map((e) => `${e.src},${e.dst}`));
        for (const e of edges) {
          expect(pairs.has(`${e.dst},${e.src}`)).toBe(true);
          const a = (nodes[Number(e.src)]!.lattice as number[]).map(Number);
          const b = (nodes[Number(e.dst)]!.lattice as number[]).map(Number);
          expect(slotOf.get(`${b[0]! - a[0]!},${b[1]! - a[1]!},${b[2]! - a[2]!}`)).toBe(Number(e.slot));
        }
        // Edges are the mask restricted to the split: a sample's masked slots that hold a node.
        samples.forEach((r, i) => {
          const present = (r.neighbor_mask as number[]).filter((v) => Number(v) === 1).length;
          const inSplit = edges.filter((e) => Number(e.src) === i).length;
          expect(inSplit).toBeLessThanOrEqual(present);
        });
      }
      expect(totalEdges).toBeGreaterThan(k === 1 ? 500 : 2000);
    }, 60_000);
  }

  it('writes byte-identical graph files for the same options', async () => {
    const run = (name: string) =>
      exportTrainingSet({
        lake,
        table: 'pts',
        lod: LOD,
        splitLod: 1,
        seed: 9,
        graph: true,
        shardRows: 64,
        out: join(dir, name),
      });
    const a = await run('same-a');
    const b = await run('same-b');
    expect(b.files).toEqual(a.files);
    expect(a.files.some((f) => f.kind === 'edges')).toBe(true);
    for (const f of a.files) {
      expect(
        readFileSync(join(dir, 'same-b', f.path)).equals(readFileSync(join(dir, 'same-a', f.path))),
      ).toBe(true);
    }
  }, 60_000);
});
