/**
 * The S3 settings DuckDB's httpfs gets for a lake (explicit ones, else what the storage's client
 * says, else the AWS_* environment) and the `CREATE SECRET` statement that carries them.
 */
import type { Storage } from '../lake/storage/storage.js';
import { OctaError } from '../lattice/errors.js';
import { quoteLiteral } from './quote.js';

/**
 * How DuckDB's httpfs reaches an S3 lake. Whatever is left out comes from the storage (its
 * `endpoint` and `region` fields, or an `S3Client` at `storage.client`), else from the AWS_*
 * environment variables. `openLake` also opens an `s3://` lake at `endpoint`.
 */
export interface S3Access {
  /** A custom endpoint, e.g. `http://127.0.0.1:4568` (path-style URLs; TLS from the scheme). */
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

type ClientConfig = {
  region?: () => Promise<string>;
  credentials?: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>;
  endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path: string }>;
};

/** What the storage says of its S3 service: `endpoint` / `region` fields, or its `client`'s config. */
async function clientAccess(storage: Storage): Promise<S3Access> {
  const fields = storage as { endpoint?: unknown; region?: unknown; client?: { config?: ClientConfig } };
  const out: S3Access = {};
  if (typeof fields.endpoint === 'string') out.endpoint = fields.endpoint;
  if (typeof fields.region === 'string') out.region = fields.region;
  const config = fields.client?.config;
  if (config === undefined) return out;
  try {
    if (typeof config.region === 'function') out.region ??= await config.region();
    if (typeof config.credentials === 'function') {
      const c = await config.credentials();
      out.accessKeyId = c.accessKeyId;
      out.secretAccessKey = c.secretAccessKey;
      if (c.sessionToken !== undefined) out.sessionToken = c.sessionToken;
    }
    if (typeof config.endpoint === 'function' && out.endpoint === undefined) {
      const e = await config.endpoint();
      out.endpoint = `${e.protocol.replace(/:?$/, ':')}//${e.hostname}${e.port === undefined ? '' : `:${e.port}`}${e.path}`;
    }
  } catch {
    // A client that cannot say: the options and the environment decide.
  }
  return out;
}

/**
 * The S3 settings httpfs gets: `given`, else the storage's client, else the environment.
 * @param storage - the lake's storage
 * @param given - explicit settings
 * @param env - the environment (default `process.env`)
 */
export async function resolveS3Access(
  storage: Storage,
  given: S3Access = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<S3Access> {
  const client = await clientAccess(storage);
  const fromEnv: S3Access = {
    endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION,
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    sessionToken: env.AWS_SESSION_TOKEN,
  };
  const out: S3Access = {};
  for (const name of ['endpoint', 'region', 'accessKeyId', 'secretAccessKey', 'sessionToken'] as const) {
    const value = given[name] ?? client[name] ?? fromEnv[name];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

/**
 * The `CREATE SECRET` that lets httpfs read a bucket: a custom endpoint gets path-style URLs and
 * TLS only for `https:`.
 * @param bucket - the lake's bucket (the secret's scope)
 * @param access - endpoint, region, credentials
 * @returns one SQL statement
 * @throws {OctaError} INVALID_ARGUMENT for an endpoint that is not an http(s) URL
 */
export function s3SecretSql(bucket: string, access: S3Access): string {
  const parts = ['TYPE s3', `SCOPE ${quoteLiteral(`s3://${bucket}`)}`];
  if (access.accessKeyId !== undefined) parts.push(`KEY_ID ${quoteLiteral(access.accessKeyId)}`);
  if (access.secretAccessKey !== undefined) parts.push(`SECRET ${quoteLiteral(access.secretAccessKey)}`);
  if (access.sessionToken !== undefined) parts.push(`SESSION_TOKEN ${quoteLiteral(access.sessionToken)}`);
  if (access.region !== undefined) parts.push(`REGION ${quoteLiteral(access.region)}`);
  if (access.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(access.endpoint);
    } catch {
      url = new URL('invalid:');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new OctaError(
        'INVALID_ARGUMENT',
        'the S3 endpoint must be an http:// or https:// URL',
        access.endpoint,
      );
    }
    const path = url.pathname.replace(/\/+$/, '');
    parts.push(
      `ENDPOINT ${quoteLiteral(`${url.host}${path}`)}`,
      "URL_STYLE 'path'",
      `USE_SSL ${url.protocol === 'https:'}`,
    );
  }
  return `CREATE OR REPLACE SECRET octa_lake (${parts.join(', ')})`;
}
