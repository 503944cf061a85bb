/**
 * Progress for long jobs on stderr: a redrawn bar on a terminal, a plain line at the first update,
 * then every few seconds, and the last one at the end otherwise (logs, CI, pipes), so the final line
 * names the final count; nothing with `quiet`.
 */
export interface ProgressReporter {
  /** `fields`: the same figures as data, for structured logs. */
  update(text: string, fraction?: number, fields?: Record<string, unknown>): void;
  /**
   * The job ended: clears the bar on a terminal; otherwise prints the last update if it was held
   * back, unless `finished` is false (a failed job ends with its error, not a count).
   */
  done(finished?: boolean): void;
}

/** One structured log line on stderr: `{"ts","level","msg",...fields}` (`--log-format json`). */
export function jsonLog(level: 'info' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields })}\n`);
}

/** Progress as JSON log lines: the first update, then one every `intervalMs`; nothing with `quiet`. */
export function jsonProgress(quiet: boolean, intervalMs = 5000): ProgressReporter {
  let last = Number.NEGATIVE_INFINITY;
  return {
    update(_text, fraction, fields = {}) {
      const now = Date.now();
      if (quiet || now - last < intervalMs) return;
      last = now;
      jsonLog('info', 'progress', { ...fields, ...(fraction === undefined ? {} : { fraction }) });
    },
    done() {},
  };
}

/** A reporter for the current stderr. */
export function createProgress({ quiet = false, intervalMs = 5000 } = {}): ProgressReporter {
  if (quiet) return { update() {}, done() {} };
  const tty = process.stderr.isTTY === true;
  // Not a terminal: the first update prints at once (a log shows the job started), then one line per
  // interval, and the last update at the end if the interval held it back.
  let last = 0;
  let drawn = false;
  let held: string | undefined;
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
        held = undefined;
        process.stderr.write(`octa: ${text}\n`);
      } else held = text;
    },
    done(finished = true) {
      if (tty && drawn) process.stderr.write('\r\x1b[2K');
      if (!tty && finished && held !== undefined) process.stderr.write(`octa: ${held}\n`);
      held = undefined;
    },
  };
}
