/**
 * Progress on stderr when it is not a terminal (logs, CI, pipes): plain lines, the first at once,
 * then one per interval, and the last update at the end so the final line names the final count.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress } from '../../cli/progress.js';

let lines: string[];
const stderr = process.stderr as { isTTY?: boolean };
const wasTTY = stderr.isTTY;
afterEach(() => {
  vi.restoreAllMocks();
  stderr.isTTY = wasTTY;
});

function capture(tty: boolean): void {
  lines = [];
  stderr.isTTY = tty;
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
}

describe('progress on a non-terminal', () => {
  it('ends with the final count: 44 of 44, not the first line 1 of 44', () => {
    capture(false);
    const progress = createProgress({ intervalMs: 60_000 });
    for (let i = 1; i <= 44; i++) progress.update(`${i} of 44 files checked`, i / 44);
    progress.done();
    expect(lines).toEqual(['octa: 1 of 44 files checked\n', 'octa: 44 of 44 files checked\n']);
  });

  it('prints the last line once: not again when it was just printed, nothing after a failure', () => {
    capture(false);
    const one = createProgress({ intervalMs: 60_000 });
    one.update('1 of 1 files checked', 1);
    one.done();
    expect(lines).toEqual(['octa: 1 of 1 files checked\n']);
    lines.length = 0;
    const failed = createProgress({ intervalMs: 60_000 });
    failed.update('100 rows read');
    failed.update('200 rows read');
    failed.done(false);
    expect(lines).toEqual(['octa: 100 rows read\n']);
  });

  it('prints nothing with quiet; on a terminal draws the bar and clears it', () => {
    capture(false);
    const quiet = createProgress({ quiet: true });
    quiet.update('1 of 2');
    quiet.done();
    expect(lines).toEqual([]);
    capture(true);
    const bar = createProgress();
    bar.update('1 of 2 files checked', 0.5);
    bar.done();
    expect(lines).toEqual([
      `\r\x1b[2K[${'#'.repeat(12)}${'.'.repeat(12)}]  50% 1 of 2 files checked`,
      '\r\x1b[2K',
    ]);
  });
});
