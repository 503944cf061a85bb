/**
 * Where a lake can be, from what a user types: a directory path, a `file://` URL, or
 * `s3://bucket/prefix`. Apart from {@link openStorage} (./open.ts), so that a front end checks a
 * location without loading any storage.
 */
import { statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OctaError } from '../../lattice/errors.js';

/**
 * Whether a lake location names an S3 lake (`s3://bucket/prefix`) rather than a local directory.
 * @param lake - as the user typed it
 */
export function isS3Lake(lake: string): boolean {
  return lake.startsWith('s3://');
}

/** The forms a lake location takes, for messages. */
export const LAKE_LOCATIONS = 'a directory path, a file:// URL or an s3://bucket/prefix URL';

/**
 * A lake location in the form to show and to open: an `s3://` URL unchanged, a path or `file://`
 * URL as an absolute path. Every command reads `--lake` through this one function.
 * @param lake - as the user typed it
 * @throws {OctaError} INVALID_ARGUMENT for an empty location, a URL scheme other than s3:// and
 *   file://, or a local path that cannot hold a lake: one that is not a directory (or under one
 *   that is not), or one inside a kernel file system such as /proc or /sys
 */
export function resolveLake(lake: string): string {
  if (typeof lake !== 'string' || lake.trim() === '') {
    throw new OctaError('INVALID_ARGUMENT', `a lake is ${LAKE_LOCATIONS}`, lake);
  }
  if (isS3Lake(lake)) return lake;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(lake);
  if (scheme !== null && !lake.startsWith('file://')) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `lakes at ${scheme[1]}:// are not supported: a lake is ${LAKE_LOCATIONS}`,
      lake,
    );
  }
  const path = resolve(lake.startsWith('file://') ? fileURLToPath(lake) : lake);
  checkLocalLake(path);
  return path;
}

// statfs(2) magic numbers of Linux's kernel file systems: proc, sysfs, devpts, debugfs, tracefs,
// securityfs, cgroup, cgroup2, pstore, bpf, configfs, efivarfs. Reads there never end or mean nothing.
const KERNEL_FILE_SYSTEMS = new Set([
  0x9fa0, 0x62656572, 0x1cd1, 0x64626720, 0x74726163, 0x73636673, 0x27e0eb, 0x63677270, 0x6165676c,
  0xcafe4a11, 0x62656570, 0xde5e81e0,
]);

/** Refuses a local lake path that is not a directory or lies in a kernel file system. */
function checkLocalLake(path: string): void {
  let at = path;
  // The nearest part of the path that exists decides: a lake is created below it.
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(at).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(at) !== at) {
        at = dirname(at);
        continue;
      }
      return; // unreadable: opening the storage reports it
    }
    if (!isDirectory) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        at === path
          ? 'the lake location is not a directory'
          : `the lake location is under ${at}, which is not a directory`,
        path,
      );
    }
    if (process.platform === 'linux' && KERNEL_FILE_SYSTEMS.has(statfsSync(at).type)) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        `the lake location is in a kernel file system (${at}), not on a disk`,
        path,
      );
    }
    return;
  }
}
