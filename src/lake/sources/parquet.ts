/**
 * Parquet source through hyparquet, one row group at a time over ranged reads of a file handle, so
 * memory holds one row group's columns (compressed and decoded), never the file; a row group longer
 * than `chunkRows` is cut into several chunks. Stdin is spooled to a temporary file first, since the
 * footer comes last. Types map as in parquet-columns.ts.
 *
 * Why not parquet-wasm's async reader: it unwraps decode errors inside a spawned task, so a corrupt
 * page aborts the whole process with an uncatchable `RuntimeError: unreachable`. hyparquet is plain
 * JavaScript and throws ordinary errors. Codecs: SNAPPY and UNCOMPRESSED built in, GZIP and BROTLI
 * through node:zlib, ZSTD and LZ4 through hyparquet-compressors when it is installed.
 * DECIMAL columns of precision ≤ 18 are read as their unscaled integers (hyparquet would round
 * them to doubles); wider ones as doubles, which may map coordinates and are refused as payload.
 */
import { open } from 'node:fs/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { AsyncBuffer, Compressors, DecodedArray, FileMetaData } from 'hyparquet';
import { OctaError } from '../../lattice/errors.js';
import { chunksOnce, sliceColumn, typedChunk } from './chunk.js';
import { corrupt, ioError } from './errors.js';
import type { ByteInput } from './input.js';
import {
  MICROSECOND_PARSERS,
  parquetToColumnData,
  parquetToSourceColumns,
  rawDecimalMetadata,
} from './parquet-columns.js';
import type { ColumnData, Source, SourceChunk, SourceColumn } from './types.js';

const BUILT_IN: Compressors = {
  GZIP: (input) => gunzipSync(input),
  BROTLI: (input) => brotliDecompressSync(input),
};
const NATIVE = new Set(['UNCOMPRESSED', 'SNAPPY']);

let codecs: Promise<Compressors> | undefined;

/** hyparquet-compressors when installed (it adds ZSTD and LZ4), else what Node has built in. */
function loadCompressors(): Promise<Compressors> {
  codecs ??= import('hyparquet-compressors').then(
    (module) => ({ ...BUILT_IN, ...module.compressors }),
    () => BUILT_IN,
  );
  return codecs;
}

/** Checks the footer frame: `<footer length:u32 LE>PAR1` at the end, length within the file. */
function checkFooter(tail: Uint8Array, size: number, name: string): void {
  const text = String.fromCharCode(...tail.subarray(4, 8));
  if (size < 12 || text !== 'PAR1') {
    throw new OctaError(
      'INVALID_INPUT',
      `${name}: Parquet file is truncated: it does not end with PAR1`,
      name,
    );
  }
  const footer = new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
  if (footer + 12 > size) {
    throw new OctaError(
      'INVALID_INPUT',
      `${name}: Parquet footer length ${footer} exceeds the file (${size} bytes)`,
      name,
    );
  }
}

/**
 * Opens a Parquet input and reads its footer.
 * @param input - the bytes, already checked to start with PAR1
 * @returns the source
 * @throws {OctaError} INVALID_INPUT for a truncated or corrupt file or a codec that is not available
 */
export async function openParquetSource(input: ByteInput): Promise<Source> {
  // Loaded at first use, so that importing octa-lake does not load the Parquet reader.
  const { parquetMetadataAsync, parquetRead, parquetSchema } = await import('hyparquet');
  const path = await input.filePath();
  const handle = await open(path, 'r').catch((error: unknown) => Promise.reject(ioError(input.name, error)));
  let metadata: FileMetaData;
  let columns: SourceColumn[];
  let compressors: Compressors;
  const file: AsyncBuffer = {
    byteLength: 0,
    async slice(start, end) {
      const length = (end ?? file.byteLength) - start;
      const buffer = new Uint8Array(length);
      const { bytesRead } = await handle.read(buffer, 0, length, start);
      if (bytesRead !== length)
        throw new Error(`the file ended at byte ${start + bytesRead}, before ${start + length}`);
      return buffer.buffer;
    },
  };
  try {
    file.byteLength = (await handle.stat()).size;
    const tail = new Uint8Array(
      file.byteLength >= 8 ? await file.slice(file.byteLength - 8) : new ArrayBuffer(0),
    );
    checkFooter(tail, file.byteLength, input.name);
    try {
      metadata = await parquetMetadataAsync(file, { parsers: MICROSECOND_PARSERS });
      columns = parquetToSourceColumns(parquetSchema(metadata));
    } catch (error) {
      throw corrupt(input.name, 'Parquet', error);
    }
    compressors = await loadCompressors();
    const missing = metadata.row_groups
      .flatMap((g) => g.columns.map((c) => c.meta_data?.codec))
      .find((codec) => codec !== undefined && !NATIVE.has(codec) && compressors[codec] === undefined);
    if (missing !== undefined) {
      throw new OctaError(
        'INVALID_INPUT',
        `${input.name}: Parquet file uses ${missing} compression, which this reader cannot decode (ZSTD and LZ4 need the hyparquet-compressors package); rewrite the file with snappy, gzip or zstd`,
        missing,
      );
    }
  } catch (error) {
    await handle.close();
    throw error;
  }
  let closed = false;

  async function* read(chunkRows: number, selected: SourceColumn[]): AsyncGenerator<SourceChunk> {
    const readMetadata = rawDecimalMetadata(
      metadata,
      new Set(selected.filter((c) => c.type === 'decimal').map((c) => c.name)),
    );
    let groupStart = 0;
    for (const group of metadata.row_groups) {
      const rows = Number(group.num_rows);
      const parts = new Map<string, { start: number; data: DecodedArray }[]>();
      try {
        await parquetRead({
          file,
          metadata: readMetadata,
          rowStart: groupStart,
          rowEnd: groupStart + rows,
          columns: selected.map((c) => c.name),
          compressors,
          parsers: MICROSECOND_PARSERS,
          // Byte arrays without a string annotation come as bytes, checked to be UTF-8 text.
          utf8: false,
          onChunk: ({ columnName, columnData, rowStart }) => {
            const list = parts.get(columnName) ?? [];
            list.push({ start: rowStart - groupStart, data: columnData });
            parts.set(columnName, list);
          },
        });
      } catch (error) {
        throw corrupt(input.name, 'Parquet', error);
      }
      const whole: Record<string, ColumnData> = {};
      for (const column of selected) {
        whole[column.name] = parquetToColumnData(
          assemble(parts.get(column.name) ?? [], rows, column.name),
          column.type,
          column.scale,
        );
      }
      for (let start = 0; start < rows; start += chunkRows) {
        const end = Math.min(rows, start + chunkRows);
        const part: Record<string, ColumnData> = {};
        for (const [name, data] of Object.entries(whole)) {
          part[name] = start === 0 && end === rows ? data : sliceColumn(data, start, end);
        }
        yield typedChunk(groupStart + start + 1, part, end - start);
      }
      groupStart += rows;
    }
  }

  /** Joins a column's decoded pieces into one array of the row group's rows. */
  function assemble(
    pieces: { start: number; data: DecodedArray }[],
    rows: number,
    name: string,
  ): DecodedArray {
    const first = pieces[0];
    if (pieces.length === 1 && first !== undefined && first.start === 0 && first.data.length === rows)
      return first.data;
    const out = new Array<unknown>(rows).fill(null);
    let covered = 0;
    for (const { start, data } of pieces) {
      for (let i = Math.max(0, -start); i < data.length && start + i < rows; i++) out[start + i] = data[i];
      covered += data.length;
    }
    if (covered < rows) {
      throw new OctaError(
        'INVALID_INPUT',
        `${input.name}: Parquet column "${name}" has fewer values than its row group`,
        name,
      );
    }
    return out;
  }

  return {
    format: 'parquet',
    columns,
    identity: input.identity,
    chunks: chunksOnce(columns, input.name, ({ chunkRows, selected }) => read(chunkRows, selected)),
    async close() {
      if (!closed) {
        closed = true;
        await handle.close();
      }
      await input.close();
    },
  };
}
