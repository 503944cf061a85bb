// Over 400 lines: the checks and the encoding of every catalog record stay together, so a record handed in
// and one read back are checked by the same code; cutting the record checks from the log and checkpoint
// codec is issue 15 item 5 work.
/**
 * What the embedded catalog stores (DESIGN §4): the rules its records obey and their encoding in
 * `<lake>/_octa/` (the record types are in `records.ts`):
 * - `_octa/log/<version>.json`: one commit, JSON, versions 1, 2, … zero-padded to 20 digits so that
 *   key order is version order;
 * - `_octa/checkpoints/<version>.json`: the whole state after that version, as a header line
 *   (format, version, SHA-256 of the rest) and a JSON body, so that damage is detected rather than read.
 * Every record is checked the same way whether a caller hands it in (INVALID_ARGUMENT) or it is
 * read back from storage (CORRUPT, naming the key).
 */
import { createHash } from 'node:crypto';
import { isoToMicros } from '../../export/event-time.js';
import { createPointSchema, type PayloadColumn } from '../../export/schema.js';
import { OctaError } from '../../lattice/errors.js';
import { type Frame, frameFromJSON, frameToJSON } from '../../lattice/frame.js';
import { checkKey, compareKeys } from '../storage/storage.js';
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

/** Where the catalog lives, relative to the lake root; nothing else in the lake starts with it. */
export const CATALOG_PREFIX = '_octa/';
export const LOG_PREFIX = '_octa/log/';
export const CHECKPOINT_PREFIX = '_octa/checkpoints/';
const LOG_FORMAT = 'octa-catalog-log';
const CHECKPOINT_FORMAT = 'octa-catalog-checkpoint';
const FORMAT_VERSION = 1;

const versionName = (version: number) => `${String(version).padStart(20, '0')}.json`;
/** The key of a log entry. */
export const logKey = (version: number): string => LOG_PREFIX + versionName(version);
/** The key of a checkpoint. */
export const checkpointKey = (version: number): string => CHECKPOINT_PREFIX + versionName(version);

/**
 * The version named by a log or checkpoint key.
 * @param key - a key under `prefix`
 * @param prefix - {@link LOG_PREFIX} or {@link CHECKPOINT_PREFIX}
 * @returns the version, or null when the key is not one of ours
 */
export function keyToVersion(key: string, prefix: string): number | null {
  const match = /^(\d{20})\.json$/.exec(key.startsWith(prefix) ? key.slice(prefix.length) : '');
  const version = match === null ? 0 : Number(match[1]);
  return Number.isSafeInteger(version) && version > 0 ? version : null;
}

type Fields = Record<string, unknown>;
const invalid = (what: string, value: unknown, rule: string) =>
  new OctaError('INVALID_ARGUMENT', `${what} ${rule}`, value);

function fields(what: string, raw: unknown): Fields {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalid(what, raw, 'must be an object');
  return raw as Fields;
}

function text(what: string, raw: unknown, max = 256): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > max || /[\p{Cc}\p{Cs}]/u.test(raw)) {
    throw invalid(what, raw, `must be 1-${max} characters of printable text`);
  }
  return raw;
}

function integer(what: string, raw: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < min || raw > max) {
    throw invalid(what, raw, `must be an integer in ${min}..${max}`);
  }
  return raw;
}

function list(what: string, raw: unknown): unknown[] {
  if (!Array.isArray(raw)) throw invalid(what, raw, 'must be an array');
  return raw;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Checks a name that becomes a path or an SQL identifier: a letter or underscore, then up to 62
 * letters, digits or underscores. `_octa` (any case) is not a table name: the catalog lives there.
 * @param kind - what the name names, for the message
 * @param name - the candidate
 * @returns the same name
 * @throws {OctaError} INVALID_ARGUMENT naming the value and the rule
 */
export function validateName(kind: 'table' | 'column', name: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalid(
      `${kind} name`,
      name,
      `must match ${NAME.source} (a letter or underscore, then up to 62 letters, digits or underscores); rename it`,
    );
  }
  if (kind === 'table' && name.toLowerCase() === '_octa') {
    throw invalid('table name', name, 'is reserved for the catalog directory; choose another name');
  }
  return name;
}

/**
 * Names a new table may not take, compared in any case: `files` is the catalog's view in SQL
 * (src/sql/open.ts), and SQL engines fold identifier case. A table that an older octa-lake created
 * with one of them keeps working: only creating one is refused.
 */
export const RESERVED_TABLE_NAMES: readonly string[] = ['files'];

/**
 * Checks the name of a table about to be created: {@link validateName}, and not reserved.
 * @param name - the candidate
 * @returns the same name
 * @throws {OctaError} INVALID_ARGUMENT naming the value and the reserved names
 */
export function checkNewTableName(name: string): string {
  validateName('table', name);
  if (RESERVED_TABLE_NAMES.includes(name.toLowerCase())) {
    throw invalid(
      'table name',
      name,
      `is reserved (reserved names, in any case: ${RESERVED_TABLE_NAMES.join(', ')}, _octa): SQL sessions call the catalog's view of every file files; choose another name`,
    );
  }
  return name;
}

const PARTITION = /^[A-Za-z0-9_][A-Za-z0-9_.:+-]{0,127}$/;

function partition(what: string, raw: unknown): string {
  if (typeof raw !== 'string' || !PARTITION.test(raw) || raw.includes('..')) {
    throw invalid(`partition value ${what}`, raw, `must match ${PARTITION.source} without '..'`);
  }
  return raw;
}

const INT64 = /^-?(?:0|[1-9]\d{0,18})$/;

function int64(what: string, raw: unknown): bigint {
  const value = typeof raw === 'string' && INT64.test(raw) && raw !== '-0' ? BigInt(raw) : null;
  if (value === null || value !== BigInt.asIntN(64, value)) {
    throw invalid(what, raw, 'must be a signed 64-bit integer in canonical decimal form');
  }
  return value;
}

const ISO_MICROS = /^(?:\d{4}|[+-]\d{6})-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

function isoMicros(what: string, raw: unknown): bigint {
  if (typeof raw !== 'string' || !ISO_MICROS.test(raw)) {
    throw invalid(
      what,
      raw,
      'must be ISO 8601 UTC with six fraction digits, e.g. 2024-05-01T12:00:00.000000Z',
    );
  }
  return isoToMicros(raw);
}

function timestamp(what: string, raw: unknown): string {
  if (typeof raw !== 'string') throw invalid(what, raw, 'must be an ISO 8601 timestamp');
  isoToMicros(raw);
  return raw;
}

/**
 * Checks split points: canonical signed INT64 decimals in strictly ascending order.
 * @returns a copy
 * @throws {OctaError} INVALID_ARGUMENT naming the first bad value
 */
export function checkSplits(raw: unknown): string[] {
  let previous: bigint | null = null;
  return list('splits', raw).map((split) => {
    const value = int64('split point', split);
    if (previous !== null && value <= previous)
      throw invalid('split point', split, 'must be above the one before');
    previous = value;
    return split as string;
  });
}

/**
 * Checks a table config and returns a canonical copy (the frame as {@link frameFromJSON} reads it).
 * @throws {OctaError} INVALID_ARGUMENT or INVALID_FRAME saying what is wrong
 */
export function checkTableConfig(raw: unknown): TableConfigInput {
  const c = fields('table config', raw);
  const payload = list('payload', c.payload).map((p) => {
    const column = fields('payload column', p);
    return { name: column.name, type: column.type } as PayloadColumn;
  });
  createPointSchema({ payload });
  const idKind = c.idKind;
  if (idKind !== 'index64' && idKind !== 'hilbert64')
    throw invalid('idKind', idKind, 'must be index64 or hilbert64');
  const timeBucket = c.timeBucket;
  if (timeBucket !== 'hour' && timeBucket !== 'day' && timeBucket !== 'month') {
    throw invalid('timeBucket', timeBucket, 'must be hour, day or month');
  }
  const config: TableConfigInput = {
    name: validateName('table', c.name as string),
    frame: frameFromJSON(frameToJSON(c.frame as Frame)),
    lod: integer('lod', c.lod, 0, 15),
    idKind,
    timeBucket,
    payload,
    splits: checkSplits(c.splits ?? []),
  };
  if (c.createdAt !== undefined) config.createdAt = timestamp('createdAt', c.createdAt);
  return config;
}

/**
 * Checks a file record, including that its key follows the lake layout
 * `<table>/lod=<L>/t=<t>/r=<r>/<file>`, and returns a copy without `committedAt`.
 * @throws {OctaError} INVALID_ARGUMENT naming the field and value
 */
export function checkFileRecord(raw: unknown): FileRecord {
  const f = fields('file record', raw);
  const file: FileRecord = {
    key: checkKey(f.key as string),
    table: validateName('table', f.table as string),
    lod: integer('file lod', f.lod, 0, 15),
    t: partition('t', f.t),
    r: partition('r', f.r),
    rows: integer('file rows', f.rows, 0),
    bytes: integer('file bytes', f.bytes, 0),
    sha256: f.sha256 as string,
    cellMin: f.cellMin as string,
    cellMax: f.cellMax as string,
    timeMin: f.timeMin as string,
    timeMax: f.timeMax as string,
    bbox: f.bbox as FileRecord['bbox'],
    batch: text('file batch', f.batch),
    writer: text('file writer', f.writer),
  };
  if (typeof file.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(file.sha256)) {
    throw invalid('file sha256', file.sha256, 'must be 64 lowercase hex digits');
  }
  if (int64('cellMin', file.cellMin) > int64('cellMax', file.cellMax)) {
    throw invalid('cellMin', file.cellMin, `must not exceed cellMax ${file.cellMax}`);
  }
  if (isoMicros('timeMin', file.timeMin) > isoMicros('timeMax', file.timeMax)) {
    throw invalid('timeMin', file.timeMin, `must not be after timeMax ${file.timeMax}`);
  }
  const b = list('bbox', file.bbox);
  if (b.length !== 6 || !b.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw invalid('bbox', file.bbox, 'must be six finite numbers: minX, minY, minZ, maxX, maxY, maxZ');
  }
  if (file.bbox.slice(0, 3).some((min, axis) => min > file.bbox[axis + 3]!)) {
    throw invalid('bbox', file.bbox, 'must have each minimum at or below its maximum');
  }
  file.bbox = [...file.bbox];
  const dir = `${file.table}/lod=${file.lod}/t=${file.t}/r=${file.r}/`;
  if (!file.key.startsWith(dir) || file.key.slice(dir.length).includes('/')) {
    throw invalid('file key', file.key, `must be a file directly under ${dir} (the lake layout)`);
  }
  return file;
}

/**
 * Checks one action of a commit.
 * @throws {OctaError} INVALID_ARGUMENT (or INVALID_FRAME) saying what is wrong
 */
export function checkAction(raw: unknown): CommitAction {
  const a = fields('action', raw);
  switch (a.op) {
    case 'create_table':
      return { op: 'create_table', config: checkTableConfig(a.config) };
    case 'add':
      return { op: 'add', file: checkFileRecord(a.file) };
    case 'remove':
      return {
        op: 'remove',
        key: checkKey(a.key as string),
        table: validateName('table', a.table as string),
      };
    case 'forget':
      return {
        op: 'forget',
        key: checkKey(a.key as string),
        table: validateName('table', a.table as string),
      };
    case 'set_splits': {
      const table = validateName('table', a.table as string);
      const action: CommitAction = { op: 'set_splits', table, splits: checkSplits(a.splits) };
      if (a.expected !== undefined) action.expected = checkSplits(a.expected);
      return action;
    }
    default:
      throw invalid('action op', a.op, 'must be create_table, add, remove, set_splits or forget');
  }
}

/**
 * Checks a commit request and returns a canonical copy (batch ids deduplicated).
 * @throws {OctaError} INVALID_ARGUMENT saying what is wrong
 */
export function checkCommitRequest(raw: CommitRequest): Required<CommitRequest> {
  const r = fields('commit', raw);
  const actions = list('actions', r.actions).map(checkAction);
  const batches = [...new Set(list('batches', r.batches ?? []).map((b) => text('batch id', b)))];
  if (batches.length > 0 && actions.length === 0) {
    throw invalid(
      'commit',
      batches,
      'records batch ids per table: include the actions (a create_table or add) that name it',
    );
  }
  return {
    operation: text('operation', r.operation, 64),
    writer: text('writer', r.writer),
    batches,
    actions,
  };
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Runs `check`, turning every problem into CORRUPT naming the key. */
function readBack<T>(key: string, what: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof OctaError && error.code === 'CORRUPT') throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw new OctaError('CORRUPT', `catalog ${what} ${key} is unreadable: ${why}`, key);
  }
}

function header(raw: unknown, format: string, version: number): Fields {
  const h = fields('header', raw);
  if (h.format !== format) throw invalid('format', h.format, `must be ${format}`);
  if (h.formatVersion !== FORMAT_VERSION) {
    throw invalid(
      'formatVersion',
      h.formatVersion,
      `must be ${FORMAT_VERSION}; a newer octa-lake wrote it, upgrade`,
    );
  }
  if (h.version !== version)
    throw invalid('version', h.version, `must be ${version}, the version its key names`);
  return h;
}

/** A log entry's bytes. */
export function encodeEntry(entry: CommitEntry): Uint8Array {
  return utf8.encode(JSON.stringify({ format: LOG_FORMAT, formatVersion: FORMAT_VERSION, ...entry }));
}

/**
 * Reads a log entry back.
 * @param bytes - the stored bytes
 * @param key - its key, which names its version
 * @throws {OctaError} CORRUPT naming the key for anything but a valid entry of that version
 */
export function decodeEntry(bytes: Uint8Array, key: string): CommitEntry {
  return readBack(key, 'log entry', () => {
    const version = keyToVersion(key, LOG_PREFIX);
    if (version === null) throw invalid('log key', key, 'is not a log entry key');
    const e = header(JSON.parse(strictUtf8.decode(bytes)), LOG_FORMAT, version);
    // An entry may carry batch ids without actions (every add skipped): its tables name where they go.
    const request = checkCommitRequest({ ...(e as unknown as CommitRequest), batches: [] });
    const batches = list('batches', e.batches).map((b) => text('batch id', b));
    const tables = list('tables', e.tables).map((name) => validateName('table', name as string));
    if (batches.length > 0 && tables.length === 0)
      throw invalid('tables', tables, 'must name where the batch ids go');
    const actions = request.actions.map((action): CatalogAction => {
      if (action.op !== 'create_table') return action;
      const { config } = action;
      return {
        op: 'create_table',
        config: {
          ...config,
          splits: config.splits ?? [],
          createdAt: timestamp('createdAt', config.createdAt),
        },
      };
    });
    const { operation, writer } = request;
    return {
      version,
      timestamp: timestamp('timestamp', e.timestamp),
      operation,
      writer,
      batches,
      tables,
      actions,
    };
  });
}

/** A checkpoint's bytes: a header line with the SHA-256 of the body, then the body. */
export function encodeCheckpoint(snapshot: CatalogSnapshot): Uint8Array {
  const tables = [...snapshot.tables.values()]
    .sort((a, b) => compareKeys(a.config.name, b.config.name))
    .map(({ config, files, batches, removed }) => ({
      config,
      files: [...files.values()].sort((a, b) => compareKeys(a.key, b.key)),
      batches: [...batches].sort(compareKeys),
      removed: [...removed]
        .sort(([a], [b]) => compareKeys(a, b))
        .map(([key, removedAt]) => ({ key, removedAt })),
    }));
  const body = utf8.encode(JSON.stringify({ tables }));
  const head = {
    format: CHECKPOINT_FORMAT,
    formatVersion: FORMAT_VERSION,
    version: snapshot.version,
    sha256: sha256(body),
  };
  const first = utf8.encode(`${JSON.stringify(head)}\n`);
  const out = new Uint8Array(first.length + body.length);
  out.set(first);
  out.set(body, first.length);
  return out;
}

/**
 * Reads a checkpoint back, verifying its checksum and every record.
 * @param bytes - the stored bytes
 * @param key - its key, which names its version
 * @throws {OctaError} CORRUPT naming the key when it is damaged in any way
 */
export function decodeCheckpoint(bytes: Uint8Array, key: string): CatalogSnapshot {
  return readBack(key, 'checkpoint', () => {
    const version = keyToVersion(key, CHECKPOINT_PREFIX);
    if (version === null) throw invalid('checkpoint key', key, 'is not a checkpoint key');
    const newline = bytes.indexOf(10);
    if (newline < 0) throw invalid('checkpoint', bytes.length, 'has no header line');
    const h = header(JSON.parse(strictUtf8.decode(bytes.subarray(0, newline))), CHECKPOINT_FORMAT, version);
    const body = bytes.subarray(newline + 1);
    if (h.sha256 !== sha256(body)) throw invalid('checkpoint body', h.sha256, 'does not match its SHA-256');
    const tables = new Map<string, TableState>();
    for (const raw of list('tables', fields('body', JSON.parse(strictUtf8.decode(body))).tables)) {
      const t = fields('table', raw);
      const input = checkTableConfig(t.config);
      const config: TableConfig = {
        ...input,
        splits: input.splits ?? [],
        createdAt: timestamp('createdAt', input.createdAt),
      };
      const files = new Map<string, FileRecord>();
      for (const rawFile of list('files', t.files)) {
        const file = checkFileRecord(rawFile);
        if (file.table !== config.name || file.lod !== config.lod)
          throw invalid('file', file.key, `is not a file of ${config.name}`);
        file.committedAt = timestamp('committedAt', (rawFile as Fields).committedAt);
        files.set(file.key, file);
      }
      const batches = new Set(list('batches', t.batches).map((b) => text('batch id', b)));
      // Checkpoints written before superseded files were recorded have no `removed`.
      const removed = new Map<string, string>();
      for (const rawRemoved of list('removed', t.removed ?? [])) {
        const r = fields('removed file', rawRemoved);
        removed.set(checkKey(r.key as string), timestamp('removedAt', r.removedAt));
      }
      tables.set(config.name, { config, files, batches, removed });
    }
    return { version, tables };
  });
}
