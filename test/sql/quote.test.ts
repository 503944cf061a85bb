/**
 * The one SQL quoting module (src/sql/quote.ts) stays free of DuckDB so that importing octa-lake
 * does not load it; here it is held equal to DuckDB's own quoting and checked through a real DuckDB.
 */
import { DuckDBInstance, quotedIdentifier, quotedString } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { quoteIdent, quoteLiteral } from '../../src/sql/quote.js';

const TRICKY = [
  '',
  'select',
  'from',
  'a"b',
  '""',
  "it's",
  "''",
  'back\\slash\\',
  "\\'",
  'ünï €😀 中文',
  'new\nline\ttab',
  ' spaced ',
  'semi;colon -- comment',
  'nul\0byte',
];

describe('quoteIdent and quoteLiteral', () => {
  it("match @duckdb/node-api's quotedIdentifier and quotedString on tricky names", () => {
    for (const text of TRICKY) {
      expect(quoteIdent(text), JSON.stringify(text)).toBe(quotedIdentifier(text));
      expect(quoteLiteral(text), JSON.stringify(text)).toBe(quotedString(text));
    }
  });

  it('round-trip through DuckDB: the column is named exactly the identifier and holds exactly the text', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      // DuckDB refuses an empty quoted identifier and stops a statement at a NUL, whoever quotes it.
      for (const text of TRICKY.filter((t) => t !== '' && !t.includes('\0'))) {
        const reader = await connection.runAndReadAll(`SELECT ${quoteLiteral(text)} AS ${quoteIdent(text)}`);
        expect(reader.columnNames(), JSON.stringify(text)).toEqual([text]);
        expect(reader.getRows(), JSON.stringify(text)).toEqual([[text]]);
      }
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  });
});
