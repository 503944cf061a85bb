/**
 * LAZ source through the laz-rs decompressor that @loaders.gl/las ships (WebAssembly). The loader's
 * public API decodes only positions, intensity, classification and 8-bit colour, all points at once;
 * we drive its decompressor directly for raw point records, a chunk at a time, and decode them with
 * the LAS record decoder, so LAS and LAZ give identical columns and bit-identical coordinates.
 *
 * Memory: the decompressor takes the whole compressed file (it is copied into the WebAssembly heap,
 * which never shrinks), so a LAZ input is held whole; the decompressed points are not.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OctaError } from '../../lattice/errors.js';
import { chunksOnce, typedChunk } from './chunk.js';
import { corrupt, ioError, messageOf } from './errors.js';
import type { ByteInput } from './input.js';
import { type LasHeader, LasPointCheck, lasColumns } from './las-header.js';
import { lasRecordsToColumns } from './las-records.js';
import type { Source, SourceChunk } from './types.js';

/** The part of laz-rs-wasm we use. */
interface LazRs {
  initSync(options: { module: Uint8Array }): unknown;
  WasmLasZipDecompressor: new (
    bytes: Uint8Array,
  ) => {
    header: { point_size: number; num_points: bigint };
    decompress_many(out: Uint8Array): void;
    free(): void;
  };
}

let lazRs: Promise<LazRs> | undefined;
// A decode error can leave the wasm instance in an unknown state (a value stuck as borrowed, or worse
// after a panic); the next load then imports a fresh instance: a new URL is a new ES module with its
// own memory.
let generation = 0;

/**
 * Loads laz-rs-wasm from the installed @loaders.gl/las (pinned in package.json). Its package exports
 * do not list the file, so it is imported by path; Node's `fetch` cannot load the wasm from a file
 * URL, so the bytes are read and instantiated synchronously.
 */
function loadLazRs(): Promise<LazRs> {
  lazRs ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve('@loaders.gl/las')), 'libs', 'laz-rs-wasm');
    const url = `${pathToFileURL(join(dir, 'laz_rs_wasm.js')).href}${generation > 0 ? `?instance=${generation}` : ''}`;
    const module = (await import(url)) as LazRs;
    module.initSync({ module: await readFile(join(dir, 'laz_rs_wasm_bg.wasm')) });
    return module;
  })().catch((error: unknown) => {
    lazRs = undefined;
    throw new OctaError(
      'IO_ERROR',
      `cannot load the LAZ decompressor from @loaders.gl/las: ${messageOf(error)}; reinstall dependencies`,
    );
  });
  return lazRs;
}

async function readAll(input: ByteInput): Promise<Uint8Array> {
  if (input.identity.kind === 'file') {
    try {
      return await readFile(input.identity.path);
    } catch (error) {
      throw ioError(input.name, error);
    }
  }
  const parts: Uint8Array[] = [];
  for await (const block of input.blocks()) parts.push(block);
  return Buffer.concat(parts);
}

/**
 * Checks the LAZ chunk table pointer, the first 8 bytes of the point data: a file cut short loses
 * its chunk table, which the pointer then points past. (-1 means the writer could not seek back.)
 */
function checkChunkTable(bytes: Uint8Array, header: LasHeader, name: string): void {
  const at = header.offsetToPoints;
  if (bytes.length < at + 8) {
    throw new OctaError(
      'INVALID_INPUT',
      `${name}: LAZ file is truncated before its point data (${bytes.length} bytes)`,
      name,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const table = view.getBigInt64(at, true);
  if (table !== -1n && (table < BigInt(at + 8) || table + 8n > BigInt(bytes.length))) {
    throw new OctaError(
      'INVALID_INPUT',
      `${name}: LAZ file is truncated or corrupt: its chunk table is at byte ${table} but the file has ${bytes.length} bytes`,
      name,
    );
  }
}

/** The chunk size of the laszip VLR (user "laszip encoded", record 22204), or undefined. */
function lazChunkSize(bytes: Uint8Array, header: LasHeader): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vlrs = view.getUint32(100, true);
  for (let i = 0, at = header.headerSize; i < vlrs && at + 54 <= header.offsetToPoints; i++) {
    const user = new TextDecoder().decode(bytes.subarray(at + 2, at + 18)).replace(/\0+$/, '');
    const length = view.getUint16(at + 20, true);
    if (user === 'laszip encoded' && view.getUint16(at + 18, true) === 22204 && length >= 16)
      return view.getUint32(at + 54 + 12, true);
    at += 54 + length;
  }
  return undefined;
}

/**
 * Holds the header's point count against the chunk table: with chunks of a fixed size S, n chunks
 * hold more than (n - 1) S and at most n S points. A wrong count inside the last chunk cannot be
 * seen without decoding past it, which the decompressor cannot do safely (see docs/LAKE.md).
 */
function checkChunkCount(bytes: Uint8Array, header: LasHeader, name: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const table = view.getBigInt64(header.offsetToPoints, true);
  const size = lazChunkSize(bytes, header);
  if (table === -1n || size === undefined || size === 0xffffffff || size === 0) return;
  if (Number(table) + 8 > bytes.length) return;
  const chunks = view.getUint32(Number(table) + 4, true);
  const { count } = header.info;
  if (count > chunks * size || count <= (chunks - 1) * size || (chunks === 0) !== (count === 0)) {
    throw new OctaError(
      'INVALID_INPUT',
      `${name}: the LAZ header's point count ${count} disagrees with the file: it holds ${chunks} chunks of up to ${size} points`,
      { field: 'point count', count, chunks, chunkSize: size },
    );
  }
}

/**
 * Opens a LAZ input whose header is already parsed; reads the whole compressed file.
 * @param input - the bytes
 * @param header - the parsed header (compressed)
 * @returns the source
 * @throws {OctaError} INVALID_INPUT for a truncated or corrupt file
 */
export async function openLazSource(input: ByteInput, header: LasHeader): Promise<Source> {
  const { count, pointFormat } = header.info;
  const module = await loadLazRs();
  let decompressor: InstanceType<LazRs['WasmLasZipDecompressor']> | undefined;
  {
    const bytes = await readAll(input);
    checkChunkTable(bytes, header, input.name);
    checkChunkCount(bytes, header, input.name);
    try {
      decompressor = new module.WasmLasZipDecompressor(bytes);
    } catch (error) {
      throw corrupt(input.name, 'LAZ', error);
    }
  }
  if (decompressor.header.point_size !== header.recordLength) {
    decompressor.free();
    throw new OctaError(
      'INVALID_INPUT',
      `${input.name}: LAZ record size ${decompressor.header.point_size} differs from the header's ${header.recordLength}`,
      input.name,
    );
  }
  const release = () => {
    const d = decompressor;
    decompressor = undefined;
    try {
      d?.free();
    } catch {
      // After a panic wasm-bindgen may refuse to free a value it thinks is still borrowed.
    }
  };
  const columns = lasColumns(pointFormat);

  async function* read(chunkRows: number, names: string[]): AsyncGenerator<SourceChunk> {
    const check = new LasPointCheck(header, input.name);
    for (let done = 0; done < count; ) {
      const n = Math.min(chunkRows, count - done);
      const records = new Uint8Array(n * header.recordLength);
      if (decompressor === undefined)
        throw new OctaError('INVALID_ARGUMENT', 'the source is closed', input.name);
      try {
        decompressor.decompress_many(records);
      } catch (error) {
        release();
        lazRs = undefined;
        generation++;
        throw new OctaError(
          'INVALID_INPUT',
          `${input.name}: LAZ point data is truncated or corrupt at points ${done + 1}-${done + n} of ${count}: ${messageOf(error)}`,
          input.name,
        );
      }
      check.add(records, n);
      yield typedChunk(done + 1, lasRecordsToColumns({ records, count: n, header, names }), n);
      done += n;
    }
    release();
    check.finish();
  }

  return {
    format: 'laz',
    columns,
    identity: input.identity,
    lasHeader: header.info,
    chunks: chunksOnce(columns, input.name, ({ chunkRows, selected }) =>
      read(
        chunkRows,
        selected.map((c) => c.name),
      ),
    ),
    async close() {
      release();
      await input.close();
    },
  };
}
