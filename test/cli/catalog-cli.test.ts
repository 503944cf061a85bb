/**
 * `octa catalog sync` and `octa catalog ddl` as a user runs them, through the CLI's `main` in this
 * process: syncing to the local Glue-protocol server through the real SDK, its stdout, one-line
 * errors and exit codes. The S3 lake's case spawns the built CLI (asynchronously: the servers run
 * in this process), which reads the endpoint from OCTA_S3_ENDPOINT.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedCatalog } from '../../src/lake/catalog/catalog.js';
import { hiveDdl } from '../../src/lake/catalog/publish/hive-ddl.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { ingestLake } from '../lake/fixtures/hive-lake.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, pointsToCsv } from '../lake/fixtures/ingest/points.js';
import { GlueServer, TEST_AWS_ENV } from '../support/glue-server.js';
import { startS3Server } from '../support/s3-server.js';
import { OCTA, octaInProcess } from './run.js';

let dir: string;
let lake: string;
let server: GlueServer;

beforeEach(async () => {
  dir = tempDir('catalog-cli');
  lake = join(dir, 'lake');
  await ingestLake({ lake, dir, days: 2 });
  server = await GlueServer.start();
});

afterEach(async () => {
  await server.close();
  removeDir(dir);
});

/** Runs `octa` in this process (the Glue server answers from it) with the test's AWS settings. */
function octa(args: string[], env: Record<string, string> = {}) {
  return octaInProcess(args, { env: { ...TEST_AWS_ENV, ...env } });
}

/**
 * Runs the built `octa` without blocking this process (the servers answer from it), for the case
 * that takes the S3 endpoint from OCTA_S3_ENDPOINT as a new process reads it.
 */
function spawnOcta(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OCTA, ...args], {
      env: { ...process.env, ...TEST_AWS_ENV, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const octaErrors = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('octa: '));

describe('octa catalog sync', () => {
  it('creates the Glue table and partitions, prints a JSON summary, and a second run changes nothing', async () => {
    const sync = [
      'catalog',
      'sync',
      '--lake',
      lake,
      '--glue-database',
      'cli_db',
      '--glue-endpoint',
      server.endpoint,
    ];
    const first = await octa([...sync, '--json', '--location', 's3://bucket/lake']);
    expect(octaErrors(first.stderr)).toEqual([]);
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      database: 'cli_db',
      databaseCreated: true,
      tables: [
        {
          table: 'pts',
          name: 'pts',
          action: 'created',
          partitions: 2,
          created: 2,
          updated: 0,
          deleted: 0,
          retried: 0,
        },
      ],
    });
    const client = new GlueClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const table = (await client.send(new GetTableCommand({ DatabaseName: 'cli_db', Name: 'pts' }))).Table!;
      expect(table.StorageDescriptor!.Location).toBe('s3://bucket/lake/pts/');
    } finally {
      client.destroy();
    }
    expect(server.bodies('BatchCreatePartition').map((b) => b.PartitionInputList.length)).toEqual([2]);

    const second = await octa([...sync, '--location', 's3://bucket/lake']);
    expect(second.status).toBe(0);
    expect(second.stdout).toBe(
      'cli_db.pts: table unchanged; 2 partitions (0 created, 0 updated, 0 deleted, 0 retried)\n',
    );
    expect(server.bodies('BatchCreatePartition').length).toBe(1);
  });

  it('publishes an S3 lake: ingest to s3:// then sync, the Glue table pointing into the bucket', async () => {
    const s3 = await startS3Server({ bucket: 'octa-glue' });
    try {
      const csv = join(dir, 's3.csv');
      writeFileSync(csv, pointsToCsv(generatePoints({ rows: 200, seed: 3, days: 2 })));
      const s3Lake = 's3://octa-glue/lakes/one';
      const ingested = await spawnOcta(
        [
          'ingest',
          csv,
          '--lake',
          s3Lake,
          '--table',
          'pts',
          '--frame',
          POINTS_FRAME,
          '--lod',
          '8',
          '--time',
          'time',
        ],
        s3.env,
      );
      expect(octaErrors(ingested.stderr).filter((l) => !/rows read/.test(l))).toEqual([]);
      expect(ingested.status).toBe(0);
      const r = await spawnOcta(
        [
          'catalog',
          'sync',
          '--lake',
          s3Lake,
          '--glue-database',
          'lake',
          '--glue-endpoint',
          server.endpoint,
          '--json',
        ],
        s3.env,
      );
      expect(octaErrors(r.stderr)).toEqual([]);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout).tables[0]).toMatchObject({ table: 'pts', action: 'created', created: 2 });
      const [create] = server.bodies('CreateTable');
      expect(create.TableInput.StorageDescriptor.Location).toBe('s3://octa-glue/lakes/one/pts/');
      const locations = server
        .bodies('BatchCreatePartition')
        .flatMap((b) =>
          b.PartitionInputList.map(
            (p: { StorageDescriptor: { Location: string } }) => p.StorageDescriptor.Location,
          ),
        )
        .sort();
      expect(locations).toEqual([
        's3://octa-glue/lakes/one/pts/lod=8/t=2025-04-13/r=0000000000000000/',
        's3://octa-glue/lakes/one/pts/lod=8/t=2025-04-14/r=0000000000000000/',
      ]);
      // The partition directories hold the lake's Parquet files in the bucket.
      const keys = s3.requests.filter((q) => q.method === 'PUT').map((q) => q.key);
      for (const location of locations) {
        const prefix = location.slice('s3://octa-glue/'.length);
        expect(keys.some((k) => k.startsWith(prefix) && k.endsWith('.parquet'))).toBe(true);
      }
    } finally {
      await s3.stop();
    }
  });

  it('fails with NOT_FOUND for an unknown table before calling Glue', async () => {
    const r = await octa([
      'catalog',
      'sync',
      '--lake',
      lake,
      '--glue-database',
      'db',
      '--table',
      'nope',
      '--glue-endpoint',
      server.endpoint,
    ]);
    expect(r.status).toBe(1);
    expect(octaErrors(r.stderr)).toEqual([
      'octa: no such table in the catalog (tables: pts) (code: NOT_FOUND, value: "nope")',
    ]);
    expect(r.stdout).toBe('');
    expect(server.requests).toEqual([]);
  });
});

describe('octa catalog ddl', () => {
  it('prints the library DDL for each engine', async () => {
    const snapshot = await (
      await EmbeddedCatalog.open({ storage: await LocalStorage.create({ root: lake }) })
    ).snapshot();
    for (const engine of ['athena', 'trino', 'spark', 'hive'] as const) {
      const r = await octaInProcess([
        'catalog',
        'ddl',
        '--lake',
        lake,
        '--table',
        'pts',
        '--engine',
        engine,
        '--location',
        's3://b/l',
      ]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${hiveDdl({ snapshot, table: 'pts', lake: 's3://b/l', engine })}\n`);
      expect(r.stdout).toContain("'s3://b/l/pts/lod=8/t=2025-04-14/r=0000000000000000/'");
    }
    const athena = await octaInProcess([
      'catalog',
      'ddl',
      '--lake',
      lake,
      '--table',
      'pts',
      '--engine',
      'athena',
      '--projection',
      '--name',
      'my"pts',
      '--database',
      'geo',
    ]);
    expect(athena.status).toBe(0);
    expect(athena.stdout.split('\n')[0]).toBe('CREATE EXTERNAL TABLE IF NOT EXISTS `geo`.`my"pts` (');
    expect(athena.stdout).toContain("'projection.t.range'='2025-04-13,NOW'");
    // Without --location the table lives at the lake's own file: URL.
    const local = await octaInProcess([
      'catalog',
      'ddl',
      '--lake',
      lake,
      '--table',
      'pts',
      '--engine',
      'hive',
    ]);
    const { url } = await LocalStorage.create({ root: lake });
    expect(url.startsWith('file:///')).toBe(true);
    expect(local.stdout).toContain(`LOCATION '${url}/pts/'`);
  });

  it('exits 2 for a bad engine or --projection outside Athena, 1 for an unknown table', async () => {
    const base = ['catalog', 'ddl', '--lake', lake, '--table', 'pts'];
    const bad = await octaInProcess([...base, '--engine', 'mysql']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('octa: --engine must be one of athena, trino, spark, hive, not "mysql"\n');
    const projection = await octaInProcess([...base, '--engine', 'trino', '--projection']);
    expect(projection.status).toBe(2);
    const missing = await octaInProcess([
      'catalog',
      'ddl',
      '--lake',
      lake,
      '--table',
      'nope',
      '--engine',
      'hive',
    ]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('code: NOT_FOUND');
    const noLake = await octaInProcess([
      'catalog',
      'ddl',
      '--lake',
      join(dir, 'absent'),
      '--table',
      'pts',
      '--engine',
      'hive',
    ]);
    expect(noLake.status).toBe(2);
  });
});
