/**
 * The engines `hiveDdl` (./hive-ddl.ts) writes for, apart from it so that a front end lists them
 * without loading the catalog.
 */
export type DdlEngine = 'athena' | 'trino' | 'spark' | 'hive';
export const DDL_ENGINES: readonly DdlEngine[] = ['athena', 'trino', 'spark', 'hive'];
