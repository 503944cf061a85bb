/**
 * Glue's batch partition calls report failures per entry in the response (`Errors`) instead of
 * failing the call. {@link sendInBatches} sends entries in batches of Glue's size limit and sends the
 * failed entries again, with backoff, a bounded number of times.
 */
import { OctaError } from '../../../lattice/errors.js';

/** One entry a batch response reported as failed. */
export interface EntryFailure {
  values: string[];
  detail: { ErrorCode?: string; ErrorMessage?: string } | undefined;
}

/** Options of {@link sendInBatches}. */
export interface SendInBatchesOptions<T> {
  entries: readonly T[];
  /** Entries per call (Glue's limit for the operation). */
  size: number;
  /** What the calls do, for the error message: `create`, `update`, `delete`. */
  verb: string;
  /** The error code that means the entry's work is already done (e.g. AlreadyExistsException). */
  doneCode?: string;
  /** `<database>.<table>`, for the error message. */
  table: string;
  /** Attempts per entry before giving up. */
  maxAttempts: number;
  /** First backoff before a retry, ms; doubles per attempt, jittered. */
  backoffMs: number;
  /** Sends one batch; returns the entries the response reported as failed. */
  send: (batch: T[]) => Promise<EntryFailure[]>;
  /** The partition values of an entry, to match it with its failure. */
  valuesOf: (entry: T) => readonly string[];
}

/** Errors of one batch entry that retrying will not cure. */
const PERMANENT_CODES = new Set([
  'InvalidInputException',
  'ValidationException',
  'AccessDeniedException',
  'GlueEncryptionException',
  'ResourceNumberLimitExceededException',
  'EntityNotFoundException',
]);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The key of a partition by its values. */
export const valuesKey = (values: readonly string[]): string => JSON.stringify(values);

/**
 * Sends entries in batches of `size`. Entries a response reports as failed are sent again, on their
 * own, after a jittered backoff, up to `maxAttempts` times. An entry failing with `doneCode` counts
 * as done by someone else (it is not in `done`); an entry with a permanent error, or out of
 * attempts, fails the whole call, but only after every batch has been tried, so one bad partition
 * does not hold the others back.
 * @param options - see {@link SendInBatchesOptions}
 * @returns entries this call completed, and how many entry sends were retries
 * @throws {OctaError} IO_ERROR naming the first failed entry's values, its code and message
 */
export async function sendInBatches<T>({
  entries,
  size,
  verb,
  doneCode,
  table,
  maxAttempts,
  backoffMs,
  send,
  valuesOf,
}: SendInBatchesOptions<T>): Promise<{ done: number; retried: number }> {
  let done = 0;
  let retried = 0;
  const failed: EntryFailure[] = [];
  for (let start = 0; start < entries.length; start += size) {
    let pending = entries.slice(start, start + size);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const failures = new Map((await send(pending)).map((f) => [valuesKey(f.values), f]));
      const again: T[] = [];
      for (const entry of pending) {
        const failure = failures.get(valuesKey(valuesOf(entry)));
        const code = failure?.detail?.ErrorCode ?? '';
        if (failure === undefined) done += 1;
        else if (code === doneCode) continue;
        else if (PERMANENT_CODES.has(code) || attempt >= maxAttempts) failed.push(failure);
        else again.push(entry);
      }
      if (again.length > 0) {
        retried += again.length;
        await sleep(Math.random() * backoffMs * 2 ** (attempt - 1));
      }
      pending = again;
    }
  }
  if (failed.length > 0) {
    const first = failed[0]!;
    throw new OctaError(
      'IO_ERROR',
      `Glue could not ${verb} ${failed.length} partition(s) of ${table} (${done} done); first: ${first.detail?.ErrorCode ?? 'error'}: ${first.detail?.ErrorMessage ?? 'no message'}. Sync again to retry`,
      first.values,
    );
  }
  return { done, retried };
}
