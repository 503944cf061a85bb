/**
 * CSV and NDJSON sources held against DuckDB's read_csv (the USGS feed), against `Number()` (the
 * numeric fast path), and against hand-made edge cases with known line and row numbers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenSourceOptions, openSource } from '../../src/lake/sources/index.js';
import { OctaError } from '../../src/lattice/index.js';
import { prng, randInt } from '../prng.js';
import { readAll, sharedData, streamOf } from './fixtures/sources/helpers.js';

const USGS_HEADER =
  'time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type,horizontalError,depthError,magError,magNst,status,locationSource,magSource'.split(
    ',',
  );

let dir: string;
let files = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'octa-sources-csv-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(content: string | Uint8Array, ext = 'csv'): string {
  const path = join(dir, `f${files++}.${ext}`);
  writeFileSync(path, content);
  return path;
}

async function csv(
  content: string,
  options?: Parameters<typeof readAll>[1],
  open?: Partial<OpenSourceOptions>,
) {
  return readAll(await openSource({ path: file(content), ...open }), options);
}

async function openError(options: OpenSourceOptions): Promise<OctaError> {
  const error = await openSource(options).then(
    async (s) => {
      await s.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OctaError);
  return error as OctaError;
}

describe('USGS earthquake feed', () => {
  const path = sharedData('usgs_all_month_2025-04-15.csv');

  it('reads 9,462 rows with the header columns, quoted commas intact, rows numbered 1..n', async () => {
    const source = await openSource({ path });
    expect(source.format).toBe('csv');
    expect(source.columns).toEqual(USGS_HEADER.map((name) => ({ name, type: 'text' })));
    expect(source.identity).toMatchObject({ kind: 'file', path, size: readFileSync(path).length });
    const all = await readAll(source, { chunkRows: 1000 });
    expect(all.rows).toBe(9462);
    expect(all.rejects).toEqual([]);
    expect(all.rowNumbers).toEqual(Array.from({ length: 9462 }, (_, i) => i + 1));
    expect(all.chunks.map((c) => c.firstRow)).toEqual([
      1, 1001, 2001, 3001, 4001, 5001, 6001, 7001, 8001, 9001,
    ]);
    expect(all.values.place![0]).toBe('148 km N of Manatutu, Timor Leste');
    expect(all.values.place!.filter((p) => typeof p === 'string' && p.includes(',')).length).toBeGreaterThan(
      1000,
    );
    expect(all.chunks.at(-1)!.position).toEqual({ rows: 9462, bytes: readFileSync(path).length });
  });

  it('agrees with DuckDB read_csv on every field and every parsed number', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const text = await connection.runAndReadAll(
        `SELECT * FROM read_csv('${path}', all_varchar = true, header = true)`,
      );
      const rows = text.getRows();
      const numbers = await connection.runAndReadAll(
        `SELECT latitude::DOUBLE, longitude::DOUBLE, depth::DOUBLE, mag::DOUBLE FROM read_csv('${path}', all_varchar = true)`,
      );
      const ours = await readAll(await openSource({ path }));
      expect(rows.length).toBe(ours.rows);
      for (const [c, name] of USGS_HEADER.entries()) {
        expect(ours.values[name], name).toEqual(rows.map((r) => r[c]));
      }
      const parsed = await readAll(await openSource({ path }), {
        numeric: ['latitude', 'longitude', 'depth', 'mag'],
        columns: ['latitude', 'longitude', 'depth', 'mag'],
      });
      expect(Object.keys(parsed.values)).toEqual(['latitude', 'longitude', 'depth', 'mag']);
      expect(parsed.types.latitude).toBe('float64');
      for (const [c, name] of ['latitude', 'longitude', 'depth', 'mag'].entries()) {
        expect(parsed.values[name], name).toEqual(numbers.getRows().map((r) => r[c]));
      }
      expect(parsed.invalid).toEqual({});
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

describe('CSV records', () => {
  it('unquotes fields, keeps "" escapes, newlines and delimiters inside quotes', async () => {
    const all = await csv('a,b,c\n"x, y","say ""hi""","two\nlines"\n"",,plain\n');
    expect(all.values).toEqual({ a: ['x, y', ''], b: ['say "hi"', null], c: ['two\nlines', 'plain'] });
    expect(all.rejects).toEqual([]);
  });

  it('handles CRLF, a BOM, blank lines, a lone CR and no final newline', async () => {
    const all = await csv('\uFEFFa,b\r\n1,2\r\n\r\n3,4\r5,6');
    expect(Object.keys(all.values)).toEqual(['a', 'b']);
    expect(all.values).toEqual({ a: ['1', '3', '5'], b: ['2', '4', '6'] });
    expect(all.rowNumbers).toEqual([1, 2, 3]);
  });

  it('rejects wrong field counts with row, line, reason and text, and keeps numbering', async () => {
    const all = await csv('a,b,c\n1,2,3\n4,5\n"multi\nline",x,y\n6,7,8,9\n10,11,12\n');
    expect(all.rowNumbers).toEqual([1, 3, 5]);
    expect(all.values.a).toEqual(['1', 'multi\nline', '10']);
    expect(all.rejects).toEqual([
      { row: 2, line: 3, reason: 'expected 3 fields, found 2', text: '4,5' },
      { row: 4, line: 6, reason: 'expected 3 fields, found 4', text: '6,7,8,9' },
    ]);
    expect(all.chunks[0]!.position.rows).toBe(5);
  });

  it('makes an unterminated quote at the end a reject, after the good rows', async () => {
    const all = await csv('a,b\n1,2\n3,"never closed\n4,5\n');
    expect(all.values).toEqual({ a: ['1'], b: ['2'] });
    expect(all.rejects).toHaveLength(1);
    expect(all.rejects[0]).toMatchObject({ row: 2, line: 3, text: '3,"never closed\n4,5' });
    expect(all.rejects[0]!.reason).toMatch(/unterminated quoted field 2/);
  });

  it('rejects text after a closing quote', async () => {
    const all = await csv('a,b\n"x"y,1\n2,3\n');
    expect(all.rejects).toEqual([
      { row: 1, line: 2, reason: 'field 1: unexpected text after a closing quote', text: '"x"y,1' },
    ]);
    expect(all.values.a).toEqual(['2']);
  });

  it('cuts reject text to 1 KiB', async () => {
    const long = 'x'.repeat(5000);
    const all = await csv(`a,b\n${long}\n`);
    expect(all.rejects[0]!.text).toBe(long.slice(0, 1024));
  });

  it('names empty header fields and refuses duplicates', async () => {
    const all = await csv('a,,c\n1,2,3\n');
    expect(Object.keys(all.values)).toEqual(['a', 'column2', 'c']);
    const error = await openError({ path: file('a,b,a\n1,2,3\n') });
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/names column "a" twice/);
  });

  it('fails on empty input before any chunk and gives zero chunks for a header alone', async () => {
    for (const empty of ['', '\n\n', '\uFEFF']) {
      const error = await openError({ path: file(empty) });
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toMatch(/empty input/);
    }
    const source = await openSource({ path: file('x,y,z\n') });
    expect(source.columns.map((c) => c.name)).toEqual(['x', 'y', 'z']);
    const all = await readAll(source);
    expect(all.chunks).toEqual([]);
  });

  it('reads a .tsv with a tab delimiter, and any ASCII delimiter on request', async () => {
    const tsv = await readAll(await openSource({ path: file('a\tb\n1,5\t2\n', 'tsv') }));
    expect(tsv.values).toEqual({ a: ['1,5'], b: ['2'] });
    const semi = await csv('a;b\n"1;5";2\n', undefined, { delimiter: ';' });
    expect(semi.values).toEqual({ a: ['1;5'], b: ['2'] });
    for (const delimiter of ['§', '"', ';;']) {
      const error = await openError({ path: file('a§b\n1§2\n'), delimiter });
      expect(error.code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('CSV numeric columns', () => {
  it('parses numbers, leaves empty fields null, keeps bad fields as NaN with their text', async () => {
    const all = await csv('x,y,name\n1.5,-2,a\n,3e2,b\nabc,"4.25",c\n" 7 ",0x10,d\n-0,1e400,e\n', {
      numeric: ['x', 'y'],
    });
    expect(all.types).toEqual({ x: 'float64', y: 'float64', name: 'text' });
    const chunk = all.chunks[0]!;
    const x = chunk.columns.x!;
    expect(x.type === 'float64' && [...x.values]).toEqual([1.5, Number.NaN, Number.NaN, 7, -0]);
    expect(x.type === 'float64' && x.valid && [...x.valid]).toEqual([1, 0, 1, 1, 1]);
    expect(Object.is(all.values.x![4], -0)).toBe(true);
    expect(all.values.y).toEqual([-2, 300, 4.25, Number.NaN, Number.POSITIVE_INFINITY]);
    expect(all.invalid).toEqual({ x: new Map([[3, 'abc']]), y: new Map([[4, '0x10']]) });
    const y = chunk.columns.y!;
    expect(y.type === 'float64' && y.valid).toBeUndefined();
  });

  it('forgets an invalid number of a row that is then rejected', async () => {
    const all = await csv('x,y\nabc\n2,3\n', { numeric: ['x'] });
    expect(all.rejects.map((r) => r.row)).toEqual([1]);
    expect(all.values.x).toEqual([2]);
    expect(all.invalid).toEqual({});
  });

  it('equals Number() bit for bit on random decimals (fast path and fallback)', async () => {
    const rand = prng(7);
    const texts: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const digits = randInt(rand, 1, 19);
      let mantissa = '';
      for (let d = 0; d < digits; d++) mantissa += String(randInt(rand, 0, 9));
      const dot = randInt(rand, 0, digits);
      let t = dot === digits ? mantissa : `${mantissa.slice(0, dot)}.${mantissa.slice(dot)}`;
      if (rand() < 0.3) t = `-${t}`;
      if (rand() < 0.2) t += `e${randInt(rand, -30, 30)}`;
      texts.push(t);
    }
    texts.push(
      '0',
      '-0',
      '.5',
      '5.',
      '+3',
      '123456789012345',
      '1234567890123456',
      '9007199254740993',
      '1e22',
      '1e23',
    );
    const all = await csv(`v\n${texts.join('\n')}\n`, { numeric: ['v'] });
    expect(all.rejects).toEqual([]);
    expect(all.invalid).toEqual({});
    const got = all.values.v!;
    const wrong = texts.filter((t, i) => !Object.is(got[i], Number(t)));
    expect(wrong).toEqual([]);
  });

  it('rejects an unknown column name in options', async () => {
    const source = await openSource({ path: file('a\n1\n') });
    try {
      expect(() => source.chunks({ numeric: ['b'] })).toThrow(OctaError);
      expect(() => source.chunks({ chunkRows: 0 })).toThrow(/chunkRows/);
    } finally {
      await source.close();
    }
  });
});

describe('CSV chunking and streams', () => {
  // Several 1 MiB blocks with multi-byte text and quoted newlines cut at arbitrary places.
  const rand = prng(11);
  const rows: [number, string, string][] = [];
  for (let i = 0; i < 40_000; i++) {
    const note = rand() < 0.1 ? `"größe ""${i}"",\r\nzeile"` : `ä${i}€`;
    const value = (rand() * 1000).toFixed(randInt(rand, 0, 6));
    rows.push([i, value, note]);
  }
  const toCsv = (part: typeof rows) =>
    `id,value,note\r\n${part.map(([i, v, n]) => `${i},${v},${n}`).join('\r\n')}\r\n`;
  const content = toCsv(rows);
  const expectedNote = (n: string) => (n.startsWith('"') ? n.slice(1, -1).replaceAll('""', '"') : n);

  it('fills every chunk to chunkRows, numbers rows continuously, ends at the file size', async () => {
    const path = file(content);
    const all = await readAll(await openSource({ path }), { chunkRows: 7000, numeric: ['value'] });
    expect(all.chunks.map((c) => c.rows)).toEqual([7000, 7000, 7000, 7000, 7000, 5000]);
    expect(all.chunks.map((c) => c.firstRow)).toEqual([1, 7001, 14001, 21001, 28001, 35001]);
    expect(all.rowNumbers).toEqual(rows.map(([i]) => i + 1));
    expect(all.values.id).toEqual(rows.map(([i]) => String(i)));
    expect(all.values.value).toEqual(rows.map(([, v]) => Number(v)));
    expect(all.values.note).toEqual(rows.map(([, , n]) => expectedNote(n)));
    const bytes = all.chunks.map((c) => c.position.bytes!);
    expect(bytes.at(-1)).toBe(Buffer.byteLength(content));
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
  });

  it('reads the same from a stream cut into odd pieces as from the file', async () => {
    const head = toCsv(rows.slice(0, 150));
    for (const [text, size] of [
      [head, 1],
      [content, 4093],
    ] as const) {
      const source = await openSource({ stream: streamOf(text, size), format: 'csv' });
      expect(source.identity).toEqual({ kind: 'stream' });
      const all = await readAll(source, { numeric: ['value'] });
      const n = text === head ? 150 : rows.length;
      expect(all.rows).toBe(n);
      expect(all.values.note).toEqual(rows.slice(0, n).map(([, , note]) => expectedNote(note)));
      expect(all.values.value).toEqual(rows.slice(0, n).map(([, v]) => Number(v)));
      expect(all.rejects).toEqual([]);
    }
  });

  it('sniffs CSV from a stream without a format and refuses a second read', async () => {
    const source = await openSource({ stream: streamOf('a,b\n1,2\n', 3) });
    expect(source.format).toBe('csv');
    const chunks = source.chunks();
    expect(() => source.chunks()).toThrow(/only once/);
    const out = [];
    for await (const c of chunks) out.push(c);
    expect(out).toHaveLength(1);
    await source.close();
  });
});

describe('NDJSON', () => {
  it('takes columns from the first line, rejects bad lines and other keys, skips blank ones', async () => {
    const text = [
      '{"x": 1, "y": 2, "tag": "a"}',
      '',
      '{"x": 3, "tag": null, "extra": true}',
      '{"x": 4, "y": ',
      '[1, 2]',
      '{"y": "5", "x": 6, "tag": {"k": [1]}}\r',
      '   ',
      '{"x": "abc", "y": false}',
    ].join('\n');
    const source = await openSource({ path: file(text, 'ndjson') });
    expect(source.format).toBe('ndjson');
    expect(source.columns).toEqual([
      { name: 'x', type: 'json' },
      { name: 'y', type: 'json' },
      { name: 'tag', type: 'json' },
    ]);
    const all = await readAll(source, { chunkRows: 2 });
    expect(all.values).toEqual({
      x: [1, 6, 'abc'],
      y: [2, '5', false],
      tag: ['a', { k: [1] }, null],
    });
    expect(all.rowNumbers).toEqual([1, 5, 6]);
    expect(all.rejects.map((r) => [r.row, r.line, r.text])).toEqual([
      [2, 3, '{"x": 3, "tag": null, "extra": true}'],
      [3, 4, '{"x": 4, "y": '],
      [4, 5, '[1, 2]'],
    ]);
    expect(all.rejects[0]!.reason).toMatch(/^key "extra" is not a column/);
    expect(all.rejects[1]!.reason).toMatch(/^invalid JSON/);
    expect(all.rejects[2]!.reason).toBe('not a JSON object');
    expect(all.chunks.map((c) => c.firstRow)).toEqual([1, 3, 5]);
    expect(all.chunks.at(-1)!.position).toEqual({ rows: 6, bytes: Buffer.byteLength(text) });
  });

  it('parses numeric columns from numbers and numeric strings', async () => {
    const text = '{"x": 1.5, "y": "2"}\n{"x": null}\n{"x": "abc", "y": [1]}\n';
    const all = await readAll(await openSource({ stream: streamOf(text, 5), format: 'ndjson' }), {
      numeric: ['x', 'y'],
    });
    expect(all.types).toEqual({ x: 'float64', y: 'float64' });
    expect(all.values).toEqual({ x: [1.5, null, Number.NaN], y: [2, null, Number.NaN] });
    expect(all.invalid).toEqual({ x: new Map([[3, 'abc']]), y: new Map([[3, '[1]']]) });
  });

  it('sniffs NDJSON on stdin-like streams and fails when the first line is not an object', async () => {
    const sniffed = await openSource({ stream: streamOf('\n{"a":1}\n{"a":2}\n', 2) });
    expect(sniffed.format).toBe('ndjson');
    const all = await readAll(sniffed);
    expect(all.values.a).toEqual([1, 2]);
    expect(all.rejects).toEqual([]);
    const bad = await openError({ path: file('[1,2]\n{"a":1}\n', 'jsonl') });
    expect(bad.code).toBe('INVALID_INPUT');
    expect(bad.message).toMatch(/line 1 is not a JSON object/);
    const empty = await openError({ path: file('\n \n', 'ndjson') });
    expect(empty.message).toMatch(/empty input/);
  });
});
