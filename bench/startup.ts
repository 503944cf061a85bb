/**
 * bench/startup: how long a fresh Node process takes to import octa-lake's entry points and to
 * start the CLI, beside a bare `node -e 0` and the peers a user would otherwise import. Each case
 * runs in its own process, round-robin (one run of every case, then the next round), so that a
 * change in the machine's load spreads over all cases alike. The table shows median wall time and
 * median CPU time (user + system, all threads, read by a preloaded exit hook): on a busy machine the
 * wall time grows with the load, the CPU time much less.
 *
 * Run: npm run bench:startup [-- --runs 15]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { numberArg, printTable } from './harness.js';

/** The package root: `octa-lake` resolves through its own package.json exports from here. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUNS = numberArg('runs', 9);

const load = (specifier: string) => ['-e', `import(${JSON.stringify(specifier)})`];
const CASES: { name: string; args: string[] }[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: "import('octa-lake')", args: load('octa-lake') },
  { name: "import('octa-lake/lattice')", args: load('octa-lake/lattice') },
  { name: 'octa --version', args: ['dist/cli/octa.js', '--version'] },
  { name: "import('@duckdb/node-api')", args: load('@duckdb/node-api') },
  { name: "import('apache-arrow')", args: load('apache-arrow') },
  { name: "import('hyparquet')", args: load('hyparquet') },
];

/** Preloaded into each process: writes its CPU time in microseconds as the last line of stderr. */
const CPU_HOOK = `data:text/javascript,process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write('\\ncpu ' + (u.userCPUTime + u.systemCPUTime) + '\\n'); });`;

/** Wall and CPU milliseconds of one fresh process; a failed run stops the benchmark. */
function run(args: string[]): { wall: number; cpu: number } {
  const start = performance.now();
  const r = spawnSync(process.execPath, ['--import', CPU_HOOK, ...args], { cwd: ROOT, encoding: 'utf8' });
  const wall = performance.now() - start;
  const cpu = /\ncpu (\d+)\n$/.exec(r.stderr);
  if (r.status !== 0 || cpu === null) {
    throw new Error(`node ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  }
  return { wall, cpu: Number(cpu[1]) / 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const runs = CASES.map(() => [] as { wall: number; cpu: number }[]);
for (const c of CASES) run(c.args); // one warm-up round: the file system cache
for (let round = 0; round < RUNS; round++) {
  for (const [i, c] of CASES.entries()) runs[i]!.push(run(c.args));
}

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
