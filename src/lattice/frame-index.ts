/**
 * Frame metres to cells: snapping inside a frame's domain, lattice points, Index64 ids and their
 * centres, and the batch form the ingest path uses.
 */
import { rustRound, snapInto, type Triple } from './bcc.js';
import { checkInt, OctaError } from './errors.js';
import { checkFrame, describeFrame, type Frame, latticeUnit } from './frame.js';
import { INDEX64_HEADER, index64ToLattice, latticeToIndex64, tileKeyPrefix } from './index64.js';
import { mortonHigh24, mortonLow24 } from './morton.js';

/** `rejects` code of a batch point with a NaN or infinite coordinate. */
export const REJECT_NON_FINITE = 1;
/** `rejects` code of a batch point outside the frame's domain. */
export const REJECT_OUT_OF_DOMAIN = 2;
// Which 32-bit word of a 64-bit slot holds the low half on this host.
const LO = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

/**
 * Snaps lattice units (each in [0, n], n = 2^(L+1)) to the nearest BCC point inside [0, n − 1]³.
 *
 * Edge case: a point in the top half-unit of the domain rounds to n, one past the 16-bit axis at
 * LOD 15. Each sublattice is a product of per-axis sets, so the nearest point inside the box is the
 * nearer (ties to even) of the all-even candidate with n replaced by n − 2 and the all-odd candidate
 * clamped to [1, n − 1]; there it is at most √3 units away rather than √5/2. The all-odd candidate
 * leaves the box only where the clamped one is as near (−1 versus 1 at u = 0 exactly; n + 1 only
 * when rounding put u at n), so clamping it never makes it worse.
 */
function snapDomain(u: number, v: number, w: number, n: number, out: Triple | Int32Array): void {
  snapInto(u, v, w, out, 0);
  const m = n - 1;
  if (out[0]! >= 0 && out[0]! <= m && out[1]! >= 0 && out[1]! <= m && out[2]! >= 0 && out[2]! <= m) return;
  const ex = Math.min(2 * rustRound(u / 2), n - 2);
  const ey = Math.min(2 * rustRound(v / 2), n - 2);
  const ez = Math.min(2 * rustRound(w / 2), n - 2);
  const ox = Math.max(1, Math.min(2 * rustRound((u - 1) / 2) + 1, m));
  const oy = Math.max(1, Math.min(2 * rustRound((v - 1) / 2) + 1, m));
  const oz = Math.max(1, Math.min(2 * rustRound((w - 1) / 2) + 1, m));
  const odd = (u - ox) ** 2 + (v - oy) ** 2 + (w - oz) ** 2 < (u - ex) ** 2 + (v - ey) ** 2 + (w - ez) ** 2;
  out[0] = (odd ? ox : ex) + 0; // + 0: no -0 from u = -0
  out[1] = (odd ? oy : ey) + 0;
  out[2] = (odd ? oz : ez) + 0;
}

function outOfDomain(frame: Frame, x: number, y: number, z: number): OctaError {
  const what = [x, y, z].every(Number.isFinite) ? 'is outside' : 'is not finite, so not inside';
  return new OctaError(
    'OUT_OF_DOMAIN',
    `point (${x}, ${y}, ${z}) ${what} ${describeFrame(frame)}, whose domain is [origin, origin + edge) on ` +
      'every axis; choose a larger edge or another frame, or reject the row',
    [x, y, z],
  );
}

/**
 * Snaps a point in frame metres to the nearest BCC point of the domain at a LOD: Rust rounding,
 * ties to the all-even candidate, kept inside [0, 2^(L+1) − 1]³ at the top faces (see snapDomain).
 * @param frame - the frame
 * @param lod - 0..15
 * @returns [lx, ly, lz], all even or all odd
 * @throws {OctaError} OUT_OF_DOMAIN naming the point and the frame; INVALID_FRAME or INVALID_LOD
 */
export function frameToLattice(frame: Frame, lod: number, x: number, y: number, z: number): Triple {
  checkInt(lod, 0, 15, 'INVALID_LOD', 'LOD');
  const { origin, edge } = checkFrame(frame);
  const [ox, oy, oz] = origin;
  if (!(x >= ox && x < ox + edge && y >= oy && y < oy + edge && z >= oz && z < oz + edge)) {
    throw outOfDomain(frame, x, y, z);
  }
  const n = 2 ** (lod + 1);
  const out: Triple = [0, 0, 0];
  snapDomain((x - ox) * (n / edge), (y - oy) * (n / edge), (z - oz) * (n / edge), n, out);
  return out;
}

/**
 * A lattice point's cell centre in frame metres: origin + l × unit.
 * @param frame - the frame
 * @param lod - 0..15
 * @returns [x, y, z] in frame metres
 * @throws {OctaError} OUT_OF_RANGE for a coordinate outside 0..2^(L+1) − 1; INVALID_FRAME or INVALID_LOD
 */
export function latticeToFrame(frame: Frame, lod: number, lx: number, ly: number, lz: number): Triple {
  const unit = latticeUnit(frame, lod);
  for (const l of [lx, ly, lz])
    checkInt(l, 0, 2 ** (lod + 1) - 1, 'OUT_OF_RANGE', `lattice coordinate at LOD ${lod}`);
  const [ox, oy, oz] = frame.origin;
  return [ox + lx * unit, oy + ly * unit, oz + lz * unit];
}

/**
 * The Index64 of a point in frame metres, snapped as {@link frameToLattice}, frame id in its frame field.
 * @param frame - the frame
 * @param lod - 0..15
 * @param options - tier: 0..3 (default 0)
 * @returns the unsigned 64-bit id (`BigInt.asIntN(64, id)` is its INT64 column value)
 * @throws {OctaError} OUT_OF_DOMAIN, INVALID_FRAME, INVALID_LOD or INVALID_TIER
 */
export function frameToIndex64(
  frame: Frame,
  lod: number,
  x: number,
  y: number,
  z: number,
  { tier = 0 } = {},
): bigint {
  tileKeyPrefix(INDEX64_HEADER, { frame: frame.id, tier, lod });
  const [lx, ly, lz] = frameToLattice(frame, lod, x, y, z);
  return latticeToIndex64(lx, ly, lz, { frame: frame.id, tier, lod });
}

/**
 * The cell centre of an Index64 in frame metres, at the id's own LOD.
 * @param frame - the frame the id was made in
 * @param id - an Index64, signed or unsigned
 * @returns [x, y, z] in frame metres
 * @throws {OctaError} INVALID_FRAME when the id's frame field is not `frame.id`; INVALID_ID when the
 *   id is not an Index64 or its coordinates lie outside the domain at its LOD
 */
export function index64ToFrame(frame: Frame, id: bigint): Triple {
  checkFrame(frame);
  const f = index64ToLattice(id);
  if (f.frame !== frame.id)
    throw new OctaError('INVALID_FRAME', `id is of frame ${f.frame}, not ${describeFrame(frame)}`, id);
  const m = 2 ** (f.lod + 1) - 1;
  if (f.x > m || f.y > m || f.z > m) {
    throw new OctaError(
      'INVALID_ID',
      `id coordinates (${f.x}, ${f.y}, ${f.z}) exceed 0..${m} at LOD ${f.lod}`,
      id,
    );
  }
  return latticeToFrame(frame, f.lod, f.x, f.y, f.z);
}

/** Options of {@link frameToIndex64Batch}. */
export interface FrameToIndex64BatchOptions {
  frame: Frame;
  /** Level of detail, 0..15. */
  lod: number;
  /** Interleaved x, y, z in frame metres (stride 3). */
  points: Float64Array;
  /** Scale tier, 0..3 (default 0). */
  tier?: number;
  /** Where to write the ids, length ≥ n; allocated when absent. */
  out?: BigInt64Array;
  /** `true` to return the lattice points too, or an Int32Array (length ≥ 3n) to fill; default none. */
  lattice?: boolean | Int32Array;
  /** Where to write the reject codes, length ≥ n; allocated when absent. */
  rejects?: Uint8Array;
}

/** Result of {@link frameToIndex64Batch}; views of length n (3n for `lattice`) over the given arrays. */
export interface FrameToIndex64BatchResult {
  /** Index64 ids as signed INT64, the Parquet column form; 0n (never an Index64) for rejected points. */
  ids: BigInt64Array;
  /** Lattice points (stride 3) when asked for; -1, -1, -1 for rejected points. */
  lattice?: Int32Array;
  /** Per point: 0 when accepted, else REJECT_NON_FINITE or REJECT_OUT_OF_DOMAIN. */
  rejects: Uint8Array;
  /** How many points were rejected. */
  outside: number;
}

function sized<T extends BigInt64Array | Int32Array | Uint8Array>(a: T, n: number, what: string): T {
  if (a.length < n) throw new OctaError('INVALID_ARGUMENT', `${what} array needs length ${n}`, a.length);
  return a.subarray(0, n) as T;
}

/**
 * {@link frameToIndex64} over interleaved points, with no BigInt or object per point. Points outside
 * the domain or not finite do not throw: their id is 0n and `rejects` says why, so the caller can
 * send those rows to its reject file.
 * @param options - frame, lod, points, tier (0), out, lattice (false), rejects
 * @returns ids, reject codes, the rejected count and, when asked, lattice points
 * @throws {OctaError} INVALID_FRAME, INVALID_LOD, INVALID_TIER; INVALID_ARGUMENT for ragged or short arrays
 */
export function frameToIndex64Batch(options: FrameToIndex64BatchOptions): FrameToIndex64BatchResult {
  const { frame, lod, points, tier = 0, out, lattice = false, rejects } = options;
  checkFrame(frame);
  const prefix = tileKeyPrefix(INDEX64_HEADER, { frame: frame.id, tier, lod }) << 16;
  if (points.length % 3 !== 0) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'points must be x, y, z triples (length a multiple of 3)',
      points.length,
    );
  }
  const n = points.length / 3;
  const ids = sized(out ?? new BigInt64Array(n), n, 'out');
  const mask = sized(rejects ?? new Uint8Array(n), n, 'rejects');
  const lat =
    lattice === false
      ? undefined
      : sized(lattice === true ? new Int32Array(3 * n) : lattice, 3 * n, 'lattice');
  const words = new Uint32Array(ids.buffer, ids.byteOffset, 2 * n);
  const [ox, oy, oz] = frame.origin;
  const [hx, hy, hz] = [ox + frame.edge, oy + frame.edge, oz + frame.edge];
  const size = 2 ** (lod + 1);
  const scale = size / frame.edge;
  const inner = size - 1;
  const s = new Int32Array(3);
  let outside = 0;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const x = points[j]!;
    const y = points[j + 1]!;
    const z = points[j + 2]!;
    if (!(x >= ox && x < hx && y >= oy && y < hy && z >= oz && z < hz)) {
      mask[i] =
        Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(z)
          ? REJECT_OUT_OF_DOMAIN
          : REJECT_NON_FINITE;
      words[2 * i] = 0;
      words[2 * i + 1] = 0;
      if (lat) lat.fill(-1, j, j + 3);
      outside++;
      continue;
    }
    mask[i] = 0;
    const u = (x - ox) * scale;
    const v = (y - oy) * scale;
    const w = (z - oz) * scale;
    let lx: number;
    let ly: number;
    let lz: number;
    if (u >= 1 && u < inner && v >= 1 && v < inner && w >= 1 && w < inner) {
      // snapInto unrolled, bit for bit, for points off the faces: for t = u/2 ≥ 0.5, t + 0.5 cannot
      // round up across an integer (it can only below 0.5), so Rust's round(t) is (t + 0.5) | 0; the
      // odd candidate 2 round((u − 1)/2) + 1 is 2 (t | 0) + 1; both stay inside [0, n − 1].
      const tu = u * 0.5;
      const tv = v * 0.5;
      const tw = w * 0.5;
      const ru = tu | 0;
      const rv = tv | 0;
      const rw = tw | 0;
      const ex = 2 * ((tu + 0.5) | 0);
      const ey = 2 * ((tv + 0.5) | 0);
      const ez = 2 * ((tw + 0.5) | 0);
      const de = (u - ex) ** 2 + (v - ey) ** 2 + (w - ez) ** 2;
      const dOdd = (u - 2 * ru - 1) ** 2 + (v - 2 * rv - 1) ** 2 + (w - 2 * rw - 1) ** 2;
      const odd = -+(dOdd < de); // all ones when odd wins; a ternary here compiles to a mispredicted branch
      lx = ex ^ ((ex ^ (2 * ru + 1)) & odd);
      ly = ey ^ ((ey ^ (2 * rv + 1)) & odd);
      lz = ez ^ ((ez ^ (2 * rw + 1)) & odd);
    } else {
      snapDomain(u, v, w, size, s);
      lx = s[0]!;
      ly = s[1]!;
      lz = s[2]!;
    }
    const high24 = mortonHigh24(lx, ly, lz);
    words[2 * i + HI] = prefix | (high24 >>> 8);
    words[2 * i + LO] = ((high24 & 0xff) << 24) | mortonLow24(lx, ly, lz);
    if (lat) {
      lat[j] = lx;
      lat[j + 1] = ly;
      lat[j + 2] = lz;
    }
  }
  return lat ? { ids, lattice: lat, rejects: mask, outside } : { ids, rejects: mask, outside };
}
