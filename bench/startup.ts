/**
 * bench/startup: how long a fresh Node process takes to import octa-lake's entry points and to
 * start the CLI, beside a bare `node -e 0` and the peers a user would otherwise import, then the
 * same for each `octa` command: help, an argument error, and a small run that needs no lake (the
 * commands run in an empty folder, so that `octa sql` finds no ./octa-lake). Each case
 * runs in its own process, round-robin (one run of every case, then the next round), so that a
 * change in the machine's load spreads over all cases alike. The table shows median wall time and
 * median CPU time (user + system, all threads, read by a preloaded exit hook): on a busy machine the
 * wall time grows with the load, the CPU time much less.
 *
 * Run: npm run bench:startup [-- --runs 15]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberArg, printTable } from './harness.js';

/** The package root: `octa-lake` resolves through its own package.json exports from here. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUNS = numberArg('runs', 9);

const OCTA = join(ROOT, 'dist/cli/octa.js');
/** An empty working folder for the commands. */
const EMPTY = mkdtempSync(join(tmpdir(), 'octa-startup-'));

interface Case {
  name: string;
  args: string[];
  /** The working folder (default the package root, where `octa-lake` resolves). */
  cwd?: string;
  /** The exit code the case ends with (default 0). */
  status?: number;
}

const load = (specifier: string) => ['-e', `import(${JSON.stringify(specifier)})`];
/** One `octa` command line, run in {@link EMPTY}. */
const octa = (line: string, args: string[], status = 0): Case => ({
  name: `octa ${line}`,
  args: [OCTA, ...args],
  cwd: EMPTY,
  status,
});
const CASES: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: "import('octa-lake')", args: load('octa-lake') },
  { name: "import('octa-lake/lattice')", args: load('octa-lake/lattice') },
  { name: 'octa --version', args: ['dist/cli/octa.js', '--version'] },
  { name: "import('@duckdb/node-api')", args: load('@duckdb/node-api') },
  { name: "import('apache-arrow')", args: load('apache-arrow') },
  { name: "import('hyparquet')", args: load('hyparquet') },
  { name: "import('octa-lake/options')", args: load('octa-lake/options') },
  { name: "import('yargs')", args: load('yargs') },
  octa('--help', ['--help']),
  octa('--bogus (exit 2)', ['--bogus'], 2),
  octa('id encode 100 200 300', ['id', 'encode', '100', '200', '300']),
  octa('id decode i3d11sqz3yjfxjfyj2mncl09', ['id', 'decode', 'i3d11sqz3yjfxjfyj2mncl09']),
  octa('lattice neighbors 0 0 0', ['lattice', 'neighbors', '0', '0', '0']),
  octa('ranges --lod 5 --box 0,0,0,7,7,7', ['ranges', '--lod', '5', '--box', '0,0,0,7,7,7']),
  octa('sql "SELECT 1" (no lake)', ['sql', 'SELECT 1']),
  octa('sql --emit-macros', ['sql', '--emit-macros']),
  ...['ingest', 'demo', 'sql', 'query', 'export training-set', 'catalog ddl', 'compact', 'verify'].map(
    (command) => octa(`${command} --help`, [...command.split(' '), '--help']),
  ),
  octa('query (no --table: exit 2)', ['query'], 2),
];

/** Preloaded into each process: writes its CPU time in microseconds as the last line of stderr. */
const CPU_HOOK = `data:text/javascript,process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write('\\ncpu ' + (u.userCPUTime + u.systemCPUTime) + '\\n'); });`;

/** Wall and CPU milliseconds of one fresh process; a run that ends otherwise stops the benchmark. */
function run({ args, cwd = ROOT, status = 0 }: Case): { wall: number; cpu: number } {
  const start = performance.now();
  const r = spawnSync(process.execPath, ['--import', CPU_HOOK, ...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  const wall = performance.now() - start;
  const cpu = /\ncpu (\d+)\n$/.exec(r.stderr);
  if (r.status !== status || cpu === null) {
    throw new Error(`node ${args.join(' ')} ended with ${r.status}, not ${status}: ${r.stderr}`);
  }
  return { wall, cpu: Number(cpu[1]) / 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const runs = CASES.map(() => [] as { wall: number; cpu: number }[]);
for (const c of CASES) run(c); // one warm-up round: the file system cache
for (let round = 0; round < RUNS; round++) {
  for (const [i, c] of CASES.entries()) runs[i]!.push(run(c));
}
rmSync(EMPTY, { recursive: true, force: true });

const wall = runs.map((r) => median(r.map((t) => t.wall)));
const cpu = runs.map((r) => median(r.map((t) => t.cpu)));
console.log(`Fresh-process start-up, median of ${RUNS} round-robin runs (Node ${process.version}):\n`);
printTable(
  ['case', 'wall ms', '× node -e 0', 'CPU ms', '× node -e 0'],
  CASES.map((c, i) => [
    c.name,
    wall[i]!.toFixed(0),
    (wall[i]! / wall[0]!).toFixed(2),
    cpu[i]!.toFixed(0),
    (cpu[i]! / cpu[0]!).toFixed(2),
  ]),
);
