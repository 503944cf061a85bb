/** `octa ingest`: stream point files or stdin into a lake table. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { IngestSummary, InputRef } from '../../src/index.js';
import { checkOutputFile, isS3Lake, OctaError } from '../../src/options.js';
import { intOption, lakeOptions, valueOption, withStorage } from '../args.js';
import { commandParts } from '../command.js';
import { interruptible } from '../interrupt.js';
import { cliMessage, println, toJson, UsageError, warnPublishErrors } from '../output.js';
import { createProgress, jsonLog, jsonProgress } from '../progress.js';

const FORMATS = ['csv', 'ndjson', 'parquet', 'arrow', 'las', 'laz'] as const;

/**
 * Prints an ingest summary as JSON or as lines.
 * @param again - how to ingest skipped inputs again (default: with --force)
 */
export function printSummary(
  summary: IngestSummary,
  json: boolean,
  again = 'use --force to ingest them again',
): void {
  warnPublishErrors(summary.publish_errors);
  if (json) {
    println(toJson(summary));
    return;
  }
  println(
    `${summary.rows_committed} rows committed (${summary.rows_read} read, ${summary.rows_rejected} rejected) in ${summary.files} files, ${summary.partitions} partitions` +
      (summary.version === null ? '' : `, catalog version ${summary.version}`),
  );
  const skipped = summary.batches_skipped;
  if (skipped > 0)
    println(`${skipped} input${skipped === 1 ? '' : 's'} already committed: skipped (${again})`);
  if (summary.reject_file) println(`rejected rows: ${summary.reject_file}`);
}

/** The builder and handler of `octa ingest` (cli/main.ts lists it). */
export const ingestCommand = commandParts({
  builder: (c) =>
    lakeOptions(c, { default: './octa-lake', describe: 'lake directory or s3://bucket/prefix' })
      .positional('files', { type: 'string', array: true, describe: 'input files, or - for stdin' })
      .option('table', {
        type: 'string',
        default: 'points',
        describe: 'table name ([A-Za-z_][A-Za-z0-9_]*)',
      })
      .option('format', {
        choices: FORMATS,
        describe: 'input format (default: from the file extension; csv for stdin)',
      })
      .option('x', { type: 'string', describe: 'x column (projected/cartesian input; default x)' })
      .option('y', { type: 'string', describe: 'y column (default y)' })
      .option('z', { type: 'string', describe: 'z column (default z)' })
      .option('lat', { type: 'string', describe: 'latitude column (geodetic input, degrees)' })
      .option('lon', { type: 'string', describe: 'longitude column (geodetic input, degrees)' })
      .option('height', { type: 'string', describe: 'ellipsoidal height column, metres' })
      .option('depth-km', { type: 'string', describe: 'depth column, kilometres below the ellipsoid' })
      .option('time', {
        type: 'string',
        describe: 'event time column (ISO 8601, or epoch numbers in --time-unit)',
      })
      .option('time-value', valueOption({ describe: 'one ISO 8601 time for every row' }))
      .option('time-unit', {
        choices: ['s', 'ms', 'us'] as const,
        describe: 'unit of numeric times (default s)',
      })
      .option('time-bucket', {
        choices: ['hour', 'day', 'month'] as const,
        describe: 'time partitioning of a new table (default day)',
      })
      .option(
        'frame',
        valueOption({
          describe:
            'frame of a new table: ecef, enu:LAT,LON,H,EDGE, cartesian:X0,Y0,Z0,EDGE or auto (LAS header)',
        }),
      )
      .option(
        'frame-id',
        intOption('frame-id', {}, { describe: 'frame id 0..255 of a new frame (default 0)' }),
      )
      .option('lod', intOption('lod', {}, { describe: 'level of detail 0..15 of a new table (default 15)' }))
      .option('id-kind', {
        choices: ['index64', 'hilbert64'] as const,
        describe: 'cell id kind of a new table (default index64; hilbert64 sorts into tighter row groups)',
      })
      .option('exclude', {
        type: 'string',
        describe: 'comma-separated input columns not to carry as payload',
      })
      .option('reject-file', {
        type: 'string',
        describe:
          'where rejected rows go (default <lake>/_rejects/<table>-<time>.ndjson; ./_rejects/… for an s3:// lake)',
      })
      .option(
        'max-rejects',
        intOption(
          'max-rejects',
          { min: 0 },
          { default: 1000, describe: 'fail (committing nothing) past this many rejects' },
        ),
      )
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'ingest inputs again even if already committed',
      })
      .option(
        'file-rows',
        intOption('file-rows', { min: 1 }, { describe: 'rows per Parquet file at most (default 1,000,000)' }),
      )
      .option(
        'memory-mb',
        intOption(
          'memory-mb',
          { min: 1 },
          { describe: 'memory for buffered rows, all partitions (default 256)' },
        ),
      )
      .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress on stderr' })
      .option('metrics', {
        type: 'string',
        describe:
          'write Prometheus text-format counters and histograms of the run to FILE (also after a failure)',
      })
      .option('log-format', {
        choices: ['text', 'json'] as const,
        default: 'text' as const,
        describe: 'progress and the outcome on stderr as plain lines or JSON lines',
      })
      .example('$0 ingest survey.laz --table lidar', 'LAS/LAZ: frame and time from the header')
      .example(
        '$0 ingest quakes.csv --table quakes --lat latitude --lon longitude --depth-km depth --time time --frame ecef',
        'geodetic CSV into an ECEF frame',
      )
      .example('cat points.csv | $0 ingest - --frame cartesian:0,0,0,1024 --time t', 'from stdin')
      .example(
        '$0 ingest pts.csv --frame cartesian:-512,-512,-64,1024 --time t',
        'a frame whose origin has negative coordinates',
      ),
  handler: async (a) => {
    const files = (a.files ?? []) as string[];
    if (files.length === 0) throw new UsageError('name input files, or - for stdin');
    if (files.filter((f) => f === '-').length > 1) throw new UsageError('stdin (-) can be read once');
    const lake = a.lake;
    // Outputs are checked before the lake is opened or an input read: not an input (truncating
    // it while it is read loses rows), not inside the lake, and writable in a folder that exists.
    const { ingest, Metrics } = await import('../../src/index.js');
    const inputs: InputRef[] = files.map((f) => (f === '-' ? { fd: 0 } : { path: f }));
    const localLake = isS3Lake(lake) ? {} : { lake };
    if (a.rejectFile !== undefined) {
      checkOutputFile({
        path: a.rejectFile,
        option: '--reject-file',
        inputs,
        ...localLake,
        lakeFolder: '_rejects',
      });
    }
    if (a.metrics !== undefined) {
      checkOutputFile({
        path: a.metrics,
        option: '--metrics',
        inputs,
        outputs: a.rejectFile === undefined ? [] : [{ path: a.rejectFile, option: '--reject-file' }],
        ...localLake,
      });
    }
    // The storage is closed however the run ends (an S3 client's connections).
    await withStorage(
      a,
      async (storage) => {
        const log = a.logFormat === 'json' ? jsonLog : null;
        const progress = log ? jsonProgress(a.quiet) : createProgress({ quiet: a.quiet });
        const metrics = new Metrics();
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const started = performance.now();
        const finish = async (outcome: 'ok' | 'failed') => {
          metrics.inc('octa_ingest_runs_total', 'Ingest runs by this process', 1);
          if (outcome === 'failed')
            metrics.inc(
              'octa_ingest_failures_total',
              'Ingest runs that committed nothing because of an error',
              1,
            );
          metrics.observe(
            'octa_ingest_run_seconds',
            'Wall time of the run',
            (performance.now() - started) / 1000,
          );
          if (!a.metrics) return;
          try {
            await writeFile(a.metrics, metrics.toPrometheus());
          } catch (err) {
            // The run's outcome stands: after a commit, exit 1 would invite a re-run with --force
            // that stores the rows twice.
            const why = err instanceof Error ? err.message : String(err);
            process.stderr.write(`octa: warning: the metrics were not written to ${a.metrics}: ${why}\n`);
          }
        };
        let summary: IngestSummary;
        try {
          summary = await interruptible((signal) =>
            ingest({
              signal,
              metrics,
              storage,
              table: a.table,
              inputs: files.map((f) => (f === '-' ? { stream: process.stdin, name: '-' } : { path: f })),
              ...(a.format ? { format: a.format } : files[0] === '-' ? { format: 'csv' as const } : {}),
              ...(a.frame === undefined ? {} : { frame: a.frame }),
              ...(a.frameId === undefined ? {} : { frameId: a.frameId }),
              ...(a.lod === undefined ? {} : { lod: a.lod }),
              coords: Object.fromEntries(
                Object.entries({
                  x: a.x,
                  y: a.y,
                  z: a.z,
                  lat: a.lat,
                  lon: a.lon,
                  height: a.height,
                  depthKm: a.depthKm,
                }).filter(([, v]) => v !== undefined),
              ),
              ...(a.time === undefined ? {} : { time: a.time }),
              ...(a.timeValue === undefined ? {} : { timeValue: a.timeValue }),
              ...(a.timeUnit === undefined ? {} : { timeUnit: a.timeUnit }),
              ...(a.timeBucket === undefined ? {} : { timeBucket: a.timeBucket }),
              ...(a.idKind === undefined ? {} : { idKind: a.idKind }),
              ...(a.exclude === undefined ? {} : { exclude: a.exclude.split(',').map((s) => s.trim()) }),
              // The reject file is a local file: an S3 lake's go to the working directory.
              rejectFile:
                a.rejectFile ??
                resolve(isS3Lake(lake) ? '.' : lake, '_rejects', `${a.table}-${stamp}.ndjson`),
              maxRejects: a.maxRejects,
              force: a.force,
              ...(a.fileRows === undefined ? {} : { fileRows: a.fileRows }),
              ...(a.memoryMb === undefined ? {} : { memoryBytes: a.memoryMb * 2 ** 20 }),
              onProgress: (p) =>
                progress.update(
                  `${p.source}: ${p.rowsRead.toLocaleString('en')} rows read, ${p.rowsRejected} rejected, ${p.files} files`,
                  p.bytes !== undefined && p.size ? p.bytes / p.size : undefined,
                  {
                    source: p.source,
                    rows_read: p.rowsRead,
                    rows_rejected: p.rowsRejected,
                    files: p.files,
                  },
                ),
            }),
          );
        } catch (err) {
          progress.done(false);
          await finish('failed');
          log?.('error', 'ingest failed', {
            code: err instanceof OctaError ? err.code : 'INTERNAL',
            error: cliMessage(err),
          });
          throw err;
        }
        progress.done();
        await finish('ok');
        log?.('info', 'ingest committed', { ...summary });
        printSummary(summary, a.json);
      },
      { create: true },
    );
  },
});
