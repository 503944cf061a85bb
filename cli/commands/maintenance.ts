/** `octa compact`, `octa rebalance`, `octa vacuum` and `octa verify`: lake maintenance. */
import type { Argv } from 'yargs';
import { intOption, lakeOptions, numberOption, withStorage } from '../args.js';
import { commandParts } from '../command.js';
import { interruptible } from '../interrupt.js';
import { EXIT_FAILURE, println, toJson, UsageError, warnPublishErrors } from '../output.js';
import { createProgress } from '../progress.js';

/** The library, loaded by the handlers: help and argument errors do without it. */
const library = () => import('../../src/index.js');

const common = (c: Argv) =>
  lakeOptions(c, { default: './octa-lake', describe: 'lake directory or s3://bucket/prefix' })
    .option('table', { type: 'string', describe: 'only this table (default every table)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
    .option('quiet', { type: 'boolean', default: false, describe: 'no progress on stderr' });

/** The builder and handler of `octa compact` (cli/main.ts lists it). */
export const compactCommand = commandParts({
  builder: (c) =>
    common(c)
      .option(
        'target-rows',
        intOption(
          'target-rows',
          { min: 1, max: 2 ** 31 - 1 },
          { default: 1_000_000, describe: 'rows per output file at most' },
        ),
      )
      .option(
        'min-file-rows',
        intOption(
          'min-file-rows',
          {},
          { describe: 'files with fewer rows are merged (default half of --target-rows)' },
        ),
      )
      .option('dry-run', { type: 'boolean', default: false, describe: 'report the plan, change nothing' })
      .example('$0 compact --lake lake --table points', ''),
  handler: async (a) => {
    const { compact } = await library();
    const targetRows = a.targetRows;
    const progress = createProgress({ quiet: a.quiet });
    let partitions = 0;
    const summary = await interruptible((signal) =>
      withStorage(a, (storage) =>
        compact({
          signal,
          storage,
          ...(a.table === undefined ? {} : { table: a.table }),
          targetRows,
          ...(a.minFileRows === undefined ? {} : { minFileRows: a.minFileRows }),
          dryRun: a.dryRun,
          onPartition: (p) =>
            progress.update(`${++partitions} partitions compacted (${p.table} t=${p.t} r=${p.r})`),
        }),
      ),
    );
    progress.done();
    warnPublishErrors(summary.publish_errors);
    if (a.json) return println(toJson(summary));
    const verb = a.dryRun ? 'would replace' : 'replaced';
    for (const p of summary.partitions) {
      println(
        `${p.table} t=${p.t} r=${p.r}: ${verb} ${p.filesRemoved} files (${p.rows} rows) by ${p.filesAdded}`,
      );
    }
    println(
      (a.dryRun
        ? `would compact ${summary.partitions.length} partitions: ${summary.files_removed} files → ${summary.files_added}, ${summary.rows_rewritten} rows rewritten; nothing changed (dry run) at catalog version ${summary.version}`
        : `${summary.partitions.length} partitions compacted: ${summary.files_removed} files → ${summary.files_added}, ${summary.rows_rewritten} rows rewritten, catalog version ${summary.version}`) +
        (summary.conflicts > 0 ? `; ${summary.conflicts} partitions left to a concurrent compaction` : ''),
    );
  },
});

/** The builder and handler of `octa rebalance` (cli/main.ts lists it). */
export const rebalanceCommand = commandParts({
  builder: (c) =>
    common(c)
      .option(
        'target-rows',
        intOption('target-rows', {}, { default: 10_000_000, describe: 'rows a range may hold' }),
      )
      .option(
        'merge-below',
        numberOption(
          'merge-below',
          { min: 0, max: 0.5 },
          {
            default: 0.5,
            describe: 'merge neighbours holding together at most this fraction of --target-rows (0..0.5)',
          },
        ),
      )
      .option(
        'max-operations',
        intOption('max-operations', {}, { default: 64, describe: 'splits and merges per table at most' }),
      )
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'report the first operation, change nothing',
      }),
  handler: async (a) => {
    const { rebalance } = await library();
    const summary = await interruptible((signal) =>
      withStorage(a, (storage) =>
        rebalance({
          signal,
          storage,
          ...(a.table === undefined ? {} : { table: a.table }),
          targetRows: a.targetRows,
          mergeBelow: a.mergeBelow,
          maxOperations: a.maxOperations,
          dryRun: a.dryRun,
        }),
      ),
    );
    warnPublishErrors(summary.publish_errors);
    if (a.json) return println(toJson(summary));
    for (const op of summary.operations) {
      const what = op.kind === 'split' ? `split at ${op.split}` : `merged at ${op.split}`;
      println(
        `${op.table}: ${what} (${op.before.length} → ${op.after.length} ranges), ${op.filesRemoved} files moved as ${op.filesAdded}` +
          (op.version === null ? ' (dry run)' : `, version ${op.version}`),
      );
    }
    for (const u of summary.unsplittable) {
      println(`${u.table} r=${u.r}: ${u.rows} rows share one cell and cannot be split`);
    }
    if (summary.operations.length === 0) println('ranges are balanced: nothing to do');
  },
});

/** The builder and handler of `octa vacuum` (cli/main.ts lists it). */
export const vacuumCommand = commandParts({
  builder: (c) =>
    common(c)
      .option('grace', {
        type: 'string',
        default: '1h',
        describe:
          'keep files younger than this (e.g. 1h, 30m, 0 = delete now: only when no writer runs); also how far back --as-of reaches',
      })
      .option('dry-run', { type: 'boolean', default: false, describe: 'list what would be deleted' }),
  handler: async (a) => {
    const { parseDuration, vacuum } = await library();
    let graceMs: number;
    try {
      graceMs = parseDuration(a.grace);
    } catch (error) {
      throw new UsageError(`--grace ${(error as Error).message.replace(/ \(code: .*$/, '')}`);
    }
    const summary = await withStorage(a, (storage) =>
      vacuum({
        storage,
        ...(a.table === undefined ? {} : { table: a.table }),
        graceMs,
        dryRun: a.dryRun,
      }),
    );
    warnPublishErrors(summary.publish_errors);
    if (a.json) return println(toJson(summary));
    for (const d of summary.deleted) println(`${a.dryRun ? 'would delete' : 'deleted'} ${d.reason} ${d.key}`);
    println(
      `${summary.deleted.length} files ${a.dryRun ? 'to delete' : 'deleted'} (${summary.bytes_deleted} bytes); ${summary.kept} younger than ${a.grace} kept`,
    );
  },
});

/** The builder and handler of `octa verify` (cli/main.ts lists it). */
export const verifyCommand = commandParts({
  builder: (c) => common(c),
  handler: async (a) => {
    const { verify } = await library();
    const progress = createProgress({ quiet: a.quiet });
    const report = await withStorage(a, (storage) =>
      verify({
        storage,
        ...(a.table === undefined ? {} : { table: a.table }),
        onFile: (checked, total) => progress.update(`${checked} of ${total} files checked`, checked / total),
      }),
    );
    progress.done();
    if (a.json) println(toJson(report));
    else {
      for (const p of report.problems) {
        println(`${p.severity.padEnd(7)} ${p.code.padEnd(19)} ${p.file ?? '-'}: ${p.detail}`);
      }
      println(
        `${report.errors} errors, ${report.warnings} warnings; ${report.files_checked} files (${report.bytes_checked} bytes) and ${report.log_entries} log entries checked at version ${report.version ?? '-'}`,
      );
    }
    if (!report.ok) process.exitCode = EXIT_FAILURE;
  },
});
