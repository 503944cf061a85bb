/**
 * Issue 13, items 3 and 16: typed inputs keep their types or are refused naming the column, never
 * silently changed. Parquet inputs are written by DuckDB, Arrow IPC inputs by apache-arrow; every
 * stored value is compared with its input in DuckDB (through openLake) and read with hyparquet, and
 * every refusal leaves no table, no committed file and no data file. CSV and NDJSON integers past
 * ±2^53 are stored exactly (int64) or kept as text, never rounded.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Binary,
  type DataType,
  DateDay,
  DateMillisecond,
  Decimal,
  Field,
  FixedSizeBinary,
  Float64,
  Int32,
  IntervalDayTime,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeMicrosecond,
  TimeMillisecond,
  TimeNanosecond,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  tableFromIPC,
  tableToIPC,
  Uint64,
} from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { Table as WasmTable, writeParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestOptions, ingest } from '../../src/lake/ingest/ingest.js';
import { compact } from '../../src/lake/maintenance/compact.js';
import { verify } from '../../src/lake/maintenance/verify.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError } from '../../src/lattice/index.js';
import { openLake } from '../../src/sql/open.js';
import { committed, duck, filesUnder, removeDir, tempDir } from './fixtures/ingest/lake.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('safety-types');
});
afterAll(() => removeDir(dir));

let cases = 0;
/** A fresh lake directory. */
function newLake(): string {
  return join(dir, `lake-${++cases}`);
}

async function run(lake: string, path: string, options: Partial<IngestOptions> = {}) {
  return ingest({
    storage: await LocalStorage.create({ root: lake }),
    table: 'pts',
    inputs: [{ path }],
    frame: 'cartesian:0,0,0,1024',
    lod: 8,
    time: 'time',
    ...options,
  });
}

/** Runs SQL over the lake's views (table `pts`), JSON-shaped rows. */
async function lakeSql(lake: string, sql: string): Promise<Record<string, unknown>[]> {
  const session = await openLake({ storage: await LocalStorage.create({ root: lake }), functions: false });
  try {
    return (await session.connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    session.close();
  }
}

/** Column name → DuckDB type of the lake's `pts` view. */
async function lakeTypes(lake: string): Promise<Record<string, string>> {
  const rows = await lakeSql(lake, 'DESCRIBE pts');
  return Object.fromEntries(rows.map((r) => [r.column_name as string, r.column_type as string]));
}

/** Asserts that an ingest failed with SCHEMA_MISMATCH naming `column`, leaving nothing behind. */
async function expectRefused(lake: string, outcome: Promise<unknown>, column: string): Promise<void> {
  const error = await outcome.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OctaError);
  expect((error as OctaError).code).toBe('SCHEMA_MISMATCH');
  expect((error as OctaError).value).toBe(column);
  expect((error as OctaError).message).toContain(`"${column}"`);
  const state = await committed(lake, 'pts');
  expect(state.files).toEqual([]);
  expect(state.version).toBe(0);
  expect(filesUnder(lake).filter((f) => f.endsWith('.parquet'))).toEqual([]);
}

/** DuckDB writes a Parquet file from a SELECT. */
async function duckParquet(path: string, select: string): Promise<void> {
  await duck(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
}

const POINTS = `(i % 7)::DOUBLE + 1 AS x, (i % 5)::DOUBLE + 1 AS y, (i % 3)::DOUBLE + 1 AS z,
  TIMESTAMPTZ '2025-04-15 12:00:00+00' + to_seconds(i % 2 * 86400) AS time`;

/** Typed Parquet columns and the DuckDB type each is stored as. */
const PARQUET_KEPT: { column: string; sql: string; stored: string }[] = [
  {
    column: 'u64',
    sql: `CASE WHEN i % 11 = 0 THEN NULL ELSE 18446744073709551615::UBIGINT - i::UBIGINT * 3 END`,
    stored: 'UBIGINT',
  },
  { column: 'id', sql: `(9007199254740993 + i * 2)::BIGINT`, stored: 'BIGINT' },
  { column: 'dt', sql: `DATE '0050-01-01' + i::INTEGER * 97`, stored: 'DATE' },
  { column: 'tm', sql: `TIME '00:00:00' + to_microseconds(i * 1234567891)`, stored: 'TIME' },
  {
    column: 'ts',
    sql: `TIMESTAMP '2024-01-02 03:04:05.123456' + to_microseconds(i * 7)`,
    stored: 'TIMESTAMP',
  },
  {
    column: 'tstz',
    sql: `TIMESTAMPTZ '1969-12-31 23:59:59.999999+00' + to_microseconds(i * 13)`,
    stored: 'TIMESTAMP WITH TIME ZONE',
  },
  { column: 'tsns', sql: `make_timestamp_ns(1704164645123456789 + i * 11)`, stored: 'TIMESTAMP_NS' },
  {
    column: 'tsms',
    sql: `(TIMESTAMP '2024-01-02 03:04:05.123' + to_milliseconds(i))::TIMESTAMP_MS`,
    stored: 'TIMESTAMP',
  },
  {
    column: 'tss',
    sql: `(TIMESTAMP '2024-01-02 03:04:05' + to_seconds(i))::TIMESTAMP_S`,
    stored: 'TIMESTAMP',
  },
  { column: 'u32', sql: `(4294967295 - i)::UINTEGER`, stored: 'BIGINT' },
  { column: 'i8', sql: `(i % 200 - 100)::TINYINT`, stored: 'INTEGER' },
  { column: 'f32', sql: `(i / 3)::FLOAT`, stored: 'DOUBLE' },
  { column: 'js', sql: `('{"id": ' || (9007199254740993 + i) || '}')::JSON`, stored: 'VARCHAR' },
  { column: 'uu', sql: `('00000000-0000-0000-0000-' || lpad(i::VARCHAR, 12, '0'))::UUID`, stored: 'VARCHAR' },
  { column: 'bl', sql: `('row ' || i)::BLOB`, stored: 'VARCHAR' },
  { column: 'd4', sql: `((i % 1999 - 999) / 10)::DECIMAL(4,1)`, stored: 'DECIMAL(4,1)' },
  { column: 'd18', sql: `(-999999999999999.999 + i * 1.001)::DECIMAL(18,3)`, stored: 'DECIMAL(18,3)' },
];
const ROWS = 2000;

describe('Parquet types are kept (item 3)', () => {
  const lake = () => join(dir, 'parquet-kept');
  const input = () => join(dir, 'kept.parquet');

  beforeAll(async () => {
    await duckParquet(
      input(),
      `SELECT ${POINTS}, ${PARQUET_KEPT.map((c) => `${c.sql} AS ${c.column}`).join(', ')} FROM range(${ROWS}) t(i)`,
    );
    const summary = await run(lake(), input());
    expect(summary.rows_committed).toBe(ROWS);
  });

  it('stores each column as its DuckDB type', async () => {
    const types = await lakeTypes(lake());
    for (const c of PARQUET_KEPT) expect([c.column, types[c.column]]).toEqual([c.column, c.stored]);
  });

  it('reads every value back exactly in DuckDB (no row differs, 2000 distinct uint64)', async () => {
    const cols = PARQUET_KEPT.map((c) => `${c.column}::${c.stored} AS ${c.column}`).join(', ');
    const diff = await lakeSql(
      lake(),
      `SELECT (SELECT count(*) FROM (SELECT ${cols} FROM read_parquet('${input()}') EXCEPT ALL SELECT ${cols} FROM pts)) AS missing,
              (SELECT count(*) FROM (SELECT ${cols} FROM pts EXCEPT ALL SELECT ${cols} FROM read_parquet('${input()}'))) AS extra,
              (SELECT count(DISTINCT u64) FROM pts) AS distinct_u64,
              (SELECT max(u64)::VARCHAR FROM pts) AS max_u64,
              (SELECT max(id)::VARCHAR FROM pts) AS max_id,
              (SELECT min(dt)::VARCHAR FROM pts) AS min_dt`,
    );
    expect(diff).toEqual([
      {
        missing: '0',
        extra: '0',
        distinct_u64: String(ROWS - Math.ceil(ROWS / 11)),
        max_u64: '18446744073709551612',
        max_id: String(9007199254740993n + 2n * BigInt(ROWS - 1)),
        min_dt: '0050-01-01',
      },
    ]);
  });

  it('writes files hyparquet reads with the same values', async () => {
    const { paths } = await committed(lake(), 'pts');
    const rows: Record<string, unknown>[] = [];
    for (const path of paths) {
      const bytes = readFileSync(path);
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      rows.push(...(await parquetReadObjects({ file, compressors, columns: ['u64', 'dt', 'tsns', 'bl'] })));
    }
    const u64 = rows.map((r) => r.u64).filter((v) => v !== null);
    expect(u64).toContain(18446744073709551612n);
    expect(new Set(u64).size).toBe(ROWS - Math.ceil(ROWS / 11));
    expect(rows.map((r) => (r.dt as Date).toISOString().slice(0, 10))).toContain('0050-01-01');
    expect(rows.map((r) => r.bl)).toContain('row 1999');
  });
});

describe('Arrow IPC types are kept (item 3)', () => {
  const lake = () => join(dir, 'arrow-kept');
  const n = 3;
  const arrowColumns: [string, DataType, ArrayLike<unknown>, string, string[]][] = [
    [
      'u64',
      new Uint64(),
      new BigUint64Array([18446744073709551615n, 9007199254740993n, 0n]),
      'UBIGINT',
      ['18446744073709551615', '9007199254740993', '0'],
    ],
    [
      'dt',
      new DateDay(),
      new Int32Array([19782, -719162, 0]),
      'DATE',
      ['2024-02-29', '0001-01-01', '1970-01-01'],
    ],
    [
      'tms',
      new TimeMillisecond(),
      new Int32Array([49556123, 0, 86399999]),
      'TIME',
      ['13:45:56.123', '00:00:00', '23:59:59.999'],
    ],
    [
      'tus',
      new TimeMicrosecond(),
      new BigInt64Array([49556123456n, 1n, 0n]),
      'TIME',
      ['13:45:56.123456', '00:00:00.000001', '00:00:00'],
    ],
    [
      'tns',
      new TimeNanosecond(),
      new BigInt64Array([49556123456789n, 1n, 0n]),
      'TIME_NS',
      ['13:45:56.123456789', '00:00:00.000000001', '00:00:00'],
    ],
    [
      'tss',
      new TimestampSecond(null),
      new BigInt64Array([1704164645n, -62135596800n, 0n]),
      'TIMESTAMP',
      ['2024-01-02 03:04:05', '0001-01-01 00:00:00', '1970-01-01 00:00:00'],
    ],
    [
      'tsms',
      new TimestampMillisecond('UTC'),
      new BigInt64Array([1704164645123n, -1n, 0n]),
      'TIMESTAMP WITH TIME ZONE',
      ['2024-01-02 03:04:05.123+00', '1969-12-31 23:59:59.999+00', '1970-01-01 00:00:00+00'],
    ],
    [
      'tsus',
      new TimestampMicrosecond('Europe/Paris'),
      new BigInt64Array([1704164645123456n, -1n, 0n]),
      'TIMESTAMP WITH TIME ZONE',
      ['2024-01-02 03:04:05.123456+00', '1969-12-31 23:59:59.999999+00', '1970-01-01 00:00:00+00'],
    ],
    [
      'tsns',
      new TimestampNanosecond(null),
      new BigInt64Array([1704164645123456789n, -1n, 0n]),
      'TIMESTAMP_NS',
      ['2024-01-02 03:04:05.123456789', '1969-12-31 23:59:59.999999999', '1970-01-01 00:00:00'],
    ],
  ];

  arrowColumns.push([
    'dec',
    new Decimal(3, 18, 128),
    // 999999999999999.999, -0.001, 0: four little-endian words a value.
    new Uint32Array([
      0xa763ffff, 0x0de0b6b3, 0, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0, 0, 0, 0,
    ]),
    'DECIMAL(18,3)',
    ['999999999999999.999', '-0.001', '0.000'],
  ]);

  it('stores each column with its type and every value exactly', async () => {
    const path = join(dir, 'kept.arrow');
    writeFileSync(
      path,
      arrowFile(
        n,
        arrowColumns.map(([name, type, values]) => [name, type, values]),
      ),
    );
    expect((await run(lake(), path)).rows_committed).toBe(n);
    const types = await lakeTypes(lake());
    const rows = await lakeSql(
      lake(),
      `SELECT ${arrowColumns.map(([name]) => `${name}::VARCHAR AS ${name}`).join(', ')} FROM pts ORDER BY x`,
    );
    for (const [name, , , stored, texts] of arrowColumns) {
      expect([name, types[name]]).toEqual([name, stored]);
      expect([name, rows.map((r) => r[name])]).toEqual([name, texts]);
    }
  });
});

/** An Arrow IPC file of `n` points (x = 1..n) and the given columns. */
function arrowFile(
  n: number,
  columns: [string, DataType, ArrayLike<unknown> | undefined, unknown?][],
): Uint8Array {
  const base: [string, DataType, ArrayLike<unknown>][] = [
    ['x', new Float64(), Float64Array.from({ length: n }, (_, i) => i + 1)],
    ['y', new Float64(), new Float64Array(n).fill(1)],
    ['z', new Float64(), new Float64Array(n).fill(1)],
    ['time', new TimestampMicrosecond('UTC'), new BigInt64Array(n).fill(1744718400000000n)],
  ];
  const all = [...base, ...columns];
  const fields = all.map(([name, type]) => new Field(name, type, true));
  const children = all.map(([, type, values, extra]) =>
    extra === undefined
      ? makeData({ type, length: n, data: values } as never)
      : (extra as ReturnType<typeof makeData>),
  );
  const schema = new Schema(fields);
  const batch = new RecordBatch(
    schema,
    makeData({ type: new Struct(fields), length: n, nullCount: 0, children }),
  );
  return tableToIPC(new Table(schema, [batch]), 'file');
}

describe('types the lake cannot store exactly are refused naming the column (items 3 and 16)', () => {
  const PARQUET_REFUSED: { name: string; sql: string }[] = [
    { name: 'DECIMAL(20,2)', sql: `123456789012345678.12::DECIMAL(20,2)` },
    { name: 'DECIMAL(38,0)', sql: `(10::HUGEINT ** 37)::DECIMAL(38,0)` },
    { name: 'INTERVAL', sql: `INTERVAL 3 DAY` },
    { name: 'LIST', sql: `[1, 9007199254740993]` },
    { name: 'STRUCT', sql: `{'a': 9007199254740993}` },
    { name: 'MAP', sql: `MAP {'k': 1}` },
    { name: 'TIMETZ', sql: `TIMETZ '12:00:00+01'` },
  ];
  for (const c of PARQUET_REFUSED) {
    it(`Parquet ${c.name}: SCHEMA_MISMATCH, nothing written; with --exclude the rest is stored`, async () => {
      const path = join(dir, `refused-${cases}.parquet`);
      await duckParquet(path, `SELECT ${POINTS}, ${c.sql} AS bad, i AS ok FROM range(3) t(i)`);
      const lake = newLake();
      await expectRefused(lake, run(lake, path), 'bad');
      expect((await run(lake, path, { exclude: ['bad'] })).rows_committed).toBe(3);
      expect(await lakeSql(lake, 'SELECT sum(ok)::INTEGER AS s FROM pts')).toEqual([{ s: 3 }]);
      expect((await verify({ storage: await LocalStorage.create({ root: lake }) })).errors).toBe(0);
    });
  }

  it('Parquet fixed-size binary (FIXED_LEN_BYTE_ARRAY, no annotation): SCHEMA_MISMATCH, nothing written', async () => {
    const fixed = new FixedSizeBinary(2);
    const arrow = arrowFile(2, [
      ['fsb', fixed, undefined, makeData({ type: fixed, length: 2, data: new Uint8Array([0, 255, 1, 2]) })],
    ]);
    const table = WasmTable.fromIPCStream(tableToIPC(tableFromIPC(arrow), 'stream'));
    const path = join(dir, 'fixed.parquet');
    writeFileSync(path, writeParquet(table));
    const lake = newLake();
    await expectRefused(lake, run(lake, path), 'fsb');
    expect((await run(lake, path, { exclude: ['fsb'] })).rows_committed).toBe(2);
  });

  const ARROW_REFUSED: [string, DataType, ArrayLike<unknown> | undefined, unknown?][] = [
    ['decimal38', new Decimal(2, 38, 128), new Uint32Array(12)],
    ['date64', new DateMillisecond(), new BigInt64Array(3)],
    ['interval', new IntervalDayTime(), new Int32Array(6)],
    ['tsnsutc', new TimestampNanosecond('UTC'), new BigInt64Array([1n, 2n, 3n])],
    [
      'binary',
      new Binary(),
      undefined,
      makeData({
        type: new Binary(),
        length: 3,
        valueOffsets: new Int32Array([0, 1, 2, 3]),
        data: new Uint8Array([0, 255, 7]),
      }),
    ],
    [
      'list',
      new List(new Field('item', new Int32())),
      undefined,
      makeData({
        type: new List(new Field('item', new Int32())),
        length: 3,
        valueOffsets: new Int32Array([0, 1, 1, 2]),
        child: makeData({ type: new Int32(), length: 2, data: new Int32Array([5, 6]) }),
      }),
    ],
  ];
  for (const column of ARROW_REFUSED) {
    it(`Arrow ${String(column[1])}: SCHEMA_MISMATCH, nothing written; with --exclude the rest is stored`, async () => {
      const path = join(dir, `refused-${cases}.arrow`);
      writeFileSync(path, arrowFile(3, [[column[0], column[1], column[2], column[3]]]));
      const lake = newLake();
      await expectRefused(lake, run(lake, path), column[0]);
      expect((await run(lake, path, { exclude: [column[0]] })).rows_committed).toBe(3);
    });
  }

  it('a Parquet BLOB that is not UTF-8 text rejects its row; text stays exact', async () => {
    const path = join(dir, 'blob.parquet');
    await duckParquet(
      path,
      `SELECT ${POINTS}, CASE WHEN i = 1 THEN '\\xFF\\x00'::BLOB ELSE ('v' || i)::BLOB END AS b FROM range(3) t(i)`,
    );
    const lake = newLake();
    const rejectFile = join(dir, 'blob-rejects.ndjson');
    const summary = await run(lake, path, { rejectFile });
    expect([summary.rows_committed, summary.rows_rejected]).toEqual([2, 1]);
    const reject = JSON.parse(readFileSync(rejectFile, 'utf8').trim()) as { row: number; reason: string };
    expect(reject.row).toBe(2);
    expect(reject.reason).toMatch(/column "b": 2 bytes that are not UTF-8 text/);
    expect(await lakeSql(lake, 'SELECT b FROM pts ORDER BY b')).toEqual([{ b: 'v0' }, { b: 'v2' }]);
  });

  it('an Arrow timestamp in seconds past the int64 microsecond range rejects its row, never wraps', async () => {
    const path = join(dir, 'seconds.arrow');
    writeFileSync(
      path,
      arrowFile(2, [
        ['when', new TimestampSecond(null), new BigInt64Array([9_223_372_036_855n, 1_704_164_645n])],
      ]),
    );
    const lake = newLake();
    const rejectFile = join(dir, 'seconds-rejects.ndjson');
    const summary = await run(lake, path, { rejectFile });
    expect([summary.rows_committed, summary.rows_rejected]).toEqual([1, 1]);
    const reject = JSON.parse(readFileSync(rejectFile, 'utf8').trim()) as { row: number; reason: string };
    expect([reject.row, reject.reason]).toEqual([
      1,
      'column "when": 9223372036855 seconds, outside the range of int64 microseconds',
    ]);
    expect(await lakeSql(lake, 'SELECT "when"::VARCHAR AS w FROM pts')).toEqual([
      { w: '2024-01-02 03:04:05' },
    ]);
  });

  it('a decimal column of a table takes a decimal of its scale with fewer digits, and no other scale', async () => {
    const lake = newLake();
    const wide = join(dir, 'dec-12-2.parquet');
    await duckParquet(wide, `SELECT ${POINTS}, 1234567890.12::DECIMAL(12,2) AS d FROM range(1) t(i)`);
    expect((await run(lake, wide)).rows_committed).toBe(1);
    const narrow = join(dir, 'dec-5-2.parquet');
    await duckParquet(narrow, `SELECT ${POINTS}, -123.45::DECIMAL(5,2) AS d FROM range(1) t(i)`);
    expect((await run(lake, narrow)).rows_committed).toBe(1);
    expect(await lakeSql(lake, 'SELECT d::VARCHAR AS d FROM pts ORDER BY d')).toEqual([
      { d: '-123.45' },
      { d: '1234567890.12' },
    ]);
    const otherScale = join(dir, 'dec-5-3.parquet');
    await duckParquet(otherScale, `SELECT ${POINTS}, 1.5::DECIMAL(5,3) AS d FROM range(1) t(i)`);
    const before = await committed(lake, 'pts');
    const error = await run(lake, otherScale).catch((e: unknown) => e);
    expect([(error as OctaError).code, (error as OctaError).value]).toEqual(['SCHEMA_MISMATCH', 'd']);
    expect(await committed(lake, 'pts')).toEqual(before);
  });

  it('a date column of a table takes no text column of the same name', async () => {
    const lake = newLake();
    const parquet = join(dir, 'date-table.parquet');
    await duckParquet(parquet, `SELECT ${POINTS}, DATE '2024-01-01' AS d FROM range(2) t(i)`);
    expect((await run(lake, parquet)).rows_committed).toBe(2);
    const csv = join(dir, 'date-table.csv');
    writeFileSync(csv, 'x,y,z,time,d\n1,1,1,2025-04-15T12:00:00Z,2024-01-02\n');
    const before = await committed(lake, 'pts');
    const error = await run(lake, csv).catch((e: unknown) => e);
    expect((error as OctaError).code).toBe('SCHEMA_MISMATCH');
    expect((error as OctaError).value).toBe('d');
    expect(await committed(lake, 'pts')).toEqual(before);
  });
});

describe('CSV and NDJSON integers past ±2^53 are never rounded (item 3)', () => {
  const big = ['9007199254740993', '-9223372036854775808', '9223372036854775807', '12'];

  it('CSV: a column of such integers is stored as BIGINT, every digit exact', async () => {
    const path = join(dir, 'big.csv');
    writeFileSync(
      path,
      `x,y,z,time,id\n${big.map((v, i) => `${i + 1},1,1,2025-04-15T12:00:00Z,${v}`).join('\n')}\n`,
    );
    const lake = newLake();
    expect((await run(lake, path)).rows_committed).toBe(4);
    expect((await lakeTypes(lake)).id).toBe('BIGINT');
    expect(await lakeSql(lake, 'SELECT id::VARCHAR AS id FROM pts ORDER BY x')).toEqual(
      big.map((id) => ({ id })),
    );
  });

  it('NDJSON: the same integers are stored as BIGINT, and nested values keep every digit', async () => {
    const path = join(dir, 'big.ndjson');
    writeFileSync(
      path,
      `${big.map((v, i) => `{"x":${i + 1},"y":1,"z":1,"time":"2025-04-15T12:00:00Z","id":${v},"doc":{"n":${v},"a":[${v}]}}`).join('\n')}\n`,
    );
    const lake = newLake();
    expect((await run(lake, path)).rows_committed).toBe(4);
    const types = await lakeTypes(lake);
    expect([types.id, types.doc]).toEqual(['BIGINT', 'VARCHAR']);
    expect(await lakeSql(lake, 'SELECT id::VARCHAR AS id, doc FROM pts ORDER BY x')).toEqual(
      big.map((id) => ({ id, doc: `{"n":${id},"a":[${id}]}` })),
    );
  });

  it('integers past int64, or mixed with fractions, are kept as text', async () => {
    const path = join(dir, 'huge.csv');
    writeFileSync(
      path,
      'x,y,z,time,h,m\n1,1,1,2025-04-15T12:00:00Z,18446744073709551617,9007199254740993\n2,1,1,2025-04-15T12:00:00Z,1,0.5\n',
    );
    const lake = newLake();
    expect((await run(lake, path)).rows_committed).toBe(2);
    const types = await lakeTypes(lake);
    expect([types.h, types.m]).toEqual(['VARCHAR', 'VARCHAR']);
    expect(await lakeSql(lake, 'SELECT h, m FROM pts ORDER BY x')).toEqual([
      { h: '18446744073709551617', m: '9007199254740993' },
      { h: '1', m: '0.5' },
    ]);
  });

  for (const format of ['csv', 'ndjson'] as const) {
    it(`${format}: a DOUBLE column rejects a later integer a double cannot hold`, async () => {
      const path = join(dir, `late-big.${format}`);
      const values = ['1.5', '2', '9007199254740993', '9007199254740992'];
      writeFileSync(
        path,
        format === 'csv'
          ? `x,y,z,time,v\n${values.map((v, i) => `${i + 1},1,1,2025-04-15T12:00:00Z,${v}`).join('\n')}\n`
          : `${values.map((v, i) => `{"x":${i + 1},"y":1,"z":1,"time":"2025-04-15T12:00:00Z","v":${v}}`).join('\n')}\n`,
      );
      const lake = newLake();
      const rejectFile = join(dir, `late-big-${format}.ndjson`);
      // Two rows per chunk: the type (DOUBLE) comes from the first two.
      const summary = await run(lake, path, { rejectFile, chunkRows: 2 });
      expect([summary.rows_committed, summary.rows_rejected]).toEqual([3, 1]);
      const reject = JSON.parse(readFileSync(rejectFile, 'utf8').trim()) as { row: number; reason: string };
      expect(reject.row).toBe(3);
      expect(reject.reason).toMatch(/the integer 9007199254740993 has no exact float64/);
      expect(await lakeSql(lake, 'SELECT v FROM pts ORDER BY x')).toEqual([
        { v: 1.5 },
        { v: 2 },
        { v: 9007199254740992 },
      ]);
    });
  }
});

describe('compaction keeps the new types (item 3)', () => {
  it('merges small files of every kept type and reads back the same rows', async () => {
    const lake = newLake();
    const inputs = [0, 1, 2].map((k) => join(dir, `compact-${k}.parquet`));
    for (const [k, path] of inputs.entries()) {
      await duckParquet(
        path,
        `SELECT ${POINTS}, ${PARQUET_KEPT.map((c) => `${c.sql} AS ${c.column}`).join(', ')} FROM range(${k * 100}, ${k * 100 + 100}) t(i)`,
      );
      await run(lake, path);
    }
    const before = await committed(lake, 'pts');
    const storage = await LocalStorage.create({ root: lake });
    const summary = await compact({ storage, table: 'pts' });
    expect(summary.files_removed).toBe(before.files.length);
    expect(summary.files_added).toBeLessThan(before.files.length);
    const types = await lakeTypes(lake);
    for (const c of PARQUET_KEPT) expect([c.column, types[c.column]]).toEqual([c.column, c.stored]);
    const cols = PARQUET_KEPT.map((c) => `${c.column}::${c.stored} AS ${c.column}`).join(', ');
    const all = `read_parquet([${inputs.map((p) => `'${p}'`).join(', ')}])`;
    expect(
      await lakeSql(
        lake,
        `SELECT (SELECT count(*) FROM (SELECT ${cols} FROM ${all} EXCEPT ALL SELECT ${cols} FROM pts)) AS missing,
                (SELECT count(*) FROM (SELECT ${cols} FROM pts EXCEPT ALL SELECT ${cols} FROM ${all})) AS extra,
                (SELECT count(*) FROM pts) AS n`,
      ),
    ).toEqual([{ missing: '0', extra: '0', n: '300' }]);
    expect((await verify({ storage })).errors).toBe(0);
  });
});
