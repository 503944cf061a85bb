/**
 * The threads an ingest runs and how it opens its input files: one thread per core beside the main
 * one, and a reader thread for a large text file only where a core is left for it.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { inferFormat, openSource, type Source, type SourceFormat } from '../sources/index.js';
import { canThreadSources, openThreadedSource } from '../sources/threaded.js';

/**
 * Text files smaller than this are parsed on the main thread: a thread's start-up (~0.2 s of CPU to
 * load and compile its modules) costs more than it saves below a few hundred thousand rows.
 */
export const THREADED_SOURCE_BYTES = 8 * 2 ** 20;

/**
 * The threads an ingest runs beside its main thread, one per core: encoder threads (at most two)
 * first, then a reader thread for a text file once four cores leave room for it. On two cores the
 * main thread parses, converts and routes while one thread encodes: measured against a reader
 * thread and two encoders there, the same wall time or less with about a third less CPU, since each
 * thread loads and compiles its own modules and every chunk crosses threads twice
 * (bench/RESULTS.md, issue 16).
 * @param cores - `os.availableParallelism()`
 */
export function ingestThreads(cores: number): { readerThread: boolean; encoders: number } {
  return { readerThread: cores >= 4, encoders: Math.max(1, Math.min(2, cores - 1)) };
}

/**
 * Opens a file input; a CSV or NDJSON file of `THREADED_SOURCE_BYTES` or more is parsed on a worker
 * thread when the compiled worker exists and `ingestThreads` gives it one. A named pipe, `/dev/fd/N` of a process substitution or a
 * character device is read once, as a stream, on this thread.
 */
export async function openFileSource(path: string, format: SourceFormat | undefined): Promise<Source> {
  const f = format ?? inferFormat(path);
  const text = f === 'csv' || f === 'ndjson';
  if (
    text &&
    ingestThreads(availableParallelism()).readerThread &&
    canThreadSources() &&
    fileSize(path) >= THREADED_SOURCE_BYTES
  ) {
    return openThreadedSource({ path, format: f });
  }
  return openSource({ path, ...(format ? { format } : {}) });
}

/** The size of a regular file (or a link to one), or -1 for anything else. */
function fileSize(path: string): number {
  try {
    const stat = statSync(path);
    return stat.isFile() ? stat.size : -1;
  } catch {
    return -1;
  }
}
