/**
 * Bytes in: a file or a stream (stdin) behind one interface. Readers peek at the head to check magic
 * bytes, then read blocks front to back; formats that need random access (Parquet, Arrow files) ask
 * for a file path, and a stream is spooled to a temporary file for them.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { type FileHandle, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { OctaError } from '../../lattice/errors.js';
import { ioError } from './errors.js';
import type { SourceIdentity } from './types.js';

/** Bytes per block read from a file: large enough that per-block overhead vanishes. */
export const BLOCK_BYTES = 1 << 20;

/** A byte input: a head to sniff, blocks to read in order, or a path for random access. */
export interface ByteInput {
  /** The file path, or `stdin` / `stream` for messages. */
  readonly name: string;
  readonly identity: SourceIdentity;
  /** Size in bytes when known (files). */
  readonly size: number | undefined;
  /** Up to `n` bytes from the start; does not consume anything. */
  head(n: number): Promise<Uint8Array>;
  /** The bytes from the start, in blocks; call once. */
  blocks(): AsyncIterable<Uint8Array>;
  /** A path to the bytes for random access; a stream is spooled to a temporary file first. */
  filePath(): Promise<string>;
  /** Closes handles and removes a spool file; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Opens a file as a byte input.
 * @param path - the file
 * @returns the input, with the file's size and mtime as its identity
 * (a named pipe, `/dev/fd/N` or a character device is read as a stream: it has no size and can be
 * read only once)
 * @throws {OctaError} IO_ERROR when the file is missing or unreadable, INVALID_INPUT for a directory
 */
export async function openFileInput(path: string): Promise<ByteInput> {
  let handle: FileHandle;
  let size: number;
  let mtimeMs: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (!info.isFile()) return openStreamInput(createReadStream(path), path);
    handle = await open(path, 'r');
    size = info.size;
    mtimeMs = info.mtimeMs;
  } catch (error) {
    throw ioError(path, error);
  }
  let closed = false;
  const readAt = async (position: number, length: number): Promise<Uint8Array> => {
    const buffer = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  };
  return {
    name: path,
    identity: { kind: 'file', path, size, mtimeMs },
    size,
    head: (n) => readAt(0, Math.min(n, size)).catch((error: unknown) => Promise.reject(ioError(path, error))),
    async *blocks() {
      let position = 0;
      for (;;) {
        let block: Uint8Array;
        try {
          block = await readAt(position, BLOCK_BYTES);
        } catch (error) {
          throw ioError(path, error);
        }
        if (block.length === 0) return;
        position += block.length;
        yield block;
      }
    },
    filePath: async () => path,
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

/**
 * Wraps a readable stream (stdin) as a byte input. The head is buffered and replayed; `filePath()`
 * spools the whole stream to a temporary directory that `close()` removes.
 * @param stream - the stream, not yet read
 * @param name - name for messages (default `stdin`)
 * @returns the input
 */
export function openStreamInput(stream: NodeJS.ReadableStream, name = 'stdin'): ByteInput {
  const iterator = (stream as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
  const pending: Uint8Array[] = [];
  let buffered = 0;
  let ended = false;
  let consumed = false;
  let spoolDir: string | undefined;

  const pull = async (): Promise<Uint8Array | null> => {
    if (ended) return null;
    let result: IteratorResult<Uint8Array | string>;
    try {
      result = await iterator.next();
    } catch (error) {
      throw ioError(name, error);
    }
    if (result.done) {
      ended = true;
      return null;
    }
    const value = result.value;
    return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  };

  const takeAll = async function* (): AsyncGenerator<Uint8Array> {
    if (consumed) throw new OctaError('INVALID_ARGUMENT', 'a stream input can be read only once', name);
    consumed = true;
    while (pending.length > 0) yield pending.shift()!;
    for (;;) {
      const block = await pull();
      if (block === null) return;
      if (block.length > 0) yield block;
    }
  };

  return {
    name,
    identity: { kind: 'stream' },
    size: undefined,
    async head(n) {
      while (buffered < n) {
        const block = await pull();
        if (block === null) break;
        pending.push(block);
        buffered += block.length;
      }
      const all = Buffer.concat(pending);
      return all.subarray(0, Math.min(n, all.length));
    },
    blocks: takeAll,
    async filePath() {
      if (spoolDir !== undefined) return join(spoolDir, 'input');
      spoolDir = await mkdtemp(join(tmpdir(), 'octa-spool-'));
      const path = join(spoolDir, 'input');
      const out = createWriteStream(path);
      try {
        for await (const block of takeAll()) {
          if (!out.write(block)) await new Promise<void>((resolve) => out.once('drain', resolve));
        }
        out.end();
        await finished(out);
      } catch (error) {
        out.destroy();
        throw ioError(path, error);
      }
      return path;
    },
    async close() {
      const dir = spoolDir;
      spoolDir = undefined;
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Reads exact byte counts from a sequence of blocks, for record formats read front to back.
 */
export class BlockReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private current: Uint8Array = new Uint8Array(0);
  private offset = 0;
  /** Bytes handed out or skipped so far. */
  position = 0;

  private constructor(blocks: AsyncIterable<Uint8Array>) {
    this.iterator = blocks[Symbol.asyncIterator]();
  }

  /**
   * @param blocks - the input's blocks
   * @returns a reader at byte 0
   */
  static create(blocks: AsyncIterable<Uint8Array>): BlockReader {
    return new BlockReader(blocks);
  }

  /**
   * Reads `n` bytes into a fresh array.
   * @param n - bytes wanted
   * @returns exactly `n` bytes, or fewer only at the end of the input
   */
  async read(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.offset === this.current.length && !(await this.refill())) break;
      const take = Math.min(n - filled, this.current.length - this.offset);
      out.set(this.current.subarray(this.offset, this.offset + take), filled);
      this.offset += take;
      filled += take;
    }
    this.position += filled;
    return filled === n ? out : out.subarray(0, filled);
  }

  /**
   * Skips `n` bytes.
   * @param n - bytes to skip
   * @returns the bytes actually skipped (fewer only at the end of the input)
   */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.offset === this.current.length && !(await this.refill())) break;
      const take = Math.min(left, this.current.length - this.offset);
      this.offset += take;
      left -= take;
    }
    this.position += n - left;
    return n - left;
  }

  private async refill(): Promise<boolean> {
    const next = await this.iterator.next();
    if (next.done) return false;
    this.current = next.value;
    this.offset = 0;
    return true;
  }
}
