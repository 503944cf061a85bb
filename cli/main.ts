/**
 * The `octa` command line as a function: a thin layer of yargs commands over the library. It
 * returns the exit code instead of exiting, so tests can run many argument vectors in one process.
 */
import { markOperands, unmarkOperands, unmarkText } from './args.js';
import type { CommandParts } from './command.js';
import { EXIT_SUCCESS, fail, UsageError } from './output.js';
import { packageVersion } from './version.js';
import { yargs } from './yargs.js';

/** A command main lists without loading it: its module loads when the command runs (or shows its help). */
interface LazyCommand {
  command: string;
  describe: string;
  /** Whether the command runs a handler (else it only groups subcommands). */
  handles?: true;
  load: () => Promise<CommandParts>;
}

/** The commands, in the order `octa --help` lists them. */
const COMMANDS: readonly LazyCommand[] = [
  {
    command: 'id',
    describe: 'Encode and decode octaindex3d identifiers',
    load: () => import('./commands/id.js').then((m) => m.idCommand),
  },
  {
    command: 'lattice',
    describe: 'BCC lattice geometry: neighbours, hierarchy, snapping',
    load: () => import('./commands/lattice.js').then((m) => m.latticeCommand),
  },
  {
    command: 'ranges',
    describe: 'Id ranges covering a box of lattice coordinates (exact unless --max-ranges)',
    handles: true,
    load: () => import('./commands/ranges.js').then((m) => m.rangesCommand),
  },
  {
    // Optional for yargs (which would count a lone - as missing); the handler requires an input.
    command: 'ingest [files..]',
    describe: 'Ingest point files (or - for stdin) into a lake table',
    handles: true,
    load: () => import('./commands/ingest.js').then((m) => m.ingestCommand),
  },
  {
    command: 'demo',
    describe: 'Generate a seeded synthetic LiDAR survey over several days, ingest it, and query it',
    handles: true,
    load: () => import('./commands/demo.js').then((m) => m.demoCommand),
  },
  {
    command: 'sql [query]',
    describe: 'Run SQL over a lake (views per table, bcc_* functions), or print the functions as a .sql file',
    handles: true,
    load: () => import('./commands/sql.js').then((m) => m.sqlCommand),
  },
  {
    command: 'query',
    describe:
      'Points of a table inside a box or sphere (frame metres) and a time window, read through the planner',
    handles: true,
    load: () => import('./commands/query.js').then((m) => m.queryCommand),
  },
  {
    command: 'serve',
    describe: 'Serve a lake over HTTP: health, tables and spatial queries (a single server)',
    handles: true,
    load: () => import('./commands/serve.js').then((m) => m.serveCommand),
  },
  {
    command: 'export',
    describe: 'Export data from a lake',
    load: () => import('./commands/export.js').then((m) => m.exportCommand),
  },
  {
    command: 'catalog',
    describe: 'Publish lake tables to AWS Glue or as Hive DDL',
    load: () => import('./commands/catalog.js').then((m) => m.catalogCommand),
  },
  {
    command: 'compact',
    describe: 'Merge the small files of each partition into sorted files of up to --target-rows rows',
    handles: true,
    load: () => import('./commands/maintenance.js').then((m) => m.compactCommand),
  },
  {
    command: 'rebalance',
    describe: 'Split identifier ranges above --target-rows at their median cell and merge small neighbours',
    handles: true,
    load: () => import('./commands/maintenance.js').then((m) => m.rebalanceCommand),
  },
  {
    command: 'vacuum',
    describe: 'Delete uncommitted and superseded data files older than --grace',
    handles: true,
    load: () => import('./commands/maintenance.js').then((m) => m.vacuumCommand),
  },
  {
    command: 'verify',
    describe:
      'Check the catalog, every committed file (size, SHA-256, footer) and list orphans; exit 1 on any error',
    handles: true,
    load: () => import('./commands/maintenance.js').then((m) => m.verifyCommand),
  },
];

/**
 * yargs's finding as one line that keeps the part naming the argument and its allowed values, e.g.
 * "Invalid values: Argument: time-unit, Given: "ns", Choices: "s", "ms", "us"".
 */
function usageError(message = ''): UsageError {
  const text = message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return new UsageError(`${unmarkText(text.join(' '))} (see --help)`);
}

/**
 * Runs `octa` with these arguments: output on stdout, one-line errors on stderr.
 * @param args - the arguments after the program name
 * @returns the exit code: 0 success, 1 the data or the environment failed, 2 the arguments are wrong
 */
export async function main(args: readonly string[]): Promise<number> {
  let cli = yargs(markOperands(args))
    .scriptName('octa')
    .usage('$0 <command> [options]\n\nAn Arrow-native data lake for 3D points on a BCC lattice.')
    .parserConfiguration({ 'parse-positional-numbers': false, 'duplicate-arguments-array': false })
    .middleware(unmarkOperands, true)
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100));
  for (const c of COMMANDS) {
    cli = cli.command(
      c.command,
      c.describe,
      async (y) => (await c.load()).builder(y),
      c.handles && (async (argv) => (await c.load()).handler?.(argv)),
    );
  }
  cli.demandCommand(1, 'name a command (octa --help lists them)').fail((msg, err) => {
    // yargs's own findings (unknown options, bad choices, a value an option's parser refused) are
    // argument errors; anything else a handler threw is reported by its code.
    if (err && err.name !== 'YError') throw err;
    throw usageError(msg ?? err?.message);
  });

  try {
    await cli.parseAsync();
  } catch (err) {
    // A value an option's parser refused reaches here as yargs's YError, not through .fail(), when
    // the command's builder is asynchronous (as the lazily loaded commands' are).
    return fail(err instanceof Error && err.name === 'YError' ? usageError(err.message) : err);
  }
  // A command that printed its result and failed (verify finding problems) sets process.exitCode.
  const code = Number(process.exitCode ?? EXIT_SUCCESS);
  process.exitCode = undefined;
  return code;
}
