/**
 * Time travel agrees across the three ways to read a past version (issue 17): our own reader
 * (`openLake({ asOf })`), the Delta Lake log replayed by the protocol reader written in the tests,
 * and the Iceberg snapshots read by icebird (rows) and decoded with avsc (files). For every version
 * each view published, before and after a compaction, all three list the same files and rows.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { icebergRead } from 'icebird';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCatalog } from '../../src/lake/catalog/catalog.js';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { compact } from '../../src/lake/maintenance/compact.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { openLake } from '../../src/sql/open.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, pointsToCsv } from '../lake/fixtures/ingest/points.js';
import { deltaVersions, readDelta } from '../support/delta-reader.js';

const TABLE = 'pts';
let dir: string;
let lake: string;
let storage: LocalStorage;

beforeAll(async () => {
  dir = tempDir('travel-views');
  lake = join(dir, 'lake');
  storage = await LocalStorage.create({ root: lake });
  const run = async (seed: number) => {
    const path = join(dir, `in-${seed}.csv`);
    writeFileSync(path, pointsToCsv(generatePoints({ rows: 300, seed, days: 2 })));
    await ingest({
      storage,
      table: TABLE,
      inputs: [{ path }],
      frame: POINTS_FRAME,
      lod: 10,
      time: 'time',
      fileRows: 80,
      rejectFile: null,
    });
  };
  for (const seed of [1, 2, 3]) await run(seed);
  await compact({ storage, targetRows: 10_000, minFileRows: 1000 });
  await run(4);
}, 60_000);

afterAll(() => removeDir(dir));

/** The file keys and row count our reader shows as of a catalog version. */
async function asOf(version: number): Promise<{ keys: string[]; rows: number }> {
  const session = await openLake({ lake, asOf: version, functions: false });
  try {
    const keys = (
      await session.connection.runAndReadAll(
        `SELECT key FROM octa.files WHERE table_name = '${TABLE}' ORDER BY key`,
      )
    ).getRowObjects();
    const [count] = (
      await session.connection.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM ${TABLE}`)
    ).getRowObjects();
    return { keys: keys.map((k) => String(k.key)), rows: Number(count!.n) };
  } finally {
    session.close();
  }
}

/** Reads an Avro container file (a manifest list or manifest) by its file: location, with avsc. */
function records<T>(location: string): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    avro
      .createFileDecoder(fileURLToPath(location))
      .on('data', (r: T) => out.push(r))
      .on('end', () => resolve(out))
      .on('error', reject);
  });
}

/** icebird fetches by the metadata's absolute file: locations, which Node's fetch does not serve. */
const fileFetch: typeof fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const bytes = readFileSync(fileURLToPath(url));
  const range = /^bytes=(\d+)-(\d*)$/.exec(new Headers(init?.headers).get('Range') ?? '');
  if (range === null) return new Response(bytes, { status: 200 });
  return new Response(bytes.subarray(Number(range[1]), range[2] ? Number(range[2]) + 1 : bytes.length), {
    status: 206,
  });
};

describe('a past version reads the same through openLake({ asOf }), Delta Lake and Iceberg', () => {
  it('the Delta log at every version lists the files and rows of its catalog version', async () => {
    const versions = await deltaVersions(storage, TABLE);
    // Three ingests, a compaction (one commit per day partition), an ingest: every catalog version.
    const latest = (await (await EmbeddedCatalog.open({ storage })).snapshot()).version;
    expect(latest).toBeGreaterThanOrEqual(5);
    expect(versions).toEqual(Array.from({ length: latest }, (_, d) => d));
    for (const d of versions) {
      const snapshot = await readDelta(storage, TABLE, d);
      const catalogVersion = snapshot.txns.get('octa-catalog')!;
      const ours = await asOf(catalogVersion);
      expect([...snapshot.files.values()].map((f) => `${TABLE}/${f.path}`).sort(), `Delta ${d}`).toEqual(
        ours.keys,
      );
      expect([...snapshot.files.values()].reduce((n, f) => n + f.stats.numRecords, 0)).toBe(ours.rows);
    }
  });

  it('every Iceberg snapshot lists the files, and icebird reads the rows, of its catalog version', async () => {
    const hint = Number(readFileSync(join(lake, TABLE, 'metadata', 'version-hint.text'), 'utf8'));
    const latest = (await (await EmbeddedCatalog.open({ storage })).snapshot()).version;
    expect(hint).toBe(latest);
    const seen: number[] = [];
    for (let n = 1; n <= hint; n++) {
      const metadata = JSON.parse(
        readFileSync(join(lake, TABLE, 'metadata', `v${n}.metadata.json`), 'utf8'),
      ) as {
        'current-snapshot-id': number;
        snapshots: { 'snapshot-id': number; 'manifest-list': string; summary: Record<string, string> }[];
      };
      const current = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id'])!;
      const catalogVersion = Number(current.summary['octa.catalog-version']);
      seen.push(catalogVersion);
      const ours = await asOf(catalogVersion);
      const keys: string[] = [];
      for (const m of await records<{ manifest_path: string }>(current['manifest-list'])) {
        for (const e of await records<{ status: number; data_file: { file_path: string } }>(
          m.manifest_path,
        )) {
          if (e.status !== 2) keys.push(e.data_file.file_path.slice(storage.url.length + 1));
        }
      }
      expect(keys.sort(), `Iceberg v${n}`).toEqual(ours.keys);
      const saved = globalThis.fetch;
      globalThis.fetch = fileFetch;
      try {
        const rows = await icebergRead({
          tableUrl: `${storage.url}/${TABLE}`,
          metadataFileName: `v${n}.metadata.json`,
        });
        expect(rows.length, `icebird v${n}`).toBe(ours.rows);
      } finally {
        globalThis.fetch = saved;
      }
    }
    // One snapshot per catalog version that changed the table, in order.
    expect(seen).toEqual(Array.from({ length: latest }, (_, i) => i + 1));
  });
});
