import { describe, expect, it } from 'vitest';
import {
  argsortInt64,
  createPointSchema,
  int64Range,
  isSortedInt64,
  PointBuffer,
  type PointChunk,
} from '../../src/export/index.js';
import { OctaError } from '../../src/lattice/index.js';
import { fullSchema, makeRandom, makeRows, randomInt64, rowsToChunk, sortRows } from './fixtures.js';

function expectOctaError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OctaError);
    expect((error as OctaError).code).toBe(code);
    return;
  }
  expect.fail(`expected OctaError ${code}`);
}

function bareChunk(cells: bigint[]): PointChunk {
  const n = cells.length;
  return {
    cell: BigInt64Array.from(cells),
    x: new Float64Array(n).map((_, i) => i),
    y: new Float64Array(n),
    z: new Float64Array(n),
    time: new BigInt64Array(n),
  };
}

describe('argsortInt64', () => {
  it('orders random signed 64-bit values exactly as a BigInt sort, stably', () => {
    for (const [seed, n] of [
      [1, 0],
      [2, 1],
      [3, 7],
      [4, 1000],
      [5, 20_000],
    ] as const) {
      const random = makeRandom(seed);
      // Few distinct values so ties are common, plus the extremes.
      const pool = Array.from({ length: Math.max(1, n >> 3) }, () => randomInt64(random));
      const values = BigInt64Array.from({ length: n }, () => pool[Math.floor(random() * pool.length)]!);
      const expected = Array.from(values.keys()).sort((a, b) =>
        values[a]! < values[b]! ? -1 : values[a]! > values[b]! ? 1 : a - b,
      );
      expect(Array.from(argsortInt64(values))).toEqual(expected);
    }
  });

  it('handles ids that differ only in the sign bit, the low word, or not at all', () => {
    const values = BigInt64Array.from([
      -1n,
      (1n << 63n) - 1n,
      -(1n << 63n),
      0n,
      1n << 32n,
      (1n << 32n) - 1n,
      -(1n << 32n),
      0n,
      -1n,
    ]);
    const order = Array.from(argsortInt64(values), (i) => values[i]);
    expect(order).toEqual([...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(Array.from(argsortInt64(values)).filter((i) => values[i] === 0n)).toEqual([3, 7]);
  });

  it('returns the identity for sorted input and agrees with isSortedInt64 and int64Range', () => {
    const sorted = BigInt64Array.from([-5n, -5n, 2n, 9n]);
    expect(isSortedInt64(sorted)).toBe(true);
    expect(Array.from(argsortInt64(sorted))).toEqual([0, 1, 2, 3]);
    const unsorted = BigInt64Array.from([3n, -(1n << 63n), (1n << 63n) - 1n]);
    expect(isSortedInt64(unsorted)).toBe(false);
    expect(int64Range(unsorted)).toEqual({ min: -(1n << 63n), max: (1n << 63n) - 1n });
    expect(int64Range(new BigInt64Array(0))).toBeUndefined();
  });
});

describe('PointBuffer', () => {
  it('appends chunks, grows, and reports rows and a byte size that grows with them', () => {
    const buffer = PointBuffer.create({ schema: fullSchema(), capacity: 4 });
    const initial = buffer.byteSize;
    const rows = makeRows(3000, 11);
    for (let at = 0; at < rows.length; at += 700) buffer.append(rowsToChunk(rows.slice(at, at + 700)));
    expect(buffer.rows).toBe(3000);
    expect(buffer.capacity).toBeGreaterThanOrEqual(3000);
    // 5 required columns (40 B/row) + payload values and validity: far above the initial size.
    expect(buffer.byteSize).toBeGreaterThan(initial);
    expect(buffer.byteSize).toBeGreaterThanOrEqual(buffer.capacity * 40);
    const more = buffer.byteSize;
    buffer.append(rowsToChunk(makeRows(buffer.capacity, 12)));
    expect(buffer.byteSize).toBeGreaterThan(more);

    const label = buffer.getColumn('label');
    if (label.type !== 'utf8') throw new Error('label is utf8');
    const decoder = new TextDecoder();
    for (const i of [0, 1, 1234, 2999]) {
      const text = decoder.decode(label.data.subarray(label.offsets[i], label.offsets[i + 1]));
      expect(label.valid[i] ? text : null).toBe(rows[i]!.label);
    }
    const gps = buffer.getColumn('gps');
    if (gps.type !== 'int64') throw new Error('gps is int64');
    expect(gps.values[2999]).toBe(rows[2999]!.gps ?? 0n);
    expect(Boolean(gps.valid?.[2999])).toBe(rows[2999]!.gps !== null);
  });

  it('sorts by cell: take(sortByCell()) equals a brute-force sort of the rows', () => {
    const rows = makeRows(5000, 21);
    const buffer = PointBuffer.create({ schema: fullSchema() });
    buffer.append(rowsToChunk(rows));
    const sorted = buffer.take(buffer.sortByCell());
    const expected = sortRows(rows);
    expect(Array.from(sorted.getCells())).toEqual(expected.map((r) => r.cell));
    const seq = sorted.getColumn('seq');
    expect(Array.from(seq.type === 'int32' ? seq.values : [])).toEqual(expected.map((r) => r.seq));
    expect(isSortedInt64(sorted.getCells())).toBe(true);
    expect(sorted.rows).toBe(5000);
    // Index64 ids have the top bit set: every cell is negative as INT64.
    expect(sorted.getCells().every((c) => c < 0n)).toBe(true);
  });

  it('takes subsets, slices and clears without touching the source', () => {
    const rows = makeRows(100, 31);
    const buffer = PointBuffer.create({ schema: fullSchema() });
    buffer.append(rowsToChunk(rows));
    const picked = buffer.take([99, 0, 50, 50]);
    const label = picked.getColumn('label');
    expect(label.type === 'utf8' && Array.from(label.valid)).toEqual(
      [99, 0, 50, 50].map((i) => (rows[i]!.label === null ? 0 : 1)),
    );
    expect(Array.from(picked.getCells())).toEqual([99, 0, 50, 50].map((i) => rows[i]!.cell));
    const middle = buffer.slice(10, 20);
    expect(Array.from(middle.getTimes())).toEqual(rows.slice(10, 20).map((r) => r.time));
    expect(buffer.slice(5, 5).rows).toBe(0);
    const byteSize = buffer.byteSize;
    buffer.clear();
    expect(buffer.rows).toBe(0);
    expect(buffer.byteSize).toBe(byteSize);
    expect(middle.rows).toBe(10);
    expectOctaError(() => buffer.take([0]), 'OUT_OF_RANGE');
    expectOctaError(() => middle.slice(3, 11), 'OUT_OF_RANGE');
  });

  it('computes cell range, time range and bounding box', () => {
    const rows = makeRows(500, 41);
    const buffer = PointBuffer.create({ schema: fullSchema() });
    expect(buffer.getStatistics()).toBeUndefined();
    buffer.append(rowsToChunk(rows));
    const stats = buffer.getStatistics()!;
    const cells = rows.map((r) => r.cell).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const times = rows.map((r) => r.time).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(stats.rows).toBe(500);
    expect([stats.cellMin, stats.cellMax]).toEqual([cells[0], cells.at(-1)]);
    expect([stats.timeMin, stats.timeMax]).toEqual([times[0], times.at(-1)]);
    expect(stats.bbox.minX).toBe(Math.min(...rows.map((r) => r.x)));
    expect(stats.bbox.maxZ).toBe(Math.max(...rows.map((r) => r.z)));
  });

  it('keeps the 64 bits of unsigned cell input and of NaN-like bit patterns', () => {
    const schema = createPointSchema();
    const buffer = PointBuffer.create({ schema });
    const raw = [0xfff8_0000_0000_0001n, 0x8000_0000_0000_0000n, 0xffff_ffff_ffff_ffffn];
    buffer.append({ ...bareChunk([0n, 0n, 0n]), cell: BigUint64Array.from(raw) });
    const moved = buffer.take([2, 1, 0]);
    expect(Array.from(moved.getCells(), (c) => BigInt.asUintN(64, c))).toEqual([...raw].reverse());
  });

  it('accepts Arrow-style utf8 input and strings alike', () => {
    const schema = createPointSchema({ payload: [{ name: 'name', type: 'utf8' }] });
    const buffer = PointBuffer.create({ schema, capacity: 1 });
    const data = new TextEncoder().encode('xxabcdé');
    buffer.append({
      ...bareChunk([1n, 2n, 3n]),
      payload: { name: { offsets: Int32Array.from([2, 5, 5, 8]), data, valid: Uint8Array.from([1, 0, 1]) } },
    });
    buffer.append({ ...bareChunk([4n]), payload: { name: ['ß'] } });
    const view = buffer.getColumn('name');
    if (view.type !== 'utf8') throw new Error('utf8');
    const text = (i: number) =>
      new TextDecoder().decode(view.data.subarray(view.offsets[i], view.offsets[i + 1]));
    expect([text(0), view.valid[1], text(2), text(3)]).toEqual(['abc', 0, 'dé', 'ß']);
  });

  it('rejects a bad chunk whole, with a code, and stays unchanged', () => {
    const buffer = PointBuffer.create({ schema: fullSchema() });
    buffer.append(rowsToChunk(makeRows(10, 51)));
    const good = rowsToChunk(makeRows(5, 52));
    const cases: [PointChunk, string][] = [
      [{ ...good, x: new Float64Array(4) }, 'INVALID_INPUT'],
      [{ ...good, time: new Float64Array(5) as unknown as BigInt64Array }, 'SCHEMA_MISMATCH'],
      [{ ...good, payload: { ...good.payload, extra: new Float64Array(5) } }, 'SCHEMA_MISMATCH'],
      [{ ...good, payload: { ...good.payload, label: undefined as unknown as string[] } }, 'SCHEMA_MISMATCH'],
      [{ ...good, payload: { ...good.payload, class: new Float64Array(5) } }, 'SCHEMA_MISMATCH'],
      [
        { ...good, payload: { ...good.payload, label: [1, 2, 3, 4, 5] as unknown as string[] } },
        'SCHEMA_MISMATCH',
      ],
      [
        {
          ...good,
          payload: { ...good.payload, intensity: { values: new Float64Array(5), valid: new Uint8Array(2) } },
        },
        'INVALID_INPUT',
      ],
    ];
    for (const [chunk, code] of cases) {
      expectOctaError(() => buffer.append(chunk), code);
      expect(buffer.rows).toBe(10);
    }
    expectOctaError(() => PointBuffer.create({ schema: fullSchema(), capacity: -1 }), 'INVALID_ARGUMENT');
  });
});
