/**
 * Undecoded bytes of an input, a block at a time, for parsers that scan bytes (CSV): the consumed
 * prefix is dropped on every refill, so memory holds one block plus the record that straddles it.
 * A leading UTF-8 byte order mark is dropped. Scanning bytes instead of decoded text is exact for
 * UTF-8 (every delimiter, quote and line break is one ASCII byte, and ASCII bytes never occur
 * inside a multi-byte character), avoids decoding numbers only to parse them, and makes every
 * position a byte offset.
 */
import { OctaError } from '../../lattice/errors.js';
import type { ByteInput } from './input.js';
import { MAX_RECORD_BYTES } from './types.js';

const BOM = [0xef, 0xbb, 0xbf] as const;

/** Bytes read from an input, with the input offset of their first byte. */
export class ByteFeed {
  readonly #blocks: AsyncIterator<Uint8Array>;
  readonly #name: string;
  /** Bytes not yet dropped; `bytes[pos..]` is still to be parsed. A Buffer, for `toString`. */
  bytes: Buffer = Buffer.alloc(0);
  pos = 0;
  /** Whether `bytes` reaches the end of the input. */
  eof = false;
  /** Offset in the input of `bytes[0]`. */
  #offset = 0;
  #bomChecked = false;

  private constructor(input: ByteInput) {
    this.#blocks = input.blocks()[Symbol.asyncIterator]();
    this.#name = input.name;
  }

  /**
   * @param input - the byte input, unread
   * @returns a feed with no bytes yet
   */
  static create(input: ByteInput): ByteFeed {
    return new ByteFeed(input);
  }

  /**
   * Drops the consumed bytes and appends the next block.
   * @returns false once the input is exhausted (then `eof` is true)
   * @throws {OctaError} INVALID_INPUT when one unconsumed record grows past `MAX_RECORD_BYTES`
   */
  async more(): Promise<boolean> {
    if (this.eof) return false;
    const next = await this.#blocks.next();
    const rest = this.bytes.subarray(this.pos);
    this.#offset += this.pos;
    this.pos = 0;
    if (next.done) {
      this.eof = true;
      this.bytes = rest;
    } else {
      if (rest.length > MAX_RECORD_BYTES) {
        throw new OctaError(
          'INVALID_INPUT',
          `${this.#name}: a record is longer than ${MAX_RECORD_BYTES} bytes near byte ${this.#offset}; an unterminated quote or a wrong delimiter is likely`,
          this.#name,
        );
      }
      const block = next.value;
      const bytes = Buffer.allocUnsafe(rest.length + block.length);
      bytes.set(rest, 0);
      bytes.set(block, rest.length);
      this.bytes = bytes;
    }
    this.#dropBom();
    return !next.done || rest.length > 0;
  }

  #dropBom(): void {
    if (this.#bomChecked) return;
    const b = this.bytes;
    if (b.length < BOM.length && !this.eof) return;
    this.#bomChecked = true;
    if (b.length >= BOM.length && BOM.every((v, i) => b[i] === v)) {
      this.bytes = b.subarray(BOM.length);
      this.#offset += BOM.length;
    }
  }

  /**
   * Whether the input may still start with a byte order mark (fewer than three bytes seen):
   * parsers wait for more bytes before reading anything.
   */
  get undecided(): boolean {
    return !this.#bomChecked;
  }

  /** @returns the input offset of `bytes[pos]` */
  bytePosition(): number {
    return this.#offset + this.pos;
  }
}
