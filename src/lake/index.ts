// The lake stage's barrel for the root entry: it must load no AWS SDK, so S3 storage and the Glue
// sync are reached through their own entries (src/s3.ts, src/glue.ts), never from here.
export * from './catalog/catalog.js';
export * from './catalog/layout.js';
export * from './catalog/publish/format-ddl.js';
export * from './catalog/publish/hive.js';
export * from './catalog/publish/hive-ddl.js';
export * from './catalog/publish/table-formats.js';
export * from './catalog/publish/table-view.js';
export * from './catalog/publish/views.js';
export * from './catalog/time-travel.js';
export * from './ingest/ingest.js';
export * from './maintenance/index.js';
export * from './sources/index.js';
export * from './storage/local-storage.js';
export * from './storage/open.js';
export * from './storage/storage.js';
