/**
 * The argument layer of `octa` (issues 13 and 14): numeric options parsed strictly, one-line errors
 * that name the argument, one exit-code rule, POSIX `--`, one parser for lake locations, negative
 * numbers as option values, `octa demo`'s numbers and `octa catalog sync`'s settings. Most cases run
 * the CLI's `main` in this process (a table of argument vectors, each with its exit code and the key
 * part of its one line on stderr); a few spawn the built program to check the process itself.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';
import { LocalStorage } from '../../src/lake/storage/local-storage.js';
import { committed, filesUnder, removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { OCTA, type OctaRun, octaInProcess } from './run.js';

type Run = OctaRun;

/** Runs `main` in this process, capturing what it writes (stdin an empty, closed pipe). */
const octa = (...args: string[]): Promise<Run> => octaInProcess(args);

/** The `octa:` lines on stderr (progress lines of a run are left out). */
const errors = (r: Run) =>
  r.stderr.split('\n').filter((l) => l.startsWith('octa: ') && !/rows read|files checked/.test(l));

let dir: string;
let lake: string;
let csv: string;
const FRAME = 'cartesian:-10,-10,-10,100';
const T = '2025-04-15T12:00:00Z';

beforeAll(async () => {
  dir = tempDir('args-cli');
  lake = join(dir, 'lake');
  csv = join(dir, 'a.csv');
  writeFileSync(csv, `x,y,z,t,v\n-5,-4,-3,${T},1\n1,2,3,${T},2\n50,60,70,${T},3\n`);
  // A frame with negative origin coordinates, and the file as an operand after `--`.
  const r = await octa(
    'ingest',
    '--lake',
    lake,
    '--table',
    'pts',
    '--time',
    't',
    '--frame',
    FRAME,
    '--',
    csv,
  );
  expect(errors(r)).toEqual([]);
  expect(r.status).toBe(0);
  expect((await committed(lake, 'pts')).files.length).toBe(1);
});

afterAll(() => removeDir(dir));

interface Case {
  args: () => string[];
  status: 1 | 2;
  /** The key part of the one error line. */
  error: string;
}

const ingestArgs = (...more: string[]) => [
  'ingest',
  csv,
  '--lake',
  join(dir, 'never'),
  '--time',
  't',
  '--frame',
  FRAME,
  ...more,
];

describe('bad arguments exit 2 naming the option; nothing is written', () => {
  const CASES: Record<string, Case> = {
    // Issue 13 item 11: numeric options are decimal integers; an empty value is not 0.
    "ingest --lod ''": {
      args: () => ingestArgs('--lod', ''),
      status: 2,
      error: '--lod must be an integer, got ""',
    },
    'ingest --lod 0x5': {
      args: () => ingestArgs('--lod', '0x5'),
      status: 2,
      error: '--lod must be an integer, got "0x5"',
    },
    'ingest --lod 1e1': {
      args: () => ingestArgs('--lod', '1e1'),
      status: 2,
      error: '--lod must be an integer, got "1e1"',
    },
    'ingest --lod 5.0': {
      args: () => ingestArgs('--lod', '5.0'),
      status: 2,
      error: '--lod must be an integer, got "5.0"',
    },
    "ingest --max-rejects ''": {
      args: () => ingestArgs('--max-rejects', ''),
      status: 2,
      error: '--max-rejects must be an integer >= 0, got ""',
    },
    'ingest --max-rejects -1': {
      args: () => ingestArgs('--max-rejects', '-1'),
      status: 2,
      error: '--max-rejects must be an integer >= 0, got "-1"',
    },
    'ingest --frame-id 0x1': {
      args: () => ingestArgs('--frame-id', '0x1'),
      status: 2,
      error: '--frame-id must be an integer, got "0x1"',
    },
    "ingest --memory-mb ''": {
      args: () => ingestArgs('--memory-mb', ''),
      status: 2,
      error: '--memory-mb must be an integer >= 1, got ""',
    },
    'ingest --lod (no value)': {
      args: () => ingestArgs('--lod'),
      status: 2,
      error: 'Not enough arguments following: lod',
    },
    "id encode --lod ''": {
      args: () => ['id', 'encode', '1', '2', '3', '--lod', ''],
      status: 2,
      error: '--lod must be an integer, got ""',
    },
    'ranges --max-ranges 1e1': {
      args: () => ['ranges', '--lod', '5', '--box', '0,0,0,7,7,7', '--max-ranges', '1e1'],
      status: 2,
      error: '--max-ranges must be an integer, got "1e1"',
    },
    'ranges --box with a fraction': {
      args: () => ['ranges', '--lod', '5', '--box', '0,0,0,7.5,7,7'],
      status: 2,
      error: '--box value 4 must be an integer, got "7.5"',
    },
    "query --max-ranges ''": {
      args: () => ['query', '--lake', lake, '--table', 'pts', '--box', '0,0,0,1,1,1', '--max-ranges', ''],
      status: 2,
      error: '--max-ranges must be an integer >= 1, got ""',
    },
    'query --sphere with hex': {
      args: () => ['query', '--lake', lake, '--table', 'pts', '--sphere', '1,2,3,0x10'],
      status: 2,
      error: '--sphere value 4 must be a decimal number, got "0x10"',
    },
    'query --sphere with three numbers': {
      args: () => ['query', '--lake', lake, '--table', 'pts', '--sphere=-1,-2,-3'],
      status: 2,
      error: '--sphere takes 4 comma-separated numbers, got "-1,-2,-3"',
    },
    "sql --cache-mb ''": {
      args: () => ['sql', '--lake', lake, '--cache-mb', '', 'SELECT 1'],
      status: 2,
      error: '--cache-mb must be a decimal number > 0, got ""',
    },
    "compact --target-rows ''": {
      args: () => ['compact', '--lake', lake, '--target-rows', ''],
      status: 2,
      error: '--target-rows must be an integer in 1..2147483647, got ""',
    },
    'rebalance --merge-below 0x1': {
      args: () => ['rebalance', '--lake', lake, '--merge-below', '0x1'],
      status: 2,
      error: '--merge-below must be a decimal number in 0..0.5, got "0x1"',
    },
    "export --k ''": {
      args: () => [
        'export',
        'training-set',
        '--lake',
        lake,
        '--table',
        'pts',
        '--lod',
        '5',
        '--k',
        '',
        '--out',
        join(dir, 'ts'),
      ],
      status: 2,
      error: '--k must be an integer, got ""',
    },
    // Issue 13 item 19: the line keeps the argument and its allowed values.
    'ingest --time-unit ns': {
      args: () => ingestArgs('--time-unit', 'ns'),
      status: 2,
      error: 'Invalid values: Argument: time-unit, Given: "ns", Choices: "s", "ms", "us" (see --help)',
    },
    'export --ratios -1,1,1 (a negative value reaches the ratio check)': {
      args: () => [
        'export',
        'training-set',
        '--lake',
        lake,
        '--table',
        'pts',
        '--lod',
        '5',
        '--box',
        '-10,-10,-10,10,10,10',
        '--ratios',
        '-1,1,1',
        '--out',
        join(dir, 'ts'),
      ],
      status: 2,
      error: 'ratios are three non-negative numbers (train, validation, test) with a positive sum',
    },
    'id encode: an operand too many after --': {
      args: () => ['id', 'encode', '--', '1', '2', '3', '4'],
      status: 2,
      error: 'Unknown argument: 4 (see --help)',
    },
    // Issue 14 item 3: the demo's numbers.
    'demo --points -5': {
      args: () => ['demo', '--lake', join(dir, 'never'), '--points', '-5'],
      status: 2,
      error: '--points must be an integer in 1..1000000000, got "-5"',
    },
    'demo --points 0': {
      args: () => ['demo', '--lake', join(dir, 'never'), '--points', '0'],
      status: 2,
      error: '--points must be an integer in 1..1000000000, got "0"',
    },
    'demo --days 0': {
      args: () => ['demo', '--lake', join(dir, 'never'), '--days', '0'],
      status: 2,
      error: '--days must be an integer in 1..3660, got "0"',
    },
    'demo --days -1': {
      args: () => ['demo', '--lake', join(dir, 'never'), '--days', '-1'],
      status: 2,
      error: '--days must be an integer in 1..3660, got "-1"',
    },
    'demo --seed abc': {
      args: () => ['demo', '--lake', join(dir, 'never'), '--seed', 'abc'],
      status: 2,
      error: '--seed must be an integer in 0..4294967295, got "abc"',
    },
  };
  it.each(Object.entries(CASES))('%s', async (_name, c) => {
    const r = await octa(...c.args());
    expect(errors(r)).toHaveLength(1);
    expect(errors(r)[0]).toContain(c.error);
    expect(r.status).toBe(c.status);
    expect(existsSync(join(dir, 'never'))).toBe(false);
    expect(existsSync(join(dir, 'ts'))).toBe(false);
  });
});

describe('one parser for lake locations (issue 13 items 17 and 21)', () => {
  const SCHEMES = 'a lake is a directory path, a file:// URL or an s3://bucket/prefix URL';
  const commands = (at: string): string[][] => [
    ['ingest', csv, '--lake', at, '--time', 't', '--frame', FRAME],
    ['demo', '--lake', at, '--points', '10'],
    ['sql', '--lake', at, 'SELECT 1'],
    ['query', '--lake', at, '--table', 'pts', '--box', '0,0,0,1,1,1'],
    ['export', 'training-set', '--lake', at, '--table', 'pts', '--lod', '5', '--out', join(dir, 'ts')],
    ['catalog', 'ddl', '--lake', at, '--table', 'pts', '--engine', 'trino'],
    ['catalog', 'sync', '--lake', at, '--glue-database', 'db'],
    ['compact', '--lake', at],
    ['rebalance', '--lake', at],
    ['vacuum', '--lake', at],
    ['verify', '--lake', at],
  ];

  it('every command refuses a scheme it cannot open (exit 2), naming the ones it can', async () => {
    for (const args of commands('az://c/lake')) {
      const r = await octa(...args);
      expect(errors(r), args.join(' ')).toEqual([
        `octa: lakes at az:// are not supported: ${SCHEMES} (code: INVALID_ARGUMENT, value: "az://c/lake") (see --help)`,
      ]);
      expect(r.status, args.join(' ')).toBe(2);
    }
    // Nothing was written to a local folder named after the scheme.
    expect(existsSync(resolve('az:'))).toBe(false);
  });

  it('every command refuses procfs and a path that is not a directory, at once (exit 2)', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'not a lake');
    for (const args of commands('/proc/self')) {
      const r = await octa(...args);
      expect(errors(r), args.join(' ')).toEqual([
        'octa: the lake location is in a kernel file system (/proc/self), not on a disk (code: INVALID_ARGUMENT, value: "/proc/self") (see --help)',
      ]);
      expect(r.status).toBe(2);
    }
    for (const args of commands(file)) {
      const r = await octa(...args);
      expect(errors(r), args.join(' ')).toEqual([
        `octa: the lake location is not a directory (code: INVALID_ARGUMENT, value: ${JSON.stringify(file)}) (see --help)`,
      ]);
      expect(r.status).toBe(2);
    }
    const under = await octa('ingest', csv, '--lake', join(file, 'lake'), '--time', 't', '--frame', FRAME);
    expect(errors(under)[0]).toContain(`the lake location is under ${file}, which is not a directory`);
    expect(under.status).toBe(2);
  });

  it('a missing lake is an argument error for the commands that read one', async () => {
    const missing = join(dir, 'missing');
    const r = await octa('verify', '--lake', missing);
    expect(errors(r)).toEqual([
      `octa: no lake at ${missing}: --lake must name an existing lake directory or an s3://bucket/prefix URL`,
    ]);
    expect(r.status).toBe(2);
  });
});

describe('one exit-code rule: 2 for the arguments, 1 for the data (issue 13 item 19)', () => {
  it('a CSV header naming a column twice, exactly or in another case, is the data: exit 1, nothing written', async () => {
    for (const header of ['x,y,z,t,v,v', 'x,y,z,t,V,v']) {
      const file = join(dir, 'dup.csv');
      writeFileSync(file, `${header}\n1,2,3,${T},1,2\n`);
      const target = join(dir, 'dup-lake');
      const r = await octa('ingest', file, '--lake', target, '--time', 't', '--frame', FRAME);
      expect(errors(r)).toHaveLength(1);
      expect(errors(r)[0]).toMatch(/code: INVALID_INPUT, value: "v"/);
      expect(r.status).toBe(1);
      expect(filesUnder(join(target, 'pts'))).toEqual([]);
      expect((await committed(target, 'points')).version).toBe(0);
    }
  });

  it('verify --table names a table the lake lacks: exit 1 naming it (as compact does)', async () => {
    for (const command of ['verify', 'compact']) {
      const r = await octa(command, '--lake', lake, '--table', 'nope');
      expect(errors(r)).toEqual([
        'octa: no such table in the catalog (tables: pts) (code: NOT_FOUND, value: "nope")',
      ]);
      expect(r.status).toBe(1);
    }
    const ok = await octa('verify', '--lake', lake, '--table', 'pts');
    expect(ok.stdout).toMatch(/^0 errors, 0 warnings; 1 files/m);
    expect(ok.status).toBe(0);
  });
});

describe('POSIX -- and negative numbers (issue 13 item 20, issue 14 item 2)', () => {
  it('flags before -- and operands after it work, in every command with operands', async () => {
    const encoded = await octa('id', 'encode', '--kind', 'route64', '--json', '--', '-3', '-5', '-7');
    expect(errors(encoded)).toEqual([]);
    expect(JSON.parse(encoded.stdout)).toMatchObject({ kind: 'route64', hex: '0x4ffffdffffbffff9' });
    const plain = await octa('id', 'encode', '--json', '--', '1', '2', '3');
    expect(JSON.parse(plain.stdout)).toMatchObject({ kind: 'index64', value: '9224779411738329141' });
    const parent = await octa('lattice', 'parent', '--json', '--', '-3', '-5', '-7');
    expect(JSON.parse(parent.stdout)).toEqual([-2, -2, -4]);
    const snap = await octa('lattice', 'snap', '--json', '--', '-1.2', '-2.6', '-3.1');
    expect(snap.status).toBe(0);
    const sql = await octa(
      'sql',
      '--lake',
      lake,
      '--format',
      'csv',
      '--',
      '-- starts with a comment\nSELECT 2 AS two',
    );
    expect(errors(sql)).toEqual([]);
    expect(sql.stdout).toBe('two\n2\n');
  });

  it('--sphere, --box and --frame take a leading minus in both spellings', async () => {
    const sphere = ['query', '--lake', lake, '--table', 'pts', '--format', 'csv', '--select', 'x,y,z'];
    for (const args of [
      [...sphere, '--sphere', '-5,-4,-3,1'],
      [...sphere, '--sphere=-5,-4,-3,1'],
      [...sphere, '--box', '-6,-6,-6,0,0,0'],
      [...sphere, '--box=-6,-6,-6,0,0,0'],
    ]) {
      const r = await octa(...args);
      expect(errors(r), args.join(' ')).toEqual([]);
      expect(r.stdout, args.join(' ')).toBe('x,y,z\n-5,-4,-3\n');
      expect(r.status).toBe(0);
    }
    const far = await octa(
      'query',
      '--lake',
      lake,
      '--table',
      'pts',
      '--sphere',
      '-2663681,-1541632,5687473,100000',
    );
    expect(errors(far)).toEqual([]);
    expect(far.stdout).toBe('(no rows)\n');
    const ranges = await octa('ranges', '--lod', '5', '--box', '-8,-8,-8,7,7,7', '--json');
    expect(errors(ranges)).toEqual([]);
    expect(JSON.parse(ranges.stdout)).toHaveLength(1);
    const frame = await octa(
      'ingest',
      '--lake',
      join(dir, 'frame-eq'),
      '--time',
      't',
      `--frame=${FRAME}`,
      csv,
    );
    expect(errors(frame)).toEqual([]);
    expect((await committed(join(dir, 'frame-eq'), 'points')).files.length).toBe(1);
  });

  it('--help shows an example with negative values', async () => {
    const help = await octa('query', '--help');
    expect(help.stdout).toContain('--sphere -2663681,-1541632,5687473,100000');
    expect(help.status).toBe(0);
  });
});

describe('octa demo (issue 14 item 3)', () => {
  it('says "1 input" on a second run and suggests no --force it lacks', async () => {
    const at = join(dir, 'demo');
    // The survey the CLI run below makes, ingested through the library (no DuckDB session).
    await runDemo({ storage: await LocalStorage.create({ root: at }), scene: { points: 20, days: 2 } });
    const again = await octa('demo', '--lake', at, '--points', '20', '--days', '2', '--quiet');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(
      '1 input already committed: skipped (the same survey is in this lake already: give another --lake, or another --seed to add a second one)',
    );
    expect(again.stdout).not.toContain('--force');
  });
});

describe('octa catalog sync settings (issue 14 item 6)', () => {
  const AWS = [
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_CONFIG_FILE',
    'AWS_SHARED_CREDENTIALS_FILE',
    'AWS_EC2_METADATA_DISABLED',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
  ];

  async function withEnv<T>(env: Record<string, string>, task: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(AWS.map((k) => [k, process.env[k]]));
    for (const k of AWS) delete process.env[k];
    Object.assign(process.env, {
      AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    });
    try {
      return await task();
    } finally {
      for (const k of AWS) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  }

  it('exit 2 naming what to set for a missing region or credentials, 1 when the service fails', async () => {
    const sync = ['catalog', 'sync', '--lake', lake, '--glue-database', 'db'];
    const region = await withEnv({}, () => octa(...sync));
    expect(errors(region)).toEqual([
      'octa: no AWS region is configured for Glue: set AWS_REGION (or a region in the AWS profile), or give --glue-region',
    ]);
    expect(region.status).toBe(2);
    const credentials = await withEnv({ AWS_REGION: 'eu-west-1' }, () => octa(...sync));
    expect(errors(credentials)).toEqual([
      'octa: no AWS credentials were found for Glue: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    ]);
    expect(credentials.status).toBe(2);
    const service = await withEnv(
      { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
      () => octa(...sync, '--glue-endpoint', 'http://127.0.0.1:9'),
    );
    expect(errors(service)).toHaveLength(1);
    expect(errors(service)[0]).toContain('ECONNREFUSED');
    expect(service.status).toBe(1);
  });
});

describe('the built program', () => {
  /** Spawns `octa` without blocking (they run side by side), `input` on its stdin. */
  function spawnOcta(args: string[], input = ''): Promise<Run> {
    return new Promise((done, failed) => {
      const child = spawn(process.execPath, [OCTA, ...args]);
      child.stdin.end(input);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('error', failed);
      child.on('close', (status) => done({ status: status ?? -1, stdout, stderr }));
    });
  }

  it('exits 2 and 1 with one line on stderr, and 0 reading stdin for -', async () => {
    const [usage, data, stdin] = await Promise.all([
      spawnOcta(ingestArgs('--lod', '')),
      spawnOcta(['verify', '--lake', lake, '--table', 'nope']),
      // A lone - is kept as an operand: for sql it names stdin, as for ingest.
      spawnOcta(['sql', '--lake', lake, '--format', 'csv', '-'], 'SELECT count(*) AS n FROM pts'),
    ]);
    expect(stdin.stderr).toBe('');
    expect(stdin.stdout).toBe('n\n3\n');
    expect(stdin.status).toBe(0);
    expect(usage.stderr).toBe('octa: --lod must be an integer, got "" (see --help)\n');
    expect(usage.status).toBe(2);
    expect(data.stderr).toBe(
      'octa: no such table in the catalog (tables: pts) (code: NOT_FOUND, value: "nope")\n',
    );
    expect(data.status).toBe(1);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});
