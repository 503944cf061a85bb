/** `octa lattice`: BCC geometry on lattice points (the geometric hierarchy, not the id-level one). */
import type { Argv } from 'yargs';
import type { Triple } from '../../src/lattice/index.js';
import { intArg, intOption, numberArg } from '../args.js';
import { commandParts } from '../command.js';
import { println, toJson } from '../output.js';

function printTriples(value: Triple | Triple[], json: boolean): void {
  if (json) {
    println(toJson(value));
    return;
  }
  const rows = Array.isArray(value[0]) ? (value as Triple[]) : [value as Triple];
  for (const t of rows) println(t.join(' '));
}

function point(a: { x: unknown; y: unknown; z: unknown }): Triple {
  return [intArg('X', a.x), intArg('Y', a.y), intArg('Z', a.z)];
}

/** The lattice entry, loaded by the handlers: help and argument errors do without it. */
const lattice = () => import('../../src/lattice/index.js');

function xyz<T>(c: Argv<T>, what: string) {
  return c
    .positional('x', { type: 'string', describe: `${what} x` })
    .positional('y', { type: 'string', describe: `${what} y` })
    .positional('z', { type: 'string', describe: `${what} z` })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON' });
}

/** The builder of `octa lattice` (cli/main.ts lists it). */
export const latticeCommand = commandParts({
  builder: (l) =>
    l
      .command(
        'neighbors <x> <y> <z>',
        "The 14 neighbours of a BCC point, in the crate's order",
        (c) => xyz(c, 'lattice'),
        async (a) => printTriples((await lattice()).latticeToNeighbors(...point(a)), a.json),
      )
      .command(
        'children <x> <y> <z>',
        'The 8 BCC children one level finer: 2p + (0,0,0), (2,0,0), (0,2,0), (0,0,2), (1,±1,±1)',
        (c) => xyz(c, 'lattice'),
        async (a) => printTriples((await lattice()).latticeToChildren(...point(a)), a.json),
      )
      .command(
        'parent <x> <y> <z>',
        'The BCC parent one level coarser',
        (c) => xyz(c, 'lattice'),
        async (a) => printTriples((await lattice()).latticeToParent(...point(a)), a.json),
      )
      .command(
        'snap <px> <py> <pz>',
        'The nearest BCC point to a physical point (Rust rounding, ties to the all-even point)',
        (c) =>
          c
            .positional('px', { type: 'string', describe: 'physical x' })
            .positional('py', { type: 'string', describe: 'physical y' })
            .positional('pz', { type: 'string', describe: 'physical z' })
            .option(
              'resolution',
              intOption('resolution', {}, { default: 0, describe: 'lattice spacing 1/2^N' }),
            )
            .option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
        async (a) =>
          printTriples(
            (await lattice()).snapToLattice(
              numberArg('PX', a.px),
              numberArg('PY', a.py),
              numberArg('PZ', a.pz),
              {
                resolution: a.resolution,
              },
            ),
            a.json,
          ),
      )
      .demandCommand(1, 'name a subcommand: neighbors, children, parent or snap'),
});
