/**
 * `octa export training-set` as a user runs it: the built CLI in a child process, its manifest,
 * files read back with hyparquet and checked against the library's brute-force cells, the same
 * bytes for the same seed, and exit codes for bad arguments.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bruteCells, makeLake, makePoints, type Pt } from '../export/training-fixture.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { runOcta } from './run.js';

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
    expect(r.stderr).toBe('');
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
    const plain = runOcta(args(again));
    expect(plain.status).toBe(0);
    expect(plain.stdout).toBe(
      `train ${m.splits.train}, validation ${m.splits.validation}, test ${m.splits.test}, dropped by the buffer ${m.dropped}\n${m.files.length} files and manifest.json in ${again}\n`,
    );
    for (const f of m.files)
      expect(readFileSync(join(again, f.path)).equals(readFileSync(join(out, f.path)))).toBe(true);
  }, 60_000);

  it('exits 2 for bad arguments and writes nothing', () => {
    for (const more of [
      ['--format', 'csv'],
      ['--ratios', '1,2'],
      ['--features', 'median(intensity)'],
      ['--seed', 'x'],
    ]) {
      const out = join(dir, 'bad');
      const r = runOcta(args(out, more));
      expect(r.status, more.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^octa: /);
      expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    }
  });
});
