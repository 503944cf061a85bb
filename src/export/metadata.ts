/**
 * The `octa.*` footer keys of a point file: what a reader (or the catalog, rebuilding itself from
 * files) needs to know without scanning rows. Every value is a string, as Parquet key/value
 * metadata requires; ids and row counts are decimal so no reader has to agree on 64-bit JSON.
 */
import { checkInt, OctaError } from '../lattice/errors.js';
import { TILE_ID_KINDS, type TileIdKind } from '../lattice/ids.js';
import { isoToMicros, microsToIso } from './event-time.js';

/** The footer keys, by field. */
export const OCTA_KEYS = Object.freeze({
  schemaVersion: 'octa.schema_version',
  frame: 'octa.frame',
  lod: 'octa.lod',
  idKind: 'octa.id_kind',
  cellMin: 'octa.cell_min',
  cellMax: 'octa.cell_max',
  timeMin: 'octa.time_min',
  timeMax: 'octa.time_max',
  rows: 'octa.rows',
} as const);

/** What a writer states about a file; the rest is measured from its rows. */
export interface PointFileDescriptor {
  /** The frame definition, persisted as JSON (a plain object). */
  frame: Readonly<Record<string, unknown>>;
  /** Level of detail of every cell id, 0–15. */
  lod: number;
  idKind: TileIdKind;
}

/** Everything the `octa.*` keys say about a file. */
export interface PointFileMetadata extends PointFileDescriptor {
  schemaVersion: number;
  rows: number;
  /** Cell range, signed INT64 form. */
  cellMin: bigint;
  cellMax: bigint;
  /** Time range, microseconds since the epoch. */
  timeMin: bigint;
  timeMax: bigint;
}

/**
 * Checks what a writer states about a file.
 * @throws {OctaError} INVALID_LOD, or INVALID_ARGUMENT for an unknown id kind or a frame that is not
 *   a JSON object
 */
export function checkPointFileDescriptor({ frame, lod, idKind }: PointFileDescriptor): void {
  checkInt(lod, 0, 15, 'INVALID_LOD', 'LOD');
  if (!TILE_ID_KINDS.includes(idKind)) {
    throw new OctaError('INVALID_ARGUMENT', 'point files hold index64 or hilbert64 cell ids', idKind);
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
    throw new OctaError('INVALID_ARGUMENT', 'frame must be a plain object (it is stored as JSON)', frame);
  }
}

/**
 * The `octa.*` key/value pairs of a file.
 * @param meta - the file's metadata
 * @returns keys in `OCTA_KEYS` order with string values
 * @throws {OctaError} as `checkPointFileDescriptor`, or INVALID_ARGUMENT for a frame JSON cannot hold
 */
export function pointFileMetadataToKeyValues(meta: PointFileMetadata): Record<string, string> {
  checkPointFileDescriptor(meta);
  let frame: string;
  try {
    frame = JSON.stringify(meta.frame);
  } catch (cause) {
    throw new OctaError('INVALID_ARGUMENT', `frame cannot be stored as JSON: ${String(cause)}`);
  }
  return {
    [OCTA_KEYS.schemaVersion]: String(meta.schemaVersion),
    [OCTA_KEYS.frame]: frame,
    [OCTA_KEYS.lod]: String(meta.lod),
    [OCTA_KEYS.idKind]: meta.idKind,
    [OCTA_KEYS.cellMin]: meta.cellMin.toString(),
    [OCTA_KEYS.cellMax]: meta.cellMax.toString(),
    [OCTA_KEYS.timeMin]: microsToIso(meta.timeMin),
    [OCTA_KEYS.timeMax]: microsToIso(meta.timeMax),
    [OCTA_KEYS.rows]: String(meta.rows),
  };
}

const DECIMAL = /^-?\d+$/;

/**
 * Reads the `octa.*` keys of a file's footer.
 * @param kv - the footer's key/value metadata (other keys are ignored)
 * @returns the metadata
 * @throws {OctaError} CORRUPT when a key is missing or malformed: the file is not a point file of
 *   this library, or was damaged
 */
export function keyValuesToPointFileMetadata(kv: Readonly<Record<string, string>>): PointFileMetadata {
  const get = (key: string): string => {
    const value = Object.hasOwn(kv, key) ? kv[key] : undefined;
    if (value === undefined) throw new OctaError('CORRUPT', 'point file footer lacks a key', key);
    return value;
  };
  const integer = (key: string): bigint => {
    const text = get(key);
    if (!DECIMAL.test(text))
      throw new OctaError('CORRUPT', `footer key ${key} is not a decimal integer`, text);
    return BigInt(text);
  };
  const time = (key: string): bigint => {
    try {
      return isoToMicros(get(key));
    } catch (error) {
      if (error instanceof OctaError && error.code === 'CORRUPT') throw error;
      throw new OctaError('CORRUPT', `footer key ${key} is not an ISO 8601 timestamp`, kv[key]);
    }
  };
  let frame: unknown;
  try {
    frame = JSON.parse(get(OCTA_KEYS.frame));
  } catch (error) {
    if (error instanceof OctaError) throw error;
    throw new OctaError('CORRUPT', 'footer key octa.frame is not JSON', kv[OCTA_KEYS.frame]);
  }
  const meta: PointFileMetadata = {
    schemaVersion: Number(integer(OCTA_KEYS.schemaVersion)),
    frame: frame as Record<string, unknown>,
    lod: Number(integer(OCTA_KEYS.lod)),
    idKind: get(OCTA_KEYS.idKind) as TileIdKind,
    cellMin: integer(OCTA_KEYS.cellMin),
    cellMax: integer(OCTA_KEYS.cellMax),
    timeMin: time(OCTA_KEYS.timeMin),
    timeMax: time(OCTA_KEYS.timeMax),
    rows: Number(integer(OCTA_KEYS.rows)),
  };
  try {
    checkPointFileDescriptor(meta);
  } catch (error) {
    throw new OctaError('CORRUPT', `point file footer is invalid: ${(error as Error).message}`);
  }
  return meta;
}
