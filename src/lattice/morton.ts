/**
 * 48-bit Morton codes (16 bits per axis) computed as two 24-bit halves in plain 32-bit integer
 * arithmetic, so hot loops never touch BigInt. Digit layout follows octaindex3d: in each 3-bit
 * digit x is bit 0, y bit 1, z bit 2, most significant digit first.
 */

/** SPREAD[b] places the 8 bits of b at every third bit of a 24-bit word (bit i → bit 3i). */
export const SPREAD = /* @__PURE__ */ (() => {
  const t = new Uint32Array(256);
  for (let b = 0; b < 256; b++) {
    let v = 0;
    for (let i = 0; i < 8; i++) v |= ((b >> i) & 1) << (3 * i);
    t[b] = v;
  }
  return t;
})();

/** Gathers every third bit of a 24-bit word (bits 0, 3, ..., 21) into 8 bits. */
export function compact24(v: number): number {
  v &= 0x249249;
  v = (v ^ (v >>> 2)) & 0x0c30c3;
  v = (v ^ (v >>> 4)) & 0x00f00f;
  v = (v ^ (v >>> 8)) & 0x0000ff;
  return v;
}

/** Low 24 Morton bits of (x, y, z): the low 8 bits of each axis interleaved. */
export function mortonLow24(x: number, y: number, z: number): number {
  return SPREAD[x & 255]! | (SPREAD[y & 255]! << 1) | (SPREAD[z & 255]! << 2);
}

/** High 24 Morton bits of (x, y, z): bits 8..15 of each axis interleaved. */
export function mortonHigh24(x: number, y: number, z: number): number {
  return SPREAD[(x >>> 8) & 255]! | (SPREAD[(y >>> 8) & 255]! << 1) | (SPREAD[(z >>> 8) & 255]! << 2);
}

/** Mask of bits 0 and 1 of every 3-bit digit in a 24-bit word. */
const LOW_TWO = 0x6db6db;
/** Mask of bit 0 of every 3-bit digit in a 24-bit word. */
const LOW_ONE = 0x249249;

/**
 * The crate's per-digit Gray code over eight 3-bit digits at once: each digit d becomes
 * d ^ (d >> 1). This is not a Hilbert curve; octaindex3d's Hilbert64 uses it, so we do too.
 */
export function grayDigits24(d: number): number {
  return d ^ ((d >>> 1) & LOW_TWO);
}

/** Inverse of {@link grayDigits24}. */
export function ungrayDigits24(g: number): number {
  return g ^ ((g >>> 1) & LOW_TWO) ^ ((g >>> 2) & LOW_ONE);
}

/**
 * 48-bit Morton code of (x, y, z) as a bigint (scalar paths only).
 * @param x - 0..65535
 * @param y - 0..65535
 * @param z - 0..65535
 * @returns the Morton code, bit 0 = x bit 0
 */
export function mortonEncode48(x: number, y: number, z: number): bigint {
  return (BigInt(mortonHigh24(x, y, z)) << 24n) | BigInt(mortonLow24(x, y, z));
}

/**
 * Inverse of {@link mortonEncode48}.
 * @param m - a 48-bit Morton code
 * @returns [x, y, z]
 */
export function mortonDecode48(m: bigint): [number, number, number] {
  const lo = Number(m & 0xffffffn);
  const hi = Number((m >> 24n) & 0xffffffn);
  return [
    compact24(lo) | (compact24(hi) << 8),
    compact24(lo >>> 1) | (compact24(hi >>> 1) << 8),
    compact24(lo >>> 2) | (compact24(hi >>> 2) << 8),
  ];
}
