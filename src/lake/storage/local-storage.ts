/**
 * Storage on the local file system. Writes go to a temporary file in the target's directory that
 * is fsynced and then renamed (replace) or hard-linked (create-exclusive) into place, so an object
 * appears whole or not at all, and `link` gives the exclusivity that the catalog's commit protocol
 * needs even between processes: it fails with EEXIST when the name exists, atomically, on every
 * POSIX file system (NFS included), which `open(O_EXCL)` followed by a write would not give.
 */
import { randomBytes } from 'node:crypto';
import type { Dirent, Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OctaError } from '../../lattice/errors.js';
import {
  checkKey,
  checkPrefix,
  compareKeys,
  notFound,
  type Storage,
  type StorageEntry,
  TEMP_PREFIX,
} from './storage.js';

const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException | null)?.code;
const isAbsent = (error: unknown) => ['ENOENT', 'ENOTDIR', 'EISDIR'].includes(errnoOf(error) ?? '');
// Platforms and file systems that cannot fsync a directory say so with one of these.
const NO_DIR_SYNC = ['EINVAL', 'ENOTSUP', 'EPERM', 'EISDIR', 'EBADF', 'EACCES'];

/**
 * The IO_ERROR for a failed operation, with the system's reason but no stack.
 * @param action - what failed, e.g. `write`
 * @param path - the file or directory
 * @param error - what the file system threw
 */
function ioError(action: string, path: string, error: unknown): OctaError {
  if (error instanceof OctaError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const hint = errnoOf(error) === 'ENOSPC' ? '; free some space' : '; check the path and its permissions';
  return new OctaError('IO_ERROR', `cannot ${action} ${path} (${reason})${hint}`, path);
}

const entryOf = (key: string, stats: Stats): StorageEntry => ({
  key,
  size: stats.size,
  mtimeMs: stats.mtimeMs,
});

/** A lake on the local file system, rooted at an absolute directory. */
export class LocalStorage implements Storage {
  readonly url: string;
  /** Absolute path of the lake root. */
  readonly root: string;

  private constructor(root: string) {
    this.root = root;
    this.url = pathToFileURL(root).href;
  }

  /**
   * Opens (creating when needed) a lake directory.
   * @param options.root - the lake directory, absolute or relative to the working directory
   * @returns the storage
   * @throws {OctaError} INVALID_ARGUMENT for an empty root; IO_ERROR when it cannot be created or
   *   is not a directory
   */
  static async create({ root }: { root: string }): Promise<LocalStorage> {
    if (typeof root !== 'string' || root === '') {
      throw new OctaError('INVALID_ARGUMENT', 'the lake root must be a non-empty path', root);
    }
    const path = resolve(root);
    try {
      await fs.mkdir(path, { recursive: true });
      if (!(await fs.stat(path)).isDirectory()) throw new Error('not a directory');
    } catch (error) {
      throw ioError('use as a lake directory', path, error);
    }
    return new LocalStorage(path);
  }

  localPath(key: string): string {
    return this.pathOf(checkKey(key));
  }

  /** Nothing to release: every operation opens and closes its own file handles. */
  close(): void {}

  async read(key: string): Promise<Uint8Array> {
    const path = this.pathOf(checkKey(key));
    try {
      const bytes = await fs.readFile(path);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      if (isAbsent(error)) throw notFound(this.url, key);
      throw ioError('read', path, error);
    }
  }

  async readRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const path = this.pathOf(checkKey(key));
    for (const [what, value] of [
      ['offset', offset],
      ['length', length],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new OctaError('INVALID_ARGUMENT', `range ${what} must be an integer >= 0`, value);
      }
    }
    let handle: FileHandle;
    try {
      handle = await fs.open(path, 'r');
    } catch (error) {
      if (isAbsent(error)) throw notFound(this.url, key);
      throw ioError('open', path, error);
    }
    try {
      const size = (await handle.stat()).size;
      const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await handle.read(out, done, out.length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return out.subarray(0, done);
    } catch (error) {
      throw ioError('read', path, error);
    } finally {
      await handle.close();
    }
  }

  async write(key: string, data: Uint8Array): Promise<void> {
    const path = this.pathOf(checkKey(key));
    const { tmp, synced } = await this.stage(path, data);
    try {
      await fs.rename(tmp, path);
    } catch (error) {
      await discard(tmp);
      throw ioError('write', path, error);
    }
    await syncDirectories(synced, dirname(path));
  }

  async writeIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const path = this.pathOf(checkKey(key));
    const { tmp, synced } = await this.stage(path, data);
    try {
      await fs.link(tmp, path);
    } catch (error) {
      if (errnoOf(error) === 'EEXIST') return false;
      throw ioError('create', path, error);
    } finally {
      await discard(tmp);
    }
    await syncDirectories(synced, dirname(path));
    return true;
  }

  async list(prefix: string, startAfter?: string): Promise<StorageEntry[]> {
    checkPrefix(prefix);
    const out: StorageEntry[] = [];
    await this.walk(prefix.slice(0, prefix.lastIndexOf('/') + 1), prefix, out);
    const after = startAfter === undefined ? out : out.filter((e) => compareKeys(e.key, startAfter) > 0);
    return after.sort((a, b) => compareKeys(a.key, b.key));
  }

  async stat(key: string): Promise<StorageEntry | null> {
    const path = this.pathOf(checkKey(key));
    try {
      const stats = await fs.stat(path);
      return stats.isFile() ? entryOf(key, stats) : null;
    } catch (error) {
      if (isAbsent(error)) return null;
      throw ioError('stat', path, error);
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(checkKey(key));
    try {
      await fs.unlink(path);
    } catch (error) {
      if (isAbsent(error)) return;
      // A directory is not an object; macOS reports unlinking one as EPERM.
      const isDirectory = await fs.stat(path).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!isDirectory) throw ioError('delete', path, error);
    }
  }

  private pathOf(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  /**
   * Writes `data` to a fresh temporary file beside `path`, fsynced and closed; creates missing
   * directories on the way.
   * @returns the temporary file and the highest directory whose entries changed
   */
  private async stage(path: string, data: Uint8Array): Promise<{ tmp: string; synced: string }> {
    if (!(data instanceof Uint8Array)) {
      throw new OctaError('INVALID_ARGUMENT', 'object data must be a Uint8Array', typeof data);
    }
    const dir = dirname(path);
    const tmp = join(dir, `${TEMP_PREFIX}${randomBytes(12).toString('hex')}`);
    let created: string | undefined;
    try {
      created = await fs.mkdir(dir, { recursive: true });
      const handle = await fs.open(tmp, 'wx');
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      await discard(tmp);
      throw ioError('write', path, error);
    }
    // A created directory is durable only once its parent is synced too.
    return { tmp, synced: created === undefined ? dir : dirname(created) };
  }

  private async walk(dirKey: string, prefix: string, out: StorageEntry[]): Promise<void> {
    const dir = dirKey === '' ? this.root : this.pathOf(dirKey.slice(0, -1));
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isAbsent(error)) return;
      throw ioError('list', dir, error);
    }
    const files: string[] = [];
    for (const entry of entries) {
      const key = dirKey + entry.name;
      if (!isListable(entry.name)) continue;
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`))
          await this.walk(`${key}/`, prefix, out);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        files.push(key);
      }
    }
    const stats = await Promise.all(
      files.map((key) =>
        fs.stat(this.pathOf(key)).then(
          (stats) => entryOf(key, stats),
          (error: unknown) => {
            // Deleted between readdir and stat: it is simply gone.
            if (isAbsent(error)) return null;
            throw ioError('stat', this.pathOf(key), error);
          },
        ),
      ),
    );
    for (const entry of stats) if (entry !== null) out.push(entry);
  }
}

/** Removes a temporary file; a failure to remove it only leaves a file that list() hides. */
async function discard(tmp: string): Promise<void> {
  await fs.rm(tmp, { force: true }).catch(() => undefined);
}

/** Whether a directory entry can be part of a key (temporary files and foreign names are skipped). */
function isListable(name: string): boolean {
  try {
    checkKey(name);
    return true;
  } catch {
    return false;
  }
}

/** Fsyncs every directory from `top` down to `bottom` (its descendant or itself). */
async function syncDirectories(top: string, bottom: string): Promise<void> {
  const chain: string[] = [];
  for (let dir = bottom; ; dir = dirname(dir)) {
    chain.push(dir);
    if (dir === top || dirname(dir) === dir) break;
  }
  for (const dir of chain) {
    let handle: FileHandle | undefined;
    try {
      handle = await fs.open(dir, 'r');
      await handle.sync();
    } catch (error) {
      if (!NO_DIR_SYNC.includes(errnoOf(error) ?? '')) throw ioError('sync directory', dir, error);
    } finally {
      await handle?.close();
    }
  }
}
