/**
 * The reject file: one JSON object per rejected row (`{"source","row","line","reason","text"}`),
 * opened (replacing a file of an earlier run) only when the first reject arrives, so a clean run
 * leaves no file behind.
 */

import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { RowReject } from './convert.js';

/** Appends rejects to a file as NDJSON. */
export class RejectSink {
  readonly path: string | null;
  #out: WriteStream | null = null;
  #count = 0;

  private constructor(path: string | null) {
    this.path = path;
  }

  /** A sink writing to `path`, or counting only when `path` is null. */
  static create({ path }: { path: string | null }): RejectSink {
    return new RejectSink(path);
  }

  /** Rejects recorded so far. */
  get count(): number {
    return this.#count;
  }

  /** Records rejects of one source. */
  async add(source: string, rejects: readonly RowReject[]): Promise<void> {
    if (rejects.length === 0) return;
    this.#count += rejects.length;
    if (this.path === null) return;
    if (!this.#out) {
      mkdirSync(dirname(this.path), { recursive: true });
      // One file describes one run: a file left by an earlier run with the same path is replaced.
      this.#out = createWriteStream(this.path, { flags: 'w' });
    }
    let text = '';
    for (const r of rejects) text += `${JSON.stringify({ source, ...r })}\n`;
    if (!this.#out.write(text)) await once(this.#out, 'drain');
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    const out = this.#out;
    this.#out = null;
    if (out) {
      out.end();
      await once(out, 'finish');
    }
  }
}
