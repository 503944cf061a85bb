/**
 * Where a command may write. An output file is checked before anything is read: it is not one of
 * the inputs (same real path or same inode, so symlinks and hard links count), it is not inside a
 * local lake (where vacuum or a reader would take it for the lake's own), and it can be written.
 * An output folder is written only when it is empty or holds an earlier run's manifest; replacing
 * that run removes exactly the files its manifest names, never anything else in the folder.
 */
import {
  accessSync,
  constants,
  fstatSync,
  lstatSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { OctaError } from '../../lattice/errors.js';

/** A file's identity: its real path and, when it exists, its device and inode. */
interface Identity {
  real: string;
  inode: string | undefined;
}

/** The real path of `path`: its nearest existing ancestor resolved, the missing rest appended. */
export function realPathOf(path: string): string {
  const full = resolve(path);
  let existing = full;
  const rest: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(existing), ...rest.reverse());
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return full;
      rest.push(basename(existing));
      existing = parent;
    }
  }
}

function identityOf(path: string): Identity {
  let inode: string | undefined;
  try {
    const s = statSync(path);
    inode = `${s.dev}:${s.ino}`;
  } catch {
    inode = undefined;
  }
  return { real: realPathOf(path), inode };
}

/** True when `inner` is `outer` or lies under it (both real, absolute paths). */
export function isInside(inner: string, outer: string): boolean {
  const r = relative(outer, inner);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
}

/** An input to keep outputs away from: a path, or an open descriptor (stdin redirected from a file). */
export type InputRef = { path: string } | { fd: number };

function inputIdentity(input: InputRef): Identity | undefined {
  if ('path' in input) return identityOf(input.path);
  try {
    const s = fstatSync(input.fd);
    return s.isFile() ? { real: '', inode: `${s.dev}:${s.ino}` } : undefined;
  } catch {
    return undefined;
  }
}

/** Options of {@link checkOutputFile}. */
export interface OutputFileCheck {
  path: string;
  /** How the user named it, for messages (`--reject-file`). */
  option: string;
  /** The inputs of the run. */
  inputs?: readonly InputRef[];
  /** Other outputs of the same run, by option name: two outputs may not be one file. */
  outputs?: readonly { path: string; option: string }[];
  /** The root of a local lake the run reads or writes. */
  lake?: string;
  /** A folder of the lake where this output belongs (`_rejects`), allowed inside the lake. */
  lakeFolder?: string;
  /** Missing parent folders are created (default false: the parent folder must exist). */
  createParents?: boolean;
}

/**
 * Refuses an output file that is one of the inputs, lies inside the lake, or cannot be written.
 * Call it before reading anything: a file that is both read and truncated loses rows silently.
 * @throws {OctaError} INVALID_ARGUMENT naming the option and the path
 */
export function checkOutputFile(check: OutputFileCheck): void {
  const { path, option, inputs = [], outputs = [], lake, lakeFolder, createParents = false } = check;
  if (typeof path !== 'string' || path === '') {
    throw new OctaError('INVALID_ARGUMENT', `${option} must name a file`, path);
  }
  const out = identityOf(path);
  for (const input of inputs) {
    const id = inputIdentity(input);
    if (id === undefined) continue;
    if ((id.real !== '' && id.real === out.real) || (id.inode !== undefined && id.inode === out.inode)) {
      const name = 'path' in input ? input.path : 'stdin';
      throw new OctaError(
        'INVALID_ARGUMENT',
        `${option} ${path} is the input ${name} (the same file${id.real === out.real || 'fd' in input ? '' : ' through a link'}): writing it would destroy the input; name another file`,
        path,
      );
    }
  }
  for (const other of outputs) {
    const id = identityOf(other.path);
    if (id.real === out.real || (id.inode !== undefined && id.inode === out.inode)) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        `${option} and ${other.option} name the same file ${path}`,
        path,
      );
    }
  }
  let parents = createParents;
  if (lake !== undefined) {
    const root = realPathOf(lake);
    // The lake's own folder for such files is created when missing, as for the default path.
    const inFolder = lakeFolder !== undefined && isInside(out.real, join(root, lakeFolder));
    parents ||= inFolder;
    if (isInside(out.real, root) && !inFolder) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        `${option} ${path} is inside the lake ${lake}${lakeFolder === undefined ? '' : ` (only its ${lakeFolder} folder takes such files)`}: write it elsewhere`,
        path,
      );
    }
  }
  checkWritable(path, option, parents);
}

function checkWritable(path: string, option: string, createParents: boolean): void {
  const cannot = (why: string) =>
    new OctaError('INVALID_ARGUMENT', `${option} ${path} cannot be written: ${why}`, path);
  let info: ReturnType<typeof statSync> | undefined;
  try {
    info = statSync(path);
  } catch {
    info = undefined;
  }
  if (info !== undefined) {
    if (info.isDirectory()) throw cannot('it is a directory; name a file');
    try {
      accessSync(path, constants.W_OK);
    } catch {
      throw cannot('it is not writable');
    }
    return;
  }
  // A new file: its folder must exist (or, with createParents, the nearest existing ancestor) and
  // be a writable directory.
  let dir = dirname(resolve(path));
  if (createParents) {
    while (!exists(dir) && dirname(dir) !== dir) dir = dirname(dir);
  }
  let dirInfo: ReturnType<typeof statSync>;
  try {
    dirInfo = statSync(dir);
  } catch {
    throw cannot(`its folder ${dirname(path)} does not exist`);
  }
  if (!dirInfo.isDirectory()) throw cannot(`${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw cannot(`the folder ${dir} is not writable`);
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** What {@link claimOutputDir} found: the files of an earlier run that may be replaced. */
export interface ClaimedDir {
  /** The folder, absolute. */
  dir: string;
  /** Paths relative to `dir` that the earlier run's manifest names (the manifest last); none when new or empty. */
  earlier: string[];
}

/** Options of {@link claimOutputDir}. */
export interface OutputDirCheck {
  dir: string;
  /** How the user named it, for messages (`--out`). */
  option: string;
  /** The manifest's file name in the folder (`manifest.json`). */
  manifest: string;
  /**
   * The files a parsed manifest names, relative to the folder, or undefined when the JSON is not
   * a manifest of this kind of run.
   */
  filesOf: (manifest: unknown) => string[] | undefined;
  /** A local lake the run reads: the folder may neither be inside it nor hold it. */
  lake?: string;
}

/**
 * Checks an output folder before anything is written: it is missing, empty, or holds the manifest
 * of an earlier run of the same kind, whose files (and only those) the new run may remove.
 * @throws {OctaError} INVALID_ARGUMENT for a file, a folder with other content, a manifest naming a
 *   path outside the folder, or a folder inside (or holding) the lake
 */
export function claimOutputDir(check: OutputDirCheck): ClaimedDir {
  const { option, manifest, filesOf, lake } = check;
  if (typeof check.dir !== 'string' || check.dir === '') {
    throw new OctaError('INVALID_ARGUMENT', `${option} must name a folder`, check.dir);
  }
  const dir = resolve(check.dir);
  const real = realPathOf(dir);
  if (lake !== undefined) {
    const root = realPathOf(lake);
    if (isInside(real, root) || isInside(root, real)) {
      throw new OctaError(
        'INVALID_ARGUMENT',
        `${option} ${check.dir} ${isInside(real, root) ? 'is inside' : 'holds'} the lake ${lake}: name a folder outside it`,
        check.dir,
      );
    }
  }
  let info: ReturnType<typeof lstatSync> | undefined;
  try {
    info = statSync(dir);
  } catch {
    return { dir, earlier: [] };
  }
  if (!info.isDirectory()) {
    throw new OctaError('INVALID_ARGUMENT', `${option} ${check.dir} is not a folder`, check.dir);
  }
  const entries = readdirSync(dir);
  if (entries.length === 0) return { dir, earlier: [] };
  const refuse = (why: string) =>
    new OctaError(
      'INVALID_ARGUMENT',
      `${option} ${check.dir} ${why}; nothing was changed: name a new or empty folder, or the folder of an earlier export`,
      check.dir,
    );
  if (!entries.includes(manifest)) {
    throw refuse(
      `is not empty (it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}) and has no ${manifest} of an earlier export`,
    );
  }
  let files: string[] | undefined;
  try {
    files = filesOf(JSON.parse(readFileSync(join(dir, manifest), 'utf8')));
  } catch {
    files = undefined;
  }
  if (files === undefined) throw refuse(`holds a ${manifest} that is not an export's manifest`);
  const earlier: string[] = [];
  for (const f of files) {
    const norm = typeof f === 'string' ? normalize(f) : '';
    const bad = norm === '' || isAbsolute(norm) || norm === '..' || norm.startsWith(`..${sep}`);
    // A folder that is a link could lead a named file outside: the real folder must be inside too.
    if (bad || !isInside(realPathOf(dirname(join(dir, norm))), real) || norm === manifest) {
      throw refuse(`holds a ${manifest} naming ${JSON.stringify(f)}, which is not a file inside it`);
    }
    earlier.push(norm);
  }
  earlier.push(manifest);
  return { dir, earlier };
}

/**
 * Removes files a run wrote or an earlier run's manifest names (see {@link claimOutputDir}), then
 * the folders they leave empty; a file already gone is fine, and anything else in the folder stays.
 * @param dir - the output folder
 * @param paths - the files, relative to `dir`
 */
export function removeFiles(dir: string, paths: readonly string[]): void {
  const folders = new Set<string>();
  for (const f of paths) {
    const path = join(dir, f);
    try {
      if (!lstatSync(path).isDirectory()) unlinkSync(path);
    } catch {
      // Already gone.
    }
    for (let d = dirname(f); d !== '.' && d !== ''; d = dirname(d)) folders.add(d);
  }
  // Deepest first; a folder that still holds something stays.
  for (const d of [...folders].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(join(dir, d));
    } catch {
      // Not empty, or gone.
    }
  }
}

/**
 * Throws when the run was aborted, so that it stops where a failure would and cleans up the same way.
 * @throws {OctaError} INTERRUPTED naming the signal's reason
 */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted !== true) return;
  const reason = signal.reason;
  if (reason instanceof OctaError) throw reason;
  throw new OctaError('INTERRUPTED', 'interrupted; what the run wrote was removed', String(reason));
}
