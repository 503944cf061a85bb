/**
 * SIGINT and SIGTERM during a write: the run is aborted where a failure would stop it, so it removes
 * the files it wrote and commits nothing (a commit already made stays), and the process exits with
 * 130 or 143 as shells expect. A second signal stops at once.
 */
import { OctaError } from '../src/options.js';

/** Exit codes after a signal: 128 + its number. */
export const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs a write with an abort signal tied to SIGINT and SIGTERM.
 * @param run - the write, given the signal to pass to the library
 * @returns what the run returns (the exit code is still 130/143 when a signal came after its commit)
 * @throws {OctaError} INTERRUPTED (value: the signal's name) when the signal stopped the run
 */
export async function interruptible<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handler = (name: NodeJS.Signals) => {
    if (received !== undefined) process.exit(SIGNAL_EXIT[name]);
    received = name;
    process.stderr.write(`octa: ${name}: stopping and removing the files this run has not committed\n`);
    controller.abort(
      new OctaError('INTERRUPTED', `interrupted by ${name}; files not committed were removed`, name),
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await run(controller.signal);
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    if (received !== undefined) process.exitCode = SIGNAL_EXIT[received];
  }
}
