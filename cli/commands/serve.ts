/**
 * `octa serve`: the lake over HTTP as a single server (docs/SERVE.md), on Node's own `node:http`.
 * The routes live in cli/serve-http.ts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OctaError } from '../../src/options.js';
import { intOption, lakeOptions } from '../args.js';
import { commandParts } from '../command.js';
import { println, toJson, UsageError } from '../output.js';
import { errorOf, handle, LakeState, sendJson } from '../serve-http.js';
import { lakeDir, remoteReadArgs } from './sql.js';

/** The builder and handler of `octa serve` (cli/main.ts lists it). */
export const serveCommand = commandParts({
  builder: (c) =>
    lakeOptions(c, { describe: 'lake directory or s3://bucket/prefix (default ./octa-lake)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on' })
      .option(
        'port',
        intOption(
          'port',
          { min: 0, max: 65535 },
          { default: 8080, describe: 'port to listen on (0: a free one)' },
        ),
      )
      .example('$0 serve --lake ./octa-lake --port 8080', 'then: curl http://127.0.0.1:8080/v1/tables'),
  handler: async (a) => {
    const lake = lakeDir(a.lake);
    if (lake === undefined) throw new UsageError('no lake at ./octa-lake: give --lake DIR');
    const { EmbeddedCatalog, openStorage } = await import('../../src/index.js');
    const { openLake } = await import('../../src/sql.js');
    const storage = await openStorage(lake, a.s3Endpoint ? { s3Endpoint: a.s3Endpoint } : {});
    let state: LakeState;
    try {
      const catalog = await EmbeddedCatalog.open({ storage });
      const open = () =>
        openLake({
          storage,
          views: 'none',
          functions: false,
          ...remoteReadArgs({}),
          ...(a.s3Endpoint ? { s3: { endpoint: a.s3Endpoint } } : {}),
        });
      state = new LakeState(storage, catalog, await open(), open);
    } catch (err) {
      storage.close();
      throw err;
    }
    const server = createServer((req, res) => {
      handle(state, req, res).catch((err: unknown) => {
        const e = errorOf(err);
        if (res.headersSent) res.destroy();
        // Node drops an unread body; after a body too large, the connection closes instead.
        else
          sendJson(
            res,
            e.status,
            { code: e.code, message: e.message },
            e.status === 413 ? { connection: 'close' } : {},
          );
      });
    });
    try {
      await new Promise<void>((done, failed) => {
        server.once('error', failed);
        server.listen(a.port, a.host, () => done());
      });
    } catch (err) {
      await state.close();
      const message = err instanceof Error ? err.message : String(err);
      throw new OctaError('IO_ERROR', `cannot listen on ${a.host}:${a.port}: ${message}`, a.port);
    }
    const { address, port, family } = server.address() as AddressInfo;
    println(toJson({ url: `http://${family === 'IPv6' ? `[${address}]` : address}:${port}` }));
    // Until SIGTERM or SIGINT: stop accepting, finish the requests in flight, close DuckDB and storage.
    const signal = await new Promise<NodeJS.Signals>((done) => {
      process.once('SIGTERM', done);
      process.once('SIGINT', done);
    });
    process.stderr.write(`octa serve: ${signal}: finishing requests in flight\n`);
    // A keep-alive connection is closed as soon as its request in flight is answered.
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    await new Promise<void>((done) => {
      server.close(() => done());
      server.closeIdleConnections();
    });
    clearInterval(idle);
    await state.close();
  },
});
