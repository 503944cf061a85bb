/**
 * A remote-like Storage for tests: a real LocalStorage underneath, but with no local paths (as S3)
 * and counting every whole and ranged read per key, so a test can tell exactly which objects a
 * reader fetched.
 */
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import type { Storage, StorageEntry } from '../../src/lake/storage/storage.js';

/** Reads of one key. */
export interface ReadCount {
  read: number;
  readRange: number;
}

/** A LocalStorage seen as a remote store: `localPath` is null and reads are counted. */
export class RemoteLikeStorage implements Storage {
  readonly url: string;
  readonly inner: LocalStorage;
  /** Reads per key since the last {@link resetCounts}. */
  readonly reads = new Map<string, ReadCount>();

  private constructor(inner: LocalStorage, url: string) {
    this.inner = inner;
    this.url = url;
  }

  /**
   * @param options.root - the lake directory underneath
   * @param options.url - the url it reports (default `s3://octa-test/<dir name>`)
   */
  static async create({ root, url }: { root: string; url?: string }): Promise<RemoteLikeStorage> {
    const inner = await LocalStorage.create({ root });
    return new RemoteLikeStorage(inner, url ?? `s3://octa-test/${inner.root.split('/').pop()}`);
  }

  #count(key: string, kind: keyof ReadCount): void {
    const c = this.reads.get(key) ?? { read: 0, readRange: 0 };
    c[kind]++;
    this.reads.set(key, c);
  }

  /** Forgets the read counts. */
  resetCounts(): void {
    this.reads.clear();
  }

  /** Keys read whole (GET of the object) at least once, sorted. */
  keysRead(): string[] {
    return [...this.reads]
      .filter(([, c]) => c.read > 0)
      .map(([k]) => k)
      .sort();
  }

  read(key: string): Promise<Uint8Array> {
    this.#count(key, 'read');
    return this.inner.read(key);
  }

  readRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    this.#count(key, 'readRange');
    return this.inner.readRange(key, offset, length);
  }

  write(key: string, data: Uint8Array): Promise<void> {
    return this.inner.write(key, data);
  }

  writeIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    return this.inner.writeIfAbsent(key, data);
  }

  list(prefix: string): Promise<StorageEntry[]> {
    return this.inner.list(prefix);
  }

  stat(key: string): Promise<StorageEntry | null> {
    return this.inner.stat(key);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  localPath(_key: string): string | null {
    return null;
  }

  close(): void {
    this.inner.close();
  }
}
