/**
 * WGS84 geodesy for frames: geodetic (degrees, metres above the ellipsoid) ↔ earth-centred
 * earth-fixed (ECEF) metres ↔ local east-north-up (ENU) metres at an anchor.
 *
 * The scalar forms validate their input; the batch forms trust it and turn a latitude outside
 * [-90, 90] or a non-finite value into NaN output, so a later domain check rejects that row instead of
 * the whole batch failing.
 */
import type { Triple } from './bcc.js';
import { OctaError } from './errors.js';

/** WGS84 semi-major axis in metres. */
export const WGS84_A = 6378137;
/** WGS84 flattening. */
export const WGS84_F = 1 / 298.257223563;
/** WGS84 semi-minor axis in metres (6356752.314245…). */
export const WGS84_B = WGS84_A * (1 - WGS84_F);
/** First eccentricity squared. */
const E2 = WGS84_F * (2 - WGS84_F);
/** Second eccentricity squared. */
const EP2 = E2 / (1 - E2);
const RAD = Math.PI / 180;
const DEG = 180 / Math.PI;

/** A geodetic position: latitude and longitude in degrees, height above the ellipsoid in metres. */
export interface Geodetic {
  lat: number;
  lon: number;
  h: number;
}

/** An ENU frame at an anchor: the anchor's ECEF position and the rotation ECEF → ENU (rows e, n, u). */
interface EnuBasis {
  x0: number;
  y0: number;
  z0: number;
  ex: number;
  ey: number;
  nx: number;
  ny: number;
  nz: number;
  ux: number;
  uy: number;
  uz: number;
}

function checkGeodetic(lat: number, lon: number, h: number): void {
  if (!(lat >= -90 && lat <= 90) || !Number.isFinite(lon) || !Number.isFinite(h)) {
    throw new OctaError(
      'INVALID_INPUT',
      'geodetic position needs latitude in -90..90 degrees and finite longitude and height',
      [lat, lon, h],
    );
  }
}

function checkFinite(v: Triple, what: string): void {
  if (!Number.isFinite(v[0]) || !Number.isFinite(v[1]) || !Number.isFinite(v[2])) {
    throw new OctaError('INVALID_INPUT', `${what} must be three finite numbers`, v);
  }
}

function basis({ lat, lon, h }: Geodetic): EnuBasis {
  checkGeodetic(lat, lon, h);
  const sp = Math.sin(lat * RAD);
  const cp = Math.cos(lat * RAD);
  const sl = Math.sin(lon * RAD);
  const cl = Math.cos(lon * RAD);
  const [x0, y0, z0] = geodeticToEcef(lat, lon, h);
  return {
    x0,
    y0,
    z0,
    ex: -sl,
    ey: cl,
    nx: -sp * cl,
    ny: -sp * sl,
    nz: cp,
    ux: cp * cl,
    uy: cp * sl,
    uz: sp,
  };
}

/**
 * Geodetic to ECEF on the WGS84 ellipsoid.
 * @param lat - latitude in degrees, -90..90
 * @param lon - longitude in degrees (any finite value)
 * @param h - height above the ellipsoid in metres
 * @returns [x, y, z] in ECEF metres
 * @throws {OctaError} INVALID_INPUT for a latitude outside -90..90 or a non-finite value
 */
export function geodeticToEcef(lat: number, lon: number, h: number): Triple {
  checkGeodetic(lat, lon, h);
  const sp = Math.sin(lat * RAD);
  const cp = Math.cos(lat * RAD);
  const n = WGS84_A / Math.sqrt(1 - E2 * sp * sp);
  return [(n + h) * cp * Math.cos(lon * RAD), (n + h) * cp * Math.sin(lon * RAD), (n * (1 - E2) + h) * sp];
}

/**
 * ECEF to geodetic on the WGS84 ellipsoid. Bowring's parametric-latitude iteration, run until the
 * latitude stops changing (two or three steps near the surface), with the height taken from the
 * form p·cos φ + z·sin φ − a·√(1 − e²·sin² φ), which stays well conditioned at the poles. Accurate to
 * well under a micrometre from 10 km below the ellipsoid to 10,000 km above it.
 * @param x - ECEF x in metres
 * @param y - ECEF y in metres
 * @param z - ECEF z in metres
 * @returns [lat, lon, h]: degrees (longitude in -180..180), metres
 * @throws {OctaError} INVALID_INPUT for a non-finite coordinate
 */
export function ecefToGeodetic(x: number, y: number, z: number): Triple {
  checkFinite([x, y, z], 'ECEF position');
  const p = Math.hypot(x, y);
  let beta = Math.atan2(z, (1 - WGS84_F) * p);
  let phi = Number.NaN;
  for (let i = 0; i < 16; i++) {
    const sb = Math.sin(beta);
    const cb = Math.cos(beta);
    const next = Math.atan2(z + EP2 * WGS84_B * sb * sb * sb, p - E2 * WGS84_A * cb * cb * cb);
    const done = Math.abs(next - phi) <= 1e-15;
    phi = next;
    if (done) break;
    beta = Math.atan2((1 - WGS84_F) * Math.sin(phi), Math.cos(phi));
  }
  const sp = Math.sin(phi);
  const h = p * Math.cos(phi) + z * sp - WGS84_A * Math.sqrt(1 - E2 * sp * sp);
  return [phi * DEG, Math.atan2(y, x) * DEG, h];
}

/**
 * ECEF to local east-north-up metres at an anchor.
 * @param anchor - the ENU origin (its up axis is the ellipsoid normal there)
 * @param ecef - [x, y, z] in ECEF metres
 * @returns [east, north, up] in metres
 * @throws {OctaError} INVALID_INPUT for an invalid anchor or a non-finite coordinate
 */
export function ecefToEnu(anchor: Geodetic, ecef: Triple): Triple {
  checkFinite(ecef, 'ECEF position');
  const b = basis(anchor);
  const dx = ecef[0] - b.x0;
  const dy = ecef[1] - b.y0;
  const dz = ecef[2] - b.z0;
  return [b.ex * dx + b.ey * dy, b.nx * dx + b.ny * dy + b.nz * dz, b.ux * dx + b.uy * dy + b.uz * dz];
}

/**
 * Local east-north-up metres at an anchor to ECEF (the inverse of {@link ecefToEnu}).
 * @param anchor - the ENU origin
 * @param enu - [east, north, up] in metres
 * @returns [x, y, z] in ECEF metres
 * @throws {OctaError} INVALID_INPUT for an invalid anchor or a non-finite coordinate
 */
export function enuToEcef(anchor: Geodetic, enu: Triple): Triple {
  checkFinite(enu, 'ENU position');
  const b = basis(anchor);
  const [e, n, u] = enu;
  return [
    b.x0 + b.ex * e + b.nx * n + b.ux * u,
    b.y0 + b.ey * e + b.ny * n + b.uy * u,
    b.z0 + b.nz * n + b.uz * u,
  ];
}

/** Options of the geodetic batch conversions. */
export interface GeodeticBatchOptions {
  /** Interleaved lat, lon, h (degrees, degrees, metres), stride 3. */
  points: Float64Array;
  /** Where to write interleaved x, y, z (stride 3); allocated when absent, may be `points` itself. */
  out?: Float64Array;
}

function prepare(points: Float64Array, out: Float64Array | undefined): Float64Array {
  if (points.length % 3 !== 0) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'points must be interleaved triples (length a multiple of 3)',
      points.length,
    );
  }
  const o = out ?? new Float64Array(points.length);
  if (o.length < points.length) {
    throw new OctaError('INVALID_ARGUMENT', 'output array shorter than the input', o.length);
  }
  return o;
}

/**
 * Geodetic to ECEF over interleaved triples, without allocating per point. A latitude outside
 * -90..90 or a non-finite value gives NaN for that point (reject it downstream).
 * @param options - points (lat, lon, h triples) and an optional output array
 * @returns the interleaved ECEF x, y, z (`out` when given)
 * @throws {OctaError} INVALID_ARGUMENT for a ragged input or a short output
 */
export function geodeticToEcefBatch({ points, out }: GeodeticBatchOptions): Float64Array {
  const o = prepare(points, out);
  for (let i = 0; i < points.length; i += 3) {
    const lat = points[i]!;
    const lon = points[i + 1]! * RAD;
    const h = lat >= -90 && lat <= 90 ? points[i + 2]! : Number.NaN;
    const sp = Math.sin(lat * RAD);
    const cp = Math.cos(lat * RAD);
    const n = WGS84_A / Math.sqrt(1 - E2 * sp * sp);
    o[i] = (n + h) * cp * Math.cos(lon);
    o[i + 1] = (n + h) * cp * Math.sin(lon);
    o[i + 2] = (n * (1 - E2) + h) * sp;
  }
  return o;
}

/**
 * Geodetic to local east-north-up metres at an anchor over interleaved triples, without allocating
 * per point. A latitude outside -90..90 or a non-finite value gives NaN for that point.
 * @param options - the anchor, points (lat, lon, h triples) and an optional output array
 * @returns the interleaved east, north, up (`out` when given)
 * @throws {OctaError} INVALID_INPUT for an invalid anchor; INVALID_ARGUMENT for a ragged input or a short output
 */
export function geodeticToEnuBatch({
  anchor,
  points,
  out,
}: GeodeticBatchOptions & { anchor: Geodetic }): Float64Array {
  const b = basis(anchor);
  const o = geodeticToEcefBatch({ points, out });
  for (let i = 0; i < points.length; i += 3) {
    const dx = o[i]! - b.x0;
    const dy = o[i + 1]! - b.y0;
    const dz = o[i + 2]! - b.z0;
    o[i] = b.ex * dx + b.ey * dy;
    o[i + 1] = b.nx * dx + b.ny * dy + b.nz * dz;
    o[i + 2] = b.ux * dx + b.uy * dy + b.uz * dz;
  }
  return o;
}
