/**
 * Opening a lake's storage from what a user types: a directory path (or a `file://` URL).
 */
import { fileURLToPath } from 'node:url';
import { OctaError } from '../lattice/errors.js';
import { LocalStorage } from './local-storage.js';
import type { Storage } from './storage.js';

/**
 * The storage behind a lake location.
 * @param lake - a directory path or `file://` URL
 * @throws {OctaError} INVALID_ARGUMENT for a location this build cannot open
 */
export async function openStorage(lake: string): Promise<Storage> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(lake) && !lake.startsWith('file://')) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'only local lakes (a directory or file:// URL) can be opened',
      lake,
    );
  }
  return LocalStorage.create({ root: lake.startsWith('file://') ? fileURLToPath(lake) : lake });
}
