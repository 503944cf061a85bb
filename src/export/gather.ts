/**
 * The one typed-array gather: the values at a list of row indices, copied in that order. Values move
 * as raw bytes or 32-bit words, never through a float64 or bigint register: a 64-bit id can have a
 * NaN bit pattern when viewed as a double, and a per-row BigInt is slow.
 */

/** Any typed array a fixed-width column holds. */
export type FixedArray = Float64Array | Int32Array | BigInt64Array | Uint8Array;
/** Row indices for a gather: a permutation or any subset, in output order. */
export type RowIndices = Uint32Array | Int32Array | readonly number[];

/**
 * Copies `src[indices[i]]` to `dst[i]` for `i < count`; both arrays have the same element width.
 * Eight-byte values move as two 32-bit words, so every bit of an id, a time or a double survives.
 */
export function gatherInto<T extends FixedArray>(dst: T, src: T, indices: RowIndices, count: number): void {
  if (src.BYTES_PER_ELEMENT === 8) {
    const from = new Uint32Array(src.buffer, src.byteOffset, 2 * src.length);
    const to = new Uint32Array(dst.buffer, dst.byteOffset, 2 * dst.length);
    for (let i = 0; i < count; i++) {
      const j = 2 * indices[i]!;
      to[2 * i] = from[j]!;
      to[2 * i + 1] = from[j + 1]!;
    }
  } else {
    const from = src as Int32Array | Uint8Array;
    const to = dst as Int32Array | Uint8Array;
    for (let i = 0; i < count; i++) to[i] = from[indices[i]!]!;
  }
}

/** A new array of the same type holding `a[indices[i]]` for `i < count` (default: every index). */
export function gather<T extends FixedArray>(a: T, indices: RowIndices, count = indices.length): T {
  const out = new (a.constructor as new (n: number) => T)(count);
  gatherInto(out, a, indices, count);
  return out;
}
