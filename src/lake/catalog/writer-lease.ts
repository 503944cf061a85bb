/**
 * Writer leases (issue 13 item 5): a writer that stores data files before committing them (ingest,
 * compact, rebalance) holds a lease at `_octa/leases/<writer>.json` from before its first file
 * until after its commit, renewed while it runs. Its files are named `part-<writer>-…`, and vacuum
 * keeps every file of a live lease whatever its grace, so a write longer than the grace is never
 * cut from under its commit. A lease is live while it was renewed within {@link LEASE_TTL_MS};
 * one written on this host by a process that is gone is dead at once (a crashed or killed writer:
 * its files are ordinary orphans again, and vacuum deletes the lease).
 *
 * A lease is a promise vacuum keeps, not a proof: a writer stalled past the TTL, or a file deleted
 * by hand, still loses files. So before committing, a writer also checks that every file it is
 * about to commit is on storage with the size it wrote ({@link checkWrittenFiles}); a commit whose
 * files vanished commits nothing and fails with NOT_FOUND naming the first missing file.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { OctaError } from '../../lattice/errors.js';
import type { Storage, StorageEntry } from '../storage/storage.js';
import type { FileRecord } from './catalog-state.js';

/** Where leases live, under the catalog's prefix. */
export const LEASE_PREFIX = '_octa/leases/';
/** A lease not renewed for this long is dead (10 minutes); writers renew it every quarter of that. */
export const LEASE_TTL_MS = 600_000;
const LEASE_FORMAT = 'octa-writer-lease';

/** The key of a writer's lease. */
export const leaseKey = (writer: string): string => `${LEASE_PREFIX}${writer}.json`;

/** What a lease object holds. */
interface LeaseBody {
  format: string;
  writer: string;
  operation: string;
  host: string;
  pid: number;
  startedAt: string;
  nonce: string;
}

const utf8 = new TextEncoder();

/** A lease held by this process; release it in a finally. */
export class WriterLease {
  readonly storage: Storage;
  readonly writer: string;
  readonly #timer: NodeJS.Timeout;
  #renewing: Promise<void> = Promise.resolve();

  private constructor(storage: Storage, writer: string, bytes: Uint8Array) {
    this.storage = storage;
    this.writer = writer;
    // Renewal rewrites the object (a new modification time); a failed renewal is left to the
    // existence check before the commit.
    this.#timer = setInterval(() => {
      this.#renewing = this.#renewing.then(() => storage.write(leaseKey(writer), bytes)).catch(() => {});
    }, LEASE_TTL_MS / 4);
    this.#timer.unref();
  }

  /**
   * Takes the lease of a writer id, before the writer stores its first file.
   * @param storage - the lake
   * @param writer - the writer id that names its files (`part-<writer>-…`)
   * @param operation - what the writer does (ingest, compact, rebalance), for people reading it
   * @throws {OctaError} CONFLICT when another process holds a lease of that writer id
   */
  static async acquire(storage: Storage, writer: string, operation: string): Promise<WriterLease> {
    const body: LeaseBody = {
      format: LEASE_FORMAT,
      writer,
      operation,
      host: hostname(),
      pid: process.pid,
      startedAt: new Date().toISOString(),
      nonce: randomBytes(8).toString('hex'),
    };
    const bytes = utf8.encode(JSON.stringify(body));
    const key = leaseKey(writer);
    if (!(await storage.writeIfAbsent(key, bytes))) {
      // A retried create whose first answer was lost finds its own bytes.
      const stored = await storage.read(key).catch(() => null);
      if (stored === null || Buffer.compare(stored, bytes) !== 0) {
        throw new OctaError('CONFLICT', 'another process holds a lease of this writer id; retry', key);
      }
    }
    return new WriterLease(storage, writer, bytes);
  }

  /** Stops renewing and deletes the lease (best effort: vacuum deletes a dead one). */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    await this.#renewing;
    await this.storage.delete(leaseKey(this.writer)).catch(() => {});
  }
}

/** Whether a process of this host is running (a process of another user counts as running). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The leases of a lake, live and dead. */
export interface Leases {
  /** Writer ids whose files vacuum keeps. */
  live: Set<string>;
  /** Lease objects of writers that are gone (expired, or their process on this host ended). */
  dead: StorageEntry[];
}

/**
 * Reads the lake's leases. An unreadable lease counts as live until it expires.
 * @param storage - the lake
 * @param now - the current time in ms since the epoch
 */
export async function readLeases(storage: Storage, now: number): Promise<Leases> {
  const out: Leases = { live: new Set(), dead: [] };
  const here = hostname();
  for (const entry of await storage.list(LEASE_PREFIX)) {
    const name = entry.key.slice(LEASE_PREFIX.length);
    if (!name.endsWith('.json') || name.includes('/')) continue;
    const writer = name.slice(0, -'.json'.length);
    let body: Partial<LeaseBody> | null = null;
    try {
      body = JSON.parse(new TextDecoder().decode(await storage.read(entry.key))) as Partial<LeaseBody>;
    } catch (error) {
      if (error instanceof OctaError && error.code === 'NOT_FOUND') continue;
      if (error instanceof OctaError && error.code === 'IO_ERROR') throw error;
    }
    const expired = now - entry.mtimeMs >= LEASE_TTL_MS;
    const ended = body?.host === here && Number.isSafeInteger(body.pid) && !isRunning(body.pid!);
    if (expired || ended) out.dead.push(entry);
    else out.live.add(writer);
  }
  return out;
}

/**
 * Whether a data file was written by one of these writers (its name is `part-<writer>-<id>.parquet`).
 * @param key - a data file key
 * @param writers - writer ids
 */
export function isLeased(key: string, writers: ReadonlySet<string>): boolean {
  if (writers.size === 0) return false;
  const name = key.slice(key.lastIndexOf('/') + 1);
  for (const writer of writers) if (name.startsWith(`part-${writer}-`)) return true;
  return false;
}

/**
 * Checks, just before a commit, that every file about to be committed is on storage with the
 * size that was written.
 * @param storage - the lake
 * @param files - the records about to be committed
 * @throws {OctaError} NOT_FOUND naming the first file that is missing or changed
 */
export async function checkWrittenFiles(storage: Storage, files: readonly FileRecord[]): Promise<void> {
  let next = 0;
  let missing: { key: string; why: string } | null = null;
  const work = async () => {
    while (next < files.length && missing === null) {
      const file = files[next++]!;
      const entry = await storage.stat(file.key);
      if (entry === null) missing = { key: file.key, why: 'is gone' };
      else if (entry.size !== file.bytes)
        missing = { key: file.key, why: `holds ${entry.size} bytes, not the ${file.bytes} written` };
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, files.length) }, work));
  if (missing !== null) {
    const { key, why } = missing as { key: string; why: string };
    throw new OctaError(
      'NOT_FOUND',
      `a file this run wrote ${why} before its commit (deleted by a vacuum or by hand while the run was stalled): nothing was committed; run it again`,
      key,
    );
  }
}
