import { intOption, numberListOption } from '../args.js';
import { commandParts } from '../command.js';
import { println, toJson } from '../output.js';

/** The builder and handler of `octa ranges` (cli/main.ts lists it). */
export const rangesCommand = commandParts({
  builder: (c) =>
    c
      .option('lod', intOption('lod', {}, { demandOption: true, describe: 'level of detail 0..15' }))
      .option(
        'box',
        numberListOption(
          'box',
          6,
          { demandOption: true, describe: 'X0,Y0,Z0,X1,Y1,Z1 in lattice coordinates, inclusive' },
          { integers: true },
        ),
      )
      .option('curve', { choices: ['index64', 'hilbert64'] as const, default: 'index64' as const })
      .option(
        'max-ranges',
        intOption('max-ranges', {}, { describe: 'cap the number of ranges (merges the smallest gaps)' }),
      )
      .option('frame', intOption('frame', {}, { default: 0, describe: 'frame id 0..255' }))
      .option('tier', intOption('tier', {}, { default: 0, describe: 'scale tier 0..3' }))
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .example('$0 ranges --lod 5 --box 0,0,0,7,7,7 --json', 'one contained range: an aligned 8³ tile')
      .example('$0 ranges --lod 5 --box -8,-8,-8,7,7,7', ''),
  handler: async (a) => {
    const box = a.box as [number, number, number, number, number, number];
    const { boxToRanges } = await import('../../src/lattice/index.js');
    const cover = boxToRanges({
      lod: a.lod,
      box,
      curve: a.curve,
      frame: a.frame,
      tier: a.tier,
      ...(a.maxRanges === undefined ? {} : { maxRanges: a.maxRanges }),
    });
    const rows = cover.ranges.map((r) => ({
      lo: r.lo.toString(),
      hi: r.hi.toString(),
      contained: r.contained,
    }));
    if (a.json) {
      println(toJson(rows));
      return;
    }
    for (const r of rows) println(`${r.lo}\t${r.hi}\t${r.contained ? 'contained' : 'partial'}`);
    const s = cover.stats;
    process.stderr.write(`${s.ranges} ranges, covered/query volume ${s.ratio.toFixed(3)}\n`);
  },
});
