/**
 * The SQL entry (`octa-lake/sql`): DuckDB SQL over a lake (the session with a view per table, the
 * `bcc_*` functions, the spatial planner) without the rest of the library, so that a query loads
 * DuckDB and the catalog but no Arrow, Parquet writer or ingest. The root entry exports the same
 * names, and the training export besides.
 */

export type { AsOf } from './lake/catalog/time-travel.js';
/** The `bcc_*` functions: as DuckDB macros on a connection, or as a .sql file. */
export { BCC_FUNCTIONS, BCC_MACROS, emitMacros, registerBccFunctions } from './sql/functions.js';
export type { LakeSession, OpenLakeOptions } from './sql/open.js';
/** A DuckDB session over a lake's committed files, a view per table. */
export { CATALOG_VIEW, openLake } from './sql/open.js';
export type { QueryExplain, QueryOptions, QueryPlan, RunQueryOptions } from './sql/planner.js';
/** The points of a table in a box or sphere and a time window, read through the planner. */
export { planQuery, runQuery } from './sql/planner.js';
export { quoteIdent, quoteLiteral } from './sql/quote.js';
export type { ReadMode, RemoteRead } from './sql/remote-read.js';
