/**
 * @duckdb/node-api, loaded at first use through `require`. The package is CommonJS (about 180
 * modules): imported from an ES module, Node first scans every one of them for its export names,
 * which costs about 0.1 s more than requiring it (bench/startup, issue 16).
 */
import { createRequire } from 'node:module';

type DuckDB = typeof import('@duckdb/node-api');

const require = createRequire(import.meta.url);

/** The @duckdb/node-api module (loaded by the first call). */
export function loadDuckDB(): DuckDB {
  return require('@duckdb/node-api') as DuckDB;
}
