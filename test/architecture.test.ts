/**
 * The rules of docs/ARCHITECTURE.md, held against the source tree: every import of a file under
 * src/ and cli/ points along an allowed arrow, `lattice` and `export` import no `node:*`, no two
 * files import each other through any chain, and a file over 400 lines says why on its first line.
 * Imports are read as text (static `import … from`, `export … from`, side-effect `import '…'`
 * and `import('…')` with a literal), type-only imports included: they couple files as much.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

/** The folders a folder's files may import, besides their own folder; the most specific folder wins. */
const ALLOWED: Record<string, readonly string[]> = {
  'src/lattice': [],
  'src/export': ['src/lattice'],
  'src/node': ['src/lattice'],
  'src/lake': ['src/lattice', 'src/export', 'src/node', 'src/lake'],
  'src/lake/storage': ['src/lattice', 'src/export', 'src/node'],
  'src/lake/sources': ['src/lattice', 'src/export', 'src/node'],
  'src/lake/catalog': ['src/lattice', 'src/export', 'src/node', 'src/lake/storage'],
  'src/lake/catalog/publish': [
    'src/lattice',
    'src/export',
    'src/node',
    'src/lake/storage',
    'src/lake/catalog',
  ],
  'src/lake/ingest': [
    'src/lattice',
    'src/export',
    'src/node',
    'src/lake/storage',
    'src/lake/catalog',
    'src/lake/sources',
  ],
  'src/lake/maintenance': [
    'src/lattice',
    'src/export',
    'src/node',
    'src/lake/storage',
    'src/lake/catalog',
    'src/lake/sources',
    'src/lake/ingest',
  ],
  'src/sql': ['src/lattice', 'src/export', 'src/node', 'src/lake'],
  'src/demo': ['src/lattice', 'src/export', 'src/lake', 'src/sql'],
  src: ['src'],
  // cli/ imports the public entry points only (octa-lake, octa-lake/lattice, /s3, /glue, /options, /sql).
  cli: [
    'src/index.ts',
    'src/lattice/index.ts',
    'src/s3.ts',
    'src/glue.ts',
    'src/options.ts',
    'src/sql.ts',
    'cli',
  ],
};

/** Folders whose files may not use the platform (DESIGN §1). */
const NO_NODE = ['src/lattice', 'src/export'];

/**
 * Files of NO_NODE folders that reach the platform without an import (`process.getBuiltinModule`,
 * `require`), each with its reason. Any other such use fails the test.
 */
const KNOWN_PLATFORM_USES: Readonly<Record<string, string>> = {
  'src/export/parquet-writer.ts':
    "loads parquet-wasm's CommonJS build at first use with a synchronous require, so that importing octa-lake does not compile its 5 MB of WebAssembly and writeParquet stays synchronous",
};

/** Import circles that exist and are accepted, each with its reason. None today. */
const KNOWN_CYCLES: readonly { files: readonly string[]; reason: string }[] = [];

const MAX_LINES = 400;
const REASON = /^\/\/ Over 400 lines: \S.{20,}/;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = posix.join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const PATTERNS = [
  /(?:^|[\s;])(?:import|export)\s[^'";]*?\sfrom\s*'([^']+)'/g,
  /(?:^|[\s;])import\s*'([^']+)'/g,
  /\bimport\(\s*'([^']+)'\s*\)/g,
];

/** The specifiers a file imports: relative ones resolved to repository paths of .ts files. */
function importsOf(file: string, text: string): string[] {
  const found = new Set<string>();
  for (const pattern of PATTERNS) {
    for (const m of text.matchAll(pattern)) {
      const spec = m[1]!;
      found.add(spec.startsWith('.') ? posix.join(dirname(file), spec).replace(/\.js$/, '.ts') : spec);
    }
  }
  return [...found];
}

const files = [...sourceFiles('src'), ...sourceFiles('cli')];
const texts = new Map(files.map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]));
const graph = new Map(files.map((f) => [f, importsOf(f, texts.get(f)!)]));
const ours = (spec: string) => spec.startsWith('src/') || spec.startsWith('cli/');

/** The most specific folder of ALLOWED that holds a path. */
function ruleOf(path: string): string {
  let dir = posix.dirname(path);
  while (!(dir in ALLOWED)) dir = posix.dirname(dir);
  return dir;
}

/** Whether a path is a folder's file (or is that file, for the entry points cli/ may import). */
const inside = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

/** Strongly connected components of more than one file (Tarjan). */
function cycles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the architecture rules (docs/ARCHITECTURE.md)', () => {
  it('reads the whole tree, and every relative import names a file of it', () => {
    expect(files.length).toBeGreaterThan(100);
    const missing = [...graph].flatMap(([f, specs]) =>
      specs.filter((s) => ours(s) && !graph.has(s)).map((s) => `${f} -> ${s}`),
    );
    expect(missing).toEqual([]);
  });

  it('every import of ours points along an allowed arrow', () => {
    const wrong = [...graph].flatMap(([f, specs]) => {
      const rule = ruleOf(f);
      return specs
        .filter((s) => ours(s) && !inside(s, rule) && !ALLOWED[rule]!.some((to) => inside(s, to)))
        .map((s) => `${f} -> ${s} (${rule} may import ${ALLOWED[rule]!.join(', ') || 'nothing of ours'})`);
    });
    expect(wrong).toEqual([]);
  });

  it('lattice and export reach no platform module by other means, beyond the known exceptions', () => {
    const found = [...texts]
      .filter(
        ([f, text]) =>
          NO_NODE.some((folder) => inside(f, folder)) && /getBuiltinModule|\brequire\(/.test(text),
      )
      .map(([f]) => f);
    expect(found.sort()).toEqual(Object.keys(KNOWN_PLATFORM_USES).sort());
  });

  it('lattice and export import no node:* module', () => {
    const wrong = [...graph].flatMap(([f, specs]) =>
      NO_NODE.some((folder) => inside(f, folder))
        ? specs.filter((s) => s.startsWith('node:')).map((s) => `${f} -> ${s}`)
        : [],
    );
    expect(wrong).toEqual([]);
  });

  it('no file imports itself through a chain of imports, beyond the known exceptions', () => {
    const known = new Set(KNOWN_CYCLES.map((c) => [...c.files].sort().join(' ')));
    expect(cycles().filter((c) => !known.has(c.join(' ')))).toEqual([]);
  });

  it(`a file over ${MAX_LINES} lines says why on its first line`, () => {
    const unexplained = [...texts].flatMap(([f, text]) => {
      const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
      return lines > MAX_LINES && !REASON.test(text) ? [`${f} (${lines} lines)`] : [];
    });
    expect(unexplained).toEqual([]);
  });
});
