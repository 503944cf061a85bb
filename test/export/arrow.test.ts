import { DataType, TimeUnit } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import {
  arrowToPointBuffer,
  arrowToPointSchema,
  createPointSchema,
  PointBuffer,
  pointBufferToArrow,
} from '../../src/export/index.js';
import type { OctaError } from '../../src/lattice/index.js';
import { fullSchema, makeRows, ODD_NAME, rowsToChunk } from './fixtures.js';

describe('PointBuffer → Arrow', () => {
  it('types the columns as the design says and keeps nulls and values', () => {
    const rows = makeRows(300, 61);
    const buffer = PointBuffer.create({ schema: fullSchema() });
    buffer.append(rowsToChunk(rows));
    const table = pointBufferToArrow(buffer, { metadata: { 'octa.lod': '7' } });
    expect(table.numRows).toBe(300);
    expect(table.schema.metadata.get('octa.lod')).toBe('7');
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, [String(f.type), f.nullable]]));
    expect(types).toEqual({
      cell: ['Int64', false],
      x: ['Float64', false],
      y: ['Float64', false],
      z: ['Float64', false],
      time: ['Timestamp<MICROSECOND, UTC>', false],
      seq: ['Int32', true],
      intensity: ['Float64', true],
      class: ['Int32', true],
      gps: ['Int64', true],
      flag: ['Bool', true],
      label: ['Utf8', true],
      [ODD_NAME]: ['Float64', true],
    });
    const t = table.schema.fields[4]!.type;
    expect(DataType.isTimestamp(t) && t.unit === TimeUnit.MICROSECOND).toBe(true);
    for (const i of [0, 17, 299]) {
      const row = table.get(i)!.toJSON() as Record<string, unknown>;
      const want = rows[i]!;
      expect(row.cell).toBe(want.cell);
      expect(row.x).toBe(want.x);
      expect(table.getChild('time')!.data[0]!.values[i]).toBe(want.time);
      expect(row.intensity).toBe(want.intensity);
      expect(row.class).toBe(want.class);
      expect(row.gps).toBe(want.gps);
      expect(row.flag).toBe(want.flag);
      expect(row.label).toBe(want.label);
      expect(row[ODD_NAME]).toBe(want.odd);
    }
    expect(table.getChild('label')!.nullCount).toBe(rows.filter((r) => r.label === null).length);
  });

  it('shares memory with the buffer instead of copying', () => {
    const buffer = PointBuffer.create({ schema: createPointSchema(), capacity: 16 });
    buffer.append({
      cell: BigInt64Array.from([5n, 6n]),
      x: Float64Array.from([1, 2]),
      y: new Float64Array(2),
      z: new Float64Array(2),
      time: new BigInt64Array(2),
    });
    const table = pointBufferToArrow(buffer);
    expect(table.getChild('cell')!.data[0]!.values.buffer).toBe(buffer.getCells().buffer);
    expect(table.getChild('x')!.data[0]!.values.buffer).toBe(
      buffer.getColumn('x').type === 'float64' &&
        (buffer.getColumn('x') as { values: Float64Array }).values.buffer,
    );
  });
});

describe('Arrow → PointBuffer', () => {
  it('round-trips every column, including sliced tables', () => {
    const rows = makeRows(400, 71);
    const buffer = PointBuffer.create({ schema: fullSchema() });
    buffer.append(rowsToChunk(rows));
    const table = pointBufferToArrow(buffer);
    const back = arrowToPointBuffer(table, { schema: fullSchema() });
    expect(Array.from(back.getCells())).toEqual(rows.map((r) => r.cell));
    expect(
      pointBufferToArrow(back)
        .toArray()
        .map((r) => r.toJSON()),
    ).toEqual(table.toArray().map((r) => r.toJSON()));

    // A slice has a non-zero data offset in every column, bitmaps included.
    const sliced = table.slice(37, 301);
    const part = arrowToPointBuffer(sliced);
    expect(part.rows).toBe(264);
    expect(
      pointBufferToArrow(part)
        .toArray()
        .map((r) => r.toJSON()),
    ).toEqual(sliced.toArray().map((r) => r.toJSON()));
  });

  it('infers the schema and refuses tables that are not point tables', () => {
    const buffer = PointBuffer.create({ schema: fullSchema() });
    buffer.append(rowsToChunk(makeRows(3, 81)));
    const table = pointBufferToArrow(buffer);
    expect(arrowToPointSchema(table.schema).payload.map((c) => c.type)).toEqual([
      'int32',
      'float64',
      'int32',
      'int64',
      'bool',
      'utf8',
      'float64',
    ]);
    const other = createPointSchema({ payload: [{ name: 'seq', type: 'int32' }] });
    const codes: string[] = [];
    for (const fn of [
      () => arrowToPointBuffer(table, { schema: other }),
      () => arrowToPointBuffer(table.select(['cell', 'x', 'y', 'z'])),
    ]) {
      try {
        fn();
      } catch (error) {
        codes.push((error as OctaError).code);
      }
    }
    expect(codes).toEqual(['SCHEMA_MISMATCH', 'SCHEMA_MISMATCH']);
  });
});
