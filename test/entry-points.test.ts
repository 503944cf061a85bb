/**
 * The package's entry points (issue 15, item 3), as a user's fresh process meets them through
 * package.json "exports" (the built dist/, which `npm test` builds first): the root entry loads no
 * AWS SDK and no DuckDB until a lake is opened, and every entry exports what the README's import
 * lines name, the cloud parts only from their subpaths.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRIES = ['octa-lake', 'octa-lake/lattice', 'octa-lake/s3', 'octa-lake/glue'] as const;

// A resolve hook that reports every module URL the process resolves (ESM imports, and the first
// hop into a CommonJS package), plus require.cache for what CommonJS packages load among themselves.
// Node ≥ 22.15 has synchronous in-thread hooks (module.registerHooks) and deprecates
// module.register (DEP0205, a warning on stderr from Node 26); Node 20 has only module.register.
const PROBE = `
import * as mod from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const resolved = [];
if (typeof mod.registerHooks === 'function') {
  mod.registerHooks({ resolve(s, c, next) { const r = next(s, c); resolved.push(r.url); return r; } });
} else {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (url) => resolved.push(url));
  port1.unref();
  const hook = 'let port; export function initialize(d) { port = d.port; }' +
    'export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }';
  mod.register('data:text/javascript,' + encodeURIComponent(hook), { data: { port: port2 }, transferList: [port2] });
}
const createRequire = mod.createRequire;
const loaded = () => [...resolved, ...Object.keys(createRequire(import.meta.url).cache)];
await import('octa-lake');
await new Promise((r) => setTimeout(r, 100));
const root = loaded();
const exported = {};
for (const entry of ${JSON.stringify(ENTRIES)}) exported[entry] = Object.keys(await import(entry)).sort();
console.log(JSON.stringify({ root, exported }));
`;

interface Probe {
  root: string[];
  exported: Record<(typeof ENTRIES)[number], string[]>;
}

let probe: Probe;

beforeAll(() => {
  // --input-type=module evaluates in the repository, so 'octa-lake' is the package's self-reference.
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], {
    cwd: REPO,
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  probe = JSON.parse(run.stdout) as Probe;
});

/** The names each entry's `import { … } from '<entry>'` lines in the README's TypeScript blocks name. */
function readmeImports(): Map<string, string[]> {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const out = new Map<string, string[]>();
  for (const m of readme.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(octa-lake[^']*)'/g)) {
    const names = m[1]!
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '' && !n.startsWith('type '));
    out.set(m[2]!, [...(out.get(m[2]!) ?? []), ...names]);
  }
  return out;
}

describe('the root entry', () => {
  it('loads no AWS SDK (@aws-sdk/client-s3, @aws-sdk/client-glue)', () => {
    expect(probe.root.length).toBeGreaterThan(10);
    // The probe sees packages: Apache Arrow, which the root entry does load, is among them.
    expect(probe.root.some((url) => url.includes('/node_modules/apache-arrow/'))).toBe(true);
    expect(probe.root.filter((url) => url.includes('/node_modules/@aws-sdk/'))).toEqual([]);
  });

  it('loads no DuckDB until a lake is opened', () => {
    expect(probe.root.filter((url) => url.includes('/node_modules/@duckdb/'))).toEqual([]);
  });

  it('loads no Parquet writer or reader until one is used (only the footer parser)', () => {
    const parquet = probe.root.filter((url) =>
      /\/node_modules\/(parquet-wasm|hyparquet-compressors|hyparquet\/src\/(read|node|index)\.js)/.test(url),
    );
    expect(parquet).toEqual([]);
  });

  it('exports no cloud part: S3 and Glue are the subpaths', () => {
    for (const name of ['S3Storage', 's3UrlToLocation', 'syncGlue', 'GLUE_CREATE_BATCH']) {
      expect(probe.exported['octa-lake']).not.toContain(name);
    }
  });
});

describe('the entry points', () => {
  it('export every name the README imports from them', () => {
    const documented = readmeImports();
    expect([...documented.keys()].sort()).toEqual([...ENTRIES].sort());
    for (const [entry, names] of documented) {
      const exported = probe.exported[entry as (typeof ENTRIES)[number]];
      expect(
        names.filter((n) => !exported.includes(n)),
        entry,
      ).toEqual([]);
    }
  });

  it('give the cloud parts exactly', () => {
    expect(probe.exported['octa-lake/s3']).toEqual([
      'S3Storage',
      'resolveS3Access',
      's3SecretSql',
      's3UrlToLocation',
    ]);
    expect(probe.exported['octa-lake/glue']).toEqual([
      'GLUE_CREATE_BATCH',
      'GLUE_DELETE_BATCH',
      'GLUE_UPDATE_BATCH',
      'syncGlue',
    ]);
  });

  it('re-export the whole lattice entry from the root', () => {
    const root = probe.exported['octa-lake'];
    expect(probe.exported['octa-lake/lattice'].filter((n) => !root.includes(n))).toEqual([]);
  });
});

/**
 * What a fresh process loads importing `entry` alone (the resolve hook above), the names it exports,
 * and those of them the root entry lacks.
 */
function importAlone(entry: string): { loaded: string[]; names: string[]; missing: string[] } {
  const script = PROBE.replace(/await import\('octa-lake'\);[\s\S]*$/, '').concat(`
const names = Object.keys(await import(${JSON.stringify(entry)})).sort();
await new Promise((r) => setTimeout(r, 100));
const loadedAlone = loaded();
const root = Object.keys(await import('octa-lake'));
console.log(JSON.stringify({ loaded: loadedAlone, names, missing: names.filter((n) => !root.includes(n)) }));
`);
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: REPO,
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout);
}

describe('the light entries', () => {
  it('octa-lake/options loads no package and exports only names the root entry has', () => {
    const { loaded, names, missing } = importAlone('octa-lake/options');
    expect(loaded).toContain(`file://${REPO}/dist/src/options.js`);
    expect(loaded.filter((url) => url.includes('/node_modules/'))).toEqual([]);
    expect(names).toEqual([
      'DDL_ENGINES',
      'FORMAT_DDL_ENGINES',
      'GLUE_FORMATS',
      'LAKE_LOCATIONS',
      'OctaError',
      'SCENE_LIMITS',
      'TABLE_FORMATS',
      'checkOutputFile',
      'isS3Lake',
      'resolveLake',
    ]);
    expect(missing).toEqual([]);
  });

  it('octa-lake/sql loads no Arrow, Parquet, AWS SDK or DuckDB until a lake is opened', () => {
    const { loaded, names, missing } = importAlone('octa-lake/sql');
    expect(loaded).toContain(`file://${REPO}/dist/src/sql.js`);
    expect(loaded.filter((url) => url.includes('/node_modules/'))).toEqual([]);
    expect(names).toEqual([
      'BCC_FUNCTIONS',
      'BCC_MACROS',
      'CATALOG_VIEW',
      'emitMacros',
      'openLake',
      'planQuery',
      'quoteIdent',
      'quoteLiteral',
      'registerBccFunctions',
      'runQuery',
    ]);
    expect(missing).toEqual([]);
  });
});
