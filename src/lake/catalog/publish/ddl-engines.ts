/**
 * The engines and formats the catalog's publishers write for, apart from them so that a front end
 * lists and checks them without loading the catalog or the AWS SDK: `hiveDdl` (./hive-ddl.ts)
 * writes for {@link DDL_ENGINES}, `formatDdl` (./format-ddl.ts) for {@link FORMAT_DDL_ENGINES}, and
 * Glue sync (./glue.ts) registers tables as one of {@link GLUE_FORMATS}.
 */
export type DdlEngine = 'athena' | 'trino' | 'spark' | 'hive';
export const DDL_ENGINES: readonly DdlEngine[] = ['athena', 'trino', 'spark', 'hive'];

/** The engines that `formatDdl` writes Iceberg and Delta Lake statements for. */
export type FormatDdlEngine = 'athena' | 'trino' | 'spark' | 'snowflake' | 'duckdb';
export const FORMAT_DDL_ENGINES: readonly FormatDdlEngine[] = [
  'athena',
  'trino',
  'spark',
  'snowflake',
  'duckdb',
];

/** How Glue sync registers a table: Hive partitions (the default), or its Iceberg or Delta Lake view. */
export type GlueFormat = 'hive' | 'iceberg' | 'delta';
export const GLUE_FORMATS: readonly GlueFormat[] = ['hive', 'iceberg', 'delta'];
