/** The generated CSV that bench/ingest and bench/s3 load: one file per row count, cached. */
import { once } from 'node:events';
import { createWriteStream, existsSync, renameSync } from 'node:fs';
import { seeded } from './harness.js';

/**
 * Writes `rows` points of a sensor field (`x,y,z,t,value`) over a 1 km cube with epoch-second times,
 * at a constant rate of 1,000,000 points per 6 days (5M points span 30 days, 20M span 120): a longer
 * stream, not a denser one, so two sizes show whether memory depends on how much has been read.
 * Written to a temporary name and renamed, so an interrupted run never leaves a short file cached.
 * @param path - the CSV; kept when it exists already
 * @param rows - data rows (the seed, so each size is always the same file)
 */
export async function generateSensorCsv(path: string, rows: number): Promise<void> {
  if (existsSync(path)) return;
  const rand = seeded(rows);
  const out = createWriteStream(`${path}.tmp`);
  const t0 = Date.UTC(2025, 3, 1) / 1000;
  out.write('x,y,z,t,value\n');
  let buf = '';
  for (let i = 0; i < rows; i++) {
    const t = t0 + (i / 1_000_000) * 6 * 86400;
    buf += `${(rand() * 1000).toFixed(3)},${(rand() * 1000).toFixed(3)},${(rand() * 200).toFixed(3)},${t.toFixed(3)},${(rand() * 100).toFixed(2)}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  renameSync(`${path}.tmp`, path);
}
