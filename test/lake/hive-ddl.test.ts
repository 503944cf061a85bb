/**
 * DDL text per engine, checked against the full expected text: a table whose engine name and
 * payload column names hold quotes and a backtick, a location with a quote and a backslash, and
 * two partitions. Trino's quoting (standard SQL) is also held against DuckDB's parser, which reads
 * the same literal and identifier syntax.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CatalogSnapshot } from '../../src/lake/catalog/catalog.js';
import {
  hiveDdl,
  hiveIdent,
  hiveString,
  trinoIdent,
  trinoString,
} from '../../src/lake/catalog/publish/hive-ddl.js';
import type { OctaError } from '../../src/lattice/errors.js';
import { committedLake, hourLabels } from './fixtures/hive-lake.js';
import { duck, removeDir, tempDir } from './fixtures/ingest/lake.js';

let dir: string;
let snapshot: CatalogSnapshot;

const LAKE = "s3://bucket/o'neil\\lake/";
const NAME = `we"ird'name`;

beforeEach(async () => {
  dir = tempDir('ddl');
  ({ snapshot } = await committedLake({
    lake: join(dir, 'lake'),
    table: 'pts',
    lod: 9,
    timeBucket: 'day',
    splits: ['-4611686018427387904'],
    payload: [
      { name: `it's "q"`, type: 'int32' },
      { name: 'back`tick', type: 'utf8' },
      { name: 'Flag', type: 'bool' },
      { name: 'n', type: 'int64' },
      { name: 'w', type: 'float64' },
    ],
    partitions: [
      ['2024-05-02', 'c000000000000000'],
      ['2024-05-01', '0000000000000000'],
      ['2024-05-01', '0000000000000000'],
    ],
  }));
});

afterEach(() => {
  removeDir(dir);
});

const HIVE_COLUMNS = `  \`cell\` BIGINT COMMENT 'Index64 cell id: the raw 64 bits as a signed integer',
  \`x\` DOUBLE COMMENT 'x in frame metres',
  \`y\` DOUBLE COMMENT 'y in frame metres',
  \`z\` DOUBLE COMMENT 'z in frame metres',
  \`time\` TIMESTAMP COMMENT 'event time (UTC)',
  \`it's "q"\` INT,
  \`back\`\`tick\` STRING,
  \`flag\` BOOLEAN,
  \`n\` BIGINT,
  \`w\` DOUBLE`;

const HIVE_PROPERTIES = `TBLPROPERTIES (
  'classification'='parquet',
  'parquet.compression'='ZSTD',
  'octa.table'='pts',
  'octa.frame'='{"id":3,"kind":"cartesian","origin":[0,0,0],"edge":1024}',
  'octa.lod'='9',
  'octa.id_kind'='index64',
  'octa.time_bucket'='day',
  'octa.schema_version'='1'`;

const HIVE_PARTITIONS = `ALTER TABLE \`db\`.\`we"ird'name\` ADD IF NOT EXISTS
  PARTITION (\`lod\`=9, \`t\`='2024-05-01', \`r\`='0000000000000000') LOCATION 's3://bucket/o\\'neil\\\\lake/pts/lod=9/t=2024-05-01/r=0000000000000000/'
  PARTITION (\`lod\`=9, \`t\`='2024-05-02', \`r\`='c000000000000000') LOCATION 's3://bucket/o\\'neil\\\\lake/pts/lod=9/t=2024-05-02/r=c000000000000000/';`;

const HIVE = `CREATE EXTERNAL TABLE IF NOT EXISTS \`db\`.\`we"ird'name\` (
${HIVE_COLUMNS}
)
COMMENT 'octa-lake table pts: BCC lattice points, partitioned by lod, t, r'
PARTITIONED BY (
  \`lod\` INT COMMENT 'level of detail of every cell id',
  \`t\` STRING COMMENT 'UTC time bucket of the event time',
  \`r\` STRING COMMENT 'id range: its lower bound, 16 hex digits of the unsigned id'
)
STORED AS PARQUET
LOCATION 's3://bucket/o\\'neil\\\\lake/pts/'
${HIVE_PROPERTIES}
);

${HIVE_PARTITIONS}`;

const SPARK = `CREATE TABLE IF NOT EXISTS \`db\`.\`we"ird'name\` (
${HIVE_COLUMNS},
  \`lod\` INT COMMENT 'level of detail of every cell id',
  \`t\` STRING COMMENT 'UTC time bucket of the event time',
  \`r\` STRING COMMENT 'id range: its lower bound, 16 hex digits of the unsigned id'
)
USING PARQUET
PARTITIONED BY (\`lod\`, \`t\`, \`r\`)
LOCATION 's3://bucket/o\\'neil\\\\lake/pts/'
COMMENT 'octa-lake table pts: BCC lattice points, partitioned by lod, t, r'
${HIVE_PROPERTIES}
);

${HIVE_PARTITIONS}`;

const TRINO = `CREATE TABLE IF NOT EXISTS "db"."we""ird'name" (
  "cell" BIGINT COMMENT 'Index64 cell id: the raw 64 bits as a signed integer',
  "x" DOUBLE COMMENT 'x in frame metres',
  "y" DOUBLE COMMENT 'y in frame metres',
  "z" DOUBLE COMMENT 'z in frame metres',
  "time" TIMESTAMP COMMENT 'event time (UTC)',
  "it's ""q""" INTEGER,
  "back\`tick" VARCHAR,
  "flag" BOOLEAN,
  "n" BIGINT,
  "w" DOUBLE,
  "lod" INTEGER COMMENT 'level of detail of every cell id',
  "t" VARCHAR COMMENT 'UTC time bucket of the event time',
  "r" VARCHAR COMMENT 'id range: its lower bound, 16 hex digits of the unsigned id'
)
COMMENT 'octa-lake table pts: BCC lattice points, partitioned by lod, t, r'
WITH (
  external_location = 's3://bucket/o''neil\\lake/pts/',
  format = 'PARQUET',
  partitioned_by = ARRAY['lod', 't', 'r']
);

-- register_partition needs hive.allow-register-partition-procedure=true in the Hive catalog
CALL system.register_partition(schema_name => 'db', table_name => 'we"ird''name', partition_columns => ARRAY['lod', 't', 'r'], partition_values => ARRAY['9', '2024-05-01', '0000000000000000'], location => 's3://bucket/o''neil\\lake/pts/lod=9/t=2024-05-01/r=0000000000000000/');
CALL system.register_partition(schema_name => 'db', table_name => 'we"ird''name', partition_columns => ARRAY['lod', 't', 'r'], partition_values => ARRAY['9', '2024-05-02', 'c000000000000000'], location => 's3://bucket/o''neil\\lake/pts/lod=9/t=2024-05-02/r=c000000000000000/');`;

describe('hiveDdl', () => {
  const ddl = (engine: 'athena' | 'trino' | 'spark' | 'hive', extra = {}) =>
    hiveDdl({ snapshot, table: 'pts', lake: LAKE, engine, name: NAME, database: 'db', ...extra });

  it('writes Hive DDL: backticked names, backslash-escaped strings, one ADD PARTITION statement', () => {
    expect(ddl('hive')).toBe(HIVE);
  });

  it('writes Athena DDL as Hive DDL, and with --projection adds the projection properties', () => {
    expect(ddl('athena')).toBe(HIVE);
    const projected = ddl('athena', { projection: true, now: new Date('2024-06-01T00:00:00Z') });
    const properties = `${HIVE_PROPERTIES},
  'projection.enabled'='true',
  'projection.lod.type'='integer',
  'projection.lod.range'='9,9',
  'projection.t.type'='date',
  'projection.t.format'='yyyy-MM-dd',
  'projection.t.range'='2024-05-01,NOW',
  'projection.t.interval'='1',
  'projection.t.interval.unit'='DAYS',
  'projection.r.type'='enum',
  'projection.r.values'='0000000000000000,c000000000000000',
  'storage.location.template'='s3://bucket/o\\'neil\\\\lake/pts/lod=\${lod}/t=\${t}/r=\${r}/'`;
    expect(projected).toBe(HIVE.replace(HIVE_PROPERTIES, properties));
  });

  it('writes a Spark data source table with the partition columns last', () => {
    expect(ddl('spark')).toBe(SPARK);
  });

  it('writes Trino DDL: WITH (external_location, partitioned_by) and one register_partition per partition', () => {
    expect(ddl('trino')).toBe(TRINO);
  });

  it('defaults to the lower-case table name, unqualified (Trino: schema default), and no partition statements for an empty table', async () => {
    const empty = await committedLake({
      lake: join(dir, 'empty'),
      table: 'Empty',
      partitions: [],
      payload: [],
    });
    const hive = hiveDdl({
      snapshot: empty.snapshot,
      table: 'Empty',
      lake: 'file:///data/lake',
      engine: 'hive',
    });
    expect(hive.split('\n')[0]).toBe('CREATE EXTERNAL TABLE IF NOT EXISTS `empty` (');
    expect(hive).toContain("LOCATION 'file:///data/lake/Empty/'");
    expect(hive).not.toContain('ALTER TABLE');
    expect(hive.endsWith(');')).toBe(true);
    const trino = hiveDdl({
      snapshot: empty.snapshot,
      table: 'Empty',
      lake: 'file:///data/lake',
      engine: 'trino',
    });
    expect(trino.split('\n')[0]).toBe('CREATE TABLE IF NOT EXISTS "default"."empty" (');
    expect(trino).not.toContain('CALL');
  });

  it('splits ADD PARTITION into statements of 100 partitions', async () => {
    const hours = hourLabels(250);
    const many = await committedLake({
      lake: join(dir, 'many'),
      partitions: hours.map((t) => [t, '0000000000000000']),
    });
    const text = hiveDdl({ snapshot: many.snapshot, table: 'hours', lake: 's3://b/l', engine: 'athena' });
    const statements = text.split('\n\n').slice(1);
    expect(statements.map((s) => s.split('\n').length - 1)).toEqual([100, 100, 50]);
    const specs = statements.flatMap((s) => s.split('\n').slice(1));
    expect(specs.map((line) => /`t`='([^']+)'/.exec(line)?.[1])).toEqual(hours);
    expect(specs.every((line, i) => line.endsWith(i % 100 === 99 || i === 249 ? "/';" : "/'"))).toBe(true);
  });

  it('refuses an unknown engine, projection outside Athena, an unknown table and control characters', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return (error as OctaError).code;
      }
      return 'no error';
    };
    expect(code(() => ddl('mysql' as 'hive'))).toBe('INVALID_ARGUMENT');
    expect(code(() => ddl('trino', { projection: true }))).toBe('INVALID_ARGUMENT');
    expect(code(() => hiveDdl({ snapshot, table: 'nope', lake: LAKE, engine: 'hive' }))).toBe('NOT_FOUND');
    expect(code(() => ddl('hive', { name: 'a\nb' }))).toBe('INVALID_ARGUMENT');
    expect(code(() => hiveString('tab\there'))).toBe('INVALID_ARGUMENT');
    expect(code(() => hiveDdl({ snapshot, table: 'pts', lake: 'relative/path', engine: 'hive' }))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('quotes as the engines read it: Trino (standard SQL) checked by DuckDB, Hive escapes by their rule', async () => {
    const samples = [`it's "q"`, 'back`tick', "o'neil\\lake", "''", '"', 'größe ✓'];
    for (const text of samples) {
      const [row] = await duck(`SELECT ${trinoString(text)} AS ${trinoIdent(text)}`);
      expect(Object.keys(row!)).toEqual([text]);
      expect(row![text]).toBe(text);
    }
    // Hive string literals take backslash escapes (\' and \\), identifiers a doubled backtick.
    expect(hiveString("o'neil\\lake")).toBe("'o\\'neil\\\\lake'");
    expect(hiveIdent('back`tick')).toBe('`back``tick`');
  });
});
