/**
 * `formatDdl`: the statements each engine runs to read a table's Iceberg or Delta Lake view, with
 * the view's real location. The views are minimal fixtures (only their location is read). Exact
 * text for each engine, quoting of names and strings, and the refusals.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CatalogSnapshot } from '../../src/lake/catalog/catalog.js';
import { type FormatDdlOptions, formatDdl } from '../../src/lake/catalog/publish/format-ddl.js';
import type { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { OctaError } from '../../src/lattice/errors.js';
import { committedLake } from './fixtures/hive-lake.js';
import { removeDir, tempDir } from './fixtures/ingest/lake.js';

let dir: string;
let lake: string;
let storage: LocalStorage;
let snapshot: CatalogSnapshot;

beforeEach(async () => {
  dir = tempDir('format-ddl');
  lake = join(dir, 'lake');
  ({ storage, snapshot } = await committedLake({
    lake,
    table: 'Pts',
    partitions: [['2024-05-01T00', '0000000000000000']],
  }));
  const metadata = join(lake, 'Pts', 'metadata');
  mkdirSync(metadata, { recursive: true });
  writeFileSync(join(metadata, 'v3.metadata.json'), '{}');
  writeFileSync(join(metadata, 'version-hint.text'), '3');
  mkdirSync(join(lake, 'Pts', '_delta_log'), { recursive: true });
  writeFileSync(join(lake, 'Pts', '_delta_log', '00000000000000000000.json'), '{}');
});

afterEach(() => removeDir(dir));

const S3 = 's3://bucket/lake';
const ddl = (options: Partial<FormatDdlOptions> & Pick<FormatDdlOptions, 'format' | 'engine'>) =>
  formatDdl({ storage, snapshot, table: 'Pts', lake: S3, ...options });

describe('formatDdl, Iceberg', () => {
  it('Trino registers the current metadata file by its name', async () => {
    expect(await ddl({ format: 'iceberg', engine: 'trino', database: 'geo' })).toBe(
      [
        '-- Trino Iceberg connector, catalog `iceberg` with iceberg.register-table-procedure.enabled=true.',
        '-- This pins metadata v3: after a publish, unregister_table and register again, or',
        '-- use a catalog of type glue kept current by `octa catalog sync --format iceberg`.',
        "CALL iceberg.system.register_table(schema_name => 'geo', table_name => 'pts', table_location => 's3://bucket/lake/Pts', metadata_file_name => 'v3.metadata.json');",
      ].join('\n'),
    );
  });

  it('Spark calls register_table with the full metadata location', async () => {
    const text = await ddl({ format: 'iceberg', engine: 'spark' });
    expect(text.split('\n').at(-1)).toBe(
      "CALL spark_catalog.system.register_table(table => 'default.pts', metadata_file => 's3://bucket/lake/Pts/metadata/v3.metadata.json');",
    );
  });

  it('Snowflake: external volume on the lake root, an object-store catalog integration, the metadata path below it', async () => {
    const text = await ddl({ format: 'iceberg', engine: 'snowflake', name: 'my"pts' });
    const statements = text.split('\n\n');
    expect(statements[0]).toContain("STORAGE_BASE_URL = 's3://bucket/lake/'");
    expect(statements[0]).toContain('ALLOW_WRITES = FALSE;');
    expect(statements[1]).toBe(
      [
        'CREATE CATALOG INTEGRATION IF NOT EXISTS octa_iceberg_files',
        '  CATALOG_SOURCE = OBJECT_STORE',
        '  TABLE_FORMAT = ICEBERG',
        '  ENABLED = TRUE;',
      ].join('\n'),
    );
    expect(statements[2]).toBe(
      [
        'CREATE ICEBERG TABLE IF NOT EXISTS "my""pts"',
        "  EXTERNAL_VOLUME = 'octa_lake'",
        "  CATALOG = 'octa_iceberg_files'",
        "  METADATA_FILE_PATH = 'Pts/metadata/v3.metadata.json';",
      ].join('\n'),
    );
    expect(statements[3]).toBe(
      `-- after a publish: ALTER ICEBERG TABLE "my""pts" REFRESH 'Pts/metadata/v<N>.metadata.json';`,
    );
  });

  it('DuckDB scans the metadata file; a local lake by its path', async () => {
    expect(await ddl({ format: 'iceberg', engine: 'duckdb', lake: storage.url })).toBe(
      [
        'INSTALL iceberg;\nLOAD iceberg;',
        `CREATE OR REPLACE VIEW "pts" AS SELECT * FROM iceberg_scan('${join(lake, 'Pts', 'metadata', 'v3.metadata.json')}');`,
      ].join('\n\n'),
    );
    const s3 = await ddl({ format: 'iceberg', engine: 'duckdb' });
    expect(s3).toContain('CREATE SECRET (TYPE s3, PROVIDER credential_chain)');
    expect(s3).toContain("iceberg_scan('s3://bucket/lake/Pts/metadata/v3.metadata.json')");
  });

  it('Athena: no registering statement; says to sync Glue and names the metadata location', async () => {
    const text = await ddl({ format: 'iceberg', engine: 'athena', database: 'geo' });
    expect(text).toContain('--   octa catalog sync --format iceberg --glue-database geo --table Pts');
    expect(text).toContain(
      '-- which points metadata_location at s3://bucket/lake/Pts/metadata/v3.metadata.json',
    );
    expect(text.split('\n').at(-1)).toBe('SELECT count(*) FROM "geo"."pts";');
  });

  it('follows version-hint.text to the newest metadata file', async () => {
    writeFileSync(join(lake, 'Pts', 'metadata', 'v4.metadata.json'), '{}');
    writeFileSync(join(lake, 'Pts', 'metadata', 'version-hint.text'), '4\n');
    expect(await ddl({ format: 'iceberg', engine: 'trino' })).toContain(
      "metadata_file_name => 'v4.metadata.json'",
    );
  });
});

describe('formatDdl, Delta Lake', () => {
  it('Athena creates the native Delta table with only LOCATION and table_type', async () => {
    expect(await ddl({ format: 'delta', engine: 'athena', database: 'geo' })).toBe(
      [
        'CREATE EXTERNAL TABLE `geo`.`pts`',
        "LOCATION 's3://bucket/lake/Pts/'",
        "TBLPROPERTIES ('table_type' = 'DELTA');",
      ].join('\n'),
    );
  });

  it('Trino register_table, Spark USING DELTA LOCATION, DuckDB delta_scan, Snowflake from Delta files', async () => {
    expect((await ddl({ format: 'delta', engine: 'trino' })).split('\n').at(-1)).toBe(
      "CALL delta.system.register_table(schema_name => 'default', table_name => 'pts', table_location => 's3://bucket/lake/Pts');",
    );
    expect((await ddl({ format: 'delta', engine: 'spark', name: "o'pts" })).split('\n').at(-1)).toBe(
      "CREATE TABLE IF NOT EXISTS `o'pts` USING DELTA LOCATION 's3://bucket/lake/Pts';",
    );
    expect((await ddl({ format: 'delta', engine: 'duckdb' })).split('\n').at(-1)).toBe(
      `CREATE OR REPLACE VIEW "pts" AS SELECT * FROM delta_scan('s3://bucket/lake/Pts');`,
    );
    const snowflake = (await ddl({ format: 'delta', engine: 'snowflake' })).split('\n\n');
    expect(snowflake[1]).toContain('TABLE_FORMAT = DELTA');
    expect(snowflake[2]).toBe(
      [
        'CREATE ICEBERG TABLE IF NOT EXISTS "pts"',
        "  EXTERNAL_VOLUME = 'octa_lake'",
        "  CATALOG = 'octa_delta_files'",
        "  BASE_LOCATION = 'Pts/';",
      ].join('\n'),
    );
  });

  it('quotes a lake location with a quote or a backslash for each dialect', async () => {
    const odd = "s3://bucket/it's\\here";
    expect(await ddl({ format: 'delta', engine: 'athena', lake: odd })).toContain(
      "LOCATION 's3://bucket/it\\'s\\\\here/Pts/'",
    );
    expect(await ddl({ format: 'delta', engine: 'trino', lake: odd })).toContain(
      "table_location => 's3://bucket/it''s\\here/Pts'",
    );
  });
});

describe('formatDdl refusals', () => {
  /** The OctaError a call fails with. */
  const refused = async (
    options: Partial<FormatDdlOptions> & Pick<FormatDdlOptions, 'format' | 'engine'>,
  ) => {
    const error = await ddl(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OctaError);
    return error as OctaError;
  };

  it('a table without a view is NOT_FOUND naming publishTables(); an unknown table is NOT_FOUND', async () => {
    removeDir(join(lake, 'Pts', 'metadata'));
    const iceberg = await refused({ format: 'iceberg', engine: 'duckdb' });
    expect([iceberg.code, iceberg.value]).toEqual(['NOT_FOUND', 'Pts/metadata/version-hint.text']);
    expect(iceberg.message).toContain('`publishTables()`');
    removeDir(join(lake, 'Pts', '_delta_log'));
    expect((await refused({ format: 'delta', engine: 'spark' })).value).toBe('Pts/_delta_log/');
    const unknown = await refused({ format: 'delta', engine: 'spark', table: 'nope' });
    expect([unknown.code, unknown.value]).toEqual(['NOT_FOUND', 'nope']);
  });

  it('Athena and Snowflake refuse a lake that is not on S3; unknown engines and formats are INVALID_ARGUMENT', async () => {
    for (const engine of ['athena', 'snowflake'] as const) {
      const local = await refused({ format: 'delta', engine, lake: storage.url });
      expect([local.code, local.value]).toEqual(['INVALID_ARGUMENT', storage.url]);
    }
    expect((await refused({ format: 'delta', engine: 'hive' as 'spark' })).code).toBe('INVALID_ARGUMENT');
    expect((await refused({ format: 'hudi' as 'delta', engine: 'spark' })).code).toBe('INVALID_ARGUMENT');
    expect((await refused({ format: 'delta', engine: 'spark', name: 'a\nb' })).code).toBe('INVALID_ARGUMENT');
  });
});
