/**
 * bench/sql: throughput of the bcc_* SQL macros in DuckDB (all threads), beside the lattice core's
 * JS batch kernels on one thread and a JS scalar UDF doing the same work through the node-api:
 * the two alternatives to pure SQL.
 *
 * Run: npm run build && node dist/bench/sql.js [rows, default 10M]
 */
import {
  type DuckDBConnection,
  DuckDBInstance,
  DuckDBScalarFunction,
  LIST,
  listValue,
  BIGINT as T_BIGINT,
  VARCHAR as T_VARCHAR,
} from '@duckdb/node-api';
import {
  boxToRanges,
  index64ToBech32m,
  index64ToNeighborsBatch,
  sphereToRanges,
} from '../src/lattice/index.js';
import { registerBccFunctions } from '../src/sql/functions.js';
import { measure, measureAsync, printTable, type Timing } from './harness.js';

const N = Number(process.argv[2] ?? 10_000_000);
const SMALL = Math.min(N, 1_000_000);
// BCC points spread over the 16-bit axes (faces included), parity from the row number.
const XYZ = `2 * ((i * 7919) % 32768) + (i & 1), 2 * ((i * 104729) % 32768) + (i & 1), 2 * ((i * 1299709) % 32768) + (i & 1)`;

/** Registers JS scalar UDFs doing per row what two macros do, to compare with pure SQL. */
function registerJsUdfs(conn: DuckDBConnection): void {
  conn.registerScalarFunction(
    DuckDBScalarFunction.create({
      name: 'js_to_string',
      returnType: T_VARCHAR,
      parameterTypes: [T_BIGINT],
      mainFunction: (_info, input, output) => {
        const v = input.getColumnVector(0);
        for (let i = 0; i < input.rowCount; i++) output.setItem(i, index64ToBech32m(v.getItem(i) as bigint));
        output.flush();
      },
    }),
  );
  conn.registerScalarFunction(
    DuckDBScalarFunction.create({
      name: 'js_neighbors',
      returnType: LIST(T_BIGINT),
      parameterTypes: [T_BIGINT],
      mainFunction: (_info, input, output) => {
        const v = input.getColumnVector(0);
        const ids = new BigInt64Array(input.rowCount);
        for (let i = 0; i < input.rowCount; i++) ids[i] = v.getItem(i) as bigint;
        const out = index64ToNeighborsBatch(ids, { out: new BigInt64Array(14 * ids.length) });
        for (let i = 0; i < ids.length; i++) {
          output.setItem(i, listValue([...out.subarray(14 * i, 14 * i + 14)].filter((x) => x !== 0n)));
        }
        output.flush();
      },
    }),
  );
}

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
try {
  await registerBccFunctions(conn);
  registerJsUdfs(conn);
  const threads = (await conn.runAndReadAll("SELECT current_setting('threads') AS t")).getRowObjectsJson()[0]!
    .t;
  await conn.run(`CREATE TABLE ids AS SELECT i, bcc_encode(${XYZ}, 12) AS cell FROM range(${N}) t(i)`);
  await conn.run(`CREATE TABLE txt AS SELECT bcc_to_string(cell) AS s FROM ids WHERE i < ${SMALL}`);
  const q = (label: string, rows: number, sql: string) =>
    measureAsync(label, rows, () => conn.runAndReadAll(sql), { runs: 3, warmup: 1 });
  const results: Timing[] = [
    await q('bcc_neighbors(cell), column', N, 'SELECT sum(len(bcc_neighbors(cell))) FROM ids'),
    await q('bcc_kring(cell, 1), column', N, 'SELECT sum(len(bcc_kring(cell, 1))) FROM ids'),
    // range() is one DuckDB thread, so these rows run single-threaded.
    await q(
      'bcc_neighbors(id from i) FROM range()',
      N,
      `SELECT sum(len(bcc_neighbors(-9221964661971222528 + i * 8))) FROM range(${N}) t(i)`,
    ),
    await q(
      'bcc_kring(id from i, 1) FROM range()',
      N,
      `SELECT sum(len(bcc_kring(-9221964661971222528 + i * 8, 1))) FROM range(${N}) t(i)`,
    ),
    await q(
      'bcc_neighbors(bcc_encode(…)) from range()',
      N,
      `SELECT sum(len(bcc_neighbors(bcc_encode(${XYZ}, 12)))) FROM range(${N}) t(i)`,
    ),
    await q(
      'the same through a CTE column',
      N,
      `WITH c AS (SELECT bcc_encode(${XYZ}, 12) AS cell FROM range(${N}) t(i)) SELECT sum(len(bcc_neighbors(cell))) FROM c`,
    ),
    await q(
      'planning bcc_neighbors(bcc_encode(…)) (EXPLAIN)',
      1,
      `EXPLAIN SELECT bcc_neighbors(bcc_encode(${XYZ}, 12)) FROM range(${N}) t(i)`,
    ),
    await q(
      'bcc_encode(x, y, z, lod) from range()',
      N,
      `SELECT sum(bcc_encode(${XYZ}, 12) & 1023) FROM range(${N}) t(i)`,
    ),
    await q(
      'bcc_decode(cell)',
      N,
      'SELECT sum(d.x + d.y + d.z + d.lod) FROM (SELECT bcc_decode(cell) AS d FROM ids)',
    ),
    await q('bcc_lod(cell)', N, 'SELECT sum(bcc_lod(cell)) FROM ids'),
    await q('bcc_tile_parent(cell)', N, 'SELECT sum(bcc_tile_parent(cell) & 1023) FROM ids'),
    await q('bcc_lattice_parent(cell)', N, 'SELECT count(bcc_lattice_parent(cell)) FROM ids'),
    await q('bcc_lattice_children(cell)', N, 'SELECT sum(len(bcc_lattice_children(cell))) FROM ids'),
    await q(
      'bcc_from_frame_meters(x, y, z, …)',
      N,
      `SELECT sum(bcc_from_frame_meters((i % 99991) * 0.01::DOUBLE, (i % 99989) * 0.01::DOUBLE, (i % 99971) * 0.01::DOUBLE, 0, 0, 0, 1024, 12) & 1023) FROM range(${N}) t(i)`,
    ),
    await q(
      'bcc_distance(cell, neighbour)',
      N,
      'SELECT sum(bcc_distance(cell, bcc_neighbors(cell)[1])) FROM ids',
    ),
    await q('bcc_kring(cell, 2)', SMALL, `SELECT sum(len(bcc_kring(cell, 2))) FROM ids WHERE i < ${SMALL}`),
    await q('bcc_to_string(cell)', SMALL, `SELECT count(bcc_to_string(cell)) FROM ids WHERE i < ${SMALL}`),
    await q('bcc_from_string(text)', SMALL, 'SELECT sum(bcc_from_string(s) & 1023) FROM txt'),
    await q('bcc_lod(text), a VARCHAR id', SMALL, 'SELECT sum(bcc_lod(s)) FROM txt'),
    await q('bcc_neighbors(text), a VARCHAR id', SMALL, 'SELECT sum(len(bcc_neighbors(s))) FROM txt'),
    await q(
      'JS UDF js_to_string(cell) (node-api)',
      SMALL,
      `SELECT count(js_to_string(cell)) FROM ids WHERE i < ${SMALL}`,
    ),
    await q(
      'JS UDF js_neighbors(cell) (node-api)',
      SMALL,
      `SELECT sum(len(js_neighbors(cell))) FROM ids WHERE i < ${SMALL}`,
    ),
    await q(
      "bcc_ranges('box', 64³, lod 12), exact",
      1,
      "SELECT count(*) FROM bcc_ranges('box', [1000, 2000, 3000, 1063, 2063, 3063], 12)",
    ),
    await q(
      "bcc_ranges('sphere', r = 40, lod 12, max 64)",
      1,
      "SELECT count(*) FROM bcc_ranges('sphere', [1000.5, 2000, 3000, 40], 12, 64)",
    ),
  ];
  const cells = BigInt64Array.from(
    (
      await conn.runAndReadAll(`SELECT cell FROM ids WHERE i < ${SMALL} ORDER BY i`)
    ).getColumns()[0] as bigint[],
  );
  const out = new BigInt64Array(14 * cells.length);
  results.push(
    measure('core index64ToNeighborsBatch (JS, 1 thread)', cells.length, () =>
      index64ToNeighborsBatch(cells, { out }),
    ),
  );
  results.push(
    measure('core boxToRanges 64³, lod 12', 1, () =>
      boxToRanges({ lod: 12, box: [1000, 2000, 3000, 1063, 2063, 3063] }),
    ),
  );
  results.push(
    measure('core sphereToRanges r = 40, max 64', 1, () =>
      sphereToRanges({ lod: 12, center: [1000.5, 2000, 3000], radius: 40, maxRanges: 64 }),
    ),
  );
  console.log(`bcc_* SQL macros, DuckDB threads = ${threads}, ${N.toLocaleString('en')} rows\n`);
  printTable(
    ['what', 'rows', 'ms', 'M rows/s'],
    results.map((t) => [
      t.label,
      t.items.toLocaleString('en'),
      t.ms.toFixed(0),
      ((t.items / t.ms) * 1e-3).toFixed(2),
    ]),
  );
} finally {
  conn.closeSync();
  instance.closeSync();
}
