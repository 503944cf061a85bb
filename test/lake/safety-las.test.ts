/**
 * LAS/LAZ headers held against their points (issue 13 item 10): bounds that are not the points'
 * extents, a point count that is not what the file holds, and a creation day that is not a day are
 * refused with INVALID_INPUT naming the field, nothing committed and no data file left; the
 * simple.las/simple.laz samples (../shared/data) with their header bytes patched build each case.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestOptions, ingest } from '../../src/lake/ingest/ingest.js';
import { verify } from '../../src/lake/maintenance/verify.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError } from '../../src/lattice/index.js';
import {
  committed,
  duck,
  filesUnder,
  removeDir,
  sharedData,
  sqlPaths,
  tempDir,
} from './fixtures/ingest/lake.js';

/** Byte offsets in the LAS 1.x public header (src/lake/sources/las-header.ts). */
const AT = {
  dayOfYear: 90,
  year: 92,
  count: 107,
  maxX: 179,
  minX: 187,
  maxY: 195,
  minY: 203,
  maxZ: 211,
  minZ: 219,
};
const BOUNDS = ['maxX', 'minX', 'maxY', 'minY', 'maxZ', 'minZ'] as const;
const T = '2025-04-15T00:00:00Z';

type Patch = (b: Buffer) => void;
const patched = (file: 'simple.las' | 'simple.laz', ...patches: Patch[]): Buffer => {
  const bytes = Buffer.from(readFileSync(sharedData(file)));
  for (const p of patches) p(bytes);
  return bytes;
};
const bounds =
  (value: number): Patch =>
  (b) => {
    for (const f of BOUNDS) b.writeDoubleLE(f.startsWith('max') ? value : -value, AT[f]);
  };
const zeroBounds: Patch = (b) => {
  for (const f of BOUNDS) b.writeDoubleLE(0, AT[f]);
};
const nanBound: Patch = (b) => b.writeDoubleLE(Number.NaN, AT.maxX);
const count =
  (n: number): Patch =>
  (b) =>
    b.writeUInt32LE(n, AT.count);
const created =
  (year: number, day: number): Patch =>
  (b) => {
    b.writeUInt16LE(day, AT.dayOfYear);
    b.writeUInt16LE(year, AT.year);
  };

let dir: string;
let n = 0;
beforeAll(() => {
  dir = tempDir('safety-las');
});
afterAll(() => removeDir(dir));

/** Ingests one patched file (or a stream of it) into a fresh lake; frame from the header unless given. */
async function run(
  bytes: Buffer,
  ext: 'las' | 'laz',
  options: Partial<IngestOptions> & { stdin?: boolean } = {},
): Promise<{ lake: string; error?: OctaError; rows?: number }> {
  const lake = join(dir, `lake${++n}`);
  const path = join(dir, `in${n}.${ext}`);
  writeFileSync(path, bytes);
  const { stdin, ...rest } = options;
  const opts: IngestOptions = {
    storage: await LocalStorage.create({ root: lake }),
    table: 'pts',
    inputs: stdin ? [{ stream: Readable.from([bytes]) }] : [{ path }],
    timeValue: T,
    chunkRows: 256,
    ...rest,
  };
  try {
    const summary = await ingest(opts);
    return { lake, rows: summary.rows_committed };
  } catch (error) {
    if (!(error instanceof OctaError)) throw error;
    return { lake, error };
  }
}

/** A refused run: the code, a message matching `pattern`, nothing committed, no file, lake verify-clean. */
async function expectRefused(
  outcome: { lake: string; error?: OctaError; rows?: number },
  pattern: RegExp,
): Promise<void> {
  expect(outcome.rows).toBeUndefined();
  expect(outcome.error?.code).toBe('INVALID_INPUT');
  expect(outcome.error?.message).toMatch(pattern);
  expect((await committed(outcome.lake, 'pts')).files).toEqual([]);
  expect(filesUnder(outcome.lake).filter((f) => !f.startsWith('_octa/'))).toEqual([]);
  const report = await verify({ storage: await LocalStorage.create({ root: outcome.lake }) });
  expect(report.problems.filter((p) => p.severity === 'error')).toEqual([]);
}

describe('LAS/LAZ bounds against the points', () => {
  for (const ext of ['las', 'laz'] as const) {
    const file = `simple.${ext}` as const;

    it(`${ext}: bounds of ±1e300 are refused naming min x (not 1,065 points in one cell)`, async () => {
      await expectRefused(
        await run(patched(file, bounds(1e300)), ext),
        /bounds disagree with its points: min x is -1e\+300 but the points' smallest x is 635619\.85/,
      );
    });

    it(`${ext}: all-zero bounds are refused naming max x (not 1,065 rejects)`, async () => {
      await expectRefused(
        await run(patched(file, zeroBounds), ext),
        /bounds disagree with its points: max x is 0 but the points' largest x is 6388\d+/,
      );
    });

    it(`${ext}: a NaN bound is refused at open as the header's field, not as a frame error`, async () => {
      const outcome = await run(patched(file, nanBound), ext);
      await expectRefused(outcome, /not a valid LAS file: max x is not a finite number/);
      expect(outcome.error!.message).not.toMatch(/frame/);
    });

    it(`${ext}: the bounds are checked with --frame given too`, async () => {
      await expectRefused(
        await run(patched(file, bounds(1e300)), ext, { frame: 'cartesian:0,0,0,2097152' }),
        /min x is -1e\+300/,
      );
    });
  }

  it('swapped bounds (min above max) are refused at open', async () => {
    const swap: Patch = (b) => {
      const [max, min] = [b.readDoubleLE(AT.maxY), b.readDoubleLE(AT.minY)];
      b.writeDoubleLE(min, AT.maxY);
      b.writeDoubleLE(max, AT.minY);
    };
    await expectRefused(await run(patched('simple.las', swap), 'las'), /min y 853535.43 is above max y/);
  });

  it('bounds within one scale step of the points are accepted, coordinates exact', async () => {
    // Header bounds written from unrounded coordinates: 0.004 (less than the 0.01 scale) wider.
    const loose: Patch = (b) => {
      for (const f of BOUNDS)
        b.writeDoubleLE(b.readDoubleLE(AT[f]) + (f.startsWith('max') ? 0.004 : -0.004), AT[f]);
    };
    const outcome = await run(patched('simple.las', loose), 'las');
    expect(outcome.error).toBeUndefined();
    expect(outcome.rows).toBe(1065);
    const { paths } = await committed(outcome.lake, 'pts');
    const [r] = await duck(
      `SELECT min(x) AS x, count(DISTINCT cell) AS cells FROM read_parquet(${sqlPaths(paths)})`,
    );
    expect(r!.x).toBe(63561985 * 0.01);
    expect(r!.cells).toBeGreaterThan(1000n);
  });
});

describe('LAS/LAZ point count against the file', () => {
  it('las: a count smaller than the file is refused, not a silent 1,000 of 1,065', async () => {
    await expectRefused(
      await run(patched('simple.las', count(1000)), 'las', { frame: 'cartesian:0,0,0,2097152' }),
      /point count 1000 disagrees with the file: its 34-byte records from byte 227 end at byte 34227 but the input has 36437 bytes/,
    );
  });

  it('las on stdin: a count smaller than the stream is refused', async () => {
    await expectRefused(
      await run(patched('simple.las', count(1000)), 'las', { stdin: true, frame: 'cartesian:0,0,0,2097152' }),
      /point count 1000 disagrees with the file: .* but the input has more bytes/,
    );
  });

  it('laz: a count of 0 for a file of one chunk is refused, not an empty commit', async () => {
    await expectRefused(
      await run(patched('simple.laz', count(0)), 'laz', { frame: 'cartesian:0,0,0,2097152' }),
      /LAZ header's point count 0 disagrees with the file: it holds 1 chunks of up to 50000 points/,
    );
  });

  it('laz: a count beyond its chunks is refused before decoding', async () => {
    await expectRefused(
      await run(patched('simple.laz', count(50_001)), 'laz', { frame: 'cartesian:0,0,0,2097152' }),
      /point count 50001 disagrees with the file/,
    );
  });
});

describe('LAS creation date used for time', () => {
  const noTime = { timeValue: undefined, frame: 'cartesian:0,0,0,2097152' } as const;

  for (const [year, day] of [
    [2025, 400],
    [2025, 366],
  ] as const) {
    it(`day ${day} of ${year} is refused with the hint to --time-value`, async () => {
      await expectRefused(
        await run(patched('simple.las', created(year, day)), 'las', noTime),
        new RegExp(
          `creation day of year ${day} is not a day of ${year} \\(1-365\\); give the time with \`timeValue\``,
        ),
      );
    });
  }

  it('day 366 of a leap year is its 31 December; a bad day is ignored under --time-value', async () => {
    const leap = await run(patched('simple.las', created(2024, 366)), 'las', noTime);
    expect(leap.rows).toBe(1065);
    const [r] = await duck(
      `SELECT DISTINCT strftime(time, '%Y-%m-%d') AS day FROM read_parquet(${sqlPaths((await committed(leap.lake, 'pts')).paths)})`,
    );
    expect(r!.day).toBe('2024-12-31');
    const given = await run(patched('simple.las', created(2025, 400)), 'las');
    expect(given.rows).toBe(1065);
  });
});
