/**
 * JSON with exact integers. `JSON.parse` turns every number into a double, so an id such as
 * 9007199254740993 silently becomes 9007199254740992, and even an exact one such as
 * -9223372036854775808 prints back as -9223372036854776000. Lines with a long run of digits are
 * parsed here instead: an integer past ±(2^53 − 1) becomes a bigint, everything else is what
 * `JSON.parse` gives. `jsonToText` writes such values back with every digit.
 */

// Only an integer of 16 or more digits is past 2^53 - 1 (which has 16 digits).
const LONG_DIGITS = /\d{16}/;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const INTEGER = /^-?\d+$/;
const SPACE = /[ \t\n\r]*/y;
const STRING = /"(?:[^"\\]|\\.)*"/y;

/**
 * Whether an integer's decimal text names a value a double holds exactly.
 * @param text - an integer literal (optional sign, digits)
 * @returns true when `Number(text)` is that integer
 */
export function isExactDouble(text: string): boolean {
  const value = Number(text);
  if (Number.isSafeInteger(value)) return true;
  return Number.isFinite(value) && BigInt(value) === BigInt(text);
}

/**
 * Parses one JSON text as `JSON.parse` does, except that integers past ±(2^53 − 1) become bigints.
 * @param text - the JSON text
 * @returns the value
 * @throws {SyntaxError} for text that is not JSON (the message is `JSON.parse`'s)
 */
export function parseJsonExact(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (!LONG_DIGITS.test(text)) return value;
  let pos = 0;
  const skip = () => {
    SPACE.lastIndex = pos;
    SPACE.exec(text);
    pos = SPACE.lastIndex;
  };
  const token = (re: RegExp): string => {
    re.lastIndex = pos;
    const m = re.exec(text);
    // JSON.parse accepted the text, so every token is where the grammar says.
    pos = re.lastIndex;
    return m![0];
  };
  const parse = (): unknown => {
    skip();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const out: Record<string, unknown> = {};
      skip();
      if (text[pos] === '}') {
        pos++;
        return out;
      }
      for (;;) {
        skip();
        const key = JSON.parse(token(STRING)) as string;
        skip();
        pos++; // ':'
        // defineProperty, so that a key "__proto__" is an own property, as JSON.parse makes it.
        Object.defineProperty(out, key, {
          value: parse(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        skip();
        if (text[pos++] === '}') return out;
      }
    }
    if (c === '[') {
      pos++;
      const out: unknown[] = [];
      skip();
      if (text[pos] === ']') {
        pos++;
        return out;
      }
      for (;;) {
        out.push(parse());
        skip();
        if (text[pos++] === ']') return out;
      }
    }
    if (c === '"') return JSON.parse(token(STRING));
    if (c === 't' || c === 'f' || c === 'n') {
      const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
      pos += word.length;
      return c === 't' ? true : c === 'f' ? false : null;
    }
    const number = token(NUMBER);
    const value = Number(number);
    return INTEGER.test(number) && !Number.isSafeInteger(value) ? BigInt(number) : value;
  };
  return parse();
}

/**
 * JSON text of a value that may hold bigints (written as plain integers, every digit kept).
 * @param value - a value from {@link parseJsonExact}
 * @returns the JSON text
 */
export function jsonToText(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : jsonToText(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value))
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${jsonToText(v)}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
