/**
 * Reading a remote lake through the file cache, against the same lake read in place: a
 * remote-like Storage (a LocalStorage with no local paths that counts reads per key) stands in for
 * S3. Planner results must equal the local ones on seeded random boxes and time windows, the only
 * objects fetched must be the files the planner selected, repeated queries must fetch nothing,
 * damaged objects must fail naming the file, eviction must keep the cache under its size, and two
 * caches sharing a directory must both end up with correct files. httpfs cannot be installed
 * offline, so `auto` must fall back to the cache when `LOAD httpfs` fails.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCatalog, type FileRecord, liveFiles } from '../../src/lake/catalog/catalog.js';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { FileCache } from '../../src/lake/storage/file-cache.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError } from '../../src/lattice/errors.js';
import { loadHttpfs } from '../../src/sql/httpfs.js';
import { type LakeSession, openLake, tablesInSql } from '../../src/sql/open.js';
import { runQuery } from '../../src/sql/planner.js';
import { LakeReader } from '../../src/sql/remote-read.js';
import { resolveS3Access, s3SecretSql } from '../../src/sql/s3-access.js';
import { prng, randInt } from '../prng.js';
import { RemoteLikeStorage } from '../support/remote-storage.js';
import { withS3Lake } from '../support/s3-server.js';

const FRAME = 'cartesian:0,0,0,1024';
const DAYS = ['2025-06-02', '2025-06-03', '2025-06-04', '2025-06-05'];
const CLUSTERS = 14;

let dir = '';
let lakeDir = '';
let remote: RemoteLikeStorage;
let local: LakeSession;
/** One session on the remote-like lake, through the file cache at `sharedCache`. */
let shared: LakeSession;
let sharedCache = '';
let files: FileRecord[] = [];
let cacheCount = 0;

/** A fresh, empty cache directory. */
const freshCache = () => join(dir, 'caches', String(cacheCount++));

/** Empties the shared session's cache, so that its next query fetches every file it reads. */
function emptySharedCache(): void {
  for (const name of readdirSync(sharedCache))
    rmSync(join(sharedCache, name), { recursive: true, force: true });
}

async function errorOf(promise: Promise<unknown>): Promise<OctaError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OctaError) return error;
    throw error;
  }
  throw new Error('expected an OctaError');
}

/** Reads of data files (not the catalog) since the last reset: key → [whole reads, ranged reads]. */
function dataReads(storage: RemoteLikeStorage): Map<string, [number, number]> {
  return new Map(
    [...storage.reads]
      .filter(([key]) => !key.startsWith('_octa/'))
      .map(([key, c]) => [key, [c.read, c.readRange]] as [string, [number, number]]),
  );
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const rowText = (rows: Record<string, unknown>[]) =>
  rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).sort();

/** Every file under a directory, recursively (names only). */
function namesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'octa-file-cache-'));
  lakeDir = join(dir, 'lake');
  const storage = await LocalStorage.create({ root: lakeDir });
  // One ingest per cluster: each commits its own file, with its own bounding box, id span and day,
  // so the planner has files to prune by space and by time.
  const rand = prng(5150);
  for (let c = 0; c < CLUSTERS; c++) {
    const [cx, cy] = [randInt(rand, 80, 920), randInt(rand, 80, 920)];
    const day = Date.parse(`${DAYS[c % DAYS.length]}T08:00:00Z`) / 1000;
    const lines = ['x,y,z,t,v'];
    for (let i = 0; i < 400; i++) {
      const x = cx + (rand() - 0.5) * 150;
      const y = cy + (rand() - 0.5) * 150;
      lines.push(`${x},${y},${rand() * 60},${day + randInt(rand, 0, 8 * 3600)},${rand()}`);
    }
    const csv = join(dir, `cluster-${c}.csv`);
    writeFileSync(csv, `${lines.join('\n')}\n`);
    await ingest({
      storage,
      table: 'pts',
      inputs: [{ path: csv }],
      frame: FRAME,
      lod: 12,
      time: 't',
      rejectFile: null,
    });
  }
  const other = join(dir, 'other.csv');
  writeFileSync(other, 'x,y,z,t\n1,2,3,1748851200\n4,5,6,1748851260\n');
  await ingest({
    storage,
    table: 'other',
    inputs: [{ path: other }],
    frame: FRAME,
    lod: 12,
    time: 't',
    rejectFile: null,
  });
  remote = await RemoteLikeStorage.create({ root: lakeDir });
  local = await openLake({ lake: lakeDir });
  sharedCache = freshCache();
  shared = await openLake({ storage: remote, remoteRead: 'cache', cacheDir: sharedCache, views: 'none' });
  files = liveFiles(local.snapshot, 'pts');
  expect(files.length).toBe(CLUSTERS);
});

afterAll(() => {
  local?.close();
  shared?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** A random box (frame metres) and time window. */
function randomQuery(rand: () => number): { box: number[]; from?: string; to?: string } {
  const [x, y] = [randInt(rand, 0, 1000), randInt(rand, 0, 1000)];
  const [w, h] = [randInt(rand, 40, 600), randInt(rand, 40, 600)];
  const box = [x - w / 2, y - h / 2, randInt(rand, 0, 20), x + w / 2, y + h / 2, randInt(rand, 30, 70)];
  const day = randInt(rand, 0, DAYS.length - 1);
  const k = randInt(rand, 0, 3);
  if (k === 0) return { box };
  if (k === 1) return { box, from: DAYS[day]!, to: DAYS[day + 1] ?? '2025-06-06' };
  if (k === 2) return { box, from: DAYS[day]! };
  return { box, from: `${DAYS[day]}T10:00:00Z`, to: `${DAYS[day]}T13:30:00Z` };
}

describe('runQuery on a remote lake through the file cache', () => {
  it('returns what the local lake returns and fetches exactly the selected files, once each', async () => {
    const rand = prng(77);
    let pruned = 0;
    let nonEmpty = 0;
    for (let q = 0; q < 24; q++) {
      const query = { table: 'pts', ...randomQuery(rand), values: 'json' as const };
      const want = await runQuery({ session: local, ...query });
      emptySharedCache();
      remote.resetCounts();
      const got = await runQuery({ session: shared, ...query });
      expect(rowText(got.rows)).toEqual(rowText(want.rows));
      const selected = got.plan.files.map((f) => f.key).sort();
      expect(selected).toEqual(want.plan.files.map((f) => f.key).sort());
      // One whole GET per selected file, nothing else of any data file.
      expect(dataReads(remote)).toEqual(new Map(selected.map((k) => [k, [1, 0]])));
      if (selected.length < files.length) pruned++;
      if (got.rows.length > 0) nonEmpty++;
    }
    // The queries must exercise pruning and find rows, or the test proves nothing.
    expect(pruned).toBeGreaterThan(10);
    expect(nonEmpty).toBeGreaterThan(10);
  });

  it('a repeated query fetches nothing, an overlapping one only the files it lacks', async () => {
    const session = await openLake({
      storage: remote,
      remoteRead: 'cache',
      cacheDir: freshCache(),
      views: 'none',
    });
    try {
      expect(session.reader.mode).toBe('cache');
      const first = { table: 'pts', box: [0, 0, 0, 600, 600, 100], from: DAYS[0]!, to: DAYS[2]! };
      remote.resetCounts();
      const a = await runQuery({ session, ...first });
      const aKeys = a.plan.files.map((f) => f.key);
      expect(aKeys.length).toBeGreaterThan(0);
      expect([...dataReads(remote).keys()].sort()).toEqual([...aKeys].sort());
      const hits = session.reader.cache!.stats.hits;
      remote.resetCounts();
      const again = await runQuery({ session, ...first });
      expect(dataReads(remote).size).toBe(0);
      expect(session.reader.cache!.stats.hits - hits).toBe(aKeys.length);
      expect(rowText(again.rows)).toEqual(rowText(a.rows));
      remote.resetCounts();
      const b = await runQuery({ session, table: 'pts', box: [0, 0, 0, 1000, 1000, 100], from: DAYS[1]! });
      const fresh = b.plan.files.map((f) => f.key).filter((k) => !aKeys.includes(k));
      expect(fresh.length).toBeGreaterThan(0);
      expect([...dataReads(remote).keys()].sort()).toEqual(fresh.sort());
    } finally {
      session.close();
    }
  });

  it('explain counts every row group as the local lake does, reading only footers of unselected files', async () => {
    const query = { table: 'pts', box: [100, 100, 0, 500, 500, 100], from: DAYS[1]!, explain: true };
    const want = await runQuery({ session: local, ...query });
    emptySharedCache();
    remote.resetCounts();
    const got = await runQuery({ session: shared, ...query });
    expect(got.explain!.rowGroupsTotal).toBe(want.explain!.rowGroupsTotal);
    expect(got.explain!.rowGroupsConsidered).toBe(want.explain!.rowGroupsConsidered);
    expect(got.explain!.rowGroupsMatching).toBe(want.explain!.rowGroupsMatching);
    const selected = new Set(got.plan.files.map((f) => f.key));
    expect(selected.size).toBeGreaterThan(0);
    expect(selected.size).toBeLessThan(files.length);
    const reads = dataReads(remote);
    for (const f of files) {
      const [whole, ranged] = reads.get(f.key) ?? [0, 0];
      if (selected.has(f.key)) expect(whole).toBe(1);
      else expect([whole, ranged > 0]).toEqual([0, true]);
    }
  });

  it('a query whose files exceed the cache fails before fetching anything, naming --cache-mb', async () => {
    const query = { table: 'pts', box: [0, 0, 0, 1000, 1000, 100] };
    remote.resetCounts();
    const error = await errorOf(
      runQuery({
        storage: remote,
        remoteRead: 'cache',
        cacheDir: freshCache(),
        cacheMaxBytes: files[0]!.bytes,
        ...query,
      }),
    );
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/`cacheMaxBytes`/);
    expect(dataReads(remote).size).toBe(0);
  });

  it('an object changed after its commit fails with CORRUPT naming it, and nothing of it is cached', async () => {
    const copy = join(dir, 'damaged');
    cpSync(lakeDir, copy, { recursive: true });
    const damaged = await RemoteLikeStorage.create({ root: copy });
    const victim = files[3]!;
    const bytes = await damaged.inner.read(victim.key);
    const changed = bytes.slice();
    changed[changed.length >> 1] = 0xff - changed[changed.length >> 1]!;
    await damaged.inner.write(victim.key, changed);
    const cacheDir = freshCache();
    const day = victim.t;
    const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const error = await errorOf(
      runQuery({
        storage: damaged,
        remoteRead: 'cache',
        cacheDir,
        table: 'pts',
        box: [...victim.bbox],
        from: day,
        to: next,
      }),
    );
    expect(error.code).toBe('CORRUPT');
    expect(error.value).toBe(victim.key);
    expect(error.message).toContain(victim.key);
    expect(error.message).toContain(victim.sha256);
    const names = namesUnder(cacheDir);
    expect(names).not.toContain(`${victim.sha256}.parquet`);
    expect(names.filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    // A view over the table fails the same way at open.
    const viewError = await errorOf(
      openLake({ storage: damaged, remoteRead: 'cache', cacheDir: freshCache() }),
    );
    expect([viewError.code, viewError.value]).toEqual(['CORRUPT', victim.key]);
    // A shorter object too.
    await damaged.inner.write(victim.key, bytes.subarray(0, bytes.length - 10));
    const short = await errorOf(
      FileCache.create({ storage: damaged, cacheDir: freshCache() }).then((c) => c.ensure([victim])),
    );
    expect([short.code, short.value]).toEqual(['CORRUPT', victim.key]);
  });
});

describe('FileCache', () => {
  it('copies are named by checksum under the Hive directories, with the catalog bytes', async () => {
    const cache = await FileCache.create({ storage: remote, cacheDir: freshCache() });
    const paths = await cache.ensure(files.slice(0, 3));
    for (const f of files.slice(0, 3)) {
      const path = paths.get(f.key)!;
      expect(path).toBe(join(cache.dir, ...f.key.split('/').slice(0, -1), `${f.sha256}.parquet`));
      expect(sha256(readFileSync(path))).toBe(f.sha256);
    }
    // DuckDB still reads the partition columns from the path.
    const r = await local.connection.runAndReadAll(
      `SELECT DISTINCT lod::INTEGER AS lod, t::VARCHAR AS t FROM read_parquet(['${paths.get(files[0]!.key)}'], hive_partitioning = true)`,
    );
    expect(r.getRowObjectsJson()).toEqual([{ lod: files[0]!.lod, t: files[0]!.t }]);
  });

  it('a replaced object gets a new copy, never the stale one; a damaged copy is fetched again', async () => {
    const copy = join(dir, 'replaced');
    cpSync(lakeDir, copy, { recursive: true });
    const storage = await RemoteLikeStorage.create({ root: copy });
    const cache = await FileCache.create({ storage, cacheDir: freshCache() });
    const old = files[5]!;
    const oldPath = (await cache.ensure([old])).get(old.key)!;
    cache.release([old]);
    // The object is rewritten (as a catalog commit replacing the file would record): new bytes, new checksum.
    const bytes = readFileSync(join(lakeDir, ...files[6]!.key.split('/')));
    await storage.inner.write(old.key, bytes);
    const replaced = { ...old, bytes: bytes.length, sha256: sha256(bytes) };
    storage.resetCounts();
    const newPath = (await cache.ensure([replaced])).get(old.key)!;
    cache.release([replaced]);
    expect(newPath).not.toBe(oldPath);
    expect(storage.reads.get(old.key)?.read).toBe(1);
    expect(sha256(readFileSync(newPath))).toBe(replaced.sha256);
    expect(sha256(readFileSync(oldPath))).toBe(old.sha256);
    // A copy cut short (a full disk, a crash without fsync) does not count as a hit.
    writeFileSync(newPath, bytes.subarray(0, 100));
    storage.resetCounts();
    await cache.use([replaced], async (paths) => {
      expect(sha256(readFileSync(paths.get(old.key)!))).toBe(replaced.sha256);
    });
    expect(storage.reads.get(old.key)?.read).toBe(1);
  });

  it('evicts the least recently used copies to stay under its size, never the ones in use', async () => {
    const [a, b, c, d, e] = files as [FileRecord, FileRecord, FileRecord, FileRecord, FileRecord];
    const min = Math.min(...files.map((f) => f.bytes));
    const maxBytes = a.bytes + b.bytes + c.bytes + d.bytes + min - 1;
    const cache = await FileCache.create({ storage: remote, cacheDir: freshCache(), maxBytes });
    for (const f of [a, b, c, d]) {
      await cache.use([f], async () => undefined);
      await sleep(20);
    }
    expect(cache.stats.evictions).toBe(0);
    await cache.use([a], async () => undefined); // a hit: now more recent than b, c, d
    await sleep(20);
    remote.resetCounts();
    const paths = await cache.ensure([e]);
    try {
      expect([...dataReads(remote).keys()]).toEqual([e.key]);
      expect(cache.stats.evictions).toBe(1);
      expect(await cache.size()).toBeLessThanOrEqual(maxBytes);
      expect(await cache.peek(b)).toBeNull();
      for (const f of [a, c, d, e]) expect(await cache.peek(f)).not.toBeNull();
      expect(existsSync(paths.get(e.key)!)).toBe(true);
    } finally {
      cache.release([e]);
    }
    // Files held by a running query are never evicted, even when that leaves the cache over its size.
    const small = await FileCache.create({
      storage: remote,
      cacheDir: cache.dir,
      maxBytes: Math.max(a.bytes, b.bytes, c.bytes),
    });
    await small.use([a], async () => {
      await small.use([b], async () => {
        expect(await small.peek(a)).not.toBeNull();
        expect(await small.peek(b)).not.toBeNull();
      });
    });
    await small.use([c], async () => undefined);
    expect(await small.size()).toBeLessThanOrEqual(small.maxBytes);
    expect(await small.peek(c)).not.toBeNull();
  });

  it('two caches on one directory fetching the same files at once both get correct copies', async () => {
    const cacheDir = freshCache();
    const one = await FileCache.create({ storage: remote, cacheDir, concurrency: 3 });
    const two = await FileCache.create({ storage: remote, cacheDir, concurrency: 5 });
    remote.resetCounts();
    const [p1, p2] = await Promise.all([one.ensure(files), two.ensure(files)]);
    expect(p1).toEqual(p2);
    for (const f of files) {
      expect(sha256(readFileSync(p1.get(f.key)!))).toBe(f.sha256);
      const [whole] = dataReads(remote).get(f.key)!;
      expect(whole).toBeGreaterThanOrEqual(1);
      expect(whole).toBeLessThanOrEqual(2);
    }
    expect(namesUnder(cacheDir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    // Within one cache, concurrent requests for the same file share one download.
    const three = await FileCache.create({ storage: remote, cacheDir: freshCache() });
    remote.resetCounts();
    await Promise.all([three.ensure(files), three.ensure(files.slice(2, 6))]);
    expect([...dataReads(remote).values()].every(([whole]) => whole === 1)).toBe(true);
    expect(dataReads(remote).size).toBe(files.length);
  });

  it('checks its options', async () => {
    for (const maxBytes of [0, -1, 1.5]) {
      expect((await errorOf(FileCache.create({ storage: remote, maxBytes }))).code).toBe('INVALID_ARGUMENT');
    }
    expect((await errorOf(FileCache.create({ storage: remote, concurrency: 0 }))).code).toBe(
      'INVALID_ARGUMENT',
    );
  });
});

describe('views of a remote lake', () => {
  it('fetch only the tables an SQL text names', async () => {
    const sql = 'SELECT count(*) AS n, sum(x) AS s FROM PTS';
    remote.resetCounts();
    const session = await openLake({
      storage: remote,
      remoteRead: 'cache',
      cacheDir: freshCache(),
      views: { mentionedIn: sql },
    });
    try {
      expect([...dataReads(remote).keys()].sort()).toEqual(files.map((f) => f.key).sort());
      const got = (await session.connection.runAndReadAll(sql)).getRowObjectsJson();
      const want = (await local.connection.runAndReadAll(sql)).getRowObjectsJson();
      expect(got).toEqual(want);
      await expect(session.connection.run('SELECT * FROM other')).rejects.toThrow(/other/);
      // The catalog's files view is there whatever was fetched.
      const n = (await session.connection.runAndReadAll('SELECT count(*)::INTEGER FROM files')).getRows();
      expect(n[0]![0]).toBe(files.length + 1);
    } finally {
      session.close();
    }
  });

  it('tablesInSql errs towards more tables, never fewer', () => {
    const names = ['pts', 'other', 'o'];
    expect(tablesInSql('SELECT * FROM "PTS" JOIN other_x USING (cell)', names)).toEqual(['pts']);
    expect(tablesInSql('select 1 from pts,other', names)).toEqual(['pts', 'other']);
    expect(tablesInSql("SELECT 'o'", names)).toEqual(['o']);
    expect(tablesInSql('SELECT 1', names)).toEqual([]);
  });
});

describe('choosing how to read a remote lake', () => {
  it("'auto' falls back to the file cache when LOAD httpfs fails; 'httpfs' then fails saying so", async () => {
    // An empty extension directory and no auto-install: LOAD httpfs fails here whatever the machine has.
    const extensions = mkdtempSync(join(dir, 'ext-'));
    const instance = await DuckDBInstance.create(':memory:', {
      extension_directory: extensions,
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    try {
      const connection = await instance.connect();
      try {
        const problem = await loadHttpfs(connection);
        expect(problem).toMatch(/httpfs/i);
        const reader = await LakeReader.create({
          storage: remote,
          connection,
          remoteRead: 'auto',
          cacheDir: freshCache(),
        });
        expect(reader.mode).toBe('cache');
        expect(reader.httpfsProblem).toBe(problem);
        const error = await errorOf(LakeReader.create({ storage: remote, connection, remoteRead: 'httpfs' }));
        expect(error.code).toBe('INVALID_ARGUMENT');
        expect(error.message).toMatch(/httpfs.*`remoteRead` cache/);
        const cacheOnly = await LakeReader.create({
          storage: remote,
          connection,
          remoteRead: 'cache',
          cacheDir: freshCache(),
        });
        expect([cacheOnly.mode, cacheOnly.httpfsProblem]).toEqual(['cache', null]);
        const inPlace = await LakeReader.create({ storage: remote.inner, connection, remoteRead: 'httpfs' });
        expect(inPlace.mode).toBe('local');
        const bad = await errorOf(
          LakeReader.create({ storage: remote, connection, remoteRead: 'ftp' as never }),
        );
        expect(bad.code).toBe('INVALID_ARGUMENT');
      } finally {
        connection.closeSync();
      }
    } finally {
      instance.closeSync();
    }
  });

  it('the httpfs secret takes the endpoint, region and keys, from options, the S3 client or the environment', async () => {
    const withClient = Object.assign(Object.create(remote) as RemoteLikeStorage, {
      client: {
        config: {
          region: async () => 'eu-west-3',
          credentials: async () => ({ accessKeyId: 'client-key', secretAccessKey: 'client-secret' }),
          endpoint: async () => ({ protocol: 'http:', hostname: '127.0.0.1', port: 4568, path: '/' }),
        },
      },
    });
    const env = { AWS_REGION: 'env-region', AWS_ACCESS_KEY_ID: 'env-key', AWS_SESSION_TOKEN: 'env-token' };
    expect(await resolveS3Access(withClient, { region: 'given' }, env)).toEqual({
      endpoint: 'http://127.0.0.1:4568/',
      region: 'given',
      accessKeyId: 'client-key',
      secretAccessKey: 'client-secret',
      sessionToken: 'env-token',
    });
    expect(await resolveS3Access(remote, {}, env)).toEqual({
      region: 'env-region',
      accessKeyId: 'env-key',
      sessionToken: 'env-token',
    });
    const sql = s3SecretSql('octa-test', {
      endpoint: 'http://127.0.0.1:4568/',
      accessKeyId: 'k',
      secretAccessKey: "it's",
    });
    expect(sql).toContain("ENDPOINT '127.0.0.1:4568'");
    expect(sql).toContain("URL_STYLE 'path'");
    expect(sql).toContain('USE_SSL false');
    expect(sql).toContain("SECRET 'it''s'");
    expect(sql).toContain("SCOPE 's3://octa-test'");
    expect(s3SecretSql('b', { endpoint: 'https://s3.example.com' })).toContain('USE_SSL true');
    expect(s3SecretSql('b', { region: 'us-east-1' })).not.toContain('ENDPOINT');
    expect(() => s3SecretSql('b', { endpoint: '127.0.0.1:4568' })).toThrow(/INVALID_ARGUMENT/);
  });
});

it('the remote-like storage serves the catalog the local one does', async () => {
  const catalog = await EmbeddedCatalog.open({ storage: remote });
  const snapshot = await catalog.snapshot();
  expect(snapshot.version).toBe(local.snapshot.version);
  expect(remote.localPath(files[0]!.key)).toBeNull();
});

describe('an S3 lake through the real client and an S3 server', () => {
  it('runQuery GETs exactly the selected files, once, and a repeat GETs none of them', async () => {
    await withS3Lake('octa-cache', async (storage, server) => {
      // The same lake, object for object, in the bucket.
      for (const entry of await remote.inner.list('')) {
        await storage.write(entry.key, await remote.inner.read(entry.key));
      }
      const cacheDir = freshCache();
      const query = {
        table: 'pts',
        box: [150, 150, 0, 700, 650, 100],
        from: DAYS[1]!,
        values: 'json' as const,
      };
      const want = await runQuery({ session: local, ...query });
      const dataGets = () =>
        server.requests
          .filter((r) => r.method === 'GET' && r.key.startsWith('lake/') && !r.key.startsWith('lake/_octa/'))
          .map((r) => r.key.slice('lake/'.length))
          .sort();
      server.reset();
      const got = await runQuery({ storage, remoteRead: 'cache', cacheDir, ...query });
      const selected = got.plan.files.map((f) => f.key).sort();
      expect(selected).toEqual(want.plan.files.map((f) => f.key).sort());
      expect(selected.length).toBeGreaterThan(0);
      expect(selected.length).toBeLessThan(files.length);
      expect(dataGets()).toEqual(selected);
      expect(rowText(got.rows)).toEqual(rowText(want.rows));
      server.reset();
      const again = await runQuery({ storage, remoteRead: 'cache', cacheDir, ...query });
      expect(dataGets()).toEqual([]);
      expect(rowText(again.rows)).toEqual(rowText(want.rows));
    });
  });
});
