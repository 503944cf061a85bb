/**
 * Batch forms over typed arrays. Coordinates are interleaved (stride 3: x0, y0, z0, x1, ...), ids are
 * BigUint64Array or BigInt64Array (the same 64 bits). The loops write 64-bit ids as two 32-bit
 * words through a Uint32Array view of the output buffer (little-endian hosts: low word first), so
 * no BigInt and no object is made per point.
 */
import { NEIGHBOR_OFFSETS, snapInto } from './bcc.js';
import { checkInt, OctaError } from './errors.js';
import { HILBERT64_HEADER, INDEX64_HEADER, type TileKeyOptions, tileKeyPrefix } from './index64.js';
import { compact24, grayDigits24, SPREAD } from './morton.js';

/** A 64-bit id column in either signed (INT64) or unsigned form. */
export type IdArray = BigUint64Array | BigInt64Array;

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new OctaError('INVALID_ARGUMENT', 'octa-lake batch kernels need a little-endian host');
}

/** The error for the first id of a batch that lacks the Index64 header. */
function notIndex64(ids: IdArray, i: number): OctaError {
  return new OctaError(
    'INVALID_ID',
    `id ${i} is not an Index64 (header bits must be 10)`,
    BigInt.asUintN(64, ids[i]!),
  );
}

function words(ids: IdArray): Uint32Array {
  return new Uint32Array(ids.buffer, ids.byteOffset, ids.length * 2);
}

function badCoord(i: number, v: number): OctaError {
  return new OctaError(
    'OUT_OF_RANGE',
    `Index64 coordinate ${i % 3 === 0 ? 'x' : i % 3 === 1 ? 'y' : 'z'} of point ${Math.floor(i / 3)} must be an integer in 0..65535`,
    v,
  );
}

/** Integer coordinates in 0..65535 arrive in any of these; Float64Array is checked per element. */
export type CoordArray = Float64Array | Int32Array | Uint32Array | Uint16Array;

/** The Morton/id kernel over integer coordinates already known to be in 0..65535. */
function encodeWords(
  src: Int32Array | Uint32Array | Uint16Array,
  count: number,
  w: Uint32Array,
  at: number,
  prefix: number,
): void {
  for (let j = 0, o = 2 * at; j < 3 * count; j += 3, o += 2) {
    const x = src[j]!;
    const y = src[j + 1]!;
    const z = src[j + 2]!;
    const hi = SPREAD[x >>> 8]! | (SPREAD[y >>> 8]! << 1) | (SPREAD[z >>> 8]! << 2);
    w[o] = ((hi & 0xff) << 24) | SPREAD[x & 255]! | (SPREAD[y & 255]! << 1) | (SPREAD[z & 255]! << 2);
    w[o + 1] = prefix | (hi >>> 8);
  }
}

/**
 * Encodes lattice coordinates as Index64 ids. Integer arrays (Uint16Array, Int32Array) take the
 * fast path; a Float64Array's values are each checked to be an integer in 0..65535.
 * @param options.coords - interleaved x, y, z (integers 0..65535)
 * @param options.out - where to write (allocated when absent); signed or unsigned
 * @returns the ids (`out` when given)
 * @throws {OctaError} OUT_OF_RANGE naming the first bad coordinate, or an option error
 */
export function latticeToIndex64Batch<T extends IdArray = BigUint64Array>({
  coords,
  out,
  ...key
}: TileKeyOptions & { coords: CoordArray; out?: T }): T {
  const n = Math.floor(coords.length / 3);
  const ids = (out ?? new BigUint64Array(n)) as T;
  if (ids.length < n)
    throw new OctaError('INVALID_ARGUMENT', 'output array shorter than the input', ids.length);
  const prefix = tileKeyPrefix(INDEX64_HEADER, key) << 16;
  const w = words(ids);
  if (coords instanceof Uint16Array) {
    encodeWords(coords, n, w, 0, prefix);
    return ids;
  }
  if (!(coords instanceof Float64Array)) {
    for (let j = 0; j < 3 * n; j++) if (coords[j]! >>> 16 !== 0) throw badCoord(j, coords[j]!);
    encodeWords(coords, n, w, 0, prefix);
    return ids;
  }
  for (let i = 0, j = 0, o = 0; i < n; i++, j += 3, o += 2) {
    const x = coords[j]!;
    const y = coords[j + 1]!;
    const z = coords[j + 2]!;
    const xi = x | 0;
    const yi = y | 0;
    const zi = z | 0;
    // x | 0 wraps fractions, NaN and large values, so a mismatch or a value outside 16 bits marks
    // a coordinate that is not an integer in 0..65535.
    if ((xi | yi | zi) >>> 16 !== 0 || xi !== x || yi !== y || zi !== z) {
      const k = xi !== x || xi >>> 16 !== 0 ? 0 : yi !== y || yi >>> 16 !== 0 ? 1 : 2;
      throw badCoord(j + k, coords[j + k]!);
    }
    const hi = SPREAD[xi >>> 8]! | (SPREAD[yi >>> 8]! << 1) | (SPREAD[zi >>> 8]! << 2);
    w[o] = ((hi & 0xff) << 24) | SPREAD[xi & 255]! | (SPREAD[yi & 255]! << 1) | (SPREAD[zi & 255]! << 2);
    w[o + 1] = prefix | (hi >>> 8);
  }
  return ids;
}

/**
 * Decodes Index64 ids to lattice coordinates (frame, tier and LOD are not returned: a column of
 * one table shares them; use `index64ToLattice` for a single id's fields).
 * @param ids - Index64 ids, signed or unsigned
 * @param options.out - interleaved x, y, z output (allocated when absent)
 * @returns the coordinates (`out` when given)
 * @throws {OctaError} INVALID_ID naming the first id without the Index64 header
 */
export function index64ToLatticeBatch<T extends Uint16Array | Int32Array | Float64Array = Uint16Array>(
  ids: IdArray,
  { out }: { out?: T } = {},
): T {
  const n = ids.length;
  const coords = (out ?? new Uint16Array(3 * n)) as T;
  if (coords.length < 3 * n)
    throw new OctaError('INVALID_ARGUMENT', 'output array shorter than 3 × ids', coords.length);
  const w = words(ids);
  for (let i = 0; i < n; i++) {
    const lo32 = w[2 * i]!;
    const hi32 = w[2 * i + 1]!;
    if (hi32 >>> 30 !== INDEX64_HEADER) throw notIndex64(ids, i);
    const lo = lo32 & 0xffffff;
    const hi = (lo32 >>> 24) | ((hi32 & 0xffff) << 8);
    coords[3 * i] = compact24(lo) | (compact24(hi) << 8);
    coords[3 * i + 1] = compact24(lo >>> 1) | (compact24(hi >>> 1) << 8);
    coords[3 * i + 2] = compact24(lo >>> 2) | (compact24(hi >>> 2) << 8);
  }
  return coords;
}

/**
 * Snaps physical points to their nearest BCC points (the rule of `snapToLattice`).
 * @param options.points - interleaved x, y, z
 * @param options.resolution - lattice spacing 1 / 2^resolution (default 0)
 * @param options.out - interleaved output (allocated when absent)
 * @returns the lattice points (`out` when given)
 * @throws {OctaError} INVALID_INPUT naming the first non-finite coordinate
 */
export function snapToLatticeBatch({
  points,
  resolution = 0,
  out,
}: {
  points: ArrayLike<number>;
  resolution?: number;
  out?: Int32Array | Float64Array;
}): Int32Array | Float64Array {
  checkInt(resolution, 0, 30, 'INVALID_ARGUMENT', 'resolution');
  const n = points.length - (points.length % 3);
  const dst = out ?? new Int32Array(n);
  const s = 2 ** resolution;
  for (let j = 0; j < n; j += 3) {
    const u = points[j]! * s;
    const v = points[j + 1]! * s;
    const w = points[j + 2]! * s;
    if (!Number.isFinite(u + v + w)) {
      throw new OctaError('INVALID_INPUT', `point ${j / 3} has a non-finite coordinate`, [
        points[j],
        points[j + 1],
        points[j + 2],
      ]);
    }
    snapInto(u, v, w, dst, j);
  }
  return dst;
}

/**
 * The 14 neighbours of each lattice point, in the crate's order (stride 42 per point).
 * @param options.coords - interleaved BCC points (not re-checked: trusted input)
 * @param options.out - output of length 42 × points (allocated when absent)
 * @returns the neighbours (`out` when given)
 */
export function latticeToNeighborsBatch({
  coords,
  out,
}: {
  coords: Int32Array;
  out?: Int32Array;
}): Int32Array {
  const n = Math.floor(coords.length / 3);
  const dst = out ?? new Int32Array(42 * n);
  for (let i = 0; i < n; i++) {
    const x = coords[3 * i]!;
    const y = coords[3 * i + 1]!;
    const z = coords[3 * i + 2]!;
    const base = 42 * i;
    for (let k = 0; k < 42; k += 3) {
      dst[base + k] = x + NEIGHBOR_OFFSETS[k]!;
      dst[base + k + 1] = y + NEIGHBOR_OFFSETS[k + 1]!;
      dst[base + k + 2] = z + NEIGHBOR_OFFSETS[k + 2]!;
    }
  }
  return dst;
}

/** Scratch for the neighbour kernel: per axis and offset -2..2, its low/high id words and validity. */
const AXIS_LO = new Int32Array(15);
const AXIS_HI = new Int32Array(15);
const AXIS_OK = new Int32Array(15);
/** Per neighbour, the scratch slots (offset + 2, per axis) its three offsets read. */
const NEIGHBOR_SLOTS = /* @__PURE__ */ (() => {
  const t = new Int32Array(42);
  for (let k = 0; k < 42; k += 3) {
    t[k] = NEIGHBOR_OFFSETS[k]! + 2;
    t[k + 1] = 5 + NEIGHBOR_OFFSETS[k + 1]! + 2;
    t[k + 2] = 10 + NEIGHBOR_OFFSETS[k + 2]! + 2;
  }
  return t;
})();

/**
 * Fills the scratch words of one axis (shift 0, 1, 2 for x, y, z) for coordinate v + (-2..2): a
 * neighbour's id words are then the OR of one entry per axis, because Morton interleaving is an OR
 * of per-axis bit spreads.
 */
function axisWords(v: number, shift: number, slot: number): void {
  for (let d = -2; d <= 2; d++, slot++) {
    const c = v + d;
    const hi = SPREAD[(c >>> 8) & 255]! << shift;
    AXIS_LO[slot] = ((hi & 0xff) << 24) | (SPREAD[c & 255]! << shift);
    AXIS_HI[slot] = hi >>> 8;
    AXIS_OK[slot] = (c & ~0xffff) === 0 ? 1 : 0;
  }
}

/**
 * The 14 neighbours of each Index64 id as ids, the crate's `neighbors_index64` in fixed stride: the
 * offsets in crate order applied to the decoded coordinates; a neighbour outside 0..65535 (which the
 * crate drops) is written as 0, never a valid Index64.
 * @param ids - Index64 ids, signed or unsigned
 * @param options.out - output of length 14 × ids, same signedness as wanted (allocated unsigned)
 * @returns the neighbour ids (`out` when given)
 * @throws {OctaError} INVALID_ID naming the first id without the Index64 header
 */
export function index64ToNeighborsBatch<T extends IdArray = BigUint64Array>(
  ids: IdArray,
  { out }: { out?: T } = {},
): T {
  const n = ids.length;
  const dst = (out ?? new BigUint64Array(14 * n)) as T;
  if (dst.length < 14 * n)
    throw new OctaError('INVALID_ARGUMENT', 'output array shorter than 14 × ids', dst.length);
  const src = words(ids);
  const w = words(dst);
  for (let i = 0; i < n; i++) {
    const lo32 = src[2 * i]!;
    const hi32 = src[2 * i + 1]!;
    if (hi32 >>> 30 !== INDEX64_HEADER) throw notIndex64(ids, i);
    const prefix = hi32 & 0xffff0000;
    const lo = lo32 & 0xffffff;
    const hi = (lo32 >>> 24) | ((hi32 & 0xffff) << 8);
    const x = compact24(lo) | (compact24(hi) << 8);
    const y = compact24(lo >>> 1) | (compact24(hi >>> 1) << 8);
    const z = compact24(lo >>> 2) | (compact24(hi >>> 2) << 8);
    const o = 28 * i;
    if (x >= 2 && x <= 65533 && y >= 2 && y <= 65533 && z >= 2 && z <= 65533) {
      // Every neighbour is in range: unrolled, each id the OR of one spread per axis.
      const xhm2 = SPREAD[(x - 2) >>> 8]!;
      const xlm2 = ((xhm2 & 0xff) << 24) | SPREAD[(x - 2) & 255]!;
      const xhm1 = SPREAD[(x - 1) >>> 8]!;
      const xlm1 = ((xhm1 & 0xff) << 24) | SPREAD[(x - 1) & 255]!;
      const xh0 = SPREAD[x >>> 8]!;
      const xl0 = ((xh0 & 0xff) << 24) | SPREAD[x & 255]!;
      const xhp1 = SPREAD[(x + 1) >>> 8]!;
      const xlp1 = ((xhp1 & 0xff) << 24) | SPREAD[(x + 1) & 255]!;
      const xhp2 = SPREAD[(x + 2) >>> 8]!;
      const xlp2 = ((xhp2 & 0xff) << 24) | SPREAD[(x + 2) & 255]!;
      const yhm2 = SPREAD[(y - 2) >>> 8]! << 1;
      const ylm2 = ((yhm2 & 0xff) << 24) | (SPREAD[(y - 2) & 255]! << 1);
      const yhm1 = SPREAD[(y - 1) >>> 8]! << 1;
      const ylm1 = ((yhm1 & 0xff) << 24) | (SPREAD[(y - 1) & 255]! << 1);
      const yh0 = SPREAD[y >>> 8]! << 1;
      const yl0 = ((yh0 & 0xff) << 24) | (SPREAD[y & 255]! << 1);
      const yhp1 = SPREAD[(y + 1) >>> 8]! << 1;
      const ylp1 = ((yhp1 & 0xff) << 24) | (SPREAD[(y + 1) & 255]! << 1);
      const yhp2 = SPREAD[(y + 2) >>> 8]! << 1;
      const ylp2 = ((yhp2 & 0xff) << 24) | (SPREAD[(y + 2) & 255]! << 1);
      const zhm2 = SPREAD[(z - 2) >>> 8]! << 2;
      const zlm2 = ((zhm2 & 0xff) << 24) | (SPREAD[(z - 2) & 255]! << 2);
      const zhm1 = SPREAD[(z - 1) >>> 8]! << 2;
      const zlm1 = ((zhm1 & 0xff) << 24) | (SPREAD[(z - 1) & 255]! << 2);
      const zh0 = SPREAD[z >>> 8]! << 2;
      const zl0 = ((zh0 & 0xff) << 24) | (SPREAD[z & 255]! << 2);
      const zhp1 = SPREAD[(z + 1) >>> 8]! << 2;
      const zlp1 = ((zhp1 & 0xff) << 24) | (SPREAD[(z + 1) & 255]! << 2);
      const zhp2 = SPREAD[(z + 2) >>> 8]! << 2;
      const zlp2 = ((zhp2 & 0xff) << 24) | (SPREAD[(z + 2) & 255]! << 2);
      w[o + 0] = xlp1 | ylp1 | zlp1;
      w[o + 1] = prefix | (xhp1 >>> 8) | (yhp1 >>> 8) | (zhp1 >>> 8);
      w[o + 2] = xlp1 | ylp1 | zlm1;
      w[o + 3] = prefix | (xhp1 >>> 8) | (yhp1 >>> 8) | (zhm1 >>> 8);
      w[o + 4] = xlp1 | ylm1 | zlp1;
      w[o + 5] = prefix | (xhp1 >>> 8) | (yhm1 >>> 8) | (zhp1 >>> 8);
      w[o + 6] = xlp1 | ylm1 | zlm1;
      w[o + 7] = prefix | (xhp1 >>> 8) | (yhm1 >>> 8) | (zhm1 >>> 8);
      w[o + 8] = xlm1 | ylp1 | zlp1;
      w[o + 9] = prefix | (xhm1 >>> 8) | (yhp1 >>> 8) | (zhp1 >>> 8);
      w[o + 10] = xlm1 | ylp1 | zlm1;
      w[o + 11] = prefix | (xhm1 >>> 8) | (yhp1 >>> 8) | (zhm1 >>> 8);
      w[o + 12] = xlm1 | ylm1 | zlp1;
      w[o + 13] = prefix | (xhm1 >>> 8) | (yhm1 >>> 8) | (zhp1 >>> 8);
      w[o + 14] = xlm1 | ylm1 | zlm1;
      w[o + 15] = prefix | (xhm1 >>> 8) | (yhm1 >>> 8) | (zhm1 >>> 8);
      w[o + 16] = xlp2 | yl0 | zl0;
      w[o + 17] = prefix | (xhp2 >>> 8) | (yh0 >>> 8) | (zh0 >>> 8);
      w[o + 18] = xlm2 | yl0 | zl0;
      w[o + 19] = prefix | (xhm2 >>> 8) | (yh0 >>> 8) | (zh0 >>> 8);
      w[o + 20] = xl0 | ylp2 | zl0;
      w[o + 21] = prefix | (xh0 >>> 8) | (yhp2 >>> 8) | (zh0 >>> 8);
      w[o + 22] = xl0 | ylm2 | zl0;
      w[o + 23] = prefix | (xh0 >>> 8) | (yhm2 >>> 8) | (zh0 >>> 8);
      w[o + 24] = xl0 | yl0 | zlp2;
      w[o + 25] = prefix | (xh0 >>> 8) | (yh0 >>> 8) | (zhp2 >>> 8);
      w[o + 26] = xl0 | yl0 | zlm2;
      w[o + 27] = prefix | (xh0 >>> 8) | (yh0 >>> 8) | (zhm2 >>> 8);
      continue;
    }
    axisWords(x, 0, 0);
    axisWords(y, 1, 5);
    axisWords(z, 2, 10);
    for (let k = 0, q = o; k < 42; k += 3, q += 2) {
      const a = NEIGHBOR_SLOTS[k]!;
      const b = NEIGHBOR_SLOTS[k + 1]!;
      const c = NEIGHBOR_SLOTS[k + 2]!;
      if ((AXIS_OK[a]! & AXIS_OK[b]! & AXIS_OK[c]!) === 0) {
        w[q] = 0;
        w[q + 1] = 0;
      } else {
        w[q] = AXIS_LO[a]! | AXIS_LO[b]! | AXIS_LO[c]!;
        w[q + 1] = prefix | AXIS_HI[a]! | AXIS_HI[b]! | AXIS_HI[c]!;
      }
    }
  }
  return dst;
}

/**
 * Converts Index64 ids to the Hilbert64 ids of the same cells in place (or into `out`): the
 * crate's per-digit Gray code of the Morton digits and header `11`, without a BigInt per id.
 * @param ids - Index64 ids, signed or unsigned
 * @param options.out - where to write (default: `ids` itself)
 * @returns the Hilbert64 ids
 * @throws {OctaError} INVALID_ID naming the first id without the Index64 header
 */
export function index64ToHilbert64Batch<T extends IdArray>(ids: T, { out }: { out?: T } = {}): T {
  const dst = out ?? ids;
  if (dst.length < ids.length)
    throw new OctaError('INVALID_ARGUMENT', 'output array shorter than the input', dst.length);
  const src = words(ids);
  const w = words(dst);
  for (let i = 0; i < ids.length; i++) {
    const lo32 = src[2 * i]!;
    const hi32 = src[2 * i + 1]!;
    if (hi32 >>> 30 !== INDEX64_HEADER) throw notIndex64(ids, i);
    const lo = grayDigits24(lo32 & 0xffffff);
    const hi = grayDigits24((lo32 >>> 24) | ((hi32 & 0xffff) << 8));
    w[2 * i] = ((hi & 0xff) << 24) | lo;
    w[2 * i + 1] = (hi32 & 0x3fff0000) | (HILBERT64_HEADER << 30) | (hi >>> 8);
  }
  return dst;
}
