/**
 * Manifests and manifest lists of the Iceberg view (spec v2): reading them back with sequence
 * number inheritance, and writing one snapshot's manifests under the merge policy below.
 *
 * Merge policy (planning cost follows live files, not commits): a snapshot references at most 3
 * manifests, kept as levels from oldest to newest. With n live files and r = max(4, ⌈∛n⌉), the
 * newest level holds at most r live files and the middle one at most r²; the oldest is unbounded.
 * A commit writes its added files (and the entries of the files it removes, as DELETED) into a new
 * manifest; manifests that held removed files are rewritten without them, in place. Then, while
 * there are more than 3, the two newest are merged, and a level over its bound is merged into the
 * one before it. A small commit so rewrites about r entries on average (the newest level every
 * commit, the middle one every r commits, the oldest every r² commits): about 3∛n entries per commit.
 */
import { randomUUID } from 'node:crypto';
import type { Storage } from '../../storage/storage.js';
import {
  type DataFileRecord,
  decodeContainer,
  encodeContainer,
  type FieldSummaryRecord,
  MANIFEST_FILE_SCHEMA,
  type ManifestEntryRecord,
  type ManifestFileRecord,
  manifestEntrySchema,
  type PartitionFieldAvro,
} from './iceberg-avro.js';
import { partitionBytes } from './iceberg-files.js';
import { keyOf, locationOf, type TableMetadata } from './iceberg-metadata.js';

/** A manifest entry with its inherited values resolved. */
export interface Entry {
  status: 0 | 1 | 2;
  snapshotId: number;
  /** Data sequence number. */
  seq: number;
  fileSeq: number;
  file: DataFileRecord;
}

/** What writing one snapshot's manifests needs. */
export interface SnapshotContext {
  storage: Storage;
  table: string;
  metadata: TableMetadata;
  partition: PartitionFieldAvro;
  snapshotId: number;
  seq: number;
}

const isLive = (e: Entry) => e.status !== 2;
const liveCount = (m: ManifestFileRecord) => m.added_files_count + m.existing_files_count;

/**
 * The manifests a manifest list names.
 * @throws {OctaError} CORRUPT for an unreadable list; NOT_FOUND when it is gone
 */
export async function readManifestList(storage: Storage, location: string): Promise<ManifestFileRecord[]> {
  const key = keyOf(storage, location);
  return (await decodeContainer<ManifestFileRecord>(await storage.read(key), key)).records;
}

/**
 * A manifest's entries, with null snapshot ids and sequence numbers inherited from the manifest
 * list's record (spec v2, "Sequence Number Inheritance").
 */
export async function readEntries(storage: Storage, manifest: ManifestFileRecord): Promise<Entry[]> {
  const key = keyOf(storage, manifest.manifest_path);
  const { records } = await decodeContainer<ManifestEntryRecord>(await storage.read(key), key);
  return records.map((r) => ({
    status: r.status,
    snapshotId: r.snapshot_id ?? manifest.added_snapshot_id,
    seq: r.sequence_number ?? manifest.sequence_number,
    fileSeq: r.file_sequence_number ?? manifest.sequence_number,
    file: r.data_file,
  }));
}

function summary(partition: PartitionFieldAvro, entries: readonly Entry[]): FieldSummaryRecord {
  const values = entries
    .map((e) => e.file.partition[partition.name])
    .filter((v): v is number => typeof v === 'number');
  // Loops, not Math.min(...values): a manifest may hold more entries than a call takes arguments.
  const lo = values.length > 0 ? values.reduce((a, b) => Math.min(a, b)) : null;
  const hi = values.length > 0 ? values.reduce((a, b) => Math.max(a, b)) : null;
  return {
    contains_null: values.length < entries.length,
    contains_nan: false,
    lower_bound: lo === null ? null : partitionBytes(lo),
    upper_bound: hi === null ? null : partitionBytes(hi),
  };
}

/** Writes entries as a new manifest of this snapshot; entries it adds inherit its sequence number. */
async function writeManifest(ctx: SnapshotContext, entries: readonly Entry[]): Promise<ManifestFileRecord> {
  const ours = (e: Entry) => e.status === 1 && e.snapshotId === ctx.snapshotId;
  const records: ManifestEntryRecord[] = entries.map((e) => ({
    status: e.status,
    snapshot_id: e.snapshotId,
    sequence_number: ours(e) ? null : e.seq,
    file_sequence_number: ours(e) ? null : e.fileSeq,
    data_file: e.file,
  }));
  const spec = ctx.metadata['partition-specs'][0]!;
  const schema = ctx.metadata.schemas[0]!;
  const bytes = await encodeContainer(manifestEntrySchema([ctx.partition]), records, {
    schema: JSON.stringify(schema),
    'partition-spec': JSON.stringify(spec.fields),
    'partition-spec-id': String(spec['spec-id']),
    'format-version': '2',
    content: 'data',
  });
  const key = `${ctx.table}/metadata/${randomUUID()}-m0.avro`;
  await ctx.storage.write(key, bytes);
  const count = (status: number) => entries.filter((e) => e.status === status);
  const rows = (list: Entry[]) => list.reduce((sum, e) => sum + e.file.record_count, 0);
  const live = entries.filter(isLive);
  return {
    manifest_path: locationOf(ctx.storage, key),
    manifest_length: bytes.byteLength,
    partition_spec_id: spec['spec-id'],
    content: 0,
    sequence_number: ctx.seq,
    min_sequence_number: live.reduce((min, e) => (ours(e) || e.seq >= min ? min : e.seq), ctx.seq),
    added_snapshot_id: ctx.snapshotId,
    added_files_count: count(1).length,
    existing_files_count: count(0).length,
    deleted_files_count: count(2).length,
    added_rows_count: rows(count(1)),
    existing_rows_count: rows(count(0)),
    deleted_rows_count: rows(count(2)),
    partitions: [summary(ctx.partition, entries)],
    key_metadata: null,
  };
}

/** A manifest of the snapshot being built: carried over unchanged, or to be written. */
interface Slot {
  carried?: ManifestFileRecord;
  entries?: Entry[];
  live: number;
}

/** Whether a carried manifest's partition range may hold one of `values`. */
function mayHold(m: ManifestFileRecord, values: ReadonlySet<number>): boolean {
  const s = m.partitions?.[0];
  if (!s?.lower_bound || !s.upper_bound) return true;
  const lo = Buffer.from(s.lower_bound).readInt32LE();
  const hi = Buffer.from(s.upper_bound).readInt32LE();
  return [...values].some((v) => !Number.isInteger(v) || (v >= lo && v <= hi));
}

/**
 * The manifests of a new snapshot: the parent's, with `removed` files taken out and `added` files
 * put in, merged by the policy in this module's comment; new ones are written to storage.
 * @param ctx - the snapshot being built
 * @param parent - the parent snapshot's manifests, oldest first
 * @param added - data files the snapshot adds
 * @param removed - locations of data files it removes, with their partition values
 * @returns the snapshot's manifests, oldest first
 */
export async function buildManifests(
  ctx: SnapshotContext,
  parent: readonly ManifestFileRecord[],
  added: readonly DataFileRecord[],
  removed: ReadonlyMap<string, number>,
): Promise<ManifestFileRecord[]> {
  const removedValues = new Set(removed.values());
  const deleted: Entry[] = [];
  const slots: Slot[] = [];
  for (const m of parent) {
    if (liveCount(m) === 0) continue;
    if (removed.size > 0 && mayHold(m, removedValues)) {
      const entries = (await readEntries(ctx.storage, m)).filter(isLive);
      const gone = entries.filter((e) => removed.has(e.file.file_path));
      if (gone.length > 0) {
        for (const e of gone) deleted.push({ ...e, status: 2, snapshotId: ctx.snapshotId });
        const kept = entries.filter((e) => !removed.has(e.file.file_path));
        if (kept.length > 0) slots.push({ entries: kept.map(existing), live: kept.length });
        continue;
      }
    }
    slots.push({ carried: m, live: liveCount(m) });
  }
  const fresh: Entry[] = added.map((file) => ({
    status: 1,
    snapshotId: ctx.snapshotId,
    seq: ctx.seq,
    fileSeq: ctx.seq,
    file,
  }));
  if (fresh.length + deleted.length > 0) slots.push({ entries: [...fresh, ...deleted], live: fresh.length });

  const n = slots.reduce((sum, s) => sum + s.live, 0);
  const r = Math.max(4, Math.ceil(Math.cbrt(n)));
  const bound = (i: number) => (i === 0 ? Number.POSITIVE_INFINITY : i === 1 ? r * r : r);
  const merge = async (i: number) => {
    const [a, b] = [slots[i - 1]!, slots[i]!];
    const entries = [...(await entriesOf(ctx, a)), ...(await entriesOf(ctx, b))];
    slots.splice(i - 1, 2, { entries, live: a.live + b.live });
  };
  while (slots.length > 3) await merge(slots.length - 1);
  for (let i = slots.length - 1; i >= 1; i--) {
    if (slots[i]!.live > bound(i)) await merge(i);
  }
  const out: ManifestFileRecord[] = [];
  for (const s of slots) out.push(s.carried ?? (await writeManifest(ctx, s.entries!)));
  return out;
}

/** An entry carried into a rewritten manifest: EXISTING, with its sequence numbers kept. */
const existing = (e: Entry): Entry => ({ ...e, status: 0 });

/**
 * The entries a slot contributes to a merged manifest: live entries of earlier snapshots as
 * EXISTING, this snapshot's own entries as they are, earlier DELETED entries dropped.
 */
async function entriesOf(ctx: SnapshotContext, slot: Slot): Promise<Entry[]> {
  const entries = slot.entries ?? (await readEntries(ctx.storage, slot.carried!));
  return entries
    .filter((e) => e.snapshotId === ctx.snapshotId || isLive(e))
    .map((e) => (e.snapshotId === ctx.snapshotId ? e : existing(e)));
}

/**
 * Writes a snapshot's manifest list.
 * @returns its absolute location
 */
export async function writeManifestList(
  ctx: SnapshotContext,
  parentId: number | null,
  manifests: readonly ManifestFileRecord[],
): Promise<string> {
  const bytes = await encodeContainer(MANIFEST_FILE_SCHEMA, manifests, {
    'snapshot-id': String(ctx.snapshotId),
    'parent-snapshot-id': parentId === null ? 'null' : String(parentId),
    'sequence-number': String(ctx.seq),
    'format-version': '2',
  });
  const key = `${ctx.table}/metadata/snap-${ctx.snapshotId}-1-${randomUUID()}.avro`;
  await ctx.storage.write(key, bytes);
  return locationOf(ctx.storage, key);
}
