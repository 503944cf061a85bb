/**
 * Maintenance's write path, in process: rows read back from committed files go to the lake's
 * encoder as chunks, cut at range boundaries, and come out in files that hold exactly the rows of
 * their range, sorted by cell, with every payload type (utf8 text and nulls included) and int64
 * event times unchanged, read by an independent reader (hyparquet).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readParquetMetadata } from '../../src/export/index.js';
import type { FileRecord } from '../../src/lake/catalog/catalog.js';
import {
  labelOf,
  type MaintainedTable,
  rangeIndex,
  readPointChunks,
  writePointFile,
  writeRouted,
} from '../../src/lake/maintenance/files.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { parseFrameSpec } from '../../src/lattice/index.js';
import { fullSchema, LOD, makeRows, type Row, readRows, rowsToChunk, sortRows } from '../export/fixtures.js';
import { removeDir, tempDir } from './fixtures/ingest/lake.js';

const dir = tempDir('octa-maint-writer-');
afterAll(() => removeDir(dir));

function tableWith(splits: bigint[]): MaintainedTable {
  const schema = fullSchema();
  return {
    config: {
      name: 'pts',
      frame: parseFrameSpec('cartesian:0,0,0,1024'),
      lod: LOD,
      idKind: 'index64',
      timeBucket: 'day',
      payload: schema.columns.slice(5).map((c) => ({ name: c.name, type: c.type })),
      splits: splits.map(String),
      createdAt: '2025-01-01T00:00:00.000Z',
    },
    schema,
    splits,
  };
}

/** A file's rows as plain rows, by an independent reader. */
async function rowsOf(storage: LocalStorage, file: FileRecord): Promise<Row[]> {
  return readRows(await storage.read(file.key));
}

describe('maintenance writes the rows it reads', () => {
  it('routes rows read from two files into one sorted file per range, every row exact', async () => {
    const storage = await LocalStorage.create({ root: `${dir}/a` });
    const rows = makeRows(3000, 41);
    const sorted = sortRows(rows);
    // Two split points inside the cell range: three ranges, each with rows.
    const splits = [sorted[1000]!.cell, sorted[2200]!.cell];
    const table = tableWith(splits);
    const args = { storage, table, t: '2025-01-01', writer: 'test', batch: 'b' };
    const sources = [
      await writePointFile({ ...args, r: 'x', chunks: [rowsToChunk(rows.slice(0, 1700))] }),
      await writePointFile({ ...args, r: 'x', chunks: [rowsToChunk(rows.slice(1700))] }),
    ];
    const chunks = [];
    for (const f of sources) chunks.push(...(await readPointChunks(storage, f.key, table.schema)));
    const written = await writeRouted({ ...args, chunks, splits, fileRows: 3000 });

    expect(written.map((f) => f.r)).toEqual([0, 1, 2].map((i) => labelOf(i, splits)));
    // The stable order of the two files' rows (each sorted by cell, the first file first).
    const expected = sortRows([...sortRows(rows.slice(0, 1700)), ...sortRows(rows.slice(1700))]);
    for (const [i, f] of written.entries()) {
      const inRange = expected.filter((r) => rangeIndex(r.cell, splits) === i);
      const got = await rowsOf(storage, f);
      expect(got.map((r) => r.seq)).toEqual(inRange.map((r) => r.seq));
      expect(got).toEqual(sortRows(inRange));
      expect(f.rows).toBe(inRange.length);
      expect(readParquetMetadata(await storage.read(f.key)).point?.rows).toBe(inRange.length);
    }
  });

  it('cuts a range that holds more than fileRows into files of consecutive cells', async () => {
    const storage = await LocalStorage.create({ root: `${dir}/b` });
    const rows = makeRows(2500, 42);
    const table = tableWith([]);
    const args = { storage, table, t: '2025-01-01', writer: 'test', batch: 'b' };
    const source = await writePointFile({ ...args, r: 'x', chunks: [rowsToChunk(rows)] });
    const chunks = await readPointChunks(storage, source.key, table.schema);
    const written = await writeRouted({ ...args, chunks, splits: [], fileRows: 700 });

    expect(written.map((f) => f.rows)).toEqual([700, 700, 700, 400]);
    const got: Row[] = [];
    for (const f of written) got.push(...(await rowsOf(storage, f)));
    expect(got).toEqual(sortRows(rows));
  });
});
