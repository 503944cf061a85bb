/**
 * The package's version, read from its own package.json: `octa --version` prints it without
 * loading yargs, and yargs is given it rather than looking for a package.json itself (it searches
 * from where yargs is installed, which for a hoisted install is the app that depends on octa-lake).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The `version` of the nearest package.json named octa-lake above this file (cli/ in the sources,
 * dist/cli/ when built).
 * @returns the version, or `unknown` (as yargs says) when no such package.json is found
 */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'octa-lake' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here (or not one to read): look further up
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
