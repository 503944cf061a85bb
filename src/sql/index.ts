export * from '../lake/storage/file-cache.js';
export * from './functions.js';
export * from './open.js';
export * from './planner.js';
export * from './quote.js';
export * from './remote-read.js';
export * from './training/training.js';
