/**
 * `octa sql` end to end on a tiny demo lake: each output format, 64-bit integers as JSON strings,
 * parquet read back by DuckDB, --emit-macros piped into a fresh DuckDB, and the exit codes.
 * The CLI's `main` runs in this process (test/cli/args-cli spawns the built program for its exit
 * codes and for a query piped on stdin).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { index64ToLattice, latticeToIndex64, toI64 } from '../../src/lattice/index.js';
import { octaInProcess as octa } from '../cli/run.js';
import { rows, withDuckDB } from './bcc-sql.js';

let dir = '';
let lake = '';
const QUERY =
  'SELECT cell, bcc_lod(cell) AS lod, bcc_decode(cell) AS d, bcc_to_string(cell) AS s FROM survey ORDER BY cell LIMIT 5';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'octa-sql-'));
  lake = join(dir, 'lake');
  const r = await octa(['demo', '--lake', lake, '--points', '2000', '--quiet']);
  if (r.status !== 0) throw new Error(`octa demo failed: ${r.stderr}`);
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('octa sql', () => {
  it('--format json: an array of objects, 64-bit integers as strings, ids that decode as the core does', async () => {
    const r = await octa(['sql', QUERY, '--lake', lake, '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { cell: string; lod: number; d: Record<string, number>; s: string }[];
    expect(out).toHaveLength(5);
    for (const row of out) {
      expect(typeof row.cell).toBe('string');
      expect(BigInt(row.cell) < 0n).toBe(true);
      const f = index64ToLattice(BigInt(row.cell));
      expect(row.d).toEqual(f);
      expect(row.lod).toBe(f.lod);
      expect(toI64(latticeToIndex64(f.x, f.y, f.z, f)).toString()).toBe(row.cell);
    }
  });

  it('--format table: aligned columns with a header rule', async () => {
    const r = await octa([
      'sql',
      'SELECT count(*) AS n, min(bcc_lod(cell)) AS lod FROM survey',
      '--lake',
      lake,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^n\s+lod$/);
    expect(lines[1]).toMatch(/^-+\s+-+$/);
    expect(Number(lines[2]!.split(/\s+/)[0])).toBeGreaterThan(1000);
    expect(lines[2]!.indexOf(lines[2]!.split(/\s+/)[1]!)).toBe(lines[0]!.indexOf('lod'));
  });

  it('--format csv: header, one line per row, nested values as quoted JSON, same ids as json', async () => {
    const csv = await octa(['sql', QUERY, '--lake', lake, '--format', 'csv']);
    const json = JSON.parse((await octa(['sql', QUERY, '--lake', lake, '--format', 'json'])).stdout) as {
      cell: string;
    }[];
    expect(csv.status, csv.stderr).toBe(0);
    const lines = csv.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('cell,lod,d,s');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(json.map((j) => j.cell));
    expect(lines[1]).toMatch(/^-\d+,\d+,"\{""frame"":\d+,/);
  });

  it('--format parquet --out FILE writes what DuckDB reads back', async () => {
    const out = join(dir, 'cells.parquet');
    const r = await octa([
      'sql',
      'SELECT cell, bcc_neighbors(cell) AS n FROM survey;',
      '--lake',
      lake,
      '--format',
      'parquet',
      '--out',
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const back = await withDuckDB((c) =>
      rows(
        c,
        `SELECT count(*) AS rows, min(len(n)) AS nmin, typeof(any_value(cell)) AS t FROM read_parquet('${out}')`,
      ),
    );
    expect(back[0]).toMatchObject({ nmin: '14', t: 'BIGINT' });
    expect(Number(back[0]!.rows)).toBeGreaterThan(1000);
  });

  it('--out FILE for json writes the file, not stdout', async () => {
    const out = join(dir, 'rows.json');
    const r = await octa(['sql', QUERY, '--lake', lake, '--format', 'json', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toHaveLength(5);
  });

  it('reads the query from stdin, and runs without a lake (functions only)', async () => {
    const r = await octa(['sql', '--format', 'json'], {
      input: 'SELECT bcc_encode(1, 1, 1, 5) AS c',
      cwd: dir,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ c: toI64(latticeToIndex64(1, 1, 1, { lod: 5 })).toString() }]);
  });

  it('--emit-macros piped into a fresh DuckDB gives the results octa sql gives', async () => {
    const r = await octa(['sql', '--emit-macros']);
    expect(r.status, r.stderr).toBe(0);
    const q =
      'WITH m AS MATERIALIZED (SELECT bcc_encode(100, 200, 300, 9, 4, 2) AS a, bcc_encode(100, 200, 300, 9) AS b) ' +
      'SELECT bcc_kring(a, 2) AS k, bcc_to_string(b) AS s FROM m';
    // The ids are fenced off (MATERIALIZED) before the macros read them: composed inline,
    // bcc_to_string(bcc_encode(…)) takes seconds to prepare (docs/SQL.md). Both bind at once.
    const [cli, viaFile] = await Promise.all([
      octa(['sql', q, '--format', 'json'], { cwd: dir }),
      withDuckDB(
        (c) => rows(c, q),
        (c) => c.run(r.stdout),
      ),
    ]);
    const viaCli = JSON.parse(cli.stdout);
    expect(viaFile).toEqual(viaCli);
    expect((viaFile[0]!.k as string[]).length).toBe(65);
  });

  it("exit 1 with DuckDB's message on one line for a failing query", async () => {
    const bad = await octa(['sql', 'SELECT * FROM no_such_table', '--lake', lake]);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('no_such_table');
    const bcc = await octa(['sql', 'SELECT bcc_decode(42)', '--lake', lake]);
    expect(bcc.status).toBe(1);
    expect(bcc.stderr).toContain('bcc_decode: not an Index64 id');
    expect(bcc.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('exit 2 for bad arguments', async () => {
    const cases = [
      ['sql', 'SELECT 1', '--format', 'xml'],
      ['sql', 'SELECT 1', '--format', 'parquet'],
      ['sql', 'SELECT 1', '--lake', join(dir, 'missing')],
      ['sql', 'SELECT 1', '--emit-macros'],
    ];
    for (const args of cases) {
      const r = await octa(args, { cwd: dir });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^octa: /);
      expect(r.stdout).toBe('');
    }
  });
});
