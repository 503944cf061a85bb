/**
 * Progress for long jobs on stderr: a redrawn bar on a terminal, a plain line at the first update
 * and then every few seconds otherwise (logs, CI, pipes), nothing with `quiet`.
 */
export interface ProgressReporter {
  update(text: string, fraction?: number): void;
  done(): void;
}

/** A reporter for the current stderr. */
export function createProgress({ quiet = false, intervalMs = 5000 } = {}): ProgressReporter {
  if (quiet) return { update() {}, done() {} };
  const tty = process.stderr.isTTY === true;
  // Not a terminal: the first update prints at once (a log shows the job started), then one line per interval.
  let last = 0;
  let drawn = false;
  return {
    update(text, fraction) {
      const now = Date.now();
      if (tty) {
        if (now - last < 100) return;
        last = now;
        const width = 24;
        const bar =
          fraction === undefined
            ? ''
            : `[${'#'.repeat(Math.round(Math.min(1, fraction) * width)).padEnd(width, '.')}] ${(100 * Math.min(1, fraction)).toFixed(0).padStart(3)}% `;
        process.stderr.write(`\r\x1b[2K${bar}${text}`);
        drawn = true;
      } else if (now - last >= intervalMs) {
        last = now;
        process.stderr.write(`octa: ${text}\n`);
      }
    },
    done() {
      if (tty && drawn) process.stderr.write('\r\x1b[2K');
    },
  };
}
