/**
 * Requests to S3 below the Storage mapping: what an SDK error says (and the IO_ERROR made of it),
 * reading a response body, and multipart uploads.
 */
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { OctaError } from '../../lattice/errors.js';

/** S3's limit on the parts of one upload. */
const MAX_PARTS = 10_000;

/** What an SDK error carries, as far as messages need it. */
export interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

export const statusOf = (error: unknown) => (error as SdkError | null)?.$metadata?.httpStatusCode;
export const attemptsOf = (error: unknown) => (error as SdkError | null)?.$metadata?.attempts ?? 1;
export const isAbsent = (error: unknown) =>
  statusOf(error) === 404 && ['NoSuchKey', 'NotFound'].includes((error as SdkError).name ?? '');
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The one hint of {@link hintFor} that names a parameter. */
const ENDPOINT_HINT = '; check the endpoint (`s3Endpoint`) and the network';

function hintFor(code: string, status: number | undefined): string {
  if (code === 'NoSuchBucket') return '; check the bucket in the lake URL';
  if (/AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken|Credentials|Forbidden/.test(code)) {
    return '; check the AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and their permissions';
  }
  if (/^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/.test(code)) {
    return ENDPOINT_HINT;
  }
  if (code === 'SlowDown' || (status !== undefined && status >= 500))
    return '; S3 is busy or failing: retry later';
  if (code === 'TimeoutError' || code === 'ETIMEDOUT') {
    return '; S3 or the network stalled: retry later, or allow more with OCTA_S3_IDLE_TIMEOUT_MS (ms)';
  }
  return '';
}

/**
 * Reads a response body whole, into one buffer.
 * @param body - the SDK's response body (a Node stream)
 * @param length - the Content-Length, when the response had one
 * @throws an ECONNRESET-coded error when the body ends short (a broken connection)
 */
export async function bodyBytes(body: unknown, length: number | undefined): Promise<Uint8Array> {
  const chunks = body as AsyncIterable<Uint8Array> | undefined;
  if (chunks === undefined) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    parts.push(chunk);
    size += chunk.length;
  }
  if (length !== undefined && size !== length) {
    throw Object.assign(new Error(`body ended after ${size} of ${length} bytes`), { code: 'ECONNRESET' });
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The IO_ERROR for a failed request: the object, the S3 error code and HTTP status, the attempts,
 * S3's one-line message and a hint; never credentials (S3 messages carry none).
 * @param action - what failed, e.g. `write`
 * @param where - the object's URL, e.g. `s3://bucket/lake/key`
 * @param key - the lake key (the error's value)
 * @param error - what the SDK threw
 */
export function s3ErrorToOcta(action: string, where: string, key: string, error: unknown): OctaError {
  if (error instanceof OctaError) return error;
  const e = (error ?? {}) as SdkError;
  const status = statusOf(error);
  const code = (status === undefined ? e.code : undefined) ?? e.name ?? 'Error';
  const attempts = attemptsOf(error);
  const detail = [
    status === undefined ? '' : `HTTP ${status}`,
    attempts > 1 ? `after ${attempts} attempts` : '',
  ]
    .filter((s) => s !== '')
    .join(', ');
  const text = (e.message ?? '').split('\n')[0]!.slice(0, 200);
  const what = `S3 error ${code}${detail === '' ? '' : ` (${detail})`}${text === '' || text === code ? '' : `: ${text}`}`;
  const hint = hintFor(code, status);
  return new OctaError('IO_ERROR', `cannot ${action} ${where}: ${what}${hint}`, key, {
    params: hint === ENDPOINT_HINT ? ['s3Endpoint'] : [],
  });
}

/** What {@link uploadInParts} needs. */
export interface PartUpload {
  client: S3Client;
  bucket: string;
  /** The object key (prefix included). */
  key: string;
  data: Uint8Array;
  /** Bytes per part (grown to stay within S3's 10,000 parts). */
  partSize: number;
  /** Parts uploaded at once. */
  concurrency: number;
}

/**
 * Uploads an object as a multipart upload, a few parts at a time, with CRC32 checksums; aborts
 * the upload on failure so that nothing is left (the object is invisible until it completes).
 * @throws what the SDK threw for the first failed request
 */
export async function uploadInParts({
  client,
  bucket,
  key,
  data,
  partSize,
  concurrency,
}: PartUpload): Promise<void> {
  const size = Math.max(partSize, Math.ceil(data.length / MAX_PARTS));
  const count = Math.ceil(data.length / size);
  let uploadId: string | undefined;
  try {
    const created = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'CRC32' }),
    );
    uploadId = created.UploadId;
    if (uploadId === undefined) throw new Error('no upload id in the answer to CreateMultipartUpload');
    const UploadId = uploadId;
    const parts: CompletedPart[] = [];
    let next = 0;
    let failed = false;
    const upload = async () => {
      // A failed part stops the others from starting new ones; the upload is then aborted.
      while (!failed && next < count) {
        const index = next++;
        const body = data.subarray(index * size, Math.min(data.length, (index + 1) * size));
        try {
          const out = await client.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: key,
              UploadId,
              PartNumber: index + 1,
              Body: body,
              ContentLength: body.length,
              ChecksumAlgorithm: 'CRC32',
            }),
          );
          parts[index] = {
            PartNumber: index + 1,
            ETag: out.ETag,
            ...(out.ChecksumCRC32 === undefined ? {} : { ChecksumCRC32: out.ChecksumCRC32 }),
          };
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    const results = await Promise.allSettled(Array.from({ length: Math.min(concurrency, count) }, upload));
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected !== undefined) throw rejected.reason;
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (error) {
    if (uploadId !== undefined) {
      // Best effort: an upload left behind is invisible, and a bucket lifecycle rule can expire it.
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(() => undefined);
    }
    throw error;
  }
}
