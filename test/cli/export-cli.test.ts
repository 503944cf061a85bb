/**
 * `octa export training-set` as a user runs it: its manifest, files read back with hyparquet and
 * checked against the library's brute-force cells, the same bytes for the same seed and as the
 * library's (inline encoder), and exit codes for bad arguments. The first run spawns the built CLI
 * (its Parquet encoder runs on worker threads); the others run the CLI's `main` in this process.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { index64ToBech32m } from '../../src/lattice/index.js';
import { exportTrainingSet } from '../../src/sql/training/training.js';
import { bruteCells, FRAME_SPEC, makeLake, makePoints, type Pt } from '../export/training-fixture.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { octaInProcess as octa, runOcta } from './run.js';

let dir: string;
let lake: string;
let points: Pt[];

beforeAll(async () => {
  dir = tempDir('export-cli');
  points = makePoints(9);
  lake = await makeLake(dir, points);
}, 60_000);

afterAll(() => removeDir(dir));

const args = (out: string, more: string[] = []) => [
  'export',
  'training-set',
  '--lake',
  lake,
  '--table',
  'pts',
  '--lod',
  '3',
  '--k',
  '1',
  '--features',
  'count,mean(intensity),var(intensity)',
  '--label',
  'cls',
  '--split-lod',
  '1',
  '--ratios',
  '0.6,0.2,0.2',
  '--buffer',
  '1',
  '--seed',
  '42',
  '--shard-rows',
  '50',
  '--out',
  out,
  ...more,
];

describe('octa export training-set', () => {
  it('writes shards and a manifest whose counts, shapes and labels match the points', async () => {
    const out = join(dir, 'a');
    const r = runOcta([...args(out), '--json']);
    // This buffer keeps almost no train block on so small a lake, and says so (the one stderr line).
    expect(r.stderr).toMatch(
      /^octa: warning: --buffer 1 dropped 706 of 911 samples \(77%\), leaving train 0%[^\n]*\n$/,
    );
    expect(r.status).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toEqual(m);
    expect(Object.keys(m.splits)).toEqual(['train', 'validation', 'test']);
    expect(m.shapes.neighbors).toEqual([14, 3]);
    expect(m.seed).toBe('42');
    const brute = bruteCells(points, 3);
    expect(m.splits.train + m.splits.validation + m.splits.test + m.dropped).toBe(brute.size);
    let rows = 0;
    for (const f of m.files as { path: string; split: string; rows: number }[]) {
      expect(f.rows).toBeLessThanOrEqual(50);
      const bytes = readFileSync(join(out, f.path));
      const part = await parquetReadObjects({
        file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
        compressors,
      });
      for (const row of part) {
        expect(row.split).toBe(f.split);
        const b = brute.get((row.lattice as number[]).join(','))!;
        expect(BigInt(row.cell as bigint)).toBe(b.cell);
        expect(row.label).toBe(b.label);
        expect(Number((row.features as number[])[0])).toBe(b.count);
        expect(row.block).toBeDefined();
      }
      rows += part.length;
    }
    expect(rows).toBe(m.splits.train + m.splits.validation + m.splits.test);
    const again = join(dir, 'b');
    const plain = await octa(args(again));
    expect(plain.status).toBe(0);
    expect(plain.stdout).toBe(
      `train ${m.splits.train}, validation ${m.splits.validation}, test ${m.splits.test}, dropped by the buffer ${m.dropped}\n${m.files.length} files and manifest.json in ${again}\n`,
    );
    for (const f of m.files)
      expect(readFileSync(join(again, f.path)).equals(readFileSync(join(out, f.path)))).toBe(true);
    // The CLI encodes Parquet on worker threads; the library in this test process (no compiled
    // worker) encodes inline, and test/export checks its every value against a brute force.
    const lib = await exportTrainingSet({
      lake,
      table: 'pts',
      lod: 3,
      k: 1,
      features: 'count,mean(intensity),var(intensity)',
      label: 'cls',
      splitLod: 1,
      ratios: [0.6, 0.2, 0.2],
      buffer: 1,
      seed: 42,
      shardRows: 50,
      out: join(dir, 'lib'),
    });
    expect(lib.files).toEqual(m.files);
    for (const f of m.files)
      expect(readFileSync(join(dir, 'lib', f.path)).equals(readFileSync(join(out, f.path)))).toBe(true);
  }, 60_000);

  it('takes labels from a lake table and writes a graph with --graph', async () => {
    // A second lake table with one row per sample cell: its id as bech32m text and an integer class.
    const brute = [...bruteCells(points, 3).values()];
    const unit = 64 / 2 ** 4;
    const csv = ['x,y,z,sample,klass'];
    brute.forEach((b, i) => {
      const [x, y, z] = b.lattice.map((l) => Math.min(l * unit, 64 - 1e-6));
      if (i % 4 !== 0) csv.push(`${x},${y},${z},${index64ToBech32m(BigInt.asUintN(64, b.cell))},${i % 5}`);
    });
    writeFileSync(join(dir, 'labels.csv'), `${csv.join('\n')}\n`);
    const summary = await ingest({
      storage: await LocalStorage.create({ root: lake }),
      table: 'cell_labels',
      inputs: [{ path: join(dir, 'labels.csv') }],
      frame: FRAME_SPEC,
      lod: 6,
      timeValue: '2025-06-01T00:00:00Z',
      rejectFile: null,
    });
    expect(summary.rows_committed).toBe(csv.length - 1);
    const want = new Map(brute.map((b, i) => [b.cell, i % 4 === 0 ? null : BigInt(i % 5)]));
    const out = join(dir, 'graph');
    const base = args(out).filter((a, i, all) => a !== '--label' && all[i - 1] !== '--label');
    const r = await octa([
      ...base,
      '--label-table',
      'cell_labels',
      '--label-column',
      'klass',
      '--label-key',
      'sample',
      '--graph',
    ]);
    expect(r.stderr).toMatch(/^octa: warning: --buffer 1 dropped \d+ of \d+ samples[^\n]*\n$/);
    expect(r.status).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    const e = m.graph.edges;
    expect(r.stdout).toContain(`graph edges: train ${e.train}, validation ${e.validation}, test ${e.test}\n`);
    expect(m.labelTable).toEqual({ relation: 'cell_labels', column: 'klass', key: 'sample' });
    expect(e.train + e.validation + e.test).toBeGreaterThan(0);
    const kinds = new Set<string>();
    for (const f of m.files as { path: string; split: string; kind: string; rows: number }[]) {
      kinds.add(f.kind);
      const bytes = readFileSync(join(out, f.path));
      const part = await parquetReadObjects({
        file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
        compressors,
      });
      expect(part).toHaveLength(f.rows);
      if (f.kind === 'edges') {
        for (const edge of part) expect(Number(edge.src)).not.toBe(Number(edge.dst));
        continue;
      }
      for (const row of part) {
        const label = want.get(BigInt(row.cell as bigint));
        expect(label).not.toBeUndefined();
        expect(row.label === null ? null : BigInt(row.label as bigint)).toBe(label);
      }
    }
    expect([...kinds].sort()).toEqual(['edges', 'nodes', 'samples']);
    const bad = await octa([...base, '--label-table', 'cell_labels', '--out', join(dir, 'bad-labels')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/label column/);
  }, 60_000);

  it('exits 2 for bad arguments and writes nothing', async () => {
    for (const more of [
      ['--format', 'csv'],
      ['--ratios', '1,2'],
      ['--features', 'median(intensity)'],
      ['--seed', 'x'],
    ]) {
      const out = join(dir, 'bad');
      const r = await octa(args(out, more));
      expect(r.status, more.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^octa: /);
      expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    }
  });
});
