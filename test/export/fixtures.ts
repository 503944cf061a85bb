/**
 * Seeded fixtures for the export tests: points with real Index64 ids and every payload type, and
 * the plain row objects the independent readers are compared against.
 */

/** A deterministic PRNG, so every failure reproduces. */
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { mulberry32 as makeRandom } from '../../src/demo/demo-scene.js';
import { createPointSchema, type PointChunk, type PointSchema } from '../../src/export/index.js';
import { latticeToIndex64 } from '../../src/lattice/index.js';

export { makeRandom };

/** A random signed 64-bit value from 32-bit halves; edges come up often. */
export function randomInt64(random: () => number): bigint {
  const pick = random();
  if (pick < 0.03) return -(1n << 63n);
  if (pick < 0.06) return (1n << 63n) - 1n;
  if (pick < 0.09) return 0n;
  const hi = BigInt(Math.floor(random() * 2 ** 32));
  const lo = BigInt(Math.floor(random() * 2 ** 32));
  return BigInt.asIntN(64, (hi << 32n) | lo);
}

export const LOD = 7;
export const FRAME = { id: 3, kind: 'cartesian', origin: [0, 0, 0], edge: 1024 };
/** A payload name that only works quoted, to hold SQL quoting to account. */
export const ODD_NAME = 'Ω "odd" name';

/** The schema with one payload column of every type (plus `seq`, the input row number). */
export function fullSchema(): PointSchema {
  return createPointSchema({
    payload: [
      { name: 'seq', type: 'int32' },
      { name: 'intensity', type: 'float64' },
      { name: 'class', type: 'int32' },
      { name: 'gps', type: 'int64' },
      { name: 'flag', type: 'bool' },
      { name: 'label', type: 'utf8' },
      { name: ODD_NAME, type: 'float64' },
    ],
  });
}

/** One input row as plain values (null for null), in the schema's column order. */
export interface Row {
  cell: bigint;
  x: number;
  y: number;
  z: number;
  time: bigint;
  seq: number;
  intensity: number | null;
  class: number | null;
  gps: bigint | null;
  flag: boolean | null;
  label: string | null;
  odd: number | null;
}

const LABELS = ['', 'ground', 'Gebäude', '建物', 'satellite 🛰️', 'tab\tand "quote"', 'naïve café'];

/**
 * Random rows with Index64 ids (header 10: negative as INT64) at `LOD`, in random order, with
 * duplicate cells and roughly 20% nulls in every payload column but `seq`.
 */
export function makeRows(count: number, seed: number, start = 0): Row[] {
  const random = makeRandom(seed);
  const side = 2 ** (LOD + 1);
  const rows: Row[] = [];
  const nullish = <T>(value: T): T | null => (random() < 0.2 ? null : value);
  for (let i = 0; i < count; i++) {
    const reuse = i > 0 && random() < 0.1;
    const cell = reuse
      ? rows[Math.floor(random() * rows.length)]!.cell
      : BigInt.asIntN(
          64,
          latticeToIndex64(
            Math.floor(random() * side),
            Math.floor(random() * side),
            Math.floor(random() * side),
            {
              lod: LOD,
              frame: FRAME.id,
            },
          ),
        );
    rows.push({
      cell,
      x: (random() - 0.5) * 2000,
      y: random() * 1e-9,
      z: -random() * 1e6,
      time: 1_700_000_000_000_000n + BigInt(Math.floor(random() * 86_400e6)) - 3_600_000_000n * BigInt(i % 3),
      seq: start + i,
      intensity: nullish(random() * 100),
      class: nullish(Math.floor(random() * 2 ** 32) - 2 ** 31),
      gps: nullish(randomInt64(random)),
      flag: nullish(random() < 0.5),
      label: nullish(LABELS[Math.floor(random() * LABELS.length)]!),
      odd: nullish(random()),
    });
  }
  return rows;
}

/** The rows as a chunk for `PointBuffer.append`, nulls as validity bytes. */
export function rowsToChunk(rows: readonly Row[]): PointChunk {
  const n = rows.length;
  const valid = (pick: (r: Row) => unknown) => Uint8Array.from(rows, (r) => (pick(r) === null ? 0 : 1));
  return {
    cell: BigInt64Array.from(rows, (r) => r.cell),
    x: Float64Array.from(rows, (r) => r.x),
    y: Float64Array.from(rows, (r) => r.y),
    z: Float64Array.from(rows, (r) => r.z),
    time: BigInt64Array.from(rows, (r) => r.time),
    payload: {
      seq: Int32Array.from(rows, (r) => r.seq),
      intensity: {
        values: Float64Array.from(rows, (r) => r.intensity ?? 0),
        valid: valid((r) => r.intensity),
      },
      class: { values: Int32Array.from(rows, (r) => r.class ?? 0), valid: valid((r) => r.class) },
      gps: { values: BigInt64Array.from(rows, (r) => r.gps ?? 0n), valid: valid((r) => r.gps) },
      flag: { values: Uint8Array.from(rows, (r) => (r.flag ? 1 : 0)), valid: valid((r) => r.flag) },
      label: rows.map((r) => r.label),
      [ODD_NAME]: {
        values: new Float64Array(n).map((_, i) => rows[i]!.odd ?? 0),
        valid: valid((r) => r.odd),
      },
    },
  };
}

/** Brute-force order of a file: by cell (signed), ties in input order. */
export function sortRows(rows: readonly Row[]): Row[] {
  return [...rows].sort((a, b) => (a.cell < b.cell ? -1 : a.cell > b.cell ? 1 : a.seq - b.seq));
}

/** A point file's rows as plain rows, read by an independent reader (hyparquet), in file order. */
export async function readRows(bytes: Uint8Array): Promise<Row[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const got = await parquetReadObjects({
    file,
    compressors,
    parsers: { timestampFromMicroseconds: (micros: bigint) => micros },
  });
  return got.map((r) => ({
    cell: r.cell,
    x: r.x,
    y: r.y,
    z: r.z,
    time: r.time,
    seq: r.seq,
    intensity: r.intensity ?? null,
    class: r.class ?? null,
    gps: r.gps ?? null,
    flag: r.flag ?? null,
    label: r.label ?? null,
    odd: r[ODD_NAME] ?? null,
  }));
}
