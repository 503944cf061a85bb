export * from './compact.js';
export * from './files.js';
export * from './rebalance.js';
export * from './vacuum.js';
export * from './verify.js';
