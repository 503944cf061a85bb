/** `octa sql`: run SQL (with the bcc_* functions) over a lake, or print the functions as a .sql file. */
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { DuckDBConnection } from '@duckdb/node-api';
import { checkOutputFile, isS3Lake } from '../../src/options.js';
import { existingLake, lakeOptions, numberOption, valueOption } from '../args.js';
import { commandParts } from '../command.js';
import { formatTable, toJson, UsageError } from '../output.js';

const FORMATS = ['table', 'csv', 'json', 'parquet'] as const;
type Format = (typeof FORMATS)[number];
/** The lake `octa demo` and `octa ingest` write when not told otherwise. */
const DEFAULT_LAKE = './octa-lake';

/** One CSV field (RFC 4180): NULL is empty, nested values are JSON, quoted when needed. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const text = typeof v === 'object' ? toJson(v) : String(v);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Writes text to a stream, waiting when it is full (large results, slow pipes). */
function write(out: Writable, text: string): Promise<void> {
  return new Promise((done, failed) => {
    if (out.write(text)) done();
    else {
      out.once('drain', done);
      out.once('error', failed);
    }
  });
}

/** Streams the result as CSV (with a header) or a JSON array of objects, one object per line. */
async function streamRows(conn: DuckDBConnection, sql: string, format: 'csv' | 'json', out: Writable) {
  const result = await conn.stream(sql);
  const names = result.columnNames();
  if (format === 'csv') await write(out, `${names.map(csvField).join(',')}\n`);
  else await write(out, '[');
  let first = true;
  for await (const rows of result.yieldRowsJson()) {
    let text = '';
    for (const row of rows) {
      if (format === 'csv') text += `${row.map(csvField).join(',')}\n`;
      else {
        const obj: Record<string, unknown> = {};
        names.forEach((n, i) => {
          obj[n] = row[i];
        });
        text += `${first ? '\n' : ',\n'}${toJson(obj)}`;
        first = false;
      }
    }
    if (text !== '') await write(out, text);
  }
  if (format === 'json') await write(out, first ? ']\n' : '\n]\n');
}

/**
 * @duckdb/node-api through `require`: it is CommonJS, and an ES import scans its ~180 modules for
 * export names first (0.1 s; src/sql/duckdb.ts does the same for the library).
 */
const duckdb = () => createRequire(import.meta.url)('@duckdb/node-api') as typeof import('@duckdb/node-api');

/** Runs one query and writes it in the format asked for. */
async function runQuery(conn: DuckDBConnection, sql: string, format: Format, out?: string): Promise<void> {
  const { quoteLiteral } = await import('../../src/sql.js');
  const { StatementType } = duckdb();
  if (format === 'parquet') {
    const statements = await conn.extractStatements(sql);
    if (statements.count > 1) {
      throw new UsageError(
        `--format parquet writes one result, and the query has ${statements.count} statements: give one`,
      );
    }
    // COPY reads a query: a trailing semicolon would end it early.
    const query = sql.trim().replace(/;+\s*$/, '');
    await conn.run(`COPY (${query}) TO ${quoteLiteral(resolve(out!))} (FORMAT parquet, COMPRESSION zstd)`);
    return;
  }
  const statements = await conn.extractStatements(sql);
  if (format === 'table') {
    // Every statement runs in order and prints its result, a blank line between two results.
    const parts: string[] = [];
    for (let i = 0; i < statements.count; i++) {
      const reader = await (await statements.prepare(i)).runAndReadAll();
      // A statement that only does something (SET, CREATE) and returns no rows prints nothing.
      if (reader.statementType !== StatementType.SELECT && reader.currentRowCount === 0) continue;
      parts.push(formatTable(reader.getRowObjectsJson()));
    }
    if (parts.length === 0) parts.push(formatTable([]));
    const text = `${parts.join('\n\n')}\n`;
    if (out === undefined) await write(process.stdout, text);
    else await writeFile(out, text);
    return;
  }
  if (statements.count > 1) {
    throw new UsageError(
      `--format ${format} writes one result, and the query has ${statements.count} statements: give one, or use --format table to see each result`,
    );
  }
  if (out === undefined) {
    await streamRows(conn, sql, format, process.stdout);
    return;
  }
  const file = createWriteStream(out);
  await once(file, 'open');
  try {
    await streamRows(conn, sql, format, file);
  } finally {
    await new Promise<void>((done) => file.end(done));
  }
}

/**
 * The lake to open: the one named (a directory or an s3:// URL), or the default when it exists, or
 * none (functions only).
 */
export function lakeDir(lake: string | undefined): string | undefined {
  if (lake === undefined) return existsSync(DEFAULT_LAKE) ? existingLake(DEFAULT_LAKE) : undefined;
  return existingLake(lake);
}

const REMOTE_READS = ['auto', 'httpfs', 'cache'] as const;

/** The `--as-of` option of the commands that read a lake (checked by the library: exit 2 when malformed). */
export const asOfOption = () =>
  valueOption({
    describe:
      'read the lake as it was at a catalog version (a number) or a time (ISO 8601 with a zone, or a date: the latest version committed at or before it)',
  });

/** The `--cache-mb` option of the commands that read a lake. */
export const cacheMbOption = (describe: string) => numberOption('cache-mb', { above: 0 }, { describe });

/**
 * The `--remote-read` and `--cache-mb` options as `openLake` / `runQuery` options.
 * @throws {UsageError} for an unknown mode
 */
export function remoteReadArgs(a: { remoteRead?: string; cacheMb?: number | undefined }): {
  remoteRead: (typeof REMOTE_READS)[number];
  cacheMaxBytes?: number;
} {
  const remoteRead = REMOTE_READS.find((r) => r === (a.remoteRead ?? 'auto'));
  if (remoteRead === undefined) {
    throw new UsageError(
      `--remote-read must be one of ${REMOTE_READS.join(', ')}, not ${JSON.stringify(a.remoteRead)}`,
    );
  }
  if (a.cacheMb === undefined) return { remoteRead };
  return { remoteRead, cacheMaxBytes: Math.max(1, Math.round(a.cacheMb * 1024 * 1024)) };
}

/**
 * Whether an SQL text may call a `bcc_*` function: it holds `bcc` (any case). Creating the macros
 * costs DuckDB about 0.4 s (it binds each typed overload), most of a query that calls none; like
 * the views of a cached lake (`views: { mentionedIn }`), it errs towards installing them.
 */
const mentionsBcc = (sql: string) => /bcc/i.test(sql);

/** Reads the query from stdin when it is piped and no query was given. */
async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** The builder and handler of `octa sql` (cli/main.ts lists it). */
export const sqlCommand = commandParts({
  builder: (c) =>
    lakeOptions(c, {
      describe: `lake directory or s3://bucket/prefix (default ${DEFAULT_LAKE} when it exists, else no tables: functions only)`,
    })
      .positional('query', {
        type: 'string',
        describe: 'the SQL (read from stdin when piped and omitted, or given as -)',
      })
      .option('format', {
        type: 'string',
        default: 'table',
        describe: `output format: ${FORMATS.join(', ')}`,
      })
      .option('out', { type: 'string', describe: 'write to this file (required for parquet)' })
      .option('remote-read', {
        type: 'string',
        default: 'auto',
        describe: `how to read an S3 lake: ${REMOTE_READS.join(', ')} (auto: DuckDB's httpfs when it loads, else the file cache)`,
      })
      .option(
        'cache-mb',
        cacheMbOption(
          'size of the file cache for an S3 lake, in MiB (default 2048; directory $OCTA_CACHE_DIR)',
        ),
      )
      .option('as-of', asOfOption())
      .option('emit-macros', {
        type: 'boolean',
        default: false,
        describe: 'print the bcc_* functions as CREATE MACRO statements for the DuckDB CLI or Python',
      })
      .example('$0 sql "SELECT bcc_decode(cell) FROM survey LIMIT 3"', 'decode ids from the demo lake')
      .example('$0 sql --as-of 12 "SELECT count(*) FROM survey"', 'the lake as it was at version 12')
      .example('$0 sql --emit-macros > bcc.sql', 'then in duckdb: .read bcc.sql')
      .example('$0 sql -- "-- a query that starts with a comment\nSELECT 1"', 'operands after --'),
  handler: async (a) => {
    const format = FORMATS.find((f) => f === a.format);
    if (format === undefined) {
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not ${JSON.stringify(a.format)}`);
    }
    const { emitMacros, openLake, registerBccFunctions } = await import('../../src/sql.js');
    if (a.emitMacros) {
      if (a.query !== undefined) throw new UsageError('give a query or --emit-macros, not both');
      if (a.asOf !== undefined) throw new UsageError('--as-of reads a lake: not with --emit-macros');
      if (a.out === undefined) await write(process.stdout, emitMacros());
      else {
        checkOutputFile({ path: a.out, option: '--out' });
        await writeFile(a.out, emitMacros());
      }
      return;
    }
    if (format === 'parquet' && a.out === undefined) {
      throw new UsageError('--format parquet writes a file: add --out FILE');
    }
    // `-` names stdin, as in ingest (yargs used to drop a lone `-`, which read stdin by accident).
    const query =
      a.query !== undefined && a.query !== '-'
        ? a.query
        : process.stdin.isTTY
          ? undefined
          : await readStdin();
    if (query === undefined || query.trim() === '') {
      throw new UsageError('give a query: octa sql "SELECT …" (or pipe it on stdin)');
    }
    const lake = lakeDir(a.lake);
    if (lake === undefined && a.asOf !== undefined) {
      throw new UsageError(`--as-of reads a lake, and there is none at ${DEFAULT_LAKE}: give --lake DIR`);
    }
    // The lake's files are the query's inputs: an output inside the lake could replace one.
    if (a.out !== undefined) {
      checkOutputFile({
        path: a.out,
        option: '--out',
        ...(lake === undefined || isS3Lake(lake) ? {} : { lake }),
      });
    }
    if (lake !== undefined) {
      // An S3 lake read through the file cache downloads the files of the tables the query names.
      const session = await openLake({
        lake,
        views: { mentionedIn: query },
        functions: mentionsBcc(query),
        ...(a.asOf === undefined ? {} : { asOf: a.asOf }),
        ...remoteReadArgs(a),
        ...(a.s3Endpoint ? { s3: { endpoint: a.s3Endpoint } } : {}),
      });
      try {
        await runQuery(session.connection, query, format, a.out);
      } finally {
        session.close();
      }
      return;
    }
    const { DuckDBInstance } = duckdb();
    const instance = await DuckDBInstance.create(':memory:');
    try {
      const conn = await instance.connect();
      try {
        if (mentionsBcc(query)) await registerBccFunctions(conn);
        await runQuery(conn, query, format, a.out);
      } finally {
        conn.closeSync();
      }
    } finally {
      instance.closeSync();
    }
  },
});
