/**
 * Event times of a chunk: from a typed timestamp or date column, from epoch numbers or ISO text
 * through the one time grammar (src/export/event-time.ts), or a constant, to INT64 microseconds
 * written as two 32-bit words (never a double of the microseconds). A time that cannot be read or
 * stored rejects its row.
 */
import {
  type EpochUnit,
  type EventTime,
  epochTimeProblem,
  isDecimalText,
  LAKE_FIRST_SECOND,
  LAKE_LAST_SECOND,
  lakeTimeProblem,
  microsToTime,
  parseEpochTime,
  parseIsoTime,
  readTimeSeconds,
  writeMicrosWords,
  writeTimeWords,
} from '../../export/event-time.js';
import { OctaError } from '../../lattice/errors.js';
import type { ColumnData, SourceChunk } from '../sources/index.js';
import { isNullAt, rawValue, show, sourceInvalid } from './convert-values.js';

/** Where the event time comes from. */
export type TimeMapping =
  | { kind: 'column'; column: string; unit: 'auto' | EpochUnit }
  | { kind: 'constant'; time: EventTime };

/** Source timestamp types that are event times, with their units per microsecond. */
const TIMESTAMP_NS_PER_US: Readonly<Partial<Record<ColumnData['type'], bigint>>> = {
  timestamp_us: 1n,
  local_timestamp_us: 1n,
  timestamp_ns: 1000n,
  local_timestamp_ns: 1000n,
};

/** Event times as INT64 µs, with a reject for each row whose time cannot be read or stored. */
export function convertTimes(
  plan: TimeMapping,
  chunk: SourceChunk,
  n: number,
  fail: (i: number, reason: string) => void,
): BigInt64Array {
  const out = new BigInt64Array(n);
  const words = new Int32Array(out.buffer, out.byteOffset, 2 * n);
  if (plan.kind === 'constant') {
    for (let i = 0; i < n; i++) writeTimeWords(words, i, plan.time);
    return out;
  }
  const data = chunk.columns[plan.column];
  if (!data) throw new OctaError('SCHEMA_MISMATCH', 'the time column is missing from the input', plan.column);
  const name = show(plan.column);
  // Typed times: timestamps in µs as they are, in ns floored to µs, dates at their midnight (UTC).
  if (data.type === 'date' || TIMESTAMP_NS_PER_US[data.type] !== undefined) {
    const perUs = TIMESTAMP_NS_PER_US[data.type] ?? 1n;
    // Microsecond timestamps and dates within the lake's years move without a BigInt per row.
    const source =
      perUs === 1n && data.type !== 'date'
        ? new Int32Array(
            (data.values as BigInt64Array).buffer,
            (data.values as BigInt64Array).byteOffset,
            2 * n,
          )
        : undefined;
    for (let i = 0; i < n; i++) {
      const invalid = sourceInvalid(data, i);
      if (isNullAt(data, i)) {
        fail(i, `column ${name}: no time`);
        continue;
      }
      if (invalid !== undefined) {
        fail(i, `column ${name}: ${invalid}`);
        continue;
      }
      if (source !== undefined) {
        const seconds = readTimeSeconds(source, i);
        if (seconds >= LAKE_FIRST_SECOND && seconds <= LAKE_LAST_SECOND) {
          words[2 * i] = source[2 * i]!;
          words[2 * i + 1] = source[2 * i + 1]!;
          continue;
        }
      } else if (data.type === 'date') {
        const seconds = (data.values[i] as number) * 86400;
        if (seconds >= LAKE_FIRST_SECOND && seconds <= LAKE_LAST_SECOND) {
          writeMicrosWords(words, i, seconds, 0);
          continue;
        }
      }
      let us: bigint;
      if (data.type === 'date') us = BigInt(data.values[i] as number) * 86_400_000_000n;
      else {
        const v = data.values[i] as bigint;
        const q = v / perUs;
        us = v < 0n && q * perUs !== v ? q - 1n : q;
      }
      const t = microsToTime(us);
      const problem = lakeTimeProblem(t);
      if (problem !== null) {
        fail(i, `column ${name}: time ${us} µs ${problem}`);
        continue;
      }
      writeTimeWords(words, i, t);
    }
    return out;
  }
  const unit = timeUnit(plan);
  if (data.type === 'event_time') {
    // Times the reader took from the bytes are final; the rest go through the full grammar.
    out.set(data.values.subarray(0, n));
    for (const [i, text] of data.text) if (i < n) readTime(text, i);
    return out;
  }
  for (let i = 0; i < n; i++)
    readTime(data.type === 'text' || data.type === 'json' ? data.values[i] : rawValue(data, i), i);
  return out;

  function readTime(v: unknown, i: number): void {
    if (v === null || v === undefined || v === '') {
      fail(i, `column ${name} is empty`);
      return;
    }
    let t: EventTime | string | null;
    let epoch = false;
    if (typeof v === 'number' || typeof v === 'bigint') {
      t = parseEpochTime(v, unit);
      epoch = true;
    } else if (typeof v === 'string') {
      epoch = isDecimalText(v.trim());
      t = epoch ? parseEpochTime(v, unit) : parseIsoTime(v);
    } else t = null;
    if (t === null) {
      fail(i, `column ${name}: unparsable time ${show(v)}`);
      return;
    }
    if (typeof t === 'string') {
      fail(i, epoch ? `column ${name}: time ${t}` : `column ${name}: unparsable time ${show(v)}: ${t}`);
      return;
    }
    const problem = lakeTimeProblem(t);
    if (problem !== null) {
      fail(
        i,
        epoch
          ? `column ${name}: time ${epochTimeProblem(typeof v === 'string' ? v.trim() : (v as number | bigint), unit)}`
          : `column ${name}: time ${typeof v === 'bigint' ? `${v} µs` : show(v)} ${problem}`,
      );
      return;
    }
    writeTimeWords(words, i, t);
  }
}

/** The unit of a time column's epoch numbers (`auto` reads seconds). */
export function timeUnit(plan: TimeMapping & { kind: 'column' }): EpochUnit {
  return plan.unit === 'auto' ? 's' : plan.unit;
}
