/**
 * Storage (DESIGN §4): the object-store view of a lake that every backend implements, the local
 * file system now and S3 later. A key is a '/'-separated path relative to the lake root, exactly as
 * an S3 object key below the lake's prefix; directories are not objects, and an object is only ever
 * replaced whole, so a reader sees the old bytes or the new ones, never a mix.
 */
import { OctaError } from '../../lattice/errors.js';

/** One stored object. */
export interface StorageEntry {
  /** Key relative to the lake root, e.g. `_octa/log/00000000000000000001.json`. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** Last modification, milliseconds since the epoch. */
  mtimeMs: number;
}

/** What the lake needs from a storage backend; every method validates its key first. */
export interface Storage {
  /** Where the lake lives, for messages: `file:///abs/path` or `s3://bucket/prefix`. */
  readonly url: string;
  /**
   * Reads a whole object.
   * @throws {OctaError} NOT_FOUND when the object is absent; IO_ERROR when the backend fails
   */
  read(key: string): Promise<Uint8Array>;
  /**
   * Reads `length` bytes from `offset`; shorter (possibly empty) when the object ends first.
   * @throws {OctaError} NOT_FOUND when the object is absent; INVALID_ARGUMENT for a bad offset or length
   */
  readRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  /** Creates or replaces an object whole; readers never see it partly written. */
  write(key: string, data: Uint8Array): Promise<void>;
  /**
   * Creates an object only if no object has the key, atomically and exclusively even across
   * processes and machines: of many concurrent attempts exactly one returns true.
   * @returns true when this call created the object, false when the key already existed
   */
  writeIfAbsent(key: string, data: Uint8Array): Promise<boolean>;
  /**
   * Every object whose key starts with `prefix` (a plain string prefix, as S3 lists: `a/b` matches
   * `a/b`, `a/bc` and `a/b/c`), recursively, sorted by key in UTF-8 byte order ({@link compareKeys}).
   * With `startAfter`, only keys after it in that order (S3's StartAfter); a backend may return more,
   * so a caller that depends on it filters too.
   */
  list(prefix: string, startAfter?: string): Promise<StorageEntry[]>;
  /** The object's entry, or null when it is absent. */
  stat(key: string): Promise<StorageEntry | null>;
  /** Deletes an object; deleting an absent one is not an error. */
  delete(key: string): Promise<void>;
  /** A file path that DuckDB can read directly, or null when the object is remote. */
  localPath(key: string): string | null;
  /**
   * Releases what the storage holds (an S3 client's connections; nothing for a local directory).
   * Whoever opened the storage closes it, once, when done; the storage is not used after.
   */
  close(): void;
}

/**
 * Names starting with this are a backend's temporary files: never listed, never valid keys.
 */
export const TEMP_PREFIX = '.tmp-';
/** Longest key, in UTF-8 bytes (the S3 limit). */
export const MAX_KEY_BYTES = 1024;

// Control characters (C0, DEL, C1) and unpaired UTF-16 surrogates, which have no UTF-8 form.
const BAD_CHAR = /[\p{Cc}\p{Cs}]/u;
const KEY_RULE =
  "keys are '/'-separated paths relative to the lake root: no leading '/', no empty, '.' or '..' segment, " +
  `no backslash or control character, no segment starting ${TEMP_PREFIX}, at most ${MAX_KEY_BYTES} UTF-8 bytes`;

function segmentProblem(segment: string): string | null {
  if (segment === '') return 'empty segment';
  if (segment === '.' || segment === '..') return `'${segment}' segment`;
  if (segment.startsWith(TEMP_PREFIX))
    return `segment starting ${TEMP_PREFIX} (reserved for temporary files)`;
  return null;
}

function textProblem(text: string): string | null {
  if (typeof text !== 'string') return 'not a string';
  if (text.includes('\\')) return 'backslash';
  if (BAD_CHAR.test(text)) return 'control character or unpaired surrogate';
  if (Buffer.byteLength(text, 'utf8') > MAX_KEY_BYTES) return `longer than ${MAX_KEY_BYTES} bytes`;
  return null;
}

/**
 * Checks an object key.
 * @param key - e.g. `points/lod=12/t=2024-05-01/r=0/part-a-1.parquet`
 * @returns the same key
 * @throws {OctaError} INVALID_ARGUMENT naming the key and the rule it breaks
 */
export function checkKey(key: string): string {
  const problem = textProblem(key) ?? (key.startsWith('/') ? "leading '/'" : null);
  const segment =
    problem ??
    key
      .split('/')
      .map(segmentProblem)
      .find((p) => p !== null);
  if (problem !== null || segment !== undefined) {
    throw new OctaError('INVALID_ARGUMENT', `invalid storage key (${problem ?? segment}); ${KEY_RULE}`, key);
  }
  return key;
}

/**
 * Checks a list prefix: empty (the whole lake), or a key's leading part, which may end with '/'
 * or stop inside a segment.
 * @param prefix - e.g. `_octa/log/` or `points/lod=12/t=2024-05`
 * @returns the same prefix
 * @throws {OctaError} INVALID_ARGUMENT naming the prefix and the rule it breaks
 */
export function checkPrefix(prefix: string): string {
  const problem = textProblem(prefix) ?? (prefix.startsWith('/') ? "leading '/'" : null);
  const whole = typeof prefix === 'string' ? prefix.split('/').slice(0, -1) : [];
  const segment = problem ?? whole.map(segmentProblem).find((p) => p !== null);
  if (problem !== null || segment !== undefined) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `invalid storage prefix (${problem ?? segment}); ${KEY_RULE}`,
      prefix,
    );
  }
  return prefix;
}

// UTF-16 code unit → a rank in UTF-8 (code point) order: surrogates, which encode code points past
// U+FFFF, move after U+E000–U+FFFF.
const rank = (c: number) => (c < 0xd800 ? c : c < 0xe000 ? c + 0x2000 : c - 0x800);

/**
 * Orders keys as S3 lists them: by their UTF-8 bytes (which is code point order, not the UTF-16
 * order of `<`).
 * @param a - first key
 * @param b - second key
 * @returns negative, zero or positive, for `Array.prototype.sort`
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/**
 * The error for an absent object.
 * @param url - the storage's url
 * @param key - the absent key
 */
export function notFound(url: string, key: string): OctaError {
  return new OctaError('NOT_FOUND', `no object at this key in ${url}`, key);
}
