/**
 * SQL quoting for DuckDB, in one place. It stays free of `@duckdb/node-api` so that importing
 * `octa-lake` does not load DuckDB; test/sql/quote.test.ts holds it equal to DuckDB's own
 * `quotedIdentifier` and `quotedString`, and checks both round trips through a real DuckDB.
 */

/** Quotes an SQL identifier: in double quotes, a double quote doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes an SQL string literal: in single quotes, a single quote doubled. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
