/**
 * Files from our writer held against two independent readers: DuckDB (values, types, row group
 * statistics, footer keys) and hyparquet (values).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { Float64, makeData, RecordBatch, Struct, Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arrowToPointBuffer,
  createPointSchema,
  microsToIso,
  PointBuffer,
  type PointFileDescriptor,
  pointBufferToArrow,
  readParquet,
  readParquetMetadata,
  type WriteParquetOptions,
  writeParquet,
} from '../../src/export/index.js';
import { OctaError } from '../../src/lattice/index.js';
import {
  FRAME,
  fullSchema,
  LOD,
  makeRows,
  ODD_NAME,
  type Row,
  readRows,
  rowsToChunk,
  sortRows,
} from './fixtures.js';

const DESCRIPTOR: PointFileDescriptor = { frame: FRAME, lod: LOD, idKind: 'index64' };

let dir: string;
let instance: DuckDBInstance;
let connection: DuckDBConnection;
let files = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'octa-export-'));
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});

afterAll(() => {
  try {
    connection?.closeSync();
  } finally {
    try {
      instance?.closeSync();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

function sortedBuffer(rows: readonly Row[]): PointBuffer {
  const buffer = PointBuffer.create({ schema: fullSchema() });
  buffer.append(rowsToChunk(rows));
  return buffer.take(buffer.sortByCell());
}

function write(
  rows: readonly Row[],
  options: Partial<WriteParquetOptions> = {},
): { bytes: Uint8Array; path: string } {
  const table = pointBufferToArrow(sortedBuffer(rows));
  const bytes = writeParquet({ table, metadata: DESCRIPTOR, ...options });
  const path = join(dir, `part-${files++}.parquet`);
  writeFileSync(path, bytes);
  return { bytes, path };
}

async function query(sql: string, values: string[]): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(sql, values)).getRowObjectsJS();
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof OctaError ? error.code : 'not an OctaError';
  }
  return undefined;
}

/** Expected per-row-group [rows, min cell, max cell] of sorted rows cut every `size` rows. */
function expectedGroups(sorted: Row[], size: number): [number, bigint, bigint][] {
  const groups: [number, bigint, bigint][] = [];
  for (let at = 0; at < sorted.length; at += size) {
    const group = sorted.slice(at, at + size);
    groups.push([group.length, group[0]!.cell, group.at(-1)!.cell]);
  }
  return groups;
}

describe('writeParquet read back by DuckDB', () => {
  const rows = makeRows(5000, 101);
  const sorted = sortRows(rows);
  let file: { bytes: Uint8Array; path: string };
  beforeAll(() => {
    file = write(rows, { rowGroupSize: 1000 });
  });

  it('returns every value, in cell order, with the right types', async () => {
    const got = await query(
      `SELECT cell, x, y, z, epoch_us(time) AS time, seq, intensity, class, gps, flag, label, ${quote(ODD_NAME)} AS odd
       FROM read_parquet($1, file_row_number = true) ORDER BY file_row_number`,
      [file.path],
    );
    expect(got).toEqual(sorted);
    const [types] = await query(
      `SELECT typeof(cell) AS cell, typeof(x) AS x, typeof(time) AS time, typeof(seq) AS seq, typeof(gps) AS gps,
              typeof(flag) AS flag, typeof(label) AS label
       FROM read_parquet($1) LIMIT 1`,
      [file.path],
    );
    expect(types).toEqual({
      cell: 'BIGINT',
      x: 'DOUBLE',
      time: 'TIMESTAMP WITH TIME ZONE',
      seq: 'INTEGER',
      gps: 'BIGINT',
      flag: 'BOOLEAN',
      label: 'VARCHAR',
    });
  });

  it('has zstd row groups of the asked size with cell min/max statistics', async () => {
    const meta = await query(
      `SELECT row_group_id, row_group_num_rows, path_in_schema, compression, encodings, stats_min_value, stats_max_value
       FROM parquet_metadata($1) ORDER BY row_group_id, column_id`,
      [file.path],
    );
    expect(new Set(meta.map((m) => m.compression))).toEqual(new Set(['ZSTD']));
    const cells = meta.filter((m) => m.path_in_schema === 'cell');
    const groups = expectedGroups(sorted, 1000);
    expect(groups).toHaveLength(5);
    expect(
      cells.map((m) => [
        Number(m.row_group_num_rows),
        BigInt(m.stats_min_value as string),
        BigInt(m.stats_max_value as string),
      ]),
    ).toEqual(groups);
    // Distinct-valued columns skip the dictionary; text keeps it.
    const encodings = (name: string) => String(meta.find((m) => m.path_in_schema === name)?.encodings);
    expect(
      ['cell', 'x', 'time', 'intensity', 'gps'].map(encodings).some((e) => e.includes('DICTIONARY')),
    ).toBe(false);
    expect(encodings('label')).toContain('RLE_DICTIONARY');
    // Sorted cells and bucketed times are delta-packed; coordinates stay PLAIN.
    expect(encodings('cell')).toContain('DELTA_BINARY_PACKED');
    expect(encodings('time')).toContain('DELTA_BINARY_PACKED');
    expect(encodings('x')).toContain('PLAIN');
    // Statistics on every column, payload included.
    expect(meta.every((m) => m.stats_min_value !== null)).toBe(true);

    const info = readParquetMetadata(file.bytes);
    expect(info.rows).toBe(5000);
    expect(info.rowGroups.map((g) => [g.rows, g.cellMin, g.cellMax])).toEqual(groups);
  });

  it('carries the octa.* footer keys', async () => {
    const kv = await query('SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata($1)', [
      file.path,
    ]);
    const octa = Object.fromEntries(
      kv.filter((e) => String(e.key).startsWith('octa.')).map((e) => [e.key, e.value]),
    );
    const times = rows.map((r) => r.time).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(octa).toEqual({
      'octa.schema_version': '1',
      'octa.frame': JSON.stringify(FRAME),
      'octa.lod': String(LOD),
      'octa.id_kind': 'index64',
      'octa.cell_min': String(sorted[0]!.cell),
      'octa.cell_max': String(sorted.at(-1)!.cell),
      'octa.time_min': microsToIso(times[0]!),
      'octa.time_max': microsToIso(times.at(-1)!),
      'octa.rows': '5000',
    });
    expect(sorted[0]!.cell < 0n).toBe(true);
    expect(readParquetMetadata(file.bytes).point).toEqual({
      ...DESCRIPTOR,
      schemaVersion: 1,
      rows: 5000,
      cellMin: sorted[0]!.cell,
      cellMax: sorted.at(-1)!.cell,
      timeMin: times[0],
      timeMax: times.at(-1),
    });
  });

  it('reads the footer from a tail of the file, as a range read would fetch it', () => {
    const tail = file.bytes.subarray(
      file.bytes.length -
        8 -
        new DataView(file.bytes.buffer, file.bytes.byteOffset).getUint32(file.bytes.length - 8, true),
    );
    expect(readParquetMetadata(tail).rowGroups).toEqual(readParquetMetadata(file.bytes).rowGroups);
  });
});

describe('writeParquet read back by hyparquet', () => {
  it('returns identical rows', async () => {
    const rows = makeRows(3000, 202);
    const { bytes } = write(rows, { rowGroupSize: 700 });
    const normal = await readRows(bytes);
    expect(normal).toEqual(sortRows(rows));
  });
});

describe('row groups', () => {
  it('are cut at rowGroupSize rows, 64 Ki by default', async () => {
    const schema = createPointSchema();
    const n = 150_000;
    const buffer = PointBuffer.create({ schema, capacity: n });
    const base = -(1n << 62n) * 2n + (BigInt(LOD) << 48n); // header 10, frame 0, LOD 7
    buffer.append({
      cell: BigInt64Array.from({ length: n }, (_, i) => base + BigInt(i)),
      x: new Float64Array(n),
      y: new Float64Array(n),
      z: new Float64Array(n),
      time: new BigInt64Array(n),
    });
    const table = pointBufferToArrow(buffer);
    const sizes = (bytes: Uint8Array) => readParquetMetadata(bytes).rowGroups.map((g) => g.rows);
    const metadata = { ...DESCRIPTOR, frame: { id: 0 } };
    expect(sizes(writeParquet({ table, metadata }))).toEqual([65_536, 65_536, 18_928]);
    expect(sizes(writeParquet({ table, metadata, rowGroupSize: 50_000 }))).toEqual([50_000, 50_000, 50_000]);
    const first = readParquetMetadata(writeParquet({ table, metadata, rowGroupSize: 50_000 })).rowGroups[1]!;
    expect([first.cellMin, first.cellMax]).toEqual([base + 50_000n, base + 99_999n]);
  });

  it('honour the compression option', async () => {
    const { path } = write(makeRows(100, 303), { compression: 'snappy' });
    const codecs = await query('SELECT DISTINCT compression FROM parquet_metadata($1)', [path]);
    expect(codecs).toEqual([{ compression: 'SNAPPY' }]);
  });
});

describe('readParquet', () => {
  it('gives back an Arrow table that converts to the same buffer', () => {
    const rows = makeRows(2000, 404);
    const { bytes } = write(rows, { rowGroupSize: 300 });
    const table = readParquet(bytes);
    expect(table.schema.metadata.get('octa.lod')).toBe(String(LOD));
    const buffer = arrowToPointBuffer(table, { schema: fullSchema() });
    expect(
      pointBufferToArrow(buffer)
        .toArray()
        .map((r) => r.toJSON()),
    ).toEqual(
      pointBufferToArrow(sortedBuffer(rows))
        .toArray()
        .map((r) => r.toJSON()),
    );
    const cells = readParquet(bytes, { columns: ['cell'] });
    expect(cells.schema.fields.map((f) => f.name)).toEqual(['cell']);
    expect(cells.numRows).toBe(2000);
    expect(codeOf(() => readParquet(bytes, { columns: ['nope'] }))).toBe('SCHEMA_MISMATCH');
  });

  it('reports damaged bytes as CORRUPT and reads foreign files without octa keys', async () => {
    const { bytes } = write(makeRows(10, 505));
    expect(codeOf(() => readParquet(bytes.subarray(0, bytes.length - 20)))).toBe('CORRUPT');
    expect(codeOf(() => readParquetMetadata(new Uint8Array(100)))).toBe('CORRUPT');
    const path = join(dir, 'duckdb.parquet');
    await connection.run(`COPY (SELECT range AS cell FROM range(10)) TO '${path}' (FORMAT parquet)`);
    const info = readParquetMetadata(readFileSync(path));
    expect(info.point).toBeUndefined();
    expect(info.rowGroups.map((g) => [g.rows, g.cellMin, g.cellMax])).toEqual([[10, 0n, 9n]]);
  });
});

describe('writeParquet refuses', () => {
  const rows = makeRows(50, 606);
  const sorted = pointBufferToArrow(sortedBuffer(rows));

  it('tables it cannot describe truthfully', () => {
    const unsorted = PointBuffer.create({ schema: fullSchema() });
    unsorted.append(rowsToChunk(rows));
    expect(codeOf(() => writeParquet({ table: pointBufferToArrow(unsorted), metadata: DESCRIPTOR }))).toBe(
      'INVALID_INPUT',
    );
    expect(codeOf(() => writeParquet({ table: sorted, metadata: { ...DESCRIPTOR, lod: LOD + 1 } }))).toBe(
      'INVALID_INPUT',
    );
    expect(
      codeOf(() => writeParquet({ table: sorted, metadata: { ...DESCRIPTOR, idKind: 'hilbert64' } })),
    ).toBe('INVALID_INPUT');
    expect(codeOf(() => writeParquet({ table: sorted.slice(0, 0), metadata: DESCRIPTOR }))).toBe(
      'INVALID_INPUT',
    );
    // Column 1 (x) replaced by an all-null one.
    const holed = makeData({
      type: new Float64(),
      length: 50,
      data: new Float64Array(50),
      nullBitmap: new Uint8Array(7),
      nullCount: 50,
    });
    const struct = makeData({
      type: new Struct(sorted.schema.fields),
      length: 50,
      nullCount: 0,
      children: sorted.batches[0]!.data.children.map((c, i) => (i === 1 ? holed : c)),
    });
    const withNulls = new Table(sorted.schema, [new RecordBatch(sorted.schema, struct)]);
    expect(() => writeParquet({ table: withNulls, metadata: DESCRIPTOR })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', value: 'x' }),
    );
    expect(codeOf(() => writeParquet({ table: sorted.select(['cell', 'x']), metadata: DESCRIPTOR }))).toBe(
      'SCHEMA_MISMATCH',
    );
  });

  it('bad options', () => {
    expect(codeOf(() => writeParquet({ table: sorted, metadata: DESCRIPTOR, rowGroupSize: 0 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      codeOf(() => writeParquet({ table: sorted, metadata: DESCRIPTOR, compression: 'lzo' as never })),
    ).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => writeParquet({ table: sorted, metadata: { ...DESCRIPTOR, lod: 16 } }))).toBe(
      'INVALID_LOD',
    );
  });
});
