/**
 * Throughput of writing 1 M points (cell, x, y, z, t, value) to zstd Parquet: our writer
 * (PointBuffer → Arrow → parquet-wasm) against DuckDB's `COPY … TO (FORMAT parquet)`, from the same
 * typed arrays, in the same process. A measurement, not a test: it asserts nothing and stays out of
 * the suite (the name does not end in `.test.ts`). Row groups are 64 Ki rows in both.
 *
 * Run: npm run bench:writers [-- rows]
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BIGINT,
  DOUBLE,
  type DuckDBBigIntVector,
  type DuckDBConnection,
  DuckDBDataChunk,
  type DuckDBDoubleVector,
  DuckDBInstance,
} from '@duckdb/node-api';
import {
  createPointSchema,
  PointBuffer,
  pointBufferToArrow,
  readParquetMetadata,
  writeParquet,
} from '../src/export/index.js';
import { seeded as makeRandom } from './harness.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const REPEAT = 5;
const ROW_GROUP = 65_536;
const LOD = 9;

interface Columns {
  cell: BigInt64Array;
  x: Float64Array;
  y: Float64Array;
  z: Float64Array;
  time: BigInt64Array;
  value: Float64Array;
}

/** Sorted Index64-shaped ids (header 10, frame 0, LOD 9) with random gaps, random coordinates. */
function makeColumns(n: number): Columns {
  const random = makeRandom(7);
  const base = BigInt.asIntN(64, (0b10n << 62n) | (BigInt(LOD) << 48n));
  const cell = new BigInt64Array(n);
  let at = base;
  for (let i = 0; i < n; i++) {
    at += BigInt(Math.floor(random() * 64));
    cell[i] = at;
  }
  const fill = (scale: number) => Float64Array.from({ length: n }, () => random() * scale);
  const t = BigInt64Array.from(
    { length: n },
    () => 1_700_000_000_000_000n + BigInt(Math.floor(random() * 86_400e6)),
  );
  return { cell, x: fill(1000), y: fill(1000), z: fill(100), time: t, value: fill(1) };
}

function time<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const result = fn();
  return [result, performance.now() - start];
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await fn();
  return [result, performance.now() - start];
}

function best(samples: number[]): number {
  return Math.min(...samples);
}

/** sortByCell on the same ids in random order (the buffer's usual state before a flush). */
function shuffledSort(columns: Columns): number {
  const random = makeRandom(9);
  const cell = columns.cell.slice();
  for (let i = cell.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [cell[i], cell[j]] = [cell[j]!, cell[i]!];
  }
  const buffer = PointBuffer.create({ schema: createPointSchema(), capacity: ROWS });
  buffer.append({ cell, x: columns.x, y: columns.y, z: columns.z, time: columns.time });
  const samples: number[] = [];
  for (let r = 0; r < REPEAT; r++) samples.push(time(() => buffer.sortByCell())[1]);
  return best(samples);
}

function ours(columns: Columns, dir: string): { buildMs: number; writeMs: number; bytes: number } {
  const schema = createPointSchema({ payload: [{ name: 'value', type: 'float64' }] });
  const builds: number[] = [];
  const writes: number[] = [];
  let bytes = 0;
  for (let r = 0; r < REPEAT; r++) {
    const [buffer, buildMs] = time(() => {
      const b = PointBuffer.create({ schema, capacity: ROWS });
      b.append({ ...columns, payload: { value: columns.value } });
      return b.take(b.sortByCell());
    });
    const [file, writeMs] = time(() => {
      const table = pointBufferToArrow(buffer);
      const out = writeParquet({
        table,
        metadata: { frame: { id: 0 }, lod: LOD, idKind: 'index64' },
        rowGroupSize: ROW_GROUP,
      });
      writeFileSync(join(dir, 'ours.parquet'), out);
      return out;
    });
    builds.push(buildMs);
    writes.push(writeMs);
    bytes = file.length;
    if (r === 0 && readParquetMetadata(file).rows !== ROWS) throw new Error('row count mismatch');
  }
  return { buildMs: best(builds), writeMs: best(writes), bytes };
}

async function loadIntoDuckDB(connection: DuckDBConnection, columns: Columns): Promise<void> {
  await connection.run(
    'CREATE OR REPLACE TABLE points (cell BIGINT, x DOUBLE, y DOUBLE, z DOUBLE, t BIGINT, value DOUBLE)',
  );
  const appender = await connection.createAppender('points');
  try {
    const size = 2048;
    for (let at = 0; at < ROWS; at += size) {
      const n = Math.min(size, ROWS - at);
      const chunk = DuckDBDataChunk.create([BIGINT, DOUBLE, DOUBLE, DOUBLE, BIGINT, DOUBLE], n);
      const set64 = (index: number, values: BigInt64Array) => {
        const vector = chunk.getColumnVector(index) as DuckDBBigIntVector;
        for (let i = 0; i < n; i++) vector.setItem(i, values[at + i]!);
        vector.flush();
      };
      const setF = (index: number, values: Float64Array) => {
        const vector = chunk.getColumnVector(index) as DuckDBDoubleVector;
        for (let i = 0; i < n; i++) vector.setItem(i, values[at + i]!);
        vector.flush();
      };
      set64(0, columns.cell);
      setF(1, columns.x);
      setF(2, columns.y);
      setF(3, columns.z);
      set64(4, columns.time);
      setF(5, columns.value);
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

async function duckdb(
  columns: Columns,
  dir: string,
): Promise<{ loadMs: number; copyMs: number; bytes: number; generatedMs: number }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const path = join(dir, 'duckdb.parquet');
    const options = `(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP})`;
    const select = 'SELECT cell, x, y, z, make_timestamp(t)::TIMESTAMPTZ AS t, value FROM points';
    const loads: number[] = [];
    const copies: number[] = [];
    const generated: number[] = [];
    for (let r = 0; r < REPEAT; r++) {
      loads.push((await timeAsync(() => loadIntoDuckDB(connection, columns)))[1]);
      copies.push((await timeAsync(() => connection.run(`COPY (${select}) TO '${path}' ${options}`)))[1]);
      // DuckDB's writer alone: rows generated inside DuckDB, nothing crosses from JS.
      const gen = `SELECT range * 37 AS cell, random() * 1000 AS x, random() * 1000 AS y, random() * 100 AS z,
        make_timestamp(1700000000000000 + range)::TIMESTAMPTZ AS t, random() AS value FROM range(${ROWS})`;
      generated.push(
        (
          await timeAsync(() => connection.run(`COPY (${gen}) TO '${join(dir, 'gen.parquet')}' ${options}`))
        )[1],
      );
    }
    return {
      loadMs: best(loads),
      copyMs: best(copies),
      bytes: statSync(path).size,
      generatedMs: best(generated),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'octa-measure-'));
try {
  const columns = makeColumns(ROWS);
  const sortMs = shuffledSort(columns);
  const a = ours(columns, dir);
  const b = await duckdb(columns, dir);
  const rate = (ms: number) => `${(((ROWS / ms) * 1000) / 1e6).toFixed(2)} M rows/s`;
  const line = (label: string, ms: number) =>
    console.log(`${label.padEnd(58)} ${ms.toFixed(0).padStart(6)} ms  ${rate(ms)}`);
  console.log(`${ROWS} rows, best of ${REPEAT}, ${availableParallelism()} cores, node ${process.version}`);
  line('ours: append + sortByCell + take (PointBuffer)', a.buildMs);
  line('ours: sortByCell of shuffled ids (argsort only)', sortMs);
  line('ours: Arrow + IPC + parquet-wasm write + file', a.writeMs);
  line('duckdb: load typed arrays via appender data chunks', b.loadMs);
  line('duckdb: COPY table TO parquet', b.copyMs);
  line('duckdb: load + COPY', b.loadMs + b.copyMs);
  line('duckdb: COPY rows generated in SQL (writer alone)', b.generatedMs);
  console.log(`file size: ours ${a.bytes} B, duckdb ${b.bytes} B`);
  console.log(`ratio write-only (duckdb COPY / ours write): ${(b.copyMs / a.writeMs).toFixed(2)}`);
  console.log(
    `ratio from typed arrays (duckdb load+COPY / ours write): ${((b.loadMs + b.copyMs) / a.writeMs).toFixed(2)}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
