/**
 * `bcc_to_string` / `bcc_from_string` as pure SQL: Bech32m text (`i3d11…`) exactly as bech32m.ts and
 * index64.ts write and read it, plus decimal and `0x` hex in `bcc_from_string` (as `parseId`).
 *
 * The Bech32 checksum is a polynomial remainder, linear over GF(2) in the 5-bit symbols: for a fixed
 * HRP and length the remainder is a constant XOR one table entry per symbol position. An Index64's
 * text is always 13 data symbols + 6 checksum symbols, so 19 tables of 32 entries replace the
 * bit-serial loop and both macros stay plain vectorised lookups. Other lengths (never valid but
 * for the crate's 14-symbol padding variant) take `list_reduce` over the symbols, the slow path.
 */
import { HRP_INDEX64 } from '../lattice/index64.js';
import {
  checkId,
  fail,
  helper,
  INDEX64_END,
  INT64_MIN,
  idFunction,
  lit,
  type MacroDef,
  macro,
} from './functions-sql.js';
import { quoteLiteral } from './quote.js';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
const BECH32M_CONST = 0x2bc830a3;
const BECH32_CONST = 1;
/** Data symbols plus checksum of every Index64 text: 64 bits → 13 symbols, then 6. */
const SYMBOLS = 19;

/** BIP-173 polymod, here only to build the constant tables (the core keeps its own private). */
function polymod(values: number[], start: number): number {
  let chk = start;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let j = 0; j < 5; j++) if ((top >>> j) & 1) chk ^= GEN[j]!;
  }
  return chk >>> 0;
}

const hrpExpand = (hrp: string): number[] => [
  ...[...hrp].map((c) => c.charCodeAt(0) >> 5),
  0,
  ...[...hrp].map((c) => c.charCodeAt(0) & 31),
];
const zeros = (n: number): number[] => new Array<number>(n).fill(0);
/** Remainder after the HRP alone: where the per-string loop starts. */
const HRP_STATE = polymod(hrpExpand(HRP_INDEX64), 1);
/** Remainder of the HRP and 19 zero symbols. */
const BASE = polymod([...hrpExpand(HRP_INDEX64), ...zeros(SYMBOLS)], 1);
/** TABLES[i][s]: what symbol s at position i adds (XOR) to the remainder of a 19-symbol string. */
const TABLES = Array.from({ length: SYMBOLS }, (_, i) =>
  Array.from({ length: 32 }, (_, s) => polymod([s, ...zeros(SYMBOLS - 1 - i)], 0)),
);

const xorAll = (terms: string[]): string => terms.reduce((acc, t) => `xor(${acc}, ${t})`);
const tableTerm = (i: number, s: string) => `[${TABLES[i]!.join(', ')}][${s} + 1]`;

// Symbols of the 64 bits, big-endian: 12 full 5-bit groups, then the low 4 bits and a zero pad bit.
const groups = [
  ...Array.from({ length: 12 }, (_, i) => `((cell >> ${59 - 5 * i}) & 31)`),
  '((cell & 15) << 1)',
];
const checksum = xorAll([lit(BigInt(BASE ^ BECH32M_CONST)), ...groups.map((g, i) => tableTerm(i, g))]);
// Text || guard: the guard is '' for an Index64 and NULL for NULL, so the body stays CASE-free.
const toStringBody = `bcc__text_of(cell, ${checksum})
  || (CASE WHEN cell IS NULL THEN NULL ${checkId('bcc_to_string', 'cell', 'VARCHAR')} ELSE '' END)`;
// One character per symbol from a 32-entry list, joined by one concat: ~12 ns a character in DuckDB
// (translate() over to_base digits reads the id once but costs ~1 µs a call).
const symbol = (g: string) => `bcc__b32(${g})`;
const textOfBody = `concat(${quoteLiteral(`${HRP_INDEX64}1`)}, ${groups.map(symbol).join(', ')},
  ${[25, 20, 15, 10, 5, 0].map((s) => symbol(`((checksum >> ${s}) & 31)`)).join(', ')})`;

const FS = 'bcc_from_string';
const quoted = `'"' || text || '"'`;
const ALPHABET = `[${CHARSET}${CHARSET.toUpperCase()}]`;
const sym = (i: number) => `bcc__symbol(t, ${i})`;
const LOWER19 = `${HRP_INDEX64}1[${CHARSET}]{${SYMBOLS}}`;
// The first 64 bits of the symbol stream; bit 63 goes in through INT64_MIN, so nothing overflows.
const bech32Value = `(((${sym(0)} & 15) << 59) | ${Array.from({ length: 11 }, (_, i) => `(${sym(i + 1)} << ${54 - 5 * i})`).join(' | ')}
    | (${sym(12)} >> 1) | ((${sym(0)} >> 4) * ${INT64_MIN}))`;
const residue19 = xorAll([
  lit(BigInt(BASE)),
  ...Array.from({ length: SYMBOLS }, (_, i) => tableTerm(i, sym(i))),
]);
const residueAny = `list_reduce(list_transform(string_split(substr(t, 6), ''), lambda ch: (strpos(${quoteLiteral(CHARSET)}, ch) - 1)::BIGINT),
      lambda chk, v: bcc__polymod_step(chk, v), ${HRP_STATE}::BIGINT)`;
const badChecksum = fail(
  FS,
  'invalid Bech32m string: checksum does not verify (a character is wrong or missing): ',
  quoted,
);

// The slow path, for text the common case rejected: bech32Decode's checks in its order (alphabet
// from the right, case, length, checksum), then expectHrp's payload length: 13 or 14 data symbols
// hold 8 bytes, as the crate's decoder counts. A 24-character text that gets here with a good
// alphabet and case has a bad checksum; list_reduce runs the general polymod.
const fromBech32Body = `CASE
  WHEN NOT regexp_full_match(substr(t, 6), ${quoteLiteral(`${ALPHABET}*`)})
    THEN ${fail(FS, 'invalid Bech32m string: character "', `regexp_extract(substr(t, 6), ${quoteLiteral(`([^${ALPHABET.slice(1)})${ALPHABET}*$`)}, 1) || '" is not in the Bech32 alphabet: ' || ${quoted}`)}
  WHEN regexp_matches(t, '[A-Z]') THEN ${fail(FS, 'invalid Bech32m string: mixed upper and lower case: ', quoted)}
  WHEN length(t) < 11 THEN ${fail(FS, 'invalid Bech32m string: too short for a checksum: ', quoted)}
  WHEN length(t) > 1023 THEN ${fail(FS, 'invalid Bech32m string: longer than 1023 characters: ', quoted)}
  WHEN ${residueAny} NOT IN (${BECH32M_CONST}, ${BECH32_CONST}) THEN ${badChecksum}
  WHEN (length(t) - 11) * 5 // 8 <> 8
    THEN ${fail(FS, 'wrong length: expected 8 bytes, got ', `((length(t) - 11) * 5 // 8) || ': ' || ${quoted}`)}
  ELSE bcc__bech32_value(t) END`;

// The common case (24 lowercase characters, checksum good) is the CASE-free value; the guard is 0
// there, and for everything else it is xor(other result, value), or NULL, or raises. The value
// reads t outside CASE, so DuckDB evaluates a composed argument (bcc_from_string(f(x))) once.
const fromTextBody = `xor(bcc__bech32_value(t), CASE WHEN text IS NULL THEN NULL
    WHEN regexp_full_match(t, ${quoteLiteral(LOWER19)}) AND ${residue19} IN (${BECH32M_CONST}, ${BECH32_CONST}) THEN 0
    ELSE xor(bcc__from_trimmed(text, t), bcc__bech32_value(t)) END)`;

const notIndex64 = (v: string) =>
  `CASE WHEN ${v} < ${INDEX64_END} THEN ${v} ELSE ${fail(FS, 'not an Index64 id (its header bits must be 10): ', quoted)} END`;
// parseId's decimal: unsigned, or the signed INT64 form; anything wider is not a 64-bit id.
const fromDecimalBody = `CASE
  WHEN TRY_CAST(t AS HUGEINT) IS NULL OR TRY_CAST(t AS HUGEINT) > 18446744073709551615
    THEN ${fail(FS, 'not an Index64 id: the value is wider than 64 bits: ', quoted)}
  WHEN TRY_CAST(t AS HUGEINT) < -9223372036854775808 THEN ${fail(FS, 'negative id below the INT64 range: ', quoted)}
  ELSE ${notIndex64('(CASE WHEN TRY_CAST(t AS HUGEINT) >= 9223372036854775808 THEN TRY_CAST(t AS HUGEINT) - 18446744073709551616 ELSE TRY_CAST(t AS HUGEINT) END)::BIGINT')} END`;
const fromHexBody = `CASE
  WHEN length(ltrim(substr(t, 3), '0')) > 16 THEN ${fail(FS, 'not an Index64 id: the value is wider than 64 bits: ', quoted)}
  WHEN ltrim(substr(t, 3), '0') = '' THEN ${notIndex64('0::BIGINT')}
  ELSE ${notIndex64(`(('0x' || ltrim(substr(t, 3), '0'))::UBIGINT::HUGEINT - CASE WHEN ('0x' || ltrim(substr(t, 3), '0'))::UBIGINT >= 9223372036854775808 THEN 18446744073709551616 ELSE 0 END)::BIGINT`)} END`;

const fromTrimmedBody = `CASE
  WHEN regexp_full_match(t, '-?[0-9]+') THEN bcc__from_decimal(text, t)
  WHEN regexp_full_match(t, '0[xX][0-9a-fA-F]+') THEN bcc__from_hex(text, t)
  WHEN starts_with(t, ${quoteLiteral(`${HRP_INDEX64}1`)}) AND NOT contains(substr(t, 6), '1') THEN bcc__from_bech32(text, t)
  WHEN contains(t, '1') THEN ${fail(FS, 'not Index64 text: its human-readable part ', `'"' || regexp_extract(t, '^(.*)1', 1) || '" is not i3d1 (r3d1 is Route64, g3d1 Galactic128; the HRP is case-sensitive): ' || ${quoted}`)}
  ELSE ${fail(FS, 'not an identifier: expected decimal, 0x hex or Bech32m text: ', quoted)} END`;

// What JS String.prototype.trim removes: WhiteSpace and LineTerminator code points (RE2 syntax).
const JS_SPACE =
  '[\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}]';

/** The text macros. */
export const TEXT_MACROS: MacroDef[] = [
  helper('bcc__b32(g)', `[${[...CHARSET].map((c) => quoteLiteral(c)).join(', ')}][(g) + 1]`),
  helper(
    'bcc__polymod_step(chk, v)',
    xorAll(['((chk & 33554431) << 5)', 'v', ...GEN.map((g, j) => `((chk >> ${25 + j}) & 1) * ${g}`)]),
  ),
  // & 31 keeps it total: a character outside the alphabet gives garbage, never an error.
  helper('bcc__symbol(t, i)', `((strpos(${quoteLiteral(CHARSET)}, substr(t, 6 + i, 1)) - 1) & 31)::BIGINT`),
  helper('bcc__bech32_value(t)', bech32Value),
  helper('bcc__text_of(cell, checksum)', textOfBody),
  helper('bcc__from_bech32(text, t)', fromBech32Body),
  helper('bcc__from_decimal(text, t)', fromDecimalBody),
  helper('bcc__from_hex(text, t)', fromHexBody),
  helper('bcc__from_trimmed(text, t)', fromTrimmedBody),
  helper('bcc__from_text(text, t)', fromTextBody),
  {
    name: FS,
    kind: 'scalar',
    signature: 'bcc_from_string(text) → BIGINT',
    sql: macro(FS, [
      [
        'text',
        `bcc__from_text(text, regexp_replace(text, ${quoteLiteral(`^${JS_SPACE}+|${JS_SPACE}+$`)}, '', 'g'))`,
      ],
    ]),
  },
  ...idFunction({
    name: 'bcc_to_string',
    signature: 'bcc_to_string(cell) → VARCHAR',
    forms: [['cell', toStringBody]],
    ids: ['cell'],
    result: 'value',
  }),
];
