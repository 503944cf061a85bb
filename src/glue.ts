/**
 * The AWS Glue entry (`octa-lake/glue`): make a Glue database match a lake's catalog (tables,
 * partitions, optional Athena partition projection), or register each table's Iceberg or Delta Lake
 * view (`format`). Importing it loads `@aws-sdk/client-glue`;
 * the root entry does not. Hive/Athena/Trino/Spark DDL without Glue is `hiveDdl` in the root entry.
 */

export type { GlueFormat } from './lake/catalog/publish/ddl-engines.js';
export type { GlueSyncSummary, GlueTableSummary, SyncGlueOptions } from './lake/catalog/publish/glue.js';
export {
  GLUE_CREATE_BATCH,
  GLUE_DELETE_BATCH,
  GLUE_UPDATE_BATCH,
  syncGlue,
} from './lake/catalog/publish/glue.js';
