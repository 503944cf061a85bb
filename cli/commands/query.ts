/** `octa query`: the points of one table inside a box or sphere (frame metres) and a time window. */
import type { Argv } from 'yargs';
import { runQuery } from '../../src/sql/planner.js';
import { formatTable, println, toJson, UsageError } from '../output.js';
import { csvField, lakeDir, remoteReadArgs } from './sql.js';

const FORMATS = ['table', 'csv', 'json'] as const;

/** Parses `A,B,C…` into exactly `n` finite numbers. */
function numbers(name: string, text: string, n: number): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  if (parts.length !== n || parts.some((p) => p === '') || !values.every(Number.isFinite)) {
    throw new UsageError(`${name} must be ${n} comma-separated numbers, got ${JSON.stringify(text)}`);
  }
  return values;
}

/** Registers `octa query`. */
export function queryCommand(y: Argv): Argv {
  return y.command(
    'query',
    'Points of a table inside a box or sphere (frame metres) and a time window, read through the planner',
    (c) =>
      c
        .option('table', { type: 'string', demandOption: true, describe: 'the table to read' })
        .option('box', { type: 'string', describe: 'X0,Y0,Z0,X1,Y1,Z1 in frame metres, inclusive' })
        .option('sphere', { type: 'string', describe: 'X,Y,Z,R in frame metres' })
        .option('from', {
          type: 'string',
          describe: 'first time, inclusive (ISO 8601 with a zone, or a date)',
        })
        .option('to', { type: 'string', describe: 'end time, exclusive' })
        .option('lake', {
          type: 'string',
          describe: 'lake directory or s3://bucket/prefix (default ./octa-lake)',
        })
        .option('s3-endpoint', {
          type: 'string',
          default: process.env.OCTA_S3_ENDPOINT || undefined,
          defaultDescription: '$OCTA_S3_ENDPOINT',
          describe: 'endpoint of an S3-compatible service for an s3:// lake, e.g. http://127.0.0.1:9000',
        })
        .option('select', { type: 'string', default: '*', describe: 'comma-separated columns' })
        .option('format', {
          type: 'string',
          default: 'table',
          describe: `output format: ${FORMATS.join(', ')}`,
        })
        .option('max-ranges', { type: 'string', default: '64', describe: 'at most this many id ranges' })
        .option('remote-read', {
          type: 'string',
          default: 'auto',
          describe:
            "how to read an S3 lake: auto, httpfs, cache (auto: DuckDB's httpfs when it loads, else the file cache)",
        })
        .option('cache-mb', {
          type: 'string',
          describe:
            'size of the file cache for an S3 lake, in MiB (default 2048); only the selected files are fetched',
        })
        .option('explain', {
          type: 'boolean',
          default: false,
          describe: 'print files and row groups considered, the id ranges and the SQL instead of the rows',
        })
        .example('$0 query --table survey --box 100,100,0,200,200,80 --from 2025-06-03 --to 2025-06-04', '')
        .example('$0 query --table survey --sphere 500,500,30,20 --explain', ''),
    async (a) => {
      const format = FORMATS.find((f) => f === a.format);
      if (format === undefined) {
        throw new UsageError(
          `--format must be one of ${FORMATS.join(', ')}, not ${JSON.stringify(a.format)}`,
        );
      }
      if ((a.box === undefined) === (a.sphere === undefined)) {
        throw new UsageError('give exactly one of --box X0,Y0,Z0,X1,Y1,Z1 and --sphere X,Y,Z,R');
      }
      const maxRanges = Number(a.maxRanges);
      if (!/^\d+$/.test(String(a.maxRanges).trim()) || maxRanges < 1) {
        throw new UsageError(`--max-ranges must be an integer >= 1, got ${JSON.stringify(a.maxRanges)}`);
      }
      const lake = lakeDir(a.lake);
      if (lake === undefined) throw new UsageError('no lake at ./octa-lake: give --lake DIR');
      const result = await runQuery({
        lake,
        table: a.table,
        ...(a.box === undefined ? {} : { box: numbers('--box', a.box, 6) }),
        ...(a.sphere === undefined ? {} : { sphere: numbers('--sphere', a.sphere, 4) }),
        ...(a.from === undefined ? {} : { from: a.from }),
        ...(a.to === undefined ? {} : { to: a.to }),
        select: a.select.split(',').map((s) => s.trim()),
        maxRanges,
        explain: a.explain,
        values: 'json',
        ...remoteReadArgs(a),
        ...(a.s3Endpoint ? { s3: { endpoint: a.s3Endpoint } } : {}),
      });
      if (a.explain) {
        const e = result.explain!;
        if (format === 'json') {
          println(toJson({ ...e, rows: result.rows.length }, 2));
          return;
        }
        println(`files considered: ${e.filesConsidered} of ${e.filesTotal}`);
        println(
          `row groups considered: ${e.rowGroupsConsidered} of ${e.rowGroupsTotal} (${e.rowGroupsMatching} meet an id range)`,
        );
        println(`rows: ${result.rows.length}`);
        println(`id ranges: ${e.ranges.length}`);
        for (const r of e.ranges) println(`  ${r.lo} .. ${r.hi}${r.contained ? '' : ' (partial)'}`);
        println(`sql: ${e.sql}`);
        return;
      }
      const rows = result.rows;
      if (format === 'json') {
        println(rows.length === 0 ? '[]' : `[\n${rows.map((r) => toJson(r)).join(',\n')}\n]`);
      } else if (format === 'csv') {
        const names = rows.length === 0 ? [] : Object.keys(rows[0]!);
        println(names.map(csvField).join(','));
        for (const r of rows) println(names.map((n) => csvField(r[n])).join(','));
      } else {
        println(formatTable(rows));
      }
    },
  );
}
