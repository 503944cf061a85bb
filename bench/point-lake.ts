/**
 * The generated lake of bench/query and bench/export: N points of smooth terrain over a 1 km
 * square and 30 days (frame cartesian:0,0,0,1024, LOD 12, table `points`), built once under
 * bench/out/query-lake-N and reused.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingest } from '../src/lake/ingest/ingest.js';
import type { Source, SourceChunk } from '../src/lake/sources/index.js';
import { LocalStorage } from '../src/lake/storage/local-storage.js';
import { BENCH_DIR, seeded } from './harness.js';

/** Days of time the points span. */
export const DAYS = 30;
const T0_US = BigInt(Date.UTC(2025, 3, 1)) * 1000n;

/** Smooth terrain (20–100 m) over the 1 km square. */
const terrain = (x: number, y: number) =>
  60 + 25 * Math.sin(x / 97) * Math.cos(y / 131) + 12 * Math.sin((x + 2 * y) / 53) + 3 * Math.cos(x / 11);

/**
 * `rows` points: x, y uniform over 1000 m, z = terrain + noise (±~1.5 m, a few tall returns), time
 * uniform over 30 days arriving in time order (a sensor stream), an intensity payload.
 */
export function pointSource(rows: number): Source {
  return {
    format: 'generated',
    columns: [
      { name: 'x', type: 'float64' },
      { name: 'y', type: 'float64' },
      { name: 'z', type: 'float64' },
      { name: 'time', type: 'timestamp_us' },
      { name: 'intensity', type: 'int32' },
    ],
    identity: { kind: 'stream' },
    async *chunks({ chunkRows = 1 << 16 } = {}) {
      const rand = seeded(rows);
      const spanUs = DAYS * 86400e6;
      for (let first = 0; first < rows; first += chunkRows) {
        const n = Math.min(chunkRows, rows - first);
        const x = new Float64Array(n);
        const y = new Float64Array(n);
        const z = new Float64Array(n);
        const time = new BigInt64Array(n);
        const intensity = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          x[i] = rand() * 1000;
          y[i] = rand() * 1000;
          const noise = (rand() + rand() + rand() - 1.5) * 1.5;
          const tall = rand() < 0.05 ? rand() * 25 : 0; // vegetation / buildings
          z[i] = terrain(x[i]!, y[i]!) + noise + tall;
          time[i] = T0_US + BigInt(Math.floor(((first + i + rand()) / rows) * spanUs));
          intensity[i] = Math.floor(rand() * 4096);
        }
        const chunk: SourceChunk = {
          firstRow: first + 1,
          rows: n,
          rowNumbers: Float64Array.from({ length: n }, (_, i) => first + 1 + i),
          columns: {
            x: { type: 'float64', values: x },
            y: { type: 'float64', values: y },
            z: { type: 'float64', values: z },
            time: { type: 'timestamp_us', values: time },
            intensity: { type: 'int32', values: intensity },
          },
          rejects: [],
          position: { rows: first + n },
        };
        yield chunk;
      }
    },
    async close() {},
  };
}

/** Where the lake of `rows` points lives. */
export const pointLakeDir = (rows: number): string => join(BENCH_DIR, `query-lake-${rows}`);

/**
 * Builds the lake of `rows` points unless a completed build is cached (a mark file written last).
 * @returns the lake directory
 */
export async function buildPointLake(rows: number): Promise<string> {
  const lakeDir = pointLakeDir(rows);
  const doneMark = join(lakeDir, '.bench-complete');
  mkdirSync(BENCH_DIR, { recursive: true });
  if (!existsSync(doneMark)) {
    rmSync(lakeDir, { recursive: true, force: true });
    const t0 = performance.now();
    const storage = await LocalStorage.create({ root: lakeDir });
    const summary = await ingest({
      storage,
      table: 'points',
      inputs: [{ source: pointSource(rows), name: 'bench-query' }],
      frame: 'cartesian:0,0,0,1024',
      lod: 12,
      time: 'time',
      rejectFile: null,
    });
    console.error(
      `built lake: ${summary.rows_committed} rows, ${summary.files} files in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    writeFileSync(doneMark, JSON.stringify(summary));
  }
  return lakeDir;
}
