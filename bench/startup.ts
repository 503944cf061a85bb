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
 * Also a cold `octa query` (a box and one day) on a 5M-point lake: bench/query's generated lake,
 * built under bench/out once (or `--query-lake DIR`, a lake of that shape). With `--baseline ROOT`,
 * every `octa` case also runs the build in ROOT/dist (another checkout, e.g. main), interleaved
 * with this one, so that before and after come from the same rounds.
 *
 * Run: npm run bench:startup [-- --runs 15 --query-rows 5000000 --baseline /path/to/main]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberArg, printTable } from './harness.js';
import { buildPointLake } from './point-lake.js';

/** The package root: `octa-lake` resolves through its own package.json exports from here. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUNS = numberArg('runs', 9);
/** A text `--name value` argument, or undefined. */
const textArg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const BASELINE = textArg('baseline');
const QUERY_LAKE = textArg('query-lake') ?? (await buildPointLake(numberArg('query-rows', 5_000_000)));

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
  /** Issue 16's goal for the case, in ms of wall time. */
  goal?: number;
  /** The same command line run by the baseline build (`--baseline`). */
  baseline?: Case;
}

const load = (specifier: string) => ['-e', `import(${JSON.stringify(specifier)})`];
/** One `octa` command line, run in {@link EMPTY}; with `--baseline`, also by the baseline build. */
const octa = (line: string, args: string[], status = 0, goal?: number): Case => ({
  name: `octa ${line}`,
  args: [OCTA, ...args],
  cwd: EMPTY,
  status,
  ...(goal === undefined ? {} : { goal }),
  ...(BASELINE === undefined
    ? {}
    : {
        baseline: {
          name: `baseline octa ${line}`,
          args: [join(BASELINE, 'dist/cli/octa.js'), ...args],
          cwd: EMPTY,
          status,
        },
      }),
});
/** The query of bench/query: a 10 m column on day 13 of the generated lake. */
const QUERY = [
  ...['query', '--lake', QUERY_LAKE, '--table', 'points', '--box', '500,500,0,510,510,200'],
  ...['--from', '2025-04-13', '--to', '2025-04-14', '--format', 'json'],
];
const CASES: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: "import('octa-lake')", args: load('octa-lake') },
  { name: "import('octa-lake/lattice')", args: load('octa-lake/lattice') },
  { name: 'octa --version', args: ['dist/cli/octa.js', '--version'], goal: 200 },
  { name: "import('@duckdb/node-api')", args: load('@duckdb/node-api') },
  { name: "import('apache-arrow')", args: load('apache-arrow') },
  { name: "import('hyparquet')", args: load('hyparquet') },
  { name: "import('octa-lake/options')", args: load('octa-lake/options') },
  { name: "import('yargs')", args: load('yargs') },
  octa('--help', ['--help'], 0, 200),
  octa('--bogus (exit 2)', ['--bogus'], 2),
  octa('id encode 100 200 300', ['id', 'encode', '100', '200', '300'], 0, 250),
  octa('id decode i3d11sqz3yjfxjfyj2mncl09', ['id', 'decode', 'i3d11sqz3yjfxjfyj2mncl09']),
  octa('lattice neighbors 0 0 0', ['lattice', 'neighbors', '0', '0', '0']),
  octa('ranges --lod 5 --box 0,0,0,7,7,7', ['ranges', '--lod', '5', '--box', '0,0,0,7,7,7']),
  octa('sql "SELECT 1" (no lake)', ['sql', 'SELECT 1']),
  octa('sql --emit-macros', ['sql', '--emit-macros']),
  ...['ingest', 'demo', 'sql', 'query', 'export training-set', 'catalog ddl', 'compact', 'verify'].map(
    (command) => octa(`${command} --help`, [...command.split(' '), '--help']),
  ),
  octa('query (no --table: exit 2)', ['query'], 2),
  octa('query (box + one day, 5M-point lake)', QUERY, 0, 400),
];
/** Every process the benchmark runs: the cases, then the baseline's twins. */
const ALL = [...CASES, ...CASES.flatMap((c) => (c.baseline ? [c.baseline] : []))];

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

const runs = new Map(ALL.map((c) => [c, [] as { wall: number; cpu: number }[]]));
for (const c of ALL) run(c); // one warm-up round: the file system cache
for (let round = 0; round < RUNS; round++) {
  for (const c of ALL) runs.get(c)!.push(run(c));
}
rmSync(EMPTY, { recursive: true, force: true });

const wall = (c: Case) => median(runs.get(c)!.map((t) => t.wall));
const cpu = (c: Case) => median(runs.get(c)!.map((t) => t.cpu));
const node = CASES[0]!;
const cells = (c: Case) => [
  wall(c).toFixed(0),
  (wall(c) / wall(node)).toFixed(2),
  cpu(c).toFixed(0),
  (cpu(c) / cpu(node)).toFixed(2),
];
/** The goal and whether the median wall time met it. */
const verdict = (c: Case) =>
  c.goal === undefined ? '' : `≤ ${c.goal}: ${wall(c) <= c.goal ? 'met' : 'missed'}`;
console.log(`Fresh-process start-up, median of ${RUNS} round-robin runs (Node ${process.version}):\n`);
printTable(
  [
    'case',
    'wall ms',
    '× node -e 0',
    'CPU ms',
    '× node -e 0',
    ...(BASELINE === undefined ? [] : ['baseline wall ms', '× node -e 0', 'CPU ms', '× node -e 0']),
    'issue 16 goal',
  ],
  CASES.map((c) => [
    c.name,
    ...cells(c),
    ...(BASELINE === undefined ? [] : c.baseline ? cells(c.baseline) : ['', '', '', '']),
    verdict(c),
  ]),
);
