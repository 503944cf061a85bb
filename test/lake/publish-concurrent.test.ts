/**
 * Concurrent writers and the published views (`npm run test:load`): 4 writers × 50 ingest commits
 * into one table, on local disk and on the S3 test server, each publishing after its commit as
 * `octa ingest` does. Both views end gap-free (one view version per catalog version, none skipped,
 * none twice) and list, at their latest version, exactly the catalog's live files.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCatalog, liveFiles } from '../../src/lake/catalog/catalog.js';
import { tableViews } from '../../src/lake/catalog/publish/views.js';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { verify } from '../../src/lake/maintenance/verify.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { S3Storage } from '../../src/lake/storage/s3-storage.js';
import type { Storage } from '../../src/lake/storage/storage.js';
import { S3RVER_CREDENTIALS, type S3TestServer, startS3Server } from '../support/s3-server.js';
import { removeDir, tempDir } from './fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, pointsToCsv } from './fixtures/ingest/points.js';

const WRITERS = 4;
const COMMITS = 50;
const TABLE = 'pts';

let dir: string;
let server: S3TestServer;

beforeAll(async () => {
  dir = tempDir('publish-concurrent');
  server = await startS3Server({ bucket: 'octa-publish' });
});

afterAll(async () => {
  await server?.stop();
  removeDir(dir);
});

/** One writer: `COMMITS` ingests of fresh small CSVs, one after another. */
async function writer(storage: Storage, w: number): Promise<number[]> {
  const versions: number[] = [];
  for (let c = 0; c < COMMITS; c++) {
    const path = join(dir, `w${w}-c${c}-${storage.url.length}.csv`);
    writeFileSync(path, pointsToCsv(generatePoints({ rows: 12, seed: w * 1000 + c, days: 1 })));
    const summary = await ingest({
      storage,
      table: TABLE,
      inputs: [{ path }],
      frame: POINTS_FRAME,
      lod: 10,
      time: 'time',
      rejectFile: null,
    });
    expect(summary.publish_errors).toEqual([]);
    versions.push(summary.version!);
  }
  return versions;
}

async function run(open: () => Promise<Storage>) {
  const storages = await Promise.all(Array.from({ length: WRITERS }, open));
  try {
    const versions = (await Promise.all(storages.map((s, w) => writer(s, w)))).flat().sort((a, b) => a - b);
    // Every commit got its own catalog version, gap-free.
    expect(versions).toEqual(Array.from({ length: WRITERS * COMMITS }, (_, i) => i + 1));
    const storage = storages[0]!;
    const snapshot = await (await EmbeddedCatalog.open({ storage })).snapshot();
    const keys = liveFiles(snapshot, TABLE)
      .map((f) => f.key)
      .sort();
    for (const view of await tableViews()) {
      const state = await view.read(storage, TABLE);
      expect(state?.version, view.format).toBe(WRITERS * COMMITS);
      expect([...state!.files.keys()].sort(), view.format).toEqual(keys);
    }
    // Gap-free histories: Delta version d and Iceberg snapshot d+1 reflect catalog version d+1.
    const log = `${TABLE}/_delta_log/`;
    const commits = (await storage.list(log)).filter((e) => /\/\d{20}\.json$/.test(e.key));
    expect(commits.map((e) => Number(e.key.slice(log.length, log.length + 20)))).toEqual(
      Array.from({ length: WRITERS * COMMITS }, (_, d) => d),
    );
    for (const e of commits) {
      const lines = new TextDecoder()
        .decode(await storage.read(e.key))
        .trim()
        .split('\n');
      const txn = lines.map((l) => JSON.parse(l).txn).find((t) => t?.appId === 'octa-catalog');
      expect(txn?.version, e.key).toBe(Number(e.key.slice(log.length, log.length + 20)) + 1);
    }
    const hint = new TextDecoder().decode(await storage.read(`${TABLE}/metadata/version-hint.text`)).trim();
    const metadata = JSON.parse(
      new TextDecoder().decode(await storage.read(`${TABLE}/metadata/v${hint}.metadata.json`)),
    ) as { snapshots: { summary: Record<string, string> }[] };
    expect(metadata.snapshots.map((s) => Number(s.summary['octa.catalog-version']))).toEqual(
      Array.from({ length: WRITERS * COMMITS }, (_, i) => i + 1),
    );
    const report = await verify({ storage });
    expect(report.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(report.problems.filter((p) => p.code.startsWith('VIEW_'))).toEqual([]);
    return storage;
  } finally {
    for (const s of storages.slice(1)) s.close();
  }
}

describe(`${WRITERS} writers × ${COMMITS} commits publish gap-free views`, () => {
  it('on local disk', async () => {
    const root = join(dir, 'lake');
    await run(() => LocalStorage.create({ root }));
  }, 600_000);

  it('on the S3 test server', async () => {
    process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
    const storage = await run(() =>
      S3Storage.create({
        bucket: server.bucket,
        prefix: 'lake',
        endpoint: server.endpoint,
        region: 'us-east-1',
      }),
    );
    storage.close();
  }, 600_000);
});
