/**
 * `octa catalog`: publish a lake's tables to other catalogs. `sync` makes an AWS Glue database
 * match the embedded catalog (Hive tables and partitions, or each table's Iceberg or Delta Lake
 * view); `ddl` prints the statements that make Athena, Trino, Spark, Hive, Snowflake or DuckDB read
 * a table; `publish` brings the Delta Lake and Iceberg views up to the catalog.
 */
import type { GlueClient } from '@aws-sdk/client-glue';
import type { CatalogSnapshot, DdlEngine, FormatDdlEngine, GlueFormat, Storage } from '../../src/index.js';
import { DDL_ENGINES, FORMAT_DDL_ENGINES, GLUE_FORMATS, TABLE_FORMATS } from '../../src/options.js';
import { type LakeArgs, lakeOptions, withStorage } from '../args.js';
import { commandParts } from '../command.js';
import { cliMessage, EXIT_FAILURE, println, toJson, UsageError } from '../output.js';

/**
 * Runs a task with the lake's storage, its catalog state and the location engines reach the lake at
 * (`--location`, else the lake's URL).
 */
async function withLakeCatalog<T>(
  a: LakeArgs & { location?: string | undefined },
  task: (lake: { storage: Storage; snapshot: CatalogSnapshot; location: string }) => Promise<T>,
): Promise<T> {
  const { EmbeddedCatalog } = await import('../../src/index.js');
  return withStorage(a, async (storage) => {
    const snapshot = await (await EmbeddedCatalog.open({ storage })).snapshot();
    return task({ storage, snapshot, location: a.location ?? storage.url });
  });
}

/** The `--format` a user gave, checked: hive, iceberg or delta. */
function formatArg(format: string): GlueFormat {
  const chosen = GLUE_FORMATS.find((f) => f === format);
  if (chosen === undefined) {
    throw new UsageError(`--format must be one of ${GLUE_FORMATS.join(', ')}, not ${JSON.stringify(format)}`);
  }
  return chosen;
}

const formatOption = {
  type: 'string',
  default: 'hive',
  describe: `how tables are published: ${GLUE_FORMATS.join(', ')} (iceberg and delta: the view \`octa catalog publish\` writes)`,
} as const;

/**
 * A Glue client: region and credentials from the usual AWS chain, unless given. Both are resolved
 * here, so that a missing one is a one-line argument error (exit 2) naming what to set, and only
 * Glue's own answers are failures of the service (exit 1).
 * @throws {UsageError} when no region or no credentials are configured
 */
async function glueClient(endpoint: string | undefined, region: string | undefined): Promise<GlueClient> {
  // Loaded on demand: the AWS SDK adds ~0.15 s to every process that imports it.
  const { GlueClient } = await import('@aws-sdk/client-glue');
  // AWS_DEFAULT_REGION is the CLI's name, which the JS SDK does not read; a custom endpoint (a test
  // server, a Glue-compatible service) still needs some region to sign with.
  const chosen =
    region ??
    process.env.AWS_REGION ??
    process.env.AWS_DEFAULT_REGION ??
    (endpoint === undefined ? undefined : 'us-east-1');
  const client = new GlueClient({
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(chosen === undefined ? {} : { region: chosen }),
  });
  try {
    await setting(
      client.config.region(),
      'no AWS region is configured for Glue: set AWS_REGION (or a region in the AWS profile), or give --glue-region',
    );
    await setting(
      client.config.credentials(),
      'no AWS credentials were found for Glue: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    );
  } catch (error) {
    client.destroy();
    throw error;
  }
  return client;
}

/** Awaits one setting of the AWS chain; a chain with none becomes a usage error saying what to set. */
async function setting(value: Promise<unknown>, missing: string): Promise<void> {
  let resolved: unknown;
  try {
    resolved = await value;
  } catch {
    throw new UsageError(missing);
  }
  if (resolved === undefined || resolved === '') throw new UsageError(missing);
}

const lakeText = { demandOption: true, describe: 'lake directory or s3://bucket/prefix' } as const;
const locationOption = {
  type: 'string',
  describe: "the lake's root as engines reach it (default: the lake's own URL), e.g. s3://bucket/prefix",
} as const;

/** The builder of `octa catalog` (sync and ddl; cli/main.ts lists it). */
export const catalogCommand = commandParts({
  builder: (c) =>
    c
      .command(
        'sync',
        'Create or update Glue tables and partitions from the lake catalog',
        (s) =>
          lakeOptions(s, lakeText)
            .option('glue-database', {
              type: 'string',
              demandOption: true,
              describe: 'Glue database (created when missing)',
            })
            .option('table', { type: 'string', describe: 'sync only this table (default: every table)' })
            .option('location', locationOption)
            .option('format', formatOption)
            .option('projection', {
              type: 'boolean',
              default: false,
              describe: 'also set Athena partition projection properties (hive only)',
            })
            .option('glue-endpoint', {
              type: 'string',
              describe: 'Glue endpoint URL (default: the AWS one for the region)',
            })
            .option('glue-region', { type: 'string', describe: 'AWS region (default: the AWS chain)' })
            .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' })
            .example('$0 catalog sync --lake s3://bucket/lake --glue-database points', 'publish every table')
            .example(
              '$0 catalog sync --lake ./lake --glue-database dev --glue-endpoint http://127.0.0.1:4566',
              'a local endpoint',
            ),
        async (a) => {
          const format = formatArg(a.format);
          if (a.projection && format !== 'hive') {
            throw new UsageError(
              '--projection is for --format hive (Iceberg and Delta Lake tables list their files)',
            );
          }
          const client = await glueClient(a.glueEndpoint, a.glueRegion);
          try {
            const summary = await withLakeCatalog(a, async ({ storage, snapshot, location }) => {
              const { syncGlue } = await import('../../src/glue.js');
              return syncGlue({
                client,
                snapshot,
                storage,
                format,
                lake: location,
                database: a.glueDatabase,
                projection: a.projection,
                ...(a.table === undefined ? {} : { tables: [a.table] }),
              });
            });
            if (a.json) {
              println(toJson(summary));
              return;
            }
            if (summary.databaseCreated) println(`created Glue database ${summary.database}`);
            for (const t of summary.tables) {
              const where = `${summary.database}.${t.name}`;
              println(
                t.format === undefined
                  ? `${where}: table ${t.action}; ${t.partitions} partitions (${t.created} created, ${t.updated} updated, ${t.deleted} deleted, ${t.retried} retried)`
                  : `${where}: ${t.format} table ${t.action} at ${t.metadataLocation ?? t.location} (${t.retried} retried)`,
              );
            }
          } finally {
            client.destroy();
          }
        },
      )
      .command(
        'ddl',
        'Print the statements that make Athena, Trino, Spark, Hive, Snowflake or DuckDB read a table',
        (d) =>
          lakeOptions(d, lakeText)
            .option('table', { type: 'string', demandOption: true, describe: 'the lake table' })
            .option('engine', {
              type: 'string',
              demandOption: true,
              describe: `hive format: one of ${DDL_ENGINES.join(', ')}; iceberg, delta: one of ${FORMAT_DDL_ENGINES.join(', ')}`,
            })
            .option('format', formatOption)
            .option('location', locationOption)
            .option('name', {
              type: 'string',
              describe: "the table's name in the engine (default: the lake table's, lower case)",
            })
            .option('database', {
              type: 'string',
              describe: 'database (schema) to qualify the name with (Trino default: default)',
            })
            .option('projection', {
              type: 'boolean',
              default: false,
              describe: 'Athena: add partition projection properties',
            })
            .example(
              '$0 catalog ddl --lake ./lake --table survey --engine trino --location s3://bucket/lake',
              '',
            )
            .example(
              '$0 catalog ddl --lake s3://bucket/lake --table survey --format iceberg --engine duckdb',
              '',
            ),
        async (a) => {
          const format = formatArg(a.format);
          const engines: readonly string[] = format === 'hive' ? DDL_ENGINES : FORMAT_DDL_ENGINES;
          const engine = engines.find((e) => e === a.engine);
          if (engine === undefined) {
            throw new UsageError(
              `--engine must be one of ${engines.join(', ')}${format === 'hive' ? '' : ` for --format ${format}`}, not ${JSON.stringify(a.engine)}`,
            );
          }
          if (a.projection && (engine !== 'athena' || format !== 'hive')) {
            throw new UsageError(
              '--projection is for --engine athena with --format hive (partition projection is an Athena feature of Hive tables)',
            );
          }
          const names = {
            ...(a.name === undefined ? {} : { name: a.name }),
            ...(a.database === undefined ? {} : { database: a.database }),
          };
          const text = await withLakeCatalog(a, async ({ storage, snapshot, location }) => {
            const { formatDdl, hiveDdl } = await import('../../src/index.js');
            if (format !== 'hive') {
              const options = { storage, snapshot, table: a.table, lake: location, format, ...names };
              return formatDdl({ ...options, engine: engine as FormatDdlEngine });
            }
            const options = { snapshot, table: a.table, lake: location, projection: a.projection, ...names };
            return hiveDdl({ ...options, engine: engine as DdlEngine });
          });
          println(text);
        },
      )
      .command(
        'publish',
        'Bring the Delta Lake and Iceberg views of the tables up to the catalog (after a crash or a failed publication)',
        (p) =>
          lakeOptions(p, lakeText)
            .option('table', { type: 'string', describe: 'publish only this table (default: every table)' })
            .option('format', {
              type: 'string',
              describe: `publish only this format: ${TABLE_FORMATS.join(' or ')} (default: both)`,
            })
            .option('json', { type: 'boolean', default: false, describe: 'print the outcomes as JSON' })
            .example('$0 catalog publish --lake ./lake', 'catch every view up'),
        async (a) => {
          const format = a.format === undefined ? undefined : TABLE_FORMATS.find((f) => f === a.format);
          if (a.format !== undefined && format === undefined) {
            throw new UsageError(
              `--format must be one of ${TABLE_FORMATS.join(', ')}, not ${JSON.stringify(a.format)}`,
            );
          }
          const { EmbeddedCatalog, publishTables, tableViews, OctaError } = await import(
            '../../src/index.js'
          );
          const outcomes = await withStorage(a, async (storage) => {
            const catalog = await EmbeddedCatalog.open({ storage });
            const snapshot = await catalog.snapshot();
            if (a.table !== undefined && !snapshot.tables.has(a.table)) {
              const known = [...snapshot.tables.keys()].sort().join(', ') || 'none';
              throw new OctaError('NOT_FOUND', `no such table in the catalog (tables: ${known})`, a.table);
            }
            const views = await tableViews(format === undefined ? undefined : [format]);
            return publishTables(catalog, views, a.table === undefined ? undefined : [a.table]);
          });
          const failed = outcomes.filter((o) => o.error !== undefined);
          if (a.json) {
            println(
              toJson(
                outcomes.map(({ error, ...o }) => ({
                  ...o,
                  error: error === undefined ? null : { code: error.code, message: cliMessage(error) },
                })),
              ),
            );
          } else {
            for (const o of outcomes) {
              const what = o.error
                ? `FAILED at version ${o.from ?? 'none'}: ${cliMessage(o.error)}`
                : o.steps === 0
                  ? `up to date (catalog version ${o.to})`
                  : `catalog version ${o.from ?? 'none'} -> ${o.to} (${o.steps} version(s) written)`;
              println(`${o.table} ${o.format}: ${what}`);
            }
          }
          if (failed.length > 0) process.exitCode = EXIT_FAILURE;
        },
      )
      .demandCommand(1, 'name a catalog command: sync, ddl or publish'),
});
