import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import { main } from '../../cli/main.js';

/** The built CLI (npm test builds it first, in `pretest`). */
export const OCTA = fileURLToPath(new URL('../../dist/cli/octa.js', import.meta.url));

/** What a run of `octa` gave. */
export interface OctaRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Options of a run: its stdin text, working directory and extra environment variables. */
export interface OctaRunOptions {
  input?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs the built `octa` in a child process; returns exit status and output. For what only a
 * process shows (the real binary's exit code, worker threads of the compiled code, the process's
 * time zone); everything else runs faster through {@link octaInProcess}.
 */
export function runOcta(args: string[], { input, cwd, env }: OctaRunOptions = {}): OctaRun {
  if (!existsSync(OCTA)) throw new Error(`${OCTA} is missing: run npm run build (npm test does)`);
  const r = spawnSync(process.execPath, [OCTA, ...args], {
    input,
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs the CLI's `main` in this process, as a spawned `octa` would run: stdout and stderr captured,
 * stdin the given text (empty when none, as a pipe that closes), `env` set and `cwd` entered for the
 * run and restored after it. Several runs must not overlap (they share the process's streams).
 */
export async function octaInProcess(
  args: string[],
  { input, cwd, env = {} }: OctaRunOptions = {},
): Promise<OctaRun> {
  let stdout = '';
  let stderr = '';
  const capture = (add: (text: string) => void) => (chunk: unknown) => {
    add(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const stdin = new PassThrough();
  stdin.end(Buffer.from(input ?? '', 'utf8'));
  const stdinProperty = Object.getOwnPropertyDescriptor(process, 'stdin')!;
  Object.defineProperty(process, 'stdin', { configurable: true, enumerable: true, get: () => stdin });
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const savedCwd = process.cwd();
  if (cwd !== undefined) process.chdir(cwd);
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture((t) => (stdout += t))),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture((t) => (stderr += t))),
    // yargs prints help through console.log.
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      stdout += `${a.join(' ')}\n`;
    }),
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => {
      stderr += `${a.join(' ')}\n`;
    }),
  ];
  try {
    const status = await main(args);
    return { status, stdout, stderr };
  } finally {
    for (const s of spies) s.mockRestore();
    process.chdir(savedCwd);
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    Object.defineProperty(process, 'stdin', stdinProperty);
  }
}
