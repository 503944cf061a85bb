import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where the shared vectors live: ../shared/vectors beside the repository, or $OCTA_VECTORS. */
export const VECTORS_DIR =
  process.env.OCTA_VECTORS ?? fileURLToPath(new URL('../../shared/vectors/', import.meta.url));

/**
 * Reads a JSON-lines vector file. Throws (failing the suite) when it is missing or empty, so a
 * checkout without the vectors can never pass by testing nothing.
 */
export function readVectors<T = Record<string, unknown>>(name: string): T[] {
  const text = readFileSync(`${VECTORS_DIR}/${name}`, 'utf8');
  const rows = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
  if (rows.length === 0) throw new Error(`vector file ${name} is empty`);
  return rows;
}
