/**
 * Event times the lake can and cannot store (issue 13, items 4 and 22), through `ingest()` from CSV
 * and NDJSON: each time is stored as its exact INT64 microseconds in the `t=` bucket DuckDB's DATE
 * agrees with, or rejected with its row, line and reason; years below 1000 get four-digit labels in
 * every bucket size; and `verify` reports a file whose times lie outside its `t=` bucket.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/demo/demo-scene.js';
import {
  LAKE_FIRST_MICROS,
  LAKE_LAST_MICROS,
  microsToTime,
  parseIsoTime,
  readTimeSeconds,
  timeToIso,
  writeTimeWords,
} from '../../src/export/event-time.js';
import { EmbeddedCatalog, liveFiles } from '../../src/lake/catalog/catalog.js';
import { bucketLabel, parseBucketLabel, type TimeBucket } from '../../src/lake/catalog/layout.js';
import { describeHiveTable, projectionProperties } from '../../src/lake/catalog/publish/hive.js';
import { type IngestOptions, ingest } from '../../src/lake/ingest/ingest.js';
import { verify } from '../../src/lake/maintenance/verify.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError } from '../../src/lattice/index.js';
import { openLake } from '../../src/sql/open.js';
import { duck, removeDir, tempDir } from './fixtures/ingest/lake.js';

let dir: string;
let lake: string;
let storage: LocalStorage;
let rejectFile: string;

beforeEach(async () => {
  dir = tempDir('safety-times');
  lake = join(dir, 'lake');
  storage = await LocalStorage.create({ root: lake });
  rejectFile = join(dir, 'rejects.ndjson');
});

afterEach(() => {
  removeDir(dir);
});

type Format = 'csv' | 'ndjson';

/**
 * One input row per time: `v` names the row. A time is JSON text for NDJSON (`"…"` a string,
 * digits a number); CSV takes the text inside a string.
 */
function input(format: Format, times: string[]): string {
  const rows = times.map((time, i) => {
    if (format === 'ndjson') return `{"x":1,"y":2,"z":3,"time":${time},"v":"r${i + 1}"}`;
    return `1,2,3,${time.startsWith('"') ? (JSON.parse(time) as string) : time},r${i + 1}`;
  });
  return `${format === 'csv' ? 'x,y,z,time,v\n' : ''}${rows.join('\n')}\n`;
}

interface Outcome {
  committed: number;
  /** Rows as stored: exact µs and the `t=` directory of the file holding them. */
  stored: { v: string; us: string; t: string }[];
  rejects: { row: number; line: number; reason: string }[];
}

/** Ingests the times, then reads every row back and verifies the lake. */
async function ingestTimes(
  format: Format,
  times: string[],
  options: Partial<IngestOptions> = {},
): Promise<Outcome> {
  const path = join(dir, `in.${format}`);
  writeFileSync(path, input(format, times));
  const summary = await ingest({
    storage,
    table: 'pts',
    inputs: [{ path }],
    frame: 'cartesian:0,0,0,1024',
    lod: 6,
    time: 'time',
    rejectFile,
    ...options,
  });
  let rejects: Outcome['rejects'] = [];
  if (summary.rows_rejected > 0) {
    rejects = readFileSync(rejectFile, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Outcome['rejects'][number])
      .map(({ row, line, reason }) => ({ row, line, reason }));
  }
  const stored: Outcome['stored'] = [];
  if (summary.rows_committed > 0) {
    const session = await openLake({ lake });
    try {
      // The file's own t= directory (the catalog's record), and every column of the view readable.
      const reader = await session.connection.runAndReadAll(
        `SELECT v, epoch_us(time)::VARCHAR AS us, regexp_extract(filename, '/t=([^/]+)/', 1) AS t
           FROM read_parquet([${liveFiles(session.snapshot, 'pts')
             .map((f) => `'${storage.localPath(f.key)}'`)
             .join(', ')}], filename = true) ORDER BY v`,
      );
      stored.push(...(reader.getRowObjects() as Outcome['stored']));
      const all = await session.connection.runAndReadAll('SELECT * FROM pts');
      expect(all.getRows()).toHaveLength(summary.rows_committed);
    } finally {
      session.close();
    }
  }
  const report = await verify({ storage });
  expect(report.problems).toEqual([]);
  return { committed: summary.rows_committed, stored, rejects };
}

const LAKE_RANGE = '(the lake stores 0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z)';

describe.each<Format>(['csv', 'ndjson'])('event times from %s', (format) => {
  // Data rows start on line 2 of a CSV file (after the header), on line 1 of an NDJSON file.
  const line = (row: number) => (format === 'csv' ? row + 1 : row);

  it('stores ISO times at the edges of the years 0000–9999 exactly, in the t= bucket of their day', async () => {
    const got = await ingestTimes(format, [
      '"0050-01-01"',
      '"0000-01-01T00:00:00Z"',
      '"0099-12-31T23:59:59.999999Z"',
      '"9999-12-31T23:59:59.999999Z"',
      '"2300-01-01T00:00:00.000001Z"',
      '"0500-06-15T13:00:00Z"',
      '"2023-11-14T22:13:20.9999999Z"',
      '"2025-04-15T10:00:00+02:00"',
    ]);
    expect(got.rejects).toEqual([]);
    expect(got.stored).toEqual([
      { v: 'r1', us: '-60589296000000000', t: '0050-01-01' },
      { v: 'r2', us: '-62167219200000000', t: '0000-01-01' },
      { v: 'r3', us: '-59011459200000001', t: '0099-12-31' },
      { v: 'r4', us: '253402300799999999', t: '9999-12-31' },
      { v: 'r5', us: '10413792000000001', t: '2300-01-01' },
      { v: 'r6', us: '-46374375600000000', t: '0500-06-15' },
      // Digits past the microsecond are dropped, as DuckDB does.
      { v: 'r7', us: '1700000000999999', t: '2023-11-14' },
      { v: 'r8', us: '1744704000000000', t: '2025-04-15' },
    ]);
    // DuckDB's DATE of every stored time is its t= partition value.
    const session = await openLake({ lake });
    try {
      const r = await session.connection.runAndReadAll(
        'SELECT count(*) FILTER (WHERE t <> CAST(time AS DATE))::INTEGER AS bad FROM pts',
      );
      expect(r.getRowObjects()).toEqual([{ bad: 0 }]);
    } finally {
      session.close();
    }
  });

  it('rejects times outside 0000–9999, offsets past ±23:59 and leap seconds at any time of day', async () => {
    const got = await ingestTimes(format, [
      '"2025-04-15T12:00:00Z"',
      '"0000-01-01T00:00:00+00:01"',
      '"+10000-01-01T00:00:00Z"',
      '"9999-12-31T23:59:59.999999-00:01"',
      '"2025-04-15T12:00:00+25:00"',
      '"2025-04-15T12:00:00+14:99"',
      '"2016-12-31T23:59:60Z"',
      '"2025-04-15T12:30:60Z"',
    ]);
    const leap = 'second 60 (a leap second) cannot be stored: the lake keeps POSIX times';
    expect(got.rejects).toEqual([
      {
        row: 2,
        line: line(2),
        reason: `column "time": time "0000-01-01T00:00:00+00:01" is before 0000-01-01T00:00:00Z ${LAKE_RANGE}`,
      },
      {
        row: 3,
        line: line(3),
        reason: `column "time": time "+10000-01-01T00:00:00Z" is after 9999-12-31T23:59:59.999999Z ${LAKE_RANGE}`,
      },
      {
        row: 4,
        line: line(4),
        reason: `column "time": time "9999-12-31T23:59:59.999999-00:01" is after 9999-12-31T23:59:59.999999Z ${LAKE_RANGE}`,
      },
      {
        row: 5,
        line: line(5),
        reason:
          'column "time": unparsable time "2025-04-15T12:00:00+25:00": offset +25:00 is not within -23:59..+23:59',
      },
      {
        row: 6,
        line: line(6),
        reason:
          'column "time": unparsable time "2025-04-15T12:00:00+14:99": offset +14:99 is not within -23:59..+23:59',
      },
      { row: 7, line: line(7), reason: `column "time": unparsable time "2016-12-31T23:59:60Z": ${leap}` },
      { row: 8, line: line(8), reason: `column "time": unparsable time "2025-04-15T12:30:60Z": ${leap}` },
    ]);
    expect(got.stored).toEqual([{ v: 'r1', us: '1744718400000000', t: '2025-04-15' }]);
  });

  it('reads epoch seconds exactly and rejects a number whose size says another unit, naming it', async () => {
    const got = await ingestTimes(format, [
      '9007199254740993',
      '1700000000000',
      '"1700000000.1234567"',
      '"-0.0000005"',
      '"253402300799.999999"',
      '-62167219200',
      '1.7e9',
      '1e30',
    ]);
    expect(got.rejects).toEqual([
      {
        row: 1,
        line: line(1),
        // NDJSON integers past 2^53 are read exactly (json-exact.ts), as CSV text is.
        reason: `column "time": time 9007199254740993 seconds is after 9999-12-31T23:59:59.999999Z ${LAKE_RANGE}; as microseconds it would be 2255-06-05T23:47:34.740993Z: give --time-unit us`,
      },
      {
        row: 2,
        line: line(2),
        reason: `column "time": time 1700000000000 seconds is after 9999-12-31T23:59:59.999999Z ${LAKE_RANGE}; as milliseconds it would be 2023-11-14T22:13:20.000000Z: give --time-unit ms`,
      },
      {
        row: 8,
        line: line(8),
        reason: `column "time": time ${format === 'csv' ? '1e30' : '1e+30'} seconds is outside the times the lake stores (0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z)`,
      },
    ]);
    expect(got.stored).toEqual([
      { v: 'r3', us: '1700000000123456', t: '2023-11-14' },
      { v: 'r4', us: '-1', t: '1969-12-31' },
      { v: 'r5', us: '253402300799999999', t: '9999-12-31' },
      { v: 'r6', us: '-62167219200000000', t: '0000-01-01' },
      { v: 'r7', us: '1700000000000000', t: '2023-11-14' },
    ]);
  });

  it('reads epoch microseconds past 2^53 exactly, from text and from a JSON integer', async () => {
    const got = await ingestTimes(
      format,
      ['"9007199254740993"', '9007199254740993', '"253402300800000000"', '"1700000000123456"'],
      { timeUnit: 'us' },
    );
    expect(got.rejects).toEqual([
      {
        row: 3,
        line: line(3),
        reason: `column "time": time 253402300800000000 microseconds is after 9999-12-31T23:59:59.999999Z ${LAKE_RANGE}`,
      },
    ]);
    expect(got.stored).toEqual([
      { v: 'r1', us: '9007199254740993', t: '2255-06-05' },
      { v: 'r2', us: '9007199254740993', t: '2255-06-05' },
      { v: 'r4', us: '1700000000123456', t: '2023-11-14' },
    ]);
  });
});

describe('the shared time arithmetic, against BigInt and DuckDB', () => {
  it('writes exact INT64 words, floors seconds and prints ISO as DuckDB does, across 0000–9999', async () => {
    const random = mulberry32(13);
    const span = Number(LAKE_LAST_MICROS - LAKE_FIRST_MICROS);
    const samples = [LAKE_FIRST_MICROS, LAKE_LAST_MICROS, -1n, 0n, 1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n];
    while (samples.length < 400) {
      // A random µs across the whole range, odd microseconds included.
      const us = LAKE_FIRST_MICROS + BigInt(Math.floor(random() * span)) + BigInt(Math.floor(random() * 1e6));
      samples.push(us > LAKE_LAST_MICROS ? LAKE_LAST_MICROS : us);
    }
    const out = new BigInt64Array(samples.length);
    const words = new Int32Array(out.buffer);
    samples.forEach((us, i) => {
      const t = microsToTime(us);
      writeTimeWords(words, i, t);
      expect(readTimeSeconds(words, i)).toBe(t.seconds);
      expect(parseIsoTime(timeToIso(t))).toEqual(t);
    });
    expect([...out]).toEqual(samples);
    const rows = await duck(
      `SELECT strftime(make_timestamp(us), '%Y-%m-%dT%H:%M:%S.%fZ') AS iso FROM (VALUES ${samples.map((us) => `(${us}::BIGINT)`).join(', ')}) AS v(us)`,
    );
    expect(rows.map((r) => r.iso)).toEqual(samples.map((us) => timeToIso(microsToTime(us))));
  });
});

describe('event times from a Parquet TIMESTAMP column', () => {
  it('go through the same range check: year 12000 and infinity are rejected by row', async () => {
    const path = join(dir, 'in.parquet');
    await duck(
      `COPY (SELECT 1.0 AS x, 2.0 AS y, 3.0 AS z, time, v FROM (VALUES
         (TIMESTAMP '0050-01-01 00:00:00', 'r1'), (TIMESTAMP '12000-01-01 00:00:00', 'r2'),
         ('infinity'::TIMESTAMP, 'r3'), (TIMESTAMP '2300-01-01 00:00:00.000001', 'r4')) AS t(time, v))
       TO '${path}' (FORMAT parquet)`,
    );
    const summary = await ingest({
      storage,
      table: 'pts',
      inputs: [{ path }],
      frame: 'cartesian:0,0,0,1024',
      time: 'time',
      rejectFile,
    });
    expect(summary).toMatchObject({ rows_read: 4, rows_committed: 2, rows_rejected: 2 });
    const rejects = readFileSync(rejectFile, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { row: number; line?: number; reason: string });
    expect(rejects.map(({ row, line, reason }) => ({ row, line, reason }))).toEqual([
      {
        row: 2,
        line: undefined,
        reason: `column "time": time 316516204800000000 µs is after 9999-12-31T23:59:59.999999Z ${LAKE_RANGE}`,
      },
      {
        row: 3,
        line: undefined,
        reason: `column "time": time 9223372036854775807 µs is after 9999-12-31T23:59:59.999999Z ${LAKE_RANGE}`,
      },
    ]);
    const session = await openLake({ lake });
    try {
      const r = await session.connection.runAndReadAll(
        "SELECT v, epoch_us(time)::VARCHAR AS us, strftime(t, '%Y-%m-%d') AS t FROM pts ORDER BY v",
      );
      expect(r.getRowObjects()).toEqual([
        { v: 'r1', us: '-60589296000000000', t: '0050-01-01' },
        { v: 'r4', us: '10413792000000001', t: '2300-01-01' },
      ]);
    } finally {
      session.close();
    }
    expect((await verify({ storage })).problems).toEqual([]);
  });
});

describe('time-bucket labels of years below 1000', () => {
  it.each<[TimeBucket, string[]]>([
    ['day', ['0050-01-01', '0500-06-15']],
    ['hour', ['0050-01-01T05', '0500-06-15T13']],
    ['month', ['0050-01', '0500-06']],
  ])('are zero-padded in %s buckets, and read back through openLake', async (timeBucket, labels) => {
    const got = await ingestTimes('csv', ['"0050-01-01T05:59:59Z"', '"0500-06-15T13:00:00Z"'], {
      timeBucket,
    });
    expect(got.stored.map((r) => r.t)).toEqual(labels);
    const session = await openLake({ lake });
    try {
      const r = await session.connection.runAndReadAll(
        `SELECT ${timeBucket === 'day' ? "strftime(t, '%Y-%m-%d')" : 't'} AS t FROM pts ORDER BY time`,
      );
      expect(r.getRowObjects()).toEqual(labels.map((t) => ({ t })));
    } finally {
      session.close();
    }
  });

  it('parses padded labels and the unpadded ones older lakes wrote as the same bucket', () => {
    for (const bucket of ['day', 'hour', 'month'] as const) {
      const padded = { day: '0500-06-15', hour: '0500-06-15T13', month: '0500-06' }[bucket];
      const index = parseBucketLabel(padded, bucket);
      expect(index).not.toBeNull();
      expect(bucketLabel(index!, bucket)).toBe(padded);
      expect(parseBucketLabel(padded.slice(1), bucket)).toBe(index);
    }
    expect(parseBucketLabel('2025-02-30', 'day')).toBeNull();
    expect(parseBucketLabel('2025-04-15T24', 'hour')).toBeNull();
    expect(parseBucketLabel('285428751-11-12', 'day')).toBeNull();
  });
});

describe('--time-value', () => {
  it('refuses a time the lake cannot store before anything is written', async () => {
    writeFileSync(join(dir, 'in.csv'), 'x,y,z\n1,2,3\n');
    for (const [value, message] of [
      ['0000-01-01T00:00:00+00:01', /before 0000-01-01T00:00:00Z/],
      ['2025-04-15T12:00:00+25:00', /offset \+25:00/],
      ['2016-12-31T23:59:60Z', /leap second/],
      ['soon', /not an ISO 8601 time/],
    ] as const) {
      const error = await ingest({
        storage,
        table: 'pts',
        inputs: [{ path: join(dir, 'in.csv') }],
        frame: 'cartesian:0,0,0,1024',
        timeValue: value,
      }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(OctaError);
      expect((error as OctaError).code).toBe('INVALID_ARGUMENT');
      expect((error as OctaError).message).toMatch(message);
    }
    const snapshot = await (await EmbeddedCatalog.open({ storage })).snapshot();
    expect(snapshot.version).toBe(0);
  });

  it('stores a year below 100 as itself', async () => {
    writeFileSync(join(dir, 'in.csv'), 'x,y,z\n1,2,3\n');
    await ingest({
      storage,
      table: 'pts',
      inputs: [{ path: join(dir, 'in.csv') }],
      frame: 'cartesian:0,0,0,1024',
      timeValue: '0050-01-01',
    });
    const snapshot = await (await EmbeddedCatalog.open({ storage })).snapshot();
    const [file] = liveFiles(snapshot, 'pts');
    expect([file!.t, file!.timeMin, file!.timeMax]).toEqual([
      '0050-01-01',
      '0050-01-01T00:00:00.000000Z',
      '0050-01-01T00:00:00.000000Z',
    ]);
  });
});

describe('verify and the t= partition', () => {
  /** Moves the table's one file to partition `t` (a copy of its bytes, the record re-committed). */
  async function relabel(t: string, edit: { timeMin?: string; timeMax?: string } = {}): Promise<string> {
    const catalog = await EmbeddedCatalog.open({ storage });
    const [file] = liveFiles(await catalog.snapshot(), 'pts');
    const key = file!.key.replace(/\/t=[^/]+\//, `/t=${t}/`);
    await storage.write(key, await storage.read(file!.key));
    await catalog.commit({
      operation: 'compact',
      writer: 'test',
      actions: [
        { op: 'remove', key: file!.key, table: 'pts' },
        { op: 'add', file: { ...file!, ...edit, key, t, batch: 'moved' } },
      ],
    });
    return key;
  }

  it('reports a file whose times lie outside its t= bucket, naming the file', async () => {
    await ingestTimes('csv', ['"2025-04-15T12:00:00Z"', '"2025-04-15T23:00:00Z"']);
    const key = await relabel('2025-04-16');
    const report = await verify({ storage });
    expect(report.ok).toBe(false);
    expect(report.problems.filter((p) => p.severity === 'error')).toEqual([
      {
        severity: 'error',
        code: 'TIME_OUTSIDE_BUCKET',
        file: key,
        detail:
          'catalog time range 2025-04-15T12:00:00.000000Z..2025-04-15T23:00:00.000000Z falls in bucket 2025-04-15, not in its partition t=2025-04-16',
      },
    ]);
  });

  it('reports a time past the years the lake stores (the wrapped year 166375 of an old ingest)', async () => {
    await ingestTimes('csv', ['"2025-04-15T12:00:00Z"']);
    const key = await relabel('2025-04-15', { timeMax: '+166375-01-01T00:00:00.000000Z' });
    const report = await verify({ storage });
    expect(report.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.file])).toEqual([
      ['TIME_OUTSIDE_BUCKET', key],
      ['STATS_MISMATCH', key],
    ]);
    expect(report.problems.find((p) => p.code === 'TIME_OUTSIDE_BUCKET')!.detail).toMatch(
      /is outside the times the lake stores/,
    );
  });

  it('accepts the unpadded label an older lake wrote (t=500-06-15)', async () => {
    await ingestTimes('csv', ['"0500-06-15T13:00:00Z"']);
    const key = await relabel('500-06-15');
    const report = await verify({ storage });
    expect(report.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const session = await openLake({ lake });
    try {
      const r = await session.connection.runAndReadAll(
        "SELECT strftime(t, '%Y-%m-%d') AS t, epoch_us(time)::VARCHAR AS us FROM pts",
      );
      expect(r.getRowObjects()).toEqual([{ t: '0500-06-15', us: '-46374375600000000' }]);
    } finally {
      session.close();
    }
    expect(key).toContain('/t=500-06-15/');
    // Athena's projection range starts at that bucket, in the padded form its yyyy-MM-dd format reads.
    writeFileSync(join(dir, 'later.csv'), 'x,y,z,time,v\n1,2,3,2025-04-15T12:00:00Z,r2\n');
    await ingest({ storage, table: 'pts', inputs: [{ path: join(dir, 'later.csv') }], time: 'time' });
    const snapshot = await (await EmbeddedCatalog.open({ storage })).snapshot();
    const table = describeHiveTable({ snapshot, table: 'pts', lake: storage.url });
    expect(table.partitions.map((p) => p.values[1]).sort()).toEqual(['2025-04-15', '500-06-15']);
    expect(projectionProperties({ table, now: new Date('2026-01-01T00:00:00Z') })['projection.t.range']).toBe(
      '0500-06-15,NOW',
    );
  });
});
