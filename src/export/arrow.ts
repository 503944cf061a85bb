/**
 * PointBuffer ⇄ Apache Arrow. Towards Arrow, number, id and time columns are handed over as views
 * of the buffer's own arrays (no copy); only validity and booleans are packed into Arrow's bitmaps.
 * From Arrow, any table with the required columns and supported payload types becomes a buffer.
 */
import {
  Bool,
  type Data,
  DataType,
  DateDay,
  DateUnit,
  Decimal,
  Field,
  Float64,
  Int32,
  Int64,
  makeData,
  Precision,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeMicrosecond,
  TimeNanosecond,
  TimestampMicrosecond,
  TimestampNanosecond,
  TimeUnit,
  Uint64,
  Utf8,
} from 'apache-arrow';
import { OctaError } from '../lattice/errors.js';
import type { ColumnView, PayloadValues, PointChunk } from './container.js';
import { PointBuffer } from './container.js';
import {
  type ColumnSpec,
  type ColumnType,
  createPointSchema,
  decimalOf,
  isSameSchema,
  MAX_DECIMAL_PRECISION,
  PAYLOAD_TYPES,
  type PayloadColumn,
  type PointSchema,
  REQUIRED_COLUMNS,
} from './schema.js';

/** Time zone of the `time` column: Arrow stores UTC instants; the zone tells readers so. */
export const TIME_ZONE = 'UTC';

function arrowType(type: ColumnType): DataType {
  switch (type) {
    case 'float64':
      return new Float64();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'uint64':
      return new Uint64();
    case 'bool':
      return new Bool();
    case 'utf8':
      return new Utf8();
    case 'date':
      return new DateDay();
    case 'time_us':
      return new TimeMicrosecond();
    case 'time_ns':
      return new TimeNanosecond();
    case 'timestamp_us':
      return new TimestampMicrosecond(TIME_ZONE);
    case 'local_timestamp_us':
      return new TimestampMicrosecond(null);
    case 'local_timestamp_ns':
      return new TimestampNanosecond(null);
    default: {
      const { precision, scale } = decimalOf(type)!;
      return new Decimal(scale, precision, 128);
    }
  }
}

/**
 * The Arrow schema of a point schema.
 * @param schema - point schema
 * @param metadata - schema-level key/value metadata (default none)
 * @returns the Arrow schema; required columns are non-nullable
 */
export function pointSchemaToArrow(
  schema: PointSchema,
  metadata: Readonly<Record<string, string>> = {},
): Schema {
  const fields = schema.columns.map((c) => new Field(c.name, arrowType(c.type), c.nullable));
  return new Schema(fields, new Map(Object.entries(metadata)));
}

function columnTypeOf(type: DataType): ColumnType | undefined {
  if (DataType.isFloat(type) && type.precision === Precision.DOUBLE) return 'float64';
  if (DataType.isInt(type) && type.isSigned && type.bitWidth === 32) return 'int32';
  if (DataType.isInt(type) && type.isSigned && type.bitWidth === 64) return 'int64';
  if (DataType.isInt(type) && !type.isSigned && type.bitWidth === 64) return 'uint64';
  if (DataType.isBool(type)) return 'bool';
  if (DataType.isUtf8(type)) return 'utf8';
  if (DataType.isDate(type) && type.unit === DateUnit.DAY) return 'date';
  if (DataType.isTime(type) && type.bitWidth === 64) {
    if (type.unit === TimeUnit.MICROSECOND) return 'time_us';
    if (type.unit === TimeUnit.NANOSECOND) return 'time_ns';
  }
  if (DataType.isDecimal(type) && type.bitWidth === 128 && type.precision <= MAX_DECIMAL_PRECISION) {
    return `decimal(${type.precision},${type.scale})`;
  }
  if (DataType.isTimestamp(type)) {
    // Arrow timestamps with a zone are UTC instants; a zoneless one is a local date and time.
    const zoned = type.timezone !== null && type.timezone !== undefined && type.timezone !== '';
    if (type.unit === TimeUnit.MICROSECOND) return zoned ? 'timestamp_us' : 'local_timestamp_us';
    if (type.unit === TimeUnit.NANOSECOND && !zoned) return 'local_timestamp_ns';
  }
  return undefined;
}

/**
 * The point schema of an Arrow schema: the required columns by name, every other column as payload
 * in table order.
 * @param arrowSchema - schema of a table read from a point file
 * @returns the point schema
 * @throws {OctaError} SCHEMA_MISMATCH for a missing required column or an unsupported type
 */
export function arrowToPointSchema(arrowSchema: Schema): PointSchema {
  const byName = new Map(arrowSchema.fields.map((f) => [f.name, f]));
  for (const required of REQUIRED_COLUMNS) {
    const field = byName.get(required.name);
    if (field === undefined) {
      throw new OctaError('SCHEMA_MISMATCH', 'table lacks a required point column', required.name);
    }
    const found = columnTypeOf(field.type);
    // `time` is a UTC instant; a file written before zones were told apart may lack the zone.
    if (found !== required.type && !(required.name === 'time' && found === 'local_timestamp_us')) {
      throw new OctaError(
        'SCHEMA_MISMATCH',
        `column "${required.name}" must be ${String(arrowType(required.type))}`,
        String(field.type),
      );
    }
  }
  const payload: PayloadColumn[] = [];
  for (const field of arrowSchema.fields) {
    if (REQUIRED_COLUMNS.some((c) => c.name === field.name)) continue;
    const type = columnTypeOf(field.type);
    if (type === undefined) {
      throw new OctaError(
        'SCHEMA_MISMATCH',
        `payload column "${field.name}" has an unsupported type; use one of ${PAYLOAD_TYPES.map((t) => String(arrowType(t))).join(', ')} or Decimal128 with precision ≤ ${MAX_DECIMAL_PRECISION}`,
        String(field.type),
      );
    }
    payload.push({ name: field.name, type });
  }
  return createPointSchema({ payload });
}

/** Packs bytes (nonzero = set) into an LSB-first bitmap; returns the bitmap and the zero count. */
function packBits(bytes: Uint8Array): { bits: Uint8Array; zeros: number } {
  const n = bytes.length;
  const bits = new Uint8Array((n + 7) >>> 3);
  let ones = 0;
  for (let i = 0; i < n; i++) {
    if (bytes[i]) {
      bits[i >>> 3]! |= 1 << (i & 7);
      ones++;
    }
  }
  return { bits, zeros: n - ones };
}

function unpackBits(bits: Uint8Array, offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const j = offset + i;
    bytes[i] = (bits[j >>> 3]! >>> (j & 7)) & 1;
  }
  return bytes;
}

/** Unscaled int64 decimals as Decimal128 words (four 32-bit words a value, sign-extended). */
function int64ToDecimal128(values: BigInt64Array): Uint32Array {
  const src = new Uint32Array(values.buffer, values.byteOffset, 2 * values.length);
  const out = new Uint32Array(4 * values.length);
  for (let i = 0; i < values.length; i++) {
    const high = src[2 * i + 1]!;
    const sign = high & 0x80000000 ? 0xffffffff : 0;
    out[4 * i] = src[2 * i]!;
    out[4 * i + 1] = high;
    out[4 * i + 2] = sign;
    out[4 * i + 3] = sign;
  }
  return out;
}

/** Decimal128 words back to unscaled int64 (exact: a payload decimal's precision is at most 18). */
function decimal128ToInt64(words: Uint32Array, length: number): BigInt64Array {
  const out = new BigInt64Array(length);
  const dst = new Uint32Array(out.buffer);
  for (let i = 0; i < length; i++) {
    dst[2 * i] = words[4 * i]!;
    dst[2 * i + 1] = words[4 * i + 1]!;
  }
  return out;
}

function columnData(spec: ColumnSpec, view: ColumnView, rows: number): Data {
  const type = arrowType(spec.type);
  let nullBitmap: Uint8Array | undefined;
  let nullCount = 0;
  if (view.valid !== undefined) {
    const packed = packBits(view.valid);
    if (packed.zeros > 0) {
      nullBitmap = packed.bits;
      nullCount = packed.zeros;
    }
  }
  const nulls = nullBitmap === undefined ? {} : { nullBitmap, nullCount };
  if (view.type === 'utf8') {
    return makeData({
      type: type as Utf8,
      length: rows,
      valueOffsets: view.offsets,
      data: view.data,
      ...nulls,
    });
  }
  if (DataType.isDecimal(type)) {
    return makeData({ type, length: rows, data: int64ToDecimal128(view.values as BigInt64Array), ...nulls });
  }
  const data = view.type === 'bool' ? packBits(view.values).bits : view.values;
  return makeData({ type: type as Int64, length: rows, data: data as BigInt64Array, ...nulls });
}

/**
 * An Arrow table over a buffer's rows. Number, id and time columns are views of the buffer's
 * arrays, so the table is cheap but shares memory: write it out before the buffer is appended to or
 * cleared again.
 * @param buffer - the rows
 * @param options.metadata - schema-level key/value metadata (default none)
 * @returns a one-batch table; `cell` is Int64, `time` is Timestamp(MICROSECOND, "UTC")
 */
export function pointBufferToArrow(
  buffer: PointBuffer,
  { metadata = {} }: { metadata?: Readonly<Record<string, string>> } = {},
): Table {
  const schema = pointSchemaToArrow(buffer.schema, metadata);
  const rows = buffer.rows;
  const children = buffer.schema.columns.map((spec) => columnData(spec, buffer.getColumn(spec.name), rows));
  const struct = makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, struct)]);
}

function payloadValues(spec: ColumnSpec, data: Data): PayloadValues {
  // Arrow JS slices value and offset buffers eagerly; only bitmaps (validity, booleans) start at
  // bit `offset`.
  const { offset, length } = data;
  const valid =
    data.nullCount > 0 && data.nullBitmap !== undefined && data.nullBitmap.length > 0
      ? unpackBits(data.nullBitmap, offset, length)
      : undefined;
  if (!spec.nullable && valid !== undefined) {
    throw new OctaError('INVALID_INPUT', `required column "${spec.name}" holds nulls`, data.nullCount);
  }
  if (spec.type === 'utf8') {
    const offsets = (data.valueOffsets as Int32Array).subarray(0, length + 1);
    return valid === undefined
      ? { offsets, data: data.values as Uint8Array }
      : { offsets, data: data.values as Uint8Array, valid };
  }
  const raw = data.values as Float64Array | Int32Array | BigInt64Array | BigUint64Array | Uint32Array;
  const values =
    decimalOf(spec.type) !== undefined
      ? decimal128ToInt64(raw as Uint32Array, length)
      : spec.type === 'bool'
        ? unpackBits(data.values as Uint8Array, offset, length)
        : raw instanceof BigUint64Array
          ? // uint64 is held as its raw bits in a BigInt64Array.
            new BigInt64Array(raw.buffer, raw.byteOffset, length)
          : (raw as Float64Array | Int32Array | BigInt64Array).subarray(0, length);
  return valid === undefined ? values : { values, valid };
}

/**
 * The rows of an Arrow table of points as chunks, one per record batch: number, id and time
 * columns are views of the table's buffers (booleans, validity and decimals are unpacked).
 * @param table - a table with the required columns (in any order) and supported payload types
 * @param options.schema - expected schema; when given the table must match it exactly
 * @returns the schema of the chunks, and the chunks
 * @throws {OctaError} SCHEMA_MISMATCH for missing columns, unsupported types or a schema other
 *   than the expected one; INVALID_INPUT for nulls in a required column
 */
export function arrowToPointChunks(
  table: Table,
  { schema }: { schema?: PointSchema } = {},
): { schema: PointSchema; chunks: PointChunk[] } {
  const found = arrowToPointSchema(table.schema);
  if (schema !== undefined && !isSameSchema(schema, found)) {
    throw new OctaError(
      'SCHEMA_MISMATCH',
      'table columns differ from the expected schema',
      found.columns.map((c) => `${c.name}:${c.type}`),
    );
  }
  const target = schema ?? found;
  const index = new Map(table.schema.fields.map((f, i) => [f.name, i]));
  const chunks = table.batches.map((batch): PointChunk => {
    const column = (spec: ColumnSpec) => payloadValues(spec, batch.data.children[index.get(spec.name)!]!);
    const [cell, x, y, z, t] = REQUIRED_COLUMNS.map(column) as [
      BigInt64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      BigInt64Array,
    ];
    // No prototype: a payload column may be called "__proto__".
    const payload: Record<string, PayloadValues> = Object.create(null);
    for (const spec of target.columns.slice(REQUIRED_COLUMNS.length)) payload[spec.name] = column(spec);
    return { cell, x, y, z, time: t, payload };
  });
  return { schema: target, chunks };
}

/**
 * Copies an Arrow table of points into a new buffer.
 * @param table - a table with the required columns (in any order) and supported payload types
 * @param options.schema - expected schema; when given the table must match it exactly
 * @returns a buffer holding every row, sized exactly
 * @throws {OctaError} SCHEMA_MISMATCH for missing columns, unsupported types or a schema other
 *   than the expected one; INVALID_INPUT for nulls in a required column
 */
export function arrowToPointBuffer(table: Table, options: { schema?: PointSchema } = {}): PointBuffer {
  const { schema, chunks } = arrowToPointChunks(table, options);
  const buffer = PointBuffer.create({ schema, capacity: table.numRows });
  for (const chunk of chunks) buffer.append(chunk);
  return buffer;
}
