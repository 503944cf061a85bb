/**
 * The Storage contract (src/lake/storage/storage.ts) as tests any backend must pass: whole-object round
 * trips, ranges, directories that are not objects, no partly written object ever visible,
 * create-exclusive writes under contention, listing in UTF-8 byte order by plain string prefix, and
 * key validation on every method. Backend-specific checks (temporary files, local paths, error
 * mapping) stay in each backend's own tests.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/lake/storage/storage.js';
import { checkKey } from '../../src/lake/storage/storage.js';
import { OctaError } from '../../src/lattice/errors.js';
import { prng } from '../prng.js';

/** A fresh, empty storage for one test, and how to release it. */
export interface ContractSubject {
  storage: Storage;
  close(): Promise<void>;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const textOf = (data: Uint8Array) => new TextDecoder().decode(data);

/** The OctaError a call throws (fails the test when it throws something else or nothing). */
export async function errorOf(promise: Promise<unknown> | (() => unknown)): Promise<OctaError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(OctaError);
    return error as OctaError;
  }
  throw new Error('expected an OctaError');
}

/** Keys that every backend must refuse. */
export const BAD_KEYS = [
  '',
  '/a',
  'a/',
  'a//b',
  '..',
  '../a',
  'a/../b',
  'a/..',
  '.',
  'a/./b',
  'a\\b',
  'a\u0000b',
  'a\nb',
  'a\u007fb',
  'a\ud800b',
  '.tmp-x',
  'a/.tmp-1/b',
  'x'.repeat(1025),
];

/**
 * Registers the contract tests for one backend.
 * @param name - the backend, for test names
 * @param open - a fresh, empty storage per test
 */
export function describeStorageContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`${name}: the Storage contract`, () => {
    let subject: ContractSubject;
    let storage: Storage;

    beforeEach(async () => {
      subject = await open();
      storage = subject.storage;
    });

    afterEach(async () => {
      await subject.close();
    });

    it('writes, reads, replaces and deletes whole objects', async () => {
      const key = 'points/lod=7/t=2024-05-01/r=0000000000000000/part-a-1.parquet';
      expect(await storage.stat(key)).toBeNull();
      await storage.write(key, bytes('first version'));
      const read = await storage.read(key);
      expect(read.constructor).toBe(Uint8Array);
      expect(textOf(read)).toBe('first version');
      await storage.write(key, bytes('second'));
      expect(textOf(await storage.read(key))).toBe('second');
      const stat = await storage.stat(key);
      expect(stat?.key).toBe(key);
      expect(stat?.size).toBe(6);
      expect(Math.abs((stat?.mtimeMs ?? 0) - Date.now())).toBeLessThan(60_000);
      await storage.delete(key);
      expect(await storage.stat(key)).toBeNull();
      await storage.delete(key);
      const error = await errorOf(storage.read(key));
      expect(error.code).toBe('NOT_FOUND');
      expect(error.value).toBe(key);
      expect(error.message).toContain(storage.url);
      expect((await errorOf(storage.readRange(key, 0, 1))).code).toBe('NOT_FOUND');
      expect((await errorOf(storage.readRange(key, 0, 0))).code).toBe('NOT_FOUND');
      expect(await storage.list('')).toEqual([]);
    });

    it('round-trips binary data of many sizes', async () => {
      const random = prng(7);
      for (const size of [0, 1, 255, 4096, 65_537, 1_000_003]) {
        const data = new Uint8Array(size);
        for (let i = 0; i < size; i++) data[i] = (random() * 256) | 0;
        await storage.write(`bin/${size}`, data);
        const read = await storage.read(`bin/${size}`);
        expect(read.length).toBe(size);
        expect(Buffer.compare(read, data)).toBe(0);
        expect((await storage.stat(`bin/${size}`))?.size).toBe(size);
      }
      // A view into a larger buffer stores only the view's bytes.
      const whole = bytes('0123456789');
      await storage.write('view', whole.subarray(3, 6));
      expect(textOf(await storage.read('view'))).toBe('345');
    });

    it('reads ranges, shorter at the end of the object', async () => {
      await storage.write('r', bytes('0123456789'));
      expect(textOf(await storage.readRange('r', 2, 3))).toBe('234');
      expect(textOf(await storage.readRange('r', 7, 100))).toBe('789');
      expect(textOf(await storage.readRange('r', 9, 1))).toBe('9');
      expect(await storage.readRange('r', 10, 5)).toEqual(new Uint8Array(0));
      expect(await storage.readRange('r', 50, 5)).toEqual(new Uint8Array(0));
      expect(textOf(await storage.readRange('r', 0, 0))).toBe('');
      for (const [offset, length] of [
        [-1, 1],
        [0, -1],
        [0.5, 1],
        [0, Number.NaN],
      ] as const) {
        expect((await errorOf(storage.readRange('r', offset, length))).code).toBe('INVALID_ARGUMENT');
      }
    });

    it('treats directories as absent objects', async () => {
      await storage.write('a/b/c', bytes('x'));
      expect(await storage.stat('a/b')).toBeNull();
      expect((await errorOf(storage.read('a/b'))).code).toBe('NOT_FOUND');
      expect((await errorOf(storage.read('a/b/c/d'))).code).toBe('NOT_FOUND');
      await storage.delete('a/b');
      expect(textOf(await storage.read('a/b/c'))).toBe('x');
      expect((await storage.list('')).map((e) => e.key)).toEqual(['a/b/c']);
    });

    it('never shows a reader a partly written object', async () => {
      const a = new Uint8Array(1 << 20).fill(65);
      const b = new Uint8Array(1 << 19).fill(66);
      await storage.write('big', a);
      let done = false;
      const writer = (async () => {
        for (let i = 0; i < 30; i++) await storage.write('big', i % 2 === 0 ? b : a);
        done = true;
      })();
      let reads = 0;
      while (!done) {
        const read = await storage.read('big');
        const whole =
          (read.length === a.length && read.every((v) => v === 65)) ||
          (read.length === b.length && read.every((v) => v === 66));
        expect(whole).toBe(true);
        reads++;
      }
      await writer;
      expect(reads).toBeGreaterThan(0);
    });

    it('lets exactly one of many concurrent writeIfAbsent attempts create a key', async () => {
      const attempts = Array.from({ length: 64 }, (_, i) =>
        storage.writeIfAbsent('_octa/log/x.json', bytes(`writer ${i}`)),
      );
      const results = await Promise.all(attempts);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(textOf(await storage.read('_octa/log/x.json'))).toBe(`writer ${winner}`);
      expect((await storage.list('')).map((e) => e.key)).toEqual(['_octa/log/x.json']);
    });

    it('writeIfAbsent refuses an existing key and leaves its bytes alone', async () => {
      expect(await storage.writeIfAbsent('k', bytes('one'))).toBe(true);
      expect(await storage.writeIfAbsent('k', bytes('two'))).toBe(false);
      expect(textOf(await storage.read('k'))).toBe('one');
      await storage.write('k', bytes('replaced'));
      expect(await storage.writeIfAbsent('k', bytes('three'))).toBe(false);
      await storage.delete('k');
      expect(await storage.writeIfAbsent('k', bytes('three'))).toBe(true);
      expect(textOf(await storage.read('k'))).toBe('three');
    });

    it('lists recursively in UTF-8 byte order with sizes', async () => {
      // '-' and '.' sort before '/', so a plain sort of paths by segment would get these wrong.
      const keys = [
        'b',
        'a/b',
        'a.b',
        'a-b/c',
        'a/bc',
        'a/c/d/e',
        'A',
        'ä',
        '\u{1F600}',
        '\uE000',
        'z/1',
        'a b',
      ];
      for (const key of keys) await storage.write(key, bytes(key.repeat(2)));
      const listed = await storage.list('');
      const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(listed.map((e) => e.key)).toEqual(expected);
      for (const entry of listed) {
        expect(entry.size).toBe(Buffer.byteLength(entry.key) * 2);
        expect(Math.abs(entry.mtimeMs - Date.now())).toBeLessThan(60_000);
      }
    });

    it('filters by a plain string prefix', async () => {
      for (const key of ['t/lod=1/x', 't/lod=12/y', 't/lod=2/z', 'u/lod=1/x', 'tt'])
        await storage.write(key, bytes('.'));
      const keysOf = async (prefix: string) => (await storage.list(prefix)).map((e) => e.key);
      expect(await keysOf('t/lod=1')).toEqual(['t/lod=1/x', 't/lod=12/y']);
      expect(await keysOf('t/lod=1/')).toEqual(['t/lod=1/x']);
      expect(await keysOf('t')).toEqual(['t/lod=1/x', 't/lod=12/y', 't/lod=2/z', 'tt']);
      expect(await keysOf('t/')).toEqual(['t/lod=1/x', 't/lod=12/y', 't/lod=2/z']);
      expect(await keysOf('t/lod=2/z')).toEqual(['t/lod=2/z']);
      expect(await keysOf('nothing/here/')).toEqual([]);
      expect(await keysOf('tt/')).toEqual([]);
    });

    it('rejects keys that could escape the lake or alias another key, on every method', async () => {
      for (const key of BAD_KEYS) {
        expect(() => checkKey(key), key).toThrow(OctaError);
        expect((await errorOf(storage.read(key))).code).toBe('INVALID_ARGUMENT');
        expect((await errorOf(storage.readRange(key, 0, 1))).code).toBe('INVALID_ARGUMENT');
        expect((await errorOf(storage.write(key, bytes('x')))).code).toBe('INVALID_ARGUMENT');
        expect((await errorOf(storage.writeIfAbsent(key, bytes('x')))).code).toBe('INVALID_ARGUMENT');
        expect((await errorOf(storage.stat(key))).code).toBe('INVALID_ARGUMENT');
        expect((await errorOf(storage.delete(key))).code).toBe('INVALID_ARGUMENT');
        expect((await errorOf(() => storage.localPath(key))).code).toBe('INVALID_ARGUMENT');
      }
      expect(await storage.list('')).toEqual([]);
      const error = await errorOf(storage.read('../escape'));
      expect(error.value).toBe('../escape');
      expect(error.message).toContain("'..' segment");
      for (const prefix of ['/', '/a', 'a//', '../', 'a/../b/', 'a\\', 'a\u0001']) {
        expect((await errorOf(storage.list(prefix))).code, prefix).toBe('INVALID_ARGUMENT');
      }
    });

    it('refuses data that is not a Uint8Array', async () => {
      const notBytes = 'text' as unknown as Uint8Array;
      expect((await errorOf(storage.write('k', notBytes))).code).toBe('INVALID_ARGUMENT');
      expect((await errorOf(storage.writeIfAbsent('k', notBytes))).code).toBe('INVALID_ARGUMENT');
      expect(await storage.stat('k')).toBeNull();
    });
  });
}
