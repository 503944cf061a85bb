/** The generated CSV that bench/ingest and bench/s3 load: one file per row count and shape, cached. */
import { once } from 'node:events';
import { createWriteStream, existsSync, renameSync } from 'node:fs';
import { seeded } from './harness.js';

/**
 * The shape of a generated input. The default (time-ordered rows, 3-decimal numbers, epoch seconds)
 * is the file bench/ingest has always used; the others are what a historical export or a shuffled
 * file looks like (issue 16).
 */
export interface SensorCsvShape {
  /** `time`: times rise row by row; `random`: each row's time is drawn uniformly over the span. */
  order?: 'time' | 'random';
  /** `short`: coordinates and values with 3 (values 2) decimals; `full`: shortest round-trip doubles. */
  digits?: 'short' | 'full';
  /** `epoch`: seconds with 3 decimals; `iso`: ISO 8601 UTC text with milliseconds. */
  times?: 'epoch' | 'iso';
}

/** The cached file's name for `rows` rows of a shape (the default shape keeps its old name). */
export function sensorCsvName(
  rows: number,
  { order = 'time', digits = 'short', times = 'epoch' }: SensorCsvShape = {},
): string {
  const tags = [
    order === 'random' ? 'random' : '',
    digits === 'full' ? 'full' : '',
    times === 'iso' ? 'iso' : '',
  ]
    .filter((t) => t !== '')
    .map((t) => `-${t}`)
    .join('');
  return `points-${rows}-6d-per-M${tags}.csv`;
}

/**
 * Writes `rows` points of a sensor field (`x,y,z,t,value`) over a 1 km cube, at 1,000,000 points per
 * 6 days (5M points span 30 days, 20M span 120): a longer stream, not a denser one, so two sizes show
 * whether memory depends on how much has been read. Written to a temporary name and renamed, so an
 * interrupted run never leaves a short file cached.
 * @param path - the CSV; kept when it exists already
 * @param rows - data rows (the seed, so each size and shape is always the same file)
 * @param shape - row order, number precision and time notation (default: time-ordered, 3 decimals, epoch)
 */
export async function generateSensorCsv(
  path: string,
  rows: number,
  shape: SensorCsvShape = {},
): Promise<void> {
  if (existsSync(path)) return;
  const { order = 'time', digits = 'short', times = 'epoch' } = shape;
  const rand = seeded(rows);
  const out = createWriteStream(`${path}.tmp`);
  const t0 = Date.UTC(2025, 3, 1) / 1000;
  const span = (rows / 1_000_000) * 6 * 86400;
  const num = digits === 'full' ? (v: number) => String(v) : (v: number, d = 3) => v.toFixed(d);
  const time =
    times === 'iso'
      ? (t: number) => new Date(Math.round(t * 1000)).toISOString()
      : (t: number) => t.toFixed(3);
  out.write('x,y,z,t,value\n');
  let buf = '';
  for (let i = 0; i < rows; i++) {
    const x = rand() * 1000;
    const y = rand() * 1000;
    const z = rand() * 200;
    const value = rand() * 100;
    const t = t0 + (order === 'random' ? rand() * span : (i / 1_000_000) * 6 * 86400);
    buf += `${num(x)},${num(y)},${num(z)},${time(t)},${num(value, 2)}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  renameSync(`${path}.tmp`, path);
}
