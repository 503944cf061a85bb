/**
 * The lattice core's public entry (`octa-lake/lattice`, also re-exported by `octa-lake`): frames,
 * snapping, identifiers, neighbours, both hierarchies, batches and range decomposition. Named
 * exports only: what is not listed here (bit kernels, header constants, inner validators) is
 * internal and may change.
 */

export type { CoordArray, IdArray } from './batch.js';
export {
  index64ToHilbert64Batch,
  index64ToLatticeBatch,
  index64ToNeighborsBatch,
  latticeToIndex64Batch,
  latticeToNeighborsBatch,
  snapToLatticeBatch,
} from './batch.js';
export type { Triple } from './bcc.js';
export {
  CHILD_OFFSETS,
  isBccPoint,
  kRingSize,
  latticeDistance,
  latticeStepDistance,
  latticeToChildren,
  latticeToKRing,
  latticeToNeighbors,
  latticeToParent,
  NEIGHBOR_OFFSETS,
  snapToLattice,
  stepsBetween,
} from './bcc.js';
export type { Bech32Decoded, Bech32Variant } from './bech32m.js';
export { bech32Decode, bech32Encode } from './bech32m.js';
export type { OctaErrorCode, OctaErrorOptions } from './errors.js';
export { OctaError } from './errors.js';
export type { Frame, FrameKind } from './frame.js';
export {
  checkFrame,
  describeFrame,
  ECEF_DEFAULT_EDGE,
  FRAME_SPEC_FORMS,
  frameFromJSON,
  frameToGeodetic,
  frameToJSON,
  frameToSpec,
  geodeticToFrame,
  geodeticToFrameBatch,
  latticeUnit,
  parseFrameSpec,
} from './frame.js';
export type { FrameToIndex64BatchOptions, FrameToIndex64BatchResult } from './frame-index.js';
export {
  frameToIndex64,
  frameToIndex64Batch,
  frameToLattice,
  index64ToFrame,
  latticeToFrame,
  REJECT_NON_FINITE,
  REJECT_OUT_OF_DOMAIN,
} from './frame-index.js';
export type { Galactic128Fields, Galactic128Options } from './galactic128.js';
export {
  bech32mToGalactic128,
  galactic128ToBech32m,
  galactic128ToLattice,
  HRP_GALACTIC128,
  latticeToGalactic128,
} from './galactic128.js';
export type { DecodedId, IdKind, ParsedId, TileIdKind } from './ids.js';
export { decodeId, ID_KINDS, idKindOf, idToBech32m, idToHex, parseId } from './ids.js';
export type { TileKeyFields, TileKeyOptions } from './index64.js';
export {
  bech32mToIndex64,
  HRP_INDEX64,
  hilbert64ToIndex64,
  hilbert64ToLattice,
  index64ToBech32m,
  index64ToHilbert64,
  index64ToLattice,
  isHilbert64,
  isIndex64,
  latticeToHilbert64,
  latticeToIndex64,
  tileToChildren,
  tileToParent,
  toI64,
  toU64,
} from './index64.js';
export { mortonDecode48, mortonEncode48 } from './morton.js';
export type { Box6, IdRange, LatticeGrid, RangeCover, RangeCurve, RangeOptions } from './ranges.js';
export {
  boxToRanges,
  metersBoxToLatticeBox,
  metersSphereToLattice,
  metresBoxToLatticeBox,
  metresSphereToLattice,
  sphereToRanges,
} from './ranges.js';
export type { Route64Fields } from './route64.js';
export {
  bech32mToRoute64,
  HRP_ROUTE64,
  latticeToRoute64,
  route64Fields,
  route64ToBech32m,
  route64ToLattice,
} from './route64.js';
export type { Geodetic, GeodeticBatchOptions } from './wgs84.js';
export {
  ecefToEnu,
  ecefToGeodetic,
  enuToEcef,
  geodeticToEcef,
  geodeticToEcefBatch,
  geodeticToEnuBatch,
  WGS84_A,
  WGS84_B,
  WGS84_F,
} from './wgs84.js';
