/**
 * How the CLI talks: JSON with 64-bit integers as strings, one-line errors, exit codes, and a quiet
 * exit when the reader of a pipe goes away.
 */
import { OctaError } from '../src/options.js';
import { SIGNAL_EXIT } from './interrupt.js';

/**
 * Exit codes: 0 success; 1 the data or the environment failed (an input, the lake's contents, the
 * disk, the network or a service, including a table or column the command names that is not
 * there); 2 the command line is wrong in itself (an unknown option, a value out of its range or
 * form, options that conflict, a setting the command needs but lacks, a location no lake can be at).
 */
export const EXIT_SUCCESS = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The OctaError codes that name the caller's mistake: exit code 2, HTTP 400 in `octa serve`. */
export const USAGE_CODES: ReadonlySet<string> = new Set([
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

/**
 * The CLI's name for each library parameter (and function) that errors name: a library message says
 * `timeValue`, the CLI says --time-value. Used by {@link fail} through `OctaError.renamed`.
 */
const CLI_NAMES: Readonly<Record<string, string>> = {
  'coords.lat': '--lat',
  'coords.lon': '--lon',
  'coords.height': '--height',
  'coords.depthKm': '--depth-km',
  time: '--time',
  timeValue: '--time-value',
  frame: '--frame',
  exclude: '--exclude',
  maxRejects: '--max-rejects',
  format: '--format',
  label: '--label',
  labelTable: '--label-table',
  labelColumn: '--label-column',
  labelKey: '--label-key',
  engine: '--engine',
  remoteRead: '--remote-read',
  asOf: '--as-of',
  cacheMaxBytes: '--cache-mb',
  s3Endpoint: '--s3-endpoint',
  targetRows: '--target-rows',
  minFileRows: '--min-file-rows',
  maxOperations: '--max-operations',
  shardRows: '--shard-rows',
  memoryMb: '--memory-mb',
  buffer: '--buffer',
  lod: '--lod',
  splitLod: '--split-lod',
  'verify()': 'octa verify',
  'publishTables()': 'octa catalog publish',
  'ingest()': 'octa ingest -',
};

/** An error's message as the CLI says it: library parameter names become the CLI's flags. */
export function cliMessage(err: unknown): string {
  if (err instanceof OctaError) return err.renamed((param) => CLI_NAMES[param]);
  return err instanceof Error ? err.message : String(err);
}

/** JSON text with bigints written as decimal strings. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), indent);
}

/** Writes one line to stdout. */
/**
 * Warns on stderr about Delta Lake or Iceberg views a command could not bring up to date (its
 * commit stands; the next commit or `octa catalog publish` catches them up).
 */
export function warnPublishErrors(errors: readonly string[] | undefined): void {
  for (const e of errors ?? []) {
    // The messages name library calls where a library user acts; the CLI names its commands.
    let text = e;
    for (const [param, name] of Object.entries(CLI_NAMES)) {
      if (param.endsWith('()')) text = text.replaceAll(`\`${param}\``, name);
    }
    process.stderr.write(`octa: warning: ${text} (\`octa catalog publish\`)\n`);
  }
}

export function println(text: string): void {
  process.stdout.write(`${text}\n`);
}

/**
 * Prints the error as one line on stderr.
 * @returns the exit code: 2 for an argument error, 130/143 for SIGINT/SIGTERM, 1 otherwise
 */
export function fail(err: unknown): number {
  process.stderr.write(`octa: ${cliMessage(err).split('\n')[0]}\n`);
  if (err instanceof OctaError && err.code === 'INTERRUPTED') {
    // Stopped by a signal (cli/interrupt.ts): 128 + its number.
    return SIGNAL_EXIT[String(err.value)] ?? SIGNAL_EXIT.SIGINT!;
  }
  const usage = err instanceof OctaError ? USAGE_CODES.has(err.code) : err instanceof UsageError;
  return usage ? EXIT_USAGE : EXIT_FAILURE;
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
