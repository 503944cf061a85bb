/**
 * Setting up DuckDB's httpfs extension for an `s3://` lake: loading it (never installing it: this
 * DuckDB build installs no extension from the network) and creating the lake's S3 secret.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { isS3Lake } from '../lake/storage/open.js';
import { s3UrlToLocation } from '../lake/storage/s3-location.js';
import type { Storage } from '../lake/storage/storage.js';
import { OctaError } from '../lattice/errors.js';
import { resolveS3Access, type S3Access, s3SecretSql } from './s3-access.js';

/** The first line of an error's message (DuckDB's errors go on with context lines). */
export const errorLine = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

/**
 * Tries to load DuckDB's httpfs extension on a connection (never installing it).
 * @param connection - the connection
 * @returns null when it loaded, else DuckDB's reason
 */
export async function loadHttpfs(connection: DuckDBConnection): Promise<string | null> {
  try {
    await connection.run('LOAD httpfs');
    return null;
  } catch (error) {
    return errorLine(error);
  }
}

/**
 * The bucket and the key prefix (ending in '/', or '' at the bucket root) of a storage's `s3://`
 * url, or null for another scheme. The url is read by `s3UrlToLocation`, the one S3 URL parser, so
 * a lake's keys are the same here as in its storage.
 */
export function s3KeyPrefix(url: string): { bucket: string; prefix: string } | null {
  if (!isS3Lake(url)) return null;
  const { bucket, prefix } = s3UrlToLocation(url);
  return { bucket, prefix: prefix === '' ? '' : `${prefix}/` };
}

/**
 * Loads httpfs on a connection and creates the lake's S3 secret.
 * @returns null, or why httpfs cannot be used for this lake
 * @throws {OctaError} INVALID_ARGUMENT for an S3 endpoint that is not an http(s) URL
 */
export async function setUpHttpfs(
  storage: Storage,
  connection: DuckDBConnection,
  given: S3Access | undefined,
): Promise<string | null> {
  const location = s3KeyPrefix(storage.url);
  if (location === null) return `httpfs reads s3:// lakes, not ${storage.url}`;
  const loadProblem = await loadHttpfs(connection);
  if (loadProblem !== null) return loadProblem;
  try {
    await connection.run(s3SecretSql(location.bucket, await resolveS3Access(storage, given)));
    return null;
  } catch (error) {
    if (error instanceof OctaError) throw error;
    return `creating the S3 secret failed: ${errorLine(error)}`;
  }
}
