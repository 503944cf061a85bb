/**
 * `bcc_*` macros for ids and frames: encode, decode, LOD, validity, the id-level tile hierarchy,
 * frame metres to cells and cell centres. Each mirrors one lattice-core function bit for bit
 * (`latticeToIndex64`, `index64ToLattice`, `tileToParent`, `tileToChildren`, `frameToIndex64`,
 * `index64ToFrame`) and checks its arguments in the same order, so the same input fails the same way.
 */
import {
  big,
  checkId,
  checkInt,
  fail,
  guard,
  helper,
  idFunction,
  KEY_MASK,
  MASK48,
  type MacroDef,
  macro,
} from './functions-sql.js';

const ENCODE = 'bcc_encode';
const encodeBody = `${guard(
  ['x', 'y', 'z', 'lod', 'frame', 'tier'],
  [
    checkInt(ENCODE, 'frame', 'frame', 0, 255),
    checkInt(ENCODE, 'tier', 'tier', 0, 3),
    checkInt(ENCODE, 'LOD', 'lod', 0, 15),
    checkInt(ENCODE, 'x', 'x', 0, 65535),
    checkInt(ENCODE, 'y', 'y', 0, 65535),
    checkInt(ENCODE, 'z', 'z', 0, 65535),
  ],
)}
  + bcc__make2(x, y, z, lod, frame, tier)`;

/** The guard of a one-id function: NULL for NULL, an error for anything but an Index64. */
export const idGuard = (fn: string, cell = 'cell', more: string[] = []): string =>
  guard([cell], [checkId(fn, cell), ...more]);

// A struct is NULL only as a whole, so the guard goes in as a list index: [s][1 + NULL] is NULL.
const decodeBody = `[struct_pack(frame := bcc__frame(cell), tier := bcc__tier(cell), lod := bcc__lod(cell),
    x := bcc__x(cell), y := bcc__y(cell), z := bcc__z(cell))][1 + ${idGuard('bcc_decode')}]`;

const TP = 'bcc_tile_parent';
const tileParentBody = `${idGuard(TP, 'cell', ['WHEN bcc__lod(cell) = 0 THEN NULL'])}
  + ((cell & ${KEY_MASK}) | (greatest(bcc__lod(cell) - 1, 0)::BIGINT << 48) | ((cell & ${MASK48}) >> 3))`;
const tileParentAtBody = `${guard(
  ['cell', 'lod'],
  [
    checkId(TP, 'cell'),
    checkInt(TP, 'LOD', 'lod', 0, 15),
    `WHEN lod > bcc__lod(cell) THEN ${fail(TP, 'LOD ', `lod || ' is finer than the id''s LOD ' || bcc__lod(cell) || '; a parent needs a LOD at most its own: ' || cell`)}`,
  ],
)}
  + ((cell & ${KEY_MASK}) | ((${big('lod')} & 15) << 48)
     | ((cell & ${MASK48}) >> least(greatest(3 * (bcc__lod(cell) - ${big('lod')}), 0), 45)))`;

// The crate's children: Morton << 3 | i, its top digit falling off when the id's coordinates
// exceed its LOD's extent; none at LOD 15. Special cases go first in a coalesce, the common
// list second: only the guard and the rare case sit under CASE.
const tileBase = `((cell & ${KEY_MASK}) | (least(bcc__lod(cell) + 1, 15)::BIGINT << 48) | ((cell & ${(1n << 45n) - 1n}) << 3))`;
const tileChildrenBody = `coalesce(
  CASE WHEN cell IS NULL THEN NULL
    ${checkId('bcc_tile_children', 'cell', 'BIGINT[]')}
    WHEN bcc__lod(cell) = 15 THEN []::BIGINT[] END,
  list_slice([${[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `${tileBase} | ${i}`).join(',\n    ')}], 1 + (cell & 0), -1))`;

/** Checks of a cartesian frame given as origin and edge (the core's `checkFrame`). */
function frameChecks(fn: string): string {
  return `WHEN NOT (isfinite(edge) AND edge > 0) THEN ${fail(fn, 'frame edge must be a finite number > 0, not ', 'edge')}
  WHEN NOT (isfinite(x0) AND isfinite(y0) AND isfinite(z0) AND isfinite(x0 + edge) AND isfinite(y0 + edge) AND isfinite(z0 + edge))
    THEN ${fail(fn, 'frame origin must be three finite numbers, not ', `x0 || ', ' || y0 || ', ' || z0`)}`;
}

// Nearest BCC point inside [0, n−1]³ of lattice units (u, v, w): per axis the even candidate
// 2·round(u/2) capped at n − 2 and the odd one 2·round((u−1)/2)+1 clamped to [1, n − 1]
// (DuckDB's round is Rust's: half away from zero); the odd point wins only when strictly nearer.
// Capping both candidates always is the core's two-step snapDomain: a capped candidate differs from
// the free one only at u = 0 or u = n, where both lie at the same distance.
const SNAP_HELPERS: [string, string][] = [
  ['bcc__even(u, n)', 'least(2 * round(u / 2), n - 2)'],
  ['bcc__odd(u, n)', 'greatest(1, least(2 * round((u - 1) / 2) + 1, n - 1))'],
  ['bcc__sq(d)', '((d) * (d))'],
  [
    'bcc__odd_wins(u, v, w, n)',
    '(bcc__sq(u - bcc__odd(u, n)) + bcc__sq(v - bcc__odd(v, n)) + bcc__sq(w - bcc__odd(w, n))\n' +
      '  < bcc__sq(u - bcc__even(u, n)) + bcc__sq(v - bcc__even(v, n)) + bcc__sq(w - bcc__even(w, n)))::INTEGER',
  ],
  // Both candidate ids, then the winner picked without CASE and with each operand written once:
  // DuckDB copies a macro argument per reference, so fewer references plan faster when composed.
  [
    'bcc__snap_make(u, v, w, n, lod, frame, tier)',
    `[bcc__make(bcc__even(u, n), bcc__even(v, n), bcc__even(w, n), lod, frame, tier),
     bcc__make(bcc__odd(u, n), bcc__odd(v, n), bcc__odd(w, n), lod, frame, tier)][1 + bcc__odd_wins(u, v, w, n)]`,
  ],
];

// u = (p − origin) × (n / edge): the core's one multiply, in the same order, so the same doubles.
const n = `(1::BIGINT << ((TRY_CAST(lod AS INTEGER) & 15) + 1))`;
// The bodies take the function's name, for its messages: the alias under the spelling published
// first (docs/NAMING.md) names itself in its errors, as it always has.
const fromMetersBody = (fn: string) => `${guard(
  ['x', 'y', 'z', 'x0', 'y0', 'z0', 'edge', 'lod', 'frame', 'tier'],
  [
    checkInt(fn, 'frame', 'frame', 0, 255),
    checkInt(fn, 'tier', 'tier', 0, 3),
    checkInt(fn, 'LOD', 'lod', 0, 15),
    frameChecks(fn),
    `WHEN NOT (x >= x0 AND x < x0 + edge AND y >= y0 AND y < y0 + edge AND z >= z0 AND z < z0 + edge)
      THEN ${fail(fn, 'point (', `x || ', ' || y || ', ' || z || ') is outside the frame domain [origin, origin + edge) with origin (' || x0 || ', ' || y0 || ', ' || z0 || ') and edge ' || edge || '; choose a larger edge or another frame, or filter the row'`)}`,
  ],
)}
  + bcc__snap_make((x - x0) * (${n} / edge), (y - y0) * (${n} / edge), (z - z0) * (${n} / edge), ${n}, lod, frame, tier)`;

const unit = `(edge / (1::BIGINT << (bcc__lod(cell) + 1)))`;
const centerBody = (fn: string) =>
  `[struct_pack(x := x0 + bcc__x(cell) * ${unit}, y := y0 + bcc__y(cell) * ${unit}, z := z0 + bcc__z(cell) * ${unit})][1 + ${guard(
    ['cell', 'x0', 'y0', 'z0', 'edge'],
    [
      checkId(fn, 'cell'),
      frameChecks(fn),
      `WHEN greatest(bcc__x(cell), bcc__y(cell), bcc__z(cell)) >= (1 << (bcc__lod(cell) + 1))
      THEN ${fail(fn, 'id coordinates (', `bcc__x(cell) || ', ' || bcc__y(cell) || ', ' || bcc__z(cell) || ') exceed 0..' || ((1 << (bcc__lod(cell) + 1)) - 1) || ' at LOD ' || bcc__lod(cell) || ', so the id lies outside every frame domain: ' || cell`)}`,
    ],
  )}]`;

/** `bcc_from_frame_meters` under `name`: its own, or the alias `name` of `aliasOf`. */
function fromFrameMeters(name: string, aliasOf?: string): MacroDef {
  return {
    name,
    kind: 'scalar',
    signature: `${name}(x, y, z, x0, y0, z0, edge, lod [, frame := 0 [, tier := 0]]) → BIGINT${aliasOf === undefined ? '' : ` (alias of ${aliasOf})`}`,
    sql: macro(name, [['x, y, z, x0, y0, z0, edge, lod, frame := 0, tier := 0', fromMetersBody(name)]]),
  };
}

/** `bcc_cell_center` under `name`: its own, or the alias `name` of `aliasOf`. */
function cellCenter(name: string, aliasOf?: string): MacroDef[] {
  return idFunction({
    name,
    signature: `${name}(cell, x0, y0, z0, edge) → STRUCT(x, y, z DOUBLE)${aliasOf === undefined ? '' : ` (alias of ${aliasOf})`}`,
    forms: [['cell, x0, y0, z0, edge', centerBody(name)]],
    ids: ['cell'],
    result: 'value',
  });
}

/** The id and frame macros. */
export const ID_MACROS: MacroDef[] = [
  ...SNAP_HELPERS.map(([signature, body]) => helper(signature, body)),
  {
    name: ENCODE,
    kind: 'scalar',
    signature: 'bcc_encode(x, y, z, lod [, frame := 0 [, tier := 0]]) → BIGINT',
    sql: macro(ENCODE, [['x, y, z, lod, frame := 0, tier := 0', encodeBody]]),
  },
  ...idFunction({
    name: 'bcc_decode',
    signature: 'bcc_decode(cell) → STRUCT(frame, tier, lod, x, y, z INTEGER)',
    forms: [['cell', decodeBody]],
    ids: ['cell'],
    result: 'value',
  }),
  ...idFunction({
    name: 'bcc_lod',
    signature: 'bcc_lod(cell) → INTEGER',
    forms: [['cell', `${idGuard('bcc_lod')} + bcc__lod(cell)`]],
    ids: ['cell'],
    result: 'value',
  }),
  ...idFunction({
    name: 'bcc_is_valid',
    signature: 'bcc_is_valid(cell) → BOOLEAN',
    forms: [['cell', 'bcc__is_index64(cell)']],
    ids: ['cell'],
    result: 'value',
    // Text that is no id at all is not valid either: false, not an error.
    textForms: [
      [
        'cell',
        'list_transform([cell], lambda bcc__t: CASE WHEN bcc__t IS NULL THEN NULL ELSE coalesce(bcc__is_index64(try(bcc_from_string(bcc__t))), false) END)[1]',
      ],
    ],
  }),
  ...idFunction({
    name: TP,
    signature: 'bcc_tile_parent(cell [, lod]) → BIGINT',
    forms: [
      ['cell', tileParentBody],
      ['cell, lod', tileParentAtBody],
    ],
    ids: ['cell'],
    result: 'id',
  }),
  ...idFunction({
    name: 'bcc_tile_children',
    signature: 'bcc_tile_children(cell) → BIGINT[]',
    forms: [['cell', tileChildrenBody]],
    ids: ['cell'],
    result: 'ids',
  }),
  fromFrameMeters('bcc_from_frame_meters'),
  fromFrameMeters('bcc_from_frame_metres', 'bcc_from_frame_meters'),
  ...cellCenter('bcc_cell_center'),
  ...cellCenter('bcc_cell_centre', 'bcc_cell_center'),
];
