import { SCENE_LIMITS } from '../../src/options.js';
import { intOption, lakeOptions, withStorage } from '../args.js';
import { commandParts } from '../command.js';
import { formatTable, println, toJson } from '../output.js';
import { createProgress } from '../progress.js';
import { printSummary } from './ingest.js';

/** The demo's first query: what the survey saw each day. */
export const DEMO_QUERY = `SELECT CAST(time AS DATE) AS day,
       count(*) AS points,
       count(*) FILTER (WHERE classification = 6) AS building_points,
       round(max(z) FILTER (WHERE classification = 6), 1) AS highest_roof_m,
       round(avg(z) FILTER (WHERE classification = 2), 2) AS mean_ground_m
FROM survey GROUP BY day ORDER BY day`;

/** The builder and handler of `octa demo` (cli/main.ts lists it). */
export const demoCommand = commandParts({
  builder: (c) =>
    lakeOptions(c, { default: './octa-lake', describe: 'lake directory or s3://bucket/prefix' })
      .option(
        'points',
        intOption('points', SCENE_LIMITS.points, { default: 500_000, describe: 'points to generate' }),
      )
      .option('days', intOption('days', SCENE_LIMITS.days, { default: 5, describe: 'survey days' }))
      .option('seed', intOption('seed', SCENE_LIMITS.seed, { default: 7, describe: 'generator seed' }))
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print {"ingest": …, "query": […]} as JSON',
      })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress on stderr' }),
  handler: async (a) =>
    withStorage(
      a,
      async (storage) => {
        const { openLake, runDemo } = await import('../../src/index.js');
        const progress = createProgress({ quiet: a.quiet });
        const points = a.points;
        const summary = await runDemo({
          storage,
          scene: { points, days: a.days, seed: a.seed },
          onProgress: (p) =>
            progress.update(
              `generated ${p.rowsRead.toLocaleString('en')} points, ${p.files} files`,
              p.rowsRead / points,
            ),
        });
        progress.done();
        const lake = await openLake({ storage });
        try {
          const reader = await lake.connection.runAndReadAll(DEMO_QUERY);
          const rows = reader.getRowObjectsJson();
          if (a.json) {
            println(toJson({ ingest: summary, query: rows }));
            return;
          }
          printSummary(
            summary,
            false,
            'the same survey is in this lake already: give another --lake, or another --seed to add a second one',
          );
          println(`\nlake: ${a.lake}\n\n${DEMO_QUERY}\n`);
          println(formatTable(rows));
        } finally {
          lake.close();
        }
      },
      { create: true },
    ),
});
