import type { TrainingManifest, TrainingSetOptions } from '../../src/index.js';
import { intOption, lakeOption, numberListOption, valueOption } from '../args.js';
import { commandParts } from '../command.js';
import { interruptible } from '../interrupt.js';
import { println, toJson, UsageError } from '../output.js';
import { lakeDir } from './sql.js';

/**
 * The warning for a buffer that dropped most samples (the splits are then far from the ratios).
 * @returns the text, or undefined when the buffer kept at least half of the samples
 */
export function bufferWarning(m: TrainingManifest): string | undefined {
  const { train, validation, test } = m.splits;
  const total = train + validation + test + m.dropped;
  if (m.dropped * 2 <= total) return undefined;
  const share = (n: number) => `${Math.round((100 * n) / total)}%`;
  return (
    `--buffer ${m.buffer} dropped ${m.dropped} of ${total} samples (${share(m.dropped)}), leaving train ${share(train)}, validation ${share(validation)}, test ${share(test)} ` +
    `for ratios ${m.ratios.join(',')}: most blocks touch a block of another split; use --buffer 0, or fewer, larger blocks (a smaller --split-lod) (docs/TRAINING.md)`
  );
}

/** The builder of `octa export` (cli/main.ts lists it). */
export const exportCommand = commandParts({
  builder: (e) =>
    e
      .command(
        'training-set',
        'Cells at a LOD with features, k-ring neighbourhoods, labels and spatial-block splits (docs/TRAINING.md)',
        (c) =>
          c
            .option('lake', lakeOption({ describe: 'lake directory (default ./octa-lake)' }))
            .option('table', { type: 'string', demandOption: true, describe: 'the table to read' })
            .option(
              'lod',
              intOption('lod', {}, { demandOption: true, describe: 'sample LOD, at most the table LOD' }),
            )
            .option(
              'k',
              intOption('k', {}, { default: 1, describe: 'neighbourhood radius in lattice steps, 1..4' }),
            )
            .option('features', {
              type: 'string',
              default: 'count',
              describe:
                'comma-separated: count, mean(COL), var(COL) (population variance), sql(AGGREGATE EXPR)',
            })
            .option('label', {
              type: 'string',
              describe: "a column; each cell's label is its most frequent value",
            })
            .option('label-table', {
              type: 'string',
              describe: 'labels from this table, one row per sample cell (with --label-column)',
            })
            .option('label-column', { type: 'string', describe: 'the label column of --label-table' })
            .option('label-key', {
              type: 'string',
              default: 'cell',
              describe: 'the sample cell column of --label-table (BIGINT Index64 or text id)',
            })
            .option('graph', {
              type: 'boolean',
              default: false,
              describe: 'also write per-split node and edge_index files for GNNs',
            })
            .option('where', { type: 'string', describe: 'an SQL condition on the points' })
            .option(
              'box',
              numberListOption('box', 6, { describe: 'X0,Y0,Z0,X1,Y1,Z1 in frame metres, inclusive' }),
            )
            .option(
              'from',
              valueOption({ describe: 'first time, inclusive (ISO 8601 with a zone, or a date)' }),
            )
            .option('to', valueOption({ describe: 'end time, exclusive' }))
            .option(
              'split-lod',
              intOption('split-lod', {}, { describe: 'LOD of the split blocks (default LOD − 3)' }),
            )
            .option(
              'ratios',
              numberListOption('ratios', 3, { default: '0.8,0.1,0.1', describe: 'train,validation,test' }),
            )
            .option(
              'buffer',
              intOption(
                'buffer',
                {},
                { default: 0, describe: 'blocks that must separate kept blocks of different splits' },
              ),
            )
            .option('seed', valueOption({ default: '0', describe: 'seed of the block hash (an integer)' }))
            .option('format', { type: 'string', default: 'parquet', describe: 'parquet or arrow (IPC file)' })
            .option(
              'shard-rows',
              intOption('shard-rows', {}, { default: 65_536, describe: 'at most this many rows per file' }),
            )
            .option(
              'memory-mb',
              intOption(
                'memory-mb',
                {},
                {
                  default: 256,
                  describe:
                    "DuckDB's memory for the points' grouping, the cell table and the tile sort; it spills beyond",
                },
              ),
            )
            .option('out', { type: 'string', demandOption: true, describe: 'output directory' })
            .option('json', { type: 'boolean', default: false, describe: 'print the manifest as JSON' })
            .example(
              '$0 export training-set --table survey --lod 8 --features "count,mean(intensity),var(intensity)" --label class --buffer 1 --seed 42 --out ts',
              '',
            )
            .example(
              '$0 export training-set --table survey --lod 8 --box -100,-100,0,100,100,50 --out ts',
              '',
            ),
        async (a) => {
          // exportTrainingSet checks it (INVALID_ARGUMENT, exit 2).
          const format = a.format as TrainingSetOptions['format'];
          const lake = lakeDir(a.lake);
          if (lake === undefined) throw new UsageError('no lake at ./octa-lake: give --lake DIR');
          const seedText = String(a.seed).trim();
          if (!/^-?\d+$/.test(seedText))
            throw new UsageError(`--seed must be an integer, got ${JSON.stringify(a.seed)}`);
          const { exportTrainingSet } = await import('../../src/index.js');
          const m = await interruptible((signal) =>
            exportTrainingSet({
              signal,
              lake,
              table: a.table,
              lod: a.lod,
              k: a.k,
              features: a.features,
              ...(a.label === undefined ? {} : { label: a.label }),
              ...(a.labelTable === undefined ? {} : { labelTable: a.labelTable, labelKey: a.labelKey }),
              ...(a.labelColumn === undefined ? {} : { labelColumn: a.labelColumn }),
              graph: a.graph,
              ...(a.where === undefined ? {} : { where: a.where }),
              ...(a.box === undefined ? {} : { box: a.box }),
              ...(a.from === undefined ? {} : { from: a.from }),
              ...(a.to === undefined ? {} : { to: a.to }),
              ...(a.splitLod === undefined ? {} : { splitLod: a.splitLod }),
              ratios: a.ratios,
              buffer: a.buffer,
              seed: BigInt(seedText),
              format,
              shardRows: a.shardRows,
              memoryMb: a.memoryMb,
              out: a.out,
            }),
          );
          const warning = bufferWarning(m);
          if (warning !== undefined) process.stderr.write(`octa: warning: ${warning}\n`);
          if (a.json) {
            println(toJson(m, 2));
            return;
          }
          const { train, validation, test } = m.splits;
          println(
            `train ${train}, validation ${validation}, test ${test}, dropped by the buffer ${m.dropped}`,
          );
          if (m.graph !== null) {
            const e = m.graph.edges;
            println(`graph edges: train ${e.train}, validation ${e.validation}, test ${e.test}`);
          }
          println(`${m.files.length} files and manifest.json in ${a.out}`);
        },
      )
      .demandCommand(1, 'name what to export: training-set'),
});
