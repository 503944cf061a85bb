/**
 * Parquet source through parquet-wasm's async reader (arrow-rs): it reads a row group's column
 * chunks with ranged reads of a file-backed Blob and decodes them `chunkRows` rows at a time, so
 * memory holds one row group's compressed columns plus one batch, never the file. Every codec
 * arrow-rs knows works (zstd, snappy, gzip, brotli, lz4), which the pure-JS reader would need extra
 * packages for. Batches arrive as Arrow and convert like the Arrow source (see arrow-columns.ts):
 * DOUBLE/FLOAT → float64, INT32 → int32, INT64 → int64, TIMESTAMP/INT96/DATE → timestamp_us,
 * BOOLEAN → bool, strings → text. Stdin is spooled to a temporary file first: the footer is at the end.
 */
import { openAsBlob } from 'node:fs';
import { open } from 'node:fs/promises';
import { type RecordBatch, RecordBatchReader, tableFromIPC } from 'apache-arrow';
import { ParquetFile, type RecordBatch as WasmRecordBatch } from 'parquet-wasm';
import { OctaError } from '../../lattice/errors.js';
import { recordBatchesToChunks } from './arrow.js';
import { arrowToSourceColumns } from './arrow-columns.js';
import { planChunks } from './chunk.js';
import { corrupt, ioError } from './errors.js';
import type { ByteInput } from './input.js';
import type { Source, SourceColumn } from './types.js';

/** Checks the footer frame: `<footer length:u32 LE>PAR1` at the end, length within the file. */
async function checkFooter(path: string, name: string): Promise<void> {
  let tail: Buffer;
  let size: number;
  try {
    const handle = await open(path, 'r');
    try {
      size = (await handle.stat()).size;
      tail = Buffer.alloc(8);
      if (size >= 8) await handle.read(tail, 0, 8, size - 8);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw ioError(name, error);
  }
  if (size < 12 || tail.toString('latin1', 4, 8) !== 'PAR1') {
    throw new OctaError(
      'INVALID_INPUT',
      `${name}: Parquet file is truncated: it does not end with PAR1`,
      name,
    );
  }
  const footer = tail.readUInt32LE(0);
  if (footer + 12 > size) {
    throw new OctaError(
      'INVALID_INPUT',
      `${name}: Parquet footer length ${footer} exceeds the file (${size} bytes)`,
      name,
    );
  }
}

async function* arrowBatches(stream: ReadableStream<WasmRecordBatch>): AsyncGenerator<RecordBatch> {
  for await (const wasmBatch of stream as unknown as AsyncIterable<WasmRecordBatch>) {
    const table = tableFromIPC(wasmBatch.intoIPCStream());
    yield* table.batches;
  }
}

/**
 * Opens a Parquet input and reads its footer.
 * @param input - the bytes, already checked to start with PAR1
 * @returns the source; its columns follow the Arrow schema arrow-rs derives from the file
 * @throws {OctaError} INVALID_INPUT for a truncated or corrupt file
 */
export async function openParquetSource(input: ByteInput): Promise<Source> {
  const path = await input.filePath();
  await checkFooter(path, input.name);
  let file: ParquetFile;
  let columns: SourceColumn[];
  try {
    file = await ParquetFile.fromFile(await openAsBlob(path));
  } catch (error) {
    throw corrupt(input.name, 'Parquet', error);
  }
  try {
    const reader = RecordBatchReader.from(file.schema().intoIPCStream());
    reader.open();
    columns = arrowToSourceColumns(reader.schema.fields);
  } catch (error) {
    file.free();
    throw corrupt(input.name, 'Parquet', error);
  }
  let used = false;
  let freed = false;
  return {
    format: 'parquet',
    columns,
    identity: input.identity,
    chunks(options) {
      if (used)
        throw new OctaError('INVALID_ARGUMENT', 'chunks() of a source can be read only once', input.name);
      const { chunkRows, selected } = planChunks(columns, options);
      used = true;
      const fail = (error: unknown) => corrupt(input.name, 'Parquet', error);
      async function* batches(): AsyncGenerator<RecordBatch> {
        let stream: ReadableStream<WasmRecordBatch>;
        try {
          const names = selected.length === columns.length ? {} : { columns: selected.map((c) => c.name) };
          stream = await file.stream({ batchSize: chunkRows, ...names });
        } catch (error) {
          throw fail(error);
        }
        yield* arrowBatches(stream);
      }
      return recordBatchesToChunks(batches(), options, columns, fail);
    },
    async close() {
      if (!freed) {
        freed = true;
        file.free();
      }
      await input.close();
    },
  };
}
