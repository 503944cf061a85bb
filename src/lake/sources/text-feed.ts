/**
 * Decoded text of a byte input, a block at a time: UTF-8 (a leading BOM is dropped, invalid bytes
 * become U+FFFD, which makes byte positions after them approximate), with the consumed prefix
 * dropped on every refill so memory holds one block plus the record that straddles it.
 */
import { OctaError } from '../../lattice/errors.js';
import type { ByteInput } from './input.js';
import { MAX_RECORD_CHARS } from './types.js';

/** Text decoded from a byte input, with the byte offset of its first character. */
export class TextFeed {
  private readonly blocks: AsyncIterator<Uint8Array>;
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private readonly name: string;
  /** Decoded text not yet dropped; `text[pos..]` is still to be parsed. */
  text = '';
  pos = 0;
  /** Whether `text` reaches the end of the input. */
  eof = false;
  /** Byte offset in the input of `text[0]`. */
  private textByte = 0;
  private started = false;

  private constructor(input: ByteInput) {
    this.blocks = input.blocks()[Symbol.asyncIterator]();
    this.name = input.name;
  }

  /**
   * @param input - the byte input, unread
   * @returns a feed with no text yet
   */
  static create(input: ByteInput): TextFeed {
    return new TextFeed(input);
  }

  /**
   * Drops the consumed text and appends the next block.
   * @returns false once the input is exhausted (then `eof` is true)
   * @throws {OctaError} INVALID_INPUT when one unconsumed record grows past `MAX_RECORD_CHARS`
   */
  async more(): Promise<boolean> {
    if (this.eof) return false;
    const next = await this.blocks.next();
    const decoded = next.done ? this.decoder.decode() : this.decoder.decode(next.value, { stream: true });
    if (next.done) this.eof = true;
    let rest = this.text;
    if (this.pos > 0) {
      this.textByte += Buffer.byteLength(rest.slice(0, this.pos), 'utf8');
      rest = rest.slice(this.pos);
      this.pos = 0;
    }
    if (!this.started && decoded.length > 0) {
      this.started = true;
      if (decoded.charCodeAt(0) === 0xfeff) {
        this.text = decoded.slice(1);
        this.textByte = 3;
        return true;
      }
    }
    if (rest.length > MAX_RECORD_CHARS) {
      throw new OctaError(
        'INVALID_INPUT',
        `${this.name}: a record is longer than ${MAX_RECORD_CHARS} characters near byte ${this.textByte}; an unterminated quote or a wrong delimiter is likely`,
        this.name,
      );
    }
    this.text = rest + decoded;
    return !this.eof || decoded.length > 0;
  }

  /** @returns the byte offset of `text[pos]` */
  bytePosition(): number {
    return this.textByte + Buffer.byteLength(this.text.slice(0, this.pos), 'utf8');
  }
}
