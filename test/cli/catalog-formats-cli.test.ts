/**
 * `octa catalog sync --format` and `octa catalog ddl --format` as a user runs them, through the
 * CLI's `main` in this process (the Glue-protocol server answers from it): stdout, one-line errors
 * and exit codes. The Iceberg and Delta Lake views are minimal fixtures: only their location is read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedCatalog } from '../../src/lake/catalog/catalog.js';
import { formatDdl } from '../../src/lake/catalog/publish/format-ddl.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { committedLake } from '../lake/fixtures/hive-lake.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { GlueServer, TEST_AWS_ENV } from '../support/glue-server.js';
import { octaInProcess } from './run.js';

let dir: string;
let lake: string;
let server: GlueServer;

beforeEach(async () => {
  dir = tempDir('catalog-formats-cli');
  lake = join(dir, 'lake');
  await committedLake({ lake, table: 'pts', partitions: [['2024-05-01T00', '0000000000000000']] });
  server = await GlueServer.start();
});

afterEach(async () => {
  await server.close();
  removeDir(dir);
});

const octa = (args: string[]) => octaInProcess(args, { env: TEST_AWS_ENV });

describe('octa catalog sync --format, ddl --format', () => {
  it('registers the Iceberg view, prints the engines’ statements, and refuses bad formats, engines and missing views', async () => {
    const sync = [
      'catalog',
      'sync',
      '--lake',
      lake,
      '--glue-database',
      'geo',
      '--glue-endpoint',
      server.endpoint,
    ];
    const missing = await octa([...sync, '--format', 'iceberg']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('run octa catalog publish on the lake first (code: NOT_FOUND');
    expect(server.requests).toEqual([]);

    mkdirSync(join(lake, 'pts', 'metadata'), { recursive: true });
    writeFileSync(join(lake, 'pts', 'metadata', 'v1.metadata.json'), '{}');
    writeFileSync(join(lake, 'pts', 'metadata', 'version-hint.text'), '1');
    const created = await octa([...sync, '--format', 'iceberg', '--location', 's3://b/l']);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    expect(created.stdout).toBe(
      'created Glue database geo\ngeo.pts: iceberg table created at s3://b/l/pts/metadata/v1.metadata.json (0 retried)\n',
    );
    expect(server.tables.get('geo.pts')?.Parameters.metadata_location).toBe(
      's3://b/l/pts/metadata/v1.metadata.json',
    );

    const hiveOver = await octa([...sync, '--location', 's3://b/l']);
    expect(hiveOver.status).toBe(1);
    expect(hiveOver.stderr).toContain('is registered with table format iceberg;');
    const badFormat = await octa([...sync, '--format', 'hudi']);
    expect([badFormat.status, badFormat.stderr]).toEqual([
      2,
      'octa: --format must be one of hive, iceberg, delta, not "hudi"\n',
    ]);
    expect((await octa([...sync, '--format', 'iceberg', '--projection'])).status).toBe(2);

    const ddl = ['catalog', 'ddl', '--lake', lake, '--table', 'pts', '--location', 's3://b/l'];
    const trino = await octa([...ddl, '--format', 'iceberg', '--engine', 'trino']);
    expect(trino.status).toBe(0);
    const storage = await LocalStorage.create({ root: lake });
    const snapshot = await (await EmbeddedCatalog.open({ storage })).snapshot();
    const expected = await formatDdl({
      storage,
      snapshot,
      table: 'pts',
      lake: 's3://b/l',
      format: 'iceberg',
      engine: 'trino',
    });
    expect(trino.stdout).toBe(`${expected}\n`);
    const hiveEngine = await octa([...ddl, '--format', 'delta', '--engine', 'hive']);
    expect([hiveEngine.status, hiveEngine.stderr]).toEqual([
      2,
      'octa: --engine must be one of athena, trino, spark, snowflake, duckdb for --format delta, not "hive"\n',
    ]);
    const noDelta = await octa([...ddl, '--format', 'delta', '--engine', 'spark']);
    expect(noDelta.status).toBe(1);
    expect(noDelta.stderr).toContain('table pts has no published Delta Lake view');
    const localAthena = await octa([
      'catalog',
      'ddl',
      '--lake',
      lake,
      '--table',
      'pts',
      '--format',
      'iceberg',
      '--engine',
      'athena',
    ]);
    expect(localAthena.status).toBe(2);
  });
});
