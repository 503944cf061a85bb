/**
 * `octa sql` installs the bcc_* macros only for SQL that mentions them (issue 16: creating them is
 * most of a simple query's time), with or without a lake, and a query that names one still finds
 * every function.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { octaInProcess } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'octa-sql-functions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Counts the session's bcc macros without the text `bcc` in the SQL. */
const COUNT_HIDDEN =
  "SELECT count(*) AS n FROM duckdb_functions() WHERE starts_with(function_name, 'b' || 'cc')";
const COUNT_NAMED =
  "SELECT count(*) AS n FROM duckdb_functions() WHERE starts_with(function_name, lower('BCC_'))";

describe('octa sql installs the bcc_* macros when the SQL mentions bcc', () => {
  it('without a lake: none for SQL without bcc, all of them when it holds BCC in any case', async () => {
    const hidden = await octaInProcess(['sql', COUNT_HIDDEN, '--format', 'csv'], { cwd: dir });
    expect(hidden).toMatchObject({ status: 0, stdout: 'n\n0\n', stderr: '' });
    const named = await octaInProcess(['sql', COUNT_NAMED, '--format', 'csv'], { cwd: dir });
    expect(named.status).toBe(0);
    expect(Number(named.stdout.split('\n')[1])).toBeGreaterThan(60);
    const call = await octaInProcess(
      ['sql', 'SELECT Bcc_To_String(-9221964661971222475) AS id', '--format', 'csv'],
      {
        cwd: dir,
      },
    );
    expect(call).toMatchObject({ status: 0, stdout: 'id\ni3d11sqzsqqqqqqqr2hy4f4k\n' });
  });

  it('over a lake: the same, with the lake views either way', async () => {
    const lake = join(dir, 'lake');
    const csv = join(dir, 'pts.csv');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(csv, 'x,y,z,t\n1,2,3,2025-06-03T10:00:00Z\n');
    const ingest = [
      'ingest',
      csv,
      '--lake',
      lake,
      ...'--table pts --time t --frame cartesian:0,0,0,100 --quiet'.split(' '),
    ];
    expect((await octaInProcess(ingest)).status).toBe(0);
    const hidden = await octaInProcess([
      'sql',
      '--lake',
      lake,
      `${COUNT_HIDDEN} UNION ALL SELECT count(*) FROM pts`,
      '--format',
      'csv',
    ]);
    expect(hidden).toMatchObject({ status: 0, stdout: 'n\n0\n1\n' });
    const call = await octaInProcess([
      'sql',
      '--lake',
      lake,
      'SELECT bcc_lod(cell) AS lod FROM pts',
      '--format',
      'csv',
    ]);
    expect(call).toMatchObject({ status: 0, stdout: 'lod\n15\n' });
  });
});
