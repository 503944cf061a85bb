/**
 * A command as cli/main.ts registers it: its name and description are listed there, its builder and
 * handler live in its module under cli/commands/, which main loads only when that command runs.
 */
import type { ArgumentsCamelCase, Argv } from 'yargs';

/** A command's builder (its options and subcommands) and, unless it only groups subcommands, its handler. */
export interface CommandParts {
  builder: (y: Argv) => Argv;
  handler?: (argv: ArgumentsCamelCase) => void | Promise<void>;
}

/**
 * A command's parts, typed as yargs types `y.command(name, description, builder, handler)`: the
 * handler's arguments are what the builder declares.
 */
export function commandParts<U>(parts: {
  builder: (y: Argv) => Argv<U>;
  handler?: (argv: ArgumentsCamelCase<U>) => void | Promise<void>;
}): CommandParts {
  return parts as unknown as CommandParts;
}
