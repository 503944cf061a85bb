/**
 * What every command reads from its arguments, parsed one way: integers and numbers (decimal only,
 * a leading minus allowed in both `--opt -1,2` and `--opt=-1,2`), lists of numbers, lake locations,
 * and operands after `--`.
 */
import { existsSync, statSync } from 'node:fs';
import type { Argv } from 'yargs';
import type { Storage } from '../src/index.js';
import { isS3Lake, OctaError, resolveLake } from '../src/options.js';
import { UsageError } from './output.js';

/** Bounds of a numeric option, both inclusive. */
export interface Range {
  min?: number;
  max?: number;
}

const INTEGER = /^-?\d+$/;
// Decimal notation only: no hex (0x10), binary, Infinity or empty text, which Number() would take.
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function rangeText({ min, max }: Range): string {
  if (min !== undefined && max !== undefined) return ` in ${min}..${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

/**
 * Parses a whole number written in decimal digits (an optional leading minus).
 * @param name - the argument as the user knows it, e.g. `--lod`
 * @param value - what yargs handed over
 * @param range - allowed values, inclusive
 * @returns the number
 * @throws {UsageError} naming the argument, the allowed values and what was given
 */
export function intArg(name: string, value: unknown, range: Range = {}): number {
  const text = String(value).trim();
  const n = Number(text);
  if (
    !INTEGER.test(text) ||
    !Number.isSafeInteger(n) ||
    (range.min !== undefined && n < range.min) ||
    (range.max !== undefined && n > range.max)
  ) {
    throw new UsageError(`${name} must be an integer${rangeText(range)}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * Parses a finite number written in decimal (an optional minus, fraction and exponent).
 * @param name - the argument as the user knows it
 * @param value - what yargs handed over
 * @param range - allowed values, inclusive; `above` excludes its bound
 * @throws {UsageError} naming the argument, the allowed values and what was given
 */
export function numberArg(name: string, value: unknown, range: Range & { above?: number } = {}): number {
  const text = String(value).trim();
  const n = Number(text);
  if (
    !DECIMAL.test(text) ||
    !Number.isFinite(n) ||
    (range.above !== undefined && n <= range.above) ||
    (range.min !== undefined && n < range.min) ||
    (range.max !== undefined && n > range.max)
  ) {
    const bound = range.above === undefined ? rangeText(range) : ` > ${range.above}`;
    throw new UsageError(`${name} must be a decimal number${bound}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * Parses a comma-separated list of `count` numbers, e.g. a box `X0,Y0,Z0,X1,Y1,Z1`.
 * @param name - the option without dashes
 * @param parse - how each value is read (default {@link numberArg})
 * @throws {UsageError} naming the option
 */
export function numberListArg(
  name: string,
  value: unknown,
  count: number,
  parse: (name: string, value: unknown) => number = numberArg,
): number[] {
  const parts = String(value).split(',');
  if (parts.length !== count) {
    throw new UsageError(`--${name} takes ${count} comma-separated numbers, got ${JSON.stringify(value)}`);
  }
  return parts.map((p, i) => parse(`--${name} value ${i + 1}`, p));
}

/** What the option helpers take from a yargs option declaration. */
interface OptionText {
  describe: string;
  demandOption?: boolean;
  default?: unknown;
  defaultDescription?: string;
}

/**
 * An option that takes exactly one value, so a value with a leading minus (`--box -5,0,0,5,5,5`)
 * is the option's value rather than a cluster of short flags: yargs-parser hands the next argument
 * to an option with `nargs` 1 unless it looks like an option name (`-x`, `--x`), and never when it
 * starts with a minus and a digit.
 */
export function valueOption<O extends OptionText>(option: O) {
  return { ...option, type: 'string', requiresArg: true } as const;
}

/** An integer option, parsed by {@link intArg} when the arguments are parsed (exit 2 when wrong). */
export function intOption<O extends OptionText>(name: string, range: Range, option: O) {
  return { ...valueOption(option), coerce: (v: unknown) => intArg(`--${name}`, v, range) } as const;
}

/** A number option, parsed by {@link numberArg} when the arguments are parsed. */
export function numberOption<O extends OptionText>(
  name: string,
  range: Range & { above?: number },
  option: O,
) {
  return { ...valueOption(option), coerce: (v: unknown) => numberArg(`--${name}`, v, range) } as const;
}

/** A list of `count` comma-separated numbers (integers with `integers`), parsed by {@link numberListArg}. */
export function numberListOption<O extends OptionText>(
  name: string,
  count: number,
  option: O,
  { integers = false }: { integers?: boolean } = {},
) {
  return {
    ...valueOption(option),
    coerce: (v: unknown) => numberListArg(name, v, count, integers ? intArg : numberArg),
  } as const;
}

/**
 * A `--lake` option: every command reads the location through {@link resolveLake}, so a scheme the
 * tool cannot open, a path that is not a directory or one inside a kernel file system is refused by
 * every command alike, before anything is read or written.
 */
export function lakeOption<O extends OptionText>(option: O) {
  return { ...valueOption(option), coerce: (v: unknown) => lakeArg(String(v)) } as const;
}

/**
 * A lake location as typed, checked and in the form to open (an s3:// URL or an absolute path).
 * @throws {UsageError} for a location no lake can be at (the library's INVALID_ARGUMENT message)
 */
export function lakeArg(lake: string): string {
  try {
    return resolveLake(lake);
  } catch (error) {
    if (error instanceof OctaError && error.code === 'INVALID_ARGUMENT') throw new UsageError(error.message);
    throw error;
  }
}

/**
 * A lake that must exist already (every command but ingest and demo): an s3:// URL, or a directory.
 * @throws {UsageError} naming the location and the forms a lake takes
 */
export function existingLake(lake: string): string {
  return mustExist(lakeArg(lake));
}

/** A location {@link lakeArg} returned, when a lake can be there already (s3://, or a directory). */
function mustExist(location: string): string {
  if (isS3Lake(location) || (existsSync(location) && statSync(location).isDirectory())) {
    return location;
  }
  throw new UsageError(
    `no lake at ${location}: --lake must name an existing lake directory or an s3://bucket/prefix URL`,
  );
}

const S3_ENDPOINT_OPTION = {
  type: 'string',
  default: process.env.OCTA_S3_ENDPOINT || undefined,
  defaultDescription: '$OCTA_S3_ENDPOINT',
  describe: 'endpoint of an S3-compatible service for an s3:// lake, e.g. http://127.0.0.1:9000',
} as const;

/**
 * Declares `--lake` ({@link lakeOption}: read through the library's `resolveLake`, so every
 * command refuses the same locations) and `--s3-endpoint` (default `$OCTA_S3_ENDPOINT`): the one
 * place the commands that open a lake declare them.
 * @param y - the command's builder
 * @param lake - `--lake`'s description, default or demandOption
 */
export function lakeOptions<T, O extends OptionText>(y: Argv<T>, lake: O) {
  return y.option('lake', lakeOption(lake)).option('s3-endpoint', S3_ENDPOINT_OPTION);
}

/** What `--lake` and `--s3-endpoint` leave in the parsed arguments. */
export interface LakeArgs {
  /** As {@link lakeOption} resolved it: an s3:// URL or an absolute path. */
  lake: string;
  s3Endpoint?: string | undefined;
}

/**
 * Opens the lake's storage, runs `task` on it and closes the storage in `finally` (an S3 client's
 * connections), whether `task` succeeds or throws: every command that works on a lake's storage
 * opens it here.
 * @param a - the parsed `--lake` and `--s3-endpoint`
 * @param options.create - false (default): the lake must exist already; true: a local lake
 *   directory is created when missing (ingest, demo)
 * @returns what `task` returns
 * @throws {UsageError} when the lake must exist and does not; whatever opening the storage or
 *   `task` throws
 */
export async function withStorage<T>(
  a: LakeArgs,
  task: (storage: Storage) => Promise<T>,
  { create = false }: { create?: boolean } = {},
): Promise<T> {
  const location = create ? a.lake : mustExist(a.lake);
  const { openStorage } = await import('../src/index.js');
  const storage = await openStorage(location, a.s3Endpoint === undefined ? {} : { s3Endpoint: a.s3Endpoint });
  try {
    return await task(storage);
  } finally {
    storage.close();
  }
}

/**
 * Marks operands so that yargs takes them as they are: everything after the first `--` (POSIX:
 * operands, even when they start with a minus) and a lone `-` (stdin), which yargs would drop
 * (yargs/yargs#1312). yargs itself keeps what follows `--` out of a command's positionals.
 * @param args - the arguments after the program name
 * @returns the arguments to hand to yargs, without the `--`
 */
export function markOperands(args: readonly string[]): string[] {
  const end = args.indexOf('--');
  const out: string[] = [];
  args.forEach((arg, i) => {
    if (i === end) return;
    out.push((end !== -1 && i > end) || arg === '-' ? `${OPERAND}${arg}` : arg);
  });
  return out;
}

// A NUL cannot occur in a real argument, so a marked operand is never confused with one.
const OPERAND = '\u0000operand:';

/** Text with the operand marks of {@link markOperands} taken out (values, messages). */
export function unmarkText(text: string): string {
  return text.replaceAll(OPERAND, '');
}

/**
 * Takes the marks of {@link markOperands} out of the parsed arguments (a yargs middleware that
 * runs before validation, so that messages and handlers see what the user typed).
 */
export function unmarkOperands(argv: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(argv)) {
    if (typeof value === 'string') argv[key] = unmarkText(value);
    else if (Array.isArray(value)) argv[key] = value.map((v) => (typeof v === 'string' ? unmarkText(v) : v));
  }
}
