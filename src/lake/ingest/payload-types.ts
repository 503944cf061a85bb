/**
 * Which input columns the lake can store, and as what, decided before any row is read: a typed
 * column keeps its type (docs/LAKE.md, "Payload types") or the ingest is refused naming it; a table
 * column of a date, time or decimal type takes only an input column of that same type.
 */
import {
  decimalOf,
  MAX_DECIMAL_PRECISION,
  PAYLOAD_TYPES,
  type PayloadColumn,
  type PayloadType,
} from '../../export/schema.js';
import { OctaError } from '../../lattice/errors.js';
import type { SourceColumn } from '../sources/index.js';

/** Source types stored as the payload type of the same name. */
const KEPT_TYPES: ReadonlySet<string> = new Set<string>(PAYLOAD_TYPES);

/** Types whose values mean a date or a time: they fill, and are filled by, only their own type. */
const TIME_TYPES: ReadonlySet<string> = new Set([
  'date',
  'time_us',
  'time_ns',
  'timestamp_us',
  'local_timestamp_us',
  'timestamp_ns',
  'local_timestamp_ns',
]);

const quote = (name: string) => JSON.stringify(name);

/**
 * The payload type a typed source column is stored as.
 * @param column - a source column
 * @returns its payload type, or undefined for a text or JSON column (inferred from its values)
 * @throws {OctaError} SCHEMA_MISMATCH, naming the column, for a type the lake cannot store exactly
 */
export function payloadTypeOf(column: SourceColumn): PayloadType | undefined {
  if (KEPT_TYPES.has(column.type)) return column.type as PayloadType;
  if (column.type === 'text' || column.type === 'json') return undefined;
  if (column.type === 'decimal') return `decimal(${column.precision ?? 18},${column.scale ?? 0})`;
  const why =
    column.type === 'timestamp_ns'
      ? 'a nanosecond timestamp adjusted to UTC, which DuckDB reads back only to the microsecond'
      : `${column.detail ?? column.type}, which the lake has no exact type for`;
  const hint =
    column.type === 'wide_decimal'
      ? `the lake stores decimals of precision up to ${MAX_DECIMAL_PRECISION}: cast it in the input (to a narrower DECIMAL, to DOUBLE if rounding is acceptable, or to VARCHAR) or leave it out with \`exclude\``
      : 'cast it in the input to a type the lake stores (docs/LAKE.md, "Payload types") or leave it out with `exclude`';
  throw new OctaError(
    'SCHEMA_MISMATCH',
    `input column ${quote(column.name)} is ${why}: ${hint}`,
    column.name,
    { params: ['exclude'] },
  );
}

/**
 * Checks the columns an ingest will read from one input, before any row is read.
 * @param options.name - the input's name, for messages
 * @param options.columns - the input's columns
 * @param options.read - names of the columns that will be read (mapped ones and payload)
 * @param options.payload - names of the input's payload columns
 * @param options.mapped - names of the mapped coordinate and time columns
 * @param options.table - the existing table's payload columns, when appending to one
 * @throws {OctaError} SCHEMA_MISMATCH naming the column: a payload column of a type the lake
 *   cannot store, any read column that cannot be decoded, or (existing table) a date or time
 *   column meeting a column of another type
 */
export function checkInputColumns({
  name,
  columns,
  read,
  payload,
  mapped,
  table,
}: {
  name: string;
  columns: readonly SourceColumn[];
  read: ReadonlySet<string>;
  payload: ReadonlySet<string>;
  mapped: ReadonlySet<string>;
  table?: readonly PayloadColumn[];
}): void {
  const tableTypes = new Map(table?.map((c) => [c.name, c.type]));
  for (const column of columns) {
    if (!read.has(column.name)) continue;
    if (!payload.has(column.name)) {
      if (column.type === 'unsupported') payloadTypeOf(column);
      continue;
    }
    // A mapped coordinate is a double by design (DESIGN §3), also where it is kept as payload.
    const own = mapped.has(column.name) && column.type === 'wide_decimal' ? 'float64' : payloadTypeOf(column);
    const target = tableTypes.get(column.name);
    if (target === undefined || own === target) continue;
    const into = decimalOf(target);
    const from = own === undefined ? undefined : decimalOf(own);
    if (
      into !== undefined &&
      from !== undefined &&
      from.scale === into.scale &&
      from.precision <= into.precision
    )
      continue;
    if (TIME_TYPES.has(target) || TIME_TYPES.has(column.type) || into !== undefined || from !== undefined) {
      throw new OctaError(
        'SCHEMA_MISMATCH',
        `${name}: column ${quote(column.name)} is ${own ?? column.type} but the table stores it as ${target}; a date, time or decimal column takes only its own type (a decimal also one of the same scale and no more digits)`,
        column.name,
      );
    }
  }
}
