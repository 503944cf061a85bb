/**
 * What commands write (issue 13): an export never deletes what it did not write, and an output is
 * never one of the inputs or unwritable. Every case checks the files on disk after the run: the
 * refused ones leave everything as it was, down to the bytes.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OctaError } from '../../src/lattice/index.js';
import { exportTrainingSet, type TrainingSetOptions } from '../../src/sql/training.js';
import { makeLake, makePoints } from '../export/training-fixture.js';
import { filesUnder, removeDir, tempDir } from './fixtures/ingest/lake.js';

let dir: string;
let lake: string;

beforeAll(async () => {
  dir = tempDir('safety-outputs');
  lake = await makeLake(dir, makePoints(3));
}, 60_000);

afterAll(() => removeDir(dir));

/** Every file under `root` with its content. */
function snapshot(root: string): Record<string, string> {
  return Object.fromEntries(filesUnder(root).map((f) => [f, readFileSync(join(root, f), 'latin1')]));
}

const exportTo = (out: string, more: Partial<TrainingSetOptions> = {}) =>
  exportTrainingSet({ lake, table: 'pts', lod: 2, splitLod: 0, seed: 1, format: 'arrow', out, ...more });

async function codeOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (err) {
    if (err instanceof OctaError) return err.code;
    throw err;
  }
  throw new Error('the run succeeded');
}

describe('export output folder', () => {
  it('refuses a non-empty folder without an export manifest and leaves it untouched', async () => {
    // A repository root: split-named folders (test/) beside others, and no manifest.
    const out = join(dir, 'repo');
    mkdirSync(join(out, 'test'), { recursive: true });
    mkdirSync(join(out, 'src'), { recursive: true });
    writeFileSync(join(out, 'test', 'keep.test.ts'), 'a test\n');
    writeFileSync(join(out, 'src', 'main.ts'), 'code\n');
    writeFileSync(join(out, 'package.json'), '{"name":"x"}\n');
    const before = snapshot(out);
    expect(await codeOf(exportTo(out))).toBe('INVALID_ARGUMENT');
    expect(snapshot(out)).toEqual(before);
    // A manifest.json of something else is no licence either.
    writeFileSync(join(out, 'manifest.json'), '{"name":"web app","files":[]}\n');
    expect(await codeOf(exportTo(out))).toBe('INVALID_ARGUMENT');
    expect(filesUnder(out)).toEqual(['manifest.json', 'package.json', 'src/main.ts', 'test/keep.test.ts']);
  });

  it('replaces an earlier export by removing only the files its manifest named', async () => {
    const out = join(dir, 'again');
    const first = await exportTo(out, { shardRows: 10 });
    expect(first.files.length).toBeGreaterThan(6);
    // Files the user put beside the export, in its root and in its split folders.
    writeFileSync(join(out, 'notes.txt'), 'mine\n');
    writeFileSync(join(out, 'train', 'README'), 'also mine\n');
    const second = await exportTo(out, { shardRows: 1_000_000 });
    expect(second.files.length).toBeLessThan(first.files.length);
    const expected = [...second.files.map((f) => f.path), 'manifest.json', 'notes.txt', 'train/README'];
    expect(filesUnder(out)).toEqual(expected.sort());
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(readFileSync(join(out, 'train', 'README'), 'utf8')).toBe('also mine\n');
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).files).toEqual(second.files);
  });

  it('refuses a manifest naming a file outside the folder, removing nothing', async () => {
    const out = join(dir, 'forged');
    await exportTo(out);
    const outside = join(dir, 'victim.txt');
    writeFileSync(outside, 'precious\n');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    manifest.files.push({ path: '../victim.txt', split: 'train', kind: 'samples', rows: 1 });
    writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest));
    const before = snapshot(out);
    expect(await codeOf(exportTo(out))).toBe('INVALID_ARGUMENT');
    expect(readFileSync(outside, 'utf8')).toBe('precious\n');
    expect(snapshot(out)).toEqual(before);
  });

  it('refuses a folder inside the lake or holding it, before writing anything', async () => {
    const before = snapshot(lake);
    expect(await codeOf(exportTo(join(lake, 'ts')))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(exportTo(dir))).toBe('INVALID_ARGUMENT');
    expect(snapshot(lake)).toEqual(before);
  });

  it('writes into an empty folder and into a new one', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const m = await exportTo(empty);
    expect(filesUnder(empty)).toEqual([...m.files.map((f) => f.path), 'manifest.json'].sort());
  });
});
