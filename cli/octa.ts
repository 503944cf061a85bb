#!/usr/bin/env node
/** The `octa` program: {@link main} over the process's arguments, and its exit code. */
import { hideBin } from 'yargs/helpers';
import { main } from './main.js';
import { handleClosedPipe } from './output.js';

handleClosedPipe();
// The AWS SDK warns on every S3 or Glue command under Node 20, which it still supports; the warning
// is noise on stderr for a CLI whose stderr is its error channel.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.exitCode = await main(hideBin(process.argv));
