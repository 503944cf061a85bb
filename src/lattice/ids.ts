/**
 * Any identifier, whatever its kind: parse text (decimal, 0x hex, Bech32m), tell the kind from the
 * header bits or HRP, decode to fields, and format back.
 */
import { bech32Decode } from './bech32m.js';
import { OctaError } from './errors.js';
import {
  bech32mToGalactic128,
  type Galactic128Fields,
  galactic128ToBech32m,
  galactic128ToLattice,
  HRP_GALACTIC128,
} from './galactic128.js';
import {
  bech32mToIndex64,
  HILBERT64_HEADER,
  HRP_INDEX64,
  hilbert64ToLattice,
  INDEX64_HEADER,
  index64ToBech32m,
  index64ToLattice,
  type TileKeyFields,
  toU64,
} from './index64.js';
import {
  bech32mToRoute64,
  HRP_ROUTE64,
  ROUTE64_HEADER,
  type Route64Fields,
  route64Fields,
  route64ToBech32m,
  route64ToLattice,
} from './route64.js';

/**
 * The identifier kinds that are tile keys (header, frame, LOD and a lattice point on one curve): what
 * a lake table's cells, a point file's `cell` column and a range cover are.
 */
export type TileIdKind = 'index64' | 'hilbert64';
/** The tile-key kinds, in a stable order. */
export const TILE_ID_KINDS: readonly TileIdKind[] = ['index64', 'hilbert64'];
/** The identifier kinds of octaindex3d. */
export type IdKind = TileIdKind | 'route64' | 'galactic128';
/** All identifier kinds, in a stable order. */
export const ID_KINDS: readonly IdKind[] = ['index64', 'hilbert64', 'route64', 'galactic128'];

/** A parsed identifier: its kind and raw unsigned value. */
export interface ParsedId {
  kind: IdKind;
  value: bigint;
}

/** A decoded identifier of any kind. */
export type DecodedId =
  | ({ kind: TileIdKind } & TileKeyFields)
  | ({ kind: 'route64' } & Route64Fields)
  | ({ kind: 'galactic128' } & Galactic128Fields);

const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;

/**
 * The kind of a raw value: values above 64 bits are Galactic128, otherwise the header bits decide.
 * @throws {OctaError} INVALID_ID for a 64-bit value with header `00` or a value out of range
 */
export function idKindOf(value: bigint): IdKind {
  if (value < 0n) return idKindOf(toU64(value));
  if (value > U128_MAX) throw new OctaError('INVALID_ID', 'identifier wider than 128 bits', value);
  if (value > U64_MAX) return 'galactic128';
  switch (Number(value >> 62n)) {
    case INDEX64_HEADER:
      return 'index64';
    case HILBERT64_HEADER:
      return 'hilbert64';
    case ROUTE64_HEADER:
      return 'route64';
    default:
      throw new OctaError(
        'INVALID_ID',
        'header bits 00 name no 64-bit id kind (Index64 is 10, Hilbert64 11, Route64 01)',
        value,
      );
  }
}

/**
 * Parses identifier text: a decimal (unsigned or signed INT64 form), `0x` hex, or Bech32m
 * (`i3d1…`, `r3d1…`, `g3d1…`, checked exactly as the crate checks them).
 * @throws {OctaError} INVALID_ID or INVALID_BECH32 naming the text
 */
export function parseId(text: string): ParsedId {
  const t = text.trim();
  if (/^-?[0-9]+$/.test(t) || /^0[xX][0-9a-fA-F]+$/.test(t)) {
    let value = BigInt(t);
    if (value < 0n) {
      if (value < -(1n << 63n)) throw new OctaError('INVALID_ID', 'negative id below the INT64 range', text);
      value = toU64(value);
    }
    const kind = idKindOf(value);
    // A raw Route64 is validated as the crate's Route64::from_value does (header and parity).
    if (kind === 'route64') route64ToLattice(value);
    return { kind, value };
  }
  if (t.includes('1')) {
    const hrp = t.slice(0, t.lastIndexOf('1'));
    if (hrp === HRP_INDEX64) return { kind: 'index64', value: bech32mToIndex64(t) };
    if (hrp === HRP_ROUTE64) return { kind: 'route64', value: bech32mToRoute64(t) };
    if (hrp === HRP_GALACTIC128) return { kind: 'galactic128', value: bech32mToGalactic128(t) };
    // Validate the string itself first, so a broken checksum is reported before the HRP.
    const d = bech32Decode(t);
    throw new OctaError(
      'INVALID_BECH32',
      `unknown HRP ${JSON.stringify(d.hrp)}: expected ${HRP_INDEX64}, ${HRP_ROUTE64} or ${HRP_GALACTIC128} (lowercase)`,
      text,
    );
  }
  throw new OctaError('INVALID_ID', 'not an identifier: expected decimal, 0x hex or Bech32m text', text);
}

/**
 * Decodes a raw value of a known kind into its fields.
 * @throws {OctaError} as the kind's decoder does
 */
export function decodeId({ kind, value }: ParsedId): DecodedId {
  switch (kind) {
    case 'index64':
      return { kind, ...index64ToLattice(value) };
    case 'hilbert64':
      return { kind, ...hilbert64ToLattice(value) };
    case 'route64':
      // Bech32m Route64 text is not parity-checked by the crate; its fields are still readable.
      return { kind, ...route64Fields(value) };
    case 'galactic128':
      return { kind, ...galactic128ToLattice(value) };
  }
}

/**
 * The Bech32m text of an id, or null for Hilbert64, which has no text form in the crate.
 */
export function idToBech32m({ kind, value }: ParsedId): string | null {
  switch (kind) {
    case 'index64':
      return index64ToBech32m(value);
    case 'route64':
      return route64ToBech32m(value);
    case 'galactic128':
      return galactic128ToBech32m(value);
    case 'hilbert64':
      return null;
  }
}

/** Lowercase `0x` hex of an id, zero-padded to its width (16 or 32 digits). */
export function idToHex({ kind, value }: ParsedId): string {
  return `0x${value.toString(16).padStart(kind === 'galactic128' ? 32 : 16, '0')}`;
}
