/**
 * bench/hilbert: would a Hilbert64 sort key prune better than Index64? Sorts the same points by
 * each key, cuts them into row groups of 64 Ki rows as the lake does, and counts for random
 * box queries the row groups whose min/max statistics (cell span and x/y/z, what the planner's SQL
 * prunes on) meet the box, against the row groups that really hold a hit.
 *
 * Run: npm run build && node dist/bench/hilbert.js
 */
import { index64ToHilbert64, latticeToIndex64Batch } from '../src/lattice/index.js';
import { printTable, seeded } from './harness.js';

const N = 2_000_000;
const GROUP = 65_536;
const SIDE = 8192; // LOD 12 lattice extent
const rand = seeded(11);
const coords = new Int32Array(3 * N);
for (let i = 0; i < N; i++) {
  const x = Math.floor(rand() * SIDE);
  const y = Math.floor(rand() * SIDE);
  const z = Math.floor(((Math.sin(x / 700) + Math.cos(y / 900) + 2) / 4) * 1600 + rand() * 64);
  coords.set([x, y, z], 3 * i);
}
const idx = latticeToIndex64Batch({ coords, lod: 12 });
const hil = BigUint64Array.from(idx, (id) => index64ToHilbert64(id));

interface Groups {
  lo: Float64Array;
  hi: Float64Array;
  box: Float64Array;
}

function groupsOf(keys: BigUint64Array): Groups {
  const order = Array.from({ length: N }, (_, i) => i).sort((a, b) =>
    keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0,
  );
  const g = Math.ceil(N / GROUP);
  const out: Groups = { lo: new Float64Array(g), hi: new Float64Array(g), box: new Float64Array(6 * g) };
  for (let k = 0; k < g; k++) {
    const b = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
    for (let j = k * GROUP; j < Math.min(N, (k + 1) * GROUP); j++) {
      const i = order[j]!;
      for (let a = 0; a < 3; a++) {
        b[a] = Math.min(b[a]!, coords[3 * i + a]!);
        b[a + 3] = Math.max(b[a + 3]!, coords[3 * i + a]!);
      }
    }
    out.box.set(b, 6 * k);
  }
  return out;
}

function considered(g: Groups, q: number[]): number {
  let n = 0;
  for (let k = 0; k < g.box.length / 6; k++) {
    let meets = true;
    for (let a = 0; a < 3; a++)
      if (g.box[6 * k + a + 3]! < q[a]! || g.box[6 * k + a]! > q[a + 3]!) meets = false;
    if (meets) n++;
  }
  return n;
}

const gi = groupsOf(idx);
const gh = groupsOf(hil);
const rows: (string | number)[][] = [];
for (const size of [10, 80, 400, 1600]) {
  let si = 0;
  let sh = 0;
  const trials = 200;
  for (let t = 0; t < trials; t++) {
    const x = Math.floor(rand() * (SIDE - size));
    const y = Math.floor(rand() * (SIDE - size));
    const q = [x, y, 0, x + size, y + size, 2000];
    si += considered(gi, q);
    sh += considered(gh, q);
  }
  rows.push([
    `${size} × ${size} units, full height`,
    (si / trials).toFixed(2),
    (sh / trials).toFixed(2),
    (sh / si).toFixed(3),
  ]);
}
console.log(
  `# bench/hilbert — ${N.toLocaleString('en')} points, row groups of ${GROUP}, 200 random boxes per size\n`,
);
printTable(
  ['query box', 'row groups met, Index64 order', 'row groups met, Hilbert64 order', 'Hilbert / Index'],
  rows,
);
