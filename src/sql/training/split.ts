/**
 * Spatial block splits of a training set: each block (a tile at the split LOD) goes to train,
 * validation or test by a seeded hash of its id, and a buffer drops blocks that lie too close to a
 * block of another split (docs/TRAINING.md "Splits").
 */
import { OctaError } from '../../lattice/errors.js';

/** Split codes of {@link assignBlocks}: 0 train, 1 validation, 2 test, −1 dropped by the buffer. */
export const DROPPED = -1;

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = (1n << 64n) - 1n;

/**
 * A block's seeded hash in [0, 1): 64-bit FNV-1a over the block id's 8 bytes then the seed's
 * 8 bytes (both little-endian, two's complement), its top 53 bits divided by 2^53.
 * @param block - the block id (signed or unsigned form of the same 64 bits)
 * @param seed - any integer; only its low 64 bits count
 * @returns a number in [0, 1)
 */
export function blockToUnit(block: bigint, seed: bigint): number {
  let h = FNV_OFFSET;
  for (const word of [BigInt.asUintN(64, block), BigInt.asUintN(64, seed)]) {
    for (let i = 0n; i < 64n; i += 8n) {
      h ^= (word >> i) & 0xffn;
      h = (h * FNV_PRIME) & MASK64;
    }
  }
  return Number(h >> 11n) / 2 ** 53;
}

/** Options of {@link assignBlocks}. */
export interface AssignBlocksOptions {
  /** Block ids (INT64 form), one per block, distinct. */
  blocks: BigInt64Array;
  /** Block coordinates on the block grid, [bx, by, bz] per block. */
  coords: Int32Array;
  /** Normalised train, validation, test ratios (see `checkRatios`). */
  ratios: readonly [number, number, number];
  seed: bigint;
  /** Chebyshev distance on the block grid that must separate kept blocks of different splits (default 0). */
  buffer?: number;
}

/**
 * Assigns each block a split. With u = {@link blockToUnit}(block, seed): train when u < r0,
 * validation when u < r0 + r1, else test. With a buffer b > 0 a block is dropped when a block of
 * a later split (validation after train, test after both) lies within Chebyshev distance b on the
 * block grid: test blocks are always kept, and kept blocks of different splits are more than b apart.
 * @param options - blocks, their coordinates, ratios, seed, buffer
 * @returns one code per block: 0, 1, 2 or {@link DROPPED}
 * @throws {OctaError} INVALID_ARGUMENT for a negative or non-integer buffer
 */
export function assignBlocks({ blocks, coords, ratios, seed, buffer = 0 }: AssignBlocksOptions): Int8Array {
  if (!Number.isInteger(buffer) || buffer < 0 || buffer > 8) {
    throw new OctaError('INVALID_ARGUMENT', 'buffer must be an integer 0..8 (blocks)', buffer);
  }
  const n = blocks.length;
  const split = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    const u = blockToUnit(blocks[i]!, seed);
    split[i] = u < ratios[0] ? 0 : u < ratios[0] + ratios[1] ? 1 : 2;
  }
  if (buffer === 0) return split;
  // Block coordinates are 0..65535 and the buffer at most 8: (x + 16, y + 16, z + 16) packs in 51 bits.
  const key = (x: number, y: number, z: number) => ((x + 16) * 2 ** 17 + (y + 16)) * 2 ** 17 + (z + 16);
  const at = new Map<number, number>();
  for (let i = 0; i < n; i++) at.set(key(coords[3 * i]!, coords[3 * i + 1]!, coords[3 * i + 2]!), split[i]!);
  const out = Int8Array.from(split);
  for (let i = 0; i < n; i++) {
    const s = split[i]!;
    if (s === 2) continue;
    const x = coords[3 * i]!;
    const y = coords[3 * i + 1]!;
    const z = coords[3 * i + 2]!;
    search: for (let dx = -buffer; dx <= buffer; dx++) {
      for (let dy = -buffer; dy <= buffer; dy++) {
        for (let dz = -buffer; dz <= buffer; dz++) {
          const other = at.get(key(x + dx, y + dy, z + dz));
          if (other !== undefined && other > s) {
            out[i] = DROPPED;
            break search;
          }
        }
      }
    }
  }
  return out;
}
