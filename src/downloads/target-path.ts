import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors';

/**
 * Where a download may write. A job names a path relative to DOWNLOAD_ROOT;
 * it must stay inside the root after `..`, absolute forms and symlinks are
 * resolved, or it is refused (400) before anything is written.
 *
 * Every directory between the root and the file is checked one component at a
 * time, from the root down, before it is created: a symlink inside the root
 * that points out is refused at the component where it appears.
 */

/** Linux NAME_MAX and PATH_MAX, in bytes. */
const NAME_MAX = 255;
const PATH_MAX = 4096;
export const TEMP_SUFFIX = '.oss-download';
export const CHECKPOINT_SUFFIX = '.oss-download.json';
/** A file name that leaves room for the temporary and checkpoint names beside it. */
const MAX_BASE_BYTES = NAME_MAX - 1 - CHECKPOINT_SUFFIX.length;

export interface TargetFiles {
  /** The file readers will see, absolute. */
  target: string;
  /** Written first, renamed onto `target` once verified. */
  temp: string;
  /** The resume record beside the temporary file. */
  checkpoint: string;
}

/** The temporary and checkpoint names beside `target` (hidden, so globbing readers skip them). */
export function filesFor(target: string): TargetFiles {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return { target, temp: path.join(dir, `.${base}${TEMP_SUFFIX}`), checkpoint: path.join(dir, `.${base}${CHECKPOINT_SUFFIX}`) };
}

/** The relative path as a caller sent it, checked as text: nothing on disk is touched. */
export function checkRelativePath(relative: string): string[] {
  const refuse = (why: string) => new AppError('InvalidRequest', `The download path ${why}.`);
  if (relative === '') throw refuse('is empty');
  if (Buffer.byteLength(relative) > PATH_MAX) throw refuse(`is longer than ${PATH_MAX} bytes`);
  if (/[\u0000-\u001f\u007f\\]/.test(relative)) throw refuse('contains a control character or a backslash');
  if (path.isAbsolute(relative)) throw refuse('must be relative to the download root, not absolute');
  const parts = relative.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw refuse('must not contain ".." components');
  if (parts.length === 0) throw refuse('names no file');
  if (parts.some((p) => Buffer.byteLength(p) > NAME_MAX)) throw refuse(`has a component longer than ${NAME_MAX} bytes`);
  if (Buffer.byteLength(parts[parts.length - 1]) > MAX_BASE_BYTES) {
    throw refuse(`file name is longer than ${MAX_BASE_BYTES} bytes`);
  }
  if (parts[parts.length - 1].endsWith(TEMP_SUFFIX) || parts[parts.length - 1].endsWith(CHECKPOINT_SUFFIX)) {
    throw refuse('ends like one of the service\'s temporary files');
  }
  return parts;
}

/**
 * Resolves `relative` under `root`, creating the folders between them, and
 * returns the files a job writes. Throws InvalidRequest when the path leaves
 * the root in any way, with nothing written outside it.
 */
export async function resolveTarget(root: string, relative: string): Promise<TargetFiles> {
  const parts = checkRelativePath(relative);
  await fs.mkdir(root, { recursive: true });
  const realRoot = await fs.realpath(root);
  let dir = realRoot;
  for (const name of parts.slice(0, -1)) {
    dir = await enterDirectory(realRoot, path.join(dir, name));
  }
  const target = path.join(dir, parts[parts.length - 1]);
  const existing = await fs.lstat(target).catch(() => undefined);
  if (existing && !existing.isFile()) {
    throw new AppError('InvalidRequest', 'The download path names something that is not a regular file (a folder or a symlink).');
  }
  return filesFor(target);
}

/** Returns the real path of `candidate`, created if missing; refuses one that resolves outside the root. */
async function enterDirectory(realRoot: string, candidate: string): Promise<string> {
  try {
    await fs.mkdir(candidate, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const real = await fs.realpath(candidate);
  if (!isInside(realRoot, real)) {
    throw new AppError('InvalidRequest', 'The download path leads outside the download root (through a symlink).');
  }
  const stat = await fs.stat(real);
  if (!stat.isDirectory()) throw new AppError('InvalidRequest', 'A folder in the download path is a file.');
  return real;
}

export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/** Opens the temporary file for positional writes without following a planted symlink. */
export function openTemp(temp: string): Promise<fs.FileHandle> {
  return fs.open(temp, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
}
