/** The worker of openThreadedSource: opens the source here and sends its chunks on demand. */
import { parentPort, workerData } from 'node:worker_threads';
import { OctaError } from '../../lattice/errors.js';
import { openSource } from './open.js';
import type { SourceWorkerMessage } from './threaded.js';
import type { ChunkOptions, Source, SourceChunk } from './types.js';

const port = parentPort!;
const send = (m: SourceWorkerMessage) => port.postMessage(m);
const fail = (err: unknown) =>
  send(
    err instanceof OctaError
      ? { type: 'error', code: err.code, message: err.message, value: err.value, params: err.params }
      : { type: 'error', message: err instanceof Error ? err.message : String(err) },
  );

/**
 * The buffers a chunk owns alone, moved to the main thread instead of copied: the CSV reader
 * allocates every chunk's arrays afresh; other readers may keep a buffer for the next chunk, so
 * their chunks are copied.
 */
function ownedBuffers(chunk: SourceChunk): ArrayBuffer[] {
  if (source?.format !== 'csv') return [];
  const out = new Set<ArrayBuffer>();
  const add = (v: unknown) => {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.add(v.buffer);
  };
  add(chunk.rowNumbers);
  add(chunk.lineNumbers);
  for (const column of Object.values(chunk.columns)) {
    if (column.type === 'float64') {
      add(column.values);
      add(column.valid);
    } else if (column.type === 'event_time') add(column.values);
  }
  return [...out];
}

let credits = 0;
let wake: (() => void) | null = null;
let source: Source | undefined;

port.on('message', (m: { type: 'chunks'; options: ChunkOptions } | { type: 'pull' }) => {
  if (m.type === 'pull') {
    credits++;
    wake?.();
  } else void run(m.options);
});

async function run(options: ChunkOptions): Promise<void> {
  try {
    for await (const chunk of source!.chunks(options)) {
      while (credits === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
      credits--;
      port.postMessage({ type: 'chunk', chunk } satisfies SourceWorkerMessage, ownedBuffers(chunk));
    }
    send({ type: 'end' });
  } catch (err) {
    fail(err);
  } finally {
    await source?.close();
  }
}

try {
  const { path, format } = workerData as { path: string; format?: Source['format'] };
  source = await openSource({ path, ...(format && format !== 'generated' ? { format } : {}) });
  const { format: f, columns, identity, lasHeader } = source;
  send({ type: 'open', source: { format: f, columns, identity, ...(lasHeader ? { lasHeader } : {}) } });
} catch (err) {
  fail(err);
}
