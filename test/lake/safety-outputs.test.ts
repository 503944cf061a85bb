/**
 * What commands write (issue 13): an export never deletes what it did not write, and an output is
 * never one of the inputs or unwritable. Every case checks the files on disk after the run: the
 * refused ones leave everything as it was, down to the bytes.
 */
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTable } from '../../cli/output.js';
import { type IngestOptions, ingest } from '../../src/lake/ingest/ingest.js';
import { compact, rebalance, verify } from '../../src/lake/maintenance/index.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import type { Storage } from '../../src/lake/storage/storage.js';
import { OctaError } from '../../src/lattice/index.js';
import { exportTrainingSet, type TrainingSetOptions } from '../../src/sql/training/training.js';
import { makeLake, makePoints } from '../export/training-fixture.js';
import { committed, filesUnder, removeDir, tempDir } from './fixtures/ingest/lake.js';

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

const T = '2025-04-15T12:00:00Z';
/** A CSV of `n` rows; every third has a bad x, so a run has rejects to write. */
const csv = (n: number) =>
  `x,y,z,time,v\n${Array.from({ length: n }, (_, i) => `${i % 3 === 0 ? 'bad' : i % 50},${i % 40},${i % 30},${T},${i}`).join('\n')}\n`;

/** Ingests into a fresh lake under `dir`; returns the lake's root. */
async function ingestInto(name: string, options: Partial<IngestOptions> & Pick<IngestOptions, 'inputs'>) {
  const root = join(dir, name);
  const storage = await LocalStorage.create({ root });
  const run = ingest({
    storage,
    table: 'p',
    frame: 'cartesian:0,0,0,64',
    lod: 5,
    time: 'time',
    maxRejects: 1_000_000,
    ...options,
  });
  return { root, run };
}

/** The lake holds no table, and no data file at all. */
async function expectNothingStored(root: string) {
  expect((await committed(root, 'p')).version).toBe(0);
  expect(filesUnder(root).filter((f) => f.endsWith('.parquet'))).toEqual([]);
}

describe('an output that is an input', () => {
  it('refuses a reject file that is the input, a symlink or a hard link to it, before reading', async () => {
    const input = join(dir, 'in.csv');
    const text = csv(3000);
    writeFileSync(input, text);
    symlinkSync(input, join(dir, 'in-symlink.csv'));
    linkSync(input, join(dir, 'in-hardlink.csv'));
    for (const [i, rejectFile] of [
      input,
      join(dir, 'in-symlink.csv'),
      join(dir, 'in-hardlink.csv'),
    ].entries()) {
      const { root, run } = await ingestInto(`same-${i}`, { inputs: [{ path: input }], rejectFile });
      expect(await codeOf(run)).toBe('INVALID_ARGUMENT');
      expect(readFileSync(input, 'utf8')).toBe(text);
      await expectNothingStored(root);
    }
    // The input named through the link, the reject file by its own name: the same file too.
    const { root, run } = await ingestInto('same-link-input', {
      inputs: [{ path: join(dir, 'in-hardlink.csv') }],
      rejectFile: input,
    });
    expect(await codeOf(run)).toBe('INVALID_ARGUMENT');
    expect(readFileSync(input, 'utf8')).toBe(text);
    await expectNothingStored(root);
  });

  it('refuses a reject file inside the lake but for its _rejects folder', async () => {
    const input = join(dir, 'lakeside.csv');
    writeFileSync(input, csv(30));
    const root = join(dir, 'inside');
    const { run } = await ingestInto('inside', {
      inputs: [{ path: input }],
      rejectFile: join(root, '_octa', 'rejects.ndjson'),
    });
    expect(await codeOf(run)).toBe('INVALID_ARGUMENT');
    await expectNothingStored(root);
    const ok = await ingestInto('inside', {
      inputs: [{ path: input }],
      rejectFile: join(root, '_rejects', 'mine.ndjson'),
    });
    expect((await ok.run).rows_committed).toBe(20);
    expect(readFileSync(join(root, '_rejects', 'mine.ndjson'), 'utf8').split('\n')).toHaveLength(11);
  });
});

describe('a reject file that cannot be written', () => {
  it('is refused up front when it is a folder or under a file, leaving no data file', async () => {
    const input = join(dir, 'unwritable.csv');
    writeFileSync(input, csv(3000));
    for (const [i, rejectFile] of [dir, join(input, 'rejects.ndjson')].entries()) {
      const { root, run } = await ingestInto(`unwritable-${i}`, {
        inputs: [{ path: input }],
        rejectFile,
        fileRows: 100,
      });
      expect(await codeOf(run)).toBe('INVALID_ARGUMENT');
      await expectNothingStored(root);
    }
  });

  it('fails the run when writes fail later (a full disk) and removes the data files written', async () => {
    const input = join(dir, 'full.csv');
    writeFileSync(input, csv(3000));
    const { root, run } = await ingestInto('full', {
      inputs: [{ path: input }],
      rejectFile: '/dev/full',
      fileRows: 100,
    });
    expect(await codeOf(run)).toBe('IO_ERROR');
    await expectNothingStored(root);
  });
});

describe('inputs that are not regular files', () => {
  it('reads a named pipe as a stream, every row', async () => {
    const fifo = join(dir, 'points.fifo');
    execFileSync('mkfifo', [fifo]);
    // The writer blocks until the ingest opens the pipe for reading.
    const writing = writeFile(fifo, csv(3000));
    const { root, run } = await ingestInto('fifo', {
      inputs: [{ path: fifo }],
      format: 'csv',
      rejectFile: null,
    });
    const summary = await run;
    await writing;
    expect(summary).toMatchObject({ rows_read: 3000, rows_committed: 2000, rows_rejected: 1000 });
    expect((await committed(root, 'p')).files.reduce((n, f) => n + f.rows, 0)).toBe(2000);
  });
});

describe('--format table', () => {
  it('lays out 200,000 rows (a spread argument overflowed the stack past ~125,000)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => ({ i, s: i === 123_456 ? 'widest' : 'x' }));
    const lines = formatTable(rows).split('\n');
    expect(lines).toHaveLength(200_002);
    expect(lines[0]).toBe('i       s');
    expect(lines[1]).toBe('------  ------');
    expect(lines[123_458]).toBe('123456  widest');
  });
});

describe('an aborted compaction', () => {
  it('keeps the partition already committed and commits and leaves nothing of the next', async () => {
    const day = (d: number, n: number) =>
      Array.from({ length: n }, (_, i) => `${i % 50},${i % 40},${i % 30},2025-04-1${d}T12:00:00Z,${i}`);
    const inputs = [0, 1].map((k) => {
      const path = join(dir, `compact-${k}.csv`);
      writeFileSync(path, `x,y,z,time,v\n${[...day(1, 100 + k), ...day(2, 200 + k)].join('\n')}\n`);
      return { path };
    });
    const { root, run } = await ingestInto('compact', { inputs, rejectFile: null });
    await run;
    const storage = await LocalStorage.create({ root });
    const before = await committed(root, 'p');
    expect(before.files).toHaveLength(4);
    const controller = new AbortController();
    const compacting = compact({
      storage,
      signal: controller.signal,
      // The first partition's commit is made; the signal comes before the second's.
      onPartition: () => controller.abort(new OctaError('INTERRUPTED', 'test', 'SIGTERM')),
    });
    expect(await codeOf(compacting)).toBe('INTERRUPTED');
    const after = await committed(root, 'p');
    expect(after.version).toBe(before.version + 1);
    expect(after.files).toHaveLength(3);
    expect(after.files.reduce((n, f) => n + f.rows, 0)).toBe(602);
    const report = await verify({ storage });
    expect(report.ok).toBe(true);
    expect(report.problems.filter((p) => p.code !== 'SUPERSEDED')).toEqual([]);
  });
});

describe('an aborted rebalance', () => {
  it('removes the files it wrote before the signal and commits nothing', async () => {
    const input = join(dir, 'rebalance.csv');
    writeFileSync(input, csv(3000));
    const { root, run } = await ingestInto('rebalance', { inputs: [{ path: input }], rejectFile: null });
    await run;
    const before = await committed(root, 'p');
    const real = await LocalStorage.create({ root });
    const controller = new AbortController();
    // The lake's own storage; the signal comes right after the first data file is stored.
    const storage: Storage = {
      url: real.url,
      read: (k) => real.read(k),
      readRange: (k, o, n) => real.readRange(k, o, n),
      write: async (k, d) => {
        await real.write(k, d);
        if (k.endsWith('.parquet')) controller.abort(new OctaError('INTERRUPTED', 'test', 'SIGINT'));
      },
      writeIfAbsent: (k, d) => real.writeIfAbsent(k, d),
      list: (p) => real.list(p),
      stat: (k) => real.stat(k),
      delete: (k) => real.delete(k),
      localPath: (k) => real.localPath(k),
      close: () => real.close(),
    };
    expect(await codeOf(rebalance({ storage, targetRows: 500, signal: controller.signal }))).toBe(
      'INTERRUPTED',
    );
    expect(controller.signal.aborted).toBe(true);
    const after = await committed(root, 'p');
    expect(after.version).toBe(before.version);
    expect(filesUnder(root).filter((f) => f.endsWith('.parquet'))).toEqual(
      before.paths.map((p) => p.slice(root.length + 1)),
    );
    expect(await verify({ storage: real })).toMatchObject({ ok: true, errors: 0, warnings: 0 });
  });
});
