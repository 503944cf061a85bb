/**
 * yargs, built from its own factory with a Node platform layer whose help-text parts (cliui,
 * string-width, wrap-ansi) load at first use. yargs's `index.mjs` builds the same layer with those
 * parts imported up front, and string-width's Unicode-property regular expressions alone take
 * about 50 ms to set up; a command that prints no help never needs them. Everything else is what
 * `yargs/lib/platform-shims/esm.mjs` of the pinned yargs 18.2.0 provides, resolved from yargs's
 * own folder so that its dependencies are the ones it declares.
 */
import { notStrictEqual, strictEqual } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import type { Argv } from 'yargs';

type Yargs = (args: readonly string[]) => Argv;

/** yargs's entry; its factory and its dependencies resolve from there. */
const ENTRY = import.meta.resolve('yargs');
/** `require` from yargs's folder: its dependencies (CommonJS, or ES modules through require). */
const fromYargs = createRequire(ENTRY);
const internal = (path: string): Promise<Record<string, unknown>> => import(new URL(path, ENTRY).href);

const [{ YargsFactory }, { getProcessArgvBin }] = await Promise.all([
  internal('./build/lib/yargs-factory.js'),
  internal('./build/lib/utils/process-argv.js'),
]);

/** A dependency of yargs, loaded at its first use. */
function lazy<T>(load: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= load();
    return value;
  };
}
type Wrap = (text: string, columns: number, options?: { hard?: boolean }) => string;
type Mixin = { stringWidth: (text: string) => number; stripAnsi: (text: string) => string; wrap: Wrap };
type Cliui = (opts: unknown, mixin: Mixin) => unknown;
/** cliui's layout engine without its own bundle of string-width, strip-ansi and wrap-ansi. */
const cliuiCore = lazy(() => {
  const entry = pathToFileURL(fromYargs.resolve('cliui'));
  return (fromYargs(fileURLToPath(new URL('./build/lib/index.js', entry))) as { cliui: Cliui }).cliui;
});
/** What cliui's own entry gives its layout engine: the full Unicode- and ANSI-aware text functions. */
const fullText = lazy(() => {
  const fromCliui = createRequire(fromYargs.resolve('cliui'));
  const def = <T>(name: string) => (fromCliui(name) as { default: T }).default;
  return {
    stringWidth: def<(text: string) => number>('string-width'),
    stripAnsi: def<(text: string) => string>('strip-ansi'),
    wrap: def<Wrap>('wrap-ansi'),
  };
});
const findUp = lazy(() => fromYargs('escalade/sync') as (dir: string, fn: unknown) => string | undefined);
const getCallerFile = lazy(() => fromYargs('get-caller-file') as (depth: number) => string);
const Parser = fromYargs('yargs-parser');
const y18n = fromYargs('y18n') as (opts: { directory: string; updateFiles: boolean }) => unknown;

/**
 * Plain text: printable ASCII and a few one-column signs that help texts use, each one UTF-16 code
 * unit and unchanged by Unicode normalisation, so its terminal width is its length.
 */
const PLAIN = /^[\x20-\x7e…±×÷°·²³→←≤≥≠−–—]*$/;

/** string-width's answer: the length for plain text, else string-width itself. */
export function textWidth(text: string): number {
  return PLAIN.test(text) ? text.length : fullText().stringWidth(text);
}

/** strip-ansi's answer: the text itself when it holds no escape introducer, else strip-ansi itself. */
export function stripAnsi(text: string): string {
  return text.includes('\u001b') || text.includes('\u009b') ? fullText().stripAnsi(text) : text;
}

/**
 * wrap-ansi's answer with the options cliui uses (`{ hard: true }`): for lines of plain text,
 * wrap-ansi 9's word wrap with each character one column wide and no escape sequences to carry
 * over; anything else goes to wrap-ansi itself.
 */
export function wrapText(text: string, columns: number, options?: { hard?: boolean }): string {
  const lines = text.replaceAll('\r\n', '\n').split('\n');
  if (options?.hard !== true || Object.keys(options).length !== 1 || !lines.every((l) => PLAIN.test(l))) {
    return fullText().wrap(text, columns, options);
  }
  return lines.map((line) => wrapLine(line, columns)).join('\n');
}

/** wrap-ansi's `exec` for one line of plain text, hard wrap, trimmed. */
function wrapLine(line: string, columns: number): string {
  if (line.trim() === '') return '';
  const rows = [''];
  for (const [index, word] of line.split(' ').entries()) {
    rows[rows.length - 1] = rows.at(-1)!.trimStart();
    let rowLength = rows.at(-1)!.length;
    if (index !== 0 && rowLength > 0) {
      rows[rows.length - 1] += ' ';
      rowLength++;
    }
    if (word.length > columns) {
      const breaksStartingThisLine = 1 + Math.floor((word.length - (columns - rowLength) - 1) / columns);
      const breaksStartingNextLine = Math.floor((word.length - 1) / columns);
      if (breaksStartingNextLine < breaksStartingThisLine) rows.push('');
      wrapWord(rows, word, columns);
      continue;
    }
    if (rowLength + word.length > columns && rowLength > 0 && word.length > 0) rows.push('');
    rows[rows.length - 1] += word;
  }
  return rows.map((row) => row.replace(/ +$/, '')).join('\n');
}

/** wrap-ansi's `wrapWord`: a word longer than a row, cut across rows. */
function wrapWord(rows: string[], word: string, columns: number): void {
  let visible = rows.at(-1)!.length;
  for (let index = 0; index < word.length; index++) {
    const character = word.charAt(index);
    if (visible + 1 <= columns) {
      rows.push(`${rows.pop()}${character}`);
    } else {
      rows.push(character);
      visible = 0;
    }
    visible++;
    if (visible === columns && index < word.length - 1) {
      rows.push('');
      visible = 0;
    }
  }
  if (!visible && rows.at(-1)!.length > 0 && rows.length > 1) {
    const last = rows.pop();
    rows.push(`${rows.pop()}${last}`);
  }
}

const entryPath = fileURLToPath(ENTRY);
const mainFilename = entryPath.substring(0, entryPath.lastIndexOf('node_modules'));

/** The platform layer of yargs's `esm.mjs`, with cliui, string-width, escalade and get-caller-file loaded on use. */
const shim = {
  assert: { notStrictEqual, strictEqual },
  cliui: (opts: unknown) => cliuiCore()(opts, { stringWidth: textWidth, stripAnsi, wrap: wrapText }),
  findUp: (dir: string, fn: unknown) => findUp()(dir, fn),
  getEnv: (key: string) => process.env[key],
  inspect,
  getProcessArgvBin,
  mainFilename: mainFilename || process.cwd(),
  Parser,
  path: { basename, dirname, extname, relative, resolve, join },
  process: {
    argv: () => process.argv,
    cwd: process.cwd,
    emitWarning: (warning: string, type: string) => process.emitWarning(warning, type),
    execPath: () => process.execPath,
    exit: (code: number) => process.exit(code),
    nextTick: process.nextTick,
    stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null,
  },
  readFileSync,
  readdirSync,
  require: fromYargs,
  getCallerFile: () => {
    const callerFile = getCallerFile()(3);
    return /^file:\/\//.test(callerFile) ? fileURLToPath(callerFile) : callerFile;
  },
  stringWidth: textWidth,
  y18n: y18n({ directory: resolve(entryPath, '../locales'), updateFiles: false }),
};

const factory = (YargsFactory as (shim: unknown) => Yargs)(shim);

/** The parts of yargs's internals that {@link yargs} reaches. */
interface Internals {
  getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } };
}

/**
 * yargs over these arguments, as `import yargs from 'yargs'` gives it, except that it does not
 * render the help text after a command's handler has started. yargs keeps that text for a handler
 * that shows help later; octa's handlers never do, and rendering it costs a successful run as much
 * as printing `--help`.
 */
export function yargs(args: readonly string[]): Argv {
  const cli = factory(args);
  (cli as unknown as Internals).getInternalMethods().getUsageInstance().cacheHelpMessage = () => {};
  return cli;
}
