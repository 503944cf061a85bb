/**
 * The crash suite (`npm run test:crash`): `octa ingest`, `octa compact` and `octa rebalance` are
 * SIGKILLed at seeded random moments (anywhere from start-up through buffering, Parquet writes, the
 * gap between file writes and the commit, and the commit itself), then run again to completion.
 * After each trial: every input row is visible exactly once, `octa verify` finds no error, and after
 * `octa vacuum --grace 0` no orphan is left. Local disk and the S3 test server. With
 * OCTA_RELIABILITY_OUT set, the outcome counts are written there as markdown (docs/RELIABILITY.md).
 */
import { spawn } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../src/lake/local-storage.js';
import { openStorage } from '../../src/lake/open.js';
import type { Storage } from '../../src/lake/storage.js';
import { openLake } from '../../src/sql/open.js';
import { OCTA } from '../cli/run.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { prng } from '../prng.js';
import { S3RVER_CREDENTIALS, type S3TestServer, startS3Server } from '../support/s3-server.js';

const ROWS = 120_000;
const TRIALS = Number(process.env.OCTA_CRASH_TRIALS ?? 8);

interface Outcome {
  suite: string;
  trials: number;
  killed: number;
  finishedBeforeKill: number;
  lostRows: number;
  duplicatedRows: number;
  verifyErrors: number;
  orphansAfterVacuum: number;
}
const outcomes: Outcome[] = [];

let dir: string;
let server: S3TestServer;
let env: NodeJS.ProcessEnv;
const saved: Record<string, string | undefined> = {};

/** Runs the CLI; kills it with SIGKILL after `killAfterMs` when given. */
function octa(args: string[], killAfterMs?: number) {
  return new Promise<{
    status: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    const child = spawn(process.execPath, [OCTA, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

function csvOf(rows: number): string {
  const lines = ['x,y,z,t,id'];
  for (let i = 0; i < rows; i++) {
    lines.push(
      `${((i * 7919) % 100_000) / 100},${((i * 104_729) % 100_000) / 100},${(i % 20_000) / 100},${1_743_465_600 + (i % 4) * 86_400 + i},${i}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Rows visible through the catalog: total and distinct ids. */
async function visible(storage: Storage): Promise<{ n: number; distinct: number }> {
  const lake = await openLake({ storage, functions: false, cacheDir: join(dir, 'cache') });
  try {
    const [row] = (
      await lake.connection.runAndReadAll('SELECT count(*) AS n, count(DISTINCT id) AS d FROM pts')
    ).getRowObjectsJS();
    return { n: Number(row!.n), distinct: Number(row!.d) };
  } finally {
    lake.close();
  }
}

/** verify (errors), vacuum --grace 0, verify again (warnings: orphans left). */
async function checkLake(lakeArgs: string[]): Promise<{ errors: number; orphans: number }> {
  const first = await octa(['verify', ...lakeArgs, '--json']);
  const errors = (JSON.parse(first.stdout) as { errors: number }).errors;
  const vacuum = await octa(['vacuum', ...lakeArgs, '--grace', '0', '--json']);
  expect(vacuum.status).toBe(0);
  const second = await octa(['verify', ...lakeArgs, '--json']);
  return { errors, orphans: (JSON.parse(second.stdout) as { warnings: number }).warnings };
}

beforeAll(async () => {
  dir = tempDir('crash');
  writeFileSync(join(dir, 'in.csv'), csvOf(ROWS));
  server = await startS3Server({ bucket: 'octa-crash' });
  const aws = {
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
  };
  // This process reads the S3 lake back too, through the SDK's usual chain.
  for (const [name, value] of Object.entries(aws)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  env = { ...process.env, ...aws, OCTA_S3_ENDPOINT: server.endpoint };
});

afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await server?.stop();
  removeDir(dir);
  const out = process.env.OCTA_RELIABILITY_OUT;
  if (out && outcomes.length > 0) writeFileSync(out, reliabilityMarkdown(outcomes));
});

const ingestArgs = (lake: string) => [
  'ingest',
  join(dir, 'in.csv'),
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
  '--memory-mb',
  '4',
  '--json',
  '--quiet',
];

/** Kills `run` at a seeded moment within its measured clean duration, then runs it to the end. */
async function trials(
  suite: string,
  seed: number,
  setup: (trial: number) => Promise<{ lakeArgs: string[]; storage: () => Promise<Storage>; run: string[] }>,
) {
  const rand = prng(seed);
  const outcome: Outcome = {
    suite,
    trials: TRIALS,
    killed: 0,
    finishedBeforeKill: 0,
    lostRows: 0,
    duplicatedRows: 0,
    verifyErrors: 0,
    orphansAfterVacuum: 0,
  };
  // A clean run first measures how long the job takes, so kills spread over all of it.
  const clean = await setup(-1);
  const t0 = performance.now();
  expect((await octa(clean.run)).status).toBe(0);
  const duration = performance.now() - t0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const t = await setup(trial);
    const killed = await octa(t.run, Math.round(rand() * duration * 1.1));
    if (killed.signal === 'SIGKILL') outcome.killed++;
    else outcome.finishedBeforeKill++;
    const again = await octa(t.run);
    expect(again.status, again.stderr).toBe(0);
    const seen = await visible(await t.storage());
    outcome.lostRows += ROWS - seen.distinct;
    outcome.duplicatedRows += seen.n - seen.distinct;
    const lake = await checkLake(t.lakeArgs);
    outcome.verifyErrors += lake.errors;
    outcome.orphansAfterVacuum += lake.orphans;
  }
  outcomes.push(outcome);
  expect(outcome).toMatchObject({ lostRows: 0, duplicatedRows: 0, verifyErrors: 0, orphansAfterVacuum: 0 });
  expect(outcome.killed).toBeGreaterThan(0);
}

describe('SIGKILL at random moments, then the same command again', () => {
  it('octa ingest on local disk', async () => {
    await trials('ingest, local disk', 1, async (trial) => {
      const lake = join(dir, `ingest-${trial}`);
      return {
        lakeArgs: ['--lake', lake],
        storage: () => LocalStorage.create({ root: lake }),
        run: ingestArgs(lake),
      };
    });
  });

  it('octa ingest on S3', async () => {
    await trials('ingest, S3 (s3rver)', 2, async (trial) => {
      const lake = `s3://octa-crash/ingest-${trial + 1}`;
      return {
        lakeArgs: ['--lake', lake],
        storage: () => openStorage(lake, { s3Endpoint: server.endpoint }),
        run: ingestArgs(lake),
      };
    });
  });

  /** A lake of many small files, built once and copied for every trial. */
  async function smallFiles(): Promise<string> {
    const base = join(dir, 'base');
    const args = ingestArgs(base);
    args[args.indexOf('--file-rows') + 1] = '2000';
    const r = await octa(args);
    expect(r.status, r.stderr).toBe(0);
    return base;
  }

  it('octa compact on local disk', async () => {
    const base = await smallFiles();
    await trials('compact, local disk', 3, async (trial) => {
      const lake = join(dir, `compact-${trial}`);
      cpSync(base, lake, { recursive: true });
      return {
        lakeArgs: ['--lake', lake],
        storage: () => LocalStorage.create({ root: lake }),
        run: ['compact', '--lake', lake, '--target-rows', '40000', '--quiet'],
      };
    });
  });

  it('octa rebalance on local disk', async () => {
    const base = join(dir, 'base');
    await trials('rebalance, local disk', 4, async (trial) => {
      const lake = join(dir, `rebalance-${trial}`);
      cpSync(base, lake, { recursive: true });
      return {
        lakeArgs: ['--lake', lake],
        storage: () => LocalStorage.create({ root: lake }),
        run: ['rebalance', '--lake', lake, '--target-rows', '20000', '--quiet'],
      };
    });
  });
});

function reliabilityMarkdown(rows: Outcome[]): string {
  const table = [
    '| suite | trials | killed mid-run | finished before the kill | lost rows | duplicated rows | verify errors | orphans after vacuum |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (o) =>
        `| ${o.suite} | ${o.trials} | ${o.killed} | ${o.finishedBeforeKill} | ${o.lostRows} | ${o.duplicatedRows} | ${o.verifyErrors} | ${o.orphansAfterVacuum} |`,
    ),
  ];
  return `# Reliability

Regenerate with \`npm run reliability\` (it runs \`npm run test:crash\` with
\`OCTA_RELIABILITY_OUT=docs/RELIABILITY.md\`; \`OCTA_CRASH_TRIALS\` sets trials per suite, default 8).
Last run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${ROWS.toLocaleString('en')} input rows per trial.

## Crash suite (test/crash/crash.test.ts)

Each trial starts the command, SIGKILLs it at a seeded random moment within the time a clean run
takes (×1.1, so some runs finish first), runs the same command again to completion, and checks the
lake: every input row visible exactly once through the catalog, \`octa verify\` without errors, and
no orphan left after \`octa vacuum --grace 0\`. Ingest runs with \`--file-rows 8000 --memory-mb 4\`,
so kills land while rows are buffered, while files are encoded and written, between the last file
and the commit, and during the commit.

${table.join('\n')}

## Other suites (in \`npm test\`)

| test | what it injects | cases | expected |
| --- | --- | --- | --- |
| test/lake/bad-input-corpus.test.ts | malformed, hostile and huge inputs and options across formats | 44 | each case's error code or reject reasons; nothing committed on error |
| test/lake/load.test.ts | 4 writers × 50 concurrent commits (local and S3); 1,000 commits then compact | 200 + 200 + 1,000 | versions 1..200 each once, every row once; identical query results after compact |
| test/lake/s3-storage.test.ts | SlowDown/503, connection resets, lost answers to conditional PUTs, cut bodies (per request, from the S3 test server) | see the file | retried to success or a clear IO_ERROR; a lost race never taken for a win |
| test/lake/maintenance.test.ts | truncated file, bit flip, missing file, wrong catalog record, damaged log entry | 1 run, 6 problems | \`verify\` reports every one, exit 1 |
| test/sql/corruption.test.ts | a flipped bit and a truncated data file under a running lake | 2 | the query (SHA-256 of the files it selected) and opening the views (sizes) fail with CORRUPT naming the file |
`;
}
