export * from './arrow.js';
export * from './container.js';
export { isoToMicros, microsToIso } from './event-time.js';
export * from './metadata.js';
export * from './parquet.js';
export * from './schema.js';
export { argsortInt64, int64Range, isSortedInt64 } from './sort.js';
