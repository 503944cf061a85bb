/**
 * How the CLI talks: JSON with 64-bit integers as strings, one-line errors, exit codes, and a quiet
 * exit when the reader of a pipe goes away.
 */
import { OctaError } from '../src/lattice/errors.js';
import { SIGNAL_EXIT } from './interrupt.js';

/** Exit codes: 0 success, 1 a failure while running, 2 bad arguments or bad input named on the command line. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const USAGE_CODES = new Set([
  'INVALID_ARGUMENT',
  'INVALID_LOD',
  'INVALID_TIER',
  'INVALID_FRAME',
  'INVALID_PARITY',
  'OUT_OF_RANGE',
  'OUT_OF_DOMAIN',
  'INVALID_ID',
  'INVALID_BECH32',
]);

/** JSON text with bigints written as decimal strings. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), indent);
}

/** Writes one line to stdout. */
export function println(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Prints the error as one line on stderr and sets the exit code (2 for usage errors, 1 otherwise). */
export function fail(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`octa: ${message.split('\n')[0]}\n`);
  if (err instanceof OctaError && err.code === 'INTERRUPTED') {
    // Stopped by a signal (cli/interrupt.ts): 128 + its number.
    process.exitCode = SIGNAL_EXIT[String(err.value)] ?? SIGNAL_EXIT.SIGINT!;
    return;
  }
  const usage = err instanceof OctaError ? USAGE_CODES.has(err.code) : err instanceof UsageError;
  process.exitCode = usage ? EXIT_USAGE : EXIT_FAILURE;
}

/** An argument error found by the CLI itself (exit code 2). */
export class UsageError extends Error {}

/** Ends quietly when stdout is a closed pipe (`octa ... | head`). */
export function handleClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

/**
 * Parses a strict integer argument (yargs gives strings for positionals declared as strings).
 * @throws {UsageError} naming the argument
 */
export function intArg(name: string, value: unknown): number {
  const text = String(value).trim();
  if (!/^-?\d+$/.test(text)) throw new UsageError(`${name} must be an integer, got ${JSON.stringify(value)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new UsageError(`${name} is out of range: ${text}`);
  return n;
}

/**
 * Parses a finite number argument.
 * @throws {UsageError} naming the argument
 */
export function numberArg(name: string, value: unknown): number {
  const text = String(value).trim();
  const n = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(n))
    throw new UsageError(`${name} must be a finite number, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * Parses a comma-separated list of `count` numbers, e.g. a box `X0,Y0,Z0,X1,Y1,Z1`.
 * @throws {UsageError} naming the option
 */
export function numberListArg(name: string, value: unknown, count: number, parse = numberArg): number[] {
  const parts = String(value).split(',');
  if (parts.length !== count) {
    throw new UsageError(`--${name} takes ${count} comma-separated numbers, got ${JSON.stringify(value)}`);
  }
  return parts.map((p, i) => parse(`--${name} value ${i + 1}`, p));
}

/** Formats rows of objects as an aligned text table (64-bit integers and dates as text). */
export function formatTable(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) =>
    v === null || v === undefined ? 'NULL' : typeof v === 'object' ? toJson(v) : String(v);
  const text = rows.map((r) => cols.map((c) => cell(r[c])));
  // A loop, not Math.max(...): spreading one argument per row overflows the stack past ~125,000 rows.
  const widths = cols.map((c, i) => text.reduce((w, t) => Math.max(w, t[i]!.length), c.length));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const lines = [line(cols), line(widths.map((w) => '-'.repeat(w)))];
  for (const t of text) lines.push(line(t));
  return lines.join('\n');
}
