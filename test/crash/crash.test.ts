/**
 * The crash suite (`npm run test:crash`): `octa ingest`, `octa compact` and `octa rebalance` are
 * SIGKILLed at seeded random moments (anywhere from start-up through buffering, Parquet writes, the
 * gap between file writes and the commit, and the commit itself), then run again to completion.
 * After each trial: every input row is visible exactly once, `octa verify` finds no error (the
 * Delta Lake and Iceberg views may be behind the catalog, never wrong), and after `octa catalog
 * publish` and `octa vacuum --grace 0` no orphan and no stale view is left. Local disk and the S3 test server. The outcome counts
 * go to the reliability report (test/crash/report.ts, docs/RELIABILITY.md).
 */
import { spawn } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { openStorage } from '../../src/lake/storage/open.js';
import type { Storage } from '../../src/lake/storage/storage.js';
import { openLake } from '../../src/sql/open.js';
import { OCTA } from '../cli/run.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { prng } from '../prng.js';
import { S3RVER_CREDENTIALS, type S3TestServer, startS3Server } from '../support/s3-server.js';
import { type CrashOutcome, ingestArgs, saveFragment } from './report.js';

const ROWS = 120_000;
const TRIALS = Number(process.env.OCTA_CRASH_TRIALS ?? 8);
/** Compaction and rebalancing on S3 take longer per trial: half as many trials. */
const S3_MAINTENANCE_TRIALS = Math.max(2, Math.ceil(TRIALS / 2));

const outcomes: CrashOutcome[] = [];

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

/**
 * verify (errors: a Delta Lake or Iceberg view that disagrees with the catalog is one; a view left
 * behind by the kill is only a warning), catalog publish (catches the views up), vacuum --grace 0,
 * verify again (warnings: orphans or views left).
 */
async function checkLake(lakeArgs: string[]): Promise<{ errors: number; orphans: number }> {
  const first = await octa(['verify', ...lakeArgs, '--json']);
  expect(first.stdout, first.stderr).not.toBe('');
  const errors = (JSON.parse(first.stdout) as { errors: number }).errors;
  const publish = await octa(['catalog', 'publish', ...lakeArgs]);
  expect(publish.status, publish.stdout + publish.stderr).toBe(0);
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
  saveFragment(inject('reliabilityDir'), 'crash', { crash: outcomes });
});

const ingest = (lake: string) => ingestArgs(join(dir, 'in.csv'), lake, '--memory-mb', '4');

/** Kills `run` at a seeded moment within its measured clean duration, then runs it to the end. */
async function trials(
  suite: string,
  seed: number,
  setup: (trial: number) => Promise<{ lakeArgs: string[]; storage: () => Promise<Storage>; run: string[] }>,
  count = TRIALS,
) {
  const rand = prng(seed);
  const outcome: CrashOutcome = {
    suite,
    rows: ROWS,
    trials: count,
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
  for (let trial = 0; trial < count; trial++) {
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
        run: ingest(lake),
      };
    });
  });

  it('octa ingest on S3', async () => {
    await trials('ingest, S3 (s3rver)', 2, async (trial) => {
      const lake = `s3://octa-crash/ingest-${trial + 1}`;
      return {
        lakeArgs: ['--lake', lake],
        storage: () => openStorage(lake, { s3Endpoint: server.endpoint }),
        run: ingest(lake),
      };
    });
  });

  /** A lake of many small files, built once and copied for every trial. */
  async function smallFiles(): Promise<string> {
    const base = join(dir, 'base');
    const args = ingest(base);
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

  /** Uploads the local small-file lake to an S3 prefix, object for file (keys are relative). */
  async function uploadBase(lake: string): Promise<Storage> {
    const base = join(dir, 'base');
    const storage = await openStorage(lake, { s3Endpoint: server.endpoint });
    const files = readdirSync(base, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    for (const file of files) {
      const path = join(file.parentPath, file.name);
      await storage.write(relative(base, path).split(sep).join('/'), readFileSync(path));
    }
    return storage;
  }

  for (const [command, seed, targetRows] of [
    ['compact', 5, '40000'],
    ['rebalance', 6, '20000'],
  ] as const) {
    it(`octa ${command} on S3`, async () => {
      await trials(
        `${command}, S3 (s3rver)`,
        seed,
        async (trial) => {
          const lake = `s3://octa-crash/${command}-${trial + 1}`;
          const storage = await uploadBase(lake);
          return {
            lakeArgs: ['--lake', lake],
            storage: async () => storage,
            run: [command, '--lake', lake, '--target-rows', targetRows, '--quiet'],
          };
        },
        S3_MAINTENANCE_TRIALS,
      );
    });
  }
});
