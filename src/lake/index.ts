export * from './catalog.js';
export * from './demo.js';
export * from './ingest.js';
export * from './layout.js';
export * from './local-storage.js';
export * from './open.js';
export * from './sources/index.js';
export * from './storage.js';
