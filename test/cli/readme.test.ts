/**
 * What a new user meets in the first hour with the README (issue 14): its `$ npx octa …` examples
 * print what it shows (run as written, in a fresh directory), its training-set example gets splits
 * near the ratios it asks for and the figures it quotes, what its commands write is ignored by git
 * and Biome, `npm run reliability` does not rewrite a tracked file, and the AWS SDK's Node-version
 * warning stays out of test output.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferWarning } from '../../cli/commands/export.js';
import { exportTrainingSet } from '../../src/sql/training/training.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { OCTA } from './run.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const README = readFileSync(join(REPO, 'README.md'), 'utf8');

/** Words of a command line: spaces split, double quotes group; stops at a comment. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.replace(/\s+#.*$/, '').matchAll(/"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2]!);
  return out;
}

interface Example {
  line: string;
  args: string[];
  /** The lines the README shows after the command; `...` stands for any lines. */
  expected: string[];
}

/** The `$ npx octa …` commands of the README's plain code blocks (not those that redirect). */
function examples(): Example[] {
  const out: Example[] = [];
  let fence: string | undefined;
  let current: Example | undefined;
  for (const line of README.split('\n')) {
    if (line.startsWith('```')) {
      fence = fence === undefined ? line.slice(3) : undefined;
      current = undefined;
    } else if (fence === '' && line.startsWith('$ ')) {
      current = undefined;
      if (line.startsWith('$ npx octa ') && !line.includes(' > ')) {
        current = { line, args: words(line.slice('$ npx octa '.length)), expected: [] };
        out.push(current);
      }
    } else if (current && line !== '') current.expected.push(line);
  }
  return out;
}

/** Runs the built CLI in `cwd` without blocking (several run at once). */
function octa(
  args: string[],
  cwd: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [OCTA, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let [stdout, stderr] = ['', ''];
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** The README's lines appear in the output in order: adjacent unless a `...` line is between them. */
function expectShown(example: Example, stdout: string): void {
  const actual = stdout.trimEnd().split('\n');
  let at = 0;
  let skip = false;
  for (const line of example.expected) {
    if (line === '...') {
      skip = true;
      continue;
    }
    const found = skip ? actual.indexOf(line, at) : actual[at] === line ? at : -1;
    expect(
      found,
      `README shows ${JSON.stringify(line)} for ${example.line}; the run printed:\n${stdout}`,
    ).toBeGreaterThanOrEqual(0);
    at = found + 1;
    skip = false;
  }
  if (!skip) expect(actual.slice(at), `output after the README's last line of ${example.line}`).toEqual([]);
}

let dir: string;
const all = examples();
const demoAt = all.findIndex((e) => e.args[0] === 'demo');
const outputs = new Map<Example, string>();

beforeAll(async () => {
  dir = tempDir('readme');
  // The README's order: the id examples need no lake and run beside the demo; the rest read its lake.
  for (const group of [all.slice(0, demoAt + 1), all.slice(demoAt + 1)]) {
    const runs = await Promise.all(group.map((e) => octa(e.args, dir)));
    runs.forEach((r, i) => {
      expect(r.status, `${group[i]!.line}: ${r.stderr}`).toBe(0);
      outputs.set(group[i]!, r.stdout);
    });
  }
});
afterAll(() => removeDir(dir));

describe("the README's examples", () => {
  it('runs the id, demo, sql and query examples, which print what the README shows', () => {
    expect(all.map((e) => e.args.slice(0, 2).join(' '))).toEqual([
      'id encode',
      'id decode',
      'demo --points',
      'sql SELECT bcc_to_string(cell) AS id, bcc_decode(cell) AS d, len(bcc_neighbors(cell)) AS n FROM survey ORDER BY cell LIMIT 1',
      'query --table',
    ]);
    for (const e of all) {
      expect(e.expected.length, e.line).toBeGreaterThan(0);
      expectShown(e, outputs.get(e)!);
    }
  });

  it('the training-set example gets the splits the README quotes, near its ratios; a buffer that drops most warns', async () => {
    const block = README.slice(README.indexOf('npx octa export training-set'));
    const args = words(block.slice(0, block.indexOf('```')).replaceAll('\\\n', ' '));
    const opt = (name: string) => args[args.indexOf(`--${name}`) + 1]!;
    const ratios = opt('ratios').split(',').map(Number);
    const options = {
      lake: join(dir, opt('lake')),
      table: opt('table'),
      lod: Number(opt('lod')),
      k: Number(opt('k')),
      features: opt('features'),
      splitLod: Number(opt('split-lod')),
      ratios,
      seed: BigInt(opt('seed')),
    };
    const m = await exportTrainingSet({ ...options, buffer: Number(opt('buffer')), out: join(dir, 'ts') });
    const { train, validation, test } = m.splits;
    const quoted = README.match(/this gives ([\d,]+) \/ ([\d,]+) \/ ([\d,]+) samples/)!;
    expect([train, validation, test]).toEqual(quoted.slice(1, 4).map((n) => Number(n.replaceAll(',', ''))));
    const total = train + validation + test + m.dropped;
    for (const [i, n] of [train, validation, test].entries())
      expect(Math.abs(n / total - ratios[i]!)).toBeLessThan(0.02);
    expect(bufferWarning(m)).toBeUndefined();

    const buffered = await exportTrainingSet({ ...options, buffer: 1, out: join(dir, 'ts-buffer') });
    expect(buffered.dropped / total).toBeGreaterThan(0.5);
    expect(bufferWarning(buffered)).toMatch(
      new RegExp(
        `^--buffer 1 dropped ${buffered.dropped} of ${total} samples \\(7\\d%\\), leaving train \\d+%`,
      ),
    );
  });
});

describe('a clean working tree and quiet tests', () => {
  it("ignores what the README's commands write, in git and in Biome", () => {
    const written = ['octa-lake/x', 'ts/x', 'bench/out/x', 'bcc.sql', 'reliability-report.md'];
    const r = spawnSync('git', ['-C', REPO, 'check-ignore', '--no-index', ...written], { encoding: 'utf8' });
    expect(r.stdout.trim().split('\n')).toEqual(written);
    const includes = (
      JSON.parse(readFileSync(join(REPO, 'biome.json'), 'utf8')) as { files: { includes: string[] } }
    ).files.includes;
    for (const p of ['!octa-lake', '!ts', '!bench/out', '!reliability-report.md'])
      expect(includes).toContain(p);
  });

  it('npm run reliability writes an ignored file unless told otherwise, never docs/RELIABILITY.md by default', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const script = pkg.scripts.reliability!;
    expect(script).toMatch(/npm run test:crash$/);
    const where = (env: NodeJS.ProcessEnv) => {
      const { OCTA_RELIABILITY_OUT: _, ...rest } = process.env;
      const shell = script.replace(
        /npm run test:crash$/,
        `"${process.execPath}" -p process.env.OCTA_RELIABILITY_OUT`,
      );
      return spawnSync('sh', ['-c', shell], { encoding: 'utf8', env: { ...rest, ...env } }).stdout.trim();
    };
    const byDefault = where({});
    expect(byDefault).not.toMatch(/docs\//);
    expect(spawnSync('git', ['-C', REPO, 'check-ignore', '-q', '--no-index', byDefault]).status).toBe(0);
    expect(where({ OCTA_RELIABILITY_OUT: 'docs/RELIABILITY.md' })).toBe('docs/RELIABILITY.md');
  });

  it("the AWS SDK's Node-version warning is off in tests; the README names the supported Node lines", async () => {
    const warnings: string[] = [];
    const listen = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', listen);
    try {
      const { S3Client } = await import('@aws-sdk/client-s3');
      new S3Client({ region: 'us-east-1' }).destroy();
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('warning', listen);
    }
    expect(warnings.filter((w) => /NodeVersionSupportWarning/.test(w))).toEqual([]);
    expect(README).toMatch(/Supported\s+Node lines: 20 \(20\.19 or later[^)]*\) and 26, the current LTS/);
    expect(readFileSync(join(REPO, '.ci/run'), 'utf8')).toMatch(/LTS_NODE_VERSION=26\./);
  });
});
