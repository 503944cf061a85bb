#!/usr/bin/env node
/** The `octa` command line: a thin layer of yargs commands over the library. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
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
import { EXIT_USAGE, fail, handleClosedPipe } from './output.js';

handleClosedPipe();
// The AWS SDK warns on every S3 or Glue command under Node 20, which it still supports; the warning
// is noise on stderr for a CLI whose stderr is its error channel.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let cli = yargs(hideBin(process.argv))
  .scriptName('octa')
  .usage('$0 <command> [options]\n\nAn Arrow-native data lake for 3D points on a BCC lattice.')
  .parserConfiguration({ 'parse-positional-numbers': false, 'duplicate-arguments-array': false })
  .strict()
  .recommendCommands()
  .help()
  .alias('h', 'help')
  .version()
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
  if (err) throw err;
  process.stderr.write(`octa: ${msg.split('\n')[0]} (see --help)\n`);
  process.exit(EXIT_USAGE);
});

try {
  await cli.parseAsync();
} catch (err) {
  fail(err);
}
