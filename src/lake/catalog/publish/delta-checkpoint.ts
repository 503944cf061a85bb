/**
 * Classic single-file Delta checkpoints (`%020d.checkpoint.parquet`, PROTOCOL.md "V1 Spec"): one
 * row per action of a table state, with the struct columns `txn`, `add`, `remove`, `metaData` and
 * `protocol` of the protocol's checkpoint schema, exactly one of them set per row. `remove` carries
 * no `stats` or `tags` ("tombstones for VACUUM"); `add.stats` is the JSON string of the commit
 * (`delta.checkpoint.writeStatsAsJson` defaults to true). Written through Arrow and parquet-wasm,
 * read through hyparquet; both load at first use, as the rest of the lake does.
 */
import type { Field as ArrowField, DataType } from 'apache-arrow';
import { encodeParquet } from '../../../export/parquet-writer.js';
import { OctaError } from '../../../lattice/errors.js';
import { checkAction, type DeltaAction, type DeltaProtocol } from './delta-actions.js';

/** A table state as a checkpoint holds it. */
export interface CheckpointContent {
  protocol: DeltaProtocol;
  metaData: Extract<DeltaAction, { metaData: unknown }>['metaData'];
  txns: Extract<DeltaAction, { txn: unknown }>['txn'][];
  adds: Extract<DeltaAction, { add: unknown }>['add'][];
  removes: Extract<DeltaAction, { remove: unknown }>['remove'][];
}

const toMap = (record: Record<string, string | null> | undefined) =>
  record === undefined ? null : new Map(Object.entries(record));
const long = (n: number | undefined) => (n === undefined ? null : BigInt(n));

/**
 * The checkpoint file of a state.
 * @returns Parquet bytes and the number of actions (rows) they hold
 * @throws {OctaError} INVALID_INPUT when the Parquet writer refuses the rows
 */
export async function encodeCheckpoint(
  content: CheckpointContent,
): Promise<{ bytes: Uint8Array; rows: number }> {
  const arrow = await import('apache-arrow');
  const { Bool, Field, Int32, Int64, List, Map_, Struct, Table, Utf8, tableToIPC, vectorFromArray } = arrow;
  const field = (name: string, type: DataType) => new Field(name, type, true);
  const str = () => new Utf8();
  const stringMap = () =>
    new Map_(
      new Field(
        'entries',
        new Struct([new Field('key', str(), false), field('value', str())] as never),
        false,
      ),
    );
  const struct = (fields: ArrowField[]) => new Struct(fields);
  const types = {
    txn: struct([field('appId', str()), field('version', new Int64()), field('lastUpdated', new Int64())]),
    add: struct([
      field('path', str()),
      field('partitionValues', stringMap()),
      field('size', new Int64()),
      field('modificationTime', new Int64()),
      field('dataChange', new Bool()),
      field('stats', str()),
      field('tags', stringMap()),
    ]),
    remove: struct([
      field('path', str()),
      field('deletionTimestamp', new Int64()),
      field('dataChange', new Bool()),
      field('extendedFileMetadata', new Bool()),
      field('partitionValues', stringMap()),
      field('size', new Int64()),
    ]),
    metaData: struct([
      field('id', str()),
      field('name', str()),
      field('description', str()),
      field('format', struct([field('provider', str()), field('options', stringMap())])),
      field('schemaString', str()),
      field('partitionColumns', new List(field('element', str()))),
      field('createdTime', new Int64()),
      field('configuration', stringMap()),
    ]),
    protocol: struct([field('minReaderVersion', new Int32()), field('minWriterVersion', new Int32())]),
  };
  const { protocol, metaData: m } = content;
  const rows: Partial<Record<keyof typeof types, unknown>>[] = [
    {
      protocol: { minReaderVersion: protocol.minReaderVersion, minWriterVersion: protocol.minWriterVersion },
    },
    {
      metaData: {
        id: m.id,
        name: m.name ?? null,
        description: m.description ?? null,
        format: { provider: m.format.provider, options: toMap(m.format.options) },
        schemaString: m.schemaString,
        partitionColumns: m.partitionColumns,
        createdTime: long(m.createdTime),
        configuration: toMap(m.configuration),
      },
    },
    ...content.txns.map((t) => ({
      txn: { appId: t.appId, version: BigInt(t.version), lastUpdated: long(t.lastUpdated) },
    })),
    ...content.adds.map((a) => ({
      add: {
        path: a.path,
        partitionValues: toMap(a.partitionValues),
        size: BigInt(a.size),
        modificationTime: BigInt(a.modificationTime),
        dataChange: a.dataChange,
        stats: a.stats ?? null,
        tags: toMap(a.tags),
      },
    })),
    ...content.removes.map((r) => ({
      remove: {
        path: r.path,
        deletionTimestamp: long(r.deletionTimestamp),
        dataChange: r.dataChange,
        extendedFileMetadata: r.extendedFileMetadata ?? null,
        partitionValues: toMap(r.partitionValues),
        size: long(r.size),
      },
    })),
  ];
  const columns = Object.fromEntries(
    Object.entries(types).map(([name, type]) => [
      name,
      vectorFromArray(
        rows.map((r) => r[name as keyof typeof types] ?? null),
        type,
      ),
    ]),
  );
  const ipc = tableToIPC(new Table(columns), 'stream');
  const bytes = encodeParquet(ipc, { compression: 'snappy', statistics: 'chunk', createdBy: 'octa-lake' });
  return { bytes, rows: rows.length };
}

/** Int64 columns come back as bigints; the log's numbers all fit a double. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => [k, plain(v)]),
    );
  }
  return value;
}

/**
 * The actions of a checkpoint file.
 * @throws {OctaError} CORRUPT when it is not a readable checkpoint
 */
export async function decodeCheckpoint(bytes: Uint8Array, key: string): Promise<DeltaAction[]> {
  const { parquetReadObjects } = await import('hyparquet');
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let rows: Record<string, unknown>[];
  try {
    rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
  } catch (error) {
    throw new OctaError('CORRUPT', `Delta checkpoint ${key} is unreadable: ${String(error)}`, key);
  }
  const actions: DeltaAction[] = [];
  for (const row of rows) {
    for (const [name, value] of Object.entries(row)) {
      if (value === null || value === undefined) continue;
      const action = checkAction({ [name]: plain(value) });
      if (action === 'bad')
        throw new OctaError('CORRUPT', `Delta checkpoint ${key} has a malformed ${name}`, key);
      if (action !== null) actions.push(action);
    }
  }
  return actions;
}
