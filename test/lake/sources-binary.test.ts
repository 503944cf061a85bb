/**
 * LAS, LAZ, Parquet and Arrow sources held against independent decoders: the raw LAS records read
 * here by hand, loaders.gl's own laz-perf loader, files written by DuckDB and apache-arrow.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from '@loaders.gl/core';
import { LASLoader } from '@loaders.gl/las';
import {
  Bool,
  Field,
  Float64,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Timestamp,
  TimeUnit,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferFormat, type OpenSourceOptions, openSource } from '../../src/lake/sources/index.js';
import { OctaError } from '../../src/lattice/index.js';
import { type LasTestPoint, lasBytes, readAll, sharedData, streamOf } from './fixtures/sources/helpers.js';

let dir: string;
let files = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'octa-sources-bin-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(content: Uint8Array | string, ext: string): string {
  const path = join(dir, `f${files++}.${ext}`);
  writeFileSync(path, content);
  return path;
}

async function openError(options: OpenSourceOptions, read = false): Promise<OctaError> {
  const error = await (async () => {
    const source = await openSource(options);
    try {
      if (read) for await (const _ of source.chunks()) void _;
    } finally {
      await source.close();
    }
  })().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OctaError);
  return error as OctaError;
}

/** The LAS records decoded here, straight from the bytes, independently of the reader. */
function decodeLasByHand(bytes: Buffer) {
  const offset = bytes.readUInt32LE(96);
  const length = bytes.readUInt16LE(105);
  const count = bytes.readUInt32LE(107);
  const scale = [131, 139, 147].map((at) => bytes.readDoubleLE(at));
  const shift = [155, 163, 171].map((at) => bytes.readDoubleLE(at));
  const x: number[] = [];
  const y: number[] = [];
  const z: number[] = [];
  const gps: number[] = [];
  const red: number[] = [];
  const intensity: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + i * length;
    x.push(bytes.readInt32LE(at) * scale[0]! + shift[0]!);
    y.push(bytes.readInt32LE(at + 4) * scale[1]! + shift[1]!);
    z.push(bytes.readInt32LE(at + 8) * scale[2]! + shift[2]!);
    intensity.push(bytes.readUInt16LE(at + 12));
    gps.push(bytes.readDoubleLE(at + 20));
    red.push(bytes.readUInt16LE(at + 28));
  }
  return { count, scale, shift, x, y, z, gps, red, intensity };
}

describe('LAS and LAZ', () => {
  const lasPath = sharedData('simple.las');
  const lazPath = sharedData('simple.laz');
  const hand = decodeLasByHand(readFileSync(lasPath));

  it('reads 1,065 LAS points equal to a decode of the raw records', async () => {
    const source = await openSource({ path: lasPath });
    expect(source.format).toBe('las');
    expect(source.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'x:float64',
      'y:float64',
      'z:float64',
      'intensity:int32',
      'classification:int32',
      'return_number:int32',
      'number_of_returns:int32',
      'gps_time:float64',
      'red:int32',
      'green:int32',
      'blue:int32',
    ]);
    expect(source.lasHeader).toEqual({
      pointFormat: 3,
      count: 1065,
      scale: hand.scale,
      offset: hand.shift,
      min: [635619.85, 848899.7000000001, 406.59000000000003],
      max: [638982.55, 853535.43, 586.38],
    });
    const all = await readAll(source, { chunkRows: 100 });
    expect(all.rows).toBe(1065);
    expect(all.chunks.map((c) => c.firstRow)).toEqual(Array.from({ length: 11 }, (_, i) => i * 100 + 1));
    expect(all.rowNumbers).toEqual(Array.from({ length: 1065 }, (_, i) => i + 1));
    expect(all.values.x).toEqual(hand.x);
    expect(all.values.y).toEqual(hand.y);
    expect(all.values.z).toEqual(hand.z);
    expect(all.values.gps_time).toEqual(hand.gps);
    expect(all.values.red).toEqual(hand.red);
    expect(all.values.intensity).toEqual(hand.intensity);
    expect(all.values.x![0]).toBe(637012.24);
    expect(all.chunks.at(-1)!.position).toEqual({ rows: 1065, bytes: readFileSync(lasPath).length });
  });

  it('reads the LAZ file to the same columns, bit for bit, and agrees with loaders.gl', async () => {
    const las = await readAll(await openSource({ path: lasPath }));
    const source = await openSource({ path: lazPath });
    expect(source.format).toBe('laz');
    expect(source.lasHeader).toMatchObject({ pointFormat: 3, count: 1065 });
    const laz = await readAll(source, { chunkRows: 500 });
    expect(laz.chunks.map((c) => c.rows)).toEqual([500, 500, 65]);
    expect(laz.values).toEqual(las.values);
    for (const axis of ['x', 'y', 'z'] as const) {
      const a = new Float64Array(laz.values[axis] as number[]);
      const b = new Float64Array(hand[axis]);
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), axis).toBe(true);
    }
    // loaders.gl's public loader decodes with laz-perf, a different decompressor.
    const bytes = readFileSync(lazPath);
    const mesh = (await parse(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      LASLoader,
      {
        las: { fp64: true },
        worker: false,
      },
    )) as { attributes: Record<string, { value: ArrayLike<number> }> };
    const position = mesh.attributes.POSITION!.value;
    expect(Array.from({ length: 1065 }, (_, i) => position[3 * i])).toEqual(laz.values.x);
    expect(Array.from({ length: 1065 }, (_, i) => position[3 * i + 2])).toEqual(laz.values.z);
    expect(Array.from(mesh.attributes.classification!.value)).toEqual(laz.values.classification);
  });

  it('streams LAS and LAZ from stdin-like streams', async () => {
    const las = await readAll(await openSource({ stream: streamOf(readFileSync(lasPath), 1000) }));
    const laz = await readAll(
      await openSource({ stream: streamOf(readFileSync(lazPath), 777), format: 'laz' }),
    );
    expect(las.rows).toBe(1065);
    expect(las.values.x).toEqual(hand.x);
    expect(laz.values.x).toEqual(hand.x);
  });

  it('delivers only the requested columns', async () => {
    const all = await readAll(await openSource({ path: lazPath }), { columns: ['z', 'x'] });
    expect(Object.keys(all.values).sort()).toEqual(['x', 'z']);
  });

  it('fails clearly and quickly on a truncated LAZ or LAS file', async () => {
    const laz = readFileSync(lazPath);
    const half = file(laz.subarray(0, laz.length >> 1), 'laz');
    const started = Date.now();
    const error = await openError({ path: half }, true);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain(half);
    expect(error.message).toMatch(/truncated/);
    const streamed = await openError({ stream: streamOf(laz.subarray(0, laz.length >> 1), 4096) }, true);
    expect(streamed.message).toMatch(/stdin: LAZ file is truncated/);
    const las = readFileSync(lasPath);
    const cut = file(las.subarray(0, 20_000), 'las');
    const lasError = await openError({ path: cut });
    expect(lasError.message).toContain(cut);
    expect(lasError.message).toMatch(/truncated: the header promises 1065 points of 34 bytes/);
    const streamedLas = await openError({ stream: streamOf(las.subarray(0, 20_000), 4096) }, true);
    expect(streamedLas.message).toMatch(/stdin: LAS file is truncated/);
    const header = await openError({ path: file(las.subarray(0, 100), 'las') });
    expect(header.message).toMatch(/header is cut short/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails on a corrupt LAZ chunk pointer and on bad header fields', async () => {
    const laz = Buffer.from(readFileSync(lazPath));
    laz.writeBigInt64LE(10n ** 12n, laz.readUInt32LE(96));
    expect((await openError({ path: file(laz, 'laz') }, true)).message).toMatch(/chunk table/);
    const scrambled = Buffer.from(readFileSync(lazPath));
    for (let i = 2000; i < scrambled.length - 200; i += 3) scrambled[i] = scrambled[i]! ^ 0xa5;
    const bad = file(scrambled, 'laz');
    const error = await openError({ path: bad }, true);
    expect(error.message).toContain(bad);
    expect(error.message).toMatch(/LAZ point data is truncated or corrupt/);
    // The decompressor still works for the next file.
    expect((await readAll(await openSource({ path: lazPath }))).values.x).toEqual(hand.x);
    const las = Buffer.from(readFileSync(lasPath));
    las.writeUInt8(2, 24);
    expect((await openError({ path: file(las, 'las') })).message).toMatch(/unsupported LAS version/);
  });
});

describe('LAS point formats', () => {
  const points: LasTestPoint[] = Array.from({ length: 300 }, (_, i) => ({
    X: i * 1001 - 150_000,
    Y: -i * 7,
    Z: 2_000_000_000 - i,
    intensity: (i * 997) % 65536,
    returnNumber: (i % 7) + 1,
    returns: 7,
    classification: i % 32,
    gps: 1e9 + i / 8,
    rgb: [i, 65535 - i, i * 200],
  }));
  const scale: [number, number, number] = [0.001, 0.01, 0.0001];
  const offset: [number, number, number] = [500_000.5, -4_000_000, 12.25];

  it('decodes formats 0-3 and 6-7 with their return bits, classes, times and colours', async () => {
    for (const pointFormat of [0, 1, 2, 3, 6, 7] as const) {
      const extended = pointFormat >= 6;
      const pts = extended
        ? points.map((p, i) => ({ ...p, returnNumber: (i % 15) + 1, returns: 15, classification: i % 256 }))
        : points;
      const bytes = lasBytes({
        pointFormat,
        points: pts,
        scale,
        offset,
        extra: 3,
        creation: { year: 2024, dayOfYear: 366 },
      });
      const source = await openSource({ path: file(bytes, 'las') });
      expect(source.lasHeader).toMatchObject({
        pointFormat,
        count: 300,
        scale,
        offset,
        creation: { year: 2024, dayOfYear: 366 },
      });
      const hasGps = pointFormat !== 0 && pointFormat !== 2;
      const hasRgb = pointFormat === 2 || pointFormat === 3 || pointFormat === 7;
      expect(
        source.columns.some((c) => c.name === 'gps_time'),
        `format ${pointFormat}`,
      ).toBe(hasGps);
      expect(
        source.columns.some((c) => c.name === 'red'),
        `format ${pointFormat}`,
      ).toBe(hasRgb);
      const all = await readAll(source, { chunkRows: 128 });
      expect(all.chunks.map((c) => c.rows)).toEqual([128, 128, 44]);
      expect(all.values.x).toEqual(pts.map((p) => p.X * scale[0] + offset[0]));
      expect(all.values.y).toEqual(pts.map((p) => p.Y * scale[1] + offset[1]));
      expect(all.values.z).toEqual(pts.map((p) => p.Z * scale[2] + offset[2]));
      expect(all.values.intensity).toEqual(pts.map((p) => p.intensity));
      expect(all.values.return_number).toEqual(pts.map((p) => p.returnNumber));
      expect(all.values.number_of_returns).toEqual(pts.map((p) => p.returns));
      expect(all.values.classification).toEqual(pts.map((p) => p.classification));
      if (hasGps) expect(all.values.gps_time).toEqual(pts.map((p) => p.gps));
      if (hasRgb) expect(all.values.blue).toEqual(pts.map((p) => p.rgb![2]));
    }
  });
});

describe('Parquet', () => {
  let instance: DuckDBInstance;

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
  });

  afterAll(() => {
    instance?.closeSync();
  });

  async function duckdb(sql: string): Promise<void> {
    const connection = await instance.connect();
    try {
      await connection.run(sql);
    } finally {
      connection.closeSync();
    }
  }

  const SELECT = `SELECT i::DOUBLE * 0.5 AS d, (i * 0.25)::FLOAT AS f, i::INTEGER AS k, i::BIGINT * 1000000000000 AS b,
    i % 2 = 0 AS flag, CASE WHEN i % 3 = 0 THEN NULL ELSE 'n' || i END AS s,
    TIMESTAMP '2025-04-15 00:00:00' + to_microseconds(i * 1001) AS t,
    (TIMESTAMP '2025-04-15 00:00:00' + to_seconds(i))::TIMESTAMP_MS AS tms, DATE '2025-01-01' + i::INTEGER AS day,
    CASE WHEN i % 5 = 0 THEN NULL ELSE i END AS maybe, (i * 1.125 - 7)::DECIMAL(12, 3) AS dec,
    [i::INTEGER, i::INTEGER + 1] AS pair
    FROM range(0, 5000) r(i)`;

  it('reads several zstd row groups with the right types, values and nulls', async () => {
    const path = join(dir, 'typed.parquet');
    await duckdb(`COPY (${SELECT}) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 2048, COMPRESSION zstd)`);
    const source = await openSource({ path });
    expect(source.format).toBe('parquet');
    expect(source.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'd:float64',
      'f:float64',
      'k:int32',
      'b:int64',
      'flag:bool',
      's:text',
      't:local_timestamp_us',
      'tms:local_timestamp_us',
      'day:date',
      'maybe:int64',
      'dec:decimal',
      'pair:unsupported',
    ]);
    // A LIST has no lake type: it is never decoded, and asking for it names it.
    expect(() => source.chunks({ columns: ['pair'] })).toThrow(/column "pair" has type LIST/);
    const columns = source.columns.map((c) => c.name).filter((c) => c !== 'pair');
    const all = await readAll(source, { chunkRows: 1000, columns });
    expect(all.rows).toBe(5000);
    expect(all.chunks.every((c) => c.rows <= 1000)).toBe(true);
    expect(all.rowNumbers).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    const chunkStarts = all.chunks.map((c) => c.firstRow);
    expect(chunkStarts[0]).toBe(1);
    for (const [n, c] of all.chunks.entries()) {
      if (n > 0) expect(c.firstRow).toBe(all.chunks[n - 1]!.firstRow + all.chunks[n - 1]!.rows);
    }
    const i = [0, 1, 2, 3, 2047, 2048, 4999];
    const epoch = Date.UTC(2025, 3, 15) * 1000;
    expect(i.map((r) => all.values.d![r])).toEqual(i.map((r) => r * 0.5));
    expect(i.map((r) => all.values.f![r])).toEqual(i.map((r) => Math.fround(r * 0.25)));
    expect(i.map((r) => all.values.k![r])).toEqual(i);
    expect(i.map((r) => all.values.b![r])).toEqual(i.map((r) => BigInt(r) * 1_000_000_000_000n));
    expect(i.map((r) => all.values.flag![r])).toEqual(i.map((r) => (r % 2 === 0 ? 1 : 0)));
    expect(i.map((r) => all.values.s![r])).toEqual(i.map((r) => (r % 3 === 0 ? null : `n${r}`)));
    expect(i.map((r) => all.values.t![r])).toEqual(i.map((r) => BigInt(epoch + r * 1001)));
    expect(i.map((r) => all.values.tms![r])).toEqual(i.map((r) => BigInt(epoch + r * 1_000_000)));
    expect(i.map((r) => all.values.day![r])).toEqual(i.map((r) => Date.UTC(2025, 0, 1) / 86_400_000 + r));
    expect(i.map((r) => all.values.maybe![r])).toEqual(i.map((r) => (r % 5 === 0 ? null : BigInt(r))));
    // DECIMAL(12,3): the unscaled integers, exact.
    expect(i.map((r) => all.values.dec![r])).toEqual(i.map((r) => BigInt(r * 1125 - 7000)));
  });

  it('reads Parquet from a stream through a spool file it removes on close', async () => {
    const path = join(dir, 'small.parquet');
    await duckdb(`COPY (${SELECT} LIMIT 300) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 100)`);
    const spools = () => new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('octa-spool-')));
    const before = spools();
    const source = await openSource({ stream: streamOf(readFileSync(path), 1000) });
    expect(source.format).toBe('parquet');
    expect([...spools()].filter((n) => !before.has(n))).toHaveLength(1);
    const all = await readAll(source, { columns: ['k', 's'] });
    expect(Object.keys(all.values)).toEqual(['k', 's']);
    expect(all.values.k).toEqual(Array.from({ length: 300 }, (_, r) => r));
    expect([...spools()].filter((n) => !before.has(n))).toEqual([]);
  });

  it('fails clearly on a truncated or corrupt Parquet file', async () => {
    const path = join(dir, 'cut.parquet');
    await duckdb(
      `COPY (SELECT * EXCLUDE (pair) FROM (${SELECT})) TO '${path}' (FORMAT parquet, COMPRESSION zstd)`,
    );
    const bytes = readFileSync(path);
    const error = await openError({ path: file(bytes.subarray(0, bytes.length - 100), 'parquet') });
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/Parquet file is truncated/);
    // Scrambled pages: an error that names the file, not a crash of the process.
    const scrambled = Buffer.from(bytes);
    for (let i = 4; i < scrambled.length / 2; i += 3) scrambled[i] = scrambled[i]! ^ 0x5a;
    const bad = file(scrambled, 'parquet');
    const corrupt = await openError({ path: bad }, true);
    expect(corrupt.code).toBe('INVALID_INPUT');
    expect(corrupt.message).toContain(bad);
  });
});

describe('Arrow IPC', () => {
  function table(batches: number, rows: number): Table {
    const schema = new Schema([
      new Field('x', new Float64(), false),
      new Field('n', new Int32(), true),
      new Field('ok', new Bool(), true),
      new Field('name', new Utf8(), true),
      new Field('t', new Timestamp(TimeUnit.MILLISECOND), true),
    ]);
    const list: RecordBatch[] = [];
    for (let b = 0; b < batches; b++) {
      const base = b * rows;
      const idx = Array.from({ length: rows }, (_, i) => base + i);
      const children = [
        vectorFromArray(Float64Array.from(idx, (i) => i / 3)),
        vectorFromArray(
          idx.map((i) => (i % 4 === 0 ? null : i)),
          new Int32(),
        ),
        vectorFromArray(
          idx.map((i) => (i % 7 === 0 ? null : i % 2 === 1)),
          new Bool(),
        ),
        vectorFromArray(
          idx.map((i) => (i % 5 === 0 ? null : `p${i}`)),
          new Utf8(),
        ),
        vectorFromArray(
          idx.map((i) => 1_700_000_000_000 + i),
          new Timestamp(TimeUnit.MILLISECOND),
        ),
      ].map((v) => v.data[0]!);
      const data = makeData({ type: new Struct(schema.fields), length: rows, children, nullCount: 0 });
      list.push(new RecordBatch(schema, data));
    }
    return new Table(schema, list);
  }

  function check(values: Record<string, unknown[]>, n: number): void {
    const idx = Array.from({ length: n }, (_, i) => i);
    expect(values.x).toEqual(idx.map((i) => i / 3));
    expect(values.n).toEqual(idx.map((i) => (i % 4 === 0 ? null : i)));
    expect(values.ok).toEqual(idx.map((i) => (i % 7 === 0 ? null : i % 2)));
    expect(values.name).toEqual(idx.map((i) => (i % 5 === 0 ? null : `p${i}`)));
    expect(values.t).toEqual(idx.map((i) => BigInt(1_700_000_000_000 + i) * 1000n));
  }

  it('reads the file format batch by batch, cutting long batches at chunkRows', async () => {
    const path = file(tableToIPC(table(3, 2500), 'file'), 'arrow');
    const source = await openSource({ path });
    expect(source.format).toBe('arrow');
    expect(source.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'x:float64',
      'n:int32',
      'ok:bool',
      'name:text',
      't:local_timestamp_us',
    ]);
    const all = await readAll(source, { chunkRows: 1000 });
    expect(all.chunks.map((c) => c.rows)).toEqual([1000, 1000, 500, 1000, 1000, 500, 1000, 1000, 500]);
    expect(all.chunks.map((c) => c.firstRow)).toEqual([1, 1001, 2001, 2501, 3501, 4501, 5001, 6001, 7001]);
    check(all.values, 7500);
  });

  it('reads the stream format from a stream and the file format from a spooled stream', async () => {
    const stream = await openSource({ stream: streamOf(tableToIPC(table(4, 300), 'stream'), 999) });
    expect(stream.format).toBe('arrow');
    const fromStream = await readAll(stream);
    expect(fromStream.chunks.map((c) => c.rows)).toEqual([300, 300, 300, 300]);
    check(fromStream.values, 1200);
    const spooled = await readAll(
      await openSource({ stream: streamOf(tableToIPC(table(2, 10), 'file'), 64), format: 'arrow' }),
    );
    check(spooled.values, 20);
  });

  it('fails clearly on a truncated Arrow stream', async () => {
    const bytes = tableToIPC(table(4, 300), 'stream');
    const path = file(bytes.subarray(0, bytes.length - 5000), 'arrows');
    const error = await openError({ path }, true);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain(path);
  });
});

describe('formats', () => {
  it('infers the format from the extension', () => {
    expect(
      [
        'a.csv',
        'b.TSV',
        'c.ndjson',
        'd.jsonl',
        'e.json',
        'f.parquet',
        'g.arrow',
        'h.arrows',
        'i.ipc',
        'j.feather',
        'k.las',
        'l.LAZ',
        'm.txt',
        'n',
      ].map(inferFormat),
    ).toEqual([
      'csv',
      'csv',
      'ndjson',
      'ndjson',
      'ndjson',
      'parquet',
      'arrow',
      'arrow',
      'arrow',
      'arrow',
      'las',
      'laz',
      null,
      null,
    ]);
  });

  it('refuses a wrong --format at open, naming what the file looks like', async () => {
    const las = sharedData('simple.las');
    const usgs = sharedData('usgs_all_month_2025-04-15.csv');
    const cases: [OpenSourceOptions, RegExp][] = [
      [{ path: las, format: 'csv' }, /is not CSV: it looks like a LAS point cloud \(use `format` las\)/],
      [{ path: las, format: 'ndjson' }, /is not NDJSON: it looks like a LAS point cloud/],
      [{ path: usgs, format: 'parquet' }, /is not Parquet: it does not start with PAR1/],
      [{ path: usgs, format: 'arrow' }, /is not Arrow IPC/],
      [{ path: usgs, format: 'las' }, /is not LAS: it does not start with LASF/],
      [
        { path: file(tableToIPC(new Table({ x: vectorFromArray([1]) }), 'file'), 'csv') },
        /looks like an Arrow IPC file/,
      ],
      [{ path: file(Buffer.from([1, 0, 2, 3]), 'csv') }, /NUL bytes/],
      [{ path: file(Buffer.from([0x1f, 0x8b, 8, 0]), 'csv') }, /gzip-compressed/],
    ];
    for (const [options, message] of cases) {
      const error = await openError(options);
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toMatch(message);
    }
  });

  it('calls an empty file empty in every format, and a missing file an IO error', async () => {
    for (const ext of ['csv', 'ndjson', 'parquet', 'arrow', 'las', 'laz']) {
      const error = await openError({ path: file('', ext) });
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toMatch(/empty input/);
    }
    const missing = await openError({ path: join(dir, 'nope.csv') });
    expect(missing.code).toBe('IO_ERROR');
    const directory = await openError({ path: dir });
    expect(directory.code).toBe('INVALID_INPUT');
  });
});
