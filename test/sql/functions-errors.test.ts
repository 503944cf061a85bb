/**
 * The bcc_* SQL macros at their edges: NULL in → NULL out for every argument, errors that name the
 * function and the bad value, bcc_from_string against parseId on mutated text, the emitted .sql file
 * loaded into a fresh DuckDB, and the plan shape that keeps composed calls single-evaluation.
 */
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  index64ToBech32m,
  latticeToHilbert64,
  latticeToIndex64,
  parseId,
  toI64,
} from '../../src/lattice/index.js';
import { BCC_FUNCTIONS, emitMacros, registerBccFunctions } from '../../src/sql/functions.js';
import { prng, randInt } from '../prng.js';
import { casesTable, errorOf, randomCases, rows, withDuckDB } from './bcc-sql.js';

const CELL = toI64(latticeToIndex64(10, 20, 30, { lod: 5, frame: 3, tier: 1 })).toString();
const ODD_CELL = toI64(latticeToIndex64(10, 21, 30, { lod: 5 })).toString();
const HILBERT = toI64(latticeToHilbert64(10, 20, 30, { lod: 5 })).toString();

describe('NULL in, NULL out', () => {
  // Every public call form with each argument NULL in turn (untyped and typed NULLs).
  const calls: [string, string[]][] = [
    ['bcc_encode', ['1', '2', '3', '5']],
    ['bcc_encode', ['1', '2', '3', '5', '7', '1']],
    ['bcc_decode', [CELL]],
    ['bcc_lod', [CELL]],
    ['bcc_is_valid', [CELL]],
    ['bcc_tile_parent', [CELL]],
    ['bcc_tile_parent', [CELL, '3']],
    ['bcc_tile_children', [CELL]],
    ['bcc_lattice_parent', [CELL]],
    ['bcc_lattice_children', [CELL]],
    ['bcc_neighbors', [CELL]],
    ['bcc_kring', [CELL, '0']],
    ['bcc_kring', [CELL, '1']],
    ['bcc_kring', [CELL, '2']],
    ['bcc_distance', [CELL, CELL]],
    ['bcc_to_string', [CELL]],
    ['bcc_from_string', [`'${CELL}'`]],
    ['bcc_from_frame_metres', ['1.5', '2.5', '3.5', '0', '0', '0', '100', '5', '2', '1']],
    ['bcc_cell_centre', [CELL, '0', '0', '0', '100']],
  ];
  it('every function, every argument', async () => {
    const exprs: string[] = [];
    for (const [fn, args] of calls) {
      args.forEach((_, i) => {
        for (const nul of ['NULL', 'NULL::BIGINT']) {
          if (nul !== 'NULL' && fn === 'bcc_from_string') continue;
          exprs.push(`${fn}(${args.map((a, j) => (j === i ? nul : a)).join(', ')})`);
        }
      });
    }
    const got = await withDuckDB((c) =>
      rows(c, `SELECT ${exprs.map((e, i) => `${e} AS "${i}"`).join(', ')}`),
    );
    expect(Object.values(got[0]!)).toEqual(exprs.map(() => null));
    // …and each call without NULLs is not NULL, so the check above can fail.
    const plain = await withDuckDB((c) =>
      rows(c, `SELECT ${calls.map(([fn, args], i) => `${fn}(${args.join(', ')}) AS "${i}"`).join(', ')}`),
    );
    expect(Object.values(plain[0]!).filter((v) => v === null)).toEqual([]);
  });

  it('bcc_ranges: a NULL shape, region or LOD gives no rows; NULL max_ranges means exact', async () => {
    await withDuckDB(async (c) => {
      for (const args of ['NULL, [0,0,0,3,3,3], 5', "'box', NULL, 5", "'box', [0,0,0,3,3,3], NULL"]) {
        expect(await rows(c, `SELECT * FROM bcc_ranges(${args})`)).toEqual([]);
      }
      const exact = await rows(c, "SELECT * FROM bcc_ranges('box', [0,0,0,3,3,2], 5)");
      expect(await rows(c, "SELECT * FROM bcc_ranges('box', [0,0,0,3,3,2], 5, NULL)")).toEqual(exact);
      expect(exact.length).toBeGreaterThan(0);
    });
  });
});

describe('errors name the function and the value', () => {
  const cases: [string, string[]][] = [
    ['SELECT bcc_decode(5)', ['bcc_decode: not an Index64 id', ': 5']],
    [`SELECT bcc_decode(${HILBERT})`, ['bcc_decode: not an Index64 id', HILBERT]],
    [`SELECT bcc_neighbors(${HILBERT})`, ['bcc_neighbors: not an Index64 id', HILBERT]],
    [`SELECT bcc_kring(7, 1)`, ['bcc_kring: not an Index64 id', ': 7']],
    [`SELECT bcc_to_string(-1)`, ['bcc_to_string: not an Index64 id', '-1']],
    [`SELECT bcc_lod(${HILBERT})`, ['bcc_lod: not an Index64 id']],
    ['SELECT bcc_encode(1, 2, 3, 16)', ['bcc_encode: LOD must be an integer in 0..15, not 16']],
    ['SELECT bcc_encode(1, 2, 3, -1)', ['bcc_encode: LOD must be an integer in 0..15, not -1']],
    ['SELECT bcc_encode(1, 2, 3, 2.5)', ['bcc_encode: LOD must be an integer in 0..15, not 2.5']],
    ['SELECT bcc_encode(1, 2, 3, 5, 256)', ['bcc_encode: frame must be an integer in 0..255, not 256']],
    ['SELECT bcc_encode(1, 2, 3, 5, 0, 4)', ['bcc_encode: tier must be an integer in 0..3, not 4']],
    ['SELECT bcc_encode(65536, 2, 3, 5)', ['bcc_encode: x must be an integer in 0..65535, not 65536']],
    ['SELECT bcc_encode(1, -2, 3, 5)', ['bcc_encode: y must be an integer in 0..65535, not -2']],
    ['SELECT bcc_encode(1, 2, 3.5, 5)', ['bcc_encode: z must be an integer in 0..65535, not 3.5']],
    [`SELECT bcc_tile_parent(${CELL}, 7)`, ["bcc_tile_parent: LOD 7 is finer than the id's LOD 5", CELL]],
    [`SELECT bcc_tile_parent(${CELL}, 16)`, ['bcc_tile_parent: LOD must be an integer in 0..15, not 16']],
    [`SELECT bcc_lattice_parent(${ODD_CELL})`, ['bcc_lattice_parent: not a BCC lattice point', ODD_CELL]],
    [`SELECT bcc_lattice_children(${ODD_CELL})`, ['bcc_lattice_children: not a BCC lattice point', ODD_CELL]],
    [`SELECT bcc_kring(${CELL}, 65)`, ['bcc_kring: k must be an integer in 0..64, not 65']],
    [`SELECT bcc_kring(${CELL}, -1)`, ['bcc_kring: k must be an integer in 0..64, not -1']],
    [
      `SELECT bcc_distance(${CELL}, bcc_encode(10, 20, 30, 6, 3, 1))`,
      ['bcc_distance: ids differ in frame, tier or LOD'],
    ],
    [
      `SELECT bcc_distance(${CELL}, bcc_encode(10, 21, 30, 5, 3, 1))`,
      ['bcc_distance: not a BCC lattice point'],
    ],
    [
      'SELECT bcc_from_frame_metres(100, 1, 1, 0, 0, 0, 100, 5)',
      ['bcc_from_frame_metres: point (100, 1, 1) is outside the frame domain'],
    ],
    [
      "SELECT bcc_from_frame_metres('nan'::DOUBLE, 1, 1, 0, 0, 0, 100, 5)",
      ['bcc_from_frame_metres: point (nan, 1, 1)'],
    ],
    [
      'SELECT bcc_from_frame_metres(1, 1, 1, 0, 0, 0, 0, 5)',
      ['bcc_from_frame_metres: frame edge must be a finite number > 0, not 0'],
    ],
    [
      'SELECT bcc_from_frame_metres(1, 1, 1, 0, 0, 0, 100, 16)',
      ['bcc_from_frame_metres: LOD must be an integer in 0..15, not 16'],
    ],
    [
      'SELECT bcc_cell_centre(bcc_encode(64, 0, 0, 4), 0, 0, 0, 100)',
      ['bcc_cell_centre: id coordinates (64, 0, 0) exceed 0..31 at LOD 4'],
    ],
    ["SELECT * FROM bcc_ranges('boxx', [0, 0, 0, 1, 1, 1], 5)", ['bcc_ranges: unknown shape "boxx"']],
    ["SELECT * FROM bcc_ranges('box', [0, 0, 0, 1, 1], 5)", ['bcc_ranges: box must be 6 integers']],
    ["SELECT * FROM bcc_ranges('box', [0, 0, 0, 1, 1, 1.5], 5)", ['bcc_ranges: box must be 6 integers']],
    ["SELECT * FROM bcc_ranges('box', [5, 0, 0, 1, 1, 1], 5)", ['bcc_ranges: box is reversed']],
    ["SELECT * FROM bcc_ranges('sphere', [0, 0, 0], 5)", ['bcc_ranges: sphere takes [cx, cy, cz, radius]']],
    [
      "SELECT * FROM bcc_ranges('sphere', [0, 0, 0, -1], 5)",
      ['bcc_ranges: sphere radius must be a finite number >= 0, not -1'],
    ],
    [
      "SELECT * FROM bcc_ranges('box', [0, 0, 0, 1, 1, 1], 16)",
      ['bcc_ranges: LOD must be an integer in 0..15, not 16'],
    ],
    [
      "SELECT * FROM bcc_ranges('box', [0, 0, 0, 1, 1, 1], 5, 0)",
      ['bcc_ranges: max_ranges must be an integer'],
    ],
    [
      "SELECT * FROM bcc_ranges('box', [0, 0, 0, 1, 1, 1], 5, NULL, 300)",
      ['bcc_ranges: frame must be an integer in 0..255, not 300'],
    ],
    ["SELECT bcc_from_string('hello')", ['bcc_from_string: not an identifier', '"hello"']],
    [
      "SELECT bcc_from_string('i3d11sqzkmdkmdkmds8563un')",
      ['bcc_from_string: invalid Bech32m string: checksum does not verify'],
    ],
    ["SELECT bcc_from_string('I3D11SQZKMDKMDKMDS8563UM')", ['bcc_from_string: not Index64 text', '"I3D1"']],
    [
      "SELECT bcc_from_string('i3d11sqzkmdkmdkmdS8563um')",
      ['bcc_from_string: invalid Bech32m string: mixed upper and lower case'],
    ],
    [
      "SELECT bcc_from_string('i3d11sqzkmdkmdbmds8563um')",
      ['bcc_from_string: invalid Bech32m string: character "b" is not in the Bech32 alphabet'],
    ],
    [
      "SELECT bcc_from_string('-9223372036854775809')",
      ['bcc_from_string: negative id below the INT64 range'],
    ],
    [
      "SELECT bcc_from_string('42')",
      ['bcc_from_string: not an Index64 id (its header bits must be 10)', '"42"'],
    ],
  ];
  // One DuckDB with the functions registered serves every case (a failed statement leaves the
  // connection usable): a fresh one per case cost more than the query.
  let instance: DuckDBInstance;
  let conn: DuckDBConnection;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    conn = await instance.connect();
    await registerBccFunctions(conn);
  });
  afterAll(() => {
    conn.closeSync();
    instance.closeSync();
  });

  it.each(cases)('%s', async (sql, parts) => {
    const message = await errorOf(conn, sql);
    for (const p of parts) expect(message).toContain(p);
  });

  it("a bad row in a column fails the query and names that row's value", async () => {
    const message = await withDuckDB((c) =>
      errorOf(c, `SELECT bcc_lod(v) FROM (VALUES (${CELL}), (12345), (${CELL})) t(v)`),
    );
    expect(message).toContain('bcc_lod: not an Index64 id');
    expect(message).toContain('12345');
  });
});

/** Mutations of valid id text that parseId may or may not accept. */
function mutate(rand: () => number, text: string): string {
  const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l1bIO QPZ-x0';
  const at = randInt(rand, 0, text.length - 1);
  const pick = () => alphabet[randInt(rand, 0, alphabet.length - 1)]!;
  switch (randInt(rand, 0, 9)) {
    case 0:
      return text.slice(0, at) + pick() + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + text.slice(at + 1);
    case 2:
      return text.slice(0, at) + pick() + text.slice(at);
    case 3:
      return text.toUpperCase();
    case 4:
      return `${[' ', '\t', '\n', '\u00a0', '\u3000'][randInt(rand, 0, 4)]}${text}${[' ', '\r\n', '\ufeff'][randInt(rand, 0, 2)]}`;
    case 5:
      return text.slice(0, at) + text[at]!.toUpperCase() + text.slice(at + 1);
    case 6:
      return `r3d1${text.slice(4)}`;
    case 7:
      return `${text}${pick()}`;
    default:
      return text;
  }
}

describe('bcc_from_string against parseId', () => {
  it('accepts exactly what parseId reads as an Index64, with the same value', async () => {
    const rand = prng(909);
    const cases = randomCases(rand, 700, false);
    const texts: string[] = [];
    for (const k of cases) {
      const u = BigInt.asUintN(64, k.cell);
      const forms = [
        index64ToBech32m(k.cell),
        k.cell.toString(),
        u.toString(),
        `0x${u.toString(16)}`,
        `0X${u.toString(16).toUpperCase()}`,
        `0x000${u.toString(16)}`,
        `00${u.toString()}`,
      ];
      const f = forms[randInt(rand, 0, forms.length - 1)]!;
      texts.push(f, mutate(rand, f));
    }
    texts.push(
      '0x0',
      '0',
      '-0',
      '18446744073709551615',
      '18446744073709551616',
      '0x1ffffffffffffffff',
      '',
      ' ',
      'i3d11',
    );
    const expected = texts.map((t) => {
      try {
        const p = parseId(t);
        return p.kind === 'index64' ? toI64(p.value).toString() : 'error';
      } catch {
        return 'error';
      }
    });
    const got = await withDuckDB(async (c) => {
      await c.run('CREATE TABLE s (i INTEGER, t VARCHAR)');
      const appender = await c.createAppender('s');
      texts.forEach((t, i) => {
        appender.appendInteger(i);
        appender.appendVarchar(t);
        appender.endRow();
      });
      appender.closeSync();
      // try() turns an error into NULL row by row; a valid id is never NULL.
      const r = await rows(c, 'SELECT try(bcc_from_string(t)) AS v FROM s ORDER BY i');
      return r.map((row) => (row.v === null ? 'error' : String(row.v)));
    });
    expect(got).toEqual(expected);
    expect(expected.filter((e) => e === 'error').length).toBeGreaterThan(200);
    expect(expected.filter((e) => e !== 'error').length).toBeGreaterThan(500);
  });
});

describe('the emitted .sql file', () => {
  it('loads in a fresh DuckDB and gives the same results as the registered functions', async () => {
    const text = emitMacros();
    for (const f of BCC_FUNCTIONS) expect(text).toContain(`CREATE OR REPLACE MACRO ${f.name}(`);
    const cases = randomCases(prng(111), 300, true);
    // bcc_to_string's text is fenced off (MATERIALIZED) before bcc_from_string reads it back:
    // composed inline, preparing the query takes seconds in each database (docs/SQL.md).
    const query = `WITH m AS MATERIALIZED (SELECT *, bcc_to_string(cell) AS s0 FROM t)
      SELECT bcc_encode(x, y, z, lod, frame, tier) AS e, bcc_decode(cell) AS d, bcc_neighbors(cell) AS n,
        bcc_kring(cell, 2) AS k, bcc_tile_parent(cell) AS tp, bcc_tile_children(cell) AS tc,
        bcc_lattice_parent(cell) AS lp, bcc_lattice_children(cell) AS lc, bcc_to_string(cell) AS s,
        bcc_from_string(s0) AS fs, bcc_cell_centre(bcc_encode(x % 2, y % 2, z % 2, lod), 1, 2, 3, 64) AS cc,
        bcc_from_frame_metres(x / 1024.0, y / 1024.0, z / 1024.0, 0, 0, 0, 64, lod) AS fm,
        (SELECT list(r ORDER BY r.lo) FROM bcc_ranges('sphere', [x % 64, y % 64, z % 64, 3], 5, 4) r) AS rg
      FROM m ORDER BY i`;
    // The two databases bind the query at once.
    const [registered, emitted] = await Promise.all([
      withDuckDB(async (c) => {
        await c.run(casesTable('t', cases));
        return rows(c, query);
      }),
      withDuckDB(
        async (c) => {
          await c.run(casesTable('t', cases));
          return rows(c, query);
        },
        (c) => c.run(text),
      ),
    ]);
    expect(emitted).toEqual(registered);
    expect(registered).toHaveLength(300);
  });
});

describe('plan shape', () => {
  it('a composed argument is evaluated once: the inner check appears once in the plan', async () => {
    // error() is VOLATILE and DuckDB never shares a volatile expression; the macros raise through a
    // failing cast instead. Were that undone, each of bcc_neighbors' ~60 references to its argument
    // would carry its own copy of bcc_encode's checks.
    const plan = await withDuckDB(async (c) => {
      const r = await c.runAndReadAll(
        'EXPLAIN (FORMAT json) SELECT bcc_neighbors(bcc_encode(i % 1000, i % 999, i % 998, 5)) FROM range(10) t(i)',
      );
      return r
        .getRows()
        .map((row) => String(row[1]))
        .join('\n');
    });
    const copies = plan.split('bcc_encode: x must be').length - 1;
    expect(copies).toBe(1);
  });
});
