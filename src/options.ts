/**
 * The options entry (`octa-lake/options`): what a front end checks its arguments against before it
 * loads the library, so that a command line, a form or a help text costs no Arrow, DuckDB or
 * Parquet: where a lake can be (`resolveLake`, `isS3Lake`), whether an output file may be written
 * (`checkOutputFile`), the demo scene's bounds and the DDL engines. Importing it loads only Node's
 * own modules and a few of ours; the root entry exports the same names.
 */

/** The bounds `runDemo` accepts for its scene (points, days, seed). */
export { SCENE_LIMITS } from './demo/demo-scene.js';
/** The engines `hiveDdl` and `formatDdl` write for, and the formats Glue sync registers tables as. */
export { DDL_ENGINES, FORMAT_DDL_ENGINES, GLUE_FORMATS } from './lake/catalog/publish/ddl-engines.js';
/** The open table formats every table is published as (`octa catalog publish --format`). */
export { TABLE_FORMATS } from './lake/catalog/publish/table-view.js';
export type { InputRef, OutputFileCheck } from './lake/ingest/outputs.js';
/** Refuses an output file that would overwrite an input or the lake (what `--out` options check). */
export { checkOutputFile } from './lake/ingest/outputs.js';
/** A lake location as typed, checked and resolved, and whether it names an S3 lake. */
export { isS3Lake, LAKE_LOCATIONS, resolveLake } from './lake/storage/location.js';
/** The one error type: what `resolveLake` and the library throw. */
export { OctaError } from './lattice/errors.js';
