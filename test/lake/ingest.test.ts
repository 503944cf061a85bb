/**
 * The write path end to end, held against independent readers: what `ingest()` commits is read back
 * with DuckDB's read_parquet and with hyparquet and compared with the generated input row by row;
 * footers, catalog records and cell ids are checked against the rows they describe; the USGS feed
 * against geodeticToEcef; LAS and LAZ against the LAS records decoded by hand.
 */
import { createHash } from 'node:crypto';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { microsToIso, OCTA_KEYS, readParquetMetadata } from '../../src/export/index.js';
import type { FileRecord } from '../../src/lake/catalog/catalog.js';
import { type IngestOptions, ingest } from '../../src/lake/ingest/ingest.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import {
  frameFromJSON,
  frameToJSON,
  geodeticToEcef,
  index64ToFrame,
  index64ToLattice,
  latticeToFrame,
  latticeUnit,
  OctaError,
  parseFrameSpec,
} from '../../src/lattice/index.js';
import { openLake } from '../../src/sql/open.js';
import {
  committed,
  duck,
  filesUnder,
  removeDir,
  sharedData,
  sqlPaths,
  tempDir,
} from './fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, type PointRow, pointsToCsv } from './fixtures/ingest/points.js';

const LOD = 10;

let dir: string;
let lake: string;
let storage: LocalStorage;

beforeEach(async () => {
  dir = tempDir('ingest');
  lake = join(dir, 'lake');
  storage = await LocalStorage.create({ root: lake });
});

afterEach(() => {
  removeDir(dir);
});

/** Ingests into `lake` with the generated-points mapping unless told otherwise. */
function run(inputs: IngestOptions['inputs'], options: Partial<IngestOptions> = {}) {
  return ingest({
    storage,
    table: 'pts',
    inputs,
    frame: POINTS_FRAME,
    lod: LOD,
    time: 'time',
    rejectFile: join(dir, 'rejects.ndjson'),
    ...options,
  });
}

function writeCsv(rows: readonly PointRow[], name = 'points.csv'): string {
  const path = join(dir, name);
  writeFileSync(path, pointsToCsv(rows));
  return path;
}

/** A row as a comparable string: coordinates by their exact bits, nulls kept apart from ''. */
const rowKey = (r: Partial<Record<keyof PointRow, unknown>>) =>
  JSON.stringify([
    r.x,
    r.y,
    r.z,
    String(r.timeUs),
    r.intensity ?? null,
    r.score ?? null,
    r.label === undefined ? null : r.label,
    r.flag ?? null,
  ]);

interface FileRows {
  record: FileRecord;
  bytes: Uint8Array;
  rows: Record<string, unknown>[];
}

/** Every committed file of `pts` read back by hyparquet, rows in file order. */
async function readCommitted(): Promise<FileRows[]> {
  const { files, paths } = await committed(lake, 'pts');
  const out: FileRows[] = [];
  for (const [i, record] of files.entries()) {
    const bytes = readFileSync(paths[i]!);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rows = (await parquetReadObjects({
      file,
      compressors,
      parsers: { timestampFromMicroseconds: (micros: bigint) => micros },
    })) as Record<string, unknown>[];
    out.push({ record, bytes: new Uint8Array(bytes), rows });
  }
  return out;
}

describe('round trip of a generated CSV', () => {
  const input = generatePoints({ rows: 3000, seed: 11, days: 4 });
  const expected = input.map(rowKey).sort();

  it('commits every row once, read back identically by DuckDB and by hyparquet', async () => {
    const summary = await run([{ path: writeCsv(input) }], { fileRows: 400, rowGroupSize: 128 });
    expect(summary).toMatchObject({
      rows_read: 3000,
      rows_committed: 3000,
      rows_rejected: 0,
      batches_skipped: 0,
      version: 1,
      reject_file: null,
    });
    const { paths, files } = await committed(lake, 'pts');
    expect(files.length).toBe(summary.files);
    expect(new Set(files.map((f) => `${f.t}/${f.r}`)).size).toBe(summary.partitions);
    expect(summary.partitions).toBe(4); // four days, one identifier range
    expect(files.length).toBeGreaterThan(4); // --file-rows 400 cut the days into several files
    // Nothing but the committed files, the catalog and the Delta Lake and Iceberg views in the lake.
    const views = /^pts\/(_delta_log|metadata)\//;
    expect(filesUnder(lake).filter((f) => !f.startsWith('_octa/') && !views.test(f))).toEqual(
      files.map((f) => f.key).sort(),
    );
    expect(filesUnder(lake).some((f) => f.startsWith('pts/_delta_log/'))).toBe(true);
    expect(filesUnder(lake).some((f) => f.startsWith('pts/metadata/'))).toBe(true);

    // (a) DuckDB over the committed files.
    const viaDuck = await duck(
      `SELECT x, y, z, epoch_us(time) AS time_us, intensity, score, label, flag FROM read_parquet(${sqlPaths(paths)})`,
    );
    expect(viaDuck.map((r) => rowKey({ ...r, timeUs: r.time_us })).sort()).toEqual(expected);

    // (b) hyparquet, file by file.
    const viaHyparquet = (await readCommitted()).flatMap((f) => f.rows);
    expect(viaHyparquet.map((r) => rowKey({ ...r, timeUs: r.time })).sort()).toEqual(expected);
  });

  it('is visible through openLake with typed partition columns, t the UTC day of time', async () => {
    await run([{ path: writeCsv(input) }], { fileRows: 700 });
    const session = await openLake({ lake });
    try {
      const c = session.connection;
      const types = (await c.runAndReadAll('DESCRIBE pts')).getRowObjects();
      const typeOf = Object.fromEntries(types.map((r) => [r.column_name, r.column_type]));
      expect(typeOf).toMatchObject({
        cell: 'BIGINT',
        x: 'DOUBLE',
        y: 'DOUBLE',
        z: 'DOUBLE',
        intensity: 'DOUBLE',
        score: 'DOUBLE',
        label: 'VARCHAR',
        flag: 'BOOLEAN',
        lod: 'INTEGER',
        t: 'DATE',
        r: 'VARCHAR',
      });
      expect(String(typeOf.time)).toMatch(/^TIMESTAMP/);
      const stats = (
        await c.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT t) AS days, min(lod) AS lo, max(lod) AS hi,
            count(*) FILTER (WHERE t <> DATE '1970-01-01' + CAST(floor(epoch_us(time) / 86400000000) AS INTEGER)) AS wrong_t,
            count(DISTINCT r) AS ranges FROM pts`)
      ).getRowObjects()[0]!;
      expect(stats).toEqual({ n: 3000n, days: 4n, lo: LOD, hi: LOD, wrong_t: 0n, ranges: 1n });
      const files = (await c.runAndReadAll('SELECT sum(rows) AS n FROM files')).getRowObjects()[0]!;
      expect(files.n).toBe(3000n);
    } finally {
      session.close();
    }
  });

  it('writes files sorted by cell whose footers and catalog records match their rows', async () => {
    await run([{ path: writeCsv(input) }], { fileRows: 500, rowGroupSize: 100 });
    const frame = parseFrameSpec(POINTS_FRAME);
    const read = await readCommitted();
    expect(read.length).toBeGreaterThan(4);
    for (const { record, bytes, rows } of read) {
      const cells = rows.map((r) => r.cell as bigint);
      const times = rows.map((r) => r.time as bigint);
      for (let i = 1; i < cells.length; i++) expect(cells[i - 1]! <= cells[i]!).toBe(true);
      // Bigints too, so no Math.min / Math.max.
      const min = <T>(a: T[]) => [...a].sort((p, q) => (p < q ? -1 : p > q ? 1 : 0))[0]!;
      const max = <T>(a: T[]) => [...a].sort((p, q) => (p < q ? 1 : p > q ? -1 : 0))[0]!;

      const footer = readParquetMetadata(bytes);
      for (const key of Object.values(OCTA_KEYS)) expect(footer.keyValues).toHaveProperty([key]);
      expect(footer.point).toMatchObject({
        lod: LOD,
        idKind: 'index64',
        rows: rows.length,
        cellMin: min(cells),
        cellMax: max(cells),
        timeMin: min(times),
        timeMax: max(times),
      });
      expect(frameToJSON(frameFromJSON(JSON.stringify(footer.point!.frame)))).toBe(frameToJSON(frame));
      // Row groups of 100 rows, each with cell statistics equal to its own rows' range.
      expect(footer.rowGroups.length).toBe(Math.ceil(rows.length / 100));
      let at = 0;
      for (const group of footer.rowGroups) {
        const part = cells.slice(at, at + group.rows);
        expect(group.cellMin).toBe(part[0]);
        expect(group.cellMax).toBe(part[part.length - 1]);
        at += group.rows;
      }
      expect(at).toBe(rows.length);

      // The catalog record says what the file holds.
      const axis = (name: string) => rows.map((r) => r[name] as number);
      expect(record).toMatchObject({
        table: 'pts',
        lod: LOD,
        rows: rows.length,
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        cellMin: min(cells).toString(),
        cellMax: max(cells).toString(),
        timeMin: microsToIso(min(times)),
        timeMax: microsToIso(max(times)),
        bbox: [
          min(axis('x')),
          min(axis('y')),
          min(axis('z')),
          max(axis('x')),
          max(axis('y')),
          max(axis('z')),
        ],
      });
      // Its partition values are the rows' day and the key follows the layout.
      const days = new Set(times.map((t) => microsToIso(t).slice(0, 10)));
      expect([...days]).toEqual([record.t]);
      expect(record.key).toMatch(
        new RegExp(`^pts/lod=${LOD}/t=${record.t}/r=${record.r}/part-[^/]+\\.parquet$`),
      );
    }
  });

  it('stores cell ids that decode to cells within √5/2 units of x, y, z (√3 at the domain faces)', async () => {
    await run([{ path: writeCsv(input) }]);
    const frame = parseFrameSpec(POINTS_FRAME);
    const unit = latticeUnit(frame, LOD);
    const n = 2 ** (LOD + 1);
    let inner = 0;
    let faces = 0;
    for (const { rows } of await readCommitted()) {
      for (const r of rows) {
        const id = BigInt.asUintN(64, r.cell as bigint);
        const f = index64ToLattice(id);
        expect([f.frame, f.tier, f.lod]).toEqual([frame.id, 0, LOD]);
        expect(f.x % 2 === f.y % 2 && f.y % 2 === f.z % 2).toBe(true); // a BCC point
        const centre = latticeToFrame(frame, LOD, f.x, f.y, f.z);
        expect(index64ToFrame(frame, r.cell as bigint)).toEqual(centre);
        const p = [r.x as number, r.y as number, r.z as number];
        const u = p.map((v, a) => (v - frame.origin[a]!) / unit);
        const d = Math.hypot(...p.map((v, a) => (v - centre[a]!) / unit));
        if (u.every((v) => v >= 1 && v < n - 1)) {
          inner++;
          expect(d).toBeLessThanOrEqual(Math.sqrt(5) / 2 + 1e-9);
        } else {
          faces++;
          expect(d).toBeLessThanOrEqual(Math.sqrt(3) + 1e-9);
        }
      }
    }
    expect(inner + faces).toBe(3000);
    expect(faces).toBeGreaterThan(30); // the generator puts points on the faces
  });
});

describe('the USGS earthquake feed', () => {
  const csv = sharedData('usgs_all_month_2025-04-15.csv');

  it('ingests 9,462 events into ECEF, one partition per UTC day, coordinates from geodeticToEcef', async () => {
    const summary = await ingest({
      storage,
      table: 'quakes',
      inputs: [{ path: csv }],
      coords: { lat: 'latitude', lon: 'longitude', depthKm: 'depth' },
      time: 'time',
      frame: 'ecef',
      rejectFile: join(dir, 'rejects.ndjson'),
    });
    expect(summary).toMatchObject({
      rows_read: 9462,
      rows_committed: 9462,
      rows_rejected: 0,
      reject_file: null,
    });

    const source = await duck(
      `SELECT id, time, latitude, longitude, depth, mag, place, magType, nst FROM read_csv('${csv}', all_varchar = true)`,
    );
    expect(source.length).toBe(9462);
    const days = new Set(source.map((r) => (r.time as string).slice(0, 10)));
    expect(summary.partitions).toBe(days.size);

    const session = await openLake({ lake });
    try {
      const c = session.connection;
      const got = (
        await c.runAndReadAll(
          'SELECT id, x, y, z, epoch_us(time) AS us, mag, place, "magType", nst, CAST(t AS VARCHAR) AS t FROM quakes',
        )
      ).getRowObjects();
      expect(got.length).toBe(9462);
      const count = (await c.runAndReadAll('SELECT count(DISTINCT t) AS n FROM quakes')).getRowObjects()[0]!;
      expect(count.n).toBe(BigInt(days.size));
      const byId = new Map(got.map((r) => [r.id as string, r]));
      expect(byId.size).toBe(9462);
      let commas = 0;
      for (const s of source) {
        const r = byId.get(s.id as string)!;
        expect(r).toBeDefined();
        const lat = Number(s.latitude);
        const lon = Number(s.longitude);
        const depth = Number(s.depth);
        const [x, y, z] = geodeticToEcef(lat, lon, -1000 * depth);
        expect(Math.abs((r.x as number) - x)).toBeLessThan(1e-6);
        expect(Math.abs((r.y as number) - y)).toBeLessThan(1e-6);
        expect(Math.abs((r.z as number) - z)).toBeLessThan(1e-6);
        expect(r.us).toBe(BigInt(Date.parse(s.time as string)) * 1000n);
        expect(r.t).toBe((s.time as string).slice(0, 10));
        expect(r.mag).toBe(s.mag === null ? null : Number(s.mag));
        expect(r.nst).toBe(s.nst === null ? null : Number(s.nst));
        expect(r.place).toBe(s.place);
        expect(r.magType).toBe(s.magType);
        if ((s.place as string | null)?.includes(',')) commas++;
      }
      expect(commas).toBeGreaterThan(1000);
    } finally {
      session.close();
    }
  });
});

/** x, y, z of every LAS record, scaled and offset in float64, decoded here from the bytes. */
function lasCoordinates(bytes: Buffer): number[][] {
  const offset = bytes.readUInt32LE(96);
  const length = bytes.readUInt16LE(105);
  const count = bytes.readUInt32LE(107);
  const scale = [131, 139, 147].map((at) => bytes.readDoubleLE(at));
  const shift = [155, 163, 171].map((at) => bytes.readDoubleLE(at));
  return Array.from({ length: count }, (_, i) =>
    [0, 1, 2].map((a) => bytes.readInt32LE(offset + i * length + 4 * a) * scale[a]! + shift[a]!),
  );
}

describe('LAS and LAZ samples', () => {
  const las = sharedData('simple.las');
  const laz = sharedData('simple.laz');
  const byXyz = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;

  it('ingest 1,065 points each with the frame from the header and float64 coordinates', async () => {
    const expected = lasCoordinates(readFileSync(las)).sort(byXyz);
    expect(expected.length).toBe(1065);
    const got: Record<string, number[][]> = {};
    for (const [table, path] of [
      ['las', las],
      ['laz', laz],
    ] as const) {
      const summary = await ingest({
        storage,
        table,
        inputs: [{ path }],
        frame: 'auto',
        timeValue: '2025-04-15T00:00:00Z',
        rejectFile: join(dir, `${table}.ndjson`),
      });
      expect(summary).toMatchObject({ rows_read: 1065, rows_committed: 1065, rows_rejected: 0 });
      const { paths } = await committed(lake, table);
      const rows = await duck(
        `SELECT x, y, z, classification, intensity FROM read_parquet(${sqlPaths(paths)})`,
      );
      got[table] = rows.map((r) => [r.x as number, r.y as number, r.z as number]).sort(byXyz);
    }
    expect(got.las).toEqual(expected);
    expect(got.laz).toEqual(expected);
    // Float64 after scale and offset: 637012.24 as the file means it, not float32's 637012.25.
    expect(got.las!.some(([x]) => x === 63701224 * 0.01)).toBe(true);
    expect(got.las!.some(([x]) => x === Math.fround(637012.24))).toBe(false);
    // Both tables got the same frame, from the header bounds.
    const session = await openLake({ lake });
    try {
      const frames = ['las', 'laz'].map((t) => frameToJSON(session.snapshot.tables.get(t)!.config.frame));
      expect(frames[0]).toBe(frames[1]);
      expect(session.snapshot.tables.get('las')!.config.frame.kind).toBe('cartesian');
    } finally {
      session.close();
    }
  });

  it('refuses a LAS file without a creation date or --time-value, naming the file', async () => {
    const error = await ingest({ storage, table: 'las', inputs: [{ path: las }], frame: 'auto' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OctaError);
    expect((error as OctaError).code).toBe('INVALID_ARGUMENT');
    expect((error as OctaError).message).toContain('simple.las');
    expect((error as OctaError).message).toMatch(/`timeValue`/);
    expect(filesUnder(lake)).toEqual([]);
  });
});

describe('idempotent batches', () => {
  const input = generatePoints({ rows: 1200, seed: 5, days: 2 });

  it('commits a file once; --force ingests it again', async () => {
    const path = writeCsv(input);
    const first = await run([{ path }], { fileRows: 300 });
    expect(first).toMatchObject({ rows_committed: 1200, batches_skipped: 0, version: 1 });
    const files = filesUnder(lake);

    const again = await run([{ path }], { fileRows: 300 });
    expect(again).toMatchObject({
      rows_read: 0,
      rows_committed: 0,
      files: 0,
      batches_skipped: 1,
      version: null,
    });
    expect(filesUnder(lake)).toEqual(files); // nothing written, not even a log entry
    expect((await committed(lake, 'pts')).version).toBe(1);

    const forced = await run([{ path }], { force: true });
    expect(forced).toMatchObject({ rows_committed: 1200, batches_skipped: 0, version: 2 });
    const after = await committed(lake, 'pts');
    expect(after.files.reduce((n, f) => n + f.rows, 0)).toBe(2400);
  });

  it('reads a file named twice in one run, or through a link, once', async () => {
    const path = writeCsv(input);
    const link = join(dir, 'link.csv');
    symlinkSync(path, link);
    const summary = await run([{ path }, { path: link }, { path }]);
    expect(summary).toMatchObject({ rows_read: 1200, rows_committed: 1200, batches_skipped: 2 });
    expect((await committed(lake, 'pts')).files.reduce((n, f) => n + f.rows, 0)).toBe(1200);
  });

  it('recognises a stream by its rows: the same CSV piped twice commits once', async () => {
    const { Readable } = await import('node:stream');
    const text = pointsToCsv(input);
    const stream = () => ({ stream: Readable.from([Buffer.from(text)]), name: '-' });
    const first = await run([stream()], { format: 'csv', fileRows: 250 });
    expect(first).toMatchObject({ rows_committed: 1200, batches_skipped: 0 });
    const second = await run([stream()], { format: 'csv', fileRows: 250 });
    expect(second).toMatchObject({ rows_read: 1200, rows_committed: 0, files: 0, batches_skipped: 1 });
    const state = await committed(lake, 'pts');
    expect(state.files.reduce((n, f) => n + f.rows, 0)).toBe(1200);
    // The second run's files were removed, not left as orphans.
    expect(
      filesUnder(lake)
        .filter((f) => f.endsWith('.parquet'))
        .sort(),
    ).toEqual(state.files.map((f) => f.key).sort());
  });

  it('commits only the new file of a run that repeats one', async () => {
    const a = writeCsv(input.slice(0, 600), 'a.csv');
    const b = writeCsv(input.slice(600), 'b.csv');
    await run([{ path: a }]);
    const both = await run([{ path: a }, { path: b }]);
    expect(both).toMatchObject({ rows_read: 600, rows_committed: 600, batches_skipped: 1 });
    const session = await openLake({ lake });
    try {
      const rows = (
        await session.connection.runAndReadAll(
          'SELECT x, y, z, epoch_us(time) AS time_us, intensity, score, label, flag FROM pts',
        )
      ).getRowObjects();
      expect(rows.map((r) => rowKey({ ...r, timeUs: r.time_us })).sort()).toEqual(input.map(rowKey).sort());
    } finally {
      session.close();
    }
  });
});

describe('concurrent writers', () => {
  it('creating one table with other column types: one commits, the other fails and leaves no files', async () => {
    const rows = generatePoints({ rows: 800, seed: 21, days: 2 });
    const numeric = writeCsv(rows, 'numeric.csv');
    // The same columns, but intensity is text: the table each run would create differs.
    const text = join(dir, 'text.csv');
    writeFileSync(text, pointsToCsv(rows).replace(/^([^,\n]*,[^,\n]*,[^,\n]*,[^,\n]*,)-?\d+,/gm, '$1n/a,'));
    const results = await Promise.allSettled([
      run([{ path: numeric }], { fileRows: 100 }),
      run([{ path: text }], { fileRows: 100 }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won.length).toBe(1);
    expect(lost.length).toBe(1);
    const error = (lost[0] as PromiseRejectedResult).reason as OctaError;
    expect(error).toBeInstanceOf(OctaError);
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toMatch(/exists with other settings; refused payload/);
    const state = await committed(lake, 'pts');
    expect(state.version).toBe(1);
    expect(state.files.reduce((n, f) => n + f.rows, 0)).toBe(800);
    expect(filesUnder(lake).filter((f) => f.endsWith('.parquet'))).toEqual(
      state.files.map((f) => f.key).sort(),
    );
  });
});

describe('a table remembers its frame and LOD', () => {
  it('refuses another --frame or --lod before writing anything', async () => {
    const input = generatePoints({ rows: 200, seed: 9, days: 1 });
    await run([{ path: writeCsv(input) }]);
    const before = filesUnder(lake);
    const other = writeCsv(generatePoints({ rows: 50, seed: 10, days: 1 }), 'other.csv');
    for (const change of [
      { frame: 'cartesian:0,0,0,2048' },
      { lod: LOD + 1 },
      { timeBucket: 'hour' as const },
    ]) {
      const error = await run([{ path: other }], change).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(OctaError);
      expect((error as OctaError).code).toBe('CONFLICT');
      expect((error as OctaError).message).toMatch(/table pts was created with another layout: refused/);
      expect(filesUnder(lake)).toEqual(before);
    }
    // Without --frame and --lod the table's own are used.
    const summary = await ingest({
      storage,
      table: 'pts',
      inputs: [{ path: other }],
      time: 'time',
      rejectFile: null,
    });
    expect(summary.rows_committed).toBe(50);
  });
});
