/**
 * Iceberg table metadata (spec v2, "Table Metadata" and Appendix C) for one lake table: the schema
 * with field ids, the `day`/`hour`/`month(time)` partition spec that matches the table's time
 * bucket, the properties, and the file-system table convention: `<table>/metadata/v<N>.metadata.json`
 * created if absent (the atomic step), then `version-hint.text` holding N.
 */
import { createHash } from 'node:crypto';
import { columnFieldId, decimalOf, type PayloadType, REQUIRED_COLUMNS } from '../../../export/schema.js';
import { OctaError } from '../../../lattice/errors.js';
import { frameToSpec } from '../../../lattice/frame.js';
import type { Storage } from '../../storage/storage.js';
import type { TableConfig } from '../records.js';
import type { PartitionFieldAvro } from './iceberg-avro.js';
import { metadataKey, versionHintKey } from './view-location.js';

/** A field of an Iceberg schema. */
export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  type: string;
}

/** A snapshot as table metadata lists it. */
export interface IcebergSnapshot {
  'snapshot-id': number;
  'parent-snapshot-id'?: number;
  'sequence-number': number;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: Record<string, string>;
  'schema-id': number;
}

/** Table metadata, format version 2. */
export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': number;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: { type: 'struct'; 'schema-id': number; fields: IcebergField[] }[];
  'default-spec-id': number;
  'partition-specs': {
    'spec-id': number;
    fields: { name: string; transform: string; 'source-id': number; 'field-id': number }[];
  }[];
  'last-partition-id': number;
  'default-sort-order-id': number;
  'sort-orders': { 'order-id': number; fields: unknown[] }[];
  properties: Record<string, string>;
  'current-snapshot-id': number;
  refs: Record<string, { 'snapshot-id': number; type: 'branch' }>;
  snapshots: IcebergSnapshot[];
  'snapshot-log': { 'timestamp-ms': number; 'snapshot-id': number }[];
  'metadata-log': { 'timestamp-ms': number; 'metadata-file': string }[];
}

/** The snapshot summary key holding the catalog version a snapshot reflects. */
export const CATALOG_VERSION_KEY = 'octa.catalog-version';
/** The field id of the one partition field. */
export const PARTITION_FIELD_ID = 1000;
/** The field id of `time` (the partition source). */
export const TIME_FIELD_ID = columnFieldId(REQUIRED_COLUMNS.findIndex((c) => c.name === 'time'));
/** How many earlier metadata files `metadata-log` names (Iceberg's default is 100). */
const METADATA_LOG_MAX = 20;

/** Where a table's Iceberg metadata lives. */
export const metadataDir = (table: string) => `${table}/metadata/`;

// Payload types with an exact Iceberg v2 type. uint64 (no unsigned type: values past 2^63 would
// read negative), time_ns and local_timestamp_ns (nanoseconds are v3) are left out of the schema
// rather than shown changed; the property `octa.columns-not-in-iceberg` names them.
const ICEBERG_TYPES: Partial<Record<PayloadType, string>> = {
  float64: 'double',
  int32: 'int',
  int64: 'long',
  bool: 'boolean',
  utf8: 'string',
  date: 'date',
  time_us: 'time',
  timestamp_us: 'timestamptz',
  local_timestamp_us: 'timestamp',
};

function icebergType(type: PayloadType): string | undefined {
  const decimal = decimalOf(type);
  return decimal ? `decimal(${decimal.precision}, ${decimal.scale})` : ICEBERG_TYPES[type];
}

/**
 * The table's columns with their field ids ({@link columnFieldId}: cell 1, x 2, y 3, z 4, time 5,
 * payload from 6, the ids lake files carry as Parquet field ids). Payload columns without an exact
 * Iceberg v2 type are left out and returned apart.
 */
export function icebergFields(config: TableConfig): { fields: IcebergField[]; omitted: string[] } {
  const fields: IcebergField[] = REQUIRED_COLUMNS.map((c, i) => ({
    id: columnFieldId(i),
    name: c.name,
    required: true,
    type: icebergType(c.type)!,
  }));
  const omitted: string[] = [];
  config.payload.forEach((column, i) => {
    const type = icebergType(column.type);
    if (type === undefined) omitted.push(column.name);
    else
      fields.push({
        id: columnFieldId(REQUIRED_COLUMNS.length + i),
        name: column.name,
        required: false,
        type,
      });
  });
  return { fields, omitted };
}

const TRANSFORMS = { day: 'day', hour: 'hour', month: 'month' } as const;

/** The partition field of a table: `<bucket>(time)`, named `time_<bucket>`. */
export function partitionField(config: TableConfig): PartitionFieldAvro & { transform: string } {
  const transform = TRANSFORMS[config.timeBucket];
  return {
    name: `time_${transform}`,
    fieldId: PARTITION_FIELD_ID,
    transform,
    ...(transform === 'day' ? { logicalType: 'date' as const } : {}),
  };
}

/** A table's `table-uuid`: a version-4-shaped UUID drawn from the table's name and creation time. */
export function tableUuid(config: TableConfig): string {
  const h = createHash('sha256').update(`octa-lake iceberg\0${config.name}\0${config.createdAt}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The snapshot id that publishes catalog version `version`: the same for every publisher of the
 * same table, positive and below 2^53 (exact as a JSON number and in avsc's `long`).
 */
export function snapshotIdOf(uuid: string, version: number): number {
  const h = createHash('sha256').update(`${uuid}\0${version}`).digest();
  return Number(h.readBigUInt64BE(0) >> 11n) || 1;
}

/** The table's properties: the name mapping for files without field ids, and the lake's settings. */
function properties(config: TableConfig, fields: IcebergField[], omitted: string[]): Record<string, string> {
  return {
    'schema.name-mapping.default': JSON.stringify(fields.map((f) => ({ 'field-id': f.id, names: [f.name] }))),
    'write.format.default': 'parquet',
    'write.parquet.compression-codec': 'zstd',
    'octa.frame': frameToSpec(config.frame),
    'octa.frame-id': String(config.frame.id),
    'octa.id-kind': config.idKind,
    'octa.lod': String(config.lod),
    'octa.time-bucket': config.timeBucket,
    ...(omitted.length > 0 ? { 'octa.columns-not-in-iceberg': JSON.stringify(omitted) } : {}),
  };
}

/**
 * The metadata of a table with no snapshot yet (never written as such: the first version carries
 * the first snapshot).
 */
export function emptyMetadata(storage: Storage, config: TableConfig): TableMetadata {
  const { fields, omitted } = icebergFields(config);
  const partition = partitionField(config);
  return {
    'format-version': 2,
    'table-uuid': tableUuid(config),
    location: `${storage.url}/${config.name}`,
    'last-sequence-number': 0,
    'last-updated-ms': Date.parse(config.createdAt),
    'last-column-id': Math.max(...fields.map((f) => f.id)),
    'current-schema-id': 0,
    schemas: [{ type: 'struct', 'schema-id': 0, fields }],
    'default-spec-id': 0,
    'partition-specs': [
      {
        'spec-id': 0,
        fields: [
          {
            name: partition.name,
            transform: partition.transform,
            'source-id': TIME_FIELD_ID,
            'field-id': PARTITION_FIELD_ID,
          },
        ],
      },
    ],
    'last-partition-id': PARTITION_FIELD_ID,
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    properties: properties(config, fields, omitted),
    'current-snapshot-id': -1,
    refs: {},
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
  };
}

/** The absolute location of a key, as Iceberg metadata records it (`file:///…` or `s3://…`). */
export const locationOf = (storage: Storage, key: string) => `${storage.url}/${key}`;

/**
 * The key of an absolute location this lake's metadata recorded.
 * @throws {OctaError} CORRUPT for a location outside the lake
 */
export function keyOf(storage: Storage, location: string): string {
  const prefix = `${storage.url}/`;
  if (!location.startsWith(prefix)) {
    throw new OctaError(
      'CORRUPT',
      `the Iceberg metadata names a file outside the lake at ${storage.url}: the lake was moved or the metadata was not written by this lake; run \`publishTables()\` after removing <table>/metadata/`,
      location,
      { params: ['publishTables()'] },
    );
  }
  return location.slice(prefix.length);
}

/** One version of a table's metadata, as read. */
export interface MetadataVersion {
  n: number;
  metadata: TableMetadata;
}

/** The catalog version a metadata version reflects (its current snapshot's), or null. */
export function reflectedVersion(metadata: TableMetadata): number | null {
  const current = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id']);
  const text = current?.summary[CATALOG_VERSION_KEY];
  if (text === undefined) return null;
  if (!/^\d+$/.test(text)) {
    throw new OctaError(
      'CORRUPT',
      `the Iceberg view's current snapshot has a bad ${CATALOG_VERSION_KEY}`,
      text,
    );
  }
  return Number(text);
}

async function readVersion(storage: Storage, table: string, n: number): Promise<TableMetadata | null> {
  const key = metadataKey(table, n);
  let bytes: Uint8Array;
  try {
    bytes = await storage.read(key);
  } catch (error) {
    if (error instanceof OctaError && error.code === 'NOT_FOUND') return null;
    throw error;
  }
  try {
    const metadata = JSON.parse(new TextDecoder().decode(bytes)) as TableMetadata;
    if (metadata['format-version'] !== 2 || !Array.isArray(metadata.snapshots)) throw new Error('not v2');
    return metadata;
  } catch {
    throw new OctaError('CORRUPT', 'the Iceberg view has an unreadable metadata file', key);
  }
}

/**
 * The latest metadata version of a table: from `version-hint.text` (or, without one, the highest
 * `v<N>.metadata.json` listed), then forward while a next version exists (a hint lags when its
 * writer stopped between the metadata and the hint, or lost a race to write it).
 * @returns null when the table has no Iceberg metadata
 * @throws {OctaError} CORRUPT for unreadable metadata; IO_ERROR from storage
 */
export async function readLatest(storage: Storage, table: string): Promise<MetadataVersion | null> {
  let n = 0;
  try {
    const text = new TextDecoder().decode(await storage.read(versionHintKey(table))).trim();
    if (/^\d+$/.test(text)) n = Number(text);
  } catch (error) {
    if (!(error instanceof OctaError && error.code === 'NOT_FOUND')) throw error;
  }
  let metadata = n > 0 ? await readVersion(storage, table, n) : null;
  if (metadata === null) {
    const versions = (await storage.list(metadataDir(table)))
      .map((e) => /\/v(\d+)\.metadata\.json$/.exec(e.key)?.[1])
      .filter((v) => v !== undefined)
      .map(Number);
    if (versions.length === 0) return null;
    n = versions.reduce((a, b) => Math.max(a, b));
    metadata = await readVersion(storage, table, n);
    if (metadata === null) return null;
  }
  for (;;) {
    const next = await readVersion(storage, table, n + 1);
    if (next === null) return { n, metadata };
    n += 1;
    metadata = next;
  }
}

/**
 * Writes metadata version `n` if no publisher has, then the version hint.
 * @returns false when version `n` exists already (another publisher won it)
 */
export async function writeVersion(
  storage: Storage,
  table: string,
  n: number,
  metadata: TableMetadata,
  previous: MetadataVersion | null,
): Promise<boolean> {
  if (previous !== null) {
    metadata['metadata-log'] = [
      ...previous.metadata['metadata-log'],
      {
        'timestamp-ms': previous.metadata['last-updated-ms'],
        'metadata-file': locationOf(storage, metadataKey(table, previous.n)),
      },
    ].slice(-METADATA_LOG_MAX);
  }
  const bytes = new TextEncoder().encode(JSON.stringify(metadata));
  if (!(await storage.writeIfAbsent(metadataKey(table, n), bytes))) return false;
  await storage.write(versionHintKey(table), new TextEncoder().encode(String(n)));
  // A publisher of a later version may have written its hint before ours landed: the hint then
  // names the newest version again, so readers that follow only the hint (engines, Glue sync) do
  // not stay a version behind.
  let newest = n;
  while ((await storage.stat(metadataKey(table, newest + 1))) !== null) newest++;
  if (newest > n) await storage.write(versionHintKey(table), new TextEncoder().encode(String(newest)));
  return true;
}
