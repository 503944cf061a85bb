/**
 * The embedded catalog: the pure state machine (replay, conflicts, idempotency), the log and
 * checkpoints on a real LocalStorage (including damage), and the commit protocol under contention
 * from sessions in one process and from separate node processes running the built library.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CatalogSnapshot,
  type CommitEntry,
  type CommitRequest,
  checkpointKey,
  decodeCheckpoint,
  decodeEntry,
  EmbeddedCatalog,
  encodeCheckpoint,
  encodeEntry,
  keyToVersion,
  LOG_PREFIX,
  liveFiles,
  logKey,
  prepareCommit,
  replay,
  type TableConfigInput,
  validateName,
} from '../../src/lake/catalog/catalog.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import type { Storage } from '../../src/lake/storage/storage.js';
import { OctaError } from '../../src/lattice/errors.js';
import { FRAME, fileRecord, tableConfig } from './fixtures/catalog.js';

let dir: string;
let storage: LocalStorage;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'octa-catalog-'));
  storage = await LocalStorage.create({ root: dir });
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function errorOf(run: Promise<unknown> | (() => unknown)): Promise<OctaError> {
  try {
    await (typeof run === 'function' ? run() : run);
  } catch (error) {
    expect(error).toBeInstanceOf(OctaError);
    return error as OctaError;
  }
  throw new Error('expected an OctaError');
}

/** A snapshot as plain, ordered data, for comparing states built different ways. */
function plain(snapshot: CatalogSnapshot) {
  return {
    version: snapshot.version,
    tables: [...snapshot.tables.keys()].sort().map((name) => ({
      config: snapshot.tables.get(name)!.config,
      files: liveFiles(snapshot, name),
      batches: [...snapshot.tables.get(name)!.batches].sort(),
    })),
  };
}

async function logVersions(store: Storage = storage): Promise<number[]> {
  return (await store.list(LOG_PREFIX)).map((e) => keyToVersion(e.key, LOG_PREFIX)!);
}

/** Replays every log entry from storage, from version 1, without checkpoints. */
async function replayAll(store: Storage = storage): Promise<CatalogSnapshot> {
  const entries: CommitEntry[] = [];
  for (const version of await logVersions(store)) {
    entries.push(decodeEntry(await store.read(logKey(version)), logKey(version)));
  }
  return replay(entries);
}

/** Replays the log entries 1..version from storage. */
async function replayPrefix(version: number): Promise<CatalogSnapshot> {
  const entries: CommitEntry[] = [];
  for (let v = 1; v <= version; v++) entries.push(decodeEntry(await storage.read(logKey(v)), logKey(v)));
  return replay(entries);
}

/** A storage that records the keys read, to assert what a reader touched. */
function counting(inner: Storage): Storage & { reads: string[] } {
  const reads: string[] = [];
  return {
    url: inner.url,
    reads,
    read: (key) => {
      reads.push(key);
      return inner.read(key);
    },
    readRange: (key, offset, length) => inner.readRange(key, offset, length),
    write: (key, data) => inner.write(key, data),
    writeIfAbsent: (key, data) => inner.writeIfAbsent(key, data),
    list: (prefix) => inner.list(prefix),
    stat: (key) => inner.stat(key),
    delete: (key) => inner.delete(key),
    localPath: (key) => inner.localPath(key),
    close: () => inner.close(),
  };
}

const ingest = (batch: string, files = [fileRecord({ batch })]): CommitRequest => ({
  operation: 'ingest',
  writer: 'w0',
  batches: [batch],
  actions: [
    { op: 'create_table', config: tableConfig() },
    ...files.map((file) => ({ op: 'add' as const, file })),
  ],
});

describe('validateName', () => {
  it('accepts identifiers and rejects anything that could become a bad path', async () => {
    for (const name of ['points', '_x', 'A1_b', 'a'.repeat(63)])
      expect(validateName('table', name)).toBe(name);
    for (const name of [
      '',
      '1a',
      'a-b',
      'a b',
      'a/b',
      '..',
      'a.b',
      "a'b",
      'a"b',
      'ä',
      'a'.repeat(64),
      '_octa',
      '_OCTA',
    ]) {
      const error = await errorOf(() => validateName('table', name));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.value).toBe(name);
    }
    expect((await errorOf(() => validateName('column', 'a b'))).message).toContain('column name must match');
    expect(validateName('column', '_octa')).toBe('_octa');
  });
});

describe('replay and prepareCommit (pure)', () => {
  const at = (second: number) => `2024-05-01T00:00:${String(second).padStart(2, '0')}.000Z`;
  function commitAll(requests: CommitRequest[]): { entries: CommitEntry[]; state: CatalogSnapshot } {
    let state = replay([]);
    const entries: CommitEntry[] = [];
    for (const [i, request] of requests.entries()) {
      const { entry } = prepareCommit(state, request, at(i));
      if (entry === null) continue;
      entries.push(entry);
      state = replay([entry], state);
    }
    return { entries, state };
  }

  it('folds create, add, remove and set_splits, never changing an earlier snapshot', () => {
    const f1 = fileRecord({ batch: 'b1' });
    const f2 = fileRecord({ batch: 'b2', t: '2024-05-02' });
    const { entries, state } = commitAll([
      ingest('b1', [f1]),
      ingest('b2', [f2]),
      { operation: 'compact', writer: 'c', actions: [{ op: 'remove', key: f1.key, table: 'points' }] },
      {
        operation: 'rebalance',
        writer: 'r',
        actions: [{ op: 'set_splits', table: 'points', splits: ['-5', '0', '77'] }],
      },
    ]);
    expect(entries.map((e) => e.version)).toEqual([1, 2, 3, 4]);
    expect(state.version).toBe(4);
    const table = state.tables.get('points')!;
    expect(table.config.splits).toEqual(['-5', '0', '77']);
    expect(table.config.createdAt).toBe(at(0));
    expect(table.config.frame).toEqual(FRAME);
    expect([...table.batches].sort()).toEqual(['b1', 'b2']);
    expect(liveFiles(state, 'points')).toEqual([{ ...f2, committedAt: at(1) }]);
    // Replaying a prefix onto the empty state gives the state at that version, untouched by later entries.
    const two = replay(entries.slice(0, 2));
    expect(liveFiles(two, 'points').map((f) => f.key)).toEqual([f1.key, f2.key]);
    const three = replay(entries.slice(2, 3), two);
    expect(liveFiles(two, 'points')).toHaveLength(2);
    expect(liveFiles(three, 'points')).toHaveLength(1);
    expect(replay(entries.slice(3), three)).toEqual(state);
  });

  it('turns entries that are out of sequence or do not apply into CORRUPT naming the key', async () => {
    const { entries } = commitAll([ingest('b1'), ingest('b2', [fileRecord({ batch: 'b2', name: 'x' })])]);
    const gap = await errorOf(() => replay([entries[1]!]));
    expect(gap.code).toBe('CORRUPT');
    expect(gap.value).toBe(logKey(2));
    const twice = await errorOf(() => replay([entries[0]!, { ...entries[0]!, version: 2 }]));
    expect(twice.code).toBe('CORRUPT');
    expect(twice.message).toContain('already live');
    expect(twice.value).toBe(logKey(2));
  });

  it('lists live files sorted by key, and names the tables it has for an unknown one', async () => {
    const files = ['c', 'a', 'b'].map((name) => fileRecord({ batch: 'b1', name }));
    const { state } = commitAll([ingest('b1', files)]);
    expect(liveFiles(state, 'points').map((f) => f.key)).toEqual([...files.map((f) => f.key)].sort());
    const error = await errorOf(() => liveFiles(state, 'nope'));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('tables: points');
  });
});

describe('EmbeddedCatalog commits', () => {
  it('opens an empty lake without writing, then commits versions from 1', async () => {
    const catalog = await EmbeddedCatalog.open({ storage });
    expect(plain(await catalog.snapshot())).toEqual({ version: 0, tables: [] });
    expect(await storage.list('')).toEqual([]);
    const result = await catalog.commit(ingest('b1'));
    expect(result).toEqual({ version: 1, skippedBatches: [], committed: true, attempts: 1 });
    expect((await storage.list('')).map((e) => e.key)).toEqual([logKey(1)]);
    const other = await EmbeddedCatalog.open({ storage });
    expect(plain(await other.snapshot())).toEqual(plain(await catalog.snapshot()));
    await other.commit(ingest('b2', [fileRecord({ batch: 'b2' })]));
    // The first session reads what the second committed.
    expect(liveFiles(await catalog.snapshot(), 'points')).toHaveLength(2);
  });

  it('refuses a table with another LOD, frame, id kind, time bucket, payload or name case', async () => {
    const catalog = await EmbeddedCatalog.open({ storage });
    await catalog.commit({
      operation: 'ingest',
      writer: 'w',
      actions: [{ op: 'create_table', config: tableConfig() }],
    });
    const cases: [Partial<TableConfigInput>, string][] = [
      [{ lod: 9 }, 'LOD 9 (the table has 7)'],
      [{ frame: { ...FRAME, edge: 2048 } }, 'frame'],
      [{ frame: { ...FRAME, id: 4 } }, 'frame'],
      [{ idKind: 'hilbert64' }, 'id kind hilbert64'],
      [{ timeBucket: 'hour' }, 'time bucket hour'],
      [{ payload: [] }, 'payload'],
      [{ payload: [{ name: 'intensity', type: 'int32' }] }, 'payload'],
      [{ name: 'Points' }, 'differs only in case'],
    ];
    for (const [overrides, phrase] of cases) {
      const error = await errorOf(
        catalog.commit({
          operation: 'ingest',
          writer: 'w',
          actions: [{ op: 'create_table', config: tableConfig(overrides) }],
        }),
      );
      expect(error.code, phrase).toBe('CONFLICT');
      expect(error.message).toContain(phrase);
    }
    // The same settings (other splits and creation time) are a no-op that writes nothing.
    const same = await catalog.commit({
      operation: 'ingest',
      writer: 'w',
      actions: [
        {
          op: 'create_table',
          config: { ...tableConfig(), splits: ['5'], createdAt: '2020-01-01T00:00:00Z' },
        },
      ],
    });
    expect(same).toEqual({ version: 1, skippedBatches: [], committed: false, attempts: 1 });
    expect(await logVersions()).toEqual([1]);
  });

  it('rejects malformed actions before writing anything', async () => {
    const catalog = await EmbeddedCatalog.open({ storage });
    await catalog.commit(ingest('b1'));
    const bad: [CommitRequest, string][] = [
      [
        { operation: 'ingest', writer: 'w', actions: [{ op: 'add', file: fileRecord({ table: 'other' }) }] },
        'NOT_FOUND',
      ],
      [
        { operation: 'ingest', writer: 'w', actions: [{ op: 'add', file: fileRecord({ lod: 8 }) }] },
        'INVALID_ARGUMENT',
      ],
      [
        {
          operation: 'ingest',
          writer: 'w',
          actions: [{ op: 'add', file: { ...fileRecord({ batch: 'z' }), key: 'points/elsewhere.parquet' } }],
        },
        'INVALID_ARGUMENT',
      ],
      [
        {
          operation: 'ingest',
          writer: 'w',
          actions: [{ op: 'add', file: { ...fileRecord({ batch: 'z' }), cellMin: '5', cellMax: '4' } }],
        },
        'INVALID_ARGUMENT',
      ],
      [
        {
          operation: 'ingest',
          writer: 'w',
          actions: [{ op: 'add', file: { ...fileRecord({ batch: 'z' }), timeMin: '2024-05-01T00:00:00Z' } }],
        },
        'INVALID_ARGUMENT',
      ],
      [
        {
          operation: 'ingest',
          writer: 'w',
          actions: [
            { op: 'add', file: { ...fileRecord({ batch: 'z' }), bbox: [0, 0, 0, 1, 1, Number.NaN] } },
          ],
        },
        'INVALID_ARGUMENT',
      ],
      [
        {
          operation: 'ingest',
          writer: 'w',
          actions: [{ op: 'add', file: { ...fileRecord({ batch: 'z', t: '../x' }) } }],
        },
        'INVALID_ARGUMENT',
      ],
      [
        { operation: 'ingest', writer: 'w', actions: [{ op: 'add', file: fileRecord({ batch: 'b1' }) }] },
        'CONFLICT',
      ],
      [
        {
          operation: 'ingest',
          writer: 'w',
          actions: [{ op: 'create_table', config: tableConfig({ name: 'a/b' }) }],
        },
        'INVALID_ARGUMENT',
      ],
      [
        {
          operation: 'ingest',
          writer: 'w',
          actions: [{ op: 'create_table', config: tableConfig({ name: 't2', lod: 16 }) }],
        },
        'INVALID_ARGUMENT',
      ],
      [
        {
          operation: 'ingest',
          writer: 'w',
          actions: [
            { op: 'create_table', config: tableConfig({ name: 't2', frame: { ...FRAME, edge: -1 } }) },
          ],
        },
        'INVALID_FRAME',
      ],
      [{ operation: 'ingest', writer: 'w', batches: ['b9'], actions: [] }, 'INVALID_ARGUMENT'],
      [{ operation: '', writer: 'w', actions: [] }, 'INVALID_ARGUMENT'],
      [{ operation: 'x', writer: 'w', actions: [{ op: 'drop' } as never] }, 'INVALID_ARGUMENT'],
      [
        { operation: 'x', writer: 'w', actions: [{ op: 'set_splits', table: 'points', splits: ['2', '1'] }] },
        'INVALID_ARGUMENT',
      ],
      [
        {
          operation: 'x',
          writer: 'w',
          actions: [{ op: 'set_splits', table: 'points', splits: ['9223372036854775808'] }],
        },
        'INVALID_ARGUMENT',
      ],
      [
        { operation: 'x', writer: 'w', actions: [{ op: 'set_splits', table: 'points', splits: ['01'] }] },
        'INVALID_ARGUMENT',
      ],
    ];
    for (const [request, code] of bad) {
      expect(
        (await errorOf(catalog.commit(request))).code,
        JSON.stringify(request.actions[0] ?? request),
      ).toBe(code);
    }
    expect(await logVersions()).toEqual([1]);
  });

  it('commits each batch once: a retry commits nothing, a partly new commit only the new batches', async () => {
    const catalog = await EmbeddedCatalog.open({ storage });
    expect((await catalog.commit(ingest('b1'))).committed).toBe(true);
    const retry = await catalog.commit(ingest('b1'));
    expect(retry).toEqual({ version: 1, skippedBatches: ['b1'], committed: false, attempts: 1 });
    expect(await logVersions()).toEqual([1]);

    // b1 again (with a new file, as a second run of the same input would write) plus b2, and an
    // empty batch b3: only b2's file is added, b2 and b3 are recorded.
    const mixed = await catalog.commit({
      operation: 'ingest',
      writer: 'w1',
      batches: ['b1', 'b2', 'b3'],
      actions: [
        { op: 'add', file: fileRecord({ batch: 'b1', writer: 'w1' }) },
        { op: 'add', file: fileRecord({ batch: 'b2' }) },
      ],
    });
    expect(mixed).toEqual({ version: 2, skippedBatches: ['b1'], committed: true, attempts: 1 });
    const state = await catalog.snapshot();
    expect(liveFiles(state, 'points').map((f) => f.batch)).toEqual(['b1', 'b2']);
    expect([...state.tables.get('points')!.batches].sort()).toEqual(['b1', 'b2', 'b3']);
    // Every add skipped, but b4 is new: it is still recorded, in the table the actions named.
    const emptyNew = await catalog.commit({
      operation: 'ingest',
      writer: 'w1',
      batches: ['b3', 'b4'],
      actions: [{ op: 'add', file: fileRecord({ batch: 'b3', writer: 'w9' }) }],
    });
    expect(emptyNew).toEqual({ version: 3, skippedBatches: ['b3'], committed: true, attempts: 1 });
    expect((await catalog.snapshot()).tables.get('points')!.batches.has('b4')).toBe(true);
    expect(liveFiles(await catalog.snapshot(), 'points')).toHaveLength(2);
    expect(plain(await replayAll())).toEqual(plain(await catalog.snapshot()));
  });

  it('compacts atomically and refuses to remove a file that is no longer live', async () => {
    const catalog = await EmbeddedCatalog.open({ storage });
    const [f1, f2] = [fileRecord({ batch: 'b1' }), fileRecord({ batch: 'b2' })];
    await catalog.commit(ingest('b1', [f1]));
    await catalog.commit(ingest('b2', [f2]));
    const merged = fileRecord({ batch: 'compact-1', writer: 'c' });
    const compaction: CommitRequest = {
      operation: 'compact',
      writer: 'c',
      actions: [
        { op: 'remove', key: f1.key, table: 'points' },
        { op: 'remove', key: f2.key, table: 'points' },
        { op: 'add', file: merged },
      ],
    };
    expect((await catalog.commit(compaction)).version).toBe(3);
    expect(liveFiles(await catalog.snapshot(), 'points').map((f) => f.key)).toEqual([merged.key]);
    const again = await errorOf(catalog.commit({ ...compaction, actions: compaction.actions.slice(0, 1) }));
    expect(again.code).toBe('CONFLICT');
    expect(again.value).toBe(f1.key);
    // Batches survive the removal of their files: re-ingesting b1 still commits nothing.
    expect((await catalog.commit(ingest('b1', [f1]))).committed).toBe(false);
  });

  it('sets splits, with compare-and-set for rebalancing', async () => {
    const catalog = await EmbeddedCatalog.open({ storage });
    await catalog.commit(ingest('b1'));
    const set = (splits: string[], expected?: string[]) =>
      catalog.commit({
        operation: 'rebalance',
        writer: 'r',
        actions: [{ op: 'set_splits', table: 'points', splits, ...(expected ? { expected } : {}) }],
      });
    await set(['-9223372036854775808', '100']);
    await set(['0'], ['-9223372036854775808', '100']);
    expect((await errorOf(set(['1'], ['-9223372036854775808', '100']))).code).toBe('CONFLICT');
    expect((await catalog.snapshot()).tables.get('points')!.config.splits).toEqual(['0']);
    expect(
      (
        await errorOf(
          catalog.commit({
            operation: 'x',
            writer: 'r',
            actions: [{ op: 'set_splits', table: 'nope', splits: [] }],
          }),
        )
      ).code,
    ).toBe('NOT_FOUND');
  });
});

describe('the commit protocol', () => {
  it('retries with the next version after losing a race, and re-checks batches and conflicts', async () => {
    const rival = await EmbeddedCatalog.open({ storage });
    await rival.commit(ingest('b0'));
    let interpose: (() => Promise<unknown>) | null = null;
    const racing: Storage = {
      ...counting(storage),
      writeIfAbsent: async (key, data) => {
        const before = interpose;
        interpose = null;
        if (before) await before();
        return storage.writeIfAbsent(key, data);
      },
    };
    const catalog = await EmbeddedCatalog.open({ storage: racing, backoffMs: 0 });

    interpose = () => rival.commit(ingest('b1', [fileRecord({ batch: 'b1', writer: 'rival' })]));
    expect(await catalog.commit(ingest('b2'))).toEqual({
      version: 3,
      skippedBatches: [],
      committed: true,
      attempts: 2,
    });

    interpose = () => rival.commit(ingest('b3', [fileRecord({ batch: 'b3', writer: 'rival' })]));
    expect(await catalog.commit(ingest('b3'))).toEqual({
      version: 4,
      skippedBatches: ['b3'],
      committed: false,
      attempts: 2,
    });

    const b0 = fileRecord({ batch: 'b0' });
    interpose = () =>
      rival.commit({
        operation: 'compact',
        writer: 'rival',
        actions: [{ op: 'remove', key: b0.key, table: 'points' }],
      });
    const conflict = await errorOf(
      catalog.commit({
        operation: 'compact',
        writer: 'c',
        actions: [{ op: 'remove', key: b0.key, table: 'points' }],
      }),
    );
    expect(conflict.code).toBe('CONFLICT');
    expect(await logVersions()).toEqual([1, 2, 3, 4, 5]);
    const state = await catalog.snapshot();
    expect(
      liveFiles(state, 'points')
        .map((f) => `${f.batch}:${f.writer}`)
        .sort(),
    ).toEqual(['b1:rival', 'b2:w0', 'b3:rival']);
  });

  it('gives up with CONFLICT after maxAttempts lost races', async () => {
    let attempts = 0;
    const hopeless: Storage = {
      ...counting(storage),
      writeIfAbsent: async () => {
        attempts++;
        return false;
      },
    };
    const catalog = await EmbeddedCatalog.open({ storage: hopeless, maxAttempts: 5, backoffMs: 1 });
    const error = await errorOf(catalog.commit(ingest('b1')));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toContain('5 attempts');
    expect(attempts).toBe(5);
  });

  it('keeps versions dense when sessions in one process commit at once', async () => {
    const sessions = await Promise.all([0, 1, 2].map(() => EmbeddedCatalog.open({ storage, backoffMs: 1 })));
    await sessions[0]!.commit({
      operation: 'ingest',
      writer: 'w',
      actions: [{ op: 'create_table', config: tableConfig() }],
    });
    const results = await Promise.all(
      sessions.flatMap((session, s) =>
        Array.from({ length: 15 }, (_, i) =>
          session.commit(ingest(`s${s}-${i}`, [fileRecord({ batch: `s${s}-${i}`, writer: `s${s}` })])),
        ),
      ),
    );
    expect(results.every((r) => r.committed)).toBe(true);
    expect(new Set(results.map((r) => r.version)).size).toBe(45);
    expect(await logVersions()).toEqual(Array.from({ length: 46 }, (_, i) => i + 1));
    const fresh = await EmbeddedCatalog.open({ storage });
    expect(liveFiles(await fresh.snapshot(), 'points')).toHaveLength(45);
    for (const session of sessions)
      expect(plain(await session.snapshot())).toEqual(plain(await fresh.snapshot()));
  });
});

describe('checkpoints and damage', () => {
  async function seventyCommits(): Promise<CatalogSnapshot> {
    const catalog = await EmbeddedCatalog.open({ storage });
    for (let i = 1; i <= 70; i++) {
      const actions: CommitRequest['actions'] =
        i % 10 === 0
          ? [{ op: 'remove', key: fileRecord({ batch: `b${i - 1}` }).key, table: 'points' }]
          : [
              { op: 'create_table', config: tableConfig() },
              { op: 'add', file: fileRecord({ batch: `b${i}` }) },
            ];
      await catalog.commit({
        operation: i % 10 === 0 ? 'compact' : 'ingest',
        writer: 'w',
        batches: i % 10 === 0 ? [] : [`b${i}`],
        actions,
      });
    }
    return catalog.snapshot();
  }

  it('writes a checkpoint every 32 versions, and readers start from the newest one', async () => {
    const state = await seventyCommits();
    expect(state.version).toBe(70);
    expect(liveFiles(state, 'points')).toHaveLength(70 - 7 - 7);
    expect((await storage.list('_octa/checkpoints/')).map((e) => e.key)).toEqual([
      checkpointKey(32),
      checkpointKey(64),
    ]);
    const full = await replayAll();
    expect(plain(state)).toEqual(plain(full));
    const at64 = decodeCheckpoint(await storage.read(checkpointKey(64)), checkpointKey(64));
    expect(plain(at64)).toEqual(plain(await replayPrefix(64)));

    const reader = counting(storage);
    expect(plain(await (await EmbeddedCatalog.open({ storage: reader })).snapshot())).toEqual(plain(full));
    const logReads = reader.reads
      .filter((k) => k.startsWith(LOG_PREFIX))
      .map((k) => keyToVersion(k, LOG_PREFIX)!);
    expect(Math.min(...logReads)).toBe(65);
    expect(reader.reads).toContain(checkpointKey(64));
  });

  it('ignores a damaged, missing or too-new checkpoint', async () => {
    const full = plain(await seventyCommits());
    const openAndRead = async () => {
      const reader = counting(storage);
      const state = plain(await (await EmbeddedCatalog.open({ storage: reader })).snapshot());
      const logReads = reader.reads
        .filter((k) => k.startsWith(LOG_PREFIX))
        .map((k) => keyToVersion(k, LOG_PREFIX)!);
      return { state, from: Math.min(...logReads) };
    };
    const good64 = await storage.read(checkpointKey(64));

    await storage.write(checkpointKey(64), new TextEncoder().encode('{"format": not json'));
    expect(await openAndRead()).toEqual({ state: full, from: 33 });

    // Valid JSON, one digit changed in the body: only the checksum can tell.
    const text = new TextDecoder().decode(good64);
    const newline = text.indexOf('\n');
    const flipped = text.slice(0, newline) + text.slice(newline).replace('"rows":10', '"rows":11');
    expect(flipped).not.toBe(text);
    await storage.write(checkpointKey(64), new TextEncoder().encode(flipped));
    expect(await openAndRead()).toEqual({ state: full, from: 33 });

    // A checkpoint ahead of the log (say, the log was restored from an older backup) is not used.
    const ahead = decodeCheckpoint(good64, checkpointKey(64));
    await storage.write(checkpointKey(96), encodeCheckpoint({ ...ahead, version: 96 }));
    await storage.delete(checkpointKey(64));
    expect(await openAndRead()).toEqual({ state: full, from: 33 });

    await storage.delete(checkpointKey(32));
    expect(await openAndRead()).toEqual({ state: full, from: 1 });
  });

  it('reports a damaged log entry as CORRUPT naming its key', async () => {
    const catalog = await EmbeddedCatalog.open({ storage });
    for (let i = 1; i <= 6; i++) await catalog.commit(ingest(`b${i}`, [fileRecord({ batch: `b${i}` })]));
    const key = logKey(5);
    const good = await storage.read(key);
    const damaged = [
      good.subarray(0, good.length - 7),
      new TextEncoder().encode('not json at all'),
      new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]),
      new TextEncoder().encode(new TextDecoder().decode(good).replace('"version":5', '"version":6')),
      new TextEncoder().encode(new TextDecoder().decode(good).replace('"op":"add"', '"op":"append"')),
      new TextEncoder().encode(
        new TextDecoder().decode(good).replace('"formatVersion":1', '"formatVersion":2'),
      ),
      encodeEntry({ ...decodeEntry(good, key), actions: [{ op: 'add', file: fileRecord({ batch: 'b1' }) }] }),
    ];
    for (const bytes of damaged) {
      await storage.write(key, bytes);
      const error = await errorOf(EmbeddedCatalog.open({ storage }));
      expect(error.code).toBe('CORRUPT');
      expect(error.value).toBe(key);
      expect(error.message).toContain(key);
    }
    // A session that already read past it is unaffected; one that had not fails on snapshot().
    expect((await catalog.snapshot()).version).toBe(6);
    await storage.write(key, good);
    const behind = await EmbeddedCatalog.open({ storage });
    await catalog.commit(ingest('b7', [fileRecord({ batch: 'b7' })]));
    await storage.write(logKey(7), new TextEncoder().encode('{}'));
    expect((await errorOf(behind.snapshot())).value).toBe(logKey(7));
  });

  it('refuses a log whose first entry is missing', async () => {
    const catalog = await EmbeddedCatalog.open({ storage });
    await catalog.commit(ingest('b1'));
    await catalog.commit(ingest('b2', [fileRecord({ batch: 'b2' })]));
    await storage.delete(logKey(1));
    const error = await errorOf(EmbeddedCatalog.open({ storage }));
    expect(error.code).toBe('CORRUPT');
    expect(error.message).toContain(logKey(1));
  });
});

describe('commits from concurrent processes', () => {
  const built = (path: string) => fileURLToPath(new URL(`../../dist/src/lake/${path}`, import.meta.url));
  const CATALOG_JS = built('catalog/catalog.js');
  const STORAGE_JS = built('storage/local-storage.js');

  function requireBuild(): void {
    for (const name of [
      'catalog/catalog',
      'catalog/catalog-log',
      'catalog/catalog-state',
      'catalog/records',
      'storage/local-storage',
      'storage/storage',
    ]) {
      const js = built(`${name}.js`);
      if (!existsSync(js))
        throw new Error(`${js} is missing: run npm run build first (npm test does, in pretest)`);
      const ts = fileURLToPath(new URL(`../../src/lake/${name}.ts`, import.meta.url));
      if (statSync(ts).mtimeMs > statSync(js).mtimeMs)
        throw new Error(`${js} is older than ${ts}: run npm run build`);
    }
  }

  /** A node process that opens the catalog, waits for "go" on stdin, commits, prints the results. */
  function commitInChild(requests: CommitRequest[]) {
    const script = `
      import { createInterface } from 'node:readline';
      import { EmbeddedCatalog } from ${JSON.stringify(pathToFileURL(CATALOG_JS).href)};
      import { LocalStorage } from ${JSON.stringify(pathToFileURL(STORAGE_JS).href)};
      const storage = await LocalStorage.create({ root: ${JSON.stringify(dir)} });
      const catalog = await EmbeddedCatalog.open({ storage });
      process.stdout.write('ready\\n');
      await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
      const results = [];
      for (const request of ${JSON.stringify(requests)}) results.push(await catalog.commit(request));
      process.stdout.write(JSON.stringify(results) + '\\n');
    `;
    const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (stdout.startsWith('ready\n')) markReady();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('close', (status) => {
        markReady();
        resolve({ status, stdout, stderr });
      }),
    );
    return { child, ready, done };
  }

  async function runChildren(requestLists: CommitRequest[][]) {
    requireBuild();
    const children = requestLists.map(commitInChild);
    try {
      await Promise.all(children.map((c) => c.ready));
      for (const c of children) c.child.stdin!.end('go\n');
      const outcomes = await Promise.all(children.map((c) => c.done));
      return outcomes.map(({ status, stdout, stderr }) => {
        expect(status, stderr).toBe(0);
        const last = stdout.trim().split('\n').at(-1)!;
        return JSON.parse(last) as { version: number; skippedBatches: string[]; committed: boolean }[];
      });
    } finally {
      for (const c of children) if (c.child.exitCode === null) c.child.kill();
    }
  }

  it('loses no commit when 4 processes make 25 commits each at once', async () => {
    const catalog = await EmbeddedCatalog.open({ storage });
    await catalog.commit({
      operation: 'ingest',
      writer: 'setup',
      actions: [{ op: 'create_table', config: tableConfig() }],
    });
    const writers = ['p0', 'p1', 'p2', 'p3'];
    const files = writers.map((w) =>
      Array.from({ length: 25 }, (_, i) => fileRecord({ batch: `${w}-${i}`, writer: w })),
    );
    const results = await runChildren(files.map((list) => list.map((file) => ingest(file.batch, [file]))));

    const all = results.flat();
    expect(all).toHaveLength(100);
    expect(all.every((r) => r.committed && r.skippedBatches.length === 0)).toBe(true);
    expect(new Set(all.map((r) => r.version))).toEqual(new Set(Array.from({ length: 100 }, (_, i) => i + 2)));
    expect(await logVersions()).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));

    const state = await (await EmbeddedCatalog.open({ storage })).snapshot();
    expect(state.version).toBe(101);
    const table = state.tables.get('points')!;
    expect(liveFiles(state, 'points').map((f) => f.key)).toEqual(
      files
        .flat()
        .map((f) => f.key)
        .sort(),
    );
    expect(table.batches.size).toBe(100);
    expect(plain(state)).toEqual(plain(await replayAll()));
    // The checkpoints the children wrote agree with the log.
    for (const version of [32, 64, 96]) {
      const checkpoint = decodeCheckpoint(await storage.read(checkpointKey(version)), checkpointKey(version));
      expect(plain(checkpoint)).toEqual(plain(await replayPrefix(version)));
    }
  });

  it('commits each batch exactly once when 2 processes ingest the same batches at once', async () => {
    const catalog = await EmbeddedCatalog.open({ storage });
    await catalog.commit({
      operation: 'ingest',
      writer: 'setup',
      actions: [{ op: 'create_table', config: tableConfig() }],
    });
    const batches = Array.from({ length: 20 }, (_, i) => `same-${i}`);
    const results = await runChildren(
      ['q0', 'q1'].map((w) => batches.map((batch) => ingest(batch, [fileRecord({ batch, writer: w })]))),
    );

    const all = results.flat();
    expect(all.filter((r) => r.committed)).toHaveLength(20);
    expect(all.flatMap((r) => r.skippedBatches).sort()).toEqual([...batches].sort());
    expect(all.every((r) => r.committed === (r.skippedBatches.length === 0))).toBe(true);
    expect(await logVersions()).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    const state = await (await EmbeddedCatalog.open({ storage })).snapshot();
    const live = liveFiles(state, 'points');
    expect(live.map((f) => f.batch).sort()).toEqual([...batches].sort());
    expect([...state.tables.get('points')!.batches].sort()).toEqual([...batches].sort());
  });
});
