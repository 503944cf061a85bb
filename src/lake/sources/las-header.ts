/**
 * The LAS public header block (LAS 1.0–1.4, ASPRS R15), shared by the LAS and LAZ readers, and the
 * point record layouts of formats 0–10: where X/Y/Z, intensity, returns, classification, GPS time
 * and colour sit in a record. Only the fields the lake reads are decoded.
 */
import { OctaError } from '../../lattice/errors.js';
import type { LasHeaderInfo, SourceColumn } from './types.js';

/** Bytes of the smallest public header (LAS 1.0–1.2). */
export const LAS_HEADER_MIN = 227;
/** Bytes to read to see every header field we use (the LAS 1.4 header). */
export const LAS_HEADER_MAX = 375;

/** The header fields a reader needs. */
export interface LasHeader {
  info: LasHeaderInfo;
  versionMajor: number;
  versionMinor: number;
  headerSize: number;
  offsetToPoints: number;
  recordLength: number;
  /** Whether bit 7 or 6 of the point format byte marks LAZ compression. */
  compressed: boolean;
  /**
   * Where data that may follow the point records starts (LAS 1.3+ internal waveform packets, LAS 1.4
   * extended VLRs), when the header names any: the points end there or at the end of the file.
   */
  following?: number;
}

/** Where a point format keeps its fields, by byte offset in the record (-1: absent). */
export interface RecordLayout {
  /** Smallest record length of the format. */
  size: number;
  /** 0–5 pack return number and count in 3+3 bits of byte 14; 6–10 in 4+4 bits. */
  extended: boolean;
  classification: number;
  gpsTime: number;
  rgb: number;
}

const LAYOUTS: readonly RecordLayout[] = [
  { size: 20, extended: false, classification: 15, gpsTime: -1, rgb: -1 },
  { size: 28, extended: false, classification: 15, gpsTime: 20, rgb: -1 },
  { size: 26, extended: false, classification: 15, gpsTime: -1, rgb: 20 },
  { size: 34, extended: false, classification: 15, gpsTime: 20, rgb: 28 },
  { size: 57, extended: false, classification: 15, gpsTime: 20, rgb: -1 },
  { size: 63, extended: false, classification: 15, gpsTime: 20, rgb: 28 },
  { size: 30, extended: true, classification: 16, gpsTime: 22, rgb: -1 },
  { size: 36, extended: true, classification: 16, gpsTime: 22, rgb: 30 },
  { size: 38, extended: true, classification: 16, gpsTime: 22, rgb: 30 },
  { size: 59, extended: true, classification: 16, gpsTime: 22, rgb: -1 },
  { size: 67, extended: true, classification: 16, gpsTime: 22, rgb: 30 },
];

/**
 * The record layout of a point format.
 * @param pointFormat - 0–10
 * @returns the layout
 */
export function recordLayout(pointFormat: number): RecordLayout {
  return LAYOUTS[pointFormat]!;
}

/**
 * The columns a point format yields: x, y, z (float64 after scale and offset), intensity,
 * classification, return_number, number_of_returns (int32), gps_time (float64) when the format has
 * it, red, green, blue (int32, as stored: 16 bits) when it has colour.
 * @param pointFormat - 0–10
 * @returns the columns in that order
 */
export function lasColumns(pointFormat: number): SourceColumn[] {
  const layout = recordLayout(pointFormat);
  const columns: SourceColumn[] = [
    { name: 'x', type: 'float64' },
    { name: 'y', type: 'float64' },
    { name: 'z', type: 'float64' },
    { name: 'intensity', type: 'int32' },
    { name: 'classification', type: 'int32' },
    { name: 'return_number', type: 'int32' },
    { name: 'number_of_returns', type: 'int32' },
  ];
  if (layout.gpsTime >= 0) columns.push({ name: 'gps_time', type: 'float64' });
  if (layout.rgb >= 0) {
    columns.push(
      { name: 'red', type: 'int32' },
      { name: 'green', type: 'int32' },
      { name: 'blue', type: 'int32' },
    );
  }
  return columns;
}

/**
 * Parses and checks the public header.
 * @param bytes - the first bytes of the file (up to `LAS_HEADER_MAX`)
 * @param name - the input, for messages
 * @returns the header
 * @throws {OctaError} INVALID_INPUT naming the file and the field that is wrong
 */
export function parseLasHeader(bytes: Uint8Array, name: string): LasHeader {
  const fail = (what: string, value?: unknown): never => {
    throw new OctaError('INVALID_INPUT', `${name}: not a valid LAS file: ${what}`, value ?? name);
  };
  if (bytes.length < LAS_HEADER_MIN)
    fail(`the header is cut short (${bytes.length} of ${LAS_HEADER_MIN} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!) !== 'LASF')
    fail('it does not start with LASF');
  const versionMajor = view.getUint8(24);
  const versionMinor = view.getUint8(25);
  if (versionMajor !== 1 || versionMinor > 4)
    fail('unsupported LAS version', `${versionMajor}.${versionMinor}`);
  const dayOfYear = view.getUint16(90, true);
  const year = view.getUint16(92, true);
  const headerSize = view.getUint16(94, true);
  const offsetToPoints = view.getUint32(96, true);
  const formatByte = view.getUint8(104);
  const pointFormat = formatByte & 0x3f;
  const recordLength = view.getUint16(105, true);
  let count = view.getUint32(107, true);
  if (headerSize < LAS_HEADER_MIN) fail('header size is smaller than 227 bytes', headerSize);
  if (offsetToPoints < headerSize) fail('point data starts inside the header', offsetToPoints);
  if (pointFormat > 10) fail('unknown point data format', pointFormat);
  if (recordLength < recordLayout(pointFormat).size) {
    fail(`point record length is too short for point format ${pointFormat}`, recordLength);
  }
  if (versionMinor >= 4 && headerSize >= 255 && bytes.length >= 255) {
    const count64 = view.getBigUint64(247, true);
    if (count64 > BigInt(Number.MAX_SAFE_INTEGER)) fail('point count is too large', count64);
    if (count64 > 0n || count === 0) count = Number(count64);
  }
  const triple = (at: number): [number, number, number] => [
    view.getFloat64(at, true),
    view.getFloat64(at + 8, true),
    view.getFloat64(at + 16, true),
  ];
  const scale = triple(131);
  const offset = triple(155);
  if (!scale.every((s) => Number.isFinite(s) && s !== 0))
    fail('scale factors must be finite and non-zero', scale);
  if (!offset.every(Number.isFinite)) fail('offsets must be finite', offset);
  // The header stores max x, min x, max y, min y, max z, min z.
  const bounds = [0, 1, 2, 3, 4, 5].map((i) => view.getFloat64(179 + 8 * i, true));
  BOUND_NAMES.forEach((field, i) => {
    if (!Number.isFinite(bounds[i]!)) fail(`${field} is not a finite number`, { field, value: bounds[i] });
  });
  if (count > 0) {
    for (const [a, axis] of AXES.entries()) {
      const [max, min] = [bounds[2 * a]!, bounds[2 * a + 1]!];
      if (min > max)
        fail(`min ${axis} ${min} is above max ${axis} ${max}`, { field: `min ${axis}`, min, max });
    }
  }
  const following = followingData(view, bytes.length, versionMinor, headerSize);
  const info: LasHeaderInfo = {
    pointFormat,
    count,
    scale,
    offset,
    min: [bounds[1]!, bounds[3]!, bounds[5]!],
    max: [bounds[0]!, bounds[2]!, bounds[4]!],
    ...(year > 0 && dayOfYear > 0 ? { creation: { year, dayOfYear } } : {}),
  };
  return {
    info,
    versionMajor,
    versionMinor,
    headerSize,
    offsetToPoints,
    recordLength,
    compressed: (formatByte & 0xc0) !== 0,
    ...(following !== undefined ? { following } : {}),
  };
}

const AXES = ['x', 'y', 'z'] as const;
/** The header's bound fields in their order from byte 179. */
const BOUND_NAMES = ['max x', 'min x', 'max y', 'min y', 'max z', 'min z'] as const;

/**
 * Where the header says data after the point records starts: the start of internal waveform data
 * packets (LAS 1.3+, byte 227) or of the first extended VLR (LAS 1.4, byte 235, when it counts any).
 */
function followingData(
  view: DataView,
  have: number,
  versionMinor: number,
  headerSize: number,
): number | undefined {
  const starts: bigint[] = [];
  if (versionMinor >= 3 && headerSize >= 235 && have >= 235) starts.push(view.getBigUint64(227, true));
  if (versionMinor >= 4 && headerSize >= 247 && have >= 247 && view.getUint32(243, true) > 0)
    starts.push(view.getBigUint64(235, true));
  const nonzero = starts.filter((s) => s > 0n && s <= BigInt(Number.MAX_SAFE_INTEGER)).map(Number);
  return nonzero.length > 0 ? Math.min(...nonzero) : undefined;
}

/**
 * Holds the points read against the header: its bounds must be the points' extents (as the LAS
 * specification defines them) to within one scale step on each side, and its point count must be
 * what the file holds. Raw record integers are tracked, so the check costs one pass of three reads
 * per point and no rounding.
 */
export class LasPointCheck {
  private readonly lo = [Infinity, Infinity, Infinity];
  private readonly hi = [-Infinity, -Infinity, -Infinity];

  /**
   * @param header - the file's header
   * @param name - the input, for messages
   */
  constructor(
    private readonly header: LasHeader,
    private readonly name: string,
  ) {}

  /**
   * Adds records; fails as soon as a point lies outside the header's bounds.
   * @param records - `count` records back to back
   * @param count - number of records
   * @throws {OctaError} INVALID_INPUT naming the bound and the value that breaks it
   */
  add(records: Uint8Array, count: number): void {
    const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
    const stride = this.header.recordLength;
    for (let a = 0; a < 3; a++) {
      let lo = this.lo[a]!;
      let hi = this.hi[a]!;
      for (let i = 0, o = 4 * a; i < count; i++, o += stride) {
        const v = view.getInt32(o, true);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      this.lo[a] = lo;
      this.hi[a] = hi;
    }
    this.compare(false);
  }

  /**
   * At the end of the points: the header's bounds may not be wider than the points either.
   * @throws {OctaError} INVALID_INPUT naming the bound, its value and the points' extent
   */
  finish(): void {
    if (this.header.info.count > 0) this.compare(true);
  }

  private compare(both: boolean): void {
    const { scale, offset, min, max } = this.header.info;
    for (let a = 0; a < 3; a++) {
      if (this.lo[a]! > this.hi[a]!) continue;
      // The decoder's own arithmetic, so the extents are the stored coordinates exactly.
      const ends = [this.lo[a]! * scale[a]! + offset[a]!, this.hi[a]! * scale[a]! + offset[a]!];
      const low = Math.min(ends[0]!, ends[1]!);
      const high = Math.max(ends[0]!, ends[1]!);
      const tolerance = Math.abs(scale[a]!) * (1 + 1e-9);
      const axis = AXES[a]!;
      if (low < min[a]! - tolerance || (both && low > min[a]! + tolerance))
        this.disagree(`min ${axis}`, min[a]!, `the points' smallest ${axis} is ${low}`);
      if (high > max[a]! + tolerance || (both && high < max[a]! - tolerance))
        this.disagree(`max ${axis}`, max[a]!, `the points' largest ${axis} is ${high}`);
    }
  }

  private disagree(field: string, header: number, points: string): never {
    throw new OctaError(
      'INVALID_INPUT',
      `${this.name}: the LAS header's bounds disagree with its points: ${field} is ${header} but ${points} ` +
        '(bounds must be the extents of the points to within one scale step); repair the header, e.g. with lasinfo -repair_bb',
      { field, header, points },
    );
  }
}
