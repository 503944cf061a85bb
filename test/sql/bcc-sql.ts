/** Helpers for the bcc_* SQL tests: a DuckDB connection closed in finally, row readers, id cases. */
import { type DuckDBConnection, DuckDBInstance, type Json } from '@duckdb/node-api';
import { afterAll } from 'vitest';
import { latticeToIndex64, toI64, toU64 } from '../../src/lattice/index.js';
import { registerBccFunctions } from '../../src/sql/functions.js';
import { randInt } from '../prng.js';

/** One in-memory DuckDB per test file with the bcc_* functions registered (creating them costs more than most queries). */
let registered: Promise<DuckDBInstance> | undefined;
afterAll(async () => {
  if (registered !== undefined) (await registered).closeSync();
  registered = undefined;
});

/** Every table and view a call made in the shared database, for removal after it. */
async function created(conn: DuckDBConnection): Promise<string[]> {
  const r = await conn.runAndReadAll(
    `SELECT 'DROP ' || kind || ' IF EXISTS "' || replace(schema_name, '"', '""') || '"."' || replace(name, '"', '""') || '" CASCADE' AS s
       FROM (SELECT 'TABLE' AS kind, schema_name, table_name AS name FROM duckdb_tables() WHERE NOT internal
             UNION ALL SELECT 'VIEW', schema_name, view_name FROM duckdb_views() WHERE NOT internal)`,
  );
  return r.getRowObjectsJson().map((row) => String(row.s));
}

/**
 * Runs `fn` on an in-memory DuckDB with the bcc_* functions registered, or on a fresh one set up by
 * `setup` (e.g. loading the emitted .sql text instead); closes what it opened in finally. With the
 * functions registered, the database is the test file's shared one, and the tables and views `fn`
 * created are dropped after it, so every call starts from the same state.
 */
export async function withDuckDB<T>(
  fn: (conn: DuckDBConnection) => Promise<T>,
  setup?: (conn: DuckDBConnection) => Promise<unknown>,
): Promise<T> {
  if (setup === undefined) {
    registered ??= DuckDBInstance.create(':memory:').then(async (db) => {
      const conn = await db.connect();
      try {
        await registerBccFunctions(conn);
      } finally {
        conn.closeSync();
      }
      return db;
    });
    const conn = await (await registered).connect();
    try {
      return await fn(conn);
    } finally {
      for (const drop of await created(conn)) await conn.run(drop);
      conn.closeSync();
    }
  }
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const conn = await instance.connect();
    try {
      await setup(conn);
      return await fn(conn);
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** Rows as objects, 64-bit integers as strings (the JSON form). */
export async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, Json>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJson();
}

/** The message of the error the statement raises; fails the test when it succeeds. */
export async function errorOf(conn: DuckDBConnection, sql: string): Promise<string> {
  try {
    await conn.run(sql);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`expected an error from: ${sql}`);
}

/** An Index64 case: fields and the id in its SQL (signed) form. */
export interface IdCase {
  x: number;
  y: number;
  z: number;
  lod: number;
  frame: number;
  tier: number;
  /** Signed INT64 form. */
  cell: bigint;
}

const EDGES = [0, 1, 2, 3, 32766, 32767, 32768, 65532, 65533, 65534, 65535];

/** A coordinate: an edge value one time in five, else uniform over 0..65535. */
function coord(rand: () => number): number {
  return rand() < 0.2 ? EDGES[randInt(rand, 0, EDGES.length - 1)]! : randInt(rand, 0, 65535);
}

/**
 * Random Index64 cases over all LODs, frames and tiers, edges included.
 * @param bcc - true: BCC points only; false: any 16-bit triple
 */
export function randomCases(rand: () => number, n: number, bcc: boolean): IdCase[] {
  const out: IdCase[] = [];
  for (let i = 0; i < n; i++) {
    let [x, y, z] = [coord(rand), coord(rand), coord(rand)];
    if (bcc) {
      // Move y and z to x's parity, staying inside 0..65535.
      const fix = (v: number) => (v % 2 === x % 2 ? v : v === 65535 ? 65534 : v + 1);
      y = fix(y);
      z = fix(z);
    }
    const lod = i < 16 ? i : randInt(rand, 0, 15);
    const frame = rand() < 0.3 ? 0 : randInt(rand, 0, 255);
    const tier = randInt(rand, 0, 3);
    out.push({ x, y, z, lod, frame, tier, cell: toI64(latticeToIndex64(x, y, z, { lod, frame, tier })) });
  }
  return out;
}

/** `CREATE TABLE name` holding the cases (i, x, y, z, lod, frame, tier, cell, u = unsigned text, h = hex). */
export function casesTable(name: string, cases: readonly IdCase[]): string {
  const values = cases.map(
    (c, i) =>
      `(${i}, ${c.x}, ${c.y}, ${c.z}, ${c.lod}, ${c.frame}, ${c.tier}, ${c.cell}, '${toU64(c.cell)}', '0x${toU64(c.cell).toString(16)}')`,
  );
  return `CREATE TABLE ${name} AS SELECT * FROM (VALUES ${values.join(', ')}) v(i, x, y, z, lod, frame, tier, cell, u, h) ORDER BY i`;
}

/** Ids as signed decimal strings, the JSON form DuckDB returns. */
export const idText = (ids: Iterable<bigint>): string[] => [...ids].map((v) => toI64(v).toString());
