/**
 * One way to open a lake (issue 15, item 4): every storage has `close()`, the CLI opens and closes
 * a lake's storage in one helper (`withStorage`) whatever the command's outcome, and library
 * messages name no command that does not exist. In-process: the CLI's own helper and the library.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { withStorage } from '../../cli/args.js';
import { UsageError } from '../../cli/output.js';
import { runDemo } from '../../src/demo/demo.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import type { Storage } from '../../src/lake/storage/storage.js';
import { OctaError } from '../../src/lattice/index.js';
import { exportTrainingSet } from '../../src/sql/training/training.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { type S3TestServer, startS3Server } from '../support/s3-server.js';

let dir: string;
let lake: string;

beforeAll(async () => {
  dir = tempDir('octa-lake-open-');
  lake = join(dir, 'lake');
  const storage = await LocalStorage.create({ root: lake });
  await runDemo({ storage, scene: { points: 200, days: 1, seed: 3 } });
});

afterAll(() => removeDir(dir));

/** Runs withStorage, spying on the storage's close; returns the outcome and the close count. */
async function closes(
  a: { lake: string; s3Endpoint?: string },
  task: (storage: Storage) => Promise<unknown>,
  options?: { create?: boolean },
): Promise<{ outcome: unknown; closed: number; url: string }> {
  let close: ReturnType<typeof vi.fn<() => void>> | undefined;
  let url = '';
  const outcome = await withStorage(
    a,
    async (storage) => {
      url = storage.url;
      const real = storage.close.bind(storage);
      close = vi.fn<() => void>(real);
      storage.close = close;
      return task(storage);
    },
    options,
  ).catch((error: unknown) => error);
  return { outcome, closed: close?.mock.calls.length ?? -1, url };
}

describe('withStorage, the CLI helper every command opens a lake with', () => {
  it('closes a local lake once after the task, whether it returns or throws', async () => {
    const ok = await closes(
      { lake },
      async (s) => (await s.stat('_octa/log/00000000000000000001.json'))?.key,
    );
    expect(ok).toEqual({ outcome: '_octa/log/00000000000000000001.json', closed: 1, url: `file://${lake}` });
    const boom = new OctaError('IO_ERROR', 'boom', 'x');
    const failed = await closes({ lake }, async () => {
      throw boom;
    });
    expect(failed).toEqual({ outcome: boom, closed: 1, url: `file://${lake}` });
  });

  it('refuses a missing lake with a usage error (exit 2) and opens nothing; creates it only when asked', async () => {
    const missing = join(dir, 'missing');
    const refused = await closes({ lake: missing }, async () => 'ran');
    expect(refused.outcome).toBeInstanceOf(UsageError);
    expect((refused.outcome as Error).message).toBe(
      `no lake at ${missing}: --lake must name an existing lake directory or an s3://bucket/prefix URL`,
    );
    expect(refused.closed).toBe(-1);
    expect(existsSync(missing)).toBe(false);
    const created = await closes({ lake: missing }, async () => 'ran', { create: true });
    expect(created).toEqual({ outcome: 'ran', closed: 1, url: `file://${missing}` });
    expect(existsSync(missing)).toBe(true);
  });

  describe('on S3', () => {
    let server: S3TestServer;
    const saved: Record<string, string | undefined> = {};
    beforeAll(async () => {
      server = await startS3Server({ bucket: 'octa-open' });
      for (const [name, value] of Object.entries(server.env)) {
        saved[name] = process.env[name];
        process.env[name] = value;
      }
    });
    afterAll(async () => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await server.stop();
    });

    it('closes the S3 storage, releasing its client, and reads the URL with the one parser (one trailing / dropped)', async () => {
      const run = await closes({ lake: 's3://octa-open/lakes/a/', s3Endpoint: server.endpoint }, async (s) =>
        s.list(''),
      );
      expect(run).toEqual({ outcome: [], closed: 1, url: 's3://octa-open/lakes/a' });
    });
  });
});

describe('library messages', () => {
  it('a training export of a missing table lists the tables instead of naming a command that does not exist', async () => {
    const error = await exportTrainingSet({ lake, table: 'nope', out: join(dir, 'out'), lod: 3 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OctaError);
    expect((error as OctaError).code).toBe('NOT_FOUND');
    expect((error as OctaError).message).toBe(
      'no table nope in the lake (tables: survey) (code: NOT_FOUND, value: "nope")',
    );
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});
