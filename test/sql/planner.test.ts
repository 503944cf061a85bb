/**
 * The spatial query planner against brute force: the same coordinate and time predicates, written
 * here by hand, over every committed file with a plain DuckDB scan. Random boxes and spheres (seeded),
 * boxes on the frame's faces and outside it, empty time windows; files selected never miss a row and
 * are only files whose catalog record can hold one; `octa query` explain output and exit codes
 * (needs the built CLI: npm test builds it first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';
import { type FileRecord, liveFiles } from '../../src/lake/catalog/catalog-state.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError } from '../../src/lattice/errors.js';
import { type LakeSession, openLake } from '../../src/sql/open.js';
import { planQuery, runQuery } from '../../src/sql/planner.js';
import { octaInProcess } from '../cli/run.js';
import { prng, randInt } from '../prng.js';

let dir = '';
let lake = '';
let session: LakeSession;
let files: FileRecord[] = [];
const DAYS = ['2025-06-02', '2025-06-03', '2025-06-04', '2025-06-05', '2025-06-06'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'octa-planner-'));
  lake = join(dir, 'lake');
  const storage = await LocalStorage.create({ root: lake });
  await runDemo({ storage, scene: { points: 30_000 } });
  session = await openLake({ lake });
  files = liveFiles(session.snapshot, 'survey');
});

afterAll(() => {
  session?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const num = (v: number) => `CAST('${v}' AS DOUBLE)`;

/** Brute force: rows matching by a full scan of every committed file, and the files holding them. */
async function bruteForce(where: string): Promise<{ rows: string[]; files: Set<string> }> {
  const paths = files.map((f) => `'${session.storage.localPath(f.key)!}'`).join(', ');
  const r = await session.connection.runAndReadAll(
    `SELECT cell, x, y, z, epoch_us(time) AS us, filename FROM read_parquet([${paths}], filename = true) WHERE ${where}`,
  );
  const rows = r.getRowObjectsJS();
  return {
    rows: rows.map((o) => `${o.cell}|${o.x}|${o.y}|${o.z}|${o.us}`).sort(),
    files: new Set(rows.map((o) => String(o.filename))),
  };
}

function timeWhere(from?: string, to?: string): string {
  const parts = ['true'];
  if (from !== undefined) parts.push(`time >= CAST('${from}' AS TIMESTAMPTZ)`);
  if (to !== undefined) parts.push(`time < CAST('${to}' AS TIMESTAMPTZ)`);
  return parts.join(' AND ');
}

/** A random time window: none, one day, a few hours, or empty (to <= from). */
function randomWindow(rand: () => number): { from?: string; to?: string } {
  const k = randInt(rand, 0, 5);
  const day = DAYS[randInt(rand, 0, DAYS.length - 1)]!;
  if (k === 0) return {};
  if (k === 1) return { from: day, to: DAYS[DAYS.indexOf(day) + 1] ?? '2025-06-07' };
  if (k === 2) return { from: `${day}T${String(randInt(rand, 8, 12)).padStart(2, '0')}:00:00Z` };
  if (k === 3) return { to: `${day}T${String(randInt(rand, 8, 12)).padStart(2, '0')}:30:00Z` };
  if (k === 4) {
    const h = randInt(rand, 8, 14);
    return {
      from: `${day}T${String(h).padStart(2, '0')}:00:00Z`,
      to: `${day}T${String(h + 2).padStart(2, '0')}:00:00Z`,
    };
  }
  return { from: `${day}T10:00:00Z`, to: `${day}T${rand() < 0.5 ? '10' : '09'}:00:00Z` };
}

/** The catalog records that can hold a point of the query's bounding box and window. */
function catalogCandidates(bound: number[], from?: string, to?: string): Set<string> {
  const fromMs = from === undefined ? -Infinity : Date.parse(from.length === 10 ? `${from}T00:00:00Z` : from);
  const toMs = to === undefined ? Infinity : Date.parse(to.length === 10 ? `${to}T00:00:00Z` : to);
  return new Set(
    files
      .filter(
        (f) =>
          Date.parse(f.timeMax) >= fromMs &&
          Date.parse(f.timeMin) < toMs &&
          [0, 1, 2].every((a) => f.bbox[a]! <= bound[a + 3]! && f.bbox[a + 3]! >= bound[a]!),
      )
      .map((f) => f.key),
  );
}

async function check(
  query: {
    box?: number[];
    sphere?: number[];
    from?: string;
    to?: string;
    maxRanges?: number;
    shape?: 'span' | 'or' | 'union';
  },
  where: string,
  bound: number[],
): Promise<number> {
  const { rows, plan } = await runQuery({
    session,
    table: 'survey',
    select: ['cell', 'x', 'y', 'z', 'time'],
    ...query,
  });
  const got = rows.map((o) => `${o.cell}|${o.x}|${o.y}|${o.z}|${BigInt((o.time as Date).getTime()) * 1000n}`);
  const brute = await bruteForce(`${where} AND ${timeWhere(query.from, query.to)}`);
  // Date keeps milliseconds: compare the microsecond column through the brute force's own rounding.
  const trunc = brute.rows.map((r) => {
    const i = r.lastIndexOf('|');
    return `${r.slice(0, i)}|${(BigInt(r.slice(i + 1)) / 1000n) * 1000n}`;
  });
  expect(got.sort(), JSON.stringify(query)).toEqual(trunc);
  const selected = new Set(plan.files.map((f) => session.storage.localPath(f.key)!));
  for (const f of brute.files) expect(selected.has(f), `${JSON.stringify(query)} misses ${f}`).toBe(true);
  const candidates = catalogCandidates(bound, query.from, query.to);
  for (const f of plan.files) expect(candidates.has(f.key), JSON.stringify(query)).toBe(true);
  expect(plan.totalFiles).toBe(files.length);
  return rows.length;
}

describe('planQuery / runQuery against brute force', () => {
  it('60 random boxes, on the faces of the frame and outside it, with random time windows', async () => {
    const rand = prng(2024);
    let nonEmpty = 0;
    // The demo frame is cartesian:0,0,-64,1024: the domain is [0, 1024) x [0, 1024) x [-64, 960).
    for (let i = 0; i < 60; i++) {
      let box: number[];
      const kind = i % 6;
      if (kind === 5) {
        // outside the domain on one axis
        const axis = randInt(rand, 0, 2);
        const lo = [0, 0, -64][axis]!;
        box = [100, 100, 0, 300, 300, 60];
        const above = rand() < 0.5;
        box[axis] = above ? lo + 1024 + rand() * 50 : lo - 100 - rand() * 50;
        box[axis + 3] = box[axis]! + rand() * 40;
      } else if (kind === 4) {
        // touching a face of the frame (the site fills x, y in [0, 1000])
        box = [rand() * 900, rand() * 900, -64, 0, 0, 0];
        box[3] = box[0]! + rand() * 120;
        box[4] = box[1]! + rand() * 120;
        box[5] = 40 + rand() * 40;
        if (rand() < 0.5) box[0] = -5;
        if (rand() < 0.5) box[1] = 0;
        if (rand() < 0.3) box[3] = 1024;
      } else {
        const size = [10, 40, 150, 600][kind % 4]!;
        const x = rand() * 1000;
        const y = rand() * 1000;
        const z = -10 + rand() * 40;
        box = [x, y, z, x + size * (0.5 + rand()), y + size * (0.5 + rand()), z + 20 + rand() * 60];
      }
      const window = randomWindow(rand);
      const where = `x BETWEEN ${num(box[0]!)} AND ${num(box[3]!)} AND y BETWEEN ${num(box[1]!)} AND ${num(box[4]!)} AND z BETWEEN ${num(box[2]!)} AND ${num(box[5]!)}`;
      // `or` and `union` filter on the exact ranges: a range that misses a stored point loses rows.
      const shape = (['span', 'or', 'union'] as const)[i % 3]!;
      const maxRanges = shape === 'union' ? 8 : [64, 1, 8, 200][i % 4]!;
      const n = await check({ box, ...window, maxRanges, shape }, where, box);
      if (n > 0) nonEmpty++;
      if (kind === 5) {
        expect(n).toBe(0);
        const plan = planQuery({ snapshot: session.snapshot, table: 'survey', box });
        expect(plan.files).toEqual([]);
        expect(plan.ranges).toEqual([]);
      }
    }
    expect(nonEmpty).toBeGreaterThan(20);
  });

  it('40 random spheres, exact on the distance', async () => {
    const rand = prng(77);
    let nonEmpty = 0;
    for (let i = 0; i < 40; i++) {
      const r = [0.5, 4, 25, 150][i % 4]!;
      const c = [rand() * 1100 - 50, rand() * 1100 - 50, -20 + rand() * 100];
      const window = randomWindow(rand);
      const where = `(x - ${num(c[0]!)}) * (x - ${num(c[0]!)}) + (y - ${num(c[1]!)}) * (y - ${num(c[1]!)}) + (z - ${num(c[2]!)}) * (z - ${num(c[2]!)}) <= ${num(r)} * ${num(r)}`;
      const bound = [c[0]! - r, c[1]! - r, c[2]! - r, c[0]! + r, c[1]! + r, c[2]! + r];
      const shape = (['span', 'or'] as const)[i % 2]!;
      const n = await check(
        { sphere: [...c, r], ...window, maxRanges: [64, 64, 4, 4][i % 4]!, shape },
        where,
        bound,
      );
      if (n > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(10);
  });

  it('a box and a one-day window select only that day’s file', async () => {
    const plan = planQuery({
      snapshot: session.snapshot,
      table: 'survey',
      box: [100, 100, 0, 400, 400, 80],
      from: '2025-06-04',
      to: '2025-06-05T00:00:00Z',
    });
    expect(files).toHaveLength(5);
    expect(plan.totalFiles).toBe(5);
    expect(plan.files.length).toBeGreaterThan(0);
    for (const f of plan.files) expect(f.t).toBe('2025-06-04');
    expect(plan.sql).toContain(plan.files[0]!.key.split('/').pop());
    expect(plan.sql.match(/\.parquet'/g)).toHaveLength(plan.files.length);
  });

  it('an empty window reads nothing; explain counts files and row groups', async () => {
    const empty = await runQuery({
      session,
      table: 'survey',
      box: [0, 0, -64, 1000, 1000, 900],
      from: '2025-06-03',
      to: '2025-06-03',
      explain: true,
    });
    expect(empty.rows).toEqual([]);
    expect(empty.plan.files).toEqual([]);
    expect(empty.explain).toMatchObject({ filesConsidered: 0, filesTotal: 5, rowGroupsConsidered: 0 });
    const all = await runQuery({
      session,
      table: 'survey',
      box: [0, 0, -64, 1024, 1024, 960],
      explain: true,
      select: ['cell'],
    });
    expect(all.rows).toHaveLength(30_000);
    expect(all.explain!.filesConsidered).toBe(5);
    expect(all.explain!.rowGroupsConsidered).toBe(all.explain!.rowGroupsTotal);
    expect(all.explain!.rowGroupsTotal).toBeGreaterThanOrEqual(5);
  });

  it('a point-sized box or a zero sphere at a stored point finds it through the exact id ranges', async () => {
    const r = await session.connection.runAndReadAll(
      'SELECT cell, x, y, z FROM survey USING SAMPLE reservoir(150 ROWS) REPEATABLE (3)',
    );
    // the points nearest the domain's faces too, where snapping moves furthest
    const edge = await session.connection.runAndReadAll(
      'SELECT cell, x, y, z FROM survey ORDER BY least(x, y, 1024 - x, 1024 - y) LIMIT 20',
    );
    for (const [cell, x, y, z] of [...r.getRows(), ...edge.getRows()] as [bigint, number, number, number][]) {
      for (const q of [{ box: [x, y, z, x, y, z] }, { sphere: [x, y, z, 0] }]) {
        const got = await runQuery({ session, table: 'survey', ...q, select: ['cell'], shape: 'or' });
        expect(
          got.rows.map((o) => o.cell),
          JSON.stringify(q),
        ).toContain(cell);
        expect(got.plan.ranges.some((g) => g.lo <= cell && cell <= g.hi)).toBe(true);
      }
    }
  });

  it('the time window is inclusive at from and exclusive at to, to the microsecond', async () => {
    const r = await session.connection.runAndReadAll(
      "SELECT x, y, z, strftime(time, '%Y-%m-%dT%H:%M:%S.%fZ') AS t FROM survey ORDER BY time LIMIT 1 OFFSET 12345",
    );
    const [x, y, z, t] = r.getRows()[0]! as [number, number, number, string];
    const box = [x, y, z, x, y, z];
    const at = async (from?: string, to?: string) =>
      (
        await runQuery({
          session,
          table: 'survey',
          box,
          select: ['x'],
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
        })
      ).rows.length;
    expect(await at(t)).toBe(1);
    expect(await at(undefined, t)).toBe(0);
    expect(await at(t, t)).toBe(0);
  });

  it('keeps exactly the files whose time, bounding box and id interval can meet the query', () => {
    const rand = prng(5);
    const state = session.snapshot.tables.get('survey')!;
    const box = [200, 300, 10, 400, 450, 60];
    const from = '2025-06-03T06:00:00.000000Z';
    const to = '2025-06-04T06:00:00.000000Z';
    const { ranges } = planQuery({ snapshot: session.snapshot, table: 'survey', box, maxRanges: 8 });
    const fake = new Map<string, FileRecord>();
    for (let i = 0; i < 2000; i++) {
      // an id interval overlapping a range, or lying in the gap after one (or past the last)
      const r = ranges[randInt(rand, 0, ranges.length - 1)]!;
      const next = ranges[ranges.indexOf(r) + 1]?.lo ?? r.hi + 10n ** 9n;
      const inGap = rand() < 0.5 && next - r.hi > 2n;
      const width = inGap ? next - r.hi - 1n : r.hi - r.lo + 1n;
      const a = (inGap ? r.hi + 1n : r.lo) + (width * BigInt(randInt(rand, 0, 999))) / 1000n;
      const b = inGap
        ? a + ((next - 1n - a) * BigInt(randInt(rand, 0, 1000))) / 1000n
        : a + BigInt(randInt(rand, 0, 1e6));
      const x = rand() * 1000;
      const y = rand() * 1000;
      const zz = rand() * 100 - 20;
      const t0 = Date.parse('2025-06-02T00:00:00Z') + rand() * 4 * 86_400_000;
      const t1 = t0 + rand() * 30 * 3_600_000;
      const key = `survey/f${i}.parquet`;
      fake.set(key, {
        ...files[0]!,
        key,
        cellMin: a.toString(),
        cellMax: b.toString(),
        bbox: [x, y, zz, x + rand() * 300, y + rand() * 300, zz + rand() * 30],
        timeMin: new Date(t0).toISOString(),
        timeMax: new Date(t1).toISOString(),
      });
    }
    const snapshot = { version: 1, tables: new Map([['survey', { ...state, files: fake }]]) };
    const plan = planQuery({ snapshot, table: 'survey', box, from, to, maxRanges: 8 });
    expect(plan.ranges).toEqual(ranges);
    const expected = [...fake.values()]
      .filter(
        (f) =>
          f.timeMax >= from.replace('.000000Z', '.000Z') &&
          f.timeMin < to.replace('.000000Z', '.000Z') &&
          [0, 1, 2].every((k) => f.bbox[k]! <= box[k + 3]! && f.bbox[k + 3]! >= box[k]!) &&
          ranges.some((r) => BigInt(f.cellMax) >= r.lo && BigInt(f.cellMin) <= r.hi),
      )
      .map((f) => f.key)
      .sort();
    expect(expected.length).toBeGreaterThan(3);
    expect(expected.length).toBeLessThan(1000);
    expect(plan.files.map((f) => f.key).sort()).toEqual(expected);
  });

  it('the three SQL shapes return the same rows', async () => {
    const box = [200, 300, 0, 260, 420, 70];
    const counts = [];
    for (const shape of ['span', 'or', 'union'] as const) {
      const r = await runQuery({ session, table: 'survey', box, select: ['cell'], maxRanges: 16, shape });
      counts.push(r.rows.map((o) => String(o.cell)).sort());
    }
    expect(counts[0]!.length).toBeGreaterThan(0);
    expect(counts[1]).toEqual(counts[0]);
    expect(counts[2]).toEqual(counts[0]);
  });

  it('rejects bad arguments with INVALID_ARGUMENT, and quotes identifiers', async () => {
    const snapshot = session.snapshot;
    const bad = [
      { box: [0, 0, 0, 1, 1, 1], sphere: [0, 0, 0, 1] },
      {},
      { box: [5, 0, 0, 1, 1, 1] },
      { box: [0, 0, 0, 1, 1] },
      { sphere: [0, 0, 0, -1] },
      { box: [0, 0, 0, 1, 1, 1], from: 'yesterday' },
      { box: [0, 0, 0, 1, 1, 1], to: '2025-06-03T00:00:00' },
      { box: [0, 0, 0, 1, 1, 1], maxRanges: 0 },
    ];
    for (const b of bad) {
      const err = (() => {
        try {
          planQuery({ snapshot, table: 'survey', ...b });
        } catch (e) {
          return e;
        }
      })();
      expect(err, JSON.stringify(b)).toBeInstanceOf(OctaError);
      expect((err as OctaError).code).toBe('INVALID_ARGUMENT');
    }
    expect(() => planQuery({ snapshot, table: 'nope', box: [0, 0, 0, 1, 1, 1] })).toThrow(/no such table/);
    const plan = planQuery({
      snapshot,
      table: 'survey',
      box: [0, 0, 0, 9, 9, 9],
      select: ['x" FROM evil --'],
    });
    expect(plan.sql).toContain('SELECT "x"" FROM evil --" FROM');
  });
});

describe('octa query', () => {
  it('--explain prints files and row groups considered against the totals', async () => {
    const r = await octaInProcess([
      'query',
      '--lake',
      lake,
      '--table',
      'survey',
      '--box',
      '100,100,0,300,300,80',
      '--from',
      '2025-06-03',
      '--to',
      '2025-06-04',
      '--explain',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^files considered: 1 of 5$/m);
    expect(r.stdout).toMatch(/^row groups considered: 1 of [5-9]\d* \(1 meet an id range\)$/m);
    expect(r.stdout).toMatch(/^sql: SELECT \* FROM/m);
  });

  it('--format json: objects with 64-bit integers as strings, the same rows as the library', async () => {
    const args = [
      'query',
      '--lake',
      lake,
      '--table',
      'survey',
      '--sphere',
      '500,500,30,25',
      '--select',
      'cell,x',
      '--format',
      'json',
    ];
    const r = await octaInProcess(args);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { cell: string; x: number }[];
    const lib = await runQuery({
      session,
      table: 'survey',
      sphere: [500, 500, 30, 25],
      select: ['cell', 'x'],
    });
    expect(out.length).toBe(lib.rows.length);
    expect(out.length).toBeGreaterThan(0);
    for (const o of out) expect(typeof o.cell).toBe('string');
    expect(out.map((o) => o.cell).sort()).toEqual(lib.rows.map((o) => String(o.cell)).sort());
  });

  it('exits 2 for bad arguments', async () => {
    const base = ['query', '--lake', lake, '--table', 'survey'];
    for (const extra of [
      [],
      ['--box', '0,0,0,1,1,1', '--sphere', '0,0,0,1'],
      ['--box', '5,0,0,1,1,1'],
      ['--box', '0,0,0,1,1'],
      ['--box', '0,0,0,1,1,x'],
      ['--sphere', '0,0,0,1', '--from', 'tomorrow'],
      ['--sphere', '0,0,0,1', '--max-ranges', '0'],
      ['--sphere', '0,0,0,1', '--format', 'xml'],
    ]) {
      const r = await octaInProcess([...base, ...extra]);
      expect(r.status, `${extra.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^octa: /);
    }
    expect(
      (
        await octaInProcess([
          'query',
          '--lake',
          join(dir, 'missing'),
          '--table',
          'survey',
          '--box',
          '0,0,0,1,1,1',
        ])
      ).status,
    ).toBe(2);
  });
});
