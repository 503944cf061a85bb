import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import {
  frameToIndex64,
  hilbert64ToIndex64,
  index64ToHilbert64,
  index64ToHilbert64Batch,
  latticeToIndex64,
  parseFrameSpec,
} from '../../src/lattice/index.js';
import { openLake } from '../../src/sql/open.js';
import { runQuery } from '../../src/sql/planner.js';
import { prng, randInt } from '../prng.js';

describe('Hilbert64 cells', () => {
  it('the batch conversion equals the scalar one, signed and unsigned', () => {
    const rand = prng(21);
    const ids = BigUint64Array.from({ length: 2000 }, () =>
      latticeToIndex64(randInt(rand, 0, 65535), randInt(rand, 0, 65535), randInt(rand, 0, 65535), {
        frame: randInt(rand, 0, 255),
        tier: randInt(rand, 0, 3),
        lod: randInt(rand, 0, 15),
      }),
    );
    const want = Array.from(ids, (id) => index64ToHilbert64(id));
    expect(Array.from(index64ToHilbert64Batch(ids.slice()))).toEqual(want);
    const signed = BigInt64Array.from(ids, (id) => BigInt.asIntN(64, id));
    expect(Array.from(index64ToHilbert64Batch(signed), (v) => BigInt.asUintN(64, v))).toEqual(want);
    expect(() => index64ToHilbert64Batch(new BigUint64Array(want.slice(0, 1)))).toThrow(/INVALID_ID/);
  });
});

describe('a hilbert64 table', () => {
  let dir = '';
  const FRAME = 'cartesian:0,0,0,1024';
  const rows: { x: number; y: number; z: number; t: number }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'octa-hilbert-'));
    const rand = prng(22);
    for (let i = 0; i < 4000; i++) {
      rows.push({ x: rand() * 1000, y: rand() * 1000, z: rand() * 100, t: 1_750_000_000 + i * 60 });
    }
    const csv = join(dir, 'points.csv');
    writeFileSync(csv, `x,y,z,t\n${rows.map((r) => `${r.x},${r.y},${r.z},${r.t}`).join('\n')}\n`);
    const storage = await LocalStorage.create({ root: join(dir, 'lake') });
    const summary = await ingest({
      storage,
      table: 'pts',
      inputs: [{ path: csv }],
      frame: FRAME,
      lod: 12,
      time: 't',
      timeUnit: 's',
      idKind: 'hilbert64',
      rejectFile: null,
    });
    expect(summary.rows_committed).toBe(rows.length);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stores each point under the Hilbert64 of its Index64 cell, files sorted by it', async () => {
    const lake = await openLake({ lake: join(dir, 'lake') });
    try {
      expect(lake.snapshot.tables.get('pts')?.config.idKind).toBe('hilbert64');
      const r = await lake.connection.runAndReadAll('SELECT cell, x, y, z FROM pts');
      const frame = parseFrameSpec(FRAME);
      const got = r.getRowObjectsJS() as { cell: bigint; x: number; y: number; z: number }[];
      expect(got.length).toBe(rows.length);
      for (const p of got) {
        const h = BigInt.asUintN(64, p.cell);
        expect(h >> 62n).toBe(3n);
        expect(hilbert64ToIndex64(h)).toBe(frameToIndex64(frame, 12, p.x, p.y, p.z));
      }
    } finally {
      lake.close();
    }
  });

  it('answers box queries exactly like a brute-force scan', async () => {
    const rand = prng(23);
    const lake = await openLake({ lake: join(dir, 'lake') });
    try {
      for (let q = 0; q < 25; q++) {
        const x0 = rand() * 900;
        const y0 = rand() * 900;
        const box: [number, number, number, number, number, number] = [
          x0,
          y0,
          0,
          x0 + 5 + rand() * 200,
          y0 + 5 + rand() * 200,
          50 + rand() * 60,
        ];
        const { rows: hits } = await runQuery({ session: lake, table: 'pts', box, select: ['x', 'y', 'z'] });
        const want = rows.filter(
          (p) =>
            p.x >= box[0] &&
            p.x <= box[3] &&
            p.y >= box[1] &&
            p.y <= box[4] &&
            p.z >= box[2] &&
            p.z <= box[5],
        );
        expect(hits.length, JSON.stringify(box)).toBe(want.length);
      }
    } finally {
      lake.close();
    }
  });

  it('refuses a later index64 ingest into the table', async () => {
    const storage = await LocalStorage.create({ root: join(dir, 'lake') });
    const csv = join(dir, 'more.csv');
    writeFileSync(csv, 'x,y,z,t\n1,1,1,1750000000\n');
    await expect(
      ingest({
        storage,
        table: 'pts',
        inputs: [{ path: csv }],
        time: 't',
        timeUnit: 's',
        idKind: 'index64',
        rejectFile: null,
      }),
    ).rejects.toThrow(/id kind index64 \(the table has hilbert64\)/);
  });
});
