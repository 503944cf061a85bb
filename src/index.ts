export * from './demo/demo.js';
export * from './export/index.js';
export * from './lake/index.js';
export * from './lattice/index.js';
export * from './sql/index.js';
