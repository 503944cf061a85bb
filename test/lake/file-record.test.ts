/**
 * The one builder of a new file's catalog record (src/lake/catalog/records.ts), used by ingest and
 * maintenance: event times stay exact int64 microseconds all the way to the record's ISO text.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isoToMicros } from '../../src/export/event-time.js';
import { readParquetMetadata } from '../../src/export/parquet.js';
import { checkFileRecord } from '../../src/lake/catalog/catalog-log.js';
import { fileRecord } from '../../src/lake/catalog/records.js';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { committed, removeDir, tempDir } from './fixtures/ingest/lake.js';

const written = (timeMin: string, timeMax: string) => ({
  key: 'pts/lod=9/t=2255-06-05/r=0000000000000000/part-w-1.parquet',
  table: 'pts',
  lod: 9,
  t: '2255-06-05',
  r: '0000000000000000',
  bytes: 1234,
  sha256: 'ab'.repeat(32),
  stats: {
    rows: 2,
    cellMin: '-9223372036854775808',
    cellMax: '-4611686018427387905',
    timeMin,
    timeMax,
    bbox: { minX: -1.5, minY: 0, minZ: 2, maxX: 3, maxY: 4.25, maxZ: 5 },
  },
  batch: 'b1',
  writer: 'w',
});

describe('fileRecord', () => {
  it('builds the record the catalog accepts, bbox as min then max', () => {
    const record = fileRecord(written('1700000000123456', '1700000000123457'));
    expect(record).toEqual({
      key: 'pts/lod=9/t=2255-06-05/r=0000000000000000/part-w-1.parquet',
      table: 'pts',
      lod: 9,
      t: '2255-06-05',
      r: '0000000000000000',
      rows: 2,
      bytes: 1234,
      sha256: 'ab'.repeat(32),
      cellMin: '-9223372036854775808',
      cellMax: '-4611686018427387905',
      timeMin: '2023-11-14T22:13:20.123456Z',
      timeMax: '2023-11-14T22:13:20.123457Z',
      bbox: [-1.5, 0, 2, 3, 4.25, 5],
      batch: 'b1',
      writer: 'w',
    });
    expect(checkFileRecord(record)).toEqual(record);
  });

  it('keeps every microsecond of times past 2^53 µs and at the ends of the years the lake stores', () => {
    // 2^53 + 1 µs (2255-06-05), one µs apart: a double cannot tell them apart.
    const record = fileRecord(written('9007199254740993', '9007199254740994'));
    expect(record.timeMin).toBe('2255-06-05T23:47:34.740993Z');
    expect(record.timeMax).toBe('2255-06-05T23:47:34.740994Z');
    const ends = fileRecord(written('-62167219200000000', '253402300799999999'));
    expect(ends.timeMin).toBe('0000-01-01T00:00:00.000000Z');
    expect(ends.timeMax).toBe('9999-12-31T23:59:59.999999Z');
    expect(isoToMicros(ends.timeMax)).toBe(253_402_300_799_999_999n);
  });
});

describe('event time from source to file', () => {
  it('stays int64: times one µs apart past 2^53 µs land exactly in the footer and the catalog record', async () => {
    const dir = tempDir('file-record');
    try {
      const lake = join(dir, 'lake');
      const path = join(dir, 'in.csv');
      writeFileSync(path, 'x,y,z,time\n1,2,3,9007199254740994\n4,5,6,9007199254740993\n');
      const storage = await LocalStorage.create({ root: lake });
      const summary = await ingest({
        storage,
        table: 'pts',
        inputs: [{ path }],
        frame: 'cartesian:0,0,0,1024',
        lod: 6,
        time: 'time',
        timeUnit: 'us',
      });
      expect(summary.rows_committed).toBe(2);
      const { files } = await committed(lake, 'pts');
      expect(files.map((f) => [f.timeMin, f.timeMax])).toEqual([
        ['2255-06-05T23:47:34.740993Z', '2255-06-05T23:47:34.740994Z'],
      ]);
      const footer = readParquetMetadata(await storage.read(files[0]!.key));
      expect([footer.point?.timeMin, footer.point?.timeMax]).toEqual([9007199254740993n, 9007199254740994n]);
      expect(footer.keyValues['octa.time_max']).toBe('2255-06-05T23:47:34.740994Z');
    } finally {
      removeDir(dir);
    }
  });
});
