/**
 * The HTTP side of `octa serve` (cli/commands/serve.ts starts it): the routes, the JSON errors, and
 * the lake the server reads, whose one DuckDB session is replaced when the catalog moves to a new
 * version. Queries go through the planner's `runQuery`, so a response holds exactly its rows.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CatalogSnapshot, EmbeddedCatalog, Storage } from '../src/index.js';
import { OctaError } from '../src/options.js';
import type { LakeSession } from '../src/sql.js';
import { csvField } from './commands/sql.js';
import { toJson, USAGE_CODES } from './output.js';

/** The largest request body the server reads. */
const MAX_BODY = 1024 * 1024;
const FORMATS = ['json', 'ndjson', 'csv'] as const;
const QUERY_KEYS = new Set(['table', 'box', 'sphere', 'from', 'to', 'columns', 'limit']);
/** The columns every table has besides its payload (the view's order). */
const POINT_COLUMNS = [
  { name: 'cell', type: 'int64' },
  { name: 'x', type: 'float64' },
  { name: 'y', type: 'float64' },
  { name: 'z', type: 'float64' },
  { name: 'time', type: 'timestamp_us' },
];
const PARTITION_COLUMNS = [
  { name: 'lod', type: 'int32' },
  { name: 't', type: 'utf8' },
  { name: 'r', type: 'utf8' },
];

/** An answer the server gives as JSON `{code, message}` with an HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new HttpError(400, 'INVALID_ARGUMENT', message);

/** A session and the requests using it; a replaced session closes when its last request ends. */
interface Held {
  session: LakeSession;
  users: number;
  retired: boolean;
}

/** The lake the server reads: its catalog (polled per request) and the current DuckDB session. */
export class LakeState {
  #held: Held;
  #opening: Promise<Held> | undefined;
  // One query at a time on the session's one connection.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly storage: Storage,
    readonly catalog: EmbeddedCatalog,
    session: LakeSession,
    readonly open: () => Promise<LakeSession>,
  ) {
    this.#held = { session, users: 0, retired: false };
  }

  /** The latest catalog state (reads only the log entries committed since the last call). */
  snapshot(): Promise<CatalogSnapshot> {
    return this.catalog.snapshot();
  }

  /** Runs `task` on a session at the catalog's latest version, opening a new one when it moved. */
  async withSession<T>(task: (s: LakeSession) => Promise<T>): Promise<T> {
    const latest = await this.snapshot();
    if (latest.version > this.#held.session.snapshot.version) {
      this.#opening ??= this.open().then(
        (session) => {
          const old = this.#held;
          this.#held = { session, users: 0, retired: false };
          old.retired = true;
          if (old.users === 0) old.session.close();
          this.#opening = undefined;
          return this.#held;
        },
        (err: unknown) => {
          this.#opening = undefined;
          throw err;
        },
      );
      await this.#opening;
    }
    const held = this.#held;
    held.users++;
    try {
      const run = this.#queue.then(() => task(held.session));
      this.#queue = run.catch(() => undefined);
      return await run;
    } finally {
      held.users--;
      if (held.retired && held.users === 0) held.session.close();
    }
  }

  /** Closes the session (after the queries queued on it) and the storage. */
  async close(): Promise<void> {
    await this.#opening?.catch(() => undefined);
    await this.#queue;
    this.#held.session.close();
    this.storage.close();
  }
}

/** Sends a JSON body. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = `${toJson(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** A body over this many bytes is not even read to its end: the connection is cut. */
const MAX_DRAIN = 16 * 1024 * 1024;

/**
 * Reads a request body of at most {@link MAX_BODY} bytes. A larger one is read on and dropped (up
 * to {@link MAX_DRAIN} bytes) so that the client, still sending, can read the 413 answer.
 */
async function readBody(req: IncomingMessage): Promise<string> {
  const tooLarge = () =>
    new HttpError(413, 'INVALID_ARGUMENT', `the request body is over ${MAX_BODY} bytes (1 MiB)`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_DRAIN) throw tooLarge();
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_DRAIN) break;
    if (size <= MAX_BODY) parts.push(chunk as Buffer);
  }
  if (size > MAX_BODY) throw tooLarge();
  return Buffer.concat(parts).toString('utf8');
}

/** The runQuery options of a `POST /v1/query` body, checked (the planner checks the region and times). */
function queryArgs(body: unknown, snapshot: CatalogSnapshot) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('the body must be a JSON object {"table", "box" | "sphere", ...}');
  }
  const q = body as Record<string, unknown>;
  const unknown = Object.keys(q).filter((k) => !QUERY_KEYS.has(k));
  if (unknown.length > 0)
    throw badRequest(`unknown field(s) ${unknown.join(', ')}: allowed are ${[...QUERY_KEYS].join(', ')}`);
  if (typeof q.table !== 'string' || q.table === '') throw badRequest('table must be a table name');
  const state = snapshot.tables.get(q.table);
  if (state === undefined) throw new HttpError(404, 'NOT_FOUND', `no such table: ${JSON.stringify(q.table)}`);
  const numbers = (name: string, v: unknown) => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((n) => typeof n === 'number')) {
      throw badRequest(`${name} must be an array of numbers`);
    }
    return v as number[];
  };
  const box = numbers('box', q.box);
  const sphere = numbers('sphere', q.sphere);
  for (const name of ['from', 'to'] as const) {
    if (q[name] !== undefined && typeof q[name] !== 'string')
      throw badRequest(`${name} must be an ISO 8601 string`);
  }
  let select = ['*'];
  if (q.columns !== undefined) {
    if (
      !Array.isArray(q.columns) ||
      q.columns.length === 0 ||
      !q.columns.every((c) => typeof c === 'string')
    ) {
      throw badRequest('columns must be a non-empty array of column names');
    }
    const known = new Set(
      [...POINT_COLUMNS, ...state.config.payload, ...PARTITION_COLUMNS].map((c) => c.name),
    );
    const missing = (q.columns as string[]).filter((c) => !known.has(c));
    if (missing.length > 0) throw badRequest(`no such column(s) in ${q.table}: ${missing.join(', ')}`);
    select = q.columns as string[];
  }
  const limit = q.limit;
  if (limit !== undefined && !(typeof limit === 'number' && Number.isInteger(limit) && limit >= 0)) {
    throw badRequest('limit must be an integer >= 0');
  }
  return {
    table: q.table,
    ...(box === undefined ? {} : { box }),
    ...(sphere === undefined ? {} : { sphere }),
    ...(q.from === undefined ? {} : { from: q.from as string }),
    ...(q.to === undefined ? {} : { to: q.to as string }),
    select,
    limit: limit as number | undefined,
  };
}

/** Rows as the body of a format: a JSON array, NDJSON lines or CSV with a header. */
function formatRows(rows: readonly Record<string, unknown>[], format: (typeof FORMATS)[number]) {
  if (format === 'json') {
    return { type: 'application/json; charset=utf-8', text: `[${rows.map((r) => toJson(r)).join(',')}]\n` };
  }
  if (format === 'ndjson') {
    return { type: 'application/x-ndjson; charset=utf-8', text: rows.map((r) => `${toJson(r)}\n`).join('') };
  }
  const names = rows.length === 0 ? [] : Object.keys(rows[0]!);
  const lines = [
    names.map(csvField).join(','),
    ...rows.map((r) => names.map((n) => csvField(r[n])).join(',')),
  ];
  return { type: 'text/csv; charset=utf-8', text: `${lines.join('\n')}\n` };
}

/** A table's description: schema, frame, LOD, id kind, version and partitions. */
function describeTable(
  snapshot: CatalogSnapshot,
  name: string,
  files: { t: string; r: string; rows: number }[],
) {
  const { config } = snapshot.tables.get(name)!;
  return {
    name,
    version: snapshot.version,
    frame: config.frame,
    lod: config.lod,
    idKind: config.idKind,
    timeBucket: config.timeBucket,
    schema: [
      ...POINT_COLUMNS,
      ...config.payload.map((c) => ({ name: c.name, type: c.type })),
      ...PARTITION_COLUMNS,
    ],
    partitions: new Set(files.map((f) => `${f.t}/${f.r}`)).size,
    files: files.length,
    rows: files.reduce((n, f) => n + f.rows, 0),
  };
}

/** The error body and status of what a handler threw; never a stack trace. */
export function errorOf(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof OctaError) {
    const status = USAGE_CODES.has(err.code) ? 400 : err.code === 'NOT_FOUND' ? 404 : 500;
    return new HttpError(status, err.code, err.message.split('\n')[0]!);
  }
  process.stderr.write(`octa serve: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
  return new HttpError(500, 'IO_ERROR', 'the server failed to answer (its log says why)');
}

/** Answers one request. */
export async function handle(state: LakeState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const allow = (methods: string) => {
    if (!methods.split(', ').includes(method)) {
      throw new HttpError(405, 'INVALID_ARGUMENT', `${method} is not allowed on ${path}: use ${methods}`);
    }
  };
  if (path === '/health') {
    allow('GET');
    sendJson(res, 200, { status: 'ok' });
  } else if (path === '/ready') {
    allow('GET');
    try {
      const snapshot = await state.snapshot();
      sendJson(res, 200, { status: 'ready', version: snapshot.version });
    } catch (err) {
      const e = errorOf(err);
      sendJson(res, 503, { code: e.code, message: `catalog not readable: ${e.message}` });
    }
  } else if (path === '/v1/tables') {
    allow('GET');
    const snapshot = await state.snapshot();
    sendJson(res, 200, { version: snapshot.version, tables: [...snapshot.tables.keys()].sort() });
  } else if (path.startsWith('/v1/tables/') && !path.slice('/v1/tables/'.length).includes('/')) {
    allow('GET');
    let name: string;
    try {
      name = decodeURIComponent(path.slice('/v1/tables/'.length));
    } catch {
      throw badRequest('the table name is not valid percent-encoded UTF-8');
    }
    const snapshot = await state.snapshot();
    if (!snapshot.tables.has(name))
      throw new HttpError(404, 'NOT_FOUND', `no such table: ${JSON.stringify(name)}`);
    const { liveFiles } = await import('../src/index.js');
    sendJson(res, 200, describeTable(snapshot, name, liveFiles(snapshot, name)));
  } else if (path === '/v1/query') {
    allow('POST');
    const format = FORMATS.find((f) => f === (url.searchParams.get('format') ?? 'json'));
    if (format === undefined) throw badRequest(`format must be one of ${FORMATS.join(', ')}`);
    const text = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw badRequest('the body is not valid JSON');
    }
    const { runQuery } = await import('../src/sql.js');
    const { rows, version } = await state.withSession(async (session) => {
      const { limit, ...query } = queryArgs(body, session.snapshot);
      const result = await runQuery({ session, ...query, values: 'json' });
      return {
        rows: limit === undefined ? result.rows : result.rows.slice(0, limit),
        version: session.snapshot.version,
      };
    });
    const out = formatRows(rows, format);
    res.writeHead(200, {
      'content-type': out.type,
      'content-length': Buffer.byteLength(out.text),
      'octa-catalog-version': String(version),
    });
    res.end(out.text);
  } else {
    throw new HttpError(404, 'NOT_FOUND', `no route ${path}`);
  }
}
