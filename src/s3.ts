/**
 * The S3 entry (`octa-lake/s3`): lake storage on S3 or an S3-compatible service, and the helpers
 * that let DuckDB read such a lake. Importing it loads `@aws-sdk/client-s3`; the root entry does
 * not (its `openStorage` loads this backend when it opens an `s3://` lake).
 */

export type { S3Location, S3StorageOptions } from './lake/storage/s3-storage.js';
export { S3Storage, s3UrlToLocation } from './lake/storage/s3-storage.js';
export type { S3Access } from './sql/s3-access.js';
export { resolveS3Access, s3SecretSql } from './sql/s3-access.js';
