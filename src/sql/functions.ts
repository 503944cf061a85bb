/**
 * The `bcc_*` SQL functions: one grammar, `bcc_<noun>` and `bcc_<from>_to_<to>` like h3-duckdb's
 * `h3_*`, over Index64 ids stored as BIGINT (the raw 64 bits, so negative). Every function is a
 * DuckDB SQL macro, vectorised by DuckDB itself, and the same text loads in the DuckDB CLI or Python
 * ({@link emitMacros}); {@link registerBccFunctions} installs it on a connection. No function calls
 * back into JS per row. docs/SQL.md lists the functions with examples.
 *
 * Internal helpers are macros named `bcc__*` (two underscores); they check nothing and may change.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { GEOMETRY_MACROS } from './functions-geometry.js';
import { ID_MACROS } from './functions-ids.js';
import { RANGE_MACROS } from './functions-ranges.js';
import { HELPERS, type MacroDef } from './functions-sql.js';
import { TEXT_MACROS } from './functions-text.js';

export type { MacroDef } from './functions-sql.js';

/** Every macro in dependency order (helpers first; DuckDB binds a macro's body when it is called). */
export const BCC_MACROS: readonly MacroDef[] = [
  ...HELPERS,
  ...TEXT_MACROS,
  ...ID_MACROS,
  ...GEOMETRY_MACROS,
  ...RANGE_MACROS,
];

/** The public functions: name, call forms and whether scalar or table macro. */
export const BCC_FUNCTIONS: readonly Pick<MacroDef, 'name' | 'kind' | 'signature'>[] = BCC_MACROS.filter(
  (m) => m.kind !== 'helper',
).map(({ name, kind, signature }) => ({ name, kind, signature }));

/**
 * The `.sql` text of the whole function set: `CREATE OR REPLACE MACRO …;` statements that load in
 * DuckDB 1.5 (typed macro overloads, Python-style lambdas) with `.read bcc.sql` or by running the text.
 * @returns the SQL script, one statement per macro, with a header comment
 */
export function emitMacros(): string {
  const header = [
    '-- octa-lake bcc_* SQL functions for DuckDB (pure SQL macros).',
    "-- Index64 ids are BIGINT (the raw 64 bits, two's complement, so negative) or VARCHAR (Bech32m).",
    '-- Needs DuckDB 1.5 (typed macro overloads); tested with 1.5.6.',
    '-- Load in the DuckDB CLI with  .read bcc.sql  or in Python with  con.execute(open("bcc.sql").read())',
    `-- Public: ${BCC_FUNCTIONS.map((f) => f.name).join(', ')}.`,
    '-- Macros named bcc__* are internal helpers.',
  ];
  return `${header.join('\n')}\n\n${BCC_MACROS.map((m) => `-- ${m.signature}\n${m.sql}`).join('\n\n')}\n`;
}

/**
 * Installs every `bcc_*` macro on a DuckDB connection, in its current catalog (so they persist when
 * that is a database file); re-running replaces them.
 * @param connection - an open connection
 * @returns the connection, for chaining
 * @throws whatever DuckDB raises if a statement fails (never for the built-in text)
 */
export async function registerBccFunctions(connection: DuckDBConnection): Promise<DuckDBConnection> {
  for (const m of BCC_MACROS) await connection.run(m.sql);
  return connection;
}
