/**
 * The Avro side of the Iceberg view (Iceberg spec v2, "Manifests" and "Manifest Lists"): the
 * `manifest_entry` and `manifest_file` schemas with the spec's field ids, and object container
 * files written and read with avsc. The schemas are written to each file's header as given here
 * (field ids included), with the key/value metadata the spec requires of a manifest.
 *
 * 64-bit values (snapshot ids, sizes, counts) stay below 2^53 (snapshot ids are drawn that way), so
 * avsc's default `long` decodes them as exact numbers.
 */
import type { Readable } from 'node:stream';
import { OctaError } from '../../../lattice/errors.js';

type Avsc = typeof import('avsc');
let avscModule: Promise<Avsc> | undefined;
/** avsc, loaded on first use so that importing the lake loads no Avro code. */
const avsc = () => {
  avscModule ??= import('avsc').then((m) => ((m as { default?: Avsc }).default ?? m) as Avsc);
  return avscModule;
};

const optional = (type: unknown, name: string, id: number) => ({
  name,
  type: ['null', type],
  default: null,
  'field-id': id,
});
const required = (type: unknown, name: string, id: number) => ({ name, type, 'field-id': id });
/** An Iceberg `map<int, V>` as Avro: an array of key/value records with the `map` logical type. */
const intMap = (name: string, id: number, keyId: number, valueId: number, value: string) =>
  optional(
    {
      type: 'array',
      logicalType: 'map',
      items: {
        type: 'record',
        name: `k${keyId}_v${valueId}`,
        fields: [required('int', 'key', keyId), required(value, 'value', valueId)],
      },
    },
    name,
    id,
  );

/** The Avro type of a partition field's value (Iceberg spec, "Partition Transforms"). */
export interface PartitionFieldAvro {
  name: string;
  fieldId: number;
  /** `date` for `day`, plain `int` for `hour` and `month`. */
  logicalType?: 'date';
}

/** The `manifest_entry` schema (spec v2) for manifests of one partition spec. */
export function manifestEntrySchema(partition: readonly PartitionFieldAvro[]) {
  const partitionRecord = {
    type: 'record',
    name: 'r102',
    fields: partition.map((p) =>
      optional(p.logicalType ? { type: 'int', logicalType: p.logicalType } : 'int', p.name, p.fieldId),
    ),
  };
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      required('int', 'status', 0),
      optional('long', 'snapshot_id', 1),
      optional('long', 'sequence_number', 3),
      optional('long', 'file_sequence_number', 4),
      required(
        {
          type: 'record',
          name: 'r2',
          fields: [
            required('int', 'content', 134),
            required('string', 'file_path', 100),
            required('string', 'file_format', 101),
            required(partitionRecord, 'partition', 102),
            required('long', 'record_count', 103),
            required('long', 'file_size_in_bytes', 104),
            intMap('column_sizes', 108, 117, 118, 'long'),
            intMap('value_counts', 109, 119, 120, 'long'),
            intMap('null_value_counts', 110, 121, 122, 'long'),
            intMap('nan_value_counts', 137, 138, 139, 'long'),
            intMap('lower_bounds', 125, 126, 127, 'bytes'),
            intMap('upper_bounds', 128, 129, 130, 'bytes'),
            optional('bytes', 'key_metadata', 131),
            optional({ type: 'array', items: 'long', 'element-id': 133 }, 'split_offsets', 132),
            optional({ type: 'array', items: 'int', 'element-id': 136 }, 'equality_ids', 135),
            optional('int', 'sort_order_id', 140),
          ],
        },
        'data_file',
        2,
      ),
    ],
  };
}

/** The `manifest_file` schema (spec v2) of a manifest list. */
export const MANIFEST_FILE_SCHEMA = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    required('string', 'manifest_path', 500),
    required('long', 'manifest_length', 501),
    required('int', 'partition_spec_id', 502),
    required('int', 'content', 517),
    required('long', 'sequence_number', 515),
    required('long', 'min_sequence_number', 516),
    required('long', 'added_snapshot_id', 503),
    required('int', 'added_files_count', 504),
    required('int', 'existing_files_count', 505),
    required('int', 'deleted_files_count', 506),
    required('long', 'added_rows_count', 512),
    required('long', 'existing_rows_count', 513),
    required('long', 'deleted_rows_count', 514),
    optional(
      {
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            required('boolean', 'contains_null', 509),
            optional('boolean', 'contains_nan', 518),
            optional('bytes', 'lower_bound', 510),
            optional('bytes', 'upper_bound', 511),
          ],
        },
      },
      'partitions',
      507,
    ),
    optional('bytes', 'key_metadata', 519),
  ],
};

/** A `map<int, V>` value as avsc reads and writes it. */
export type IntMap<V> = { key: number; value: V }[] | null;

/** A `data_file` record. */
export interface DataFileRecord {
  content: number;
  file_path: string;
  file_format: string;
  partition: Record<string, number | null>;
  record_count: number;
  file_size_in_bytes: number;
  column_sizes: IntMap<number>;
  value_counts: IntMap<number>;
  null_value_counts: IntMap<number>;
  nan_value_counts: IntMap<number>;
  lower_bounds: IntMap<Uint8Array>;
  upper_bounds: IntMap<Uint8Array>;
  key_metadata: Uint8Array | null;
  split_offsets: number[] | null;
  equality_ids: number[] | null;
  sort_order_id: number | null;
}

/** A `manifest_entry` record; 0 EXISTING, 1 ADDED, 2 DELETED. */
export interface ManifestEntryRecord {
  status: 0 | 1 | 2;
  snapshot_id: number | null;
  sequence_number: number | null;
  file_sequence_number: number | null;
  data_file: DataFileRecord;
}

/** A `field_summary` record. */
export interface FieldSummaryRecord {
  contains_null: boolean;
  contains_nan: boolean | null;
  lower_bound: Uint8Array | null;
  upper_bound: Uint8Array | null;
}

/** A `manifest_file` record. */
export interface ManifestFileRecord {
  manifest_path: string;
  manifest_length: number;
  partition_spec_id: number;
  content: number;
  sequence_number: number;
  min_sequence_number: number;
  added_snapshot_id: number;
  added_files_count: number;
  existing_files_count: number;
  deleted_files_count: number;
  added_rows_count: number;
  existing_rows_count: number;
  deleted_rows_count: number;
  partitions: FieldSummaryRecord[] | null;
  key_metadata: Uint8Array | null;
}

/**
 * Encodes records as an Avro object container file (deflate blocks), header included even when
 * there is no record.
 * @param schema - the Avro schema, written to the header as given
 * @param records - the records, each valid for the schema
 * @param metadata - further header keys (the spec's manifest keys)
 * @returns the file's bytes
 */
export async function encodeContainer(
  schema: object,
  records: readonly object[],
  metadata: Readonly<Record<string, string>> = {},
): Promise<Uint8Array> {
  const { streams } = await avsc();
  const encoder = new streams.BlockEncoder(
    schema as never,
    {
      codec: 'deflate',
      writeHeader: 'always',
      metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'utf8')])),
    } as never,
  );
  const done = collect(encoder);
  for (const record of records) encoder.write(record);
  encoder.end();
  return done;
}

function collect(stream: Readable): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
  });
}

/**
 * Decodes an Avro object container file with the schema in its header.
 * @param bytes - the file's bytes
 * @param key - the file's storage key, for errors
 * @returns the header's metadata (as text) and the records
 * @throws {OctaError} CORRUPT when the bytes are not an Avro container file
 */
export async function decodeContainer<T>(
  bytes: Uint8Array,
  key: string,
): Promise<{ metadata: Record<string, string>; records: T[] }> {
  const { streams } = await avsc();
  const decoder = new streams.BlockDecoder();
  const records: T[] = [];
  const metadata: Record<string, string> = {};
  decoder.on('metadata', (_type: unknown, _codec: unknown, header: { meta: Record<string, Buffer> }) => {
    for (const [k, v] of Object.entries(header.meta)) metadata[k] = v.toString('utf8');
  });
  decoder.on('data', (record: T) => records.push(record));
  try {
    await new Promise<void>((resolve, reject) => {
      decoder.on('error', reject);
      decoder.on('end', resolve);
      decoder.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
    // avsc's decoder stops quietly at a truncated header or block: count the records the file holds.
    if (recordsIn(bytes) !== records.length) throw new Error('the file is truncated');
  } catch (error) {
    throw new OctaError('CORRUPT', `not a readable Avro file of the Iceberg view: ${String(error)}`, key);
  }
  return { metadata, records };
}

/**
 * The number of records an Avro object container file holds, walking its header and blocks
 * (Avro 1.11 "Object Container Files") without decoding a record.
 * @throws Error when the file ends early, has bytes after its last block or a wrong sync marker
 */
function recordsIn(bytes: Uint8Array): number {
  let pos = 0;
  const need = (n: number) => {
    if (n < 0 || pos + n > bytes.length) throw new Error('the file is truncated');
    pos += n;
    return pos - n;
  };
  const long = () => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[need(1)]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      scale *= 128;
    }
  };
  need(4);
  for (let count = long(); count !== 0; count = long()) {
    if (count < 0) long();
    for (let i = 0; i < Math.abs(count); i++) {
      need(long());
      need(long());
    }
  }
  const sync = bytes.subarray(need(16), pos);
  let records = 0;
  while (pos < bytes.length) {
    records += long();
    need(long());
    const marker = bytes.subarray(need(16), pos);
    if (!marker.every((b, i) => b === sync[i])) throw new Error('a block has the wrong sync marker');
  }
  return records;
}
