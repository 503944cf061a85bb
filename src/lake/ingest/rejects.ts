/**
 * The reject file: one JSON object per rejected row (`{"source","row","line","reason","text"}`),
 * opened (replacing a file of an earlier run) only when the first reject arrives, so a clean run
 * leaves no file behind.
 */

import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { OctaError } from '../../lattice/errors.js';
import type { RowReject } from './convert.js';

/** Appends rejects to a file as NDJSON. */
export class RejectSink {
  readonly path: string | null;
  #out: WriteStream | null = null;
  #count = 0;
  /** A write that failed after the file opened (disk full): reported by the next add or close. */
  #error: unknown = undefined;

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
      try {
        mkdirSync(dirname(this.path), { recursive: true });
        // One file describes one run: a file left by an earlier run with the same path is replaced.
        const out = createWriteStream(this.path, { flags: 'w' });
        out.on('error', (error) => {
          this.#error ??= error;
        });
        this.#out = out;
        await once(out, 'open');
      } catch (error) {
        throw this.#failed(error);
      }
    }
    this.#check();
    let text = '';
    for (const r of rejects) text += `${JSON.stringify({ source, ...r })}\n`;
    if (!this.#out.write(text)) {
      // A stream that fails while full never drains: wait for either.
      await Promise.race([once(this.#out, 'drain'), once(this.#out, 'close')]).catch((error: unknown) => {
        throw this.#failed(error);
      });
    }
    this.#check();
  }

  #failed(error: unknown): OctaError {
    const why = error instanceof Error ? error.message : String(error);
    return new OctaError('IO_ERROR', `cannot write the reject file ${this.path}: ${why}`, this.path);
  }

  #check(): void {
    if (this.#error !== undefined) throw this.#failed(this.#error);
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    const out = this.#out;
    this.#out = null;
    if (out) {
      if (!out.destroyed) {
        out.end();
        await Promise.race([once(out, 'finish'), once(out, 'close')]).catch((error: unknown) => {
          this.#error ??= error;
        });
      }
      this.#check();
    }
  }
}
