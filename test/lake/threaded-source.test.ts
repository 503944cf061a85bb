/**
 * A CSV or NDJSON file parsed on a worker thread (the compiled build's source worker, as `octa
 * ingest` runs it for files of 8 MiB or more from four cores) delivers the very chunks the same file parsed on this
 * thread does: numbers, times read from the bytes and the texts left to the time grammar, nulls,
 * invalid fields, rejects, row and line numbers; and an error keeps its code across the thread.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ingestThreads } from '../../src/lake/ingest/threads.js';
import {
  type ChunkOptions,
  type ColumnData,
  openSource,
  type Source,
  type SourceChunk,
} from '../../src/lake/sources/index.js';

const DIST = join(import.meta.dirname, '..', '..', 'dist', 'src', 'lake', 'sources', 'threaded.js');
const dir = mkdtempSync(join(tmpdir(), 'octa-threaded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type OpenThreaded = (o: { path: string; format?: 'csv' | 'ndjson' }) => Promise<Source>;

async function threaded(): Promise<OpenThreaded> {
  const mod = (await import(pathToFileURL(DIST).href)) as {
    canThreadSources: () => boolean;
    openThreadedSource: OpenThreaded;
  };
  expect(mod.canThreadSources()).toBe(true);
  return mod.openThreadedSource;
}

/** A chunk as plain data (typed arrays as lists, maps as entries), for a deep comparison. */
function plain(chunk: SourceChunk): unknown {
  const column = (c: ColumnData) =>
    Object.fromEntries(
      Object.entries(c).map(([k, v]) => [
        k,
        v instanceof Map
          ? [...v]
          : ArrayBuffer.isView(v)
            ? Array.from(v as unknown as ArrayLike<unknown>)
            : v,
      ]),
    );
  return {
    ...chunk,
    rowNumbers: [...chunk.rowNumbers],
    lineNumbers: chunk.lineNumbers ? [...chunk.lineNumbers] : undefined,
    columns: Object.fromEntries(Object.entries(chunk.columns).map(([k, c]) => [k, column(c)])),
  };
}

async function chunks(source: Source, options: ChunkOptions): Promise<unknown[]> {
  const out: unknown[] = [];
  try {
    for await (const chunk of source.chunks(options)) out.push(plain(chunk));
  } finally {
    await source.close();
  }
  return out;
}

describe('a source on a worker thread', () => {
  it('delivers the same CSV chunks as on this thread, times and numbers read from the bytes', async () => {
    const path = join(dir, 'mixed.csv');
    writeFileSync(
      path,
      [
        'x,t,label',
        '402.9774283990264,2025-04-06T12:55:03.893Z,a',
        '15.173694188706577,1743944103,"b ""quoted"""',
        '1e5,2025-04-11T05:13:37.203+02:00,c',
        '12a,2025-13-01,d',
        ',,',
        '7,2025-04-06T12:55:60Z,f',
        '3.5,2025-04-06T12:55:03Z,h,extra',
        '0.5,"2025-04-06",i',
        '',
      ].join('\r\n'),
    );
    const options: ChunkOptions = { chunkRows: 3, numeric: ['x'], time: { column: 't', unit: 's' } };
    const here = await chunks(await openSource({ path }), options);
    const there = await chunks(await (await threaded())({ path, format: 'csv' }), options);
    expect(there).toEqual(here);
    expect(here.length).toBe(3);
    const first = here[0] as { columns: Record<string, { type: string; text: unknown[] }> };
    expect(first.columns.t).toMatchObject({ type: 'event_time', text: [] });
  });

  it('delivers the same NDJSON chunks, and keeps an error code across the thread', async () => {
    const path = join(dir, 'rows.ndjson');
    writeFileSync(
      path,
      '{"x":1.5,"t":"2025-04-06"}\n{"x":"no","t":1743944103}\nnot json\n{"x":2,"t":null}\n',
    );
    const options: ChunkOptions = { chunkRows: 2, numeric: ['x'], time: { column: 't', unit: 's' } };
    const here = await chunks(await openSource({ path }), options);
    const open = await threaded();
    expect(await chunks(await open({ path, format: 'ndjson' }), options)).toEqual(here);
    const source = await open({ path, format: 'ndjson' });
    await expect(chunks(source, { numeric: ['nope'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('ingestThreads', () => {
  it('gives one thread per core beside the main one: encoders first, a reader from four cores', () => {
    expect([1, 2, 3, 4, 16].map((cores) => ingestThreads(cores))).toEqual([
      { readerThread: false, encoders: 1 },
      { readerThread: false, encoders: 1 },
      { readerThread: false, encoders: 2 },
      { readerThread: true, encoders: 2 },
      { readerThread: true, encoders: 2 },
    ]);
  });
});
