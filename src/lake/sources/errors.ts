/**
 * Turning what libraries and the file system throw into OctaErrors that name the input.
 */
import { OctaError } from '../../lattice/errors.js';

/**
 * The message of anything thrown (wasm code throws strings as well as Errors).
 * @param error - what was thrown
 * @returns its message
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Wraps a library error from reading a binary format in an OctaError naming the input.
 * @param name - the input
 * @param what - the format, for the message
 * @param error - what the library threw
 * @returns an INVALID_INPUT error (an OctaError passes through unchanged)
 */
export function corrupt(name: string, what: string, error: unknown): OctaError {
  if (error instanceof OctaError) return error;
  return new OctaError(
    'INVALID_INPUT',
    `${name}: cannot read ${what}, the file is corrupt or truncated: ${messageOf(error)}`,
    name,
  );
}

/**
 * Wraps a Node error from the file system in an OctaError naming the input.
 * @param name - the input's name for the message
 * @param error - what the file system threw
 * @returns an OctaError with code IO_ERROR (INVALID_INPUT for a directory)
 */
export function ioError(name: string, error: unknown): OctaError {
  if (error instanceof OctaError) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return new OctaError('IO_ERROR', 'input file not found; check the path', name);
  if (code === 'EISDIR') return new OctaError('INVALID_INPUT', 'input is a directory; name a file', name);
  if (code === 'EACCES' || code === 'EPERM') {
    return new OctaError('IO_ERROR', 'input file is not readable (permission denied)', name);
  }
  return new OctaError('IO_ERROR', `cannot read input: ${messageOf(error)}`, name);
}
