/**
 * Library errors name the library's parameters, not the CLI's flags (issue 15, item 4): a message
 * says `timeValue` between backticks and lists it in `OctaError.params`; the CLI renames each to its
 * flag (`--time-value`) in one table (cli/output.ts), also for errors that crossed a worker thread.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliMessage } from '../../cli/output.js';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError } from '../../src/lattice/index.js';
import { octaInProcess, runOcta } from '../cli/run.js';
import { filesUnder, removeDir, sharedData, tempDir } from './fixtures/ingest/lake.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Lines of src/ that may still name a flag, each with its reason. */
const ALLOWED = new Map([
  // Reasons of rejected rows are data written to the reject file, not errors the CLI can rename.
  ['lake/sources/ndjson.ts', /leave it out with --exclude/],
  ['export/event-time.ts', /give --time-unit/],
  // Code, not text: a decrement, and S3's reserved bucket suffix.
  ['sql/training/spec.ts', /if \(--depth < 0\)/],
  ['lake/storage/s3-location.ts', /--ol-s3/],
  // Comments inside the statements `formatDdl` prints, telling their reader what keeps them current.
  ['lake/catalog/publish/format-ddl.ts', /^\s*[`'](--|-- .*)\s.*octa catalog (sync|ddl)/],
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('library messages', () => {
  it('name no CLI flag and no octa command outside comments', () => {
    const found: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const name = relative(SRC, file);
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\*|\/\/|\/\*)/.test(line)) return;
          if (
            !/--[a-z]|\bocta (ingest|verify|sql|query|compact|rebalance|vacuum|export|catalog|demo)\b/.test(
              line,
            )
          )
            return;
          if (ALLOWED.get(name)?.test(line)) return;
          found.push(`${name}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });
});

describe('an OctaError that names parameters', () => {
  it('keeps the library names in its message and renames only the listed ones', () => {
    const error = new OctaError('INVALID_ARGUMENT', 'give `time` or `timeValue`, not `other`', 'x', {
      params: ['time', 'timeValue', 'unmapped'],
    });
    expect(error.params).toEqual(['time', 'timeValue', 'unmapped']);
    expect(error.message).toBe(
      'give `time` or `timeValue`, not `other` (code: INVALID_ARGUMENT, value: "x")',
    );
    expect(error.renamed((p) => (p === 'time' ? '--time' : undefined))).toBe(
      'give --time or `timeValue`, not `other` (code: INVALID_ARGUMENT, value: "x")',
    );
    expect(cliMessage(error)).toBe(
      'give --time or --time-value, not `other` (code: INVALID_ARGUMENT, value: "x")',
    );
  });

  it('has no params unless given, and renames nothing then', () => {
    const error = new OctaError('INVALID_LOD', 'lod must be 0..15', 16);
    expect(error.params).toEqual([]);
    expect(cliMessage(error)).toBe(error.message);
  });
});

describe('ingest errors name options; the CLI says flags', () => {
  let dir: string;
  let lake: string;
  let csv: string;
  beforeEach(() => {
    dir = tempDir('error-params');
    lake = join(dir, 'lake');
    csv = join(dir, 'in.csv');
    writeFileSync(csv, 'x,y,z,t\n1,2,3,2024-01-01T00:00:00Z\n');
  });
  afterEach(() => removeDir(dir));

  const refusal = async (options: Record<string, unknown>): Promise<OctaError> => {
    const storage = await LocalStorage.create({ root: lake });
    const error = await ingest({
      storage,
      table: 'pts',
      inputs: [{ path: csv }],
      frame: 'cartesian:0,0,0,100',
      ...options,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OctaError);
    return error as OctaError;
  };

  it.each([
    {
      options: { time: 't', timeValue: '2024-01-01T00:00:00Z' },
      library: 'give `time` or `timeValue`, not both',
      cli: 'give --time or --time-value, not both',
    },
    {
      options: { time: 't', coords: { lat: 'x' } },
      library: 'geodetic input needs both `coords.lat` and `coords.lon`',
      cli: 'geodetic input needs both --lat and --lon',
    },
    {
      options: { time: 't', exclude: ['nope'] },
      library: '`exclude` names no input column: "nope"',
      cli: '--exclude names no input column: "nope"',
    },
    {
      options: { time: 't', format: 'las' },
      library: 'is not LAS: it does not start with LASF',
      cli: 'is not LAS: it does not start with LASF',
    },
  ])('$cli', async ({ options, library, cli }) => {
    const error = await refusal(options);
    expect(error.code).toMatch(/^INVALID_/);
    expect(error.message).toContain(library);
    expect(error.message).not.toMatch(/--[a-z]/);
    expect(cliMessage(error)).toContain(cli);
    expect(filesUnder(lake)).toEqual([]);
  });

  it('an error thrown on a source worker thread keeps its params: octa ingest says --format', () => {
    // The compiled CLI parses inputs on worker threads; the format check runs there.
    const r = runOcta([
      'ingest',
      sharedData('simple.las'),
      '--lake',
      lake,
      '--table',
      'pts',
      '--format',
      'csv',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('it looks like a LAS point cloud (use --format las)');
    expect(r.stderr).not.toContain('`format`');
    expect(filesUnder(lake).filter((f) => !f.startsWith('_octa'))).toEqual([]);
  });
});

describe('a bound checked once, by the library: the CLI parses the number and relies on it', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('error-bounds');
  });
  afterEach(() => removeDir(dir));

  it.each([
    [
      ['rebalance', '--max-operations', '0'],
      '--max-operations must be an integer in 1..1000000 (code: INVALID_ARGUMENT, value: 0)',
    ],
    [
      ['rebalance', '--target-rows', '1'],
      '--target-rows must be an integer in 2..9007199254740991 (code: INVALID_ARGUMENT, value: 1)',
    ],
    [
      ['compact', '--min-file-rows', '0'],
      '--min-file-rows (at most --target-rows) must be an integer in 1..1000000 (code: INVALID_ARGUMENT, value: 0)',
    ],
    [
      ['export', 'training-set', '--table', 'pts', '--lod', '1', '--format', 'csv', '--out', 'never'],
      '--format must be parquet or arrow (code: INVALID_ARGUMENT, value: "csv")',
    ],
    [
      ['export', 'training-set', '--table', 'pts', '--lod', '1', '--shard-rows', '0', '--out', 'never'],
      '--shard-rows must be an integer 1..16777216 (code: INVALID_ARGUMENT, value: 0)',
    ],
  ])('octa %j: exit 2 with the library message in flags', async (args, message) => {
    const r = await octaInProcess([...args, '--lake', dir], { cwd: dir });
    expect(r.stderr).toBe(`octa: ${message}\n`);
    expect(r.status).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });
});
