#!/usr/bin/env node
/**
 * The `octa` program: {@link main} over the process's arguments, and its exit code. `octa --version`
 * alone is answered here, before yargs and the commands load.
 */
import { handleClosedPipe } from './output.js';
import { packageVersion } from './version.js';

handleClosedPipe();
// The AWS SDK warns on every S3 or Glue command under Node 20, which it still supports; the warning
// is noise on stderr for a CLI whose stderr is its error channel.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// The arguments after `node octa.js` (what yargs's hideBin gives outside Electron).
const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version') {
  process.stdout.write(`${packageVersion()}\n`);
} else {
  const { main } = await import('./main.js');
  const code = await main(args);
  // Everything a command writes or commits is done when main returns; what is left is the
  // runtime's own teardown (about 20 ms of a cold `octa query`). Exit once stdout has taken the
  // output: a write queues behind the earlier ones, so its callback means they are out.
  process.stdout.write('', () => process.exit(code));
}
