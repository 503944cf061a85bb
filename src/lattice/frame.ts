/**
 * Frames (DESIGN §3): how physical coordinates become frame metres, and the cubic domain
 * `[origin, origin + edge)³` that LOD L cuts into 2^(L+1) lattice units per axis (16-bit axes at LOD 15).
 * - `cartesian:X0,Y0,Z0,EDGE`: frame metres are the input's own x, y, z (e.g. projected LiDAR).
 * - `enu:LAT,LON,H,EDGE`: east-north-up metres at a WGS84 anchor; the domain is centred on it.
 * - `ecef` / `ecef:EDGE`: WGS84 earth-centred earth-fixed metres, centred domain, edge 2^24 m by default.
 * A point maps to lattice units as u = (p − origin) × 2^(L+1) / edge: one multiply, the same in the
 * scalar and batch forms, and exactly (p − origin) / unit whenever the edge is a power of two.
 */
import type { Triple } from './bcc.js';
import { checkInt, OctaError } from './errors.js';
import * as wgs84 from './wgs84.js';

/** How a frame maps physical coordinates to frame metres. */
export type FrameKind = 'cartesian' | 'enu' | 'ecef';

/** A frame, persisted with its table. `anchor` is present for `enu` frames only. */
export interface Frame {
  /** Frame id, 0..255, written into every id's frame field. */
  id: number;
  kind: FrameKind;
  /** Lowest corner of the domain in frame metres; `-edge / 2` on every axis for `enu` and `ecef`. */
  origin: [number, number, number];
  /** Edge of the cubic domain in metres. */
  edge: number;
  anchor?: wgs84.Geodetic;
}

/** Edge of the default `ecef` domain: 2^24 m, which holds every point up to about 2,000 km above the ellipsoid. */
export const ECEF_DEFAULT_EDGE = 2 ** 24;
/** The accepted frame specs, as listed in error messages. */
export const FRAME_SPEC_FORMS = 'ecef, ecef:EDGE, enu:LAT,LON,H,EDGE, cartesian:X0,Y0,Z0,EDGE';

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const KINDS: readonly string[] = ['cartesian', 'enu', 'ecef'];
const KEYS = new Set(['id', 'kind', 'origin', 'edge', 'anchor']);
const ANCHOR_KEYS = new Set(['lat', 'lon', 'h']);
const keysOf = (o: unknown) => (typeof o === 'object' && o !== null ? Object.keys(o) : []);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Why a frame is invalid, or null when it is valid. */
function frameProblem(f: Frame): string | null {
  if (typeof f !== 'object' || f === null) return 'a frame must be an object';
  if (!Number.isInteger(f.id) || f.id < 0 || f.id > 255)
    return `id must be an integer in 0..255, not ${f.id}`;
  if (!KINDS.includes(f.kind)) return `unknown kind ${JSON.stringify(f.kind)}`;
  if (!isNum(f.edge) || f.edge <= 0) return `edge must be a finite number > 0, not ${f.edge}`;
  const o = f.origin;
  if (!Array.isArray(o) || o.length !== 3 || !o.every((v) => isNum(v) && isNum(v + f.edge))) {
    return 'origin must be three finite numbers';
  }
  if (f.kind !== 'cartesian' && !o.every((v) => v === -f.edge / 2)) {
    return `an ${f.kind} domain is centred: origin must be -edge/2 = ${-f.edge / 2} on every axis`;
  }
  if (f.kind !== 'enu') return f.anchor === undefined ? null : 'only enu frames have an anchor';
  const a = f.anchor;
  if (typeof a !== 'object' || a === null) return 'an enu frame needs an anchor {lat, lon, h}';
  if (!isNum(a.lat) || a.lat < -90 || a.lat > 90) return `latitude must be in -90..90, not ${a.lat}`;
  if (!isNum(a.lon) || a.lon < -180 || a.lon >= 360) return `longitude must be in -180..<360, not ${a.lon}`;
  return isNum(a.h) ? null : `height must be a finite number, not ${a.h}`;
}

/**
 * Validates a frame built by hand or read from storage.
 * @param frame - the frame
 * @returns the same frame
 * @throws {OctaError} INVALID_FRAME saying what is wrong
 */
export function checkFrame(frame: Frame): Frame {
  const problem = frameProblem(frame);
  if (problem !== null) throw new OctaError('INVALID_FRAME', `invalid frame: ${problem}`, frame);
  return frame;
}

/** A fresh frame in canonical key order, -0 turned into 0 so that JSON round trips compare equal. */
function build({ id, kind, origin: o, edge, anchor: a }: Frame): Frame {
  const f: Frame = { id, kind, origin: [o[0] + 0, o[1] + 0, o[2] + 0], edge };
  if (a !== undefined) f.anchor = { lat: a.lat + 0, lon: a.lon + 0, h: a.h + 0 };
  return f;
}

/**
 * Parses a frame spec: `ecef`, `ecef:EDGE`, `enu:LAT,LON,H,EDGE` or `cartesian:X0,Y0,Z0,EDGE`, in
 * degrees and metres (the kind is case-insensitive; spaces around parts are ignored).
 * @param spec - the spec text
 * @param options - id: the frame id, 0..255 (default 0)
 * @returns the validated frame
 * @throws {OctaError} INVALID_FRAME naming the spec and listing the accepted forms
 */
export function parseFrameSpec(spec: string, { id = 0 } = {}): Frame {
  const fail = (why: string) =>
    new OctaError('INVALID_FRAME', `invalid frame spec: ${why}; accepted forms: ${FRAME_SPEC_FORMS}`, spec);
  if (typeof spec !== 'string') throw fail('a frame spec must be a string');
  const colon = spec.indexOf(':');
  const kind = (colon < 0 ? spec : spec.slice(0, colon)).trim().toLowerCase();
  const parts = colon < 0 ? [] : spec.slice(colon + 1).split(',');
  const bad = parts.find((s) => !NUMBER.test(s.trim()));
  if (bad !== undefined) throw fail(`${JSON.stringify(bad)} is not a decimal number`);
  const n = parts.map(Number);
  const arity = kind === 'ecef' ? [0, 1] : kind === 'enu' || kind === 'cartesian' ? [4] : null;
  if (arity === null) throw fail(`unknown kind ${JSON.stringify(kind)}`);
  if (!arity.includes(n.length)) throw fail(`${kind} takes ${arity.join(' or ')} numbers, not ${n.length}`);
  const [a = 0, b = 0, c = 0, d = 0] = n;
  const edge = kind === 'ecef' ? (n[0] ?? ECEF_DEFAULT_EDGE) : d;
  const frame: Frame =
    kind === 'cartesian'
      ? { id, kind, origin: [a, b, c], edge }
      : { id, kind: kind as FrameKind, origin: [-edge / 2, -edge / 2, -edge / 2], edge };
  if (kind === 'enu') frame.anchor = { lat: a, lon: b, h: c };
  const problem = frameProblem(frame);
  if (problem !== null) throw fail(problem);
  return build(frame);
}

/**
 * The spec of a frame, the inverse of {@link parseFrameSpec} (a spec does not carry the id).
 * @param frame - the frame
 * @returns e.g. `ecef`, `enu:47.3,8.5,400,4096` or `cartesian:635000,849000,0,4096`
 * @throws {OctaError} INVALID_FRAME for an invalid frame
 */
export function frameToSpec(frame: Frame): string {
  const { kind, origin, edge, anchor: a } = checkFrame(frame);
  if (kind === 'ecef') return edge === ECEF_DEFAULT_EDGE ? 'ecef' : `ecef:${edge}`;
  return kind === 'enu' ? `enu:${a!.lat},${a!.lon},${a!.h},${edge}` : `cartesian:${origin.join(',')},${edge}`;
}

/**
 * Canonical JSON of a frame: keys id, kind, origin, edge, then anchor for enu frames.
 * @param frame - the frame
 * @returns the JSON text, which {@link frameFromJSON} reads back unchanged
 * @throws {OctaError} INVALID_FRAME for an invalid frame
 */
export function frameToJSON(frame: Frame): string {
  return JSON.stringify(build(checkFrame(frame)));
}

/**
 * Reads a frame from its JSON (as {@link frameToJSON} writes it), validating every field.
 * @param text - the JSON text
 * @returns the frame
 * @throws {OctaError} INVALID_FRAME for malformed JSON, an unknown key or an invalid frame
 */
export function frameFromJSON(text: string): Frame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new OctaError('INVALID_FRAME', 'frame JSON does not parse', text);
  }
  const anchor = (raw as { anchor?: unknown } | null)?.anchor;
  const extra = keysOf(raw).find((k) => !KEYS.has(k)) ?? keysOf(anchor).find((k) => !ANCHOR_KEYS.has(k));
  if (extra !== undefined) throw new OctaError('INVALID_FRAME', `unknown key ${JSON.stringify(extra)}`, text);
  const problem = frameProblem(raw as Frame);
  if (problem !== null) throw new OctaError('INVALID_FRAME', `invalid frame JSON: ${problem}`, text);
  return build(raw as Frame);
}

/** `frame 7 (cartesian, origin (…), edge … m)`, for messages. */
export function describeFrame(f: Frame): string {
  const anchor = f.anchor ? `, anchor ${f.anchor.lat}°, ${f.anchor.lon}°, ${f.anchor.h} m` : '';
  return `frame ${f.id} (${f.kind}${anchor}, origin (${f.origin.join(', ')}), edge ${f.edge} m)`;
}

/**
 * The lattice unit at a LOD: `edge / 2^(lod + 1)` metres.
 * @param frame - the frame
 * @param lod - 0..15
 * @returns metres per lattice unit
 * @throws {OctaError} INVALID_FRAME or INVALID_LOD
 */
export function latticeUnit(frame: Frame, lod: number): number {
  checkFrame(frame);
  checkInt(lod, 0, 15, 'INVALID_LOD', 'LOD');
  return frame.edge / 2 ** (lod + 1);
}

function geodeticFrame(frame: Frame): Frame {
  if (checkFrame(frame).kind !== 'cartesian') return frame;
  throw new OctaError(
    'INVALID_FRAME',
    `${describeFrame(frame)} takes x/y/z in its own metres, not lat/lon/h`,
    frame.id,
  );
}

/**
 * Geodetic position to frame metres: ECEF for `ecef` frames, ENU at the anchor for `enu` frames.
 * @param frame - an `ecef` or `enu` frame
 * @param lat - latitude in degrees, -90..90
 * @param lon - longitude in degrees
 * @param h - height above the WGS84 ellipsoid in metres
 * @returns [x, y, z] in frame metres
 * @throws {OctaError} INVALID_FRAME for a cartesian frame; INVALID_INPUT for a bad position
 */
export function geodeticToFrame(frame: Frame, lat: number, lon: number, h: number): Triple {
  const { kind, anchor } = geodeticFrame(frame);
  const ecef = wgs84.geodeticToEcef(lat, lon, h);
  return kind === 'ecef' ? ecef : wgs84.ecefToEnu(anchor!, ecef);
}

/**
 * Frame metres to a geodetic position, the inverse of {@link geodeticToFrame}.
 * @param frame - an `ecef` or `enu` frame
 * @param p - [x, y, z] in frame metres
 * @returns [lat, lon, h] in degrees, degrees, metres
 * @throws {OctaError} INVALID_FRAME for a cartesian frame; INVALID_INPUT for a non-finite point
 */
export function frameToGeodetic(frame: Frame, p: Triple): Triple {
  const [x, y, z] = geodeticFrame(frame).kind === 'ecef' ? p : wgs84.enuToEcef(frame.anchor!, p);
  return wgs84.ecefToGeodetic(x, y, z);
}

/**
 * Interleaved lat, lon, h to frame metres without allocating per point; an invalid latitude or a
 * non-finite value gives NaN, which {@link frameToIndex64Batch} then rejects.
 * @param options - frame (ecef or enu), points, and `out` (allocated when absent; may be `points`)
 * @returns interleaved frame metres
 * @throws {OctaError} INVALID_FRAME for a cartesian frame; INVALID_ARGUMENT for ragged or short arrays
 */
export function geodeticToFrameBatch(options: wgs84.GeodeticBatchOptions & { frame: Frame }): Float64Array {
  const { kind, anchor } = geodeticFrame(options.frame);
  const { points, out } = options;
  return kind === 'ecef'
    ? wgs84.geodeticToEcefBatch({ points, out })
    : wgs84.geodeticToEnuBatch({ anchor: anchor!, points, out });
}
