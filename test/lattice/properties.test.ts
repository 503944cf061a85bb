import { describe, expect, it } from 'vitest';
import {
  bech32Decode,
  bech32Encode,
  bech32mToIndex64,
  bech32mToRoute64,
  decodeId,
  hilbert64ToLattice,
  index64ToBech32m,
  index64ToLattice,
  index64ToLatticeBatch,
  index64ToNeighborsBatch,
  isBccPoint,
  kRingSize,
  latticeDistance,
  latticeStepDistance,
  latticeToChildren,
  latticeToGalactic128,
  latticeToHilbert64,
  latticeToIndex64,
  latticeToIndex64Batch,
  latticeToKRing,
  latticeToNeighbors,
  latticeToNeighborsBatch,
  latticeToParent,
  latticeToRoute64,
  OctaError,
  parseId,
  snapToLattice,
  snapToLatticeBatch,
  type Triple,
  tileToChildren,
  tileToParent,
} from '../../src/lattice/index.js';
import { prng, randInt } from '../prng.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof OctaError) return e.code;
    throw e;
  }
  throw new Error('expected an OctaError');
}

function randomBcc(rand: () => number, span: number): Triple {
  const odd = rand() < 0.5 ? 1 : 0;
  const r = () => 2 * randInt(rand, -span, span) + odd;
  return [r(), r(), r()];
}

describe('Index64 / Hilbert64 round trips', () => {
  it('every value of each axis round-trips (the whole u16 range)', () => {
    const rand = prng(1);
    for (let v = 0; v <= 65535; v++) {
      const y = randInt(rand, 0, 65535);
      const z = randInt(rand, 0, 65535);
      for (const [a, b, c] of [
        [v, y, z],
        [y, v, z],
        [y, z, v],
      ] as Triple[]) {
        const opts = { frame: v & 255, tier: v & 3, lod: v & 15 };
        expect(index64ToLattice(latticeToIndex64(a, b, c, opts))).toEqual({ ...opts, x: a, y: b, z: c });
        if (v % 7 === 0) {
          expect(hilbert64ToLattice(latticeToHilbert64(a, b, c, opts))).toEqual({
            ...opts,
            x: a,
            y: b,
            z: c,
          });
        }
      }
    }
  });

  it('batch encode/decode equal the scalar forms, signed and unsigned', () => {
    const rand = prng(2);
    const n = 5000;
    const coords = new Float64Array(3 * n);
    for (let i = 0; i < coords.length; i++) coords[i] = randInt(rand, 0, 65535);
    const ids = latticeToIndex64Batch({ coords, frame: 9, tier: 2, lod: 15 });
    const signed = latticeToIndex64Batch({ coords, frame: 9, tier: 2, lod: 15, out: new BigInt64Array(n) });
    for (let i = 0; i < n; i++) {
      const scalar = latticeToIndex64(coords[3 * i]!, coords[3 * i + 1]!, coords[3 * i + 2]!, {
        frame: 9,
        tier: 2,
        lod: 15,
      });
      expect(ids[i]).toBe(scalar);
      expect(signed[i]).toBe(BigInt.asIntN(64, scalar));
    }
    expect(Array.from(index64ToLatticeBatch(signed))).toEqual(Array.from(coords));
    // the integer fast paths give the same ids
    expect(latticeToIndex64Batch({ coords: Uint16Array.from(coords), frame: 9, tier: 2, lod: 15 })).toEqual(
      ids,
    );
    expect(latticeToIndex64Batch({ coords: Int32Array.from(coords), frame: 9, tier: 2, lod: 15 })).toEqual(
      ids,
    );
  });

  it('batch encode rejects bad coordinates naming the point', () => {
    const err = (() => {
      try {
        latticeToIndex64Batch({ coords: new Float64Array([1, 2, 3, 4, 5.5, 6]) });
      } catch (e) {
        return e as OctaError;
      }
    })();
    expect(err?.code).toBe('OUT_OF_RANGE');
    expect(err?.message).toContain('point 1');
    expect(codeOf(() => latticeToIndex64Batch({ coords: new Float64Array([65536, 0, 0]) }))).toBe(
      'OUT_OF_RANGE',
    );
    expect(codeOf(() => latticeToIndex64Batch({ coords: new Float64Array([Number.NaN, 0, 0]) }))).toBe(
      'OUT_OF_RANGE',
    );
    expect(codeOf(() => index64ToLatticeBatch(new BigUint64Array([1n << 62n])))).toBe('INVALID_ID');
    expect(codeOf(() => latticeToIndex64Batch({ coords: new Int32Array([0, -1, 0]) }))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => latticeToIndex64Batch({ coords: new Float64Array([2 ** 32 + 5, 0, 0]) }))).toBe(
      'OUT_OF_RANGE',
    );
    // a bad value past the first conversion block is still found and named
    const big = new Float64Array(3 * 5000);
    big[3 * 4500 + 2] = 0.25;
    expect(() => latticeToIndex64Batch({ coords: big })).toThrow(/coordinate z of point 4500/);
  });

  it('the id-level tile hierarchy: parent of each child is the id; LOD bounds', () => {
    const rand = prng(3);
    for (let i = 0; i < 500; i++) {
      const lod = randInt(rand, 0, 14);
      const max = 2 ** (lod + 1) - 1;
      const id = latticeToIndex64(randInt(rand, 0, max), randInt(rand, 0, max), randInt(rand, 0, max), {
        lod,
        frame: 3,
      });
      const kids = tileToChildren(id);
      expect(kids.length).toBe(8);
      for (const k of kids) expect(tileToParent(k)).toBe(id);
      const p = index64ToLattice(id);
      for (const [j, k] of kids.entries()) {
        const c = index64ToLattice(k);
        expect(c.lod).toBe(lod + 1);
        expect([c.x, c.y, c.z]).toEqual([
          2 * p.x + (j & 1),
          2 * p.y + ((j >> 1) & 1),
          2 * p.z + ((j >> 2) & 1),
        ]);
      }
    }
    expect(tileToParent(latticeToIndex64(0, 0, 0, { lod: 0 }))).toBeNull();
    expect(tileToChildren(latticeToIndex64(0, 0, 0, { lod: 15 }))).toEqual([]);
    expect(codeOf(() => tileToParent(latticeToRoute64(0, 0, 0)))).toBe('INVALID_ID');
  });

  it('argument errors carry codes and values', () => {
    expect(codeOf(() => latticeToIndex64(0, 0, 0, { lod: 16 }))).toBe('INVALID_LOD');
    expect(codeOf(() => latticeToIndex64(0, 0, 0, { tier: 4 }))).toBe('INVALID_TIER');
    expect(codeOf(() => latticeToIndex64(0, 0, 0, { frame: 256 }))).toBe('INVALID_FRAME');
    expect(codeOf(() => latticeToIndex64(-1, 0, 0))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => latticeToRoute64(0, 1, 0))).toBe('INVALID_PARITY');
    expect(codeOf(() => latticeToRoute64(524288, 0, 0))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => latticeToGalactic128(1, 1, 2))).toBe('INVALID_PARITY');
    expect(codeOf(() => latticeToGalactic128(0, 0, 0, { lod: 64 }))).toBe('INVALID_LOD');
    expect(codeOf(() => latticeToGalactic128(0, 0, 0, { attrUsr: 16 }))).toBe('INVALID_ARGUMENT');
    expect(() => latticeToIndex64(0, 0, 0, { lod: 16 })).toThrow(/code: INVALID_LOD, value: 16/);
  });
});

describe('Bech32m text', () => {
  it('round-trips random payloads in both variants', () => {
    const rand = prng(4);
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from({ length: randInt(rand, 0, 40) }, () => randInt(rand, 0, 255));
      for (const variant of ['bech32', 'bech32m'] as const) {
        const text = bech32Encode('i3d1', bytes, variant);
        const back = bech32Decode(text);
        expect(back.variant).toBe(variant);
        expect(Array.from(back.bytes)).toEqual(Array.from(bytes));
      }
    }
  });

  it('rejects what the crate rejects, naming the text', () => {
    const good = index64ToBech32m(latticeToIndex64(100, 200, 300));
    // one changed character breaks the checksum
    const flipped = good.slice(0, 10) + (good[10] === 'q' ? 'p' : 'q') + good.slice(11);
    expect(codeOf(() => bech32mToIndex64(flipped))).toBe('INVALID_BECH32');
    // wrong HRP, wrong length, mixed case, bad character, no separator
    expect(() => bech32mToIndex64(bech32Encode('r3d1', new Uint8Array(8)))).toThrow(
      /wrong HRP: expected i3d1, got r3d1/,
    );
    expect(() => bech32mToIndex64(bech32Encode('i3d1', new Uint8Array(9)))).toThrow(
      /expected 8 bytes, got 9/,
    );
    expect(codeOf(() => bech32mToIndex64(good.slice(0, 12) + good.slice(12).toUpperCase()))).toBe(
      'INVALID_BECH32',
    );
    expect(codeOf(() => bech32mToIndex64(`${good.slice(0, -1)}b`))).toBe('INVALID_BECH32');
    expect(codeOf(() => bech32Decode('qpzry9x8gf2tvdw0'))).toBe('INVALID_BECH32');
    // uppercase is checksum-valid but its HRP "I3D1" is not the crate's "i3d1"
    expect(() => bech32mToIndex64(good.toUpperCase())).toThrow(/wrong HRP: expected i3d1, got I3D1/);
  });

  it('accepts a Bech32 (not m) checksum as the crate decode does, and does not check padding bits', () => {
    const id = latticeToIndex64(7, 8, 9);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, id);
    expect(bech32mToIndex64(bech32Encode('i3d1', bytes, 'bech32'))).toBe(id);
    // the 13th data character carries 4 data bits and 1 padding bit; set the padding bit
    const text = bech32Encode('i3d1', bytes);
    const data = text.slice(5, -6);
    const charset = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
    const last = charset.indexOf(data[12]!);
    const padded = `${data.slice(0, 12)}${charset[last | 1]}`;
    // recompute a valid checksum over the altered data part
    const fives = [...padded].map((c) => charset.indexOf(c));
    const reencoded = withChecksum('i3d1', fives);
    expect(bech32mToIndex64(reencoded)).toBe(id);
  });

  it('Route64 text is not parity-checked (crate from_bech32m); raw Route64 values are', () => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, (1n << 62n) | 1n); // z = 1, x = y = 0: mixed parity
    expect(bech32mToRoute64(bech32Encode('r3d1', bytes))).toBe((1n << 62n) | 1n);
    expect(codeOf(() => parseId(((1n << 62n) | 1n).toString()))).toBe('INVALID_PARITY');
  });

  it('parseId reads decimal, signed INT64, hex and Bech32m forms of the same id', () => {
    const id = latticeToIndex64(1, 2, 3, { frame: 200, lod: 9 });
    const forms = [
      id.toString(),
      BigInt.asIntN(64, id).toString(),
      `0x${id.toString(16)}`,
      index64ToBech32m(id),
    ];
    for (const f of forms) expect(parseId(f)).toEqual({ kind: 'index64', value: id });
    expect(decodeId(parseId(forms[1]!))).toMatchObject({ frame: 200, lod: 9, x: 1, y: 2, z: 3 });
    expect(parseId(latticeToHilbert64(1, 2, 3).toString()).kind).toBe('hilbert64');
    expect(parseId(latticeToGalactic128(2, 2, 2).toString()).kind).toBe('galactic128');
    expect(codeOf(() => parseId('hello'))).toBe('INVALID_ID');
    expect(codeOf(() => parseId('abc1qqqqqqqq'))).toBe('INVALID_BECH32');
  });
});

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
function withChecksum(hrp: string, fives: number[]): string {
  // brute-force the 6 checksum characters by encoding through the library with the same data bits
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  const values = [
    ...[...hrp].map((c) => c.charCodeAt(0) >> 5),
    0,
    ...[...hrp].map((c) => c.charCodeAt(0) & 31),
    ...fives,
    0,
    0,
    0,
    0,
    0,
    0,
  ];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let j = 0; j < 5; j++) if ((top >>> j) & 1) chk ^= GEN[j]!;
  }
  const mod = (chk ^ 0x2bc830a3) >>> 0;
  let out = `${hrp}1${fives.map((f) => CHARSET[f]).join('')}`;
  for (let i = 0; i < 6; i++) out += CHARSET[(mod >>> (5 * (5 - i))) & 31];
  return out;
}

describe('BCC geometry', () => {
  it('snapping is never farther than √5/2 units and lands on the lattice', () => {
    const rand = prng(5);
    const n = 20000;
    const pts = new Float64Array(3 * n);
    for (let i = 0; i < pts.length; i++) pts[i] = (rand() - 0.5) * 2000;
    const batch = snapToLatticeBatch({ points: pts, resolution: 2 });
    for (let i = 0; i < n; i++) {
      const [x, y, z] = snapToLattice(pts[3 * i]!, pts[3 * i + 1]!, pts[3 * i + 2]!, { resolution: 2 });
      expect([batch[3 * i], batch[3 * i + 1], batch[3 * i + 2]]).toEqual([x, y, z]);
      expect(isBccPoint(x, y, z)).toBe(true);
      const d = Math.hypot(x - pts[3 * i]! * 4, y - pts[3 * i + 1]! * 4, z - pts[3 * i + 2]! * 4);
      expect(d).toBeLessThanOrEqual(Math.sqrt(5) / 2 + 1e-9);
      // and it is the nearest: no neighbour is strictly nearer
      for (const q of latticeToNeighbors(x, y, z)) {
        expect(
          Math.hypot(q[0] - pts[3 * i]! * 4, q[1] - pts[3 * i + 1]! * 4, q[2] - pts[3 * i + 2]! * 4),
        ).toBeGreaterThanOrEqual(d - 1e-9);
      }
    }
    expect(codeOf(() => snapToLattice(Number.NaN, 0, 0))).toBe('INVALID_INPUT');
  });

  it('snapping rounds half away from zero and gives ties to the even point', () => {
    expect(snapToLattice(-1, 0, 0)).toEqual([-2, 0, 0]);
    expect(snapToLattice(1, 0, 0)).toEqual([2, 0, 0]);
    expect(snapToLattice(0.5, 0.5, 0.5)).toEqual([0, 0, 0]);
  });

  it('parent(children(p)) = p and children are distinct BCC points', () => {
    const rand = prng(6);
    for (let i = 0; i < 2000; i++) {
      const p = randomBcc(rand, 5000);
      const kids = latticeToChildren(...p);
      expect(new Set(kids.map((k) => k.join())).size).toBe(8);
      for (const k of kids) {
        expect(isBccPoint(...k)).toBe(true);
        expect(latticeToParent(...k)).toEqual(p);
      }
    }
  });

  it('every BCC point has exactly one parent whose children include it', () => {
    for (let x = -6; x <= 6; x++)
      for (let y = -6; y <= 6; y++)
        for (let z = -6; z <= 6; z++) {
          if (!isBccPoint(x, y, z)) continue;
          const p = latticeToParent(x, y, z);
          expect(latticeToChildren(...p)).toContainEqual([x, y, z]);
        }
  });

  it('k-rings: sizes, symmetry, and agreement with brute force over step distance', () => {
    const sizes = [0, 1, 2, 3, 4].map((k) => latticeToKRing(0, 0, 0, k).length);
    expect(sizes[0]).toBe(1);
    expect(sizes[1]).toBe(15);
    for (let k = 0; k <= 4; k++) expect(kRingSize(k)).toBe(sizes[k]);
    const rand = prng(7);
    for (let t = 0; t < 30; t++) {
      const p = randomBcc(rand, 100);
      const k = randInt(rand, 0, 3);
      const ring = latticeToKRing(...p, k);
      expect(new Set(ring.map((q) => q.join())).size).toBe(ring.length);
      // brute force: all BCC points within k steps
      let count = 0;
      for (let dx = -2 * k; dx <= 2 * k; dx++)
        for (let dy = -2 * k; dy <= 2 * k; dy++)
          for (let dz = -2 * k; dz <= 2 * k; dz++) {
            const q: Triple = [p[0] + dx, p[1] + dy, p[2] + dz];
            if (isBccPoint(...q) && latticeStepDistance(p, q) <= k) count++;
          }
      expect(ring.length).toBe(count);
      for (const q of ring) {
        expect(latticeStepDistance(p, q)).toBeLessThanOrEqual(k);
        // symmetry: p is in the k-ring of each member
        if (t < 5) expect(latticeToKRing(...q, k)).toContainEqual(p);
      }
    }
    // ring 1 is the 14 neighbours in crate order
    expect(latticeToKRing(4, 6, 8, 1).slice(1)).toEqual(latticeToNeighbors(4, 6, 8));
  });

  it('distances: neighbours are 1 step, √3 or 2 units away', () => {
    for (const q of latticeToNeighbors(0, 0, 0)) {
      expect(latticeStepDistance([0, 0, 0], q)).toBe(1);
      expect([Math.sqrt(3), 2]).toContain(latticeDistance([0, 0, 0], q));
    }
    expect(latticeStepDistance([0, 0, 0], [4, 2, 0])).toBe(3);
    expect(codeOf(() => latticeStepDistance([0, 0, 0], [1, 0, 0]))).toBe('INVALID_PARITY');
  });

  it('neighbour batches equal the scalar neighbours; Index64 neighbours drop outside 0..65535 as 0', () => {
    const rand = prng(8);
    const n = 500;
    const coords = new Int32Array(3 * n);
    for (let i = 0; i < n; i++) coords.set(randomBcc(rand, 1000), 3 * i);
    const nb = latticeToNeighborsBatch({ coords });
    for (let i = 0; i < n; i++) {
      const want = latticeToNeighbors(coords[3 * i]!, coords[3 * i + 1]!, coords[3 * i + 2]!).flat();
      expect(Array.from(nb.subarray(42 * i, 42 * i + 42))).toEqual(want);
    }
    const pts: Triple[] = [
      [2, 2, 2],
      [0, 0, 0],
      [65535, 65535, 65535],
      [1, 1, 1],
      [1000, 2000, 3000],
    ];
    for (let i = 0; i < 300; i++) {
      // random points, a third of them within 2 of a domain face
      const edge = () => (rand() < 0.5 ? randInt(rand, 0, 2) : randInt(rand, 65533, 65535));
      pts.push([0, 1, 2].map(() => (rand() < 0.33 ? edge() : randInt(rand, 0, 65535))) as Triple);
    }
    const ids = new BigUint64Array(pts.map((p) => latticeToIndex64(...p, { frame: 4, lod: 15 })));
    const out = index64ToNeighborsBatch(ids);
    pts.forEach((p, i) => {
      // Index64 ids need no BCC parity: the crate applies the 14 offsets to any decoded triple.
      const shifted = (p[0] & 1) === (p[1] & 1) && (p[1] & 1) === (p[2] & 1) ? p : ([0, 0, 0] as Triple);
      latticeToNeighbors(...shifted).forEach((q0, k) => {
        const q = q0.map((v, a) => v - shifted[a]! + p[a]!) as Triple;
        const inside = q.every((v) => v >= 0 && v <= 65535);
        expect(out[14 * i + k]).toBe(inside ? latticeToIndex64(...q, { frame: 4, lod: 15 }) : 0n);
      });
    });
  });
});
