/**
 * bench/lattice: per-point costs of the lattice core on batches of 1M, beside the figures the
 * octaindex3d crate publishes for itself (a 2-core EPYC VM), which are the reference we chase.
 *
 * Run: npm run bench:lattice
 */
import {
  boxToRanges,
  frameToIndex64Batch,
  index64ToLatticeBatch,
  index64ToNeighborsBatch,
  latticeToIndex64Batch,
  latticeToNeighborsBatch,
  parseFrameSpec,
} from '../src/lattice/index.js';
import { measure, nsPerItem, printTable, seeded } from './harness.js';

const N = 1_000_000;
const rand = seeded(42);

const coords = new Float64Array(3 * N);
for (let i = 0; i < coords.length; i++) coords[i] = Math.floor(rand() * 65536);
const coords16 = Uint16Array.from(coords);
const coords32 = Int32Array.from(coords);
const ids = new BigUint64Array(N);
latticeToIndex64Batch({ coords, out: ids, lod: 15 });
const decoded = new Uint16Array(3 * N);

const frame = parseFrameSpec('cartesian:0,0,0,1000', { id: 1 });
const metres = new Float64Array(3 * N);
for (let i = 0; i < metres.length; i++) metres[i] = rand() * 1000;
const snapped = new BigInt64Array(N);
const rejects = new Uint8Array(N);

const bcc = new Int32Array(3 * N);
for (let i = 0; i < N; i++) {
  const odd = i & 1;
  for (let k = 0; k < 3; k++) bcc[3 * i + k] = 2 * Math.floor(rand() * 30000) + odd + 2;
}
const bccIds = new BigUint64Array(N);
latticeToIndex64Batch({ coords: Float64Array.from(bcc), out: bccIds, lod: 15 });
const neighbourIds = new BigUint64Array(14 * N);
const neighbourCoords = new Int32Array(42 * N);

const encode = measure('Index64 encode from lattice coords, Uint16Array (batch)', N, () =>
  latticeToIndex64Batch({ coords: coords16, out: ids, lod: 15 }),
);
const encode32 = measure('Index64 encode from lattice coords, Int32Array (batch)', N, () =>
  latticeToIndex64Batch({ coords: coords32, out: ids, lod: 15 }),
);
const encode64 = measure(
  'Index64 encode from lattice coords, Float64Array, each checked integral (batch)',
  N,
  () => latticeToIndex64Batch({ coords, out: ids, lod: 15 }),
);
const decode = measure('Index64 decode to lattice coords (batch)', N, () =>
  index64ToLatticeBatch(ids, { out: decoded }),
);
const snap = measure('frame metres float64 → snap → Index64 (batch)', N, () =>
  frameToIndex64Batch({ frame, lod: 12, points: metres, out: snapped, rejects }),
);
const nbIds = measure('14 neighbours as Index64 ids (batch)', N, () =>
  index64ToNeighborsBatch(bccIds, { out: neighbourIds }),
);
const nbCoords = measure('14 neighbours as lattice coords (batch)', N, () =>
  latticeToNeighborsBatch({ coords: bcc, out: neighbourCoords }),
);
const exact = measure('exact range decomposition, 64³ box [3..66]³ at LOD 10', 1, () =>
  boxToRanges({ lod: 10, box: [3, 3, 3, 66, 66, 66] }),
);
const capped = measure('capped (256) range decomposition, same box', 1, () =>
  boxToRanges({ lod: 10, box: [3, 3, 3, 66, 66, 66], maxRanges: 256 }),
);
const exactCover = boxToRanges({ lod: 10, box: [3, 3, 3, 66, 66, 66] });
const cappedCover = boxToRanges({ lod: 10, box: [3, 3, 3, 66, 66, 66], maxRanges: 256 });

const ns = (t: typeof encode) => nsPerItem(t).toFixed(2);
console.log(`# bench/lattice — Node ${process.version}, batches of ${N.toLocaleString('en')}\n`);
printTable(
  ['operation', 'octa-lake', 'goal', 'octaindex3d (published)', 'ratio to crate'],
  [
    [
      encode.label,
      `${ns(encode)} ns/pt`,
      '≤ 10 ns',
      '~1.3 ns (Morton encode)',
      `${(nsPerItem(encode) / 1.3).toFixed(1)}×`,
    ],
    ...[encode32, encode64].map((t) => [
      t.label,
      `${ns(t)} ns/pt`,
      '≤ 10 ns',
      '~1.3 ns (Morton encode)',
      `${(nsPerItem(t) / 1.3).toFixed(1)}×`,
    ]),
    [
      decode.label,
      `${ns(decode)} ns/pt`,
      '≤ 10 ns',
      '~2.3 ns (batch Index64 decode)',
      `${(nsPerItem(decode) / 2.3).toFixed(1)}×`,
    ],
    [snap.label, `${ns(snap)} ns/pt`, '≤ 30 ns', '—', '—'],
    [nbIds.label, `${(N / nbIds.ms / 1e3).toFixed(1)} M cells/s`, '≥ 20 M cells/s', '—', '—'],
    [nbCoords.label, `${(N / nbCoords.ms / 1e3).toFixed(1)} M cells/s`, '≥ 20 M cells/s', '—', '—'],
    [
      exact.label,
      `${exact.ms.toFixed(2)} ms (${exactCover.stats.ranges} ranges, ratio ${exactCover.stats.ratio.toFixed(2)})`,
      '< 50 ms',
      '—',
      '—',
    ],
    [
      capped.label,
      `${capped.ms.toFixed(3)} ms (${cappedCover.stats.ranges} ranges, ratio ${cappedCover.stats.ratio.toFixed(2)})`,
      '< 2 ms',
      '—',
      '—',
    ],
  ],
);
