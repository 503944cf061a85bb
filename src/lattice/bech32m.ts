/**
 * Bech32 / Bech32m (BIP-173 / BIP-350) text for identifiers, decoding with the same acceptance
 * rules as the Rust `bech32` 0.11/0.12 crate's `decode`, which octaindex3d calls:
 * - the separator is the last '1'; every character after it must be in the Bech32 alphabet;
 * - the whole string must not mix upper and lower case; the HRP is 1..83 printable ASCII chars;
 * - the data part holds at least the 6 checksum characters and the string is at most 1023 chars;
 * - a Bech32m checksum is accepted, and so is a plain Bech32 one (the crate's `decode` tries both);
 * - 5-bit groups become bytes with leftover bits dropped, unchecked (the crate does not check them).
 * The HRP keeps its case, as the crate's `Hrp::as_str` does, so callers compare it exactly.
 */
import { OctaError } from './errors.js';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const CHAR_VALUE = /* @__PURE__ */ (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < CHARSET.length; i++) {
    t[CHARSET.charCodeAt(i)] = i;
    t[CHARSET.toUpperCase().charCodeAt(i)] = i;
  }
  return t;
})();
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3] as const;
const BECH32_CONST = 1;
const BECH32M_CONST = 0x2bc830a3;
const MAX_LENGTH = 1023;
const MAX_HRP_LENGTH = 83;

/** Which checksum a string carried. */
export type Bech32Variant = 'bech32' | 'bech32m';

/** A decoded Bech32(m) string. */
export interface Bech32Decoded {
  /** The human-readable part, in the case it was written. */
  hrp: string;
  /** The payload bytes. */
  bytes: Uint8Array;
  /** The checksum that verified. */
  variant: Bech32Variant;
}

function polymod(values: ArrayLike<number>, start = 1): number {
  let chk = start;
  for (let i = 0; i < values.length; i++) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ values[i]!;
    for (let j = 0; j < 5; j++) if ((top >>> j) & 1) chk ^= GEN[j]!;
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const lower = hrp.toLowerCase();
  const out: number[] = [];
  for (let i = 0; i < lower.length; i++) out.push(lower.charCodeAt(i) >> 5);
  out.push(0);
  for (let i = 0; i < lower.length; i++) out.push(lower.charCodeAt(i) & 31);
  return out;
}

function bytesToFives(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push((acc >>> bits) & 31);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out.push((acc << (5 - bits)) & 31);
  return out;
}

function fivesToBytes(fives: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.floor((fives.length * 5) / 8));
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let i = 0; i < fives.length; i++) {
    acc = ((acc << 5) | fives[i]!) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

/**
 * Encodes bytes as lowercase Bech32m (or Bech32) text.
 * @param hrp - human-readable part, e.g. `i3d1`
 * @param bytes - payload
 * @param variant - checksum kind, Bech32m unless asked otherwise
 * @returns the string `hrp + '1' + data + checksum`
 */
export function bech32Encode(hrp: string, bytes: Uint8Array, variant: Bech32Variant = 'bech32m'): string {
  const data = bytesToFives(bytes);
  const values = [...hrpExpand(hrp), ...data, 0, 0, 0, 0, 0, 0];
  const mod = polymod(values) ^ (variant === 'bech32m' ? BECH32M_CONST : BECH32_CONST);
  let out = `${hrp.toLowerCase()}1`;
  for (const d of data) out += CHARSET[d];
  for (let i = 0; i < 6; i++) out += CHARSET[(mod >>> (5 * (5 - i))) & 31];
  return out;
}

function bad(reason: string, text: string): OctaError {
  return new OctaError('INVALID_BECH32', `invalid Bech32m string: ${reason}`, text);
}

/**
 * Decodes Bech32m (or Bech32) text with the acceptance rules of the Rust `bech32` crate.
 * @param text - the string
 * @returns HRP (case as written), payload bytes and the checksum variant
 * @throws {OctaError} INVALID_BECH32 naming the string and the rule it breaks
 */
export function bech32Decode(text: string): Bech32Decoded {
  let sep = -1;
  let upper = false;
  let lower = false;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (sep < 0 && c === 0x31) sep = i;
    else if (sep < 0 && (c >= 128 || CHAR_VALUE[c]! < 0)) {
      throw bad(`character ${JSON.stringify(text[i])} is not in the Bech32 alphabet`, text);
    }
    if (c >= 0x41 && c <= 0x5a) upper = true;
    else if (c >= 0x61 && c <= 0x7a) lower = true;
  }
  if (upper && lower) throw bad('mixed upper and lower case', text);
  if (sep < 0) throw bad("no '1' separator", text);
  const hrp = text.slice(0, sep);
  if (hrp.length === 0) throw bad('empty human-readable part', text);
  if (hrp.length > MAX_HRP_LENGTH) throw bad(`human-readable part longer than ${MAX_HRP_LENGTH}`, text);
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    if (c < 33 || c > 126) throw bad('human-readable part has a character outside printable ASCII', text);
  }
  const dataLength = text.length - sep - 1;
  if (dataLength < 6) throw bad('too short for a checksum', text);
  if (text.length > MAX_LENGTH) throw bad(`longer than ${MAX_LENGTH} characters`, text);
  const fives = new Uint8Array(dataLength);
  for (let i = 0; i < dataLength; i++) fives[i] = CHAR_VALUE[text.charCodeAt(sep + 1 + i)]!;
  const residue = polymod(fives, polymod(hrpExpand(hrp)));
  let variant: Bech32Variant;
  if (residue === BECH32M_CONST) variant = 'bech32m';
  else if (residue === BECH32_CONST) variant = 'bech32';
  else throw bad('checksum does not verify (a character is wrong or missing)', text);
  return { hrp, bytes: fivesToBytes(fives.subarray(0, dataLength - 6)), variant };
}
