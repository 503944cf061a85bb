/**
 * `bcc_*` macros for lattice geometry on Index64 ids: the 14 neighbours, k-rings, step distance and
 * the BCC-correct lattice hierarchy (`latticeToParent` / `latticeToChildren` on ids).
 *
 * Neighbours never decode the id: Morton codes support per-axis ("dilated") arithmetic. With K the
 * bits of one axis, x + d is ((code | ~K) + d') & K and x − d is ((code & K) − d') & K, d' being d
 * spread to that axis; a neighbour is the OR of one such term per axis. Whether the id is off the
 * 16-bit faces is a comparison on code & K, since spreading preserves order.
 */
import { CHILD_OFFSETS, NEIGHBOR_OFFSETS } from '../lattice/bcc.js';
import { idGuard } from './functions-ids.js';
import {
  AXIS_BITS,
  checkId,
  checkInt,
  dilated,
  fail,
  guard,
  helper,
  INDEX64_END,
  idFunction,
  lit,
  MASK48,
  type MacroDef,
  PREFIX_MASK,
} from './functions-sql.js';

const MAX_K = 64;

/** Bit 62: set in a neighbour id whose coordinate left 0..65535 (making its header 11, not 10). */
const OUTSIDE_BIT = 1n << 62n;

/**
 * One axis of a neighbour: the axis bits of cell + d (d in −2..2), plus bit 62 when the coordinate
 * leaves 0..65535. Adding: the other axes' bits and bits 48..61 are filled with ones, so a carry out
 * of the axis runs up to bit 62. Subtracting: a borrow makes the term negative, which sets bit 62.
 * One read of the id per term either way, and nothing can overflow a BIGINT.
 */
function axisTerm(axis: number, d: number): string {
  const axisBits = AXIS_BITS[axis]!;
  const keep = lit(axisBits);
  if (d === 0) return `(cell & ${keep})`;
  const flagged = lit(axisBits | OUTSIDE_BIT);
  if (d > 0) {
    const fill = lit(OUTSIDE_BIT - 1n - axisBits);
    return `((((cell & ${MASK48}) | ${fill}) + ${lit(dilated(d, axis))}) & ${flagged})`;
  }
  return `(((cell & ${keep}) - ${lit(dilated(-d, axis))}) & ${flagged})`;
}

const NEIGHBORS: string[] = [];
for (let i = 0; i < 42; i += 3) {
  const d = [NEIGHBOR_OFFSETS[i]!, NEIGHBOR_OFFSETS[i + 1]!, NEIGHBOR_OFFSETS[i + 2]!];
  NEIGHBORS.push(`(cell & ${PREFIX_MASK}) | ${d.map((v, axis) => axisTerm(axis, v)).join(' | ')}`);
}
const interior = [0, 1, 2]
  .map((a) => `(cell & ${lit(AXIS_BITS[a]!)}) BETWEEN ${dilated(2, a)} AND ${dilated(65533, a)}`)
  .join(' AND ');

const neighborList = `[${NEIGHBORS.map((n) => `\n    ${n}`).join(',')}]`;
// At the faces: the same list without the ids flagged outside (they are no Index64), by a lambda
// that reads only its element. (Not a lambda over an offset list reading the id: DuckDB captures
// every column reference of a composed argument separately, hundreds, and runs several times slower.)
const faceList = `list_filter(${neighborList}, lambda v: v < ${INDEX64_END})`;
/** CASE lines rejecting a bad id; NULL (fall through to the common list) for ids off the faces. */
const neighborCases = (fn: string, faces: string) => `CASE WHEN cell IS NULL THEN NULL
    ${checkId(fn, 'cell', 'BIGINT[]')}
    WHEN NOT (${interior}) THEN ${faces} END`;
// Off the 16-bit faces every neighbour exists: the common list, CASE-free so that a composed
// argument is evaluated once. At the faces the flagged ones are dropped, as the crate drops them.
// list_slice(list, 1 + (cell & 0), -1) is NULL for a NULL cell.
const neighborsBody = `coalesce(
  ${neighborCases('bcc_neighbors', faceList)},
  list_slice(${neighborList}, 1 + (cell & 0), -1))`;

const offsetRows = [];
for (let i = 0; i < 42; i += 3) {
  offsetRows.push(
    `(${i / 3}, ${NEIGHBOR_OFFSETS[i]}, ${NEIGHBOR_OFFSETS[i + 1]}, ${NEIGHBOR_OFFSETS[i + 2]})`,
  );
}
// The k-ring's offsets from its centre in latticeToKRing's breadth-first order. Ring r + 1 holds the
// points at step distance r + 1; each is listed where the breadth-first walk first meets it, i.e.
// by the smallest (rank of its ring-r neighbour, crate offset index). Each offset comes with what the
// dilated arithmetic needs: per axis the spread amounts to add (a) and subtract (s), and the range of
// the centre's axis bits (l..h) for which the result stays within 0..65535. Depends on k alone, so
// DuckDB computes it once per query when k is a constant. Capped at 64 so a bad k fails fast.
const dil = (v: string, axis: number) => `(bcc__spread(${v}) << ${axis})`;
const offsetStruct = ['dx', 'dy', 'dz']
  .map((d, axis) => {
    const a = 'xyz'[axis];
    return `a${a} := ${dil(`greatest(${d}, 0)`, axis)}, s${a} := ${dil(`greatest(-${d}, 0)`, axis)},
      l${a} := ${dil(`greatest(-${d}, 0)`, axis)}, h${a} := ${dil(`65535 - greatest(${d}, 0)`, axis)}`;
  })
  .join(',\n      ');
const kringOffsetsBody = `(WITH RECURSIVE
  o(i, dx, dy, dz) AS (VALUES ${offsetRows.join(', ')}),
  ring(r, rank, dx, dy, dz) AS (
    SELECT 0, 0::BIGINT, 0, 0, 0
    UNION ALL
    SELECT r, row_number() OVER (ORDER BY key), dx, dy, dz FROM (
      SELECT any_value(ring.r) + 1 AS r, min(ring.rank * 14 + o.i) AS key,
             ring.dx + o.dx AS dx, ring.dy + o.dy AS dy, ring.dz + o.dz AS dz
      FROM ring, o
      WHERE ring.r < least(k, ${MAX_K})
        AND bcc__steps(abs(ring.dx + o.dx), abs(ring.dy + o.dy), abs(ring.dz + o.dz)) = ring.r + 1
      GROUP BY ring.dx + o.dx, ring.dy + o.dy, ring.dz + o.dz))
  SELECT list(struct_pack(${offsetStruct}) ORDER BY r, rank) FROM ring)`;

/** One axis of cell + offset o in dilated arithmetic: add o.a<axis> or subtract o.s<axis>. */
const farTerm = (axis: number) => {
  const a = 'xyz'[axis];
  const keep = lit(AXIS_BITS[axis]!);
  const others = lit((1n << 48n) - 1n - AXIS_BITS[axis]!);
  return `(((((cell | ${others}) + o.a${a}) & ${keep}) - o.s${a}) & ${keep})`;
};
const inRange = [0, 1, 2]
  .map((axis) => {
    const a = 'xyz'[axis];
    return `(cell & ${lit(AXIS_BITS[axis]!)}) BETWEEN o.l${a} AND o.h${a}`;
  })
  .join(' AND ');
const kringFarBody = `list_transform(list_filter(offsets, lambda o: ${inRange}),
    lambda o: (cell & ${PREFIX_MASK}) | ${farTerm(0)} | ${farTerm(1)} | ${farTerm(2)})`;

// The CASE is on k alone, so for a constant k DuckDB folds it to one branch before planning.
const kringBody = `CASE WHEN k IS NULL THEN NULL
  ${checkInt('bcc_kring', 'k', 'k', 0, MAX_K, 'BIGINT[]')}
  WHEN k = 0 THEN list_slice([cell], 1 + ${idGuard('bcc_kring')}, -1)
  WHEN k = 1 THEN coalesce(
    ${neighborCases('bcc_kring', `list_prepend(cell, ${faceList})`)},
    list_slice(${neighborList.replace('[', '[cell, ')}, 1 + (cell & 0), -1))
  ELSE list_slice(bcc__kring_far(cell, bcc__kring_offsets(k)), 1 + ${idGuard('bcc_kring')}, -1) END`;

const DIST = 'bcc_distance';
const distanceBody = `${guard(
  ['a', 'b'],
  [
    checkId(DIST, 'a'),
    checkId(DIST, 'b'),
    `WHEN (a >> 48) <> (b >> 48) THEN ${fail(DIST, 'ids differ in frame, tier or LOD, so no lattice path joins them: ', `a || ' and ' || b`)}`,
    `WHEN NOT bcc__is_bcc(a) THEN ${fail(DIST, 'not a BCC lattice point (coordinates must be all even or all odd): ', 'a')}`,
    `WHEN NOT bcc__is_bcc(b) THEN ${fail(DIST, 'not a BCC lattice point (coordinates must be all even or all odd): ', 'b')}`,
  ],
)}
  + bcc__steps(abs(bcc__x(a) - bcc__x(b)), abs(bcc__y(a) - bcc__y(b)), abs(bcc__z(a) - bcc__z(b)))`;

/** The rejections shared by the lattice hierarchy macros. */
const latticeChecks = (fn: string, type = 'INTEGER'): string[] => [
  checkId(fn, 'cell', type),
  `WHEN NOT bcc__is_bcc(cell) THEN ${fail(fn, 'not a BCC lattice point (coordinates must be all even or all odd): ', 'cell', type)}`,
];

// The unique q with p among 2q + (0,0,0), (2,0,0), (0,2,0), (0,0,2), (1,±1,±1). Even p: h = p/2,
// and the one axis whose parity differs from the other two (if any) steps down by one. Odd p:
// qx = (px − 1)/2 and qy, qz are whichever of (p − 1)/2, (p + 1)/2 has qx's parity. Both are
// computed and blended by p's parity (no CASE); a q below 0 (p = (0, 2, 2) has parent (−1, 1, 1))
// has no Index64, so the id is divided by 0, which DuckDB makes NULL.
const LP = 'bcc_lattice_parent';
const [X, Y, Z] = ['bcc__x(cell)', 'bcc__y(cell)', 'bcc__z(cell)'];
const odd = '(cell & 1)';
const qx = `(bcc__lp_even(${X}, ${Y}, ${Z}) + (((${X} - 1) >> 1) - bcc__lp_even(${X}, ${Y}, ${Z})) * ${odd})`;
const qy = `(bcc__lp_even(${Y}, ${X}, ${Z}) + (bcc__lp_odd(${X}, ${Y}) - bcc__lp_even(${Y}, ${X}, ${Z})) * ${odd})`;
const qz = `(bcc__lp_even(${Z}, ${X}, ${Y}) + (bcc__lp_odd(${X}, ${Z}) - bcc__lp_even(${Z}, ${X}, ${Y})) * ${odd})`;
const latticeParentBody = `${guard(['cell'], [...latticeChecks(LP), 'WHEN bcc__lod(cell) = 0 THEN NULL'])}
  + bcc__with(cell, ${qx},
      ${qy},
      ${qz}, bcc__lod(cell) - 1)
    // (least(${qx}, ${qy}, ${qz}) >= 0)::BIGINT`;

const children = [];
for (let i = 0; i < 24; i += 3) {
  children.push([0, 1, 2].map((a) => `2 * ${[X, Y, Z][a]} + ${CHILD_OFFSETS[i + a]}`));
}
const child = (c: string[]) => `bcc__with(cell, ${c.join(', ')}, bcc__lod(cell) + 1)`;
const LC = 'bcc_lattice_children';
const latticeChildrenBody = `coalesce(
  CASE WHEN cell IS NULL THEN NULL
    ${latticeChecks(LC, 'BIGINT[]').join('\n    ')}
    WHEN bcc__lod(cell) = 15 THEN []::BIGINT[]
    WHEN least(${X}, ${Y}, ${Z}) = 0 OR greatest(${X}, ${Y}, ${Z}) >= 32767 THEN list_filter([${children
      .map(
        (c) =>
          `\n      CASE WHEN ${c.map((v) => `${v} BETWEEN 0 AND 65535`).join(' AND ')} THEN ${child(c)} END`,
      )
      .join(',')}],
      lambda v: v IS NOT NULL) END,
  list_slice([${children.map((c) => `\n    ${child(c)}`).join(',')}], 1 + (cell & 0), -1))`;

/** The geometry macros. */
export const GEOMETRY_MACROS: MacroDef[] = [
  helper('bcc__steps(dx, dy, dz)', '((dx + dy + dz - least(dx, dy, dz)) // 2)'),
  helper('bcc__kring_offsets(k)', kringOffsetsBody),
  helper('bcc__kring_far(cell, offsets)', kringFarBody),
  // The k-ring body with its offsets given, for the text form (see bcc_kring below).
  helper('bcc__kring_with(cell, k, offsets)', kringBody.replace('bcc__kring_offsets(k)', 'offsets')),
  // Even p: p/2, stepped down on the axis whose parity differs from both others (xor bit 0).
  helper('bcc__lp_even(a, b, c)', '((a >> 1) - (xor(a >> 1, b >> 1) & xor(a >> 1, c >> 1) & 1))'),
  // Odd p: of (p − 1)/2 and (p + 1)/2 the one with the parity of qx = (px − 1)/2.
  helper('bcc__lp_odd(px, p)', '(((p - 1) >> 1) + (xor((p - 1) >> 1, (px - 1) >> 1) & 1))'),
  ...idFunction({
    name: 'bcc_neighbors',
    signature: 'bcc_neighbors(cell) → BIGINT[]',
    forms: [['cell', neighborsBody]],
    ids: ['cell'],
    result: 'ids',
  }),
  ...idFunction({
    name: 'bcc_kring',
    signature: 'bcc_kring(cell, k) → BIGINT[]',
    forms: [['cell, k', kringBody]],
    ids: ['cell'],
    result: 'ids',
    // Its body holds a subquery (the offset list), which DuckDB does not allow inside a lambda: the
    // offsets are computed outside and handed in beside the parsed id, so the text is still parsed
    // once (a macro argument would be copied into each of the body's hundred reads of the id, which
    // took DuckDB 10-40 s to bind).
    textForms: [
      [
        'cell, k',
        `list_transform([struct_pack(c := bcc_from_string(cell), o := CASE WHEN k > 1 THEN bcc__kring_offsets(k) END)],
          lambda bcc__p: list_transform(bcc__kring_with(bcc__p.c, k, bcc__p.o), lambda bcc__w: bcc_to_string(bcc__w)))[1]`,
      ],
    ],
  }),
  ...idFunction({
    name: DIST,
    signature: 'bcc_distance(a, b) → INTEGER',
    forms: [['a, b', distanceBody]],
    ids: ['a', 'b'],
    result: 'value',
  }),
  ...idFunction({
    name: LP,
    signature: 'bcc_lattice_parent(cell) → BIGINT',
    forms: [['cell', latticeParentBody]],
    ids: ['cell'],
    result: 'id',
  }),
  ...idFunction({
    name: LC,
    signature: 'bcc_lattice_children(cell) → BIGINT[]',
    forms: [['cell', latticeChildrenBody]],
    ids: ['cell'],
    result: 'ids',
  }),
];
