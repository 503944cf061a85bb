export * from './open.js';
export * from './functions.js';
