/**
 * LocalStorage held to the Storage contract (storage-contract.ts: round trips, ranges, directories,
 * whole-object visibility, create-exclusive writes, listing, key validation), plus what only the
 * local backend has: its root and file URL, local paths, no temporary file left or listed, and
 * IO_ERROR rather than raw errors.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { checkKey, checkPrefix, compareKeys } from '../../src/lake/storage/storage.js';
import { OctaError } from '../../src/lattice/errors.js';
import { prng, randInt } from '../prng.js';
import { BAD_KEYS, describeStorageContract, errorOf } from './storage-contract.js';

let dir: string;
let storage: LocalStorage;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'octa-storage-'));
  storage = await LocalStorage.create({ root: join(dir, 'lake') });
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const bytes = (text: string) => new TextEncoder().encode(text);
const textOf = (data: Uint8Array) => new TextDecoder().decode(data);

/** Every name in the lake directory, recursively, including temporary files. */
function allNames(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' });
}

// The contract every backend passes (s3-storage.test.ts runs it on S3Storage).
describeStorageContract('LocalStorage', async () => {
  const root = mkdtempSync(join(tmpdir(), 'octa-contract-'));
  return {
    storage: await LocalStorage.create({ root: join(root, 'lake') }),
    close: async () => rmSync(root, { recursive: true, force: true }),
  };
});

describe('LocalStorage round trips', () => {
  it('creates its root and names it as a file URL', async () => {
    expect(storage.root).toBe(join(dir, 'lake'));
    expect(storage.url).toBe(pathToFileURL(join(dir, 'lake')).href);
    expect(readdirSync(dir)).toEqual(['lake']);
  });

  it('writes, reads, replaces and deletes whole objects', async () => {
    const key = 'points/lod=7/t=2024-05-01/r=0000000000000000/part-a-1.parquet';
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
    expect(storage.localPath(key)).toBe(join(dir, 'lake', ...key.split('/')));
    await storage.delete(key);
    expect(await storage.stat(key)).toBeNull();
    await storage.delete(key);
    expect((await errorOf(storage.read(key))).code).toBe('NOT_FOUND');
    expect((await errorOf(storage.readRange(key, 0, 1))).code).toBe('NOT_FOUND');
    expect(allNames(storage.root).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});

describe('writeIfAbsent', () => {
  it('lets exactly one of many concurrent attempts create a key', async () => {
    const attempts = Array.from({ length: 64 }, (_, i) =>
      storage.writeIfAbsent('_octa/log/x.json', bytes(`writer ${i}`)),
    );
    const results = await Promise.all(attempts);
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(textOf(await storage.read('_octa/log/x.json'))).toBe(`writer ${winner}`);
    expect(allNames(storage.root).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});

describe('list', () => {
  it('lists recursively in UTF-8 byte order with sizes, hiding temporary files and directories', async () => {
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
    writeFileSync(join(storage.root, 'a', '.tmp-stale'), 'leftover');
    writeFileSync(join(storage.root, '.tmp-top'), 'leftover');
    mkdirSync(join(storage.root, 'empty', 'dir'), { recursive: true });
    const listed = await storage.list('');
    const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(listed.map((e) => e.key)).toEqual(expected);
    for (const entry of listed) expect(entry.size).toBe(Buffer.byteLength(entry.key) * 2);
  });

  it('filters by a plain string prefix, as S3 does', async () => {
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
});

describe('key validation', () => {
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
    expect(allNames(dir)).toEqual(['lake']);
    const error = await errorOf(storage.read('../escape'));
    expect(error.value).toBe('../escape');
    expect(error.message).toContain("'..' segment");
  });

  it('accepts ordinary keys and prefixes', () => {
    for (const key of ['a', 'a/b.c', '_octa/log/00000000000000000001.json', 'x/..y/z.', 'ä/😀', 'a b/c=d']) {
      expect(checkKey(key)).toBe(key);
    }
    for (const prefix of ['', 'a', 'a/', 'a/b/c', 't/lod=1', 'a/.', 'a/..'])
      expect(checkPrefix(prefix)).toBe(prefix);
  });

  it('rejects bad prefixes', async () => {
    for (const prefix of ['/', '/a', 'a//', '../', 'a/../b/', 'a\\', 'a\u0001']) {
      expect((await errorOf(storage.list(prefix))).code, prefix).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('errors', () => {
  it('reports file system failures as IO_ERROR naming the path, without a stack', async () => {
    await storage.write('file', bytes('x'));
    const error = await errorOf(storage.write('file/child', bytes('y')));
    expect(error.code).toBe('IO_ERROR');
    expect(error.value).toBe(join(storage.root, 'file', 'child'));
    expect(error.message).toContain(join(storage.root, 'file', 'child'));
    expect(error.message).not.toMatch(/\n\s+at /);
    expect((await errorOf(storage.writeIfAbsent('file/child', bytes('y')))).code).toBe('IO_ERROR');
    const notDir = join(dir, 'plain-file');
    writeFileSync(notDir, 'x');
    expect((await errorOf(LocalStorage.create({ root: notDir }))).code).toBe('IO_ERROR');
    expect((await errorOf(LocalStorage.create({ root: '' }))).code).toBe('INVALID_ARGUMENT');
  });
});

describe('compareKeys', () => {
  it('orders as UTF-8 bytes do, for random strings across the planes', () => {
    const random = prng(11);
    const pool = [
      'a',
      'Z',
      '/',
      '.',
      '~',
      'é',
      '\u07ff',
      '\u0800',
      '\ud7ff',
      '\ue000',
      '\uffff',
      '\u{10000}',
      '\u{1F600}',
      '\u{10FFFF}',
    ];
    const word = () =>
      Array.from({ length: randInt(random, 0, 4) }, () => pool[randInt(random, 0, pool.length - 1)]).join('');
    for (let i = 0; i < 5000; i++) {
      const a = word();
      const b = word();
      expect(Math.sign(compareKeys(a, b)), `${a} vs ${b}`).toBe(
        Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))),
      );
    }
  });
});
