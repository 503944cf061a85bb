/**
 * The spatial query planner: a box or sphere in frame metres and a time window become the catalog
 * files that can hold matching points (time bucket, bounding box, id range), the id ranges that
 * cover the region at the table's LOD, and one SQL statement over exactly those files that prunes
 * row groups by id and then filters the coordinates exactly.
 */
import { isoToMicros, microsToIso } from '../export/event-time.js';
import {
  type CatalogSnapshot,
  type FileRecord,
  liveFiles,
  type TableConfig,
} from '../lake/catalog/catalog-state.js';
import type { Storage } from '../lake/storage/storage.js';
import { OctaError } from '../lattice/errors.js';
import { latticeUnit } from '../lattice/frame.js';
import { toI64 } from '../lattice/index64.js';
import {
  boxToRanges,
  metersBoxToLatticeBox,
  metersSphereToLattice,
  sphereToRanges,
} from '../lattice/ranges.js';
import { type LakeSession, type OpenLakeOptions, openLakeWithoutViews } from './open.js';
import { countRowGroups } from './planner-explain.js';
import { type PlanRange, type PlanRegion, planSql, type QueryPlan, type RangeShape } from './planner-sql.js';
import { checkLocalFile } from './verified-files.js';

export type { PlanRange, QueryPlan, RangeShape } from './planner-sql.js';

/** A spatial query: exactly one of `box` and `sphere`. */
export interface QueryOptions {
  table: string;
  /** Inclusive box in frame metres [x0, y0, z0, x1, y1, z1]. */
  box?: readonly number[];
  /** Sphere in frame metres [x, y, z, r]. */
  sphere?: readonly number[];
  /** ISO 8601 time, inclusive (a zone, or a bare `YYYY-MM-DD` meaning UTC midnight). */
  from?: string;
  /** ISO 8601 time, exclusive. */
  to?: string;
  /** Columns to return; default all. */
  select?: readonly string[];
  /** At most this many id ranges (default 64). */
  maxRanges?: number;
  /** How the ranges reach DuckDB (default `span`; see {@link RangeShape}). */
  shape?: RangeShape;
}

/** How much of the table a plan reads, from the catalog and each selected file's Parquet footer. */
export interface QueryExplain {
  filesConsidered: number;
  filesTotal: number;
  /**
   * Row groups of the selected files DuckDB reads: those whose statistics meet every prunable
   * conjunct of the SQL (the id span, x/y/z bounds, the time window).
   */
  rowGroupsConsidered: number;
  /** Of those, the row groups whose cell statistics meet one of the id ranges (an ideal reader's). */
  rowGroupsMatching: number;
  /** Row groups of every live file of the table. */
  rowGroupsTotal: number;
  ranges: PlanRange[];
  sql: string;
}

/** Parses a query time to its normal ISO form (six fraction digits, `Z`). */
function normalTime(name: string, value: string): bigint {
  const text = /^\d{4}-\d\d-\d\d$/.test(value) ? `${value}T00:00:00Z` : value;
  try {
    return isoToMicros(text);
  } catch {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `${name} must be an ISO 8601 time with a zone (2025-06-03T12:00:00Z) or a date (2025-06-03)`,
      value,
    );
  }
}

function checkRegion(box: readonly number[] | undefined, sphere: readonly number[] | undefined): PlanRegion {
  if ((box === undefined) === (sphere === undefined)) {
    throw new OctaError('INVALID_ARGUMENT', 'give exactly one of box and sphere', { box, sphere });
  }
  if (box !== undefined) {
    if (box.length !== 6 || !box.every(Number.isFinite)) {
      throw new OctaError('INVALID_ARGUMENT', 'box must be 6 finite numbers [x0, y0, z0, x1, y1, z1]', box);
    }
    if (box[0]! > box[3]! || box[1]! > box[4]! || box[2]! > box[5]!) {
      throw new OctaError('INVALID_ARGUMENT', 'box is reversed: need x0 <= x1, y0 <= y1, z0 <= z1', box);
    }
    return { kind: 'box', box: [box[0]!, box[1]!, box[2]!, box[3]!, box[4]!, box[5]!] };
  }
  const s = sphere!;
  if (s.length !== 4 || !s.every(Number.isFinite) || s[3]! < 0) {
    throw new OctaError('INVALID_ARGUMENT', 'sphere must be 4 finite numbers [x, y, z, r] with r >= 0', s);
  }
  return { kind: 'sphere', center: [s[0]!, s[1]!, s[2]!], radius: s[3]! };
}

/** Squared distance from a point to a box (0 inside); the clamp keeps it ≤ any inside point's. */
function boxDistance2(c: readonly number[], bbox: readonly number[]): number {
  let d2 = 0;
  for (let a = 0; a < 3; a++) {
    const v = Math.min(Math.max(c[a]!, bbox[a]!), bbox[a + 3]!);
    d2 += (v - c[a]!) * (v - c[a]!);
  }
  return d2;
}

function bboxHits(region: PlanRegion, bbox: FileRecord['bbox']): boolean {
  if (region.kind === 'sphere') return boxDistance2(region.center, bbox) <= region.radius * region.radius;
  const b = region.box;
  return (
    bbox[0] <= b[3] &&
    bbox[3] >= b[0] &&
    bbox[1] <= b[4] &&
    bbox[4] >= b[1] &&
    bbox[2] <= b[5] &&
    bbox[5] >= b[2]
  );
}

/** True when some range meets [lo, hi] (ranges sorted and disjoint). */
function rangesHit(ranges: readonly PlanRange[], lo: bigint, hi: bigint): boolean {
  let a = 0;
  let b = ranges.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (ranges[m]!.hi < lo) a = m + 1;
    else b = m;
  }
  return a < ranges.length && ranges[a]!.lo <= hi;
}

/** The files and ranges of a plan, before the SQL names the files' paths. */
interface PlanChoice {
  table: string;
  config: TableConfig;
  region: PlanRegion;
  from?: string;
  to?: string;
  select: readonly string[];
  shape: RangeShape;
  ranges: PlanRange[];
  files: FileRecord[];
  totalFiles: number;
}

/**
 * Checks the files of a local lake whole (size and SHA-256), eight at a time, as the session's
 * reader does before a query reads them; it remembers them checked (src/sql/verified-files.ts).
 */
async function checkLocalFiles(files: readonly FileRecord[], storage: Storage): Promise<void> {
  if (storage.localPath('_octa') === null) return;
  for (let i = 0; i < files.length; i += 8) {
    await Promise.all(files.slice(i, i + 8).map((f) => checkLocalFile(f, storage.localPath(f.key)!, true)));
  }
}

/** Chooses the files and id ranges of a query (everything but the SQL text). */
function chooseFiles({
  snapshot,
  table,
  box,
  sphere,
  from,
  to,
  select = ['*'],
  maxRanges = 64,
  shape = 'span',
}: QueryOptions & { snapshot: CatalogSnapshot }): PlanChoice {
  const region = checkRegion(box, sphere);
  const fromUs = from === undefined ? undefined : normalTime('from', from);
  const toUs = to === undefined ? undefined : normalTime('to', to);
  if (select.length === 0 || select.some((c) => c === '')) {
    throw new OctaError('INVALID_ARGUMENT', 'select must name at least one column (or *)', select);
  }
  if (!Number.isInteger(maxRanges) || maxRanges < 1) {
    throw new OctaError('INVALID_ARGUMENT', 'maxRanges must be an integer >= 1', maxRanges);
  }
  const all = liveFiles(snapshot, table);
  const config = snapshot.tables.get(table)!.config;
  const { frame, lod } = config;
  const grid = { origin: frame.origin, unit: latticeUnit(frame, lod), lod };
  const rangeOptions = { lod, frame: frame.id, curve: config.idKind, maxRanges };
  let ranges: PlanRange[] = [];
  if (region.kind === 'box') {
    const lattice = metersBoxToLatticeBox({ ...grid, box: region.box });
    if (lattice !== null) ranges = boxToRanges({ ...rangeOptions, box: lattice }).ranges;
  } else {
    const lattice = metersSphereToLattice({ ...grid, center: region.center, radius: region.radius });
    if (lattice !== null) ranges = sphereToRanges({ ...rangeOptions, ...lattice }).ranges;
  }
  ranges = ranges.map((r) => ({ lo: toI64(r.lo), hi: toI64(r.hi), contained: r.contained }));
  const emptyWindow = fromUs !== undefined && toUs !== undefined && fromUs >= toUs;
  const files = emptyWindow
    ? []
    : all.filter(
        (f) =>
          (fromUs === undefined || isoToMicros(f.timeMax) >= fromUs) &&
          (toUs === undefined || isoToMicros(f.timeMin) < toUs) &&
          bboxHits(region, f.bbox) &&
          rangesHit(ranges, BigInt(f.cellMin), BigInt(f.cellMax)),
      );
  return {
    table,
    config,
    region,
    ...(fromUs === undefined ? {} : { from: microsToIso(fromUs) }),
    ...(toUs === undefined ? {} : { to: microsToIso(toUs) }),
    select,
    shape,
    ranges,
    files,
    totalFiles: all.length,
  };
}

/** The plan of a choice, its SQL reading the files at `paths` (in the order of `choice.files`). */
function toPlan(choice: PlanChoice, paths: readonly string[]): QueryPlan {
  const { table, files, totalFiles, ranges, config, region, from, to, select, shape } = choice;
  const sql = planSql({
    config,
    paths,
    region,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    select,
    ranges,
    shape,
  });
  return { table, files, totalFiles, ranges, sql };
}

/**
 * Plans a spatial query against a catalog snapshot.
 * @param options - snapshot, table, `box` or `sphere` in frame metres, optional `from` / `to`,
 *   `select` (default all), `maxRanges` (default 64), `shape` (default `span`), and `pathOf`
 *   mapping a file key to the path DuckDB reads (default the key itself)
 * @returns the files to read, the id ranges and the SQL
 * @throws {OctaError} NOT_FOUND for an unknown table; INVALID_ARGUMENT for both or neither of box
 *   and sphere, a reversed or non-finite region, a bad time or select list
 */
export function planQuery({
  pathOf = (key: string) => key,
  ...query
}: QueryOptions & { snapshot: CatalogSnapshot; pathOf?: (key: string) => string }): QueryPlan {
  const choice = chooseFiles(query);
  return toPlan(
    choice,
    choice.files.map((f) => pathOf(f.key)),
  );
}

/** Where {@link runQuery} reads: an open session, or a lake it opens and closes itself. */
export type RunQueryOptions = QueryOptions &
  Pick<OpenLakeOptions, 'lake' | 'storage' | 'remoteRead' | 'cacheDir' | 'cacheMaxBytes' | 's3' | 'asOf'> & {
    /** An open lake (left open); else give `lake` or `storage`. */
    session?: LakeSession;
    /** Count files and row groups considered. */
    explain?: boolean;
    /** `js` (default: BIGINT as bigint, timestamps as Date) or `json` (64-bit integers and timestamps as text). */
    values?: 'js' | 'json';
  };

/**
 * Plans and runs a spatial query on a lake. Only the files the plan selects are read: from a
 * remote lake through the file cache, only they are downloaded.
 * @param options - exactly one of `session` (an open lake, left open, at its version), `lake` (a
 *   location) or `storage` (both opened and closed here, with `remoteRead`, the cache and S3
 *   settings and `asOf`), the query, `explain` and `values` (see {@link RunQueryOptions})
 * @returns the rows, the plan, and the explanation when asked for
 * @throws {OctaError} as {@link planQuery}; IO_ERROR or CORRUPT opening the lake or reading its
 *   files (CORRUPT names a downloaded file that does not match its catalog record); INVALID_ARGUMENT
 *   when the selected files are larger than the file cache; for `asOf` as {@link openLake}
 */
export async function runQuery({
  lake,
  storage,
  session,
  explain = false,
  values = 'js',
  remoteRead,
  cacheDir,
  cacheMaxBytes,
  s3,
  asOf,
  ...query
}: RunQueryOptions): Promise<{
  rows: Record<string, unknown>[];
  plan: QueryPlan;
  explain?: QueryExplain;
}> {
  if ([lake, storage, session].filter((v) => v !== undefined).length !== 1) {
    throw new OctaError('INVALID_ARGUMENT', 'runQuery needs exactly one of lake, storage and session', lake);
  }
  if (session !== undefined && asOf !== undefined) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      'a session reads the version it was opened at: give asOf to openLake',
      asOf,
    );
  }
  const remote = {
    ...(remoteRead === undefined ? {} : { remoteRead }),
    ...(cacheDir === undefined ? {} : { cacheDir }),
    ...(cacheMaxBytes === undefined ? {} : { cacheMaxBytes }),
    ...(s3 === undefined ? {} : { s3 }),
    ...(asOf === undefined ? {} : { asOf }),
  };
  // runQuery reads files, not views: its own session has none (through the file cache, it fetches
  // no view's files). While DuckDB starts, it chooses the files and checks those of a local lake
  // (SHA-256, which the reader then finds done).
  let chosen: PlanChoice | undefined;
  const s =
    session ??
    (await openLakeWithoutViews(
      {
        ...(lake === undefined ? {} : { lake }),
        ...(storage === undefined ? {} : { storage }),
        // The planner's SQL calls no bcc_* function.
        functions: false,
        ...remote,
      },
      async (snapshot, store) => {
        chosen = chooseFiles({ ...query, snapshot });
        await checkLocalFiles(chosen.files, store);
      },
    ));
  try {
    const choice = chosen ?? chooseFiles({ ...query, snapshot: s.snapshot });
    // Only the selected files are fetched (a remote lake through the file cache), held while they are read.
    return await s.reader.use(choice.files, async (paths) => {
      const plan = toPlan(choice, paths);
      const reader = await s.connection.runAndReadAll(plan.sql);
      const rows: Record<string, unknown>[] =
        values === 'js' ? reader.getRowObjectsJS() : reader.getRowObjectsJson();
      if (!explain) return { rows, plan };
      const groups = await countRowGroups({ session: s, plan, paths, ...choice });
      return {
        rows,
        plan,
        explain: {
          filesConsidered: plan.files.length,
          filesTotal: plan.totalFiles,
          rowGroupsConsidered: groups.considered,
          rowGroupsMatching: groups.matching,
          rowGroupsTotal: groups.total,
          ranges: plan.ranges,
          sql: plan.sql,
        },
      };
    });
  } finally {
    if (session === undefined) s.close();
  }
}
