import type { IdKind, ParsedId } from '../../src/lattice/index.js';
import { intArg, intOption } from '../args.js';
import { commandParts } from '../command.js';
import { println, toJson } from '../output.js';

interface EncodeArgs {
  x: string;
  y: string;
  z: string;
  kind: IdKind;
  frame: number;
  tier: number;
  lod: number;
  scaleMant: number;
  attr: number;
  json: boolean;
}

/** The lattice entry, loaded by the handlers: help and argument errors do without it. */
type Lattice = typeof import('../../src/lattice/index.js');
const lattice = (): Promise<Lattice> => import('../../src/lattice/index.js');

/** The JSON shape of an encoded id: kind, unsigned decimal value, hex, and Bech32m where it exists. */
function describeId({ idToBech32m, idToHex }: Lattice, id: ParsedId): Record<string, string> {
  const out: Record<string, string> = { kind: id.kind, value: id.value.toString(), hex: idToHex(id) };
  const text = idToBech32m(id);
  if (text !== null) out.bech32m = text;
  return out;
}

function encode(l: Lattice, a: EncodeArgs): ParsedId {
  const { latticeToGalactic128, latticeToHilbert64, latticeToIndex64, latticeToRoute64 } = l;
  const x = intArg('X', a.x);
  const y = intArg('Y', a.y);
  const z = intArg('Z', a.z);
  switch (a.kind) {
    case 'index64':
      return { kind: a.kind, value: latticeToIndex64(x, y, z, a) };
    case 'hilbert64':
      return { kind: a.kind, value: latticeToHilbert64(x, y, z, a) };
    case 'route64':
      return { kind: a.kind, value: latticeToRoute64(x, y, z, a) };
    case 'galactic128':
      return {
        kind: a.kind,
        value: latticeToGalactic128(x, y, z, { ...a, scaleMant: a.scaleMant, attrUsr: a.attr }),
      };
  }
}

/** The crate's field names: scale_mant, attr_usr. */
function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function printFields(obj: Record<string, unknown>, json: boolean): void {
  if (json) println(toJson(obj));
  else for (const [k, v] of Object.entries(obj)) println(`${k.padEnd(10)} ${String(v)}`);
}

/** The builder of `octa id` (cli/main.ts lists it). */
export const idCommand = commandParts({
  builder: (id) =>
    id
      .command(
        'encode <x> <y> <z>',
        'Encode lattice coordinates as an identifier',
        (c) =>
          c
            .positional('x', { type: 'string', describe: 'lattice x' })
            .positional('y', { type: 'string', describe: 'lattice y' })
            .positional('z', { type: 'string', describe: 'lattice z' })
            .option('kind', {
              choices: ['index64', 'hilbert64', 'route64', 'galactic128'] as const,
              default: 'index64' as const,
              describe: 'identifier kind',
            })
            .option('frame', intOption('frame', {}, { default: 0, describe: 'frame id 0..255' }))
            .option('tier', intOption('tier', {}, { default: 0, describe: 'scale tier 0..3' }))
            .option(
              'lod',
              intOption('lod', {}, { default: 5, describe: 'level of detail (0..15; Galactic128 0..63)' }),
            )
            .option(
              'scale-mant',
              intOption('scale-mant', {}, { default: 0, describe: 'Galactic128 scale mantissa 0..255' }),
            )
            .option(
              'attr',
              intOption('attr', {}, { default: 0, describe: 'Galactic128 user attribute 0..15' }),
            )
            .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
            .example('$0 id encode 100 200 300', 'Index64 at frame 0, tier 0, LOD 5 (as the crate CLI)')
            .example('$0 id encode -3 5 7 --kind route64 --json', 'a Route64 (BCC parity checked)')
            .example(
              '$0 id encode --kind route64 -- -3 -5 -7',
              'operands after -- (any that start with a minus)',
            ),
        async (a) => {
          const l = await lattice();
          printFields(describeId(l, encode(l, a as unknown as EncodeArgs)), a.json);
        },
      )
      .command(
        'decode <id>',
        'Decode an identifier given as decimal, 0x hex or Bech32m',
        (c) =>
          c
            .positional('id', { type: 'string', describe: 'the identifier' })
            .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
            .example('$0 id decode i3d11sqz3yjfxjfyj2mncl09', 'decode Bech32m text'),
        async (a) => {
          const l = await lattice();
          const parsed = l.parseId(String(a.id));
          const fields: Record<string, unknown> = { ...l.decodeId(parsed), ...describeId(l, parsed) };
          printFields(Object.fromEntries(Object.entries(fields).map(([k, v]) => [snakeCase(k), v])), a.json);
        },
      )
      .demandCommand(1, 'name a subcommand: encode or decode'),
});
