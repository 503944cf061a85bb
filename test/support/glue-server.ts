/**
 * A test double of the AWS Glue service (not of the SDK): an HTTP server on 127.0.0.1 speaking Glue's
 * JSON protocol (awsJson1_1: `POST /`, `X-Amz-Target: AWSGlue.<Operation>`, JSON bodies, errors as
 * `{"__type": "...", "Message": "..."}` with status 400), so tests drive it with the real
 * `@aws-sdk/client-glue` client. It keeps databases, tables and partitions in memory, records every
 * request, enforces Glue's batch limits (100 partitions per create or update, 25 per delete), pages
 * GetPartitions with NextToken, and can fail chosen partition entries a chosen number of times.
 * UpdateTable enforces `VersionId` as Glue's optimistic concurrency does: a request naming a version
 * other than the table's current one fails with ConcurrentModificationException; every update
 * increments the version. {@link GlueServer.before} runs a test's change (another writer's) just
 * before chosen requests.
 *
 * Operations: GetDatabase, CreateDatabase, GetTable, CreateTable, UpdateTable, GetPartitions,
 * BatchCreatePartition, BatchUpdatePartition, BatchDeletePartition. Names are folded to lower case,
 * as Glue does. Close it in a finally / afterAll.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GlueClient } from '@aws-sdk/client-glue';

// biome-ignore lint/suspicious/noExplicitAny: request and stored bodies are free-form JSON, as on the wire.
type Json = any;

/** One request as the server received it. */
export interface GlueRequest {
  operation: string;
  body: Json;
}

/** A failure to report for one partition entry of a batch operation. */
export interface InjectedFailure {
  operation: 'BatchCreatePartition' | 'BatchUpdatePartition' | 'BatchDeletePartition';
  values: string[];
  /** Glue error code, e.g. `InternalServiceException`. */
  code: string;
  /** How many requests containing the entry fail (default 1); the next one succeeds. */
  times?: number;
}

class GlueError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** AWS settings for a CLI run against the server: test credentials, a region, no instance metadata. */
export const TEST_AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};

const ACCOUNT = '123456789012';
const LIMITS: Record<string, number> = {
  BatchCreatePartition: 100,
  BatchUpdatePartition: 100,
  BatchDeletePartition: 25,
};
const seconds = () => Date.now() / 1000;
const key = (values: readonly string[]) => JSON.stringify(values);
const copy = <T>(value: T): T => structuredClone(value);

/** An in-memory Glue endpoint. */
export class GlueServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Every request, in arrival order. */
  readonly requests: GlueRequest[] = [];
  readonly databases = new Map<string, Json>();
  /** By `<db>.<table>`. */
  readonly tables = new Map<string, Json>();
  /** By `<db>.<table>`, then by the JSON of the values. */
  readonly partitions = new Map<string, Map<string, Json>>();
  readonly #server: Server;
  readonly #pageSize: number;
  #failures: (InjectedFailure & { left: number })[] = [];
  #before: { operation: string; action: (body: Json) => void; left: number }[] = [];

  private constructor(server: Server, pageSize: number) {
    this.#server = server;
    this.#pageSize = pageSize;
    this.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /**
   * Starts a server on a random port.
   * @param options.pageSize - most partitions one GetPartitions page returns (default 1000, Glue's cap)
   */
  static async start({ pageSize = 1000 }: { pageSize?: number } = {}): Promise<GlueServer> {
    let glue: GlueServer | undefined;
    const server = createServer((req, res) => {
      void glue!.#handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    glue = new GlueServer(server, pageSize);
    return glue;
  }

  /** A real Glue client of this server, without the SDK's own retries; destroy it when done. */
  client(): GlueClient {
    return new GlueClient({
      endpoint: this.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  }

  /** Makes the next `times` requests of `operation` that contain the entry report it as failed. */
  fail(failure: InjectedFailure): void {
    this.#failures.push({ ...failure, left: failure.times ?? 1 });
  }

  /**
   * Runs `action` just before the next `times` requests of `operation` are handled (after they are
   * recorded), e.g. to change a table as a concurrent writer would.
   */
  before(operation: string, action: (body: Json) => void, times = 1): void {
    this.#before.push({ operation, action, left: times });
  }

  /** Changes a stored table as another writer's UpdateTable would: its fields, and a new VersionId. */
  bumpTable(database: string, name: string, change: (table: Json) => void = () => {}): void {
    const table = this.#table(database, name);
    change(table);
    table.VersionId = String(Number(table.VersionId) + 1);
  }

  /** The bodies of the recorded requests of one operation. */
  bodies(operation: string): Json[] {
    return this.requests.filter((r) => r.operation === operation).map((r) => r.body);
  }

  /** Stops the server. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.close((error) => (error ? reject(error) : resolve()));
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AWSGlue.') ? target.slice('AWSGlue.'.length) : '';
    let status = 200;
    let out: Json;
    try {
      if (req.method !== 'POST' || req.url !== '/')
        throw new GlueError('UnknownOperationException', 'POST / only');
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text === '' ? {} : JSON.parse(text);
      this.requests.push({ operation, body: copy(body) });
      const hook = this.#before.find((b) => b.operation === operation && b.left > 0);
      if (hook !== undefined) {
        hook.left -= 1;
        hook.action(body);
      }
      out = this.#dispatch(operation, body);
    } catch (error) {
      status = 400;
      const code = error instanceof GlueError ? error.code : 'InternalServiceException';
      out = { __type: code, Message: (error as Error).message };
      res.setHeader('x-amzn-ErrorType', code);
    }
    const payload = JSON.stringify(out);
    res.writeHead(status, {
      'Content-Type': 'application/x-amz-json-1.1',
      'Content-Length': Buffer.byteLength(payload),
      'x-amzn-RequestId': `req-${this.requests.length}`,
    });
    res.end(payload);
  }

  #dispatch(operation: string, body: Json): Json {
    switch (operation) {
      case 'GetDatabase':
        return { Database: copy(this.#database(body.Name)) };
      case 'CreateDatabase': {
        const name = String(body.DatabaseInput?.Name ?? '').toLowerCase();
        if (name === '') throw new GlueError('InvalidInputException', 'DatabaseInput.Name is required');
        if (this.databases.has(name))
          throw new GlueError('AlreadyExistsException', `Database ${name} already exists.`);
        this.databases.set(name, {
          ...copy(body.DatabaseInput),
          Name: name,
          CreateTime: seconds(),
          CatalogId: ACCOUNT,
        });
        return {};
      }
      case 'GetTable':
        return { Table: copy(this.#table(body.DatabaseName, body.Name)) };
      case 'CreateTable': {
        const db = this.#database(body.DatabaseName).Name;
        const name = String(body.TableInput?.Name ?? '').toLowerCase();
        if (name === '') throw new GlueError('InvalidInputException', 'TableInput.Name is required');
        if (this.tables.has(`${db}.${name}`))
          throw new GlueError('AlreadyExistsException', `Table ${name} already exists.`);
        const now = seconds();
        this.tables.set(`${db}.${name}`, {
          ...copy(body.TableInput),
          Name: name,
          DatabaseName: db,
          CreateTime: now,
          UpdateTime: now,
          CatalogId: ACCOUNT,
          VersionId: '1',
          IsRegisteredWithLakeFormation: false,
        });
        this.partitions.set(`${db}.${name}`, new Map());
        return {};
      }
      case 'UpdateTable': {
        const table = this.#table(body.DatabaseName, body.TableInput?.Name);
        if (body.VersionId !== undefined && body.VersionId !== table.VersionId) {
          throw new GlueError(
            'ConcurrentModificationException',
            `Update table failed due to concurrent modifications (version ${body.VersionId}, current ${table.VersionId}).`,
          );
        }
        const updated = {
          ...table,
          ...copy(body.TableInput),
          Name: table.Name,
          UpdateTime: seconds(),
          VersionId: String(Number(table.VersionId) + 1),
        };
        this.tables.set(`${table.DatabaseName}.${table.Name}`, updated);
        return {};
      }
      case 'GetPartitions':
        return this.#getPartitions(body);
      case 'BatchCreatePartition':
        return this.#batch(
          operation,
          body,
          body.PartitionInputList,
          (p: Json) => p.Values,
          (parts, p) => {
            const values = p.Values ?? [];
            if (values.length !== this.#table(body.DatabaseName, body.TableName).PartitionKeys.length) {
              return [
                'InvalidInputException',
                'The number of partition keys do not match the number of partition values',
              ];
            }
            if (parts.has(key(values))) return ['AlreadyExistsException', 'Partition already exists.'];
            parts.set(key(values), {
              ...copy(p),
              DatabaseName: body.DatabaseName.toLowerCase(),
              TableName: body.TableName.toLowerCase(),
              CreationTime: seconds(),
              CatalogId: ACCOUNT,
            });
            return null;
          },
        );
      case 'BatchUpdatePartition':
        return this.#batch(
          operation,
          body,
          body.Entries,
          (e: Json) => e.PartitionValueList,
          (parts, e) => {
            const current = parts.get(key(e.PartitionValueList ?? []));
            if (current === undefined) return ['EntityNotFoundException', 'Partition not found.'];
            parts.set(key(e.PartitionValueList), {
              ...current,
              ...copy(e.PartitionInput),
              Values: current.Values,
            });
            return null;
          },
        );
      case 'BatchDeletePartition':
        return this.#batch(
          operation,
          body,
          body.PartitionsToDelete,
          (p: Json) => p.Values,
          (parts, p) => {
            if (!parts.delete(key(p.Values ?? [])))
              return ['EntityNotFoundException', 'Partition not found.'];
            return null;
          },
        );
      default:
        throw new GlueError(
          'UnknownOperationException',
          `operation ${JSON.stringify(operation)} is not supported here`,
        );
    }
  }

  #database(name: unknown): Json {
    const db = this.databases.get(String(name ?? '').toLowerCase());
    if (db === undefined)
      throw new GlueError('EntityNotFoundException', `Database ${String(name)} not found.`);
    return db;
  }

  #table(database: unknown, name: unknown): Json {
    const db = this.#database(database).Name;
    const table = this.tables.get(`${db}.${String(name ?? '').toLowerCase()}`);
    if (table === undefined)
      throw new GlueError('EntityNotFoundException', `Table ${String(name)} not found.`);
    return table;
  }

  #getPartitions(body: Json): Json {
    const table = this.#table(body.DatabaseName, body.TableName);
    const max = body.MaxResults ?? 1000;
    if (!Number.isInteger(max) || max < 1 || max > 1000) {
      throw new GlueError('InvalidInputException', 'MaxResults must be 1..1000');
    }
    const all = [...this.partitions.get(`${table.DatabaseName}.${table.Name}`)!.values()];
    const start =
      body.NextToken === undefined ? 0 : Number(Buffer.from(body.NextToken, 'base64url').toString());
    if (!Number.isInteger(start) || start < 0) throw new GlueError('InvalidInputException', 'bad NextToken');
    const end = Math.min(all.length, start + Math.min(max, this.#pageSize));
    return {
      Partitions: copy(all.slice(start, end)),
      ...(end < all.length ? { NextToken: Buffer.from(String(end)).toString('base64url') } : {}),
    };
  }

  /** A batch call: the limit, then each entry (or its injected failure) reported in `Errors`. */
  #batch(
    operation: string,
    body: Json,
    entries: Json[] | undefined,
    valuesOf: (entry: Json) => string[] | undefined,
    apply: (parts: Map<string, Json>, entry: Json) => [string, string] | null,
  ): Json {
    const table = this.#table(body.DatabaseName, body.TableName);
    const list = entries ?? [];
    if (list.length > LIMITS[operation]!) {
      throw new GlueError(
        'InvalidInputException',
        `1 validation error detected: member must have length less than or equal to ${LIMITS[operation]}`,
      );
    }
    const parts = this.partitions.get(`${table.DatabaseName}.${table.Name}`)!;
    const errors: Json[] = [];
    for (const entry of list) {
      const values = valuesOf(entry) ?? [];
      const failure = this.#failures.find(
        (f) => f.operation === operation && f.left > 0 && key(f.values) === key(values),
      );
      let error: [string, string] | null;
      if (failure !== undefined) {
        failure.left -= 1;
        error = [failure.code, 'injected failure'];
      } else {
        error = apply(parts, entry);
      }
      if (error === null) continue;
      const detail = { ErrorCode: error[0], ErrorMessage: error[1] };
      errors.push(
        operation === 'BatchUpdatePartition'
          ? { PartitionValueList: values, ErrorDetail: detail }
          : { PartitionValues: values, ErrorDetail: detail },
      );
    }
    return errors.length > 0 ? { Errors: errors } : {};
  }
}
