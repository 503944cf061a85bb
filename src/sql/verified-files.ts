/**
 * Checks of a local lake's committed files against their catalog records before DuckDB reads them:
 * size always, SHA-256 when a query reads them (once per process while the file is unchanged).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FileRecord } from '../lake/catalog/catalog-state.js';
import { OctaError } from '../lattice/errors.js';

/** Local files whose SHA-256 matched their record: path → `size:mtime:sha256` when checked. */
const verifiedLocal = new Map<string, string>();

/**
 * Checks a committed local file against its catalog record: its size, and with `hash` its SHA-256
 * (skipped when the same file, unchanged since, was verified before in this process).
 * @throws {OctaError} CORRUPT naming the file when it is missing, truncated, replaced or damaged
 */
export async function checkLocalFile(record: FileRecord, path: string, hash: boolean): Promise<void> {
  const fail = (what: string) =>
    new OctaError(
      'CORRUPT',
      `${record.key}: ${what}; the lake's file does not match its catalog record (run \`verify()\`)`,
      record.key,
      { params: ['verify()'] },
    );
  let size: number;
  let mtime: number;
  try {
    const info = await stat(path);
    size = info.size;
    mtime = info.mtimeMs;
  } catch {
    throw fail('the file is missing');
  }
  if (size !== record.bytes) throw fail(`${size} bytes on disk, ${record.bytes} in the catalog`);
  if (!hash) return;
  const tag = `${size}:${mtime}:${record.sha256}`;
  if (verifiedLocal.get(path) === tag) return;
  const digest = createHash('sha256');
  for await (const chunk of createReadStream(path)) digest.update(chunk as Buffer);
  const sha = digest.digest('hex');
  if (sha !== record.sha256) throw fail(`SHA-256 ${sha}, the catalog says ${record.sha256}`);
  verifiedLocal.set(path, tag);
}
