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

/** An error with a machine-readable code and the value that caused it. */
export class OctaError extends Error {
  readonly code: OctaErrorCode;
  readonly value: unknown;

  /**
   * @param code - stable error code
   * @param message - what is wrong and, where the user can act, what to do next
   * @param value - the offending value (printed in the message)
   */
  constructor(code: OctaErrorCode, message: string, value?: unknown) {
    super(
      value === undefined
        ? `${message} (code: ${code})`
        : `${message} (code: ${code}, value: ${show(value)})`,
    );
    this.name = 'OctaError';
    this.code = code;
    this.value = value;
  }
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
 * @throws {OctaError} with `code` when it is not
 */
export function checkInt(value: number, min: number, max: number, code: OctaErrorCode, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OctaError(code, `${what} must be an integer in ${min}..${max}`, value);
  }
}
