import { intOption, lakeOptions, numberListOption, valueOption } from '../args.js';
import { commandParts } from '../command.js';
import { formatTable, println, toJson, UsageError } from '../output.js';
import { asOfOption, cacheMbOption, csvField, lakeDir, remoteReadArgs } from './sql.js';

const FORMATS = ['table', 'csv', 'json'] as const;

/** The builder and handler of `octa query` (cli/main.ts lists it). */
export const queryCommand = commandParts({
  builder: (c) =>
    lakeOptions(c, { describe: 'lake directory or s3://bucket/prefix (default ./octa-lake)' })
      .option('table', { type: 'string', demandOption: true, describe: 'the table to read' })
      .option('box', numberListOption('box', 6, { describe: 'X0,Y0,Z0,X1,Y1,Z1 in frame metres, inclusive' }))
      .option(
        'sphere',
        numberListOption('sphere', 4, {
          describe: 'X,Y,Z,R in frame metres; negative values as --sphere -1,2,3,4 or --sphere=-1,2,3,4',
        }),
      )
      .option('from', valueOption({ describe: 'first time, inclusive (ISO 8601 with a zone, or a date)' }))
      .option('to', valueOption({ describe: 'end time, exclusive' }))
      .option('select', { type: 'string', default: '*', describe: 'comma-separated columns' })
      .option('format', {
        type: 'string',
        default: 'table',
        describe: `output format: ${FORMATS.join(', ')}`,
      })
      .option(
        'max-ranges',
        intOption('max-ranges', { min: 1 }, { default: 64, describe: 'at most this many id ranges' }),
      )
      .option('remote-read', {
        type: 'string',
        default: 'auto',
        describe:
          "how to read an S3 lake: auto, httpfs, cache (auto: DuckDB's httpfs when it loads, else the file cache)",
      })
      .option(
        'cache-mb',
        cacheMbOption(
          'size of the file cache for an S3 lake, in MiB (default 2048); only the selected files are fetched',
        ),
      )
      .option('as-of', asOfOption())
      .option('explain', {
        type: 'boolean',
        default: false,
        describe: 'print files and row groups considered, the id ranges and the SQL instead of the rows',
      })
      .example('$0 query --table survey --box 100,100,0,200,200,80 --from 2025-06-03 --to 2025-06-04', '')
      .example('$0 query --table survey --sphere 500,500,30,20 --explain', '')
      .example('$0 query --table quakes --sphere -2663681,-1541632,5687473,100000', ''),
  handler: async (a) => {
    const format = FORMATS.find((f) => f === a.format);
    if (format === undefined) {
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not ${JSON.stringify(a.format)}`);
    }
    if ((a.box === undefined) === (a.sphere === undefined)) {
      throw new UsageError('give exactly one of --box X0,Y0,Z0,X1,Y1,Z1 and --sphere X,Y,Z,R');
    }
    const lake = lakeDir(a.lake);
    if (lake === undefined) throw new UsageError('no lake at ./octa-lake: give --lake DIR');
    const { runQuery } = await import('../../src/sql.js');
    const result = await runQuery({
      lake,
      table: a.table,
      ...(a.box === undefined ? {} : { box: a.box }),
      ...(a.sphere === undefined ? {} : { sphere: a.sphere }),
      ...(a.from === undefined ? {} : { from: a.from }),
      ...(a.to === undefined ? {} : { to: a.to }),
      select: a.select.split(',').map((s) => s.trim()),
      maxRanges: a.maxRanges,
      explain: a.explain,
      values: 'json',
      ...(a.asOf === undefined ? {} : { asOf: a.asOf }),
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
});
