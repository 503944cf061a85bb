/**
 * Route64: `01` | tier:2 | x:20 | y:20 | z:20, coordinates in two's complement, BCC parity checked.
 */
import { bech32Encode } from './bech32m.js';
import { checkInt, OctaError } from './errors.js';
import { expectHrp, toU64, u64ToBytes } from './index64.js';

/** Bech32m human-readable part of Route64 text. */
export const HRP_ROUTE64 = 'r3d1';
/** Header bits (63..62) of a Route64. */
export const ROUTE64_HEADER = 0b01;
const COORD_MIN = -(1 << 19);
const COORD_MAX = (1 << 19) - 1;

/** The fields of a decoded Route64. */
export interface Route64Fields {
  tier: number;
  x: number;
  y: number;
  z: number;
}

/**
 * Checks BCC parity: all three coordinates even, or all three odd.
 * @throws {OctaError} INVALID_PARITY naming the point
 */
export function checkParity(x: number, y: number, z: number): void {
  const p = x & 1;
  if ((y & 1) !== p || (z & 1) !== p) {
    throw new OctaError(
      'INVALID_PARITY',
      'not a BCC lattice point: coordinates must be all even or all odd',
      [x, y, z],
    );
  }
}

/**
 * Encodes a BCC lattice point as a Route64.
 * @param x - -524288..524287
 * @param y - -524288..524287
 * @param z - -524288..524287
 * @param options - tier (0)
 * @throws {OctaError} INVALID_PARITY, INVALID_TIER or OUT_OF_RANGE
 */
export function latticeToRoute64(
  x: number,
  y: number,
  z: number,
  { tier = 0 }: { tier?: number } = {},
): bigint {
  checkInt(x, -(2 ** 31), 2 ** 31 - 1, 'OUT_OF_RANGE', 'Route64 x');
  checkInt(y, -(2 ** 31), 2 ** 31 - 1, 'OUT_OF_RANGE', 'Route64 y');
  checkInt(z, -(2 ** 31), 2 ** 31 - 1, 'OUT_OF_RANGE', 'Route64 z');
  checkParity(x, y, z);
  checkInt(tier, 0, 3, 'INVALID_TIER', 'tier');
  checkInt(x, COORD_MIN, COORD_MAX, 'OUT_OF_RANGE', 'Route64 x (20-bit signed)');
  checkInt(y, COORD_MIN, COORD_MAX, 'OUT_OF_RANGE', 'Route64 y (20-bit signed)');
  checkInt(z, COORD_MIN, COORD_MAX, 'OUT_OF_RANGE', 'Route64 z (20-bit signed)');
  const hi = ((ROUTE64_HEADER << 30) | (tier << 28) | ((x & 0xfffff) << 8) | ((y & 0xfffff) >>> 12)) >>> 0;
  const lo = (((y & 0xfff) << 20) | (z & 0xfffff)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function signed20(v: number): number {
  return (v << 12) >> 12;
}

/**
 * Decodes a Route64, validating header and parity as the crate's `Route64::from_value`.
 * @throws {OctaError} INVALID_ID for a wrong header, INVALID_PARITY for a non-BCC point
 */
export function route64ToLattice(id: bigint): Route64Fields {
  const u = toU64(id);
  if (Number(u >> 62n) !== ROUTE64_HEADER) {
    throw new OctaError('INVALID_ID', 'not a Route64 id (header bits must be 01)', u);
  }
  const f = route64Fields(u);
  checkParity(f.x, f.y, f.z);
  return f;
}

/** Reads the Route64 fields without validation (the crate's accessors). */
export function route64Fields(id: bigint): Route64Fields {
  const u = toU64(id);
  const hi = Number(u >> 32n);
  const lo = Number(u & 0xffffffffn);
  return {
    tier: (hi >>> 28) & 3,
    x: signed20((hi >>> 8) & 0xfffff),
    y: signed20(((hi & 0xff) << 12) | (lo >>> 20)),
    z: signed20(lo & 0xfffff),
  };
}

/** Text form of a Route64: Bech32m with HRP `r3d1`. */
export function route64ToBech32m(id: bigint): string {
  return bech32Encode(HRP_ROUTE64, u64ToBytes(id));
}

/**
 * Reads `r3d1…` text as the crate's `Route64::from_bech32m` (checksum, HRP, length; no parity check).
 * @throws {OctaError} INVALID_BECH32 naming the text
 */
export function bech32mToRoute64(text: string): bigint {
  return expectHrp(text, HRP_ROUTE64, 8);
}
