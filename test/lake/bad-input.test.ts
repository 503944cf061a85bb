/**
 * Bad input through `ingest()` (DESIGN §7): a bad row goes to the reject file with its row (and line)
 * number and a reason, and the rest commits; a structural problem fails before anything is written;
 * a run past --max-rejects commits nothing and leaves the lake as it was.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type IngestOptions, type IngestSummary, ingest } from '../../src/lake/ingest/ingest.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError, type OctaErrorCode } from '../../src/lattice/index.js';
import { openLake } from '../../src/sql/open.js';
import { committed, filesUnder, removeDir, sharedData, tempDir } from './fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, pointsToCsv } from './fixtures/ingest/points.js';

let dir: string;
let lake: string;
let storage: LocalStorage;
let rejectFile: string;

beforeEach(async () => {
  dir = tempDir('bad-input');
  lake = join(dir, 'lake');
  storage = await LocalStorage.create({ root: lake });
  rejectFile = join(dir, 'rejects.ndjson');
});

afterEach(() => {
  removeDir(dir);
});

let files = 0;
function file(content: string | Uint8Array, ext = 'csv'): string {
  const path = join(dir, `in${files++}.${ext}`);
  writeFileSync(path, content);
  return path;
}

function run(path: string, options: Partial<IngestOptions> = {}): Promise<IngestSummary> {
  return ingest({
    storage,
    table: 'pts',
    inputs: [{ path }],
    frame: POINTS_FRAME,
    lod: 8,
    time: 'time',
    rejectFile,
    ...options,
  });
}

async function failure(promise: Promise<unknown>, code: OctaErrorCode): Promise<OctaError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OctaError);
  expect((error as OctaError).code).toBe(code);
  return error as OctaError;
}

interface RejectLine {
  source: string;
  row: number;
  line?: number;
  reason: string;
  text?: string;
}

function rejects(): RejectLine[] {
  const text = readFileSync(rejectFile, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as RejectLine);
}

const T = '2025-04-15T12:00:00Z';
const HEADER = 'x,y,z,time,v';

/** Ingests CSV lines (after HEADER), checks the summary against the reject file, returns the rejects. */
async function rejectsOf(lines: string[], good: number, options: Partial<IngestOptions> = {}) {
  const path = file(`${HEADER}\n${lines.join('\n')}\n`);
  const summary = await run(path, options);
  const list = rejects();
  expect(summary).toMatchObject({
    rows_committed: good,
    rows_rejected: list.length,
    rows_read: good + list.length,
    reject_file: rejectFile,
  });
  for (const r of list) expect(r.source).toBe(path);
  return list.map(({ row, line, reason }) => ({ row, line, reason }));
}

describe('rows that go to the reject file', () => {
  it('malformed CSV records: wrong field count, text after a quote, an unterminated quote', async () => {
    const got = await rejectsOf(
      [
        `1,1,1,${T},a`,
        `2,2,2,${T}`, // row 2, line 3: a field short
        `3,3,3,${T},b,extra`, // row 3: one too many
        `"4"x,4,4,${T},c`, // row 4: text after a closing quote
        `5,5,5,${T},"quoted, with comma"`,
        `6,6,6,${T},"never closed`, // row 6: swallows the rest
        `7,7,7,${T},d`,
      ],
      2,
    );
    expect(got).toEqual([
      { row: 2, line: 3, reason: 'expected 5 fields, found 4' },
      { row: 3, line: 4, reason: 'expected 5 fields, found 6' },
      { row: 4, line: 5, reason: expect.stringMatching(/field 1: unexpected text after a closing quote/) },
      { row: 6, line: 7, reason: expect.stringMatching(/unterminated quoted field 5/) },
    ]);
  });

  it('coordinates that are not numbers, NaN, infinite or empty', async () => {
    const got = await rejectsOf(
      [
        `1,1,1,${T},ok`,
        `abc,1,1,${T},a`,
        `1,NaN,1,${T},b`,
        `1,1,Infinity,${T},c`,
        `-inf,1,1,${T},d`,
        `,1,1,${T},e`,
        `1,1,"",${T},f`,
        `1e400,1,1,${T},g`,
        `2,2,2,${T},ok`,
      ],
      2,
    );
    expect(got.map((r) => r.row)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(got[0]!.reason).toBe('column "x": not a number: "abc"');
    for (const r of got.slice(1, 4)) expect(r.reason).toMatch(/NaN or infinite|not a number/);
    expect(got[4]!.reason).toBe('column "x" is empty');
    expect(got[5]!.reason).toMatch(/column "z"/);
    expect(got[6]!.reason).toMatch(/NaN or infinite|not a number/);
  });

  it('latitudes outside ±90 and longitudes outside -180..360 in geodetic input', async () => {
    const path = file(
      [
        'lat,lon,h,time',
        `45,10,100,${T}`,
        `90.0001,10,0,${T}`,
        `-91,10,0,${T}`,
        `-90,180,0,${T}`,
        `10,400,0,${T}`,
        `NaN,1,0,${T}`,
      ].join('\n'),
    );
    const summary = await run(path, {
      frame: 'ecef',
      lod: 15,
      coords: { lat: 'lat', lon: 'lon', height: 'h' },
    });
    expect(summary).toMatchObject({ rows_committed: 2, rows_rejected: 4 });
    expect(rejects().map(({ row, reason }) => ({ row, reason }))).toEqual([
      { row: 2, reason: 'latitude 90.0001 is outside -90..90' },
      { row: 3, reason: 'latitude -91 is outside -90..90' },
      { row: 5, reason: 'longitude 400 is outside -180..360' },
      { row: 6, reason: expect.stringMatching(/latitude NaN|not a number/) },
    ]);
  });

  it('points outside the frame, naming the point and the frame', async () => {
    const got = await rejectsOf(
      [`1,1,1,${T},a`, `1024,5,5,${T},b`, `5,-0.001,5,${T},c`, `5,5,1023.999,${T},d`, `1e6,2e6,3e6,${T},e`],
      2,
    );
    expect(got.map(({ row, reason }) => ({ row, reason }))).toEqual([
      { row: 2, reason: 'point (1024, 5, 5) is outside frame 0 (cartesian, origin 0,0,0, edge 1024)' },
      { row: 3, reason: 'point (5, -0.001, 5) is outside frame 0 (cartesian, origin 0,0,0, edge 1024)' },
      {
        row: 5,
        reason: 'point (1000000, 2000000, 3000000) is outside frame 0 (cartesian, origin 0,0,0, edge 1024)',
      },
    ]);
  });

  it('times that cannot be read', async () => {
    const got = await rejectsOf(
      [
        `1,1,1,${T},a`,
        '1,1,1,yesterday,b',
        '1,1,1,2025-02-30T00:00:00Z,c',
        '1,1,1,2025-04-15T25:00:00Z,d',
        '1,1,1,,e',
        '1,1,1,2025-04-15T10:00:00+02:00,f',
        '1,1,1,1744718400,g',
      ],
      3,
    );
    expect(got.map(({ row, reason }) => ({ row, reason }))).toEqual([
      { row: 2, reason: 'column "time": unparsable time "yesterday"' },
      { row: 3, reason: 'column "time": unparsable time "2025-02-30T00:00:00Z": 2025-02-30 is not a date' },
      {
        row: 4,
        reason:
          'column "time": unparsable time "2025-04-15T25:00:00Z": 25:00 is not a time of day (00:00..23:59)',
      },
      { row: 5, reason: 'column "time" is empty' },
    ]);
    // The offset and epoch seconds both read as 2025-04-15T08:00:00Z / 12:00:00Z.
    const session = await openLake({ lake });
    try {
      const times = (
        await session.connection.runAndReadAll('SELECT epoch_us(time) AS us FROM pts ORDER BY us')
      ).getRowObjects();
      expect(times.map((r) => r.us)).toEqual([
        BigInt(Date.parse('2025-04-15T08:00:00Z')) * 1000n,
        BigInt(Date.parse(T)) * 1000n,
        BigInt(Date.parse(T)) * 1000n,
      ]);
    } finally {
      session.close();
    }
  });

  it('payload values that do not fit the table column, on a later ingest', async () => {
    await run(file(`${HEADER}\n1,1,1,${T},1.5\n`));
    expect((await committed(lake, 'pts')).files.length).toBe(1);
    const got = await rejectsOf([`2,2,2,${T},2.5`, `3,3,3,${T},lots`, `4,4,4,${T},`], 2);
    expect(got.map(({ row, reason }) => ({ row, reason }))).toEqual([
      { row: 2, reason: 'column "v": expected a number (float64), got "lots"' },
    ]);
  });

  it('gives the rejects of converting a CSV row its line number too, as the parser does', async () => {
    // A quoted newline makes line and row differ; the parser's own rejects carry the line already.
    const got = await rejectsOf(
      [`1,1,1,${T},"two`, `lines"`, `2,2,2,${T}`, `abc,3,3,${T},x`, `4,4,4,soon,y`, `5000,5,5,${T},z`],
      1,
    );
    expect(got).toEqual([
      { row: 2, line: 4, reason: 'expected 5 fields, found 4' },
      { row: 3, line: 5, reason: 'column "x": not a number: "abc"' },
      { row: 4, line: 6, reason: 'column "time": unparsable time "soon"' },
      { row: 5, line: 7, reason: expect.stringMatching(/^point \(5000, 5, 5\) is outside frame 0/) },
    ]);
  });

  it('replaces the reject file of an earlier run with the same path', async () => {
    await rejectsOf([`a,1,1,${T},x`, `b,1,1,${T},x`, `1,1,1,${T},x`], 1);
    const got = await rejectsOf([`c,1,1,${T},x`, `2,2,2,${T},y`], 1, { table: 'other' });
    expect(got.map((r) => r.reason)).toEqual(['column "x": not a number: "c"']);
  });

  it('a clean run leaves no reject file', async () => {
    const summary = await run(file(`${HEADER}\n1,1,1,${T},a\n`));
    expect(summary).toMatchObject({ rows_rejected: 0, reject_file: null });
    expect(filesUnder(dir).includes('rejects.ndjson')).toBe(false);
  });
});

describe('structural problems fail before anything is written', () => {
  /** Commits one good row first, so "unchanged" means something. */
  async function seeded() {
    await run(file(`${HEADER}\n1,1,1,${T},a\n`));
    return { before: filesUnder(lake), version: (await committed(lake, 'pts')).version };
  }

  async function unchanged(state: { before: string[]; version: number }) {
    expect(filesUnder(lake)).toEqual(state.before);
    expect((await committed(lake, 'pts')).version).toBe(state.version);
    expect(filesUnder(dir).includes('rejects.ndjson')).toBe(false);
  }

  it('a mapped column missing from the input', async () => {
    const error = await failure(run(file(`x,y,time\n1,2,${T}\n`)), 'SCHEMA_MISMATCH');
    expect(error.message).toMatch(/has no column "z" \(it has: x, y, time\)/);
    expect(filesUnder(lake)).toEqual([]); // not even a catalog
    const state = await seeded();
    await failure(
      run(file(`lat,lon,time\n1,2,${T}\n`), { coords: { lat: 'lat', lon: 'lon', depthKm: 'depth' } }),
      'SCHEMA_MISMATCH',
    );
    await failure(run(file(`x,y,z,when\n1,2,3,${T}\n`)), 'SCHEMA_MISMATCH');
    await unchanged(state);
  });

  it('extra columns: payload of a new table, refused with a hint to --exclude on an existing one', async () => {
    const state = await seeded();
    const extra = file(`${HEADER},note,w\n2,2,2,${T},b,hello,3\n`);
    const error = await failure(run(extra), 'SCHEMA_MISMATCH');
    expect(error.message).toMatch(/table pts has no column "note", "w": leave them out with `exclude`/);
    await unchanged(state);
    expect(await run(extra, { exclude: ['note', 'w'] })).toMatchObject({ rows_committed: 1 });
    // A new table takes them as payload.
    expect(await run(extra, { table: 'wide' })).toMatchObject({ rows_committed: 1 });
    const session = await openLake({ lake });
    try {
      const row = (await session.connection.runAndReadAll('SELECT v, note, w FROM wide')).getRowObjects()[0];
      expect(row).toEqual({ v: 'b', note: 'hello', w: 3 });
    } finally {
      session.close();
    }
  });

  it('inputs of one run with other columns: every input must fit the table', async () => {
    const a = file(`${HEADER}\n1,1,1,${T},a\n`);
    const b = file(`${HEADER},note\n2,2,2,${T},b,hello\n`);
    const error = await failure(run(a, { inputs: [{ path: a }, { path: b }] }), 'SCHEMA_MISMATCH');
    expect(error.message).toContain(`table pts has no column "note" of ${b}`);
    expect(error.message).toMatch(
      /a new table takes its columns from the first input.*leave them out with `exclude`/,
    );
    expect(filesUnder(lake)).toEqual([]);
    // An input without a table column gets nulls; one after it that has the column keeps its values.
    await run(a);
    const c = file(`x,y,z,time\n3,3,3,${T}\n`);
    const d = file(`${HEADER}\n4,4,4,${T},d\n`);
    expect(await run(c, { inputs: [{ path: c }, { path: d }] })).toMatchObject({ rows_committed: 2 });
    const session = await openLake({ lake });
    try {
      const rows = (
        await session.connection.runAndReadAll('SELECT x, v FROM pts ORDER BY x')
      ).getRowObjects();
      expect(rows).toEqual([
        { x: 1, v: 'a' },
        { x: 3, v: null },
        { x: 4, v: 'd' },
      ]);
    } finally {
      session.close();
    }
  });

  it('input columns named like the lake columns (t, lod, r, cell)', async () => {
    const error = await failure(run(file(`x,y,z,time,t,Cell\n1,1,1,${T},a,b\n`)), 'SCHEMA_MISMATCH');
    expect(error.message).toMatch(/"t", "Cell" collide with the lake's own columns/);
    expect(filesUnder(lake)).toEqual([]);
  });

  it('table names with / or ..', async () => {
    const path = file(`${HEADER}\n1,1,1,${T},a\n`);
    for (const table of ['a/b', '..', '../escape', 'a..b', '_octa', '']) {
      const error = await failure(run(path, { table }), 'INVALID_ARGUMENT');
      expect(error.message).toMatch(/table name/);
    }
    expect(filesUnder(dir).filter((f) => !f.startsWith('in'))).toEqual([]);
  });

  it('an unknown or malformed frame, and a cartesian frame for geodetic input', async () => {
    const path = file(`${HEADER}\n1,1,1,${T},a\n`);
    await failure(run(path, { frame: 'mars' }), 'INVALID_FRAME');
    await failure(run(path, { frame: 'cartesian:0,0,0,-5' }), 'INVALID_FRAME');
    const geo = file(`lat,lon,time\n1,2,${T}\n`);
    await failure(run(geo, { coords: { lat: 'lat', lon: 'lon' } }), 'INVALID_FRAME');
    expect(filesUnder(lake)).toEqual([]);
  });

  it('an empty file, a header-only CSV', async () => {
    const error = await failure(run(file('')), 'INVALID_INPUT');
    expect(error.message).toMatch(/empty input/);
    expect(filesUnder(lake)).toEqual([]);
    // A header and no rows: nothing to commit, and no table is created from it.
    const empty = file(`${HEADER}\n`);
    expect(await run(empty)).toMatchObject({ rows_read: 0, rows_committed: 0, files: 0, version: null });
    expect(filesUnder(lake)).toEqual([]);
    // Into an existing table: also nothing, and no error.
    const state = await seeded();
    expect(await run(empty)).toMatchObject({ rows_read: 0, rows_committed: 0, files: 0, version: null });
    await unchanged(state);
  });

  it('a wrong --format', async () => {
    const csv = file(`${HEADER}\n1,1,1,${T},a\n`);
    let error = await failure(run(csv, { format: 'parquet' }), 'INVALID_INPUT');
    expect(error.message).toMatch(/is not Parquet: it does not start with PAR1/);
    error = await failure(run(sharedData('simple.las'), { format: 'csv', frame: 'auto' }), 'INVALID_INPUT');
    expect(error.message).toMatch(
      /simple\.las is not CSV: it looks like a LAS point cloud \(use `format` las\)/,
    );
    error = await failure(run(csv, { format: 'las' }), 'INVALID_INPUT');
    expect(error.message).toMatch(/is not LAS: it does not start with LASF/);
    expect(filesUnder(lake)).toEqual([]);
  });

  it('a truncated LAZ file fails the run and commits nothing', async () => {
    const state = await seeded();
    const bytes = readFileSync(sharedData('simple.laz'));
    const cut = file(bytes.subarray(0, Math.floor(bytes.length / 2)), 'laz');
    const error = await failure(
      run(cut, { table: 'lidar', frame: 'auto', time: undefined, timeValue: T }),
      'INVALID_INPUT',
    );
    expect(error.message).toContain(cut);
    await unchanged(state);
    expect((await committed(lake, 'lidar')).files).toEqual([]);
  });

  it('a truncated LAS file fails the run too', async () => {
    const bytes = readFileSync(sharedData('simple.las'));
    const cut = file(bytes.subarray(0, Math.floor(bytes.length / 2)), 'las');
    const error = await failure(run(cut, { frame: 'auto', time: undefined, timeValue: T }), 'INVALID_INPUT');
    expect(error.message).toContain(cut);
    expect(filesUnder(lake).filter((f) => f.endsWith('.parquet'))).toEqual([]);
  });
});

describe('--max-rejects', () => {
  const good = generatePoints({ rows: 2000, seed: 3, days: 2 });
  const bad = Array.from({ length: 6 }, (_, i) => `${2000 + i},1,1,${T},1,2,x,true`);

  function input(): string {
    // The bad rows come last, after files of good rows were flushed.
    return file(`${pointsToCsv(good)}${bad.join('\n')}\n`);
  }

  it('fails past the limit, commits nothing, leaves no data files, and the lake readable', async () => {
    await run(file(`${HEADER}\n1,1,1,${T},a\n`), { table: 'old' });
    const version = (await committed(lake, 'old')).version;
    const error = await failure(
      run(input(), { maxRejects: 5, fileRows: 300, chunkRows: 500, frame: POINTS_FRAME }),
      'INVALID_INPUT',
    );
    expect(error.message).toMatch(/6 rows rejected, more than `maxRejects` 5; nothing was committed/);
    expect((await committed(lake, 'old')).version).toBe(version);
    expect((await committed(lake, 'pts')).files).toEqual([]);
    expect(filesUnder(lake).filter((f) => f.endsWith('.parquet'))).toEqual(
      (await committed(lake, 'old')).files.map((f) => f.key),
    );
    expect(rejects().length).toBe(6); // the reasons are kept
    const session = await openLake({ lake });
    try {
      const rows = (await session.connection.runAndReadAll('SELECT x, v FROM old')).getRowObjects();
      expect(rows).toEqual([{ x: 1, v: 'a' }]);
      expect(session.snapshot.tables.has('pts')).toBe(false);
    } finally {
      session.close();
    }
  });

  it('commits when the rejects stay within the limit', async () => {
    const summary = await run(input(), { maxRejects: 6, fileRows: 300, chunkRows: 500 });
    expect(summary).toMatchObject({ rows_committed: 2000, rows_rejected: 6 });
    expect(rejects().map((r) => r.row)).toEqual([2001, 2002, 2003, 2004, 2005, 2006]);
    expect(rejects().every((r) => /outside frame 0/.test(r.reason))).toBe(true);
  });

  it('0 allows none', async () => {
    await failure(run(file(`${HEADER}\n1,1,1,${T},a\nq,1,1,${T},b\n`), { maxRejects: 0 }), 'INVALID_INPUT');
    expect(filesUnder(lake).filter((f) => f.endsWith('.parquet'))).toEqual([]);
  });
});
