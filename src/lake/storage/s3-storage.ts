// Over 400 lines: one class implements the whole Storage contract for S3 (request helpers are already in
// s3-requests.ts); its methods share the client and the retry policy.
/**
 * Storage on S3 (DESIGN §4) through `@aws-sdk/client-s3`: the lake `s3://bucket/prefix` keeps each
 * key as the object `prefix/key`. S3 replaces objects whole, and a multipart upload is invisible
 * until it completes, so readers never see a partial object. `writeIfAbsent` is a conditional
 * PutObject (`If-None-Match: *`, which AWS S3 enforces since August 2024): the catalog's
 * create-if-absent commit therefore works between machines, with no lock service.
 *
 * Transient failures (throttling, 5xx, connection resets) are retried by the SDK's retry strategy
 * (exponential backoff with full jitter); what still fails becomes IO_ERROR naming the key and the
 * S3 error code. Region and credentials come from the usual AWS chain (environment, profile, SSO,
 * instance role); nothing here reads or prints them.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { checkInt, OctaError } from '../../lattice/errors.js';
import { type S3Location, s3UrlToLocation } from './s3-location.js';
import {
  attemptsOf,
  bodyBytes,
  isAbsent,
  type SdkError,
  s3ErrorToOcta,
  sleep,
  statusOf,
  uploadInParts,
} from './s3-requests.js';
import {
  checkKey,
  checkPrefix,
  compareKeys,
  MAX_KEY_BYTES,
  notFound,
  type Storage,
  type StorageEntry,
} from './storage.js';

export { type S3Location, s3UrlToLocation } from './s3-location.js';

const MiB = 2 ** 20;
/** S3's limits on multipart uploads. */
const MIN_PART = 5 * MiB;
const MAX_PART = 5 * 1024 * MiB;
const CONNECT_TIMEOUT_MS = 10_000;
/** Attempts at a conditional write that S3 answers 409 ConditionalRequestConflict. */
const CONFLICT_ATTEMPTS = 8;

/** Options of {@link S3Storage.create}. */
export interface S3StorageOptions {
  /** The bucket. */
  bucket: string;
  /** Key prefix of the lake, without leading or trailing '/' (default '': the bucket root). */
  prefix?: string;
  /** An S3-compatible endpoint, e.g. `http://127.0.0.1:9000` (path-style addressing is used). */
  endpoint?: string;
  /** AWS region; default: the AWS chain's, or `us-east-1` with an endpoint. */
  region?: string;
  /** Attempts per request, first included, before a transient failure is an error (default 5). */
  maxAttempts?: number;
  /** The SDK's retry mode: `standard`, or `adaptive` to also rate-limit the client (default standard). */
  retryMode?: 'standard' | 'adaptive';
  /** Objects larger than this are uploaded in parts (default 16 MiB). */
  multipartThreshold?: number;
  /** Bytes per part, at least 5 MiB as S3 requires (default 8 MiB; grown to stay within 10,000 parts). */
  partSize?: number;
  /** Parts uploaded at once (default 4). */
  partConcurrency?: number;
  /** Keys per list request, 1-1000 (default 1000). */
  listPageSize?: number;
  /**
   * A request whose connection stays silent this long, in ms, fails and is retried (default 60,000):
   * a stalled server or network never hangs a command.
   */
  idleTimeoutMs?: number;
}

/** The configured region of the AWS chain (environment, then profile), or undefined. */
async function chainRegion(): Promise<string | undefined> {
  const probe = new S3Client({});
  try {
    return await probe.config.region();
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}

type Settings = Required<
  Pick<
    S3StorageOptions,
    'maxAttempts' | 'multipartThreshold' | 'partSize' | 'partConcurrency' | 'listPageSize'
  >
>;

/** A lake in an S3 bucket (or an S3-compatible service), below a key prefix. */
export class S3Storage implements Storage {
  readonly url: string;
  readonly bucket: string;
  /** Key prefix of the lake, without leading or trailing '/', or ''. */
  readonly prefix: string;
  /** The custom endpoint, or undefined for AWS S3. */
  readonly endpoint: string | undefined;
  /** The region requests are signed for. */
  readonly region: string;
  /** The SDK client (for callers that reach the same service, e.g. DuckDB's httpfs settings). */
  readonly client: S3Client;
  readonly #base: string;
  readonly #options: Settings;

  private constructor(
    client: S3Client,
    location: S3Location,
    service: { endpoint: string | undefined; region: string },
    options: Settings,
  ) {
    this.client = client;
    this.endpoint = service.endpoint;
    this.region = service.region;
    this.bucket = location.bucket;
    this.prefix = location.prefix;
    this.#base = location.prefix === '' ? '' : `${location.prefix}/`;
    this.url = `s3://${location.bucket}${location.prefix === '' ? '' : `/${location.prefix}`}`;
    this.#options = options;
  }

  /**
   * Opens a lake on S3. Nothing is sent until the first operation.
   * @param options - bucket and prefix, endpoint and region, retry and upload settings
   * @returns the storage; call `close()` when done to release its connections
   * @throws {OctaError} INVALID_ARGUMENT for a bad bucket, prefix, endpoint or option, or when no
   *   region is configured and no endpoint given
   */
  static async create({
    bucket,
    prefix = '',
    endpoint,
    region,
    maxAttempts = 5,
    retryMode = 'standard',
    multipartThreshold = 16 * MiB,
    partSize = 8 * MiB,
    partConcurrency = 4,
    listPageSize = 1000,
    idleTimeoutMs = 60_000,
  }: S3StorageOptions): Promise<S3Storage> {
    const location = s3UrlToLocation(`s3://${bucket}/${prefix}`);
    checkInt(maxAttempts, 1, 100, 'INVALID_ARGUMENT', 'maxAttempts');
    checkInt(multipartThreshold, 0, MAX_PART, 'INVALID_ARGUMENT', 'multipartThreshold');
    checkInt(partSize, MIN_PART, MAX_PART, 'INVALID_ARGUMENT', 'partSize');
    checkInt(partConcurrency, 1, 64, 'INVALID_ARGUMENT', 'partConcurrency');
    checkInt(listPageSize, 1, 1000, 'INVALID_ARGUMENT', 'listPageSize');
    checkInt(idleTimeoutMs, 100, 3_600_000, 'INVALID_ARGUMENT', 'idleTimeoutMs');
    if (retryMode !== 'standard' && retryMode !== 'adaptive') {
      throw new OctaError('INVALID_ARGUMENT', 'retryMode must be standard or adaptive', retryMode);
    }
    if (endpoint !== undefined) {
      let protocol = '';
      try {
        protocol = new URL(endpoint).protocol;
      } catch {}
      if (protocol !== 'http:' && protocol !== 'https:') {
        throw new OctaError(
          'INVALID_ARGUMENT',
          'the S3 endpoint must be an http:// or https:// URL',
          endpoint,
        );
      }
    }
    const resolved = region ?? (await chainRegion()) ?? (endpoint === undefined ? undefined : 'us-east-1');
    if (resolved === undefined) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        'no AWS region is configured for the S3 lake: set AWS_REGION (or a region in the AWS profile)',
        location.bucket,
      );
    }
    const client = new S3Client({
      region: resolved,
      maxAttempts,
      retryMode,
      // A connection that cannot be made, or that stalls, fails (and is retried) instead of hanging.
      requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: idleTimeoutMs },
      ...(endpoint === undefined ? { followRegionRedirects: true } : { endpoint, forcePathStyle: true }),
    });
    return new S3Storage(
      client,
      location,
      { endpoint, region: resolved },
      {
        maxAttempts,
        multipartThreshold,
        partSize,
        partConcurrency,
        listPageSize,
      },
    );
  }

  /** Releases the client's connections. */
  close(): void {
    this.client.destroy();
  }

  localPath(key: string): null {
    checkKey(key);
    return null;
  }

  async read(key: string): Promise<Uint8Array> {
    const Key = this.#keyOf(key);
    return this.#download('read', key, async () => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      return bodyBytes(out.Body, out.ContentLength);
    });
  }

  async readRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const Key = this.#keyOf(key);
    for (const [what, value] of [
      ['offset', offset],
      ['length', length],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new OctaError('INVALID_ARGUMENT', `range ${what} must be an integer >= 0`, value);
      }
    }
    if (length === 0) {
      if ((await this.stat(key)) === null) throw notFound(this.url, key);
      return new Uint8Array(0);
    }
    return this.#download('read', key, async () => {
      try {
        const out = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key, Range: `bytes=${offset}-${offset + length - 1}` }),
        );
        const bytes = await bodyBytes(out.Body, out.ContentLength);
        // A server that ignores Range sends the whole object.
        return out.ContentRange === undefined ? bytes.slice(offset, offset + length) : bytes;
      } catch (error) {
        // 416: the object exists but starts after its end.
        if (statusOf(error) === 416) return new Uint8Array(0);
        throw error;
      }
    });
  }

  async write(key: string, data: Uint8Array): Promise<void> {
    const Key = this.#keyOf(key);
    checkData(data);
    if (data.length > this.#options.multipartThreshold) {
      try {
        await uploadInParts({
          client: this.client,
          bucket: this.bucket,
          key: Key,
          data,
          partSize: this.#options.partSize,
          concurrency: this.#options.partConcurrency,
        });
      } catch (error) {
        throw this.#error('write', key, error);
      }
      return;
    }
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key, Body: data, ContentLength: data.length }),
      );
    } catch (error) {
      throw this.#error('write', key, error);
    }
  }

  async writeIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const Key = this.#keyOf(key);
    checkData(data);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: data,
            ContentLength: data.length,
            IfNoneMatch: '*',
          }),
        );
        return true;
      } catch (error) {
        const status = statusOf(error);
        if (status === 412) {
          // After a retried request, the object may be our own earlier attempt whose answer was lost.
          return attempt > 1 || attemptsOf(error) > 1 ? this.#holds(key, Key, data) : false;
        }
        // 409 ConditionalRequestConflict: a concurrent conditional write to the key; try again.
        if (status === 409 && attempt < CONFLICT_ATTEMPTS) {
          await sleep(Math.random() * 25 * 2 ** attempt);
          continue;
        }
        throw this.#error('create', key, error);
      }
    }
  }

  async list(prefix: string, startAfter?: string): Promise<StorageEntry[]> {
    checkPrefix(prefix);
    const out: StorageEntry[] = [];
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.#base + prefix,
            MaxKeys: this.#options.listPageSize,
            ...(startAfter === undefined ? {} : { StartAfter: this.#base + startAfter }),
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        );
      } catch (error) {
        throw this.#error('list', prefix, error);
      }
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(this.#base.length) ?? '';
        // Objects that are not keys of ours (folder markers, foreign names) are not listed.
        if (isKey(key) && (startAfter === undefined || compareKeys(key, startAfter) > 0))
          out.push({ key, size: object.Size ?? 0, mtimeMs: object.LastModified?.getTime() ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out.sort((a, b) => compareKeys(a.key, b.key));
  }

  async stat(key: string): Promise<StorageEntry | null> {
    const Key = this.#keyOf(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { key, size: head.ContentLength ?? 0, mtimeMs: head.LastModified?.getTime() ?? 0 };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw this.#error('stat', key, error);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.#keyOf(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (error) {
      if (!isAbsent(error)) throw this.#error('delete', key, error);
    }
  }

  /** The object key of a lake key, after checking it. */
  #keyOf(key: string): string {
    const full = this.#base + checkKey(key);
    if (Buffer.byteLength(full, 'utf8') > MAX_KEY_BYTES) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        `invalid storage key (with the lake prefix ${this.prefix} longer than ${MAX_KEY_BYTES} bytes); use shorter names`,
        key,
      );
    }
    return full;
  }

  /**
   * Runs a download, again when the body breaks off (the SDK retries only until the headers).
   * @throws {OctaError} NOT_FOUND when the object is absent; IO_ERROR otherwise
   */
  async #download(action: string, key: string, get: () => Promise<Uint8Array>): Promise<Uint8Array> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await get();
      } catch (error) {
        if (isAbsent(error)) throw notFound(this.url, key);
        // The SDK marks the errors of its own requests with $metadata; a body that broke off has none.
        const midBody =
          (error as SdkError).$metadata === undefined && (error as SdkError).code === 'ECONNRESET';
        if (!midBody || attempt >= this.#options.maxAttempts) throw this.#error(action, key, error);
        await sleep(Math.random() * 100 * 2 ** attempt);
      }
    }
  }

  /** Whether the object holds exactly these bytes. */
  async #holds(key: string, Key: string, data: Uint8Array): Promise<boolean> {
    const stored = await this.#download('read', key, async () => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      return bodyBytes(out.Body, out.ContentLength);
    });
    return Buffer.compare(stored, data) === 0;
  }

  /** The IO_ERROR for a failed request, naming the object and the S3 error code. */
  #error(action: string, key: string, error: unknown): OctaError {
    return s3ErrorToOcta(action, `${this.url}/${key}`, key, error);
  }
}

function checkData(data: Uint8Array): void {
  if (!(data instanceof Uint8Array)) {
    throw new OctaError('INVALID_ARGUMENT', 'object data must be a Uint8Array', typeof data);
  }
}

function isKey(key: string): boolean {
  try {
    checkKey(key);
    return true;
  } catch {
    return false;
  }
}
