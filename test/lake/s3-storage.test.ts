/**
 * S3Storage through the real @aws-sdk/client-s3 against s3rver (test/support/s3-server.ts): the same
 * Storage contract LocalStorage passes, then what is S3's own: multipart uploads (and their abort),
 * conditional writes under contention from many clients, retries of throttling, 5xx and resets,
 * IO_ERROR naming the key and the S3 code, paginated listing below a prefix, and lake URLs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { openStorage, resolveLake } from '../../src/lake/storage/open.js';
import { S3Storage, type S3StorageOptions, s3UrlToLocation } from '../../src/lake/storage/s3-storage.js';
import { prng } from '../prng.js';
import { S3RVER_CREDENTIALS, type S3TestServer, startS3Server } from '../support/s3-server.js';
import { describeStorageContract, errorOf } from './storage-contract.js';

let server: S3TestServer;
const savedEnv: Record<string, string | undefined> = {};
let lakes = 0;
const opened: S3Storage[] = [];

beforeAll(async () => {
  server = await startS3Server({ bucket: 'octa-storage' });
  for (const [name, value] of Object.entries({
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_PROFILE: undefined,
  })) {
    savedEnv[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

afterAll(async () => {
  await server?.stop();
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

beforeEach(() => {
  server.reset();
});

afterEach(() => {
  for (const storage of opened.splice(0)) storage.close();
});

/** A storage on a fresh prefix of the test bucket (closed after the test). */
async function s3(options: Partial<S3StorageOptions> = {}): Promise<S3Storage> {
  const storage = await S3Storage.create({
    bucket: server.bucket,
    prefix: `lakes/lake-${++lakes}`,
    endpoint: server.endpoint,
    ...options,
  });
  opened.push(storage);
  return storage;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const textOf = (data: Uint8Array) => new TextDecoder().decode(data);

function randomBytes(size: number, seed: number): Uint8Array {
  const random = prng(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (random() * 256) | 0;
  return out;
}

describeStorageContract('S3Storage', async () => {
  const storage = await s3();
  return { storage, close: async () => storage.close() };
});

describe('S3Storage on S3', () => {
  it('names itself s3://bucket/prefix and keeps keys below the prefix', async () => {
    const storage = await s3({ prefix: 'p1' });
    const sibling = await s3({ prefix: 'p10' });
    expect(storage.url).toBe(`s3://${server.bucket}/p1`);
    expect(storage.localPath('a/b')).toBeNull();
    await storage.write('a/b', bytes('in p1'));
    await sibling.write('a/c', bytes('in p10'));
    expect((await storage.list('')).map((e) => e.key)).toEqual(['a/b']);
    expect((await sibling.list('')).map((e) => e.key)).toEqual(['a/c']);
    expect(server.requests.filter((r) => r.method === 'PUT').map((r) => r.key)).toEqual([
      'p1/a/b',
      'p10/a/c',
    ]);
    const root = await s3({ prefix: '' });
    expect(root.url).toBe(`s3://${server.bucket}`);
    expect((await root.list('p1')).map((e) => e.key)).toEqual(['p1/a/b', 'p10/a/c']);
  });

  it('uploads a large object in parts, a few at a time, and reads it back', async () => {
    const storage = await s3({ multipartThreshold: 6 * 2 ** 20, partSize: 5 * 2 ** 20, partConcurrency: 2 });
    const data = randomBytes(13 * 2 ** 20 + 7, 3);
    await storage.write('big/part-0.parquet', data);
    // CreateMultipartUpload and CompleteMultipartUpload are POSTs, each part a PUT: 5 + 5 + 3 MiB.
    expect(server.counts.POST).toBe(2);
    expect(server.counts.PUT).toBe(3);
    const parts = server.requests.filter((r) => r.method === 'PUT').map((r) => new URLSearchParams(r.query));
    expect(parts.map((q) => q.get('partNumber')).sort()).toEqual(['1', '2', '3']);
    expect((await storage.stat('big/part-0.parquet'))?.size).toBe(data.length);
    expect(Buffer.compare(await storage.read('big/part-0.parquet'), data)).toBe(0);
    // A range across the first part boundary.
    const at = 5 * 2 ** 20 - 3;
    expect(
      Buffer.compare(await storage.readRange('big/part-0.parquet', at, 10), data.subarray(at, at + 10)),
    ).toBe(0);
    // At the threshold exactly: one PUT.
    server.reset();
    await storage.write('small', data.subarray(0, 6 * 2 ** 20));
    expect(server.counts).toMatchObject({ PUT: 1, POST: 0 });
  });

  it('aborts a failed multipart upload, leaving nothing visible', async () => {
    const storage = await s3({ multipartThreshold: 6 * 2 ** 20, partSize: 5 * 2 ** 20, maxAttempts: 1 });
    server.inject({ method: 'PUT', fault: { status: 500, code: 'InternalError' } });
    const error = await errorOf(storage.write('big/failed', randomBytes(11 * 2 ** 20, 4)));
    expect(error.code).toBe('IO_ERROR');
    expect(error.value).toBe('big/failed');
    expect(error.message).toContain(`${storage.url}/big/failed`);
    expect(error.message).toContain('InternalError');
    const aborts = server.requests.filter((r) => r.method === 'DELETE');
    expect(aborts).toHaveLength(1);
    expect(aborts[0]!.query).toMatch(/uploadId=/);
    expect(await storage.stat('big/failed')).toBeNull();
    expect(await storage.list('')).toEqual([]);
  });

  it('gives a key to exactly one of many clients writing it at once', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => s3({ prefix: 'shared-race' })));
    const results = await Promise.all(
      clients.flatMap((client, c) =>
        Array.from({ length: 8 }, (_, i) =>
          client.writeIfAbsent('_octa/log/00000000000000000001.json', bytes(`${c}.${i}`)),
        ),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(textOf(await clients[0]!.read('_octa/log/00000000000000000001.json'))).toBe(
      `${Math.floor(winner / 8)}.${winner % 8}`,
    );
    // Every attempt was a conditional PUT, and S3 refused all but one.
    expect(server.counts.PUT).toBe(64);
  });

  it('retries a conditional write that S3 answers 409 ConditionalRequestConflict', async () => {
    const storage = await s3();
    server.inject({ method: 'PUT', fault: { status: 409, code: 'ConditionalRequestConflict' } });
    expect(await storage.writeIfAbsent('k', bytes('mine'))).toBe(true);
    expect(server.counts.PUT).toBe(2);
    expect(textOf(await storage.read('k'))).toBe('mine');
  });

  it('knows its own conditional write when the answer to it was lost and the retry is refused', async () => {
    const storage = await s3();
    server.inject({ method: 'PUT', fault: 'lose-answer' });
    expect(await storage.writeIfAbsent('k', bytes('mine'))).toBe(true);
    expect(server.counts.PUT).toBe(2);
    // Someone else's object under the key is still refused.
    server.inject({ method: 'PUT', fault: 'lose-answer' });
    expect(await storage.writeIfAbsent('k', bytes('another'))).toBe(false);
    expect(textOf(await storage.read('k'))).toBe('mine');
  });

  it('retries throttling, 5xx and connection resets with backoff', async () => {
    const storage = await s3();
    server.inject({ method: 'PUT', times: 2, fault: { status: 503, code: 'SlowDown' } });
    await storage.write('k', bytes('value'));
    expect(server.counts.PUT).toBe(3);
    server.inject({ method: 'GET', fault: 'reset' });
    server.inject({ method: 'GET', fault: { status: 500, code: 'InternalError' } });
    expect(textOf(await storage.read('k'))).toBe('value');
    expect(server.counts.GET).toBe(3);
    server.inject({ method: 'HEAD', fault: { status: 502, code: 'BadGateway' } });
    expect((await storage.stat('k'))?.size).toBe(5);
  });

  it('downloads again when a body breaks off after the headers', async () => {
    const storage = await s3();
    const data = randomBytes(3 * 2 ** 20, 9);
    await storage.write('cut', data);
    server.reset();
    server.inject({ method: 'GET', times: 2, fault: 'cut-body' });
    expect(Buffer.compare(await storage.read('cut'), data)).toBe(0);
    expect(server.counts.GET).toBe(3);
    server.inject({ method: 'GET', fault: 'cut-body' });
    expect(
      Buffer.compare(await storage.readRange('cut', 1000, 2 ** 20), data.subarray(1000, 1000 + 2 ** 20)),
    ).toBe(0);
    // With one attempt allowed, a broken body is an IO_ERROR.
    const once = await s3({ prefix: storage.prefix, maxAttempts: 1 });
    server.inject({ method: 'GET', fault: 'cut-body' });
    const error = await errorOf(once.read('cut'));
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toContain('ECONNRESET');
  });

  it('gives up on an answer stalled past the idle timeout and retries, then fails with IO_ERROR', async () => {
    const storage = await s3({ idleTimeoutMs: 300, maxAttempts: 2 });
    await storage.write('k', bytes('value'));
    server.reset();
    // The first answer is held past the timeout: the request is retried and the second answered.
    server.inject({ method: 'GET', fault: { stallMs: 1500 } });
    const t0 = performance.now();
    expect(textOf(await storage.read('k'))).toBe('value');
    expect(performance.now() - t0).toBeLessThan(1400);
    expect(server.counts.GET).toBe(2);
    // A stall shorter than the timeout is only waited for.
    server.inject({ method: 'GET', fault: { stallMs: 150 } });
    expect(textOf(await storage.read('k'))).toBe('value');
    expect(server.counts.GET).toBe(3);
    // Every attempt stalled: a clear IO_ERROR, not a hang.
    server.inject({ method: 'HEAD', times: 2, fault: { stallMs: 1500 } });
    const error = await errorOf(storage.stat('k'));
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toMatch(/TimeoutError.*after 2 attempts/);
    expect(error.message).toContain('OCTA_S3_IDLE_TIMEOUT_MS');
    process.env.OCTA_S3_IDLE_TIMEOUT_MS = 'soon';
    try {
      await expect(openStorage('s3://b/p')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      delete process.env.OCTA_S3_IDLE_TIMEOUT_MS;
    }
    await expect(S3Storage.create({ bucket: 'b', idleTimeoutMs: 10 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('reports what still fails after the last attempt as IO_ERROR naming the key and the S3 code', async () => {
    const storage = await s3({ maxAttempts: 2 });
    server.inject({ method: 'GET', times: 2, fault: { status: 503, code: 'SlowDown' } });
    const error = await errorOf(storage.read('some/key'));
    expect(error.code).toBe('IO_ERROR');
    expect(error.value).toBe('some/key');
    expect(error.message).toContain(`${storage.url}/some/key`);
    expect(error.message).toContain('SlowDown');
    expect(error.message).toContain('HTTP 503');
    expect(error.message).toContain('after 2 attempts');
    expect(error.message).not.toContain(S3RVER_CREDENTIALS.secretAccessKey);
    expect(error.message).not.toMatch(/\n\s+at /);
    expect(server.counts.GET).toBe(2);

    const missing = await S3Storage.create({
      bucket: 'no-such-bucket',
      prefix: 'x',
      endpoint: server.endpoint,
    });
    opened.push(missing);
    const noBucket = await errorOf(missing.list(''));
    expect(noBucket.code).toBe('IO_ERROR');
    expect(noBucket.message).toContain('NoSuchBucket');

    const closed = await S3Storage.create({
      bucket: 'octa-storage',
      endpoint: 'http://127.0.0.1:1',
      maxAttempts: 2,
    });
    opened.push(closed);
    const refused = await errorOf(closed.write('k', bytes('x')));
    expect(refused.code).toBe('IO_ERROR');
    expect(refused.message).toContain('ECONNREFUSED');
    expect(refused.message).toContain('`s3Endpoint`');
  });

  it('lists page by page, skipping objects that are not lake keys', async () => {
    const storage = await s3({ listPageSize: 2 });
    const keys = ['e', 'a/1', 'c', 'b/x/y', 'a/2', 'd', '\u{1F600}'];
    for (const key of keys) await storage.write(key, bytes(key));
    // Objects put there by other tools: a folder marker and keys the lake would never write.
    const raw = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true });
    try {
      for (const Key of [`${storage.prefix}/folder/`, `${storage.prefix}/a\\b`, `${storage.prefix}/.tmp-1`]) {
        await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key, Body: new Uint8Array(0) }));
      }
    } finally {
      raw.destroy();
    }
    server.reset();
    const listed = await storage.list('');
    expect(listed.map((e) => e.key)).toEqual(
      [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
    );
    // 10 objects, 2 per page.
    expect(server.counts.GET).toBe(5);
    expect((await storage.list('a/')).map((e) => e.key)).toEqual(['a/1', 'a/2']);
  });

  it('refuses keys that are too long once the prefix is added', async () => {
    const storage = await s3({ prefix: `long/${'p'.repeat(1000)}` });
    const key = 'k'.repeat(30);
    expect((await errorOf(storage.write(key, bytes('x')))).code).toBe('INVALID_ARGUMENT');
    expect(server.counts.PUT).toBe(0);
  });

  it('checks its options', async () => {
    for (const options of [
      { partSize: 2 ** 20 },
      { partConcurrency: 0 },
      { maxAttempts: 0 },
      { listPageSize: 1001 },
      { endpoint: 'ftp://127.0.0.1' },
      { endpoint: 'not a url' },
      { retryMode: 'eager' as 'standard' },
    ]) {
      const error = await errorOf(
        S3Storage.create({ bucket: 'octa-storage', endpoint: server.endpoint, ...options }),
      );
      expect(error.code, JSON.stringify(options)).toBe('INVALID_ARGUMENT');
    }
  });

  it('needs a region only when no endpoint is given', async () => {
    const storage = await S3Storage.create({ bucket: 'octa-storage', endpoint: server.endpoint });
    opened.push(storage);
    await storage.write('k', bytes('x'));
    expect(textOf(await storage.read('k'))).toBe('x');
    const error = await errorOf(S3Storage.create({ bucket: 'octa-storage' }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('AWS_REGION');
  });
});

describe('S3 lake locations', () => {
  it('splits s3://bucket/prefix', () => {
    expect(s3UrlToLocation('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(s3UrlToLocation('s3://my-bucket/')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(s3UrlToLocation('s3://my.bucket.1/lakes/survey/')).toEqual({
      bucket: 'my.bucket.1',
      prefix: 'lakes/survey',
    });
    expect(s3UrlToLocation('s3://b12/a b/ä')).toEqual({ bucket: 'b12', prefix: 'a b/ä' });
  });

  it('refuses bad buckets and prefixes with INVALID_ARGUMENT', async () => {
    for (const url of [
      's3://',
      's3:///lake',
      's3://ab/lake',
      's3://My_Bucket/lake',
      's3://-bucket/lake',
      's3://bucket-/lake',
      's3://my..bucket/lake',
      's3://192.168.1.1/lake',
      's3://xn--bucket/lake',
      's3://bucket/a//b',
      's3://bucket//lake',
      's3://bucket/../lake',
      's3://bucket/a/./b',
      's3://bucket/.tmp-x',
      's3://bucket/a\\b',
      `s3://bucket/${'x'.repeat(1025)}`,
    ]) {
      const error = await errorOf(openStorage(url, { s3Endpoint: server.endpoint }));
      expect(error.code, url).toBe('INVALID_ARGUMENT');
      expect(error.message, url).toMatch(/bucket|prefix/);
    }
    for (const url of ['gs://bucket/lake', 'http://example.com/lake', 'S3://bucket/lake']) {
      const error = await errorOf(openStorage(url));
      expect(error.code, url).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain('s3://bucket/prefix');
    }
  });

  it('opens an S3 lake with an endpoint, and resolves only local lakes as paths', async () => {
    const storage = await openStorage(`s3://${server.bucket}/opened/lake/`, { s3Endpoint: server.endpoint });
    expect(storage).toBeInstanceOf(S3Storage);
    opened.push(storage as S3Storage);
    expect(storage.url).toBe(`s3://${server.bucket}/opened/lake`);
    await storage.write('k', bytes('x'));
    expect(server.requests.map((r) => `${r.method} ${r.key}`)).toEqual(['PUT opened/lake/k']);
    expect(resolveLake('s3://bucket/lake')).toBe('s3://bucket/lake');
    expect(resolveLake('rel/lake')).toBe(join(process.cwd(), 'rel/lake'));
    expect(resolveLake('file:///tmp/lake')).toBe('/tmp/lake');
    // An endpoint is only for S3 lakes; a local lake ignores it.
    const dir = mkdtempSync(join(tmpdir(), 'octa-open-'));
    try {
      expect(await openStorage(join(dir, 'lake'), { s3Endpoint: server.endpoint })).toBeInstanceOf(
        LocalStorage,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
