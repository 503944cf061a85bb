export * from './open.js';
export * from './functions.js';
export * from './planner.js';
