/**
 * The reliability report (docs/RELIABILITY.md): every file of the crash suite saves its outcomes as a
 * JSON fragment in a directory that the suite's global setup provides (vitest runs files in
 * separate workers), and the global teardown composes the markdown from all of them.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAULT_KINDS, type FaultKind } from '../support/s3-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the crash suite's files save their outcomes (see test/crash/global-setup.ts). */
    reliabilityDir: string;
  }
}

/**
 * `octa ingest` of the suites' CSV (`x,y,z,t` in seconds) into table `pts`, 8,000-row files, JSON
 * summary, no progress; `more` adds options (the crash suite's `--memory-mb 4`).
 */
export const ingestArgs = (csv: string, lake: string, ...more: string[]) => [
  'ingest',
  csv,
  '--lake',
  lake,
  '--table',
  'pts',
  '--frame',
  'cartesian:0,0,0,1024',
  '--lod',
  '10',
  '--time',
  't',
  '--time-unit',
  's',
  '--file-rows',
  '8000',
  ...more,
  '--json',
  '--quiet',
];

/** One SIGKILL suite of test/crash/crash.test.ts. */
export interface CrashOutcome {
  suite: string;
  rows: number;
  trials: number;
  killed: number;
  finishedBeforeKill: number;
  lostRows: number;
  duplicatedRows: number;
  verifyErrors: number;
  orphansAfterVacuum: number;
}

/** One trial of test/crash/faults.test.ts: a whole pipeline through the faulty S3 front. */
export interface FaultOutcome {
  seed: number;
  rate: number;
  rows: number;
  /** How long a `stall` holds the answer (ms, range), a `timeout` (ms), and the client's idle timeout. */
  stallMs: [number, number];
  timeoutMs: number;
  idleTimeoutMs: number;
  /** Requests the front received while faults were on. */
  requests: number;
  faults: Record<FaultKind, number>;
  /** Commands run with faults on. */
  commands: number;
  ok: number;
  /** Commands that failed with exit 1 and one `octa: … (code: X…)` line, by code. */
  failedCleanly: Record<string, number>;
  /** Commands that failed any other way (a stack trace, a hang, a wrong exit code) or gave wrong results. */
  failedBadly: number;
  /** The commands that failed cleanly and their error lines. */
  examples: string[];
  lostRows: number;
  duplicatedRows: number;
  verifyErrors: number;
  orphansAfterVacuum: number;
}

/** What a crash-suite file saves. */
export interface Fragment {
  crash?: CrashOutcome[];
  faults?: FaultOutcome[];
}

/**
 * Saves a test file's outcomes for the report.
 * @param dir - the directory the global setup provides: `inject('reliabilityDir')`
 * @param name - the fragment's name (one per test file)
 * @param fragment - its outcomes
 */
export function saveFragment(dir: string, name: string, fragment: Fragment): void {
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(fragment));
}

/** Every fragment saved in `dir`, merged. */
export function readFragments(dir: string): Required<Fragment> {
  const all: Required<Fragment> = { crash: [], faults: [] };
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.json')) continue;
    const f = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Fragment;
    all.crash.push(...(f.crash ?? []));
    all.faults.push(...(f.faults ?? []));
  }
  return all;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const listCounts = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ') || '-';

/** A list of the clean failures' messages, one per line, or ''. */
function examples(faults: FaultOutcome[]): string {
  const lines = faults.flatMap((o) =>
    o.examples.map((e) => `- seed ${o.seed}: \`${e.replaceAll('`', "'")}\``),
  );
  return lines.length === 0 ? '' : `\nThe commands that failed cleanly said:\n\n${lines.join('\n')}`;
}

/** The hand-kept catalogue of bad-input cases in docs/RELIABILITY.md, which a run carries over. */
const BAD_INPUT_START = '<!-- bad-input: written by hand, carried over by npm run reliability -->';
const BAD_INPUT_END = '<!-- /bad-input -->';

/**
 * The bad-input section of the tracked docs/RELIABILITY.md (its cases are asserted by the npm test
 * suites it names, not measured by this run), so a regenerated report keeps it.
 * @returns the section with its markers, or '' when the tracked file has none
 */
export function badInputSection(
  tracked = fileURLToPath(new URL('../../docs/RELIABILITY.md', import.meta.url)),
): string {
  const text = existsSync(tracked) ? readFileSync(tracked, 'utf8') : '';
  const start = text.indexOf(BAD_INPUT_START);
  const end = text.indexOf(BAD_INPUT_END, start);
  return start < 0 || end < 0 ? '' : `\n${text.slice(start, end + BAD_INPUT_END.length)}\n`;
}

/** The markdown of docs/RELIABILITY.md from the outcomes of one run. */
export function reliabilityMarkdown({ crash, faults }: Required<Fragment>): string {
  const crashTable = [
    '| suite | trials | killed mid-run | finished before the kill | lost rows | duplicated rows | verify errors | orphans after vacuum |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...crash.map(
      (o) =>
        `| ${o.suite} | ${o.trials} | ${o.killed} | ${o.finishedBeforeKill} | ${o.lostRows} | ${o.duplicatedRows} | ${o.verifyErrors} | ${o.orphansAfterVacuum} |`,
    ),
  ];
  const faultTable = [
    `| seed | rate | requests | faults | ${FAULT_KINDS.join(' | ')} | commands | ok | failed cleanly | failed otherwise | lost rows | duplicated rows | verify errors | orphans after vacuum |`,
    `| --- | --- | --- | --- | ${FAULT_KINDS.map(() => '---').join(' | ')} | --- | --- | --- | --- | --- | --- | --- | --- |`,
    ...faults.map(
      (o) =>
        `| ${o.seed} | ${Math.round(o.rate * 100)}% | ${o.requests} | ${sum(o.faults)} | ${FAULT_KINDS.map((k) => o.faults[k]).join(' | ')} | ${o.commands} | ${o.ok} | ${listCounts(o.failedCleanly)} | ${o.failedBadly} | ${o.lostRows} | ${o.duplicatedRows} | ${o.verifyErrors} | ${o.orphansAfterVacuum} |`,
    ),
  ];
  const crashRows = crash[0]?.rows ?? 0;
  const faultRows = faults[0]?.rows ?? 0;
  const { stallMs = [0, 0], timeoutMs = 0, idleTimeoutMs = 0 } = faults[0] ?? {};
  const ms = (n: number) => n.toLocaleString('en');
  return `# Reliability

The last recorded run. \`npm run reliability\` runs \`npm run test:crash\` and writes its report to
\`$OCTA_RELIABILITY_OUT\`, by default \`reliability-report.md\` (ignored by git), so a run never
rewrites this tracked file by accident; to record a run here, name it:
\`OCTA_RELIABILITY_OUT=docs/RELIABILITY.md npm run reliability\`. \`OCTA_CRASH_TRIALS\` sets trials per
crash suite, default 8. Each test file saves its outcomes, and the suite's global teardown
(test/crash/global-setup.ts) writes the report. Every count of lost rows, duplicated rows, verify
errors and orphans must be 0, and the suites fail otherwise.
Last run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.

## Crash suite (test/crash/crash.test.ts)

Each trial starts the command, SIGKILLs it at a seeded random moment within the time a clean run
takes (×1.1, so some runs finish first), runs the same command again to completion, and checks the
lake: every input row visible exactly once through the catalog, \`octa verify\` without errors (its
checks include the Delta Lake and Iceberg views, which a kill may leave behind the catalog but never
wrong), and no orphan and no stale view left after \`octa catalog publish\` and \`octa vacuum --grace 0\`. Input: ${crashRows.toLocaleString('en')} rows.
Ingest runs with \`--file-rows 8000 --memory-mb 4\`, so kills land while rows are buffered, while
files are encoded and written, between the last file and the commit, and during the commit.
Compact (to 40,000 rows per file) and rebalance (to 20,000) start from a lake of 2,000-row files, so
kills land while files are read, merged and written, during the commit and while replaced files
are deleted; on S3 they run half as many trials, each taking longer. The S3 suites run against
s3rver behind the test front (test/support/s3-server.ts), which enforces \`If-None-Match\` as S3
does.

${crashTable.join('\n')}

## Fault suite (test/crash/faults.test.ts)

The whole pipeline runs as a user runs it, the built CLI in child processes, on an S3 lake whose
server answers faults at a seeded rate: each request, drawn in arrival order from the seed, gets
with probability *rate* one of: 500 \`InternalError\`; 503 \`SlowDown\`; a connection reset
before the request is served; a stall (the answer held ${ms(stallMs[0])}-${ms(stallMs[1])} ms); a timeout (the
answer held ${ms(timeoutMs)} ms, longer than the client's idle timeout, set to ${ms(idleTimeoutMs)} ms with
\`OCTA_S3_IDLE_TIMEOUT_MS\`); a lost answer (served, then the connection dropped); a cut body
(headers and half the body). Concurrent requests race, so which request gets which fault varies
between runs of one seed. The commands, each with faults on: \`octa ingest\` of
${faultRows.toLocaleString('en')} CSV rows (8,000-row files), \`octa sql\` (count, distinct ids, sum of
ids), \`octa query\` of a box (ids compared with a brute-force scan of the input), \`octa compact\`, \`octa rebalance\`, \`octa query\` again, \`octa vacuum --grace 0\` and
\`octa verify\`. A command either succeeds with exact results, or fails with exit code 1 and one
\`octa: … (code: X)\` line; a command that failed is then run again without faults, so the next one
starts from a complete lake. Finally, without faults: every input row exactly once, \`octa verify\`
without errors, and no orphan after \`octa vacuum --grace 0\`. "failed otherwise" counts wrong
results, stack traces, other exit codes and hangs (a command is killed after 120 s): it must be 0.

${faultTable.join('\n')}
${examples(faults)}

## Other suites (in \`npm test\`, and \`npm run test:load\`)

| test | what it injects | cases | expected |
| --- | --- | --- | --- |
| test/lake/bad-input-corpus.test.ts | malformed, hostile and huge inputs and options across formats | 44 | each case's error code or reject reasons; nothing committed on error |
| test/lake/safety-*.test.ts, test/cli/args-cli.test.ts, test/cli/outputs-cli.test.ts | ordinary misuse and unusual-but-valid input (issue 13): every case in "Bad input" below | see below | the outcome each row names; the lake verify-clean after |
| test/lake/load.test.ts (\`npm run test:load\`) | 4 writers × 50 concurrent commits (local and S3); 1,000 commits then compact | 200 + 200 + 1,000 | versions 1..200 each once, every row once; identical query results after compact |
| test/lake/s3-ingest.test.ts | every attempt at reading a log entry answered 500 under \`octa verify\` | 1 | IO_ERROR on one line, not a report of a damaged lake; clean once the faults stop |
| test/lake/s3-storage.test.ts | SlowDown/503, connection resets, lost answers to conditional PUTs, cut bodies, answers stalled past the idle timeout (per request, from the S3 test server) | see the file | retried to success or a clear IO_ERROR; a lost race never taken for a win |
| test/lake/maintenance.test.ts | truncated file, bit flip, missing file, wrong catalog record, damaged log entry | 1 run, 6 problems | \`verify\` reports every one, exit 1 |
| test/sql/corruption.test.ts | a flipped bit and a truncated data file under a running lake | 2 | the query (SHA-256 of the files it selected) and opening the views (sizes) fail with CORRUPT naming the file |
${badInputSection()}`;
}

/**
 * Writes the report to `out` from the fragments in `dir`, when any were saved.
 * @returns whether it wrote
 */
export function writeReliability(dir: string, out: string): boolean {
  const all = readFragments(dir);
  if (all.crash.length === 0 && all.faults.length === 0) return false;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, reliabilityMarkdown(all));
  return true;
}
