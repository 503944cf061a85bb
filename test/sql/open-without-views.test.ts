/**
 * runQuery's own session opens without views (issue 16: binding them was a tenth of a cold `octa
 * query`) and checks the chosen files while DuckDB starts, and reads the same rows as a query over
 * an openLake session with every view.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError } from '../../src/lattice/errors.js';
import { openLake, openLakeWithoutViews } from '../../src/sql/open.js';
import { runQuery } from '../../src/sql/planner.js';

let dir = '';
let lake = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'octa-open-without-views-'));
  lake = join(dir, 'lake');
  await runDemo({ storage: await LocalStorage.create({ root: lake }), scene: { points: 5_000 } });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VIEWS = 'SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name';

describe('openLakeWithoutViews', () => {
  it('opens the catalog and DuckDB with no view, where openLake has the tables and the catalog', async () => {
    const bare = await openLakeWithoutViews({ lake });
    const full = await openLake({ lake });
    try {
      expect([...bare.snapshot.tables.keys()]).toEqual(['survey']);
      expect((await bare.connection.runAndReadAll(VIEWS)).getRowObjectsJson()).toEqual([]);
      expect((await full.connection.runAndReadAll(VIEWS)).getRowObjectsJson()).toEqual([
        { view_name: 'files' },
        { view_name: 'files' },
        { view_name: 'survey' },
      ]);
    } finally {
      bare.close();
      full.close();
    }
  });

  it('runs its alongside work on the catalog while DuckDB starts, and fails with what it throws', async () => {
    let seen: string[] = [];
    const session = await openLakeWithoutViews({ lake }, async (snapshot, storage) => {
      seen = [...snapshot.tables.keys(), String(storage.localPath('_octa') !== null)];
    });
    session.close();
    expect(seen).toEqual(['survey', 'true']);
    const damaged = new OctaError('CORRUPT', 'a file does not match its record', 'k');
    await expect(
      openLakeWithoutViews({ lake }, async () => {
        throw damaged;
      }),
    ).rejects.toBe(damaged);
  });

  it("runQuery's own session returns the rows a session with views returns", async () => {
    const query = { table: 'survey', box: [0, 0, -50, 400, 400, 200], from: '2025-06-03', to: '2025-06-05' };
    const own = await runQuery({ lake, ...query });
    const session = await openLake({ lake });
    try {
      const shared = await runQuery({ session, ...query });
      expect(own.rows.length).toBeGreaterThan(0);
      expect(own.rows).toEqual(shared.rows);
      expect(own.plan.sql).toBe(shared.plan.sql);
    } finally {
      session.close();
    }
  });
});
