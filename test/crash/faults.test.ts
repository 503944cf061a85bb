/**
 * The fault suite (`npm run test:crash`): the whole pipeline, as a user runs it (the built CLI in
 * child processes), on an S3 lake whose server answers faults at a seeded rate (500, 503 SlowDown,
 * connection resets, stalls, answers held past the client's idle timeout, lost answers, cut bodies;
 * test/support/s3-server.ts). Every command either succeeds with exact results or fails with exit 1
 * and one `octa: … (code: X)` line; whatever failed is run again without faults. At the end the lake
 * holds every input row exactly once, `octa verify` finds no error and `octa vacuum --grace 0` leaves
 * no orphan. The outcome counts go to the reliability report (docs/RELIABILITY.md).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OCTA } from '../cli/run.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import {
  FAULT_KINDS,
  type FaultKind,
  S3RVER_CREDENTIALS,
  type S3TestServer,
  startS3Server,
} from '../support/s3-server.js';
import { type FaultOutcome, ingestArgs, saveFragment } from './report.js';

const ROWS = 60_000;
/** Seeds and rates: each trial is one whole pipeline on a fresh lake. */
const TRIALS = [
  { seed: 101, rate: 0.05 },
  { seed: 201, rate: 0.2 },
  { seed: 301, rate: 0.35 },
];
/** The CLI's idle timeout here, and how long a `timeout` fault holds the answer (beyond it). */
const IDLE_TIMEOUT_MS = 1500;
const TIMEOUT_STALL_MS = 2000;
/** How long a `stall` holds the answer, in ms: less than the idle timeout. */
const STALL_MS: [number, number] = [100, 800];
/** A command still running after this is a hang, counted as a bad failure. */
const HANG_MS = 120_000;
/** The box of `octa query`, in frame metres; no input coordinate lies on its faces. */
const BOX = [100.005, 200.005, 10.005, 400.005, 500.005, 90.005] as const;

const outcomes: FaultOutcome[] = [];
let dir: string;
let server: S3TestServer;
let env: NodeJS.ProcessEnv;

/** Input row i (the crash suite's generator): coordinates in metres, a time, and its id i. */
function rowOf(i: number): [number, number, number, number] {
  return [
    ((i * 7919) % 100_000) / 100,
    ((i * 104_729) % 100_000) / 100,
    (i % 20_000) / 100,
    1_743_465_600 + (i % 4) * 86_400 + i,
  ];
}

/** The ids inside {@link BOX}, by brute force over the input. */
function idsInBox(): number[] {
  const ids: number[] = [];
  for (let i = 0; i < ROWS; i++) {
    const [x, y, z] = rowOf(i);
    if (x >= BOX[0] && y >= BOX[1] && z >= BOX[2] && x <= BOX[3] && y <= BOX[4] && z <= BOX[5]) ids.push(i);
  }
  return ids;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  hung: boolean;
}

/** Runs the CLI with `extra` environment; kills it after {@link HANG_MS}. */
function octa(args: string[], extra: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [OCTA, ...args], {
      env: { ...env, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, HANG_MS);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, hung });
    });
  });
}

/** The error code of a clean failure (exit 1, one `octa: … (code: X…)` line, no trace), or undefined. */
function cleanFailure(r: Run): string | undefined {
  const text = r.stderr.trim();
  const code = /^octa: .*\(code: ([A-Z_]+)[,)]/.exec(text)?.[1];
  return r.status === 1 && !r.hung && !text.includes('\n') ? code : undefined;
}

beforeAll(async () => {
  dir = tempDir('faults');
  const lines = ['x,y,z,t,id'];
  for (let i = 0; i < ROWS; i++) lines.push(`${rowOf(i).join(',')},${i}`);
  writeFileSync(join(dir, 'in.csv'), `${lines.join('\n')}\n`);
  server = await startS3Server({ bucket: 'octa-faults' });
  env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    OCTA_S3_ENDPOINT: server.endpoint,
    OCTA_S3_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
  };
});

afterAll(async () => {
  await server?.stop();
  removeDir(dir);
  saveFragment(inject('reliabilityDir'), 'faults', { faults: outcomes });
});

/** A step of the pipeline: its arguments, and whether a successful run's output is right. */
interface Step {
  args: string[];
  check?: (stdout: string) => boolean;
}

function pipeline(lake: string): Step[] {
  const expectedIds = idsInBox().join('\n');
  const queryIds = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .slice(1)
      .map(Number)
      .sort((a, b) => a - b)
      .join('\n') === expectedIds;
  const query = {
    args: [
      'query',
      '--lake',
      lake,
      '--table',
      'pts',
      '--box',
      BOX.join(','),
      '--select',
      'id',
      '--format',
      'csv',
      '--remote-read',
      'cache',
    ],
    check: queryIds,
  };
  const maintenance = (command: string, ...more: string[]) => ({
    args: [command, '--lake', lake, '--json', '--quiet', ...more],
  });
  return [
    { args: ingestArgs(join(dir, 'in.csv'), lake) },
    { args: sqlCount(lake), check: (stdout) => isComplete(stdout) },
    query,
    maintenance('compact', '--target-rows', '40000'),
    maintenance('rebalance', '--target-rows', '20000'),
    query,
    maintenance('vacuum', '--grace', '0'),
    { ...maintenance('verify'), check: (stdout) => (JSON.parse(stdout) as { errors: number }).errors === 0 },
  ];
}

const sqlCount = (lake: string) => [
  'sql',
  '--lake',
  lake,
  '--remote-read',
  'cache',
  '--format',
  'json',
  'SELECT count(*) AS n, count(DISTINCT id) AS d, sum(id) AS s FROM pts',
];

/** Rows and distinct ids in the output of {@link sqlCount}. */
function counts(stdout: string): { n: number; d: number; s: number } {
  const [row] = JSON.parse(stdout) as { n: unknown; d: unknown; s: unknown }[];
  return { n: Number(row?.n), d: Number(row?.d), s: Number(row?.s) };
}

function isComplete(stdout: string): boolean {
  const c = counts(stdout);
  return c.n === ROWS && c.d === ROWS && c.s === (ROWS * (ROWS - 1)) / 2;
}

describe('the pipeline through an S3 server that fails at a seeded rate', () => {
  for (const [index, { seed, rate }] of TRIALS.entries()) {
    it(`seed ${seed}, ${rate * 100}% of requests`, async () => {
      const lake = `s3://octa-faults/trial-${index}`;
      const cache = { OCTA_CACHE_DIR: join(dir, `cache-${index}`) };
      server.reset();
      const outcome: FaultOutcome = {
        seed,
        rate,
        rows: ROWS,
        stallMs: STALL_MS,
        timeoutMs: TIMEOUT_STALL_MS,
        idleTimeoutMs: IDLE_TIMEOUT_MS,
        requests: 0,
        faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>,
        commands: 0,
        ok: 0,
        failedCleanly: {},
        failedBadly: 0,
        examples: [],
        lostRows: 0,
        duplicatedRows: 0,
        verifyErrors: 0,
        orphansAfterVacuum: 0,
      };
      const requests = () => Object.values(server.counts).reduce((a, b) => a + b, 0);
      const failures: string[] = [];
      for (const [n, step] of pipeline(lake).entries()) {
        const before = requests();
        server.faultRate({
          seed: seed * 100 + n,
          rate,
          stallMs: STALL_MS,
          timeoutMs: TIMEOUT_STALL_MS,
        });
        const r = await octa(step.args, cache);
        server.faultRate(null);
        outcome.requests += requests() - before;
        outcome.commands++;
        const code = r.status === 0 ? undefined : cleanFailure(r);
        if (r.status === 0 && (step.check?.(r.stdout) ?? true)) outcome.ok++;
        else if (code !== undefined) {
          outcome.failedCleanly[code] = (outcome.failedCleanly[code] ?? 0) + 1;
          outcome.examples.push(`octa ${step.args[0]} → ${r.stderr.trim()}`);
        } else {
          outcome.failedBadly++;
          failures.push(
            `${step.args[0]}: exit ${r.status}${r.hung ? ' (hung)' : ''}: ${r.stderr.slice(0, 2000)}`,
          );
        }
        if (r.status !== 0) {
          // The lake must be consistent enough for the same command to succeed without faults.
          const again = await octa(step.args, cache);
          if (again.status !== 0 || !(step.check?.(again.stdout) ?? true)) {
            outcome.failedBadly++;
            failures.push(
              `${step.args[0]} again, no faults: exit ${again.status}: ${again.stderr.slice(0, 2000)}`,
            );
          }
        }
      }
      for (const kind of FAULT_KINDS) outcome.faults[kind] = server.injected[kind];

      // Without faults: every row once, no verify error, no orphan after vacuum.
      const final = await octa(sqlCount(lake), cache);
      expect(final.status, final.stderr).toBe(0);
      const c = counts(final.stdout);
      outcome.lostRows = ROWS - c.d;
      outcome.duplicatedRows = c.n - c.d;
      const verify = await octa(['verify', '--lake', lake, '--json']);
      outcome.verifyErrors = (JSON.parse(verify.stdout) as { errors: number }).errors;
      expect((await octa(['vacuum', '--lake', lake, '--grace', '0', '--json'])).status).toBe(0);
      const after = await octa(['verify', '--lake', lake, '--json']);
      outcome.orphansAfterVacuum = (JSON.parse(after.stdout) as { warnings: number }).warnings;
      outcomes.push(outcome);

      expect(failures).toEqual([]);
      expect(outcome).toMatchObject({
        failedBadly: 0,
        lostRows: 0,
        duplicatedRows: 0,
        verifyErrors: 0,
        orphansAfterVacuum: 0,
      });
      expect(Object.values(outcome.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    });
  }
});
