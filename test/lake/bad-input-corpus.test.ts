/**
 * The bad-input corpus (issue 7): one row per case across formats and options, each with the outcome
 * it must have — an error code before anything is committed, or rejects with their reasons while the
 * good rows commit. After every case the lake is checked: a failed case leaves no committed file and
 * no data file, a passing one commits exactly the rows it should.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestOptions, ingest } from '../../src/lake/ingest/ingest.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError } from '../../src/lattice/index.js';
import { openLake } from '../../src/sql/open.js';
import { committed, filesUnder, removeDir, sharedData, tempDir } from './fixtures/ingest/lake.js';

const T = '2025-04-15T12:00:00Z';
const H = 'x,y,z,time,v';
const good = (n: number) =>
  Array.from({ length: n }, (_, i) => `${i + 1},${i + 2},${i + 3},${T},${i}`).join('\n');

interface Case {
  name: string;
  /** File content (a string is written as UTF-8). */
  content: string | Uint8Array;
  ext?: string;
  options?: Partial<IngestOptions>;
  /** The run fails with this code and commits nothing … */
  code?: string;
  /** … or commits this many rows, with a reject per pattern (in row order). */
  rows?: number;
  rejects?: RegExp[];
  /** A query over the committed table through openLake, and the rows it must return. */
  readBack?: { sql: string; rows: Record<string, unknown>[] };
}

const laz = () => readFileSync(sharedData('simple.laz'));

const CASES: Case[] = [
  // Structure: fails before anything is written.
  { name: 'empty file', content: '', code: 'INVALID_INPUT' },
  { name: 'only blank lines', content: '\n\n\r\n', code: 'INVALID_INPUT' },
  { name: 'header only', content: `${H}\n`, rows: 0 },
  { name: 'duplicate header names', content: `x,y,z,time,x\n1,1,1,${T},1\n`, code: 'INVALID_INPUT' },
  { name: 'unterminated quote in the header', content: `x,"y,z,time\n1,1,1,${T}\n`, code: 'INVALID_INPUT' },
  { name: 'mapped x column missing', content: `a,y,z,time\n1,1,1,${T}\n`, code: 'SCHEMA_MISMATCH' },
  { name: 'time column missing', content: `x,y,z,when\n1,1,1,${T}\n`, code: 'SCHEMA_MISMATCH' },
  {
    name: 'a column named like a lake column (cell)',
    content: `x,y,z,time,cell\n1,1,1,${T},1\n`,
    code: 'SCHEMA_MISMATCH',
  },
  {
    name: 'wrong --format (parquet for CSV text)',
    content: `${H}\n${good(2)}\n`,
    options: { format: 'parquet' },
    code: 'INVALID_INPUT',
  },
  {
    name: 'wrong --format (las for CSV text)',
    content: `${H}\n${good(2)}\n`,
    options: { format: 'las' },
    code: 'INVALID_INPUT',
  },
  {
    name: 'truncated LAZ',
    content: laz().subarray(0, 4000),
    ext: 'laz',
    options: { frame: 'auto', time: undefined, timeValue: T },
    code: 'INVALID_INPUT',
  },
  {
    name: 'a LAZ header and nothing else',
    content: laz().subarray(0, 227),
    ext: 'laz',
    options: { frame: 'auto', time: undefined, timeValue: T },
    code: 'INVALID_INPUT',
  },
  {
    name: 'random bytes named .parquet',
    content: Uint8Array.from({ length: 4096 }, (_, i) => (i * 131) % 256),
    ext: 'parquet',
    code: 'INVALID_INPUT',
  },
  {
    name: 'a record longer than 16 MiB (unterminated quote)',
    content: `${H}\n1,1,1,${T},"${'a'.repeat(17 * 2 ** 20)}`,
    code: 'INVALID_INPUT',
  },
  // Hostile names.
  {
    name: 'table name with path traversal',
    content: `${H}\n${good(1)}\n`,
    options: { table: '../../etc' },
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'table name with a slash',
    content: `${H}\n${good(1)}\n`,
    options: { table: 'a/b' },
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'table name with an SQL quote',
    content: `${H}\n${good(1)}\n`,
    options: { table: "pts'; DROP TABLE x; --" },
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'table name with a control character',
    content: `${H}\n${good(1)}\n`,
    options: { table: 'pts\u0007' },
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'table name that is the catalog directory',
    content: `${H}\n${good(1)}\n`,
    options: { table: '_octa' },
    code: 'INVALID_ARGUMENT',
  },
  {
    // Any printable name is allowed (SQL over the lake always quotes names): stored and read back.
    name: 'column name with an SQL quote',
    content: `x,y,z,time,"it's"\n1,1,1,${T},a\n`,
    rows: 1,
    readBack: { sql: `SELECT "it's" AS v FROM pts`, rows: [{ v: 'a' }] },
  },
  {
    name: 'column name with a control character',
    content: `x,y,z,time,"a\u0001b"\n1,1,1,${T},a\n`,
    code: 'INVALID_ARGUMENT',
  },
  // Options.
  { name: 'LOD 16', content: `${H}\n${good(1)}\n`, options: { lod: 16 }, code: 'INVALID_LOD' },
  { name: 'unknown frame', content: `${H}\n${good(1)}\n`, options: { frame: 'mars' }, code: 'INVALID_FRAME' },
  {
    name: 'frame with a negative edge',
    content: `${H}\n${good(1)}\n`,
    options: { frame: 'cartesian:0,0,0,-1' },
    code: 'INVALID_FRAME',
  },
  {
    name: 'an unparsable --time-value',
    content: `x,y,z\n1,1,1\n`,
    options: { time: undefined, timeValue: 'soon' },
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'more rejects than --max-rejects',
    content: `${H}\n${good(3)}\nnope,1,1,${T},1\nnope,1,1,${T},1\n`,
    options: { maxRejects: 1 },
    code: 'INVALID_INPUT',
  },
  // Rows: rejected with a reason, the rest committed.
  {
    name: 'too few fields',
    content: `${H}\n${good(2)}\n1,2\n`,
    rows: 2,
    rejects: [/expected 5 fields, found 2/],
  },
  {
    name: 'too many fields',
    content: `${H}\n${good(2)}\n1,2,3,${T},4,5\n`,
    rows: 2,
    rejects: [/expected 5 fields, found 6/],
  },
  {
    name: 'text after a closing quote',
    content: `${H}\n${good(1)}\n1,2,3,${T},"a"b\n`,
    rows: 1,
    rejects: [/after a closing quote/],
  },
  {
    name: 'unterminated quote at the end',
    content: `${H}\n${good(1)}\n1,2,3,${T},"open`,
    rows: 1,
    rejects: [/unterminated quoted field/],
  },
  {
    name: 'non-numeric coordinate',
    content: `${H}\n${good(1)}\nabc,2,3,${T},1\n`,
    rows: 1,
    rejects: [/not a number: "abc"/],
  },
  { name: 'empty coordinate', content: `${H}\n${good(1)}\n,2,3,${T},1\n`, rows: 1, rejects: [/is empty/] },
  {
    name: 'NaN and ±Infinity coordinates',
    content: `${H}\n${good(1)}\nNaN,2,3,${T},1\n1,inf,3,${T},1\n1,2,-Infinity,${T},1\n`,
    rows: 1,
    rejects: [/NaN or infinite/, /NaN or infinite/, /NaN or infinite/],
  },
  {
    name: 'a number too big for a double',
    content: `${H}\n${good(1)}\n1e400,2,3,${T},1\n`,
    rows: 1,
    rejects: [/NaN or infinite/],
  },
  {
    name: 'a huge finite coordinate',
    content: `${H}\n${good(1)}\n1e300,2,3,${T},1\n`,
    rows: 1,
    rejects: [/outside frame/],
  },
  {
    name: 'points outside the frame on each side',
    content: `${H}\n${good(1)}\n-0.001,2,3,${T},1\n1,1024,3,${T},1\n`,
    rows: 1,
    rejects: [/outside frame/, /outside frame/],
  },
  { name: 'unparsable time', content: `${H}\n${good(1)}\n1,2,3,yesterday,1\n`, rows: 1, rejects: [/time/] },
  { name: 'empty time', content: `${H}\n${good(1)}\n1,2,3,,1\n`, rows: 1, rejects: [/time/] },
  {
    name: 'latitude above 90',
    content: `lat,lon,h,time\n10,20,0,${T}\n91,20,0,${T}\n`,
    options: { frame: 'ecef', coords: { lat: 'lat', lon: 'lon', height: 'h' } },
    rows: 1,
    rejects: [/latitude 91 is outside -90..90/],
  },
  {
    name: 'longitude 400',
    content: `lat,lon,h,time\n10,20,0,${T}\n10,400,0,${T}\n`,
    options: { frame: 'ecef', coords: { lat: 'lat', lon: 'lon', height: 'h' } },
    rows: 1,
    rejects: [/longitude 400 is outside/],
  },
  // Accepted as data: hostile text is stored as it is, never interpreted.
  {
    name: 'control characters and quotes in a text value',
    content: `${H}\n1,2,3,${T},"a\u0001'; DROP TABLE pts; --"\n`,
    rows: 1,
  },
  {
    name: 'a 10 MB line (one huge text value)',
    content: `${H}\n1,2,3,${T},${'z'.repeat(10 * 2 ** 20)}\n`,
    rows: 1,
  },
  {
    name: 'NDJSON: a line that is not JSON, one not an object',
    content: `{"x":1,"y":2,"z":3,"time":"${T}","v":1}\n{oops\n[1,2]\n`,
    ext: 'ndjson',
    rows: 1,
    rejects: [/JSON/, /object/],
  },
  {
    name: 'NDJSON: a coordinate that is text',
    content: `{"x":1,"y":2,"z":3,"time":"${T}","v":1}\n{"x":"abc","y":2,"z":3,"time":"${T}","v":1}\n`,
    ext: 'ndjson',
    rows: 1,
    rejects: [/x/],
  },
];

let dir: string;
beforeAll(() => {
  dir = tempDir('corpus');
});
afterAll(() => removeDir(dir));

describe(`bad-input corpus (${CASES.length} cases)`, () => {
  it('has at least 40 cases with distinct names', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      const caseDir = join(dir, `case${i}`);
      const lake = join(caseDir, 'lake');
      const path = join(dir, `in${i}.${c.ext ?? 'csv'}`);
      writeFileSync(path, c.content);
      const rejectFile = join(caseDir, 'rejects.ndjson');
      const options: IngestOptions = {
        storage: await LocalStorage.create({ root: lake }),
        table: 'pts',
        inputs: [{ path }],
        frame: 'cartesian:0,0,0,1024',
        lod: 8,
        time: 'time',
        rejectFile,
        ...c.options,
      };
      if (options.time === undefined) delete options.time;
      const outcome = await ingest(options).then(
        (summary) => ({ summary }),
        (error: unknown) => ({ error }),
      );
      if (c.code !== undefined) {
        expect('error' in outcome ? outcome.error : outcome).toBeInstanceOf(OctaError);
        expect((outcome as { error: OctaError }).error.code).toBe(c.code);
        // Nothing committed, no data file left behind.
        expect((await committed(lake, options.table)).files).toEqual([]);
        expect(filesUnder(lake).filter((f) => f.endsWith('.parquet'))).toEqual([]);
        return;
      }
      if ('error' in outcome) throw outcome.error;
      expect(outcome.summary.rows_committed).toBe(c.rows);
      expect((await committed(lake, 'pts')).files.reduce((n, f) => n + f.rows, 0)).toBe(c.rows);
      const lines = outcome.summary.reject_file
        ? readFileSync(rejectFile, 'utf8')
            .trimEnd()
            .split('\n')
            .map((l) => JSON.parse(l) as { reason: string; row: number })
        : [];
      expect(lines.length).toBe((c.rejects ?? []).length);
      lines.forEach((l, k) => {
        expect(l.reason).toMatch(c.rejects![k]!);
        expect(l.row).toBeGreaterThan(0);
      });
      if (c.readBack) {
        const session = await openLake({ storage: options.storage, functions: false });
        try {
          expect((await session.connection.runAndReadAll(c.readBack.sql)).getRowObjectsJson()).toEqual(
            c.readBack.rows,
          );
        } finally {
          session.close();
        }
      }
    });
  }
});
