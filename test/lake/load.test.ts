/**
 * Load on the commit protocol: 4 writers × 50 small ingests at once on one lake, local and on the
 * S3 test server (every commit present, each row exactly once, versions 1..200 gap-free), and
 * 1,000 small commits followed by compaction (query results identical before and after).
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCatalog, liveFiles } from '../../src/lake/catalog/catalog.js';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { compact } from '../../src/lake/maintenance/compact.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { S3Storage } from '../../src/lake/storage/s3-storage.js';
import type { Storage } from '../../src/lake/storage/storage.js';
import { openLake } from '../../src/sql/open.js';
import { S3RVER_CREDENTIALS, type S3TestServer, startS3Server } from '../support/s3-server.js';
import { removeDir, tempDir } from './fixtures/ingest/lake.js';

const ROWS_PER_COMMIT = 4;
const DAY = 86_400;

/** A small CSV whose rows are unique to (writer, commit): `id` = writer * 1e6 + commit * 100 + row. */
function batchCsv(writer: number, commit: number): string {
  const lines = ['x,y,z,t,id'];
  for (let r = 0; r < ROWS_PER_COMMIT; r++) {
    const id = writer * 1_000_000 + commit * 100 + r;
    const x = ((id * 7919) % 1000) + 0.5;
    const y = ((id * 104_729) % 1000) + 0.25;
    const z = (id % 200) + 0.125;
    // Three days, so commits land in several partitions.
    lines.push(`${x},${y},${z},${1_743_465_600 + (id % 3) * DAY + r},${id}`);
  }
  return `${lines.join('\n')}\n`;
}

async function ingestBatch(storage: Storage, writer: number, commit: number) {
  return ingest({
    storage,
    table: 'load',
    inputs: [{ stream: Readable.from([batchCsv(writer, commit)]), name: `w${writer}-c${commit}` }],
    format: 'csv',
    frame: 'cartesian:0,0,0,1024',
    lod: 10,
    time: 't',
    timeUnit: 's',
    rejectFile: null,
  });
}

/** Every id in the table, sorted, and the catalog's version. */
async function readBack(storage: Storage, cacheDir: string) {
  const lake = await openLake({ storage, cacheDir, functions: false });
  try {
    const rows = (await lake.connection.runAndReadAll('SELECT id FROM load ORDER BY id')).getRowObjectsJS();
    return { ids: rows.map((r) => Number(r.id)), version: lake.snapshot.version };
  } finally {
    lake.close();
  }
}

async function fourWriters(storage: () => Promise<Storage>, commits: number): Promise<number[]> {
  const versions: number[] = [];
  await Promise.all(
    [1, 2, 3, 4].map(async (w) => {
      const s = await storage();
      for (let c = 0; c < commits; c++) {
        const summary = await ingestBatch(s, w, c);
        expect(summary.rows_committed).toBe(ROWS_PER_COMMIT);
        versions.push(summary.version!);
      }
    }),
  );
  return versions;
}

const expectedIds = (writers: number[], commits: number) =>
  writers
    .flatMap((w) =>
      Array.from({ length: commits }, (_, c) =>
        Array.from({ length: ROWS_PER_COMMIT }, (_, r) => w * 1_000_000 + c * 100 + r),
      ),
    )
    .flat()
    .sort((a, b) => a - b);

describe('4 writers × 50 commits on one lake', () => {
  let dir: string;
  let server: S3TestServer;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    dir = tempDir('load');
    server = await startS3Server({ bucket: 'octa-load' });
    // The S3 client reads its credentials through the SDK's usual chain.
    for (const [name, value] of Object.entries({
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    })) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });
  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await server?.stop();
    removeDir(dir);
  });

  it('local disk: all 200 commits present, every row once, versions 1..200', async () => {
    const root = `${dir}/local`;
    const versions = await fourWriters(() => LocalStorage.create({ root }), 50);
    expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const back = await readBack(await LocalStorage.create({ root }), `${dir}/cache-local`);
    expect(back.version).toBe(200);
    expect(back.ids).toEqual(expectedIds([1, 2, 3, 4], 50));
  }, 300_000);

  it('S3: all 200 commits present, every row once, versions 1..200', async () => {
    const s3 = () =>
      S3Storage.create({
        bucket: 'octa-load',
        prefix: 'lake',
        endpoint: server.endpoint,
        region: 'us-east-1',
      });
    const versions = await fourWriters(s3, 50);
    expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const back = await readBack(await s3(), `${dir}/cache-s3`);
    expect(back.version).toBe(200);
    expect(back.ids).toEqual(expectedIds([1, 2, 3, 4], 50));
  }, 300_000);
});

describe('1,000 small commits, then compaction', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('load-compact');
  });
  afterAll(() => removeDir(dir));

  it('keeps every row and every query result, in far fewer files', async () => {
    const storage = await LocalStorage.create({ root: `${dir}/lake` });
    for (let c = 0; c < 1000; c++) await ingestBatch(storage, 9, c);
    const query = `SELECT t, count(*) AS n, sum(id) AS s, min(cell) AS lo, max(cell) AS hi
      FROM load WHERE x BETWEEN 100 AND 700 AND z < 150 GROUP BY t ORDER BY t`;
    const run = async () => {
      const lake = await openLake({ storage, functions: false });
      try {
        return (await lake.connection.runAndReadAll(query)).getRowObjectsJson();
      } finally {
        lake.close();
      }
    };
    const before = await run();
    const filesBefore = liveFiles(await (await EmbeddedCatalog.open({ storage })).snapshot(), 'load').length;
    const back = await readBack(storage, `${dir}/cache`);
    expect(back.ids).toEqual(expectedIds([9], 1000));

    const summary = await compact({ storage, table: 'load' });
    expect(summary.files_removed).toBe(filesBefore);
    const filesAfter = liveFiles(await (await EmbeddedCatalog.open({ storage })).snapshot(), 'load').length;
    expect(filesAfter).toBeLessThan(10);
    expect(await run()).toEqual(before);
    expect((await readBack(storage, `${dir}/cache2`)).ids).toEqual(expectedIds([9], 1000));
  }, 600_000);
});
