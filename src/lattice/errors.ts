/**
 * The one error type of octa-lake. Every error a user can cause carries a stable `code`, the
 * offending `value`, and a message that says what to do next, in the style of h3-js:
 * `LOD must be 0-15 (code: INVALID_LOD, value: 16)`.
 */

/** Stable error codes; tests and callers match on these, never on message text. */
export type OctaErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_LOD'
  | 'INVALID_TIER'
  | 'INVALID_FRAME'
  | 'INVALID_PARITY'
  | 'OUT_OF_RANGE'
  | 'OUT_OF_DOMAIN'
  | 'INVALID_ID'
  | 'INVALID_BECH32'
  | 'INVALID_INPUT'
  | 'SCHEMA_MISMATCH'
  | 'CONFLICT'
  | 'IO_ERROR'
  | 'NOT_FOUND'
  | 'CORRUPT'
  /** The caller aborted the run (SIGINT, SIGTERM); what it wrote was removed. */
  | 'INTERRUPTED';

/** Options of an {@link OctaError}. */
export interface OctaErrorOptions {
  /**
   * The library parameters (option names such as `timeValue`, `coords.lat`) and functions (`verify()`)
   * the message names. Each is written in the message between backticks, so that a front end can
   * name them its own way: the CLI writes its flags (`--time-value`) with {@link OctaError.renamed}.
   */
  params?: readonly string[];
}

/** An error with a machine-readable code and the value that caused it. */
export class OctaError extends Error {
  readonly code: OctaErrorCode;
  readonly value: unknown;
  /** The library names the message mentions between backticks (see {@link OctaErrorOptions.params}). */
  readonly params: readonly string[];
  readonly #text: string;

  /**
   * @param code - stable error code
   * @param message - what is wrong and, where the user can act, what to do next
   * @param value - the offending value (printed in the message)
   * @param options - the parameters the message names
   */
  constructor(code: OctaErrorCode, message: string, value?: unknown, options: OctaErrorOptions = {}) {
    super(withCode(message, code, value));
    this.name = 'OctaError';
    this.code = code;
    this.value = value;
    this.params = options.params ?? [];
    this.#text = message;
  }

  /**
   * The message with each named parameter written as `rename` says (the CLI's `--time-value` for
   * `timeValue`); a parameter `rename` leaves undefined keeps its library name.
   */
  renamed(rename: (param: string) => string | undefined): string {
    let text = this.#text;
    for (const param of this.params) {
      const name = rename(param);
      if (name !== undefined) text = text.replaceAll(`\`${param}\``, name);
    }
    return withCode(text, this.code, this.value);
  }
}

function withCode(message: string, code: OctaErrorCode, value: unknown): string {
  return value === undefined
    ? `${message} (code: ${code})`
    : `${message} (code: ${code}, value: ${show(value)})`;
}

function show(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return (
      JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value)
    );
  } catch {
    return String(value);
  }
}

/**
 * Checks that `value` is an integer in [min, max].
 * @param what - what the value is, for the message (a parameter between backticks, listed in `options.params`)
 * @param options - the parameters `what` names
 * @throws {OctaError} with `code` when it is not
 */
export function checkInt(
  value: number,
  min: number,
  max: number,
  code: OctaErrorCode,
  what: string,
  options: OctaErrorOptions = {},
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OctaError(code, `${what} must be an integer in ${min}..${max}`, value, options);
  }
}
