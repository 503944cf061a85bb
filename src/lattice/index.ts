export * from './bcc.js';
export * from './bech32m.js';
export * from './errors.js';
export * from './galactic128.js';
export * from './ids.js';
export * from './index64.js';
export * from './morton.js';
export * from './route64.js';
