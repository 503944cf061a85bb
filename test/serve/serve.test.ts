/**
 * `octa serve` as a real process on 127.0.0.1 (the built CLI, --port 0) over a small demo lake,
 * with a real `fetch` client: each endpoint, /v1/query against `runQuery` on the same lake version
 * (boxes, a sphere with a time window, empty results, every format), a commit made while the server
 * runs, each error status and code, and SIGTERM finishing a request in flight and exiting 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, get, request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';
import { EmbeddedCatalog } from '../../src/lake/catalog/catalog.js';
import { liveFiles } from '../../src/lake/catalog/catalog-state.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { runQuery } from '../../src/sql/planner.js';
import { OCTA } from '../cli/run.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';

let dir: string | undefined;
let lake = '';
let server: ChildProcess | undefined;
let url = '';
let stderr = '';

/** Starts `octa serve` on a free port; resolves with its URL from the first stdout line. */
async function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [OCTA, 'serve', '--lake', lake, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`octa serve exited with ${code} before listening: ${stderr}`);
    }),
  ])) as [string];
  lines.close();
  return { child, url: (JSON.parse(line) as { url: string }).url };
}

beforeAll(async () => {
  dir = tempDir('serve');
  lake = join(dir, 'lake');
  await runDemo({ storage: await LocalStorage.create({ root: lake }), scene: { points: 3000, days: 3 } });
  ({ child: server, url } = await startServer());
});

afterAll(async () => {
  if (server !== undefined && server.exitCode === null) {
    server.kill('SIGKILL');
    await once(server, 'exit');
  }
  removeDir(dir);
});

const post = (body: unknown, format = 'json') =>
  fetch(`${url}/v1/query?format=${format}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** Rows as sorted JSON texts: the plan's SQL has no ORDER BY, so rows compare as a multiset. */
const sorted = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).sort();

/** What `runQuery` returns on the lake as it is now, in the server's JSON values. */
async function expected(q: {
  table: string;
  box?: number[];
  sphere?: number[];
  from?: string;
  to?: string;
  columns?: string[];
}) {
  const { columns, ...rest } = q;
  const r = await runQuery({ lake, ...rest, ...(columns ? { select: columns } : {}), values: 'json' });
  return r.rows;
}

const QUERIES = [
  { table: 'survey', box: [0, 0, -64, 1024, 1024, 960] },
  { table: 'survey', box: [100, 200, 0, 400, 500, 60] },
  { table: 'survey', sphere: [500, 500, 30, 120], from: '2025-06-03', to: '2025-06-04T12:00:00Z' },
  { table: 'survey', box: [5000, 5000, 5000, 6000, 6000, 6000] },
  { table: 'survey', box: [0, 0, -64, 1024, 1024, 960], from: '2025-06-04', to: '2025-06-04' },
];

describe('octa serve (a single server)', () => {
  it('answers /health, /ready, /v1/tables and /v1/tables/{table} from the catalog', async () => {
    const health = await fetch(`${url}/health`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await fetch(`${url}/ready`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready', version: 1 }]);
    const tables = await fetch(`${url}/v1/tables`);
    expect(await tables.json()).toEqual({ version: 1, tables: ['survey'] });
    const storage = await LocalStorage.create({ root: lake });
    const snapshot = await (await EmbeddedCatalog.open({ storage })).snapshot();
    const files = liveFiles(snapshot, 'survey');
    const table = (await (await fetch(`${url}/v1/tables/survey`)).json()) as Record<string, unknown>;
    expect(table).toMatchObject({
      name: 'survey',
      version: 1,
      lod: 12,
      idKind: snapshot.tables.get('survey')!.config.idKind,
      frame: { kind: 'cartesian', origin: [0, 0, -64], edge: 1024 },
      partitions: new Set(files.map((f) => `${f.t}/${f.r}`)).size,
      files: files.length,
      rows: 3000,
    });
    expect((table.schema as { name: string }[]).map((c) => c.name)).toEqual([
      'cell',
      'x',
      'y',
      'z',
      'time',
      'intensity',
      'classification',
      'return_number',
      'lod',
      't',
      'r',
    ]);
  });

  it('returns exactly the rows runQuery returns, in json, ndjson and csv, empty results included', async () => {
    let nonEmpty = 0;
    for (const q of QUERIES) {
      const want = await expected(q);
      if (want.length > 0) nonEmpty++;
      const res = await post(q);
      expect(res.status).toBe(200);
      expect(res.headers.get('octa-catalog-version')).toBe('1');
      expect(sorted((await res.json()) as unknown[])).toEqual(sorted(want));
    }
    expect(nonEmpty).toBeGreaterThanOrEqual(3);
    const q = { ...QUERIES[1]!, columns: ['cell', 'x', 'time'] };
    const want = await expected(q);
    expect(typeof want[0]!.cell).toBe('string'); // 64-bit integers as strings
    const nd = await (await post(q, 'ndjson')).text();
    expect(
      sorted(
        nd
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l)),
      ),
    ).toEqual(sorted(want));
    const csv = (await (await post(q, 'csv')).text()).trimEnd().split('\n');
    expect(csv[0]).toBe('cell,x,time');
    expect(csv.slice(1).sort()).toEqual(want.map((r) => `${r.cell},${r.x},${r.time}`).sort());
    const limited = (await (await post({ ...q, limit: 2 })).json()) as unknown[];
    expect(limited).toHaveLength(2);
    expect(sorted(want)).toEqual(expect.arrayContaining(sorted(limited)));
  });

  it('follows a commit made while it runs: the next query reads the new version', async () => {
    await runDemo({
      storage: await LocalStorage.create({ root: lake }),
      scene: { points: 500, days: 1, seed: 99 },
    });
    const q = QUERIES[0]!;
    const res = await post(q);
    expect(res.headers.get('octa-catalog-version')).toBe('2');
    const rows = (await res.json()) as unknown[];
    expect(rows).toHaveLength(3500);
    expect(sorted(rows)).toEqual(sorted(await expected(q)));
    expect(await (await fetch(`${url}/v1/tables/survey`)).json()).toMatchObject({ version: 2, rows: 3500 });
  });

  it('answers bad requests with 4xx and the error code, never a stack trace', async () => {
    const cases: [Promise<Response>, number, string][] = [
      [post('{"table": "survey", "box": [0,0,'), 400, 'INVALID_ARGUMENT'],
      [post([1, 2]), 400, 'INVALID_ARGUMENT'],
      [post({ table: 'survey', box: [10, 0, 0, 0, 10, 10] }), 400, 'INVALID_ARGUMENT'],
      [post({ table: 'survey', box: [0, 0, 0, 1, 1, 1], sphere: [0, 0, 0, 1] }), 400, 'INVALID_ARGUMENT'],
      [post({ table: 'survey', box: [0, 0, 0, 1, 1, '1'] }), 400, 'INVALID_ARGUMENT'],
      [post({ table: 'survey', box: [0, 0, 0, 1, 1, 1], from: 'yesterday' }), 400, 'INVALID_ARGUMENT'],
      [post({ table: 'survey', box: [0, 0, 0, 1, 1, 1], columns: ['x', 'nope'] }), 400, 'INVALID_ARGUMENT'],
      [post({ table: 'survey', box: [0, 0, 0, 1, 1, 1], limit: -1 }), 400, 'INVALID_ARGUMENT'],
      [post({ table: 'survey', box: [0, 0, 0, 1, 1, 1], extra: 1 }), 400, 'INVALID_ARGUMENT'],
      [post({ table: 'survey', box: [0, 0, 0, 1, 1, 1] }, 'xml'), 400, 'INVALID_ARGUMENT'],
      [post({ table: 'nope', box: [0, 0, 0, 1, 1, 1] }), 404, 'NOT_FOUND'],
      [fetch(`${url}/v1/tables/nope`), 404, 'NOT_FOUND'],
      [fetch(`${url}/v1/tables/%E0%A4%A`), 400, 'INVALID_ARGUMENT'],
      [fetch(`${url}/v2/anything`), 404, 'NOT_FOUND'],
      [fetch(`${url}/v1/query`), 405, 'INVALID_ARGUMENT'],
      [fetch(`${url}/v1/tables`, { method: 'DELETE' }), 405, 'INVALID_ARGUMENT'],
      [post(`{"table": "${'x'.repeat(1024 * 1024 + 1)}"}`), 413, 'INVALID_ARGUMENT'],
    ];
    for (const [response, status, code] of cases) {
      const res = await response;
      const body = (await res.json()) as { code: string; message: string };
      expect([res.status, body.code]).toEqual([status, code]);
      expect(body.message).not.toMatch(/\n\s+at /);
    }
    // Still serving after them.
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('on SIGTERM finishes the request in flight, then exits 0', async () => {
    const child = server!;
    const body = JSON.stringify(QUERIES[1]);
    const want = await expected(QUERIES[1]!);
    // One keep-alive connection, accepted by the server (a /health answered on it) before the POST.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await new Promise<void>((done, failed) => {
      get(`${url}/health`, { agent }, (res) => res.resume().on('end', done)).on('error', failed);
    });
    const answer = new Promise<{ status: number; text: string }>((done, failed) => {
      const req = request(
        `${url}/v1/query`,
        { method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d.toString();
          });
          res.on('end', () => done({ status: res.statusCode!, text }));
        },
      );
      req.on('error', failed);
      // Half the body now, the signal, then the rest: the request is in flight when SIGTERM comes.
      req.write(body.slice(0, 10));
      setTimeout(() => {
        child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(10)), 200);
      }, 300);
    });
    const exited = once(child, 'exit');
    const { status, text } = await answer;
    expect(status).toBe(200);
    expect(sorted(JSON.parse(text) as unknown[])).toEqual(sorted(want));
    const [code, signal] = await exited;
    expect([code, signal]).toEqual([0, null]);
    expect(stderr).toContain('SIGTERM');
    agent.destroy();
  });
});
