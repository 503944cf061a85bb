// Over 400 lines: httpfs and the local file cache are the two ways DuckDB reaches remote files; cutting
// them apart is issue 15 item 5 (remote read).
/**
 * How DuckDB reaches a lake's files, decided in one place. A local lake: the files themselves. A
 * remote (S3) lake: DuckDB's `httpfs` extension over `s3://` URLs when it loads (DuckDB then reads
 * only the footers and row groups a query needs), otherwise local copies of exactly the files asked
 * for, fetched through a {@link FileCache}. This DuckDB build installs no extension from the
 * network, so `httpfs` is only tried with `LOAD` (it is there when someone ran `INSTALL httpfs` for
 * this DuckDB version, or set an `extension_directory` that has it).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FileRecord } from '../lake/catalog/catalog-state.js';
import { FileCache } from '../lake/storage/file-cache.js';
import { isS3Lake } from '../lake/storage/open.js';
import { s3UrlToLocation } from '../lake/storage/s3-location.js';
import type { Storage } from '../lake/storage/storage.js';
import { OctaError } from '../lattice/errors.js';

/** How to read a remote lake: `httpfs`, the file cache, or `auto` (httpfs when it loads, else the cache). */
export type RemoteRead = 'auto' | 'httpfs' | 'cache';
/** How a session reads its lake's files. */
export type ReadMode = 'local' | 'httpfs' | 'cache';
const REMOTE_READS: readonly RemoteRead[] = ['auto', 'httpfs', 'cache'];

/**
 * How DuckDB's httpfs reaches an S3 lake. Whatever is left out comes from the storage (its
 * `endpoint` and `region` fields, or an `S3Client` at `storage.client`), else from the AWS_*
 * environment variables. `openLake` also opens an `s3://` lake at `endpoint`.
 */
export interface S3Access {
  /** A custom endpoint, e.g. `http://127.0.0.1:4568` (path-style URLs; TLS from the scheme). */
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

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

const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

/**
 * Tries to load DuckDB's httpfs extension on a connection (never installing it).
 * @param connection - the connection
 * @returns null when it loaded, else DuckDB's reason
 */
export async function loadHttpfs(connection: DuckDBConnection): Promise<string | null> {
  try {
    await connection.run('LOAD httpfs');
    return null;
  } catch (error) {
    return message(error);
  }
}

/**
 * The bucket and the key prefix (ending in '/', or '' at the bucket root) of a storage's `s3://`
 * url, or null for another scheme. The url is read by `s3UrlToLocation`, the one S3 URL parser, so
 * a lake's keys are the same here as in its storage.
 */
function s3KeyPrefix(url: string): { bucket: string; prefix: string } | null {
  if (!isS3Lake(url)) return null;
  const { bucket, prefix } = s3UrlToLocation(url);
  return { bucket, prefix: prefix === '' ? '' : `${prefix}/` };
}

type ClientConfig = {
  region?: () => Promise<string>;
  credentials?: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>;
  endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path: string }>;
};

/** What the storage says of its S3 service: `endpoint` / `region` fields, or its `client`'s config. */
async function clientAccess(storage: Storage): Promise<S3Access> {
  const fields = storage as { endpoint?: unknown; region?: unknown; client?: { config?: ClientConfig } };
  const out: S3Access = {};
  if (typeof fields.endpoint === 'string') out.endpoint = fields.endpoint;
  if (typeof fields.region === 'string') out.region = fields.region;
  const config = fields.client?.config;
  if (config === undefined) return out;
  try {
    if (typeof config.region === 'function') out.region ??= await config.region();
    if (typeof config.credentials === 'function') {
      const c = await config.credentials();
      out.accessKeyId = c.accessKeyId;
      out.secretAccessKey = c.secretAccessKey;
      if (c.sessionToken !== undefined) out.sessionToken = c.sessionToken;
    }
    if (typeof config.endpoint === 'function' && out.endpoint === undefined) {
      const e = await config.endpoint();
      out.endpoint = `${e.protocol.replace(/:?$/, ':')}//${e.hostname}${e.port === undefined ? '' : `:${e.port}`}${e.path}`;
    }
  } catch {
    // A client that cannot say: the options and the environment decide.
  }
  return out;
}

/**
 * The S3 settings httpfs gets: `given`, else the storage's client, else the environment.
 * @param storage - the lake's storage
 * @param given - explicit settings
 * @param env - the environment (default `process.env`)
 */
export async function resolveS3Access(
  storage: Storage,
  given: S3Access = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<S3Access> {
  const client = await clientAccess(storage);
  const fromEnv: S3Access = {
    endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION,
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    sessionToken: env.AWS_SESSION_TOKEN,
  };
  const out: S3Access = {};
  for (const name of ['endpoint', 'region', 'accessKeyId', 'secretAccessKey', 'sessionToken'] as const) {
    const value = given[name] ?? client[name] ?? fromEnv[name];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * The `CREATE SECRET` that lets httpfs read a bucket: a custom endpoint gets path-style URLs and
 * TLS only for `https:`.
 * @param bucket - the lake's bucket (the secret's scope)
 * @param access - endpoint, region, credentials
 * @returns one SQL statement
 * @throws {OctaError} INVALID_ARGUMENT for an endpoint that is not an http(s) URL
 */
export function s3SecretSql(bucket: string, access: S3Access): string {
  const parts = ['TYPE s3', `SCOPE ${literal(`s3://${bucket}`)}`];
  if (access.accessKeyId !== undefined) parts.push(`KEY_ID ${literal(access.accessKeyId)}`);
  if (access.secretAccessKey !== undefined) parts.push(`SECRET ${literal(access.secretAccessKey)}`);
  if (access.sessionToken !== undefined) parts.push(`SESSION_TOKEN ${literal(access.sessionToken)}`);
  if (access.region !== undefined) parts.push(`REGION ${literal(access.region)}`);
  if (access.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(access.endpoint);
    } catch {
      url = new URL('invalid:');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new OctaError(
        'INVALID_ARGUMENT',
        'the S3 endpoint must be an http:// or https:// URL',
        access.endpoint,
      );
    }
    const path = url.pathname.replace(/\/+$/, '');
    parts.push(
      `ENDPOINT ${literal(`${url.host}${path}`)}`,
      "URL_STYLE 'path'",
      `USE_SSL ${url.protocol === 'https:'}`,
    );
  }
  return `CREATE OR REPLACE SECRET octa_lake (${parts.join(', ')})`;
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
      problem = await LakeReader.#setUpHttpfs(storage, connection, s3);
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

  /** Loads httpfs and creates the lake's S3 secret; returns null, or why it cannot be used. */
  static async #setUpHttpfs(
    storage: Storage,
    connection: DuckDBConnection,
    given: S3Access | undefined,
  ): Promise<string | null> {
    const location = s3KeyPrefix(storage.url);
    if (location === null) return `httpfs reads s3:// lakes, not ${storage.url}`;
    const loadProblem = await loadHttpfs(connection);
    if (loadProblem !== null) return loadProblem;
    try {
      await connection.run(s3SecretSql(location.bucket, await resolveS3Access(storage, given)));
      return null;
    } catch (error) {
      if (error instanceof OctaError) throw error;
      return `creating the S3 secret failed: ${message(error)}`;
    }
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
      const list = `[${local.map(literal).join(', ')}]`;
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
          `cannot read the Parquet footer of ${f.key} (${message(error)})`,
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
