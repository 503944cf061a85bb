/**
 * Text inputs keep the user's data exact (issue 13 items 7, 8, 15; issue 14 item 1): NDJSON keys
 * outside the columns and repeated keys reject their line instead of vanishing; one number grammar
 * serves inference and parsing on the file and the stream route; wide inputs read in chunks sized
 * by the memory budget; mapped coordinate columns kept as payload are stored as numbers in every
 * format. Each case checks the rows stored (read back through openLake), the rejects with their
 * row and line, and that the lake verifies clean.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedCatalog } from '../../src/lake/catalog/catalog.js';
import { hiveDdl } from '../../src/lake/catalog/publish/hive-ddl.js';
import {
  boundedChunkRows,
  type IngestOptions,
  type IngestSummary,
  ingest,
} from '../../src/lake/ingest/ingest.js';
import { verify } from '../../src/lake/maintenance/index.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { openLake } from '../../src/sql/open.js';
import { duck, removeDir, sharedData, tempDir } from './fixtures/ingest/lake.js';

const T = '2025-04-15T12:00:00Z';

let dir: string;
let lake: string;
let storage: LocalStorage;
let rejectFile: string;

beforeEach(async () => {
  dir = tempDir('safety-text');
  lake = join(dir, 'lake');
  storage = await LocalStorage.create({ root: lake });
  rejectFile = join(dir, 'rejects.ndjson');
});
afterEach(() => removeDir(dir));

/** Writes `content` to a file in the test directory and returns its path. */
function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Ingests into table `pts` (cartesian frame, LOD 8, time column `time`) with the reject file. */
function run(inputs: IngestOptions['inputs'], options: Partial<IngestOptions> = {}): Promise<IngestSummary> {
  return ingest({
    storage,
    table: 'pts',
    inputs,
    frame: 'cartesian:0,0,0,1024',
    lod: 8,
    time: 'time',
    rejectFile,
    ...options,
  });
}

const stream = (content: string) => ({ stream: Readable.from([Buffer.from(content)]), name: 'stdin' });

/** The reject file's lines (row, line, reason), [] when the run wrote none. */
function rejects(summary: IngestSummary): { row: number; line?: number; reason: string }[] {
  if (summary.reject_file === null) return [];
  return readFileSync(rejectFile, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { row: number; line?: number; reason: string });
}

/** Rows of a query over the lake (as JSON values), after checking the lake verifies clean. */
async function query(sql: string): Promise<unknown[]> {
  const report = await verify({ storage });
  expect(report.problems.filter((p) => p.severity === 'error')).toEqual([]);
  const session = await openLake({ storage, functions: false });
  try {
    return (await session.connection.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    session.close();
  }
}

/** The DuckDB types of the table's columns, by name. */
async function types(table = 'pts'): Promise<Record<string, string>> {
  const rows = (await query(`DESCRIBE ${table}`)) as { column_name: string; column_type: string }[];
  return Object.fromEntries(rows.map((r) => [r.column_name, r.column_type]));
}

/** The payload types the catalog recorded for the table (what `octa catalog ddl` publishes). */
async function payloadTypes(table = 'pts'): Promise<Record<string, string>> {
  const snapshot = await (await EmbeddedCatalog.open({ storage })).snapshot();
  return Object.fromEntries(snapshot.tables.get(table)!.config.payload.map((c) => [c.name, c.type]));
}

describe('NDJSON keys outside the columns, and repeated keys (issue 13 item 7)', () => {
  const lines = [
    `{"x":1,"y":1,"z":1,"time":"${T}","v":1,"meta":null}`,
    `{"x":2,"y":2,"z":2,"time":"${T}","v":2}`,
    `{"x":3,"y":3,"z":3,"time":"${T}","v":3,"w":"late"}`,
    '',
    `{"x":4,"y":4,"z":4,"time":"${T}","v":4,"v":40}`,
    `{"x":5,"y":5,"z":5,"time":"${T}","v":5,"meta":{"a":1,"a":2}}`,
    `{"x":6,"y":6,"z":6,"time":"${T}","v":6}`,
    `{"x":7,"y":7,"z":7,"time":"${T}","v":7}`,
  ];
  const text = `${lines.join('\n')}\n`;

  for (const route of ['file', 'stream'] as const) {
    it(`a key the first line lacks, or one given twice, rejects its line with row and line (${route})`, async () => {
      const input = route === 'file' ? { path: file('in.ndjson', text) } : stream(text);
      const summary = await run([input]);
      expect(summary.rows_committed).toBe(4);
      expect(rejects(summary)).toEqual([
        {
          source: route === 'file' ? join(dir, 'in.ndjson') : 'stdin',
          row: 3,
          line: 3,
          reason:
            'key "w" is not a column (the columns are the keys of line 1); put it on that line to keep it, or leave it out with --exclude "w"',
          text: lines[2],
        },
        {
          source: route === 'file' ? join(dir, 'in.ndjson') : 'stdin',
          row: 4,
          line: 5,
          reason: 'key "v" is given twice in one object; which value to keep is not clear',
          text: lines[4],
        },
        {
          source: route === 'file' ? join(dir, 'in.ndjson') : 'stdin',
          row: 5,
          line: 6,
          reason: 'key "a" is given twice in one object; which value to keep is not clear',
          text: lines[5],
        },
      ]);
      expect(await query('SELECT v FROM pts ORDER BY v')).toEqual([{ v: 1 }, { v: 2 }, { v: 6 }, { v: 7 }]);
    });
  }

  it('--exclude drops a key that first appears later, on purpose', async () => {
    const path = file('late.ndjson', `${lines.slice(0, 3).join('\n')}\n`);
    const summary = await run([{ path }], { exclude: ['w'] });
    expect(summary.rows_committed).toBe(3);
    expect(summary.rows_rejected).toBe(0);
    expect(Object.keys(await types())).not.toContain('w');
    expect(await query('SELECT v FROM pts ORDER BY v')).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }]);
  });

  it('keys inside strings, escaped quotes and equal keys in different objects are not repeats', async () => {
    const text = [
      `{"x":1,"y":1,"z":1,"time":"${T}","s":"a:\\"b\\":{\\"v\\":1}","m":{"v":1,"w":[{"v":2},{"v":3}]}}`,
      `{"x":2,"y":2,"z":2,"time":"${T}","s":"\\\\","m":{"s":"\\\\\\":"}}`,
    ].join('\n');
    const summary = await run([{ path: file('strings.ndjson', text) }]);
    expect(summary.rows_rejected).toBe(0);
    expect(await query('SELECT s, m FROM pts ORDER BY x')).toEqual([
      { s: 'a:"b":{"v":1}', m: '{"v":1,"w":[{"v":2},{"v":3}]}' },
      { s: '\\', m: '{"s":"\\\\\\":"}' },
    ]);
  });
});

describe('one number grammar for inference and parsing, from a file and a stream (issue 13 item 8)', () => {
  const csv = `x,y,z,time,v\n1,1,1,${T},0x10\n2,2,2,${T},0x20\n`;
  const ndjson = `{"x":1,"y":1,"z":1,"time":"${T}","v":"0x10"}\n{"x":2,"y":2,"z":2,"time":"${T}","v":"0x20"}\n`;

  for (const [format, text] of [
    ['csv', csv],
    ['ndjson', ndjson],
  ] as const) {
    for (const route of ['file', 'stream'] as const) {
      it(`hex-looking text stays text (${format}, ${route})`, async () => {
        const input = route === 'file' ? { path: file(`hex.${format}`, text) } : stream(text);
        const summary = await run([input]);
        expect(summary.rows_committed).toBe(2);
        expect(summary.rows_rejected).toBe(0);
        expect((await types()).v).toBe('VARCHAR');
        expect(await query('SELECT v FROM pts ORDER BY x')).toEqual([{ v: '0x10' }, { v: '0x20' }]);
      });
    }
  }

  it('a stream into a number column rejects 0x10, 1_000 and 0b1 as a file does', async () => {
    await run([{ path: file('first.csv', `x,y,z,time,v\n1,1,1,${T},1.5\n`) }]);
    const more = `x,y,z,time,v\n2,2,2,${T},0x10\n3,3,3,${T},1_000\n4,4,4,${T},0b1\n5,5,5,${T}, 2e1 \n`;
    for (const input of [stream(more), { path: file('more.csv', more) }]) {
      const summary = await run([input], { force: true });
      expect(summary.rows_committed).toBe(1);
      expect(rejects(summary).map((r) => [r.row, r.line, r.reason])).toEqual([
        [1, 2, 'column "v": expected a number (float64), got "0x10"'],
        [2, 3, 'column "v": expected a number (float64), got "1_000"'],
        [3, 4, 'column "v": expected a number (float64), got "0b1"'],
      ]);
    }
    expect(await query('SELECT v FROM pts ORDER BY x')).toEqual([{ v: 1.5 }, { v: 20 }, { v: 20 }]);
  });

  it('a stream whose later chunk holds 0x10 in a column inferred as a number rejects that row', async () => {
    for (const [format, text] of [
      ['csv', `x,y,z,time,v\n1,1,1,${T},1\n2,2,2,${T},2\n3,3,3,${T},0x10\n4,4,4,${T},4\n`],
      [
        'ndjson',
        [1, 2, '"0x10"', 4].map((v, i) => `{"x":${i + 1},"y":1,"z":1,"time":"${T}","v":${v}}`).join('\n'),
      ],
    ] as const) {
      const summary = await run([stream(text)], { table: format, chunkRows: 2 });
      expect(summary.rows_committed).toBe(3);
      expect(rejects(summary).map((r) => [r.row, r.line, r.reason])).toEqual([
        [3, format === 'csv' ? 4 : 3, 'column "v": expected a number (float64), got "0x10"'],
      ]);
    }
    expect(await query('SELECT v FROM csv UNION ALL SELECT v FROM ndjson ORDER BY v')).toEqual(
      [1, 1, 2, 2, 4, 4].map((v) => ({ v })),
    );
  });

  it('hex coordinates are rejected on both routes', async () => {
    const text = `x,y,z,time\n0x10,1,1,${T}\n2,2,2,${T}\n`;
    for (const input of [stream(text), { path: file('hexcoord.csv', text) }]) {
      const summary = await run([input], { force: true });
      expect(summary.rows_committed).toBe(1);
      expect(rejects(summary).map((r) => [r.row, r.reason])).toEqual([
        [1, 'column "x": not a number: "0x10"'],
      ]);
    }
  });
});

describe('wide inputs read in chunks sized by the memory budget (issue 13 item 15)', () => {
  it('chunk rows shrink with the column count and the budget, never below one', () => {
    expect(boundedChunkRows(65_536, 22, 256 * 2 ** 20)).toBe(65_536);
    expect(boundedChunkRows(65_536, 64, 256 * 2 ** 20)).toBe(65_536);
    // 8,000 columns: 524 rows × 8,000 columns × 16 bytes = 64 MiB (it was 65,536 rows, 7.8 GiB).
    expect(boundedChunkRows(65_536, 8_000, 256 * 2 ** 20)).toBe(524);
    expect(boundedChunkRows(65_536, 8_000, 32 * 2 ** 20)).toBe(65);
    expect(boundedChunkRows(100, 10, 256 * 2 ** 20)).toBe(100);
    expect(boundedChunkRows(65_536, 10_000_000, 2 ** 20)).toBe(1);
  });

  it('a wide CSV is read a budget-sized chunk at a time and every row lands exactly', async () => {
    const columns = 200;
    const rows = 120;
    const header = ['x', 'y', 'z', 'time', ...Array.from({ length: columns }, (_, c) => `c${c}`)];
    const body = Array.from({ length: rows }, (_, r) =>
      [r % 100, r % 7, r % 5, T, ...Array.from({ length: columns }, (_, c) => r * columns + c)].join(','),
    );
    const path = file('wide.csv', `${header.join(',')}\n${body.join('\n')}\n`);
    const memoryBytes = 2 ** 20;
    const perChunk = boundedChunkRows(65_536, header.length, memoryBytes);
    expect(perChunk).toBe(80);
    const seen: number[] = [];
    const summary = await run([{ path }], {
      memoryBytes,
      onProgress: (p) => seen.push(p.rowsRead),
    });
    expect(seen).toEqual([80, 120]);
    expect(summary.rows_committed).toBe(rows);
    const total = (rows * columns * (rows * columns - 1)) / 2;
    const sums = Array.from({ length: columns }, (_, c) => `sum(c${c})`).join(' + ');
    expect(await query(`SELECT count(*)::INT AS n, (${sums})::BIGINT AS s FROM pts`)).toEqual([
      { n: rows, s: String(total) },
    ]);
  });
});

describe('peak memory of a wide ingest (issue 13 item 15)', () => {
  it('10 rows × 8,000 numeric columns are read within 640 MB of RSS, not 4.5 GB (child process)', async () => {
    // Every row lies outside the frame, so nothing is encoded: the Parquet writer's cost per column
    // (~5 ms, ~40 KB) would make this test take a minute; node dist/bench/wide-ingest.js measures
    // the same input with every row stored. The bound: the runtime (~170 MB with its worker
    // threads), plus at most four chunks in flight (sample, two read ahead, one converted) of at
    // most 64 MiB each (ingest/plan.ts boundedChunkRows), plus slack.
    const columns = 8_000;
    const header = ['x', 'y', 'z', 'time', ...Array.from({ length: columns }, (_, c) => `c${c}`)];
    const body = Array.from({ length: 10 }, (_, r) =>
      [-1 - r, 1, 1, T, ...Array.from({ length: columns }, (_, c) => (r * columns + c) / 4)].join(','),
    );
    const path = file('wide.csv', `${header.join(',')}\n${body.join('\n')}\n`);
    const dist = (name: string) => {
      const url = new URL(`../../dist/src/lake/${name}`, import.meta.url);
      if (!existsSync(url)) throw new Error(`${url.pathname} is missing: run npm run build (npm test does)`);
      return JSON.stringify(url.href);
    };
    const script = `
      import { ingest } from ${dist('ingest/ingest.js')};
      import { LocalStorage } from ${dist('storage/local-storage.js')};
      const summary = await ingest({
        storage: await LocalStorage.create({ root: ${JSON.stringify(lake)} }),
        table: 'wide', inputs: [{ path: ${JSON.stringify(path)} }],
        frame: 'cartesian:0,0,0,1024', lod: 8, time: 'time', rejectFile: null,
      });
      console.log(JSON.stringify({ summary, peakMb: process.resourceUsage().maxRSS / 1024 }));`;
    const { stdout } = await promisify(execFile)(process.execPath, [file('measure.mjs', script)]);
    const { summary, peakMb } = JSON.parse(stdout) as { summary: IngestSummary; peakMb: number };
    expect([summary.rows_read, summary.rows_rejected, summary.rows_committed]).toEqual([10, 10, 0]);
    expect(peakMb).toBeLessThan(640);
  });
});

describe('mapped columns kept as payload keep their types (issue 14 item 1)', () => {
  it("the README's earthquake example stores latitude, longitude and depth as DOUBLE", async () => {
    const summary = await ingest({
      storage,
      table: 'quakes',
      inputs: [{ path: sharedData('usgs_all_month_2025-04-15.csv') }],
      coords: { lat: 'latitude', lon: 'longitude', depthKm: 'depth' },
      time: 'time',
      frame: 'ecef',
      rejectFile,
    });
    expect(summary.rows_rejected).toBe(0);
    expect(summary.rows_committed).toBe(9462);
    const t = await types('quakes');
    expect([t.latitude, t.longitude, t.depth, t.mag, t.time]).toEqual([
      'DOUBLE',
      'DOUBLE',
      'DOUBLE',
      'DOUBLE',
      'TIMESTAMP WITH TIME ZONE',
    ]);
    const p = await payloadTypes('quakes');
    expect([p.latitude, p.longitude, p.depth]).toEqual(['float64', 'float64', 'float64']);
    expect(p.time).toBeUndefined();
    // What `octa catalog ddl` publishes.
    const snapshot = await (await EmbeddedCatalog.open({ storage })).snapshot();
    const ddl = hiveDdl({ snapshot, table: 'quakes', lake: pathToFileURL(lake).href, engine: 'athena' });
    for (const column of ['latitude', 'longitude', 'depth']) expect(ddl).toContain(`\`${column}\` DOUBLE`);
    expect(
      await query(
        "SELECT max(depth) AS depth, min(latitude) AS lat, max(time) = TIMESTAMPTZ '2025-05-15 00:50:51.943+00' AS latest FROM quakes",
      ),
    ).toEqual([{ depth: 629.5, lat: -60.624, latest: true }]);
  });

  const lat = [10.5, -20.25, 45];
  const lon = [100, -100.5, 0];
  const depth = [5.5, 629.5, 99.9];
  const csv = `latitude,longitude,depth,time\n${lat.map((_, i) => `${lat[i]},${lon[i]},${depth[i]},${T}`).join('\n')}\n`;
  const ndjson = lat
    .map((_, i) => JSON.stringify({ latitude: lat[i], longitude: lon[i], depth: depth[i], time: T }))
    .join('\n');
  const arrow = () =>
    tableToIPC(
      tableFromArrays({
        latitude: Float64Array.from(lat),
        longitude: Float64Array.from(lon),
        depth: Float64Array.from(depth),
        time: [T, T, T],
      }),
      'file',
    );

  const cases: [string, () => Promise<IngestOptions['inputs'][number]>][] = [
    ['csv file', async () => ({ path: file('q.csv', csv) })],
    ['csv stream', async () => stream(csv)],
    ['ndjson file', async () => ({ path: file('q.ndjson', ndjson) })],
    ['ndjson stream', async () => stream(ndjson)],
    ['arrow file', async () => ({ path: file('q.arrow', arrow()) })],
    [
      'parquet file',
      async () => {
        const path = join(dir, 'q.parquet');
        await duck(`COPY (SELECT * FROM read_csv('${file('src.csv', csv)}')) TO '${path}' (FORMAT parquet)`);
        return { path };
      },
    ],
  ];
  for (const [name, input] of cases) {
    it(`latitude, longitude and depth are DOUBLE and max(depth) is numeric (${name})`, async () => {
      const summary = await ingest({
        storage,
        table: 'quakes',
        inputs: [await input()],
        coords: { lat: 'latitude', lon: 'longitude', depthKm: 'depth' },
        time: 'time',
        frame: 'ecef',
        rejectFile,
      });
      expect(summary.rows_committed).toBe(3);
      const t = await types('quakes');
      expect([t.latitude, t.longitude, t.depth]).toEqual(['DOUBLE', 'DOUBLE', 'DOUBLE']);
      expect(
        await query('SELECT max(depth) AS d, sum(latitude) AS lat, min(longitude) AS lon FROM quakes'),
      ).toEqual([{ d: 629.5, lat: 35.25, lon: -100.5 }]);
    });
  }
});
