/**
 * How DuckDB reaches a lake's files, decided in one place. A local lake: the files themselves. A
 * remote (S3) lake: DuckDB's `httpfs` extension over `s3://` URLs when it loads (DuckDB then reads
 * only the footers and row groups a query needs), otherwise local copies of exactly the files asked
 * for, fetched through a {@link FileCache}. This DuckDB build installs no extension from the
 * network, so `httpfs` is only tried with `LOAD` (it is there when someone ran `INSTALL httpfs` for
 * this DuckDB version, or set an `extension_directory` that has it). The httpfs setup is in
 * httpfs.ts, its S3 settings in s3-access.ts, and the checks of local files in verified-files.ts.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FileRecord } from '../lake/catalog/catalog-state.js';
import { FileCache } from '../lake/storage/file-cache.js';
import type { Storage } from '../lake/storage/storage.js';
import { OctaError } from '../lattice/errors.js';
import { errorLine, s3KeyPrefix, setUpHttpfs } from './httpfs.js';
import { quoteLiteral } from './quote.js';
import type { S3Access } from './s3-access.js';
import { checkLocalFile } from './verified-files.js';

/** How to read a remote lake: `httpfs`, the file cache, or `auto` (httpfs when it loads, else the cache). */
export type RemoteRead = 'auto' | 'httpfs' | 'cache';
/** How a session reads its lake's files. */
export type ReadMode = 'local' | 'httpfs' | 'cache';
const REMOTE_READS: readonly RemoteRead[] = ['auto', 'httpfs', 'cache'];

/** Options of {@link LakeReader.create}. */
export interface LakeReaderOptions {
  storage: Storage;
  /** The session's connection, where httpfs is loaded and its secret created. */
  connection: DuckDBConnection;
  /** For a remote lake (default `auto`); a local lake is always read in place. */
  remoteRead?: RemoteRead;
  /** The file cache's directory (default `defaultCacheDir`). */
  cacheDir?: string;
  /** The file cache's size in bytes (default 2 GiB). */
  cacheMaxBytes?: number;
  /** S3 settings for httpfs. */
  s3?: S3Access;
}

/** Runs `task` over `items`, at most `limit` at once, in order of the results. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** How one session reads its lake's files: in place, through httpfs, or through the file cache. */
export class LakeReader {
  readonly mode: ReadMode;
  /** Why `auto` did not use httpfs for a remote lake (DuckDB's reason), else null. */
  readonly httpfsProblem: string | null;
  /** The file cache (mode `cache` only). */
  readonly cache: FileCache | null;
  readonly storage: Storage;
  readonly #connection: DuckDBConnection;
  readonly #s3: { bucket: string; prefix: string } | null;
  readonly #held: FileRecord[][] = [];

  private constructor(
    storage: Storage,
    connection: DuckDBConnection,
    mode: ReadMode,
    httpfsProblem: string | null,
    cache: FileCache | null,
  ) {
    this.storage = storage;
    this.#connection = connection;
    this.mode = mode;
    this.httpfsProblem = httpfsProblem;
    this.cache = cache;
    this.#s3 = s3KeyPrefix(storage.url);
  }

  /**
   * Decides how a lake is read. A local lake: in place. A remote one: `httpfs` loads httpfs and
   * creates an S3 secret, failing when either fails; `cache` uses the file cache; `auto` tries
   * httpfs (for an `s3://` lake) and falls back to the cache, keeping the reason.
   * @param options - storage, connection, `remoteRead` (default `auto`), cache and S3 settings
   * @returns the reader
   * @throws {OctaError} INVALID_ARGUMENT for an unknown `remoteRead`, or `httpfs` when it cannot be
   *   used (the message says why and what to do); as {@link FileCache.create}
   */
  static async create({
    storage,
    connection,
    remoteRead = 'auto',
    cacheDir,
    cacheMaxBytes,
    s3,
  }: LakeReaderOptions): Promise<LakeReader> {
    if (!REMOTE_READS.includes(remoteRead)) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        `remoteRead must be one of ${REMOTE_READS.join(', ')}`,
        remoteRead,
      );
    }
    if (storage.localPath('_octa') !== null) return new LakeReader(storage, connection, 'local', null, null);
    let problem: string | null = null;
    if (remoteRead !== 'cache') {
      problem = await setUpHttpfs(storage, connection, s3);
      if (problem === null) return new LakeReader(storage, connection, 'httpfs', null, null);
      if (remoteRead === 'httpfs') {
        throw new OctaError(
          'INVALID_ARGUMENT',
          `cannot read this lake through DuckDB's httpfs (${problem}); install httpfs for this DuckDB (INSTALL httpfs, with network access) or read through the file cache (\`remoteRead\` cache)`,
          storage.url,
          { params: ['remoteRead'] },
        );
      }
    }
    const cache = await FileCache.create({
      storage,
      ...(cacheDir === undefined ? {} : { cacheDir }),
      ...(cacheMaxBytes === undefined ? {} : { maxBytes: cacheMaxBytes }),
    });
    return new LakeReader(storage, connection, 'cache', problem, cache);
  }

  #path(record: FileRecord): string {
    if (this.mode === 'httpfs') return `s3://${this.#s3!.bucket}/${this.#s3!.prefix}${record.key}`;
    const path = this.storage.localPath(record.key);
    if (path === null) throw new OctaError('INVALID_ARGUMENT', 'this file has no local path', record.key);
    return path;
  }

  /**
   * Paths DuckDB reads for files, kept readable until {@link close} (for views): the files
   * themselves, `s3://` URLs, or cache copies downloaded now.
   * @param files - catalog records
   * @returns one path per record, in order
   * @throws {OctaError} as {@link FileCache.ensure}
   */
  async hold(files: readonly FileRecord[]): Promise<string[]> {
    if (this.cache === null) {
      const paths = files.map((f) => this.#path(f));
      // Views may cover the whole lake: local files are checked by size here (a truncated or
      // replaced file fails naming it), by checksum when a query reads them through `use`.
      if (this.mode === 'local')
        await mapLimit([...files.keys()], 8, (i) => checkLocalFile(files[i]!, paths[i]!, false));
      return paths;
    }
    const paths = await this.cache.ensure(files);
    this.#held.push([...files]);
    return files.map((f) => paths.get(f.key)!);
  }

  /**
   * Runs `task` with paths DuckDB reads for files, readable while it runs; through the cache only
   * these files are fetched.
   * @param files - catalog records
   * @param task - receives one path per record, in order
   * @returns what `task` returns
   * @throws {OctaError} as {@link FileCache.ensure}, or what `task` throws
   */
  async use<T>(files: readonly FileRecord[], task: (paths: string[]) => Promise<T>): Promise<T> {
    if (this.cache === null) {
      const paths = files.map((f) => this.#path(f));
      // The planner's few files are checked whole (size and SHA-256, once per process while the
      // file is unchanged), so a damaged file fails naming itself instead of being read as data.
      if (this.mode === 'local')
        await mapLimit([...files.keys()], 8, (i) => checkLocalFile(files[i]!, paths[i]!, true));
      return task(paths);
    }
    return this.cache.use(files, (paths) => task(files.map((f) => paths.get(f.key)!)));
  }

  /**
   * Counts the row groups of files from their Parquet footers. Through the cache, files without a
   * copy are not fetched: their footers are read with ranged reads.
   * @param files - catalog records
   * @returns the total number of row groups
   */
  async countRowGroups(files: readonly FileRecord[]): Promise<number> {
    const local: string[] = [];
    const remote: FileRecord[] = [];
    for (const f of files) {
      const copy = this.cache === null ? this.#path(f) : await this.cache.peek(f);
      if (copy === null) remote.push(f);
      else local.push(copy);
    }
    let total = 0;
    if (local.length > 0) {
      const list = `[${local.map(quoteLiteral).join(', ')}]`;
      const r = await this.#connection.runAndReadAll(
        `SELECT count(*)::INTEGER FROM (SELECT DISTINCT file_name, row_group_id FROM parquet_metadata(${list}))`,
      );
      total += Number(r.getRows()[0]![0]);
    }
    // Loaded at first use, so that importing octa-lake does not load the Parquet reader.
    const { parquetMetadataAsync } = await import('hyparquet');
    const counts = await mapLimit(remote, 8, async (f) => {
      const buffer = {
        byteLength: f.bytes,
        slice: async (start: number, end?: number) => {
          const bytes = await this.storage.readRange(f.key, start, (end ?? f.bytes) - start);
          return bytes.slice().buffer as ArrayBuffer;
        },
      };
      try {
        return (await parquetMetadataAsync(buffer, { initialFetchSize: 64 * 1024 })).row_groups.length;
      } catch (error) {
        if (error instanceof OctaError) throw error;
        throw new OctaError(
          'CORRUPT',
          `cannot read the Parquet footer of ${f.key} (${errorLine(error)})`,
          f.key,
        );
      }
    });
    return counts.reduce((a, b) => a + b, total);
  }

  /** Lets the cache evict what {@link hold} kept. */
  close(): void {
    for (const files of this.#held.splice(0)) this.cache?.release(files);
  }
}
