/**
 * Streaming input sources: CSV, NDJSON, Parquet, Arrow IPC, LAS and LAZ behind one `Source`
 * interface that yields bounded chunks of typed columns plus per-row rejects.
 */
export { inferFormat, sniffFormat } from './format.js';
export { type OpenSourceOptions, openSource } from './open.js';
export * from './types.js';
