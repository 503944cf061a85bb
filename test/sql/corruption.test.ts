/**
 * Damaged files are never read as data: a query through the planner checks the files it selected
 * against their catalog records (size and SHA-256) and fails naming the file; opening the lake's
 * views checks every file's size. The catalog's own damage is `octa verify`'s (maintenance tests).
 */
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCatalog, liveFiles } from '../../src/lake/catalog/catalog.js';
import { ingest } from '../../src/lake/ingest/ingest.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError } from '../../src/lattice/index.js';
import { openLake } from '../../src/sql/open.js';
import { runQuery } from '../../src/sql/planner.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';

let dir: string;
let storage: LocalStorage;

beforeAll(async () => {
  dir = tempDir('corrupt');
  storage = await LocalStorage.create({ root: `${dir}/lake` });
  const lines = ['x,y,z,t'];
  for (let i = 0; i < 20_000; i++)
    lines.push(`${(i * 7919) % 1000},${(i * 104_729) % 1000},${i % 200},${1_743_465_600 + i}`);
  await ingest({
    storage,
    table: 'pts',
    inputs: [{ stream: Readable.from([`${lines.join('\n')}\n`]), name: 'pts' }],
    format: 'csv',
    frame: 'cartesian:0,0,0,1024',
    lod: 10,
    time: 't',
    timeUnit: 's',
    rejectFile: null,
  });
});
afterAll(() => removeDir(dir));

async function failure(promise: Promise<unknown>): Promise<OctaError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OctaError);
  expect((error as OctaError).code).toBe('CORRUPT');
  return error as OctaError;
}

describe('damaged data files', () => {
  it('a flipped bit fails the query naming the file; the intact lake answers', async () => {
    const query = { storage, table: 'pts', box: [0, 0, 0, 1023, 1023, 1023] as const };
    const before = await runQuery({ ...query, box: [...query.box] });
    expect(before.rows).toHaveLength(20_000);
    const [file] = liveFiles(await (await EmbeddedCatalog.open({ storage })).snapshot(), 'pts');
    const path = storage.localPath(file!.key)!;
    const bytes = readFileSync(path);
    const original = Buffer.from(bytes);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
    writeFileSync(path, bytes);
    const error = await failure(runQuery({ ...query, box: [...query.box] }));
    expect(error.message).toContain(file!.key);
    expect(error.message).toMatch(/SHA-256/);
    writeFileSync(path, original);
    expect((await runQuery({ ...query, box: [...query.box] })).rows).toHaveLength(20_000);
  });

  it('a truncated file fails opening the views and the query, naming the file', async () => {
    const [file] = liveFiles(await (await EmbeddedCatalog.open({ storage })).snapshot(), 'pts');
    const path = storage.localPath(file!.key)!;
    truncateSync(path, 1000);
    const open = await failure(openLake({ storage, functions: false }));
    expect(open.message).toContain(file!.key);
    expect(open.message).toMatch(/1000 bytes on disk/);
    const query = await failure(runQuery({ storage, table: 'pts', box: [0, 0, 0, 1023, 1023, 1023] }));
    expect(query.message).toContain(file!.key);
  });
});
