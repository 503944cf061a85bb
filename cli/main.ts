/**
 * The `octa` command line as a function: a thin layer of yargs commands over the library. It
 * returns the exit code instead of exiting, so tests can run many argument vectors in one process.
 */
import yargs from 'yargs';
import { markOperands, unmarkOperands, unmarkText } from './args.js';
import { catalogCommand } from './commands/catalog.js';
import { demoCommand } from './commands/demo.js';
import { exportCommand } from './commands/export.js';
import { idCommand } from './commands/id.js';
import { ingestCommand } from './commands/ingest.js';
import { latticeCommand } from './commands/lattice.js';
import { compactCommand, rebalanceCommand, vacuumCommand, verifyCommand } from './commands/maintenance.js';
import { queryCommand } from './commands/query.js';
import { rangesCommand } from './commands/ranges.js';
import { sqlCommand } from './commands/sql.js';
import { EXIT_SUCCESS, fail, UsageError } from './output.js';
import { packageVersion } from './version.js';

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
  cli = idCommand(cli);
  cli = latticeCommand(cli);
  cli = rangesCommand(cli);
  cli = ingestCommand(cli);
  cli = demoCommand(cli);
  cli = sqlCommand(cli);
  cli = queryCommand(cli);
  cli = exportCommand(cli);
  cli = catalogCommand(cli);
  cli = compactCommand(cli);
  cli = rebalanceCommand(cli);
  cli = vacuumCommand(cli);
  cli = verifyCommand(cli);
  cli.demandCommand(1, 'name a command (octa --help lists them)').fail((msg, err) => {
    // yargs's own findings (unknown options, bad choices, a value an option's parser refused) are
    // argument errors; anything else a handler threw is reported by its code.
    if (err && err.name !== 'YError') throw err;
    // One line that keeps the part naming the argument and its allowed values, e.g.
    // "Invalid values: Argument: time-unit, Given: "ns", Choices: "s", "ms", "us"".
    const text = (msg ?? err?.message ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    throw new UsageError(`${unmarkText(text.join(' '))} (see --help)`);
  });

  try {
    await cli.parseAsync();
  } catch (err) {
    return fail(err);
  }
  // A command that printed its result and failed (verify finding problems) sets process.exitCode.
  const code = Number(process.exitCode ?? EXIT_SUCCESS);
  process.exitCode = undefined;
  return code;
}
