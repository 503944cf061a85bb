/**
 * The library's side of the argument checks (issues 13 and 14): one parser for lake locations
 * (schemes, procfs, paths that are not directories), verify of a table the catalog lacks, input
 * column names that differ only in case, and the demo scene's numbers. Each refusal writes nothing.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { verify } from '../../src/lake/maintenance/verify.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { openStorage, resolveLake } from '../../src/lake/storage/open.js';
import { OctaError } from '../../src/lattice/errors.js';
import { committed, filesUnder, removeDir, tempDir } from './fixtures/ingest/lake.js';

const T = '2025-04-15T12:00:00Z';
const FRAME = 'cartesian:0,0,0,1024';

let dir: string;
beforeEach(() => {
  dir = tempDir('safety-args');
});
afterEach(() => removeDir(dir));

/** The OctaError a call throws (or rejects with); fails the test when it does not throw one. */
async function errorOf(task: () => unknown): Promise<OctaError> {
  try {
    await task();
  } catch (error) {
    expect(error).toBeInstanceOf(OctaError);
    return error as OctaError;
  }
  throw new Error('expected an OctaError');
}

describe('resolveLake and openStorage: one parser for lake locations', () => {
  it('keep s3:// URLs, and resolve paths and file:// URLs to absolute paths', () => {
    expect(resolveLake('s3://bucket/lake')).toBe('s3://bucket/lake');
    expect(resolveLake(join(dir, 'new', 'lake'))).toBe(join(dir, 'new', 'lake'));
    expect(resolveLake(`file://${dir}/lake`)).toBe(join(dir, 'lake'));
    expect(resolveLake('relative-lake')).toBe(resolve('relative-lake'));
  });

  it.each([
    ['az://c/lake', 'lakes at az:// are not supported'],
    ['gs://bucket/lake', 'lakes at gs:// are not supported'],
    ['https://host/lake', 'lakes at https:// are not supported'],
    ['', 'a lake is a directory path, a file:// URL or an s3://bucket/prefix URL'],
    ['/proc/self', 'the lake location is in a kernel file system (/proc/self), not on a disk'],
    ['/proc/self/lake', 'the lake location is in a kernel file system (/proc/self), not on a disk'],
    ['/sys/kernel', 'the lake location is in a kernel file system (/sys/kernel), not on a disk'],
  ])('refuse %j: INVALID_ARGUMENT', async (lake, message) => {
    for (const error of [await errorOf(() => resolveLake(lake)), await errorOf(() => openStorage(lake))]) {
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain(message);
    }
    expect(existsSync(resolve('az:'))).toBe(false);
  });

  it('refuse a file, and a path under a file, creating nothing', async () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const plain = await errorOf(() => openStorage(file));
    expect(plain.code).toBe('INVALID_ARGUMENT');
    expect(plain.message).toContain('the lake location is not a directory');
    const under = await errorOf(() => openStorage(join(file, 'a', 'lake')));
    expect(under.message).toContain(`the lake location is under ${file}, which is not a directory`);
    expect(filesUnder(dir)).toEqual(['file']);
  });
});

describe('checks that write nothing', () => {
  it('verify of a table the catalog lacks is NOT_FOUND naming it', async () => {
    const lake = join(dir, 'lake');
    const input = join(dir, 'a.csv');
    writeFileSync(input, `x,y,z,time\n1,2,3,${T}\n`);
    const storage = await LocalStorage.create({ root: lake });
    await ingest({ storage, table: 'pts', inputs: [{ path: input }], frame: FRAME, rejectFile: null });
    const error = await errorOf(() => verify({ storage, table: 'nope' }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('no such table in the catalog (tables: pts) (code: NOT_FOUND, value: "nope")');
    expect((await verify({ storage, table: 'pts' })).ok).toBe(true);
  });

  it('input columns that differ only in case are INVALID_INPUT (the data), as a repeated CSV name is', async () => {
    const lake = join(dir, 'lake');
    const input = join(dir, 'case.csv');
    writeFileSync(input, `x,y,z,time,Intensity,intensity\n1,2,3,${T},1,2\n`);
    const storage = await LocalStorage.create({ root: lake });
    const error = await errorOf(() =>
      ingest({ storage, table: 'pts', inputs: [{ path: input }], frame: FRAME, rejectFile: null }),
    );
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('columns "Intensity" and "intensity" differ only in case');
    expect((await committed(lake, 'pts')).version).toBe(0);
    expect(filesUnder(join(lake, 'pts'))).toEqual([]);
    // Leaving one out is the way through.
    const summary = await ingest({
      storage,
      table: 'pts',
      inputs: [{ path: input }],
      frame: FRAME,
      exclude: ['intensity'],
      rejectFile: null,
    });
    expect(summary.rows_committed).toBe(1);
  });

  it.each([
    [{ points: 0 }, "the scene's points must be an integer in 1..1000000000"],
    [{ points: -5 }, "the scene's points must be an integer in 1..1000000000"],
    [{ days: 0 }, "the scene's days must be an integer in 1..3660"],
    [{ days: -1 }, "the scene's days must be an integer in 1..3660"],
    [{ seed: Number.NaN }, "the scene's seed must be an integer in 0..4294967295"],
  ])('runDemo refuses %j before writing', async (scene, message) => {
    const lake = join(dir, 'demo');
    const storage = await LocalStorage.create({ root: lake });
    const error = await errorOf(() => runDemo({ storage, scene }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain(message);
    expect(filesUnder(lake)).toEqual([]);
  });
});
