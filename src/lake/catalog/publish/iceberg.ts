/**
 * The Apache Iceberg v2 view of a lake table at `<table>/metadata/` (DESIGN §4): one snapshot per
 * catalog version that changed the table's files (`append` for ingest and a view's first snapshot,
 * `replace` for compaction and rebalancing, `delete` where files only leave), each carrying the
 * catalog version in its summary. Metadata versions are created if absent, so concurrent publishers
 * never fork the history: the loser re-reads and skips what the winner published.
 */
import { OctaError } from '../../../lattice/errors.js';
import type { Storage } from '../../storage/storage.js';
import type { FileRecord } from '../records.js';
import type { ManifestFileRecord } from './iceberg-avro.js';
import { dataFileOf, publishedFileOf, rowGroupOffsets } from './iceberg-files.js';
import { buildManifests, readEntries, readManifestList, writeManifestList } from './iceberg-manifests.js';
import {
  CATALOG_VERSION_KEY,
  emptyMetadata,
  type IcebergSnapshot,
  keyOf,
  locationOf,
  type MetadataVersion,
  metadataDir,
  partitionField,
  readLatest,
  reflectedVersion,
  snapshotIdOf,
  type TableMetadata,
  writeVersion,
} from './iceberg-metadata.js';
import type { PublishedFile, PublishedState, PublishStep, TableView } from './table-view.js';
import { metadataKey, versionHintKey } from './view-location.js';

/** Metadata versions one step tries before giving up to other publishers (each loss is their progress). */
const MAX_ATTEMPTS = 64;

const current = (m: TableMetadata) => m.snapshots.find((s) => s['snapshot-id'] === m['current-snapshot-id']);

/** The manifests of a metadata version's current snapshot (none without one). */
async function manifestsOf(storage: Storage, metadata: TableMetadata): Promise<ManifestFileRecord[]> {
  const snapshot = current(metadata);
  return snapshot ? readManifestList(storage, snapshot['manifest-list']) : [];
}

/** The live entries of manifests. */
async function liveEntries(storage: Storage, manifests: readonly ManifestFileRecord[]) {
  const live = [];
  for (const m of manifests) {
    for (const e of await readEntries(storage, m)) if (e.status !== 2) live.push(e);
  }
  return live;
}

/** The Iceberg operation of a step (spec v2, "Snapshots"). */
function operationOf(step: PublishStep, added: number, removed: number): string {
  if (removed === 0) return 'append';
  if (added === 0) return 'delete';
  return step.operation === 'compact' || step.operation === 'rebalance' ? 'replace' : 'overwrite';
}

/**
 * The next metadata version: `base` (null for a new view) with the step as its current snapshot.
 * Writes the snapshot's manifests and manifest list (unique names: a lost race leaves them unused,
 * and `expire` deletes them). `footers` caches the added files' row group offsets.
 */
async function nextMetadata(
  storage: Storage,
  table: string,
  base: MetadataVersion | null,
  step: PublishStep,
  footers: Map<string, number[]>,
): Promise<TableMetadata> {
  const metadata: TableMetadata = base ? structuredClone(base.metadata) : emptyMetadata(storage, step.config);
  const parent = base ? current(base.metadata) : undefined;
  const manifests = base ? await manifestsOf(storage, base.metadata) : [];
  const at = (f: FileRecord) => locationOf(storage, f.key);
  // An append reads no manifest entry (its planning cost does not grow with the table); a step
  // that removes files, or a first step meeting a view another publisher created (published as
  // the difference), reads the live entries.
  const reconcile = step.initial && base !== null;
  const live = reconcile || step.removed.length > 0 ? await liveEntries(storage, manifests) : [];
  const livePaths = new Map(live.map((e) => [e.file.file_path, e.file]));
  const added = step.added.filter((f) => !livePaths.has(at(f)));
  const keep = new Set(step.added.map(at));
  const removedLocations = reconcile
    ? [...livePaths.keys()].filter((p) => !keep.has(p))
    : step.removed.map(at).filter((p) => livePaths.has(p));
  const snapshotId = snapshotIdOf(metadata['table-uuid'], step.version);
  const seq = metadata['last-sequence-number'] + 1;
  const partition = partitionField(step.config);
  const ctx = { storage, table, metadata, partition, snapshotId, seq };
  const addedFiles = [];
  for (const f of added) {
    const offsets = footers.get(f.key) ?? (await rowGroupOffsets(storage, f.key, f.bytes));
    footers.set(f.key, offsets);
    addedFiles.push(dataFileOf(storage, step.config, f, offsets));
  }
  const removedPaths = new Map(
    removedLocations.map((p) => [p, livePaths.get(p)!.partition[partition.name] ?? Number.NaN] as const),
  );
  const list = await buildManifests(ctx, manifests, addedFiles, removedPaths);
  // Snapshot times never go back (engines check the snapshot log's order), even when the clocks of
  // the catalog's writers disagree; the catalog's own time stays in the summary.
  const timestamp = Math.max(
    Date.parse(step.timestamp),
    parent?.['timestamp-ms'] ?? Number.NEGATIVE_INFINITY,
  );
  const removedRecords = [...removedPaths.keys()].map((p) => livePaths.get(p)!);
  const sum = (files: { record_count: number; file_size_in_bytes: number }[], k: 'rows' | 'bytes') =>
    files.reduce((s, f) => s + (k === 'rows' ? f.record_count : f.file_size_in_bytes), 0);
  const total = (key: string) => Number(parent?.summary[key] ?? 0);
  const snapshot: IcebergSnapshot = {
    'snapshot-id': snapshotId,
    ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
    'sequence-number': seq,
    'timestamp-ms': timestamp,
    'manifest-list': await writeManifestList(ctx, parent?.['snapshot-id'] ?? null, list),
    summary: {
      operation: operationOf(step, addedFiles.length, removedRecords.length),
      'added-data-files': String(addedFiles.length),
      'deleted-data-files': String(removedRecords.length),
      'added-records': String(sum(addedFiles, 'rows')),
      'deleted-records': String(sum(removedRecords, 'rows')),
      'added-files-size': String(sum(addedFiles, 'bytes')),
      'removed-files-size': String(sum(removedRecords, 'bytes')),
      'total-data-files': String(total('total-data-files') + addedFiles.length - removedRecords.length),
      'total-delete-files': '0',
      'total-records': String(total('total-records') + sum(addedFiles, 'rows') - sum(removedRecords, 'rows')),
      'total-files-size': String(
        total('total-files-size') + sum(addedFiles, 'bytes') - sum(removedRecords, 'bytes'),
      ),
      'total-position-deletes': '0',
      'total-equality-deletes': '0',
      [CATALOG_VERSION_KEY]: String(step.version),
      'octa.catalog-operation': step.operation,
      'octa.catalog-timestamp': step.timestamp,
      ...(step.batches.length > 0 ? { 'octa.batches': step.batches.join(',') } : {}),
    },
    'schema-id': metadata['current-schema-id'],
  };
  metadata.snapshots.push(snapshot);
  metadata['last-sequence-number'] = seq;
  metadata['last-updated-ms'] = Math.max(metadata['last-updated-ms'], timestamp);
  metadata['current-snapshot-id'] = snapshotId;
  metadata.refs = { main: { 'snapshot-id': snapshotId, type: 'branch' } };
  metadata['snapshot-log'].push({ 'timestamp-ms': timestamp, 'snapshot-id': snapshotId });
  return metadata;
}

/**
 * The latest metadata version, refusing metadata that octa-lake did not write (another tool's
 * Iceberg table in the same folder): the view never builds on, expires or deletes another writer's
 * files.
 * @throws {OctaError} CORRUPT when the current snapshot carries no catalog version
 */
async function readOurs(storage: Storage, table: string): Promise<MetadataVersion | null> {
  const latest = await readLatest(storage, table);
  if (latest !== null && reflectedVersion(latest.metadata) === null) {
    throw new OctaError(
      'CORRUPT',
      `the Iceberg metadata in ${table}/metadata/ was not written by octa-lake (its current snapshot has no ${CATALOG_VERSION_KEY}); move that folder away, then publish again`,
      metadataKey(table, latest.n),
    );
  }
  return latest;
}

/**
 * Whether a metadata version describes the table where this storage finds it. Iceberg records
 * absolute locations, so a lake copied or moved elsewhere holds metadata that names the old place:
 * for this location the view does not exist yet, and its next version starts it afresh (all live
 * files, no history from the old place), continuing the version numbers.
 */
const isHere = (storage: Storage, table: string, latest: MetadataVersion | null): latest is MetadataVersion =>
  latest !== null && latest.metadata.location === `${storage.url}/${table}`;

async function publish(storage: Storage, table: string, steps: readonly PublishStep[]): Promise<number> {
  let latest = await readOurs(storage, table);
  // Row group offsets by file key, read once however many times a lost race rebuilds a step.
  const footers = new Map<string, number[]>();
  for (const step of steps) {
    for (let attempt = 1; ; attempt++) {
      if (attempt > MAX_ATTEMPTS) {
        throw new OctaError(
          'CONFLICT',
          `other publishers of the Iceberg view kept winning ${MAX_ATTEMPTS} times; publish again`,
          table,
        );
      }
      const here = isHere(storage, table, latest);
      const reflected = here ? reflectedVersion(latest!.metadata) : null;
      if (reflected !== null && reflected >= step.version) break;
      if (latest !== null && !here && !step.initial) {
        throw new OctaError(
          'CONFLICT',
          `the Iceberg view of table ${table} was written at ${latest.metadata.location}, not here: the lake moved while publishing; publish again`,
          table,
        );
      }
      const base = here ? latest : null;
      const metadata = await nextMetadata(storage, table, base, step, footers);
      const n = (latest?.n ?? 0) + 1;
      if (await writeVersion(storage, table, n, metadata, base)) {
        latest = { n, metadata };
        break;
      }
      latest = await readOurs(storage, table);
    }
  }
  const version = isHere(storage, table, latest) ? reflectedVersion(latest.metadata) : null;
  if (version === null) {
    throw new OctaError('CORRUPT', 'the Iceberg view has no current snapshot after publishing', table);
  }
  return version;
}

async function read(storage: Storage, table: string): Promise<PublishedState | null> {
  const latest = await readOurs(storage, table);
  if (!isHere(storage, table, latest)) return null;
  const version = reflectedVersion(latest.metadata);
  if (version === null) return null;
  const files = new Map<string, PublishedFile>();
  for (const e of await liveEntries(storage, await manifestsOf(storage, latest.metadata))) {
    const { key, file } = publishedFileOf(storage, e.file);
    files.set(key, file);
  }
  return { version, files };
}

/**
 * Expires snapshots superseded before `before`, then deletes metadata files of this view that no
 * retained snapshot references and that were last modified before `before`.
 */
async function expire(storage: Storage, table: string, before: Date): Promise<string[]> {
  let latest = await readOurs(storage, table);
  // Metadata naming another place (a copied lake) is not this location's view: nothing to expire.
  if (!isHere(storage, table, latest)) return [];
  const cutoff = before.getTime();
  for (;;) {
    const m = latest.metadata;
    const atOrBefore = m.snapshots.filter((s) => s['timestamp-ms'] <= cutoff);
    const newestOld = atOrBefore.at(-1)?.['snapshot-id'];
    const keep = m.snapshots.filter(
      (s) =>
        s['timestamp-ms'] > cutoff ||
        s['snapshot-id'] === newestOld ||
        s['snapshot-id'] === m['current-snapshot-id'],
    );
    if (keep.length === m.snapshots.length) break;
    const next = structuredClone(m);
    const kept = new Set(keep.map((s) => s['snapshot-id']));
    next.snapshots = keep;
    next['snapshot-log'] = next['snapshot-log'].filter((e) => kept.has(e['snapshot-id']));
    next['last-updated-ms'] = Math.max(next['last-updated-ms'], Date.now());
    if (await writeVersion(storage, table, latest.n + 1, next, latest)) {
      latest = { n: latest.n + 1, metadata: next };
      break;
    }
    const reread = await readOurs(storage, table);
    if (!isHere(storage, table, reread)) return [];
    latest = reread;
  }
  const referenced = new Set([versionHintKey(table), metadataKey(table, latest.n)]);
  for (const e of latest.metadata['metadata-log']) referenced.add(keyOf(storage, e['metadata-file']));
  for (const s of latest.metadata.snapshots) {
    referenced.add(keyOf(storage, s['manifest-list']));
    for (const mf of await readManifestList(storage, s['manifest-list'])) {
      referenced.add(keyOf(storage, mf.manifest_path));
    }
  }
  const deleted: string[] = [];
  for (const entry of await storage.list(metadataDir(table))) {
    if (referenced.has(entry.key) || entry.mtimeMs >= cutoff) continue;
    const n = /\/v(\d+)\.metadata\.json$/.exec(entry.key)?.[1];
    // Newer metadata versions than the one read (a concurrent publisher's) stay.
    if (n !== undefined && Number(n) > latest.n) continue;
    if (!/\.(avro|metadata\.json)$/.test(entry.key)) continue;
    await storage.delete(entry.key);
    deleted.push(entry.key);
  }
  return deleted;
}

/** The Iceberg v2 view of a lake table. */
export const icebergView: TableView = {
  format: 'iceberg',
  async publishedVersion(storage, table) {
    const latest = await readOurs(storage, table);
    return isHere(storage, table, latest) ? reflectedVersion(latest.metadata) : null;
  },
  publish,
  read,
  expire,
};
