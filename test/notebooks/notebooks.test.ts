/**
 * `npm run test:notebooks`: every notebook in notebooks/ is executed headless by Jupyter's own
 * `jupyter nbconvert --execute` with the tslab TypeScript kernel, from the checkout, as a user
 * would run it. A cell that throws (at run time or as a TypeScript error) fails its notebook; the
 * fixtures prove that, and each notebook's outputs are checked for what it is meant to show.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';

const REPO = resolve(import.meta.dirname, '../..');
const NOTEBOOKS = join(REPO, 'notebooks');
const TSLAB = join(NOTEBOOKS, 'node_modules/.bin/tslab');
const JUPYTER = process.env.OCTA_JUPYTER ?? 'jupyter';

interface Output {
  output_type: string;
  name?: string;
  text?: string[];
  data?: Record<string, string[]>;
}
interface Cell {
  cell_type: string;
  outputs?: Output[];
}

let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  const version = spawnSync(JUPYTER, ['nbconvert', '--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    throw new Error(
      `${JUPYTER} nbconvert does not run (${version.error?.message ?? version.stderr}): install Debian's ` +
        'jupyter-nbconvert python3-nbclient python3-ipykernel (.ci/run does)',
    );
  }
  if (!existsSync(TSLAB))
    throw new Error(`no ${TSLAB}: run npm --prefix notebooks ci (npm run test:notebooks does)`);
  dir = tempDir('notebooks');
  // A kernelspec of our own, so the run needs no `tslab install` into the machine's Jupyter.
  mkdirSync(join(dir, 'jupyter/kernels/tslab'), { recursive: true });
  writeFileSync(
    join(dir, 'jupyter/kernels/tslab/kernel.json'),
    JSON.stringify({
      argv: [TSLAB, 'kernel', '--config-path', '{connection_file}'],
      display_name: 'TypeScript',
      language: 'typescript',
    }),
  );
  env = {
    ...process.env,
    JUPYTER_PATH: join(dir, 'jupyter'),
    JUPYTER_RUNTIME_DIR: join(dir, 'runtime'),
    JUPYTER_CONFIG_DIR: join(dir, 'config'),
  };
});

afterAll(() => removeDir(dir));

/** Executes a notebook; returns nbconvert's exit status, its stderr and the executed cells. */
function execute(path: string): { status: number | null; stderr: string; cells: Cell[] } {
  const name = basename(path);
  const r = spawnSync(
    JUPYTER,
    [
      'nbconvert',
      '--to',
      'notebook',
      '--execute',
      '--ExecutePreprocessor.timeout=600',
      '--ExecutePreprocessor.kernel_name=tslab',
      '--output-dir',
      join(dir, 'out'),
      '--output',
      name,
      path,
    ],
    { cwd: dirname(path), env, encoding: 'utf8' },
  );
  const out = join(dir, 'out', name);
  const cells: Cell[] = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')).cells : [];
  return { status: r.status, stderr: r.stderr, cells };
}

const text = (cells: Cell[], kind: 'stdout' | 'stderr') =>
  cells
    .flatMap((c) => c.outputs ?? [])
    .filter((o) => o.output_type === 'stream' && o.name === kind)
    .map((o) => (o.text ?? []).join(''))
    .join('');

const displays = (cells: Cell[], mime: string) =>
  cells.flatMap((c) => c.outputs ?? []).flatMap((o) => (o.data?.[mime] ? [o.data[mime].join('')] : []));

/**
 * The run finished and no cell printed an error (tslab leaves execution counts empty, so the
 * notebooks' last cells print what the tests look for: output there means every cell ran).
 */
function expectClean(run: ReturnType<typeof execute>): void {
  expect(run.stderr).not.toMatch(/CellExecutionError/);
  expect(run.status).toBe(0);
  expect(text(run.cells, 'stderr')).not.toMatch(/Error/);
  const last = run.cells.filter((c) => c.cell_type === 'code').at(-1);
  expect(last?.outputs?.length).toBeGreaterThan(0);
}

describe('notebooks/', () => {
  it('holds the two notebooks, both on the tslab kernel', () => {
    const names = readdirSync(NOTEBOOKS).filter((n) => n.endsWith('.ipynb'));
    expect(names.sort()).toEqual(['explore-lake.ipynb', 'training-set.ipynb']);
    for (const n of names) {
      const nb = JSON.parse(readFileSync(join(NOTEBOOKS, n), 'utf8'));
      expect(nb.metadata.kernelspec.name).toBe('tslab');
    }
  });

  it('explore-lake.ipynb builds a lake, queries it and draws the density map and the cross-section', () => {
    const run = execute(join(NOTEBOOKS, 'explore-lake.ipynb'));
    expectClean(run);
    const stdout = text(run.cells, 'stdout');
    expect(stdout).toContain('quakes: 9462 rows');
    expect(stdout).toContain('31 days, 9462 events');
    expect(stdout).toMatch(/\d+ points; files read \d+ of 5, row groups \d+ of \d+/);
    const svgs = displays(run.cells, 'image/svg+xml');
    expect(svgs).toHaveLength(2);
    // One rect per occupied 2° cell, plus the background.
    expect(svgs[0]!.match(/<rect /g)!.length).toBeGreaterThan(300);
    expect(svgs[1]!.match(/<circle /g)!.length).toBeGreaterThan(1000);
    const tables = displays(run.cells, 'text/html').join('');
    expect(tables).toMatch(/<td>i3d1[0-9a-z]+<\/td>/); // Bech32m region ids
  });

  it('training-set.ipynb exports a training set and checks its shapes, splits, graph and reruns', () => {
    const run = execute(join(NOTEBOOKS, 'training-set.ipynb'));
    expectClean(run);
    const stdout = text(run.cells, 'stdout');
    expect(stdout).toContain(
      'shapes: {"features":[4],"neighbors":[14,4],"neighbor_mask":[14],"position":[3]}',
    );
    expect(stdout).toContain('x: Float32Array of [32, 14, 4]');
    expect(stdout).toMatch(/edge_index: \[2, [1-9]\d*\]/);
    expect(stdout).toMatch(/identical: sha256 [0-9a-f]{16}/);
    const tables = displays(run.cells, 'text/html').join('');
    for (const split of ['train', 'validation', 'test']) expect(tables).toContain(`<td>${split}</td>`);
    expect(displays(run.cells, 'image/svg+xml')).toHaveLength(1);
  });
});

describe('a notebook that raises fails the run', () => {
  it('an exception in a cell stops the notebook with a non-zero exit', () => {
    const run = execute(join(REPO, 'test/notebooks/fixtures/raises.ipynb'));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/CellExecutionError/);
    expect(existsSync(join(dir, 'out', 'raises.ipynb'))).toBe(false);
  });

  it('a TypeScript type error fails it too', () => {
    const run = execute(join(REPO, 'test/notebooks/fixtures/type-error.ipynb'));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/CellExecutionError/);
  });
});
