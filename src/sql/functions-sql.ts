/**
 * The shared pieces of the `bcc_*` SQL macros: bit-layout constants derived from the lattice core,
 * and the internal `bcc__*` helper macros (Morton spread/compact, field access, validation) that
 * the public macros expand to. Everything here is plain DuckDB SQL text; nothing runs in JS per row.
 *
 * An Index64 in SQL is a BIGINT holding the raw 64 bits, so it is negative (header `10`): it lies in
 * [-2^63, -2^62). Morton arithmetic stays below 2^48 and every multiply below 2^63, so no step can
 * overflow BIGINT (DuckDB raises on signed overflow, including `<<`).
 */
import { mortonEncode48 } from '../lattice/morton.js';
import { quoteLiteral } from './quote.js';

/** One SQL object of the function set. */
export interface MacroDef {
  /** Name as called from SQL. */
  name: string;
  /** `scalar` and `table` are public; `helper` macros (named `bcc__*`) are internal. */
  kind: 'scalar' | 'table' | 'helper';
  /** The call forms, e.g. `bcc_lod(cell) → INTEGER`. */
  signature: string;
  /** The `CREATE OR REPLACE MACRO …;` statement. */
  sql: string;
}

/** A BIGINT literal of a non-negative bigint (the hex value in a comment would not parse portably). */
export const lit = (v: bigint): string => v.toString();

/** Low 48 bits: the Morton code. */
export const MASK48 = lit((1n << 48n) - 1n);
/** Every bit above the Morton code (header, tier, frame, LOD) as a signed BIGINT mask. */
export const PREFIX_MASK = lit(-(1n << 48n));
/** Header, tier and frame bits (63..52) as a signed BIGINT mask: everything but LOD and Morton. */
export const KEY_MASK = lit(-(1n << 52n));
/** x bits of a Morton code (bit 0 of every 3-bit digit); y is this << 1, z << 2. */
export const AXIS_BITS = [
  mortonEncode48(0xffff, 0, 0),
  mortonEncode48(0, 0xffff, 0),
  mortonEncode48(0, 0, 0xffff),
];
/** Bit 63 alone, the Index64 header's leading 1, written so DuckDB reads it as a BIGINT. */
export const INT64_MIN = '(-9223372036854775808)::BIGINT';
/** Index64 ids are exactly the BIGINTs below this (header `10`: bit 63 set, bit 62 clear). */
export const INDEX64_END = lit(-(1n << 62n));

/** The dilated (spread) form of `v` on axis 0, 1, 2. */
export function dilated(v: number, axis: number): bigint {
  return mortonEncode48(axis === 0 ? v : 0, axis === 1 ? v : 0, axis === 2 ? v : 0);
}

/** Builds `CREATE OR REPLACE MACRO name(params) AS body;`; a list of forms makes overloads. */
export function macro(name: string, forms: [params: string, body: string][]): string {
  const parts = forms.map(([params, body]) => `(${params}) AS\n${body}`);
  return `CREATE OR REPLACE MACRO ${name}${parts.join(',\n')};`;
}

/** Builds an internal helper macro from its call form, e.g. `bcc__sq(d)`, and its body. */
export function helper(signature: string, body: string): MacroDef {
  const name = signature.slice(0, signature.indexOf('('));
  return {
    name,
    kind: 'helper',
    signature,
    sql: macro(name, [[signature.slice(name.length + 1, -1), body]]),
  };
}

/**
 * Raises `fn: message value` as `bcc__raise(…)`: a cast of the message to INTEGER, which always fails
 * (the text starts with `bcc_`) with DuckDB's "Could not convert string 'bcc_…' to INT32". Not
 * `error()`: DuckDB marks it VOLATILE and never shares an expression containing it, so a composed
 * call such as `bcc_neighbors(bcc_encode(…))` re-ran the inner guard once per reference to its
 * argument, 20–40× slower. Only rows whose CASE branch is taken evaluate it.
 */
export function fail(fn: string, message: string, value?: string, type = 'INTEGER'): string {
  const raise = `bcc__raise(${quoteLiteral(`${fn}: ${message}`)}${value === undefined ? '' : ` || ${value}`})`;
  if (type === 'INTEGER') return raise;
  // Lists cannot be cast from text, so a list-typed CASE gets the INTEGER raise inside a list.
  return type.endsWith('[]') ? `[${raise}]::${type}` : `${raise}::${type}`;
}

/** The WHEN that rejects anything but an Index64, naming the function and the id. */
export function checkId(fn: string, cell: string, type = 'INTEGER'): string {
  return `WHEN NOT bcc__is_index64(${cell}) THEN ${fail(fn, 'not an Index64 id (its header bits must be 10; Index64 BIGINTs are negative): ', `${cell}`, type)}`;
}

/** The WHEN that rejects a value that is not an integer in lo..hi. */
export function checkInt(
  fn: string,
  what: string,
  v: string,
  lo: number,
  hi: number,
  type = 'INTEGER',
): string {
  return `WHEN NOT bcc__int_in(${v}, ${lo}, ${hi}) THEN ${fail(fn, `${what} must be an integer in ${lo}..${hi}, not `, v, type)}`;
}

/** `a IS NULL OR b IS NULL …`. */
export function anyNull(...args: string[]): string {
  return args.map((a) => `${a} IS NULL`).join(' OR ');
}

/**
 * A guard: 0 for good arguments, NULL when one is NULL (or a `checks` line says NULL), an error
 * naming the bad one otherwise. Public macros are `guard + body` (or the guard folded into a list index), never
 * `CASE … THEN body`: DuckDB's common-subexpression pass does not look inside CASE, so a body under
 * CASE would re-evaluate a composed argument (`bcc_neighbors(bcc_encode(…))`) once per reference.
 * Bodies are therefore written without CASE, AND or OR, and never raise for any input.
 * @param nulls - arguments whose NULL makes the result NULL
 * @param checks - further `WHEN … THEN bcc__raise(…)` / `WHEN … THEN NULL` lines, in order
 */
export function guard(nulls: string[], checks: string[]): string {
  return `(CASE WHEN ${anyNull(...nulls)} THEN NULL
    ${checks.join('\n    ')}
    ELSE 0 END)`;
}

/** `v` as a BIGINT without ever raising (bodies must be total): NULL where the cast would fail. */
export const big = (v: string): string => `TRY_CAST(${v} AS BIGINT)`;

/** Spreads v (0..65535) to every third bit: (v | v<<16 …) as multiplies, as the bits never overlap. */
function spreadSql(v: string): string {
  let e = `(${big(v)} & 65535)`;
  for (const [mul, mask] of [
    [65537n, 0xff0000ffn],
    [257n, 0xf00f00f00fn],
    [17n, 0xc30c30c30c3n],
    [5n, 0x249249249249n],
  ] as const) {
    e = `((${e} * ${lit(mul)}) & ${lit(mask)})`;
  }
  return e;
}

/**
 * The same a byte at a time, reading v twice (low and high byte). That is deliberate for
 * bcc_encode's arguments: DuckDB shares an expression used twice outside CASE, also inside the
 * guard's CASE, so a computed argument (bcc_encode(i % 7, …)) is evaluated once rather than once
 * per check. Internal callers, whose arguments no guard reads, use the one-read form.
 */
function spreadTwiceSql(v: string): string {
  const byte = (b: string) => {
    let e = b;
    for (const [mul, mask] of [
      [257n, 0xf00fn],
      [17n, 0xc30c3n],
      [5n, 0x249249n],
    ] as const) {
      e = `((${e} * ${lit(mul)}) & ${lit(mask)})`;
    }
    return e;
  };
  return `(${byte(`(${big(v)} & 255)`)} | (${byte(`((${big(v)} >> 8) & 255)`)} << 24))`;
}

/** Gathers bits 0, 3, …, 45 of m into 16 bits: (v | v>>k) as (v * (1 + 2^k)) >> k, bits never overlap. */
function compactSql(m: string): string {
  let e = `(${m} & ${lit(0x249249249249n)})`;
  for (const [mul, shift, mask] of [
    [5n, 2, 0xc30c30c30c3n],
    [17n, 4, 0xf00f00f00fn],
    [257n, 8, 0xff0000ffn],
    [65537n, 16, 0xffffn],
  ] as const) {
    e = `(((${e} * ${lit(mul)}) >> ${shift}) & ${lit(mask)})`;
  }
  return e;
}

/** The internal helper macros every public macro builds on. */
export const HELPERS: MacroDef[] = (
  [
    ['bcc__raise(message)', 'CAST(message AS INTEGER)'],
    ['bcc__spread(v)', spreadSql('v')],
    ['bcc__spread2(v)', spreadTwiceSql('v')],
    ['bcc__compact(m)', compactSql('m')],
    ['bcc__x(c)', 'bcc__compact(c)::INTEGER'],
    ['bcc__y(c)', 'bcc__compact(c >> 1)::INTEGER'],
    ['bcc__z(c)', 'bcc__compact(c >> 2)::INTEGER'],
    ['bcc__lod(c)', '((c >> 48) & 15)::INTEGER'],
    ['bcc__frame(c)', '((c >> 52) & 255)::INTEGER'],
    ['bcc__tier(c)', '((c >> 60) & 3)::INTEGER'],
    ['bcc__is_index64(c)', `c < ${INDEX64_END}`],
    // Morton bit 0 is x's parity, bit 1 y's, bit 2 z's: a BCC point has 000 or 111.
    ['bcc__is_bcc(c)', '(c & 7) IN (0, 7)'],
    ['bcc__int_in(v, lo, hi)', '(v BETWEEN lo AND hi AND v = trunc(v))'],
    [
      'bcc__make(x, y, z, lod, frame, tier)',
      `(bcc__spread(x) | (bcc__spread(y) << 1) | (bcc__spread(z) << 2) | ((${big('tier')} & 3) << 60) | ((${big('frame')} & 255) << 52) | ((${big('lod')} & 15) << 48) | ${INT64_MIN})`,
    ],
    // bcc_encode's form: coordinates read twice, so that its guard shares them (see spreadTwiceSql).
    [
      'bcc__make2(x, y, z, lod, frame, tier)',
      `(bcc__spread2(x) | (bcc__spread2(y) << 1) | (bcc__spread2(z) << 2) | ((${big('tier')} & 3) << 60) | ((${big('frame')} & 255) << 52) | ((${big('lod')} & 15) << 48) | ${INT64_MIN})`,
    ],
    // The same key (header, tier, frame) as c, another LOD and lattice point.
    [
      'bcc__with(c, x, y, z, lod)',
      `((c & ${KEY_MASK}) | ((${big('lod')} & 15) << 48) | bcc__spread(x) | (bcc__spread(y) << 1) | (bcc__spread(z) << 2))`,
    ],
  ] as [string, string][]
).map(([signature, body]) => helper(signature, body));

/** What a function returns, for its VARCHAR form: ids come back as Bech32m text, values as they are. */
export type TextResult = 'id' | 'ids' | 'value';

/**
 * A public function over ids that takes each id as BIGINT (raw bits) or VARCHAR (Bech32m, decimal
 * or 0x hex, as `bcc_from_string` reads): DuckDB ≥ 1.5 overloads macros on parameter types, so a
 * BIGINT call binds the body directly (no per-row type test) and a VARCHAR call binds it over
 * `bcc_from_string(id)`; ids in the result come back as text, as h3-duckdb does for its VARCHAR
 * cells. Both overloads call one internal `bcc__impl_*` macro holding the body, because a macro
 * cannot name itself. Mixed BIGINT and VARCHAR ids in one call are not offered.
 * @returns the internal macro and the public one
 */
export function idFunction({
  name,
  signature,
  forms,
  ids,
  result,
  textForms,
}: {
  name: string;
  signature: string;
  forms: [params: string, body: string][];
  /** The parameters that are ids. */
  ids: readonly string[];
  result: TextResult;
  /** VARCHAR forms to use instead of the generated ones (same parameter lists). */
  textForms?: [params: string, body: string][];
}): MacroDef[] {
  const impl = `bcc__impl_${name.slice('bcc_'.length)}`;
  const overloads: [string, string][] = [];
  forms.forEach(([params, _], i) => {
    const names = params.split(',').map((p) => p.trim());
    const typed = (type: string) => names.map((p) => (ids.includes(p) ? `${p} ${type}` : p)).join(', ');
    overloads.push([typed('BIGINT'), `${impl}(${names.join(', ')})`]);
    // Each text is bound to a lambda parameter before anything reads it, and parsed once into
    // another: to the body a lambda parameter is a column, whereas a macro argument is copied into
    // every place that reads it (the Bech32m decoder's many reads, and the body's), which made
    // creating these forms take seconds.
    const parsed = ids.filter((p) => names.includes(p));
    const one = parsed.length === 1;
    const pack = (f: (p: string) => string) =>
      one ? f(parsed[0]!) : `struct_pack(${parsed.map((p) => `${p} := ${f(p)}`).join(', ')})`;
    const field = (v: string, p: string) => (one ? v : `${v}.${p}`);
    const implCall = `${impl}(${names.map((p) => (ids.includes(p) ? field('bcc__v', p) : p)).join(', ')})`;
    const out =
      result === 'id'
        ? `list_transform([${implCall}], lambda bcc__w: bcc_to_string(bcc__w))[1]`
        : result === 'ids'
          ? `list_transform(${implCall}, lambda bcc__w: bcc_to_string(bcc__w))`
          : implCall;
    const parse = `list_transform([${pack((p) => `bcc_from_string(${field('bcc__t', p)})`)}], lambda bcc__v: ${out})[1]`;
    const text = textForms?.[i]?.[1] ?? `list_transform([${pack((p) => p)}], lambda bcc__t: ${parse})[1]`;
    overloads.push([typed('VARCHAR'), text]);
  });
  return [
    { name: impl, kind: 'helper', signature: `${impl}: the body of ${name}`, sql: macro(impl, forms) },
    { name, kind: 'scalar', signature, sql: macro(name, overloads) },
  ];
}
