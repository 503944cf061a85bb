/**
 * Where an S3 lake lives: `s3://bucket/prefix` split and checked against S3's naming rules.
 */
import { OctaError } from '../../lattice/errors.js';
import { checkKey } from './storage.js';

/** Where a lake lives on S3. */
export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing '/', or '' for the bucket root. */
  prefix: string;
}

/**
 * Checks a bucket name against S3's rules for new buckets.
 * @throws {OctaError} INVALID_ARGUMENT naming the bucket
 */
function checkBucket(bucket: string): string {
  const ok =
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) &&
    !/\.\.|\.-|-\./.test(bucket) &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(bucket) &&
    !/^(xn--|sthree-)|(-s3alias|--ol-s3)$/.test(bucket);
  if (!ok) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'invalid S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit',
      bucket,
    );
  }
  return bucket;
}

/**
 * Splits an `s3://bucket/prefix` URL. The prefix is taken literally (no percent-decoding), as the
 * AWS CLI does; one trailing '/' is dropped.
 * @param url - e.g. `s3://my-bucket/lakes/survey`
 * @returns the bucket and the prefix (`lakes/survey`)
 * @throws {OctaError} INVALID_ARGUMENT for a malformed URL, bucket name or prefix
 */
export function s3UrlToLocation(url: string): S3Location {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/s.exec(url);
  if (match === null) {
    throw new OctaError('INVALID_ARGUMENT', 'an S3 lake is written s3://bucket/prefix', url);
  }
  const bucket = checkBucket(match[1]!);
  const prefix = (match[2] ?? '').replace(/\/$/, '');
  if (prefix !== '') {
    try {
      checkKey(prefix);
    } catch (error) {
      const why = error instanceof OctaError ? error.message : String(error);
      throw new OctaError('INVALID_ARGUMENT', `invalid prefix in S3 lake URL: ${why}`, url);
    }
  }
  return { bucket, prefix };
}
