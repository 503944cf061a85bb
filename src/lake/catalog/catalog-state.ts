/**
 * The catalog's model and state machine, pure: the records it keeps, how log entries fold into a
 * snapshot ({@link replay}), and how a commit request becomes the next log entry against a
 * snapshot ({@link prepareCommit}), including the conflict and idempotency rules. One
 * `applyAction` serves both, so a commit that was accepted always replays.
 */
import { createPointSchema, isSameSchema } from '../../export/schema.js';
import { OctaError } from '../../lattice/errors.js';
import { frameToJSON } from '../../lattice/frame.js';
import { compareKeys } from '../storage/storage.js';
import { checkCommitRequest, checkNewTableName, logKey } from './catalog-log.js';
import type {
  CatalogAction,
  CatalogSnapshot,
  CommitAction,
  CommitEntry,
  CommitRequest,
  FileRecord,
  TableConfig,
  TableConfigInput,
  TableState,
} from './records.js';

export type * from './records.js';

/** The state of a lake without commits (version 0). */
export function emptySnapshot(): CatalogSnapshot {
  return { version: 0, tables: new Map() };
}

/**
 * A working copy of a snapshot that never changes the snapshot: a table is copied the first time
 * an action changes it, so one replay or one commit costs the size of the tables it touches.
 */
class Draft {
  readonly tables: Map<string, TableState>;
  readonly #owned = new Set<string>();

  constructor(base: CatalogSnapshot) {
    this.tables = new Map(base.tables);
  }

  edit(name: string): TableState {
    const table = this.tables.get(name)!;
    if (this.#owned.has(name)) return table;
    const copy: TableState = {
      config: table.config,
      files: new Map(table.files),
      batches: new Set(table.batches),
      removed: new Map(table.removed),
    };
    this.tables.set(name, copy);
    this.#owned.add(name);
    return copy;
  }

  create(config: TableConfig): void {
    this.tables.set(config.name, { config, files: new Map(), batches: new Set(), removed: new Map() });
    this.#owned.add(config.name);
  }
}

/**
 * How a requested table differs from an existing one, in the settings that fix its files (frame,
 * LOD, id kind, time bucket, payload columns); splits and creation time may differ.
 * @param existing - the table's config
 * @param requested - the config asked for
 * @returns one phrase per difference; empty when the table can be used as it is
 */
export function tableDifferences(existing: TableConfig, requested: TableConfigInput): string[] {
  const out: string[] = [];
  const frame = frameToJSON(requested.frame);
  if (frame !== frameToJSON(existing.frame))
    out.push(`frame ${frame} (the table has ${frameToJSON(existing.frame)})`);
  if (requested.lod !== existing.lod) out.push(`LOD ${requested.lod} (the table has ${existing.lod})`);
  if (requested.idKind !== existing.idKind)
    out.push(`id kind ${requested.idKind} (the table has ${existing.idKind})`);
  if (requested.timeBucket !== existing.timeBucket) {
    out.push(`time bucket ${requested.timeBucket} (the table has ${existing.timeBucket})`);
  }
  const columns = (c: TableConfigInput) =>
    c.payload.map((p) => `${JSON.stringify(p.name)} ${p.type}`).join(', ');
  const schema = (c: TableConfigInput) => createPointSchema({ payload: c.payload });
  if (!isSameSchema(schema(requested), schema(existing))) {
    out.push(`payload [${columns(requested)}] (the table has [${columns(existing)}])`);
  }
  return out;
}

function tableOf(draft: Draft, name: string): TableState {
  const table = draft.tables.get(name);
  if (table !== undefined) return table;
  throw new OctaError(
    'NOT_FOUND',
    'no such table in the catalog; create it first (a create_table action before it in the same commit)',
    name,
  );
}

/**
 * Applies one action to a draft.
 * @returns false when the action changes nothing (creating a table that exists with the same settings)
 * @throws {OctaError} CONFLICT, NOT_FOUND or INVALID_ARGUMENT when it cannot apply
 */
function applyAction(draft: Draft, action: CatalogAction, timestamp: string): boolean {
  switch (action.op) {
    case 'create_table': {
      const { name } = action.config;
      const existing = draft.tables.get(name);
      if (existing === undefined) {
        const folded = [...draft.tables.keys()].find((other) => other.toLowerCase() === name.toLowerCase());
        if (folded !== undefined) {
          throw new OctaError(
            'CONFLICT',
            `table name differs only in case from the existing table ${JSON.stringify(folded)}, which SQL engines would confuse; use that name or another`,
            name,
          );
        }
        draft.create(action.config);
        return true;
      }
      const differences = tableDifferences(existing.config, action.config);
      if (differences.length === 0) return false;
      throw new OctaError(
        'CONFLICT',
        `table ${name} exists with other settings; refused ${differences.join('; ')}. Use the table's settings or another table name`,
        name,
      );
    }
    case 'add': {
      const { file } = action;
      const table = tableOf(draft, file.table);
      if (file.lod !== table.config.lod) {
        throw new OctaError(
          'INVALID_ARGUMENT',
          `file has LOD ${file.lod} but table ${file.table} has LOD ${table.config.lod}`,
          file.key,
        );
      }
      if (table.files.has(file.key)) {
        throw new OctaError(
          'CONFLICT',
          `file is already live in table ${file.table}; every file key is committed once`,
          file.key,
        );
      }
      const edited = draft.edit(file.table);
      edited.files.set(file.key, { ...file, committedAt: timestamp });
      edited.removed.delete(file.key);
      return true;
    }
    case 'remove': {
      if (!tableOf(draft, action.table).files.has(action.key)) {
        throw new OctaError(
          'CONFLICT',
          `file is not live in table ${action.table} (a concurrent commit removed it, or it never was); plan again on a fresh snapshot`,
          action.key,
        );
      }
      const edited = draft.edit(action.table);
      edited.files.delete(action.key);
      edited.removed.set(action.key, timestamp);
      return true;
    }
    case 'forget': {
      // A concurrent vacuum may have forgotten it already: nothing to change, not a conflict.
      if (!tableOf(draft, action.table).removed.has(action.key)) return false;
      draft.edit(action.table).removed.delete(action.key);
      return true;
    }
    case 'set_splits': {
      const table = tableOf(draft, action.table);
      const current = table.config.splits;
      if (action.expected !== undefined && action.expected.join() !== current.join()) {
        throw new OctaError(
          'CONFLICT',
          `splits of table ${action.table} changed since they were read (now [${current.join(', ')}]); plan again on a fresh snapshot`,
          action.expected,
        );
      }
      const edited = draft.edit(action.table);
      edited.config = { ...edited.config, splits: [...action.splits] };
      return true;
    }
  }
}

/** The tables an entry's batch ids are recorded in: every table its actions name. */
function tablesOf(actions: readonly CommitAction[]): string[] {
  return [
    ...new Set(
      actions.map((a) => (a.op === 'create_table' ? a.config.name : a.op === 'add' ? a.file.table : a.table)),
    ),
  ];
}

/**
 * Applies a whole entry: its actions, then its batch ids to its tables.
 * @returns whether the entry changes the state
 */
function applyEntry(draft: Draft, entry: CommitEntry): boolean {
  let changes = false;
  for (const action of entry.actions) changes = applyAction(draft, action, entry.timestamp) || changes;
  if (entry.batches.length === 0) return changes;
  for (const name of entry.tables) {
    tableOf(draft, name);
    const batches = draft.edit(name).batches;
    for (const batch of entry.batches) batches.add(batch);
  }
  return true;
}

/**
 * Folds log entries into a snapshot. `base` is never changed; the result shares unchanged tables
 * with it.
 * @param entries - consecutive entries starting at `base.version + 1`
 * @param base - the state they follow (default: the empty lake)
 * @returns the state after the last entry
 * @throws {OctaError} CORRUPT naming the log key of an entry that is out of sequence or does not apply
 */
export function replay(
  entries: readonly CommitEntry[],
  base: CatalogSnapshot = emptySnapshot(),
): CatalogSnapshot {
  const draft = new Draft(base);
  let version = base.version;
  for (const entry of entries) {
    const key = logKey(entry.version);
    if (entry.version !== version + 1) {
      throw new OctaError('CORRUPT', `catalog log entry ${key} does not follow version ${version}`, key);
    }
    try {
      applyEntry(draft, entry);
    } catch (error) {
      if (!(error instanceof OctaError)) throw error;
      throw new OctaError('CORRUPT', `catalog log entry ${key} does not apply: ${error.message}`, key);
    }
    version = entry.version;
  }
  return { version, tables: draft.tables };
}

/**
 * Turns a commit request into the entry that would follow `snapshot`, applying the idempotency
 * rule: a batch id already recorded in a table the commit touches is skipped, with every `add`
 * whose file came from it. A commit left with nothing to change writes nothing.
 * @param snapshot - the latest state
 * @param request - the commit
 * @param timestamp - ISO 8601 UTC time of the commit
 * @returns the entry (null when there is nothing to commit) and the skipped batch ids
 * @throws {OctaError} CONFLICT, NOT_FOUND or INVALID_ARGUMENT when an action cannot apply (among
 *   them creating a table under a reserved name)
 */
export function prepareCommit(
  snapshot: CatalogSnapshot,
  request: CommitRequest,
  timestamp: string,
): { entry: CommitEntry | null; skippedBatches: string[] } {
  const { operation, writer, batches, actions } = checkCommitRequest(request);
  for (const a of actions) {
    // Only new tables: a table an older version created under a now reserved name still commits.
    if (a.op === 'create_table' && !snapshot.tables.has(a.config.name)) checkNewTableName(a.config.name);
  }
  const touched = tablesOf(actions).map((name) => snapshot.tables.get(name));
  const skippedBatches = batches.filter((b) => touched.some((t) => t?.batches.has(b)));
  const skipped = new Set(skippedBatches);
  const keptActions = actions
    .filter((a) => a.op !== 'add' || !skipped.has(a.file.batch))
    .map((a): CatalogAction => {
      if (a.op !== 'create_table') return a;
      return {
        op: 'create_table',
        config: { ...a.config, splits: a.config.splits ?? [], createdAt: a.config.createdAt ?? timestamp },
      };
    });
  const kept = batches.filter((b) => !skipped.has(b));
  const entry: CommitEntry = {
    version: snapshot.version + 1,
    timestamp,
    operation,
    writer,
    batches: kept,
    tables: kept.length > 0 ? tablesOf(actions) : [],
    actions: keptActions,
  };
  return { entry: applyEntry(new Draft(snapshot), entry) ? entry : null, skippedBatches };
}

/**
 * The live files of a table.
 * @param snapshot - a catalog snapshot
 * @param table - the table name
 * @returns its files, sorted by key
 * @throws {OctaError} NOT_FOUND when the snapshot has no such table (the message lists those it has)
 */
export function liveFiles(snapshot: CatalogSnapshot, table: string): FileRecord[] {
  const state = snapshot.tables.get(table);
  if (state === undefined) {
    const names = [...snapshot.tables.keys()].sort(compareKeys).join(', ') || 'none';
    throw new OctaError('NOT_FOUND', `no such table in the catalog (tables: ${names})`, table);
  }
  return [...state.files.values()].sort((a, b) => compareKeys(a.key, b.key));
}
