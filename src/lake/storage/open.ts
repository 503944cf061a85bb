/**
 * Opening a lake's storage from what a user types: a directory path, a `file://` URL, or
 * `s3://bucket/prefix`.
 */
import { OctaError } from '../../lattice/errors.js';
import { LocalStorage } from './local-storage.js';
import { isS3Lake, resolveLake } from './location.js';
import type { Storage } from './storage.js';

export { isS3Lake, LAKE_LOCATIONS, resolveLake } from './location.js';

/** Options of {@link openStorage}. */
export interface OpenStorageOptions {
  /** For `s3://` lakes: an S3-compatible endpoint, e.g. `http://127.0.0.1:9000` (ignored for local lakes). */
  s3Endpoint?: string;
  /**
   * For `s3://` lakes: ms of silence after which a request fails and is retried (default
   * `$OCTA_S3_IDLE_TIMEOUT_MS`, else 60,000).
   */
  s3IdleTimeoutMs?: number;
}

/**
 * The storage behind a lake location.
 * @param lake - a directory path, a `file://` URL, or `s3://bucket/prefix`
 * @param options.s3Endpoint - the endpoint of an S3-compatible service, for `s3://` lakes
 * @param options.s3IdleTimeoutMs - the S3 requests' idle timeout
 * @throws {OctaError} INVALID_ARGUMENT for a location {@link resolveLake} refuses, a bad bucket name,
 *   prefix, endpoint or timeout, or an S3 lake with no region configured; IO_ERROR for a local
 *   directory that cannot be created
 */
export async function openStorage(
  lake: string,
  { s3Endpoint, s3IdleTimeoutMs = envIdleTimeout() }: OpenStorageOptions = {},
): Promise<Storage> {
  const location = resolveLake(lake);
  if (isS3Lake(location)) {
    const endpoint = s3Endpoint === undefined || s3Endpoint === '' ? {} : { endpoint: s3Endpoint };
    // Loaded on demand: the AWS SDK adds ~0.15 s to every process that imports it.
    const { S3Storage, s3UrlToLocation } = await import('./s3-storage.js');
    const timeout = s3IdleTimeoutMs === undefined ? {} : { idleTimeoutMs: s3IdleTimeoutMs };
    return S3Storage.create({ ...s3UrlToLocation(location), ...endpoint, ...timeout });
  }
  return LocalStorage.create({ root: location });
}

/** `$OCTA_S3_IDLE_TIMEOUT_MS` as a number, or undefined when unset (S3Storage checks its range). */
function envIdleTimeout(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env.OCTA_S3_IDLE_TIMEOUT_MS;
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text.trim())) {
    throw new OctaError('INVALID_ARGUMENT', 'OCTA_S3_IDLE_TIMEOUT_MS must be a whole number of ms', text);
  }
  return Number(text);
}
