/**
 * An S3 endpoint for tests (DESIGN §6): the real `s3rver` package on 127.0.0.1, behind a small HTTP
 * front in the same process that makes it behave as S3 does where the lake depends on it:
 * - `If-None-Match: *` on PUT (S3 conditional writes, which s3rver ignores): such PUTs are
 *   serialised per key, and answered `412 PreconditionFailed` when the key exists;
 * - whole-object atomicity: s3rver writes an object in place (truncate, then stream) and answers
 *   before the bytes are flushed, so the front holds a per-key read/write lock (reads share, writes
 *   are exclusive) for the whole exchange, and s3rver's store writes to a temporary file that is
 *   renamed into place once flushed;
 * - listing: s3rver walks directories in readdir order, so its pages are neither sorted nor
 *   complete across continuation tokens; its store lists in UTF-8 byte order here, as S3 does. Its
 *   continuation tokens are DES-encrypted, which OpenSSL 3 (Node 17+) no longer offers: 'des' is
 *   mapped to AES for s3rver's token cipher, or every truncated listing would fail with 500.
 * Everything else is proxied unchanged, bodies streamed both ways. The front counts requests by
 * method and keeps a log of them ("a query reads only the selected files": count the GETs), and can
 * inject faults (throttling, 5xx, connection resets, stalls) to exercise client retries: queued for
 * the next matching requests (`inject`), or drawn for every request at a seeded rate (`faultRate`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Storage } from '../../src/lake/storage/s3-storage.js';
import { prng } from '../prng.js';

/** s3rver's default credentials, which it checks signatures against. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** A fault the front answers instead of forwarding, to exercise client retries. */
export interface S3Fault {
  /** Only requests with this method (default: any). */
  method?: string;
  /** Only requests for object keys that match (default: any request). */
  key?: RegExp;
  /** How many matching requests get the fault (default 1). */
  times?: number;
  /**
   * Answer with this status and S3 error code (e.g. 503 SlowDown); `reset`: drop the connection
   * before forwarding; `lose-answer`: forward, then drop the connection instead of answering;
   * `cut-body`: forward, answer the headers and half the body (none when there is no body), then
   * drop the connection; `stallMs`: forward, then hold the answer back this long.
   */
  fault: { status: number; code: string } | { stallMs: number } | 'reset' | 'lose-answer' | 'cut-body';
}

/**
 * What {@link S3TestServer.faultRate} draws: `InternalError` (500), `SlowDown` (503), `reset` (the
 * connection dropped before forwarding), `stall` (forwarded, the answer held back for a while),
 * `timeout` (the answer held back longer than the client's idle timeout), `lose-answer` and
 * `cut-body` (as in {@link S3Fault}).
 */
export type FaultKind =
  | 'InternalError'
  | 'SlowDown'
  | 'reset'
  | 'stall'
  | 'timeout'
  | 'lose-answer'
  | 'cut-body';

/** Every {@link FaultKind}, in the order reports list them. */
export const FAULT_KINDS: readonly FaultKind[] = [
  'InternalError',
  'SlowDown',
  'reset',
  'stall',
  'timeout',
  'lose-answer',
  'cut-body',
];

/** Options of {@link S3TestServer.faultRate}. */
export interface FaultRateOptions {
  /** Seed of the PRNG that decides, request after request in arrival order, which get a fault. */
  seed: number;
  /** Probability in [0, 1] that a request gets a fault. */
  rate: number;
  /** The faults to choose from, uniformly (default: all of {@link FAULT_KINDS}). */
  kinds?: readonly FaultKind[];
  /** Only requests with these methods (default: any). */
  methods?: readonly string[];
  /** A `stall` holds the answer for a uniform time in this range, in ms (default 200-1500). */
  stallMs?: readonly [number, number];
  /** A `timeout` holds the answer this long, in ms: more than the client's idle timeout (default 61,000). */
  timeoutMs?: number;
}

/** One request as the front saw it. */
export interface S3Request {
  method: string;
  /** The object key (URL-decoded, without the bucket), or '' for a bucket request. */
  key: string;
  /** The query string, e.g. `list-type=2&prefix=lake%2F`, or ''. */
  query: string;
  /** Whether it carried `If-None-Match: *` (a create-if-absent PUT). */
  conditional: boolean;
}

/** A running test endpoint. */
export interface S3TestServer {
  /** `http://127.0.0.1:<port>` of the front: give it to clients as the endpoint. */
  endpoint: string;
  /** The bucket created at start. */
  bucket: string;
  /** Requests by method since start or the last reset(), e.g. `counts.GET`. */
  counts: Record<'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE', number>;
  /** Every request since start or the last reset(), in arrival order. */
  requests: S3Request[];
  /** Environment for a spawned CLI: s3rver's credentials, region, and OCTA_S3_ENDPOINT. */
  env: Record<string, string>;
  /** Queues a fault for the next matching requests. */
  inject(fault: S3Fault): void;
  /**
   * From now on, gives each request a fault with probability `rate` (after queued faults, which
   * come first); `null` stops. Requests race, so which request gets which fault varies between runs
   * with the same seed; the sequence of draws does not.
   */
  faultRate(options: FaultRateOptions | null): void;
  /** Faults given by faultRate() since start or the last reset(), by kind. */
  injected: Record<FaultKind, number>;
  /** Zeroes the counts, clears the request log, pending faults and the fault rate (objects stay). */
  reset(): void;
  /** Stops the front and s3rver and removes their directory. */
  stop(): Promise<void>;
}

// s3rver ships no types: the part of it used here.
interface S3rverStoredObject {
  bucket: string;
  key: string;
  content: Readable | Buffer;
  metadata: Record<string, string>;
}
interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: S3rverStoredObject): Promise<{ size: number; md5: string }>;
  listObjects(bucket: string, options: Record<string, unknown>): Promise<S3rverListing>;
}
interface S3rverListing {
  objects: { key: string }[];
  commonPrefixes: string[];
  isTruncated: boolean;
}
interface S3rverInstance {
  store: S3rverStore;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverClass;

/**
 * Lets s3rver make its continuation tokens: it ciphers them with DES (8-byte key and IV), gone
 * from OpenSSL 3. Only the 'des' name, which would otherwise throw, is mapped (to AES-128-CBC with
 * the key and IV doubled), the same way for both directions.
 */
function allowTokenCipher(): void {
  const crypto = require('node:crypto') as typeof import('node:crypto') & { octaDesPatched?: boolean };
  if (crypto.octaDesPatched) return;
  const widen = (b: Buffer) => Buffer.concat([b, b]);
  const cipher = crypto.createCipheriv;
  const decipher = crypto.createDecipheriv;
  type Args = [string, Buffer, Buffer];
  crypto.createCipheriv = ((...args: Parameters<typeof cipher>) => {
    const [algorithm, key, iv] = args as unknown as Args;
    return algorithm === 'des' ? cipher('aes-128-cbc', widen(key), widen(iv)) : cipher(...args);
  }) as typeof cipher;
  crypto.createDecipheriv = ((...args: Parameters<typeof decipher>) => {
    const [algorithm, key, iv] = args as unknown as Args;
    return algorithm === 'des' ? decipher('aes-128-cbc', widen(key), widen(iv)) : decipher(...args);
  }) as typeof decipher;
  crypto.octaDesPatched = true;
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Makes s3rver's filesystem store write objects atomically and list them in S3 order. */
function fixStore(store: S3rverStore): void {
  store.putObject = async ({ bucket, key, content, metadata }) => {
    const path = store.getResourcePath(bucket, key, 'object');
    const tmp = join(dirname(path), `.upload-${randomBytes(8).toString('hex')}`);
    const md5 = createHash('md5');
    let size = 0;
    await fs.mkdir(dirname(path), { recursive: true });
    try {
      if (Buffer.isBuffer(content)) {
        md5.update(content);
        size = content.length;
        await fs.writeFile(tmp, content);
      } else {
        const count = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            md5.update(chunk);
            size += chunk.length;
            done(null, chunk);
          },
        });
        await pipeline(content, count, createWriteStream(tmp));
      }
      await fs.rename(tmp, path);
    } catch (error) {
      await fs.rm(tmp, { force: true });
      throw error;
    }
    const digest = md5.digest('hex');
    await store.putMetadata(bucket, key, metadata, digest);
    return { size, md5: digest };
  };
  const list = store.listObjects.bind(store);
  store.listObjects = async (bucket, options) => {
    const startAfter = typeof options.startAfter === 'string' ? options.startAfter : '';
    const maxKeys = typeof options.maxKeys === 'number' ? options.maxKeys : Number.POSITIVE_INFINITY;
    const all = await list(bucket, { ...options, startAfter: '', maxKeys: Number.POSITIVE_INFINITY });
    const after = all.objects
      .filter((o) => byBytes(o.key, startAfter) > 0)
      .sort((a, b) => byBytes(a.key, b.key));
    return {
      objects: after.slice(0, maxKeys),
      commonPrefixes: all.commonPrefixes,
      isTruncated: after.length > maxKeys,
    };
  };
}

/** How the front passes an answer on: whole, or broken off to exercise client retries. */
type Mode = 'answer' | 'lose-answer' | 'cut-body';

/** A reader/writer lock per key: reads share it, a write holds it alone; waiters are served in order. */
class KeyLocks {
  readonly #locks = new Map<
    string,
    { readers: number; writer: boolean; queue: { exclusive: boolean; grant: () => void }[] }
  >();

  acquire(key: string, exclusive: boolean): Promise<() => void> {
    let lock = this.#locks.get(key);
    if (lock === undefined) {
      lock = { readers: 0, writer: false, queue: [] };
      this.#locks.set(key, lock);
    }
    const state = lock;
    return new Promise((resolve) => {
      const grant = () => {
        if (exclusive) state.writer = true;
        else state.readers++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          if (exclusive) state.writer = false;
          else state.readers--;
          this.#wake(key);
        });
      };
      state.queue.push({ exclusive, grant });
      this.#wake(key);
    });
  }

  #wake(key: string): void {
    const state = this.#locks.get(key);
    if (state === undefined) return;
    for (let next = state.queue[0]; next !== undefined; next = state.queue[0]) {
      if (state.writer || (next.exclusive && state.readers > 0)) break;
      state.queue.shift();
      next.grant();
      if (next.exclusive) break;
    }
    if (!state.writer && state.readers === 0 && state.queue.length === 0) this.#locks.delete(key);
  }
}

function errorXml(code: string, message: string, resource: string): string {
  const xmlText = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${xmlText(message)}</Message><Resource>${xmlText(resource)}</Resource>` +
    `<RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`
  );
}

function answer(res: http.ServerResponse, status: number, code: string, message: string, resource: string) {
  const body = errorXml(code, message, resource);
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The draw of {@link S3TestServer.faultRate}: per request, a fault or undefined; counts what it gives.
 */
function rateFaults(
  {
    seed,
    rate,
    kinds = FAULT_KINDS,
    methods,
    stallMs: [stallMin, stallMax] = [200, 1500],
    timeoutMs = 61_000,
  }: FaultRateOptions,
  injected: Record<FaultKind, number>,
): (method: string) => S3Fault['fault'] | undefined {
  if (!(rate >= 0 && rate <= 1) || kinds.length === 0) throw new Error(`bad fault rate ${rate} or kinds`);
  const rand = prng(seed);
  return (method) => {
    if (methods !== undefined && !methods.includes(method)) return undefined;
    if (rand() >= rate) return undefined;
    const kind = kinds[Math.floor(rand() * kinds.length)]!;
    injected[kind]++;
    switch (kind) {
      case 'InternalError':
        return { status: 500, code: 'InternalError' };
      case 'SlowDown':
        return { status: 503, code: 'SlowDown' };
      case 'stall':
        return { stallMs: Math.round(stallMin + rand() * (stallMax - stallMin)) };
      case 'timeout':
        return { stallMs: timeoutMs };
      default:
        return kind;
    }
  };
}

/**
 * Starts s3rver and its front on 127.0.0.1 with free ports, in a fresh temporary directory, and
 * creates the bucket.
 * @param options.bucket - the bucket to create (default `octa-test`)
 * @returns the running server; stop() it in a finally (or afterAll)
 */
export async function startS3Server({
  bucket = 'octa-test',
}: {
  bucket?: string;
} = {}): Promise<S3TestServer> {
  allowTokenCipher();
  const directory = mkdtempSync(join(tmpdir(), 'octa-s3rver-'));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket }],
  });
  fixStore(s3rver.store);
  const { port: upstreamPort } = await s3rver.run();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const locks = new KeyLocks();
  const counts: S3TestServer['counts'] = { GET: 0, HEAD: 0, PUT: 0, POST: 0, DELETE: 0 };
  const requests: S3Request[] = [];
  const faults: (S3Fault & Required<Pick<S3Fault, 'method' | 'times'>>)[] = [];
  const injected = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  let draw: ((method: string) => S3Fault['fault'] | undefined) | undefined;
  const timers = new Set<NodeJS.Timeout>();

  const upstream = (method: string, path: string, headers: http.OutgoingHttpHeaders) =>
    http.request({ host: '127.0.0.1', port: upstreamPort, method, path, headers, agent });

  /** Whether an object exists, asked of s3rver directly (unsigned requests are allowed there). */
  const exists = (path: string) =>
    new Promise<boolean>((resolve, reject) => {
      const req = upstream('HEAD', path, {});
      req.on('response', (res) => {
        res.resume();
        if (res.statusCode === 200 || res.statusCode === 404) resolve(res.statusCode === 200);
        else reject(new Error(`HEAD ${path}: HTTP ${res.statusCode}`));
      });
      req.on('error', reject);
      req.end();
    });

  /** Forwards a request as it came (the signature covers the Host header, which is kept). */
  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    done: () => void,
    mode: Mode,
    stallMs = 0,
  ) => {
    const out = upstream(req.method ?? 'GET', req.url ?? '/', req.headers);
    out.on('response', (answered) => {
      if (stallMs === 0) {
        pass(answered);
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        // The client may have given up meanwhile (its idle timeout): nobody is left to answer.
        if (req.socket.destroyed) answered.resume();
        else pass(answered);
      }, stallMs);
      timers.add(timer);
    });
    const pass = (back: http.IncomingMessage) => {
      if (mode === 'lose-answer') {
        back.resume();
        back.on('end', () => req.socket.destroy());
        return;
      }
      res.writeHead(back.statusCode ?? 502, back.headers);
      if (mode === 'answer') {
        back.pipe(res);
        return;
      }
      let left = Math.floor(Number(back.headers['content-length'] ?? 0) / 2);
      const cut = () => {
        back.destroy();
        req.socket.destroy();
      };
      // No body to cut (HEAD, an empty or chunked answer): the connection breaks after the headers.
      if (left === 0 || req.method === 'HEAD') {
        res.flushHeaders();
        cut();
        return;
      }
      back.on('data', (chunk: Buffer) => {
        res.write(chunk.subarray(0, left));
        left -= Math.min(left, chunk.length);
        if (left === 0) cut();
      });
      back.on('end', () => {
        if (!req.socket.destroyed) cut();
      });
    };
    out.on('error', (error) => {
      if (!res.headersSent) answer(res, 500, 'InternalError', error.message, req.url ?? '');
      else res.destroy();
    });
    res.on('close', done);
    req.pipe(out);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://front');
    const [, name = '', ...rest] = url.pathname.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    if (method in counts) counts[method as keyof typeof counts]++;
    requests.push({
      method,
      key,
      query: url.search.slice(1),
      conditional: req.headers['if-none-match'] === '*',
    });

    const queued = faults.find(
      (f) =>
        (f.method === '' || f.method === method) && (f.key === undefined || (key !== '' && f.key.test(key))),
    );
    if (queued !== undefined) queued.times--;
    if (queued?.times === 0) faults.splice(faults.indexOf(queued), 1);
    const fault = queued?.fault ?? draw?.(method);
    const mode: Mode = fault === 'lose-answer' || fault === 'cut-body' ? fault : 'answer';
    const stallMs = typeof fault === 'object' && 'stallMs' in fault ? fault.stallMs : 0;
    if (fault !== undefined && mode === 'answer' && stallMs === 0) {
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }
      const { status, code } = fault as { status: number; code: string };
      req.resume();
      if (method === 'HEAD') {
        res.writeHead(status);
        res.end();
      } else answer(res, status, code, 'injected by the test server', url.pathname);
      return;
    }

    const query = url.searchParams;
    const isObject = name !== '' && key !== '';
    const isUploadStep = query.has('uploadId') || query.has('uploads') || query.has('partNumber');
    // Whole-object writes: PUT, DELETE, and CompleteMultipartUpload (POST ?uploadId).
    const writes =
      isObject &&
      (((method === 'PUT' || method === 'DELETE') && !isUploadStep) ||
        (method === 'POST' && query.has('uploadId')));
    const reads = isObject && (method === 'GET' || method === 'HEAD') && !isUploadStep;
    if (!writes && !reads) {
      forward(req, res, () => undefined, mode, stallMs);
      return;
    }
    const release = await locks.acquire(`${name}/${key}`, writes);
    try {
      if (method === 'PUT' && req.headers['if-none-match'] === '*' && (await exists(url.pathname))) {
        req.resume();
        // The refusal gets the request's fault too: stalled, or its answer lost (no body to cut).
        const refuse = () => {
          if (mode !== 'answer') req.socket.destroy();
          else if (!req.socket.destroyed) {
            answer(
              res,
              412,
              'PreconditionFailed',
              'At least one of the pre-conditions you specified did not hold',
              url.pathname,
            );
          }
          release();
        };
        if (stallMs === 0) refuse();
        else {
          const timer = setTimeout(() => {
            timers.delete(timer);
            refuse();
          }, stallMs);
          timers.add(timer);
        }
        return;
      }
    } catch (error) {
      req.resume();
      answer(res, 500, 'InternalError', (error as Error).message, url.pathname);
      release();
      return;
    }
    forward(req, res, release, mode, stallMs);
  };

  const front = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) answer(res, 500, 'InternalError', String(error), req.url ?? '');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(0, '127.0.0.1', resolve);
  });
  const endpoint = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;

  return {
    endpoint,
    bucket,
    counts,
    requests,
    env: {
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
      OCTA_S3_ENDPOINT: endpoint,
    },
    injected,
    inject({ method = '', times = 1, ...rest }) {
      faults.push({ method, times, ...rest });
    },
    faultRate(options) {
      draw = options === null ? undefined : rateFaults(options, injected);
    },
    reset() {
      for (const method of Object.keys(counts) as (keyof typeof counts)[]) counts[method] = 0;
      for (const kind of FAULT_KINDS) injected[kind] = 0;
      requests.length = 0;
      faults.length = 0;
      draw = undefined;
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      agent.destroy();
      await s3rver.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `task` with a started server and an S3Storage on its bucket at prefix `lake`, the server's
 * credentials, region and endpoint in `process.env` (the AWS chain reads them there); afterwards the
 * storage is closed, the environment restored and the server stopped.
 * @param bucket - the bucket to create
 * @param task - receives the storage and the server
 * @returns what `task` returns
 */
export async function withS3Lake<T>(
  bucket: string,
  task: (storage: S3Storage, server: S3TestServer) => Promise<T>,
): Promise<T> {
  const server = await startS3Server({ bucket });
  const saved = Object.fromEntries(Object.keys(server.env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, server.env);
  let storage: S3Storage | undefined;
  try {
    // Loaded here: importing this module (the crash report does) loads no AWS SDK.
    const { S3Storage } = await import('../../src/lake/storage/s3-storage.js');
    storage = await S3Storage.create({ bucket, prefix: 'lake', endpoint: server.endpoint });
    return await task(storage, server);
  } finally {
    storage?.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await server.stop();
  }
}
