/**
 * A local copy of exactly the files a query reads from a remote lake, for a DuckDB that cannot read
 * the lake's storage itself (no httpfs). A copy lives at `<dir>/<the key's directories>/<sha256>.parquet`:
 * the Hive `lod=/t=/r=` directories stay, so DuckDB still takes the partition columns from the path,
 * and the name is the catalog's checksum, so a replaced object can never be served from a stale copy.
 *
 * Downloads run in parallel (bounded), each verified against the catalog's size and SHA-256 before
 * it is written to a temporary file that is then renamed into place: a copy appears whole or not at
 * all, so processes can share a cache directory (two that fetch the same file both rename identical
 * bytes). A hit is a copy of the right size; it is not hashed again, because only verified bytes are
 * ever renamed to a checksum name. Every use sets the copy's mtime, and after downloads the least
 * recently used copies are deleted until the cache fits its size, never one this cache holds
 * for a running query or a view.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { OctaError } from '../../lattice/errors.js';
import { checkKey, type Storage, TEMP_PREFIX } from './storage.js';

/**
 * What the cache needs of a catalog's file record (`FileRecord` in lake/catalog/records.ts): the
 * storage keeps no catalog types, so any record with these fields serves.
 */
export interface CachedFileRecord {
  key: string;
  bytes: number;
  /** Lowercase hex SHA-256 of the file's bytes. */
  sha256: string;
}

/** Default size of a file cache: 2 GiB. */
export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;
/** Temporary files older than this are left over from a crashed process and are deleted. */
const STALE_TEMP_MS = 60 * 60 * 1000;
const COPY_NAME = /^[0-9a-f]{64}\.parquet$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** Options of {@link FileCache.create}. */
export interface FileCacheOptions {
  /** The remote lake. */
  storage: Storage;
  /** The cache directory (default {@link defaultCacheDir} of the storage's url). */
  cacheDir?: string;
  /** Largest total size of the copies, in bytes (default 2 GiB). */
  maxBytes?: number;
  /** Downloads at once (default 8). */
  concurrency?: number;
}

/** What a cache did since it was created. */
export interface FileCacheStats {
  /** Files served from an existing copy. */
  hits: number;
  /** Files downloaded (and verified). */
  downloads: number;
  downloadedBytes: number;
  /** Copies deleted to keep the cache under its size. */
  evictions: number;
}

/**
 * The default cache directory of a lake: `$OCTA_CACHE_DIR/<hash>`, else
 * `$XDG_CACHE_HOME/octa-lake/<hash>`, else `~/.cache/octa-lake/<hash>`, where `<hash>` is the first
 * 16 hex digits of the SHA-256 of the storage url (one directory per lake).
 * @param url - the storage's url, e.g. `s3://bucket/prefix`
 * @param env - the environment to read (default `process.env`)
 * @returns an absolute directory path
 */
export function defaultCacheDir(url: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.OCTA_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'octa-lake');
  return join(base, createHash('sha256').update(url).digest('hex').slice(0, 16));
}

const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException | null)?.code;
const mib = (bytes: number) =>
  bytes < 1024 ** 2 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

function ioError(action: string, path: string, error: unknown): OctaError {
  if (error instanceof OctaError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new OctaError(
    'IO_ERROR',
    `file cache: cannot ${action} ${path} (${reason}); check the cache directory (OCTA_CACHE_DIR) and free space`,
    path,
  );
}

/** A cache of a remote lake's files on the local disk. */
export class FileCache {
  readonly storage: Storage;
  /** Absolute cache directory. */
  readonly dir: string;
  readonly maxBytes: number;
  readonly concurrency: number;
  readonly stats: FileCacheStats = { hits: 0, downloads: 0, downloadedBytes: 0, evictions: 0 };
  // Copies this cache must not evict, with the number of holders (running ensure calls, views).
  readonly #held = new Map<string, number>();
  // Downloads under way in this cache, by copy path, so one file is fetched once at a time.
  readonly #fetching = new Map<string, Promise<void>>();
  // Eviction passes of this cache run one after another, so two never delete for the same excess.
  #evicting: Promise<void> = Promise.resolve();

  private constructor(storage: Storage, dir: string, maxBytes: number, concurrency: number) {
    this.storage = storage;
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.concurrency = concurrency;
  }

  /**
   * Opens (creating when needed) a file cache.
   * @param options - storage, directory, size limit and download concurrency
   * @returns the cache
   * @throws {OctaError} INVALID_ARGUMENT for a bad size or concurrency; IO_ERROR when the directory
   *   cannot be created
   */
  static async create({
    storage,
    cacheDir = defaultCacheDir(storage.url),
    maxBytes = DEFAULT_CACHE_BYTES,
    concurrency = 8,
  }: FileCacheOptions): Promise<FileCache> {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        'the file cache size must be a positive number of bytes',
        maxBytes,
      );
    }
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        'file cache concurrency must be an integer in 1..256',
        concurrency,
      );
    }
    const dir = join(cacheDir);
    try {
      await fs.mkdir(dir, { recursive: true });
    } catch (error) {
      throw ioError('create', dir, error);
    }
    return new FileCache(storage, dir, maxBytes, concurrency);
  }

  /**
   * Where the copy of a file lives (whether or not it is there).
   * @param record - the file's catalog record
   * @throws {OctaError} INVALID_ARGUMENT for a bad key or checksum in the record
   */
  pathOf(record: CachedFileRecord): string {
    const key = checkKey(record.key);
    if (!SHA256.test(record.sha256)) {
      throw new OctaError('INVALID_ARGUMENT', 'a file record needs a lowercase hex SHA-256', record.key);
    }
    const slash = key.lastIndexOf('/');
    return join(this.dir, ...(slash < 0 ? [] : key.slice(0, slash).split('/')), `${record.sha256}.parquet`);
  }

  /**
   * The copy of a file when it is already cached, without downloading it.
   * @param record - the file's catalog record
   * @returns the copy's path, or null
   */
  async peek(record: CachedFileRecord): Promise<string | null> {
    const path = this.pathOf(record);
    return (await this.#isCopy(path, record.bytes)) ? path : null;
  }

  /**
   * Makes local copies of files, downloading the missing ones in parallel, each checked against
   * its catalog size and SHA-256. The copies are held (never evicted by this cache) until
   * {@link release} is called with the same records; {@link use} does both.
   * @param records - catalog records of the files (duplicates are fine)
   * @returns each key's local path
   * @throws {OctaError} INVALID_ARGUMENT when the files alone are larger than the cache;
   *   CORRUPT naming a file whose bytes do not match its catalog record (nothing of it is kept);
   *   NOT_FOUND or IO_ERROR from the storage; IO_ERROR writing the cache
   */
  async ensure(records: readonly CachedFileRecord[]): Promise<Map<string, string>> {
    const byKey = new Map(records.map((r) => [r.key, r]));
    const paths = new Map([...byKey].map(([key, r]) => [key, this.pathOf(r)]));
    const unique = new Map([...byKey].map(([key, r]) => [paths.get(key)!, r]));
    const needed = [...unique.values()].reduce((sum, r) => sum + r.bytes, 0);
    if (needed > this.maxBytes) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        `a query needs ${unique.size} file${unique.size === 1 ? '' : 's'} of ${mib(needed)}, more than the file cache holds (${mib(this.maxBytes)}); raise the cache size (\`cacheMaxBytes\`) or narrow the query`,
        needed,
        { params: ['cacheMaxBytes'] },
      );
    }
    for (const path of unique.keys()) this.#held.set(path, (this.#held.get(path) ?? 0) + 1);
    try {
      const entries = [...unique];
      const hits = await Promise.all(entries.map(([path, record]) => this.#touch(path, record.bytes)));
      const missing = entries.filter((_, i) => !hits[i]);
      this.stats.hits += entries.length - missing.length;
      await this.#fetchAll(missing);
      if (missing.length > 0) {
        const pass = this.#evicting.then(() => this.#evict());
        this.#evicting = pass.catch(() => undefined);
        await pass;
      }
    } catch (error) {
      this.#release(unique.keys());
      throw error;
    }
    return paths;
  }

  /**
   * Lets this cache evict files again after {@link ensure}.
   * @param records - the records given to `ensure`
   */
  release(records: readonly CachedFileRecord[]): void {
    this.#release(new Set(records.map((r) => this.pathOf(r))));
  }

  /**
   * Runs `task` over local copies of files, held for as long as it runs.
   * @param records - catalog records of the files
   * @param task - receives each key's local path
   * @returns what `task` returns
   * @throws {OctaError} as {@link ensure}, or what `task` throws
   */
  async use<T>(
    records: readonly CachedFileRecord[],
    task: (paths: Map<string, string>) => Promise<T>,
  ): Promise<T> {
    const paths = await this.ensure(records);
    try {
      return await task(paths);
    } finally {
      this.release(records);
    }
  }

  /**
   * Total size of the copies in the cache directory (all processes' copies).
   * @returns bytes
   */
  async size(): Promise<number> {
    return (await this.#scan()).reduce((sum, c) => sum + c.size, 0);
  }

  #release(paths: Iterable<string>): void {
    for (const path of paths) {
      const n = (this.#held.get(path) ?? 0) - 1;
      if (n > 0) this.#held.set(path, n);
      else this.#held.delete(path);
    }
  }

  async #isCopy(path: string, bytes: number): Promise<boolean> {
    try {
      const stats = await fs.stat(path);
      return stats.isFile() && stats.size === bytes;
    } catch {
      return false;
    }
  }

  /** True when the copy is there, marking it just used (LRU order is by mtime, shared by processes). */
  async #touch(path: string, bytes: number): Promise<boolean> {
    if (!(await this.#isCopy(path, bytes))) return false;
    const now = new Date();
    try {
      await fs.utimes(path, now, now);
      return true;
    } catch {
      return false; // evicted by another process in between: download it again
    }
  }

  /** Downloads with at most `concurrency` at once; after a failure starts no more, then throws it. */
  async #fetchAll(missing: readonly [string, CachedFileRecord][]): Promise<void> {
    let next = 0;
    let failure: { error: unknown } | null = null;
    const worker = async () => {
      while (failure === null && next < missing.length) {
        const [path, record] = missing[next++]!;
        try {
          await this.#fetchOnce(path, record);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, missing.length) }, worker));
    if (failure !== null) throw (failure as { error: unknown }).error;
  }

  #fetchOnce(path: string, record: CachedFileRecord): Promise<void> {
    let fetching = this.#fetching.get(path);
    if (fetching === undefined) {
      fetching = this.#download(path, record).finally(() => this.#fetching.delete(path));
      this.#fetching.set(path, fetching);
    }
    return fetching;
  }

  async #download(path: string, record: CachedFileRecord): Promise<void> {
    const bytes = await this.storage.read(record.key);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== record.bytes || sha256 !== record.sha256) {
      throw new OctaError(
        'CORRUPT',
        `${record.key} in ${this.storage.url} does not match its catalog record (catalog: ${record.bytes} bytes, sha256 ${record.sha256}; stored: ${bytes.length} bytes, sha256 ${sha256}): the object was changed or damaged after its commit; restore it or remove the file from the table. Nothing of it was cached`,
        record.key,
      );
    }
    const temp = join(
      dirname(path),
      `${TEMP_PREFIX}${record.sha256.slice(0, 16)}-${randomBytes(6).toString('hex')}`,
    );
    try {
      await fs.mkdir(dirname(path), { recursive: true });
      const handle = await fs.open(temp, 'wx');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, path);
    } catch (error) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw ioError('write', path, error);
    }
    this.stats.downloads++;
    this.stats.downloadedBytes += bytes.length;
  }

  /** Every copy in the directory; deletes temporary files left by crashed processes on the way. */
  async #scan(): Promise<{ path: string; size: number; mtimeMs: number }[]> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(this.dir, { recursive: true, withFileTypes: true });
    } catch (error) {
      throw ioError('list', this.dir, error);
    }
    const now = Date.now();
    const found = await Promise.all(
      entries
        .filter((e) => e.isFile() && (COPY_NAME.test(e.name) || e.name.startsWith(TEMP_PREFIX)))
        .map(async (e) => {
          const path = join(e.parentPath, e.name);
          try {
            const stats = await fs.stat(path);
            if (!e.name.startsWith(TEMP_PREFIX)) return { path, size: stats.size, mtimeMs: stats.mtimeMs };
            if (now - stats.mtimeMs > STALE_TEMP_MS) await fs.rm(path, { force: true });
          } catch (error) {
            if (errnoOf(error) !== 'ENOENT') throw ioError('inspect', path, error);
          }
          return null;
        }),
    );
    return found.filter((c) => c !== null);
  }

  /** Deletes the least recently used copies not held here until the cache fits its size. */
  async #evict(): Promise<void> {
    const copies = await this.#scan();
    let total = copies.reduce((sum, c) => sum + c.size, 0);
    copies.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const copy of copies) {
      if (total <= this.maxBytes) break;
      if (this.#held.has(copy.path) || this.#fetching.has(copy.path)) continue;
      try {
        await fs.rm(copy.path, { force: true });
      } catch (error) {
        throw ioError('evict', copy.path, error);
      }
      total -= copy.size;
      this.stats.evictions++;
    }
  }
}
