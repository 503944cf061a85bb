/**
 * Index64 and Hilbert64: octaindex3d's 64-bit tile keys.
 *
 * Index64   = `10` | tier:2 | frame:8 | lod:4 | Morton48
 * Hilbert64 = `11` | tier:2 | frame:8 | lod:4 | per-digit Gray code of the Morton digits
 *
 * Ids are unsigned 64-bit values in bigint form. Negative bigints (the INT64 form stored in Parquet
 * and SQL) are accepted and read as the same 64 bits.
 */
import { bech32Decode, bech32Encode } from './bech32m.js';
import { checkInt, OctaError } from './errors.js';
import { compact24, grayDigits24, mortonHigh24, mortonLow24, ungrayDigits24 } from './morton.js';

/** Bech32m human-readable part of Index64 text. */
export const HRP_INDEX64 = 'i3d1';
/** Header bits (63..62) of an Index64. */
export const INDEX64_HEADER = 0b10;
/** Header bits (63..62) of a Hilbert64. */
export const HILBERT64_HEADER = 0b11;
const MASK48 = 0xffffffffffffn;
const MASK52 = 0xfffffffffffffn;

/** Where a tile key sits: frame, tier and LOD, with default values as the crate's `utils encode`. */
export interface TileKeyOptions {
  /** Frame id, 0..255. */
  frame?: number;
  /** Scale tier, 0..3. */
  tier?: number;
  /** Level of detail, 0..15. */
  lod?: number;
}

/** The fields of a decoded Index64 or Hilbert64. */
export interface TileKeyFields {
  frame: number;
  tier: number;
  lod: number;
  x: number;
  y: number;
  z: number;
}

/** Reads a 64-bit id from a bigint in either signed (INT64) or unsigned form. */
export function toU64(id: bigint): bigint {
  return BigInt.asUintN(64, id);
}

/** The same 64 bits as a signed INT64, the form stored in Parquet and SQL. */
export function toI64(id: bigint): bigint {
  return BigInt.asIntN(64, id);
}

/** The header bits (63..62) of a 64-bit id. */
export function headerOf(id: bigint): number {
  return Number(toU64(id) >> 62n);
}

/** Validates tile-key options; returns the high 16 bits (header, tier, frame, lod) of the key. */
export function tileKeyPrefix(header: number, { frame = 0, tier = 0, lod = 5 }: TileKeyOptions): number {
  checkInt(frame, 0, 255, 'INVALID_FRAME', 'frame');
  checkInt(tier, 0, 3, 'INVALID_TIER', 'tier');
  checkInt(lod, 0, 15, 'INVALID_LOD', 'LOD');
  return ((header << 14) | (tier << 12) | (frame << 4) | lod) >>> 0;
}

function checkAxis(v: number, axis: string): void {
  checkInt(v, 0, 65535, 'OUT_OF_RANGE', `Index64 ${axis} coordinate`);
}

function join(prefix16: number, high24: number, low24: number): bigint {
  const hi32 = ((prefix16 << 16) | (high24 >>> 8)) >>> 0;
  const lo32 = (((high24 & 0xff) << 24) | low24) >>> 0;
  return (BigInt(hi32) << 32n) | BigInt(lo32);
}

/**
 * Encodes lattice coordinates as an Index64 (no parity check: the crate accepts any 16-bit triple).
 * @param x - 0..65535
 * @param y - 0..65535
 * @param z - 0..65535
 * @param options - frame (0), tier (0), LOD (5)
 * @returns the unsigned 64-bit id
 * @throws {OctaError} OUT_OF_RANGE, INVALID_FRAME, INVALID_TIER or INVALID_LOD
 */
export function latticeToIndex64(x: number, y: number, z: number, options: TileKeyOptions = {}): bigint {
  const prefix = tileKeyPrefix(INDEX64_HEADER, options);
  checkAxis(x, 'x');
  checkAxis(y, 'y');
  checkAxis(z, 'z');
  return join(prefix, mortonHigh24(x, y, z), mortonLow24(x, y, z));
}

/**
 * Encodes lattice coordinates as a Hilbert64 (the crate's per-digit Gray code of the Morton digits).
 * @param x - 0..65535
 * @param y - 0..65535
 * @param z - 0..65535
 * @param options - frame (0), tier (0), LOD (5)
 * @returns the unsigned 64-bit id
 * @throws {OctaError} OUT_OF_RANGE, INVALID_FRAME, INVALID_TIER or INVALID_LOD
 */
export function latticeToHilbert64(x: number, y: number, z: number, options: TileKeyOptions = {}): bigint {
  const prefix = tileKeyPrefix(HILBERT64_HEADER, options);
  checkAxis(x, 'x');
  checkAxis(y, 'y');
  checkAxis(z, 'z');
  return join(prefix, grayDigits24(mortonHigh24(x, y, z)), grayDigits24(mortonLow24(x, y, z)));
}

function requireHeader(id: bigint, header: number, kind: string): bigint {
  const u = toU64(id);
  if (Number(u >> 62n) !== header) {
    throw new OctaError('INVALID_ID', `not a ${kind} id (header bits must be ${header.toString(2)})`, u);
  }
  return u;
}

function fields(u: bigint, gray: boolean): TileKeyFields {
  let lo = Number(u & 0xffffffn);
  let hi = Number((u >> 24n) & 0xffffffn);
  if (gray) {
    lo = ungrayDigits24(lo);
    hi = ungrayDigits24(hi);
  }
  const top = Number(u >> 48n);
  return {
    frame: (top >>> 4) & 0xff,
    tier: (top >>> 12) & 3,
    lod: top & 0xf,
    x: compact24(lo) | (compact24(hi) << 8),
    y: compact24(lo >>> 1) | (compact24(hi >>> 1) << 8),
    z: compact24(lo >>> 2) | (compact24(hi >>> 2) << 8),
  };
}

/**
 * Decodes an Index64.
 * @param id - the id (signed or unsigned form)
 * @returns frame, tier, LOD and lattice coordinates
 * @throws {OctaError} INVALID_ID when the header bits are not `10`
 */
export function index64ToLattice(id: bigint): TileKeyFields {
  return fields(requireHeader(id, INDEX64_HEADER, 'Index64'), false);
}

/**
 * Decodes a Hilbert64.
 * @param id - the id (signed or unsigned form)
 * @returns frame, tier, LOD and lattice coordinates
 * @throws {OctaError} INVALID_ID when the header bits are not `11`
 */
export function hilbert64ToLattice(id: bigint): TileKeyFields {
  return fields(requireHeader(id, HILBERT64_HEADER, 'Hilbert64'), true);
}

/** Whether the id carries the Index64 header. */
export function isIndex64(id: bigint): boolean {
  return headerOf(id) === INDEX64_HEADER;
}

/** Whether the id carries the Hilbert64 header. */
export function isHilbert64(id: bigint): boolean {
  return headerOf(id) === HILBERT64_HEADER;
}

function regray(u: bigint, toGray: boolean, header: number): bigint {
  const f = toGray ? grayDigits24 : ungrayDigits24;
  const lo = f(Number(u & 0xffffffn));
  const hi = f(Number((u >> 24n) & 0xffffffn));
  const top = (BigInt(header) << 62n) | (u & (0x3fffn << 48n));
  return top | (BigInt(hi) << 24n) | BigInt(lo);
}

/**
 * Converts an Index64 to the Hilbert64 of the same cell.
 * @throws {OctaError} INVALID_ID when `id` is not an Index64
 */
export function index64ToHilbert64(id: bigint): bigint {
  return regray(requireHeader(id, INDEX64_HEADER, 'Index64'), true, HILBERT64_HEADER);
}

/**
 * Converts a Hilbert64 to the Index64 of the same cell.
 * @throws {OctaError} INVALID_ID when `id` is not a Hilbert64
 */
export function hilbert64ToIndex64(id: bigint): bigint {
  return regray(requireHeader(id, HILBERT64_HEADER, 'Hilbert64'), false, INDEX64_HEADER);
}

function tileParent(u: bigint): bigint | null {
  const lod = Number((u >> 48n) & 0xfn);
  if (lod === 0) return null;
  return (u & ~MASK52) | (BigInt(lod - 1) << 48n) | ((u & MASK48) >> 3n);
}

function tileChildren(u: bigint): bigint[] {
  const lod = Number((u >> 48n) & 0xfn);
  if (lod >= 15) return [];
  const base = (u & ~MASK52) | (BigInt(lod + 1) << 48n);
  const shifted = ((u & MASK48) << 3n) & MASK48;
  const out: bigint[] = [];
  for (let i = 0n; i < 8n; i++) out.push(base | shifted | i);
  return out;
}

/**
 * The id-level parent: the cubic tile one LOD coarser (Morton code >> 3, LOD - 1), as the crate's
 * `Index64::parent`. Not the BCC lattice parent ({@link latticeToParent}).
 * @param id - an Index64 or Hilbert64
 * @returns the parent id of the same kind, or null at LOD 0
 * @throws {OctaError} INVALID_ID when `id` is neither kind
 */
export function tileToParent(id: bigint): bigint | null {
  const u = toU64(id);
  if (u >> 63n !== 1n) throw new OctaError('INVALID_ID', 'not an Index64 or Hilbert64 id', u);
  return tileParent(u);
}

/**
 * The id-level children: the 8 tiles one LOD finer (Morton code << 3 | i), in the crate's order.
 * Like the crate, the top digit falls off when the id's coordinates exceed its LOD's extent.
 * @param id - an Index64 or Hilbert64
 * @returns 8 ids of the same kind, or none at LOD 15
 * @throws {OctaError} INVALID_ID when `id` is neither kind
 */
export function tileToChildren(id: bigint): bigint[] {
  const u = toU64(id);
  if (u >> 63n !== 1n) throw new OctaError('INVALID_ID', 'not an Index64 or Hilbert64 id', u);
  return tileChildren(u);
}

/** Big-endian bytes of a 64-bit id. */
export function u64ToBytes(u: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, toU64(u));
  return bytes;
}

/**
 * Text form of an Index64: Bech32m of its big-endian bytes with HRP `i3d1`.
 * @throws {OctaError} INVALID_ID when `id` is not an Index64
 */
export function index64ToBech32m(id: bigint): string {
  return bech32Encode(HRP_INDEX64, u64ToBytes(requireHeader(id, INDEX64_HEADER, 'Index64')));
}

/**
 * Reads `i3d1…` text exactly as the crate's `Index64::from_bech32m` does: checksum, HRP (case
 * sensitive) and length are checked; the header bits are not.
 * @throws {OctaError} INVALID_BECH32 naming the text
 */
export function bech32mToIndex64(text: string): bigint {
  return expectHrp(text, HRP_INDEX64, 8);
}

/** Decodes text and checks its HRP and payload length as the crate does; returns the raw value. */
export function expectHrp(text: string, hrp: string, length: number): bigint {
  const d = bech32Decode(text);
  if (d.hrp !== hrp) {
    throw new OctaError('INVALID_BECH32', `wrong HRP: expected ${hrp}, got ${d.hrp}`, text);
  }
  if (d.bytes.length !== length) {
    throw new OctaError(
      'INVALID_BECH32',
      `wrong length: expected ${length} bytes, got ${d.bytes.length}`,
      text,
    );
  }
  let v = 0n;
  for (const b of d.bytes) v = (v << 8n) | BigInt(b);
  return v;
}
