/**
 * Arrow IPC source, file or stream format, one record batch in memory at a time. A file is read with
 * random access through a file handle (stdin holding the file format is spooled to a temporary file
 * first, since its footer comes last); the stream format is read front to back, stdin included.
 * A batch longer than `chunkRows` is cut into several chunks.
 */
import { type FileHandle, open } from 'node:fs/promises';
import {
  type AsyncRecordBatchFileReader,
  type AsyncRecordBatchStreamReader,
  type RecordBatch,
  RecordBatchReader,
} from 'apache-arrow';
import { arrowToColumnData, arrowToSourceColumns } from './arrow-columns.js';
import { chunksOnce, planChunks, sliceColumn, typedChunk } from './chunk.js';
import { corrupt, ioError } from './errors.js';
import { magicOf } from './format.js';
import type { ByteInput } from './input.js';
import type { ChunkOptions, ColumnData, Source, SourceChunk, SourceColumn } from './types.js';

/**
 * Cuts record batches into chunks of at most `chunkRows` rows of the selected columns.
 * @param batches - the batches, in order
 * @param options - `chunks()` options
 * @param columns - the source's columns
 * @param onError - turns a read error into the error to throw
 * @returns the chunks
 */
export async function* recordBatchesToChunks(
  batches: AsyncIterable<RecordBatch>,
  options: ChunkOptions | undefined,
  columns: readonly SourceColumn[],
  onError: (error: unknown) => Error,
): AsyncGenerator<SourceChunk> {
  const { chunkRows, selected } = planChunks(columns, options);
  const iterator = batches[Symbol.asyncIterator]();
  let rowsBefore = 0;
  for (;;) {
    let next: IteratorResult<RecordBatch>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw onError(error);
    }
    if (next.done) return;
    const batch = next.value;
    const whole: Record<string, ColumnData> = {};
    for (const { name } of selected) {
      const index = batch.schema.fields.findIndex((f) => f.name === name);
      whole[name] = arrowToColumnData(batch.data.children[index]!, batch.schema.fields[index]!.type);
    }
    for (let start = 0; start < batch.numRows; start += chunkRows) {
      const end = Math.min(batch.numRows, start + chunkRows);
      const part: Record<string, ColumnData> = {};
      for (const [name, data] of Object.entries(whole)) {
        part[name] = start === 0 && end === batch.numRows ? data : sliceColumn(data, start, end);
      }
      yield typedChunk(rowsBefore + start + 1, part, end - start);
    }
    rowsBefore += batch.numRows;
  }
}

/**
 * Opens an Arrow IPC input (file or stream format) and reads its schema.
 * @param input - the bytes, already checked to start with ARROW1 or a continuation marker
 * @returns the source; its columns follow the schema (see arrow-columns.ts)
 * @throws {OctaError} INVALID_INPUT when the schema cannot be read
 */
export async function openArrowSource(input: ByteInput): Promise<Source> {
  const isFile = magicOf(await input.head(8)) === 'arrow-file';
  let handle: FileHandle | undefined;
  let reader: AsyncRecordBatchFileReader | AsyncRecordBatchStreamReader;
  try {
    if (isFile) {
      const path = await input.filePath();
      try {
        handle = await open(path, 'r');
      } catch (error) {
        throw ioError(path, error);
      }
      reader = (await RecordBatchReader.from(handle)) as AsyncRecordBatchFileReader;
    } else {
      reader = (await RecordBatchReader.from(input.blocks())) as AsyncRecordBatchStreamReader;
    }
    await reader.open();
    if (reader.schema === undefined || reader.schema === null) throw new Error('no schema message');
  } catch (error) {
    await handle?.close();
    throw corrupt(input.name, 'Arrow IPC', error);
  }
  const columns = arrowToSourceColumns(reader.schema.fields);
  const close = async () => {
    try {
      await reader.cancel();
    } finally {
      try {
        await handle?.close();
        handle = undefined;
      } finally {
        await input.close();
      }
    }
  };
  return {
    format: 'arrow',
    columns,
    identity: input.identity,
    chunks: chunksOnce(columns, input.name, (_plan, options) =>
      recordBatchesToChunks(reader, options, columns, (error) => corrupt(input.name, 'Arrow IPC', error)),
    ),
    close,
  };
}
