// The lake stage's barrel for the root entry: it must load no AWS SDK, so S3 storage and the Glue
// sync are reached through their own entries (src/s3.ts, src/glue.ts), never from here.
export * from './catalog.js';
export * from './demo.js';
export * from './hive.js';
export * from './hive-ddl.js';
export * from './ingest.js';
export * from './layout.js';
export * from './local-storage.js';
export * from './maintenance/index.js';
export * from './open.js';
export * from './sources/index.js';
export * from './storage.js';
