/**
 * A text source parsed on a worker thread: the worker runs `openSource` and sends chunks back (two
 * ahead of the consumer at most), so parsing CSV/NDJSON overlaps with converting and routing rows
 * on the main thread. Used by the ingest for files when the compiled worker script exists.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { OctaError, type OctaErrorCode } from '../../lattice/errors.js';
import type { ChunkOptions, Source, SourceChunk, SourceFormat } from './types.js';

const SCRIPT = fileURLToPath(new URL('./source-worker.js', import.meta.url));

/** What the worker says. */
export type SourceWorkerMessage =
  | { type: 'open'; source: Pick<Source, 'format' | 'columns' | 'identity' | 'lasHeader'> }
  | { type: 'chunk'; chunk: SourceChunk }
  | { type: 'end' }
  | { type: 'error'; code?: string; message: string; value?: unknown; params?: readonly string[] };

/** Whether sources can be parsed on a worker thread here (the compiled worker script exists). */
export function canThreadSources(): boolean {
  return existsSync(SCRIPT);
}

function toError(m: { code?: string; message: string; value?: unknown; params?: readonly string[] }): Error {
  return m.code
    ? new OctaError(
        m.code as OctaErrorCode,
        m.message.replace(/ \(code: [A-Z_]+(, value: .*)?\)$/s, ''),
        m.value,
        { params: m.params ?? [] },
      )
    : new Error(m.message);
}

/**
 * Opens a file source on a worker thread.
 * @throws {OctaError} as `openSource` does
 */
export async function openThreadedSource({
  path,
  format,
}: {
  path: string;
  format?: SourceFormat;
}): Promise<Source> {
  const worker = new Worker(SCRIPT, { workerData: { path, format } });
  const queue: SourceWorkerMessage[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  worker.on('message', (m: SourceWorkerMessage) => {
    queue.push(m);
    wake?.();
  });
  worker.on('error', (err) => {
    failure = err;
    wake?.();
  });
  const next = async (): Promise<SourceWorkerMessage> => {
    while (queue.length === 0) {
      if (failure) throw failure;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
    }
    return queue.shift()!;
  };
  const first = await next();
  if (first.type === 'error') {
    await worker.terminate();
    throw toError(first);
  }
  if (first.type !== 'open') throw new Error(`source worker sent ${first.type} before open`);
  let started = false;
  return {
    ...first.source,
    async *chunks(options: ChunkOptions = {}) {
      if (started) throw new OctaError('INVALID_ARGUMENT', 'chunks() can be called once per source');
      started = true;
      worker.postMessage({ type: 'chunks', options });
      worker.postMessage({ type: 'pull' });
      worker.postMessage({ type: 'pull' });
      for (;;) {
        const m = await next();
        if (m.type === 'end') return;
        if (m.type === 'error') throw toError(m);
        if (m.type !== 'chunk') continue;
        worker.postMessage({ type: 'pull' });
        yield m.chunk;
      }
    },
    async close() {
      await worker.terminate();
    },
  };
}
