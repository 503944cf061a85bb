/**
 * The CSV reader's byte-level fast paths against the slow paths they stand in for: numbers of 16 to
 * 19 significant digits against `Number(text)`, bit for bit, including the hardest inputs (decimals
 * next to a halfway point between two doubles); event times against `parseIsoTime` and
 * `parseEpochTime`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type EpochUnit, parseEpochTime, parseIsoTime, timeToMicros } from '../../src/export/event-time.js';
import { convertTimes } from '../../src/lake/ingest/convert-time.js';
import { CsvChunk, type CsvPlan, NUMERIC, TEXT, TIME } from '../../src/lake/sources/csv-chunk.js';
import { parseCsvRecords } from '../../src/lake/sources/csv-records.js';
import { openSource } from '../../src/lake/sources/index.js';
import { BLOCK_BYTES } from '../../src/lake/sources/input.js';
import { decimalQuotient } from '../../src/lake/sources/numbers.js';
import { readTimeBytes } from '../../src/lake/sources/time-bytes.js';
import { prng, randInt } from '../prng.js';

/** The fast path's reading of a plain decimal `d+.d+` of 16..19 digits, as the CSV reader splits it. */
function fast(text: string): number {
  const [int, frac = ''] = text.split('.');
  const digits = `${int}${frac}`;
  const head = Number(digits.slice(0, 15));
  const tail = digits.slice(15);
  return decimalQuotient(head, Number(tail), tail.length, frac.length);
}

describe('decimalQuotient', () => {
  it('equals Number(text) on shortest and 16..19-digit forms of random doubles', () => {
    const next = prng(1);
    let checked = 0;
    let declined = 0;
    for (let i = 0; i < 300_000; i++) {
      const magnitude = 10 ** Math.floor(next() * 8 - 3);
      const x = next() * magnitude;
      for (const text of [
        String(x),
        x.toPrecision(16),
        x.toPrecision(17),
        x.toPrecision(18),
        x.toPrecision(19),
      ]) {
        if (!/^\d+\.\d+$/.test(text)) continue;
        const digits = text.replace('.', '').replace(/^0+/, '');
        const all = text.replace('.', '');
        if (all.length < 16 || all.length > 19 || digits.length === 0) continue;
        const frac = text.length - text.indexOf('.') - 1;
        if (frac > 22) continue;
        const got = fast(text);
        if (Number.isNaN(got)) declined++;
        else {
          checked++;
          if (got !== Number(text)) expect.fail(`${text}: fast ${got}, Number ${Number(text)}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(1_000_000);
    expect(declined).toBeLessThan(checked / 1000);
  });

  it('equals Number(text) or declines next to halfway points, the hardest inputs', () => {
    const next = prng(2);
    const view = new DataView(new ArrayBuffer(8));
    let checked = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = (1 + next()) * 10 ** Math.floor(next() * 9 - 3);
      view.setFloat64(0, x);
      const bits = view.getBigUint64(0);
      const exponent = Number((bits >> 52n) & 0x7ffn) - 1075;
      const mantissa = (bits & 0xfffffffffffffn) | 0x10000000000000n;
      // The halfway point to the next double up, (2m + 1) · 2^(e-1), as an exact decimal.
      const places = 1 - exponent;
      const digits = ((2n * mantissa + 1n) * 5n ** BigInt(places)).toString();
      const intDigits = digits.length - places;
      for (const significant of [16, 17, 18, 19]) {
        const lead = intDigits > 0 ? 0 : -intDigits;
        const keep = significant - lead;
        if (keep <= 0) continue;
        const cut = BigInt(digits.slice(0, Math.max(0, intDigits) + keep).padStart(1, '0'));
        for (const v of [cut, cut + 1n, cut - 1n]) {
          const fracLen = significant - Math.max(0, intDigits);
          if (fracLen < 1 || fracLen > 22) continue;
          const s = v.toString().padStart(fracLen + 1, '0');
          const text = `${s.slice(0, s.length - fracLen)}.${s.slice(s.length - fracLen)}`;
          if (text.replace('.', '').length > 19) continue;
          const got = fast(text);
          if (Number.isNaN(got)) continue;
          checked++;
          if (got !== Number(text)) expect.fail(`${text}: fast ${got}, Number ${Number(text)}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(50_000);
  });
});

const pad = (v: number, n = 2) => String(v).padStart(n, '0');

/** The fast path's µs for a text, or undefined when it declines. */
function fastTime(text: string, unit: EpochUnit): bigint | undefined {
  const out = new BigInt64Array(1);
  const ok = readTimeBytes(
    Buffer.from(text),
    0,
    Buffer.byteLength(text),
    unit,
    new Int32Array(out.buffer),
    0,
  );
  return ok ? out[0]! : undefined;
}

/** The full grammar's µs for a text as convertTimes reads it, or its reason. */
function slowTime(text: string, unit: EpochUnit): bigint | string {
  const t = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text.trim())
    ? parseEpochTime(text, unit)
    : parseIsoTime(text);
  return t === null ? 'none' : typeof t === 'string' ? t : timeToMicros(t);
}

/** Random times in the forms people write, and near misses of them. */
function timeTexts(next: () => number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const year = next() < 0.05 ? pick(next, [0, 1, 1969, 1970, 2000, 2024, 9999]) : randInt(next, 0, 9999);
    const month = next() < 0.03 ? pick(next, [0, 13]) : randInt(next, 1, 12);
    const day = next() < 0.1 ? pick(next, [0, 28, 29, 30, 31, 32]) : randInt(next, 1, 28);
    const hour = next() < 0.03 ? 24 : randInt(next, 0, 23);
    const minute = next() < 0.03 ? 60 : randInt(next, 0, 59);
    const second = next() < 0.03 ? 60 : randInt(next, 0, 59);
    const fraction = pick(next, ['', '.5', '.123', '.123456', '.123456789', '.1234567891', '.', ',25']);
    const zone = pick(next, [
      '',
      'Z',
      'z',
      '+02:00',
      '-05:30',
      '+23:59',
      '-24:00',
      '+0200',
      '+02',
      ' Z',
      '+2:00',
    ]);
    const sep = pick(next, ['T', 't', ' ', '_']);
    const date = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
    const form = randInt(next, 0, 4);
    if (form === 0) out.push(date);
    else if (form === 1) out.push(`${date}${sep}${pad(hour)}:${pad(minute)}${zone}`);
    else out.push(`${date}${sep}${pad(hour)}:${pad(minute)}:${pad(second)}${fraction}${zone}`);
    const whole =
      randInt(next, 0, 10 ** randInt(next, 1, 9)) * (next() < 0.5 ? 1 : 1000 + randInt(next, 0, 999));
    out.push(
      pick(next, [
        String(whole),
        `${whole}.${randInt(next, 0, 999999)}`,
        `${whole}.${pad(randInt(next, 0, 999), 3)}${pad(randInt(next, 0, 999999), 6)}`,
        `-${whole}`,
        `+${whole}`,
        `${whole}e3`,
        `.5`,
        `${whole}.`,
        `1${'0'.repeat(randInt(next, 12, 17))}`,
        String(9007199254740991 + randInt(next, -2, 2)),
      ]),
    );
  }
  return out;
}

function pick<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)]!;
}

describe('readTimeBytes', () => {
  it("gives the full grammar's exact µs for every text it reads, in each unit", () => {
    const next = prng(3);
    let read = 0;
    let declined = 0;
    for (const text of timeTexts(next, 60_000)) {
      for (const unit of ['s', 'ms', 'us'] as const) {
        const fast = fastTime(text, unit);
        if (fast === undefined) {
          declined++;
          continue;
        }
        read++;
        const slow = slowTime(text, unit);
        if (fast !== slow) expect.fail(`${JSON.stringify(text)} in ${unit}: fast ${fast}, grammar ${slow}`);
      }
    }
    expect(read).toBeGreaterThan(100_000);
    expect(declined).toBeGreaterThan(10_000);
  });

  it('reads the common forms and leaves every reject to the full grammar', () => {
    for (const [text, us] of [
      ['2025-04-06T12:55:03.893Z', 1743944103893000n],
      ['2025-04-06 12:55:03.8931239Z', 1743944103893123n],
      ['2025-04-06', 1743897600000000n],
      ['2025-04-06T12:55', 1743944100000000n],
      ['2025-04-06T14:55:03+02:00', 1743944103000000n],
      ['0000-01-01T00:00:00Z', -62167219200000000n],
      ['9999-12-31T23:59:59.999999Z', 253402300799999999n],
      ['1743944103', 1743944103000000n],
      ['1743944103.25', 1743944103250000n],
    ] as const) {
      expect(fastTime(text, 's'), text).toBe(us);
    }
    expect(fastTime('1743944103893.5', 'ms')).toBe(1743944103893500n);
    expect(fastTime('1743944103893123.9', 'us')).toBe(1743944103893123n);
    for (const text of [
      '2025-02-29', // no such day: the grammar names it
      '2025-04-06T12:55:60Z', // a leap second: refused with its reason
      '2025-04-06T24:00:00Z',
      '0000-01-01T00:00:00+01:00', // before year 0
      '9999-12-31T23:59:59-01:00', // after 9999
      '-1743944103',
      '1e9',
      ' 2025-04-06',
      '2025-04-06T12:55:03,5Z',
      '2025-04-06T12:55:03.1234567890Z',
      '',
    ]) {
      expect(fastTime(text, 's'), text).toBeUndefined();
    }
  });
});

const PLAN: CsvPlan = {
  names: ['x', 't', 'label'],
  kinds: Uint8Array.of(NUMERIC, TIME, TEXT),
  delimiter: 44,
  timeUnit: 's',
};

function parseWhole(bytes: Buffer, cut?: number): CsvChunk {
  const chunk = CsvChunk.create({ plan: PLAN, capacity: 1000, firstRow: 1 });
  const cursor = { line: 2, row: 0 };
  let pos = 0;
  if (cut !== undefined) pos = parseCsvRecords(bytes.subarray(0, cut), 0, false, PLAN, chunk, cursor);
  parseCsvRecords(bytes, pos, true, PLAN, chunk, cursor);
  return chunk;
}

function snapshot(chunk: CsvChunk): unknown {
  const columns = chunk.columns();
  const t = columns.t;
  const x = columns.x;
  if (t?.type !== 'event_time' || x?.type !== 'float64') throw new Error('unexpected column types');
  const times = Array.from({ length: chunk.rows }, (_, i) => (t.text.has(i) ? t.text.get(i) : t.values[i]));
  return {
    rows: chunk.rows,
    x: [...x.values].map((v, i) => (x.valid?.[i] === 0 ? null : Object.is(v, Number.NaN) ? 'NaN' : v)),
    invalid: [...(x.invalid ?? [])],
    times,
    texts: [...t.text.keys()],
    label: columns.label?.values,
    rejects: chunk.rejects.map((r) => r.reason),
  };
}

describe('parseCsvRecords with a time column and full-precision numbers', () => {
  const csv = Buffer.from(
    [
      '402.9774283990264,2025-04-06T12:55:03.893Z,a',
      '15.173694188706577,1743944103,b',
      '1e5,2025-04-11T05:13:37.203+02:00,"c,d"',
      '-0.8990347183742346,"2025-04-06",',
      '12a,2025-13-01,e',
      ',,',
      '7,2025-04-06T12:55:60Z,f',
      '1234567890123456789,1743944103.5,g',
      '3.5,2025-04-06T12:55:03.893Z,h,extra',
      '0.1234567890123456789012,9999-12-31T23:59:59.999999Z,i',
      '',
    ].join('\n'),
  );

  it('gives the same rows whatever byte the input is cut at', () => {
    const whole = snapshot(parseWhole(csv));
    expect((whole as { rows: number }).rows).toBe(9);
    for (let cut = 0; cut <= csv.length; cut++)
      expect(snapshot(parseWhole(csv, cut)), `cut at ${cut}`).toEqual(whole);
  });

  it('converts to the same times and rejects as the field text through the full grammar', () => {
    const chunk = parseWhole(csv);
    const columns = chunk.columns();
    const fromBytes: string[] = [];
    const fast = convertTimes(
      { kind: 'column', column: 't', unit: 's' },
      { ...sourceChunk(chunk), columns },
      chunk.rows,
      (i, r) => fromBytes.push(`${i}: ${r}`),
    );
    const t = columns.t;
    if (t?.type !== 'event_time') throw new Error('no event_time column');
    const texts = Array.from({ length: chunk.rows }, (_, i) =>
      !t.text.has(i) ? csv.toString().split('\n')[chunk.rowNumbers[i]! - 1]!.split(',')[1]! : t.text.get(i)!,
    ).map((v) => (v === null ? null : v.replace(/^"|"$/g, '')));
    const fromText: string[] = [];
    const slow = convertTimes(
      { kind: 'column', column: 't', unit: 's' },
      { ...sourceChunk(chunk), columns: { t: { type: 'text', values: texts } } },
      chunk.rows,
      (i, r) => fromText.push(`${i}: ${r}`),
    );
    expect(fromBytes).toEqual(fromText);
    expect(fromBytes.length).toBe(3);
    expect([...fast]).toEqual([...slow]);
  });
});

function sourceChunk(chunk: CsvChunk) {
  return {
    firstRow: 1,
    rows: chunk.rows,
    rowNumbers: chunk.rowNumbers.subarray(0, chunk.rows),
    rejects: [],
    position: { rows: chunk.rows },
  };
}

describe('convertTimes on typed times', () => {
  it('moves µs timestamps and dates as words, and refuses exactly the rows outside the lake', () => {
    const next = prng(4);
    const n = 20_000;
    const first = -62_167_219_200_000_000n;
    const last = 253_402_300_799_999_999n;
    const stamps = new BigInt64Array(n);
    const days = new Int32Array(n);
    const valid = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      const edge = [first, last, first - 1n, last + 1n, 0n, -1n][randInt(next, 0, 5)]!;
      stamps[i] =
        next() < 0.2
          ? edge
          : BigInt(Math.floor((next() - 0.5) * 2 ** 53)) * BigInt(randInt(next, 1, 100_000));
      days[i] = randInt(next, -800_000, 3_000_000);
      if (next() < 0.01) valid[i] = 0;
    }
    const mapping = { kind: 'column', column: 't', unit: 's' } as const;
    const base = {
      firstRow: 1,
      rows: n,
      rowNumbers: new Float64Array(n),
      rejects: [],
      position: { rows: n },
    };
    for (const column of [
      { type: 'timestamp_us' as const, values: stamps, valid },
      { type: 'date' as const, values: days, valid },
    ]) {
      const failed = new Set<number>();
      const out = convertTimes(mapping, { ...base, columns: { t: column } }, n, (i) => failed.add(i));
      let refused = 0;
      for (let i = 0; i < n; i++) {
        const us = column.type === 'date' ? BigInt(days[i]!) * 86_400_000_000n : stamps[i]!;
        const storable = valid[i] === 1 && us >= first && us <= last;
        expect(failed.has(i), `row ${i}: ${us}`).toBe(!storable);
        if (storable) expect(out[i], `row ${i}`).toBe(us);
        else refused++;
      }
      expect(refused).toBeGreaterThan(n / 100);
    }
  });
});

describe('a CSV file read in 1 MiB blocks', () => {
  it('stores a negative number whose sign ends a block (it was rejected as "not a number: -")', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'octa-block-'));
    try {
      const header = 'x,y\n';
      const filler = '1.25,2.5\n';
      // Rows of filler up to just before the block end, then pad the last one so that the byte
      // before the boundary is the minus sign of "-3.5".
      const before = BLOCK_BYTES - 1 - header.length; // bytes between the header and the sign
      const rows = Math.floor(before / filler.length) - 1;
      const pad = before - rows * filler.length - ','.length;
      const text = `${header}${filler.repeat(rows)}${'0'.repeat(pad)},-3.5\n7,8\n`;
      expect(text[BLOCK_BYTES - 1]).toBe('-');
      const path = join(dir, 'cut.csv');
      writeFileSync(path, text);
      const source = await openSource({ path });
      const ys: number[] = [];
      let rejects = 0;
      for await (const chunk of source.chunks({ numeric: ['x', 'y'] })) {
        const y = chunk.columns.y;
        if (y?.type !== 'float64') throw new Error('y is not float64');
        expect(y.invalid).toBeUndefined();
        ys.push(...y.values);
        rejects += chunk.rejects.length;
      }
      await source.close();
      expect(rejects).toBe(0);
      expect(ys.slice(-2)).toEqual([-3.5, 8]);
      expect(ys.length).toBe(rows + 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
