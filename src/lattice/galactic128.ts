/**
 * Galactic128: mant:8 | tier:2 | lod:6 | frame:8 | version nibble (= 1) | attr:4 | x:32 | y:32 | z:32.
 */
import { bech32Encode } from './bech32m.js';
import { checkInt, OctaError } from './errors.js';
import { expectHrp } from './index64.js';
import { checkParity } from './route64.js';

/** Bech32m human-readable part of Galactic128 text. */
export const HRP_GALACTIC128 = 'g3d1';
const MASK128 = (1n << 128n) - 1n;

/** Options of a Galactic128 beside its coordinates. */
export interface Galactic128Options {
  frame?: number;
  scaleMant?: number;
  tier?: number;
  lod?: number;
  attrUsr?: number;
}

/** The fields of a decoded Galactic128. */
export interface Galactic128Fields {
  frame: number;
  scaleMant: number;
  tier: number;
  lod: number;
  /** The internal attribute nibble; the crate writes 1 (its version). */
  version: number;
  attrUsr: number;
  x: number;
  y: number;
  z: number;
}

/**
 * Encodes a BCC lattice point as a Galactic128.
 * The crate masks `attr_usr` to 4 bits silently; we reject values above 15 instead of losing bits.
 * @param x - signed 32-bit
 * @param y - signed 32-bit
 * @param z - signed 32-bit
 * @param options - frame (0), scaleMant (0), tier (0), lod (0..63, default 0), attrUsr (0..15, default 0)
 * @throws {OctaError} INVALID_PARITY, INVALID_TIER, INVALID_LOD, INVALID_FRAME, OUT_OF_RANGE, INVALID_ARGUMENT
 */
export function latticeToGalactic128(
  x: number,
  y: number,
  z: number,
  { frame = 0, scaleMant = 0, tier = 0, lod = 0, attrUsr = 0 }: Galactic128Options = {},
): bigint {
  for (const [v, axis] of [
    [x, 'x'],
    [y, 'y'],
    [z, 'z'],
  ] as const) {
    checkInt(v, -(2 ** 31), 2 ** 31 - 1, 'OUT_OF_RANGE', `Galactic128 ${axis} (32-bit signed)`);
  }
  checkParity(x, y, z);
  checkInt(tier, 0, 3, 'INVALID_TIER', 'scale tier');
  checkInt(lod, 0, 63, 'INVALID_LOD', 'Galactic128 LOD');
  checkInt(frame, 0, 255, 'INVALID_FRAME', 'frame');
  checkInt(scaleMant, 0, 255, 'INVALID_ARGUMENT', 'scale mantissa');
  checkInt(attrUsr, 0, 15, 'INVALID_ARGUMENT', 'user attribute nibble');
  const head = (scaleMant << 24) | (tier << 22) | (lod << 16) | (frame << 8) | (1 << 4) | attrUsr;
  return (BigInt(head >>> 0) << 96n) | (BigInt(x >>> 0) << 64n) | (BigInt(y >>> 0) << 32n) | BigInt(z >>> 0);
}

/**
 * Decodes a Galactic128 (the crate's accessors; no validation beyond the 128-bit range).
 * @throws {OctaError} INVALID_ID when the value does not fit 128 bits
 */
export function galactic128ToLattice(id: bigint): Galactic128Fields {
  if (id < 0n || id > MASK128) throw new OctaError('INVALID_ID', 'not a 128-bit Galactic128 value', id);
  const head = Number(id >> 96n);
  return {
    scaleMant: head >>> 24,
    tier: (head >>> 22) & 3,
    lod: (head >>> 16) & 0x3f,
    frame: (head >>> 8) & 0xff,
    version: (head >>> 4) & 0xf,
    attrUsr: head & 0xf,
    x: Number((id >> 64n) & 0xffffffffn) | 0,
    y: Number((id >> 32n) & 0xffffffffn) | 0,
    z: Number(id & 0xffffffffn) | 0,
  };
}

/** Text form of a Galactic128: Bech32m of its 16 big-endian bytes with HRP `g3d1`. */
export function galactic128ToBech32m(id: bigint): string {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, (id >> 64n) & 0xffffffffffffffffn);
  view.setBigUint64(8, id & 0xffffffffffffffffn);
  return bech32Encode(HRP_GALACTIC128, bytes);
}

/**
 * Reads `g3d1…` text as the crate's `Galactic128::from_bech32m` (checksum, HRP, length).
 * @throws {OctaError} INVALID_BECH32 naming the text
 */
export function bech32mToGalactic128(text: string): bigint {
  return expectHrp(text, HRP_GALACTIC128, 16);
}
