/**
 * What `octa` loads to start (issue 16): help, the version and argument errors load yargs and the
 * light entries only, never the library's root entry nor DuckDB, Arrow, parquet-wasm or the AWS SDK;
 * `--version` loads not even yargs; the lattice commands load the lattice and nothing of the lake.
 * Each case is a fresh process of the built CLI whose every resolved module is recorded: an
 * assertion of what is loaded, not of how long it takes (bench/startup measures that).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OCTA, octaInProcess } from './run.js';

// Preloaded into the process: a resolve hook (in the loader thread) appends every module URL it
// resolves to $OCTA_PROBE_OUT before the import goes on, and at exit the process adds what
// CommonJS packages required among themselves (require.cache).
const HOOK = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  const how = (context.conditions ?? []).includes('require') ? 'require' : 'import';
  appendFileSync(process.env.OCTA_PROBE_OUT, how + ' ' + r.url + '\\n');
  return r;
}`;
// Node ≥ 22.15 records in-thread through module.registerHooks (module.register is deprecated and
// warns from Node 26) with a load hook: there a resolve hook would also see require.resolve, which
// finds a package without loading it. Node 20 has only module.register and the loader-thread hook
// above, which sees ES imports only.
const PROBE = `import { appendFileSync } from 'node:fs';
import * as mod from 'node:module';
if (typeof mod.registerHooks === 'function') {
  mod.registerHooks({ load(u, c, next) { const r = next(u, c); const how = (c.conditions ?? []).includes('require') ? 'require' : 'import'; appendFileSync(process.env.OCTA_PROBE_OUT, how + ' ' + u + '\\n'); return r; } });
} else {
  mod.register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});
}
process.on('exit', () => {
  const cached = Object.keys(mod.createRequire(process.execPath).cache);
  appendFileSync(process.env.OCTA_PROBE_OUT, cached.map((p) => 'require ' + p + '\\n').join(''));
});`;

const dir = mkdtempSync(join(tmpdir(), 'octa-startup-loads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runs = 0;
/**
 * The modules a fresh `octa <args>` loads (run in an empty folder), those of them an ES import
 * asked for, and its exit code.
 */
function loads(args: string[]): {
  status: number | null;
  stdout: string;
  modules: string[];
  imported: string[];
} {
  const out = join(dir, `modules-${++runs}.txt`);
  const r = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(PROBE)}`, OCTA, ...args],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, OCTA_PROBE_OUT: out } },
  );
  // Each line is "import URL" or "require URL-or-path": how the module was asked for, and which.
  const lines = readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)] as const);
  const modules = [...new Set(lines.map(([, m]) => m))];
  const imported = [...new Set(lines.filter(([how]) => how === 'import').map(([, m]) => m))];
  return { status: r.status, stdout: r.stdout, modules, imported };
}

/** The heavy packages no start-up may load, and the library's root entry that loads them. */
const HEAVY =
  /\/node_modules\/(@duckdb\/|apache-arrow\/|parquet-wasm\/|@aws-sdk\/|hyparquet)|\/dist\/src\/index\.js$/;
const heavy = (modules: string[]) => modules.filter((m) => HEAVY.test(m));
/** The full Unicode and ANSI text packages cliui's entry imports: help text is plain ASCII (cli/yargs.ts). */
const TEXT_PACKAGES =
  /\/node_modules\/(.*\/)?(string-width|wrap-ansi|strip-ansi|emoji-regex|get-east-asian-width)\/|\/cliui\/index\.mjs$/;
/** The command modules a run loaded, as paths under dist/cli/commands/. */
const commandModules = (modules: string[]) =>
  modules.flatMap((m) => {
    const at = m.indexOf('/dist/cli/commands/');
    return at === -1 ? [] : [m.slice(at + '/dist/cli/commands/'.length)];
  });
/** The package's own modules outside cli/ that a run loaded, as paths under dist/src/. */
const library = (modules: string[]) =>
  modules.flatMap((m) => {
    const at = m.indexOf('/dist/src/');
    return at === -1 ? [] : [m.slice(at + '/dist/src/'.length)];
  });

describe('octa start-up', () => {
  it('--version prints the version and loads neither yargs nor the library', () => {
    const r = loads(['--version']);
    const pkg = JSON.parse(readFileSync(join(OCTA, '../../../package.json'), 'utf8')) as { version: string };
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
    expect(r.modules.some((m) => m.endsWith('/dist/cli/octa.js'))).toBe(true);
    expect(heavy(r.modules)).toEqual([]);
    expect(r.modules.filter((m) => m.includes('/node_modules/'))).toEqual([]);
  });

  it("--help, a command's --help and an argument error load yargs, only that command's module and no heavy package", () => {
    const commands: [string[], string[]][] = [
      [['--help'], []],
      [
        ['query', '--help'],
        ['query.js', 'sql.js'],
      ],
      [['ingest', '--help'], ['ingest.js']],
      [['query'], ['query.js', 'sql.js']],
    ];
    for (const [args, own] of commands) {
      const r = loads(args);
      expect(commandModules(r.modules).sort(), args.join(' ')).toEqual(own);
      expect(
        r.modules.filter((m) => TEXT_PACKAGES.test(m)),
        args.join(' '),
      ).toEqual([]);
      expect(r.status, args.join(' ')).toBe(args.includes('--help') ? 0 : 2);
      expect(
        r.modules.some((m) => m.includes('/node_modules/yargs/')),
        args.join(' '),
      ).toBe(true);
      expect(heavy(r.modules), args.join(' ')).toEqual([]);
      expect(library(r.modules).filter((m) => m.startsWith('lattice/') && m !== 'lattice/errors.js')).toEqual(
        [],
      );
    }
  });

  it('id encode loads the lattice, its own command module, no help-text layout and nothing of the lake', () => {
    const r = loads(['id', 'encode', '100', '200', '300', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'index64' });
    expect(commandModules(r.modules)).toEqual(['id.js']);
    // yargs renders no help text after the handler starts (cli/yargs.ts), so cliui never loads.
    expect(r.modules.filter((m) => m.includes('/node_modules/cliui/'))).toEqual([]);
    expect(heavy(r.modules)).toEqual([]);
    expect(library(r.modules)).toContain('lattice/index.js');
    expect(
      library(r.modules)
        .filter((m) => !m.startsWith('lattice/'))
        .sort(),
    ).toEqual(
      // The options entry: --lake's parser, the --out check, SCENE_LIMITS and DDL_ENGINES for the builders.
      [
        'options.js',
        'demo/demo-scene.js',
        'lake/catalog/publish/ddl-engines.js',
        'lake/catalog/publish/table-view.js',
        'lake/ingest/outputs.js',
        'lake/storage/location.js',
      ].sort(),
    );
  });

  it('query reads a lake through DuckDB (required, not imported) and the SQL entry, without Arrow or the root entry', async () => {
    const csv = join(dir, 'pts.csv');
    writeFileSync(csv, 'x,y,z,t\n1,2,3,2025-06-03T10:00:00Z\n50,50,50,2025-06-03T11:00:00Z\n');
    const lake = join(dir, 'lake');
    const ingest = [
      'ingest',
      csv,
      '--lake',
      lake,
      ...'--table pts --time t --frame cartesian:0,0,0,100'.split(' '),
    ];
    expect((await octaInProcess([...ingest, '--quiet'])).status).toBe(0);
    const r = loads([
      'query',
      '--lake',
      lake,
      ...'--table pts --box 0,0,0,10,10,10 --select x,y,z --format csv'.split(' '),
    ]);
    expect(r.stdout).toBe('x,y,z\n1,2,3\n');
    expect(r.status).toBe(0);
    expect(r.modules.some((m) => m.includes('/node_modules/@duckdb/'))).toBe(true);
    expect(r.modules.filter((m) => /\/node_modules\/(apache-arrow|parquet-wasm|@aws-sdk)\//.test(m))).toEqual(
      [],
    );
    expect(library(r.modules)).toContain('sql.js');
    expect(library(r.modules)).not.toContain('index.js');
    // DuckDB's CommonJS package is required: an ES import would first scan its ~180 modules for
    // export names (0.1 s, src/sql/duckdb.ts).
    expect(r.imported.filter((m) => m.includes('/node_modules/@duckdb/'))).toEqual([]);
  });
});
