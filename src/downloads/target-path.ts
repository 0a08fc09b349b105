import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors';
import { DirectoryHandle } from './directory-handle';
import { downloadPathProblem, segmentsOf, sideFilesOf } from './download-path';

/**
 * Where a download writes: the folder that holds the target, opened by
 * handle, and the names in it. A job's path (relative to DOWNLOAD_ROOT) is
 * walked one folder at a time from the root, each opened without following a
 * symlink: whatever the tree under the root becomes during the job, every
 * file it creates, writes, renames or deletes is inside the folders it
 * checked (see directory-handle.ts).
 */
export interface TargetFiles {
  /** The folder holding the target. */
  dir: DirectoryHandle;
  /** The file readers will see, a name in `dir`. */
  name: string;
  /** Written first, renamed onto `name` once verified. */
  temp: string;
  /** The resume record beside the temporary file, and the side file it is written to first. */
  checkpoint: string;
  checkpointNext: string;
  /** For messages: the path as the caller named it. */
  shownAs: string;
  /**
   * Closes the folders. With `removeCreated`, first removes the folders this
   * walk created that are still empty (a failed or canceled job leaves no
   * trace); a folder another job wrote into meanwhile stays. A prefix job's
   * targets (job-folders.ts) leave that to the end of the job.
   */
  release(removeCreated: boolean): Promise<void>;
}

interface CreatedFolder {
  parent: DirectoryHandle;
  name: string;
}

/** The job's target under `root`, its folders created as needed. Throws InvalidRequest or Conflict, writing nothing, on a path it will not use. */
export async function openJobTarget(root: string, relative: string): Promise<TargetFiles> {
  return (await walkToTarget(root, relative, true))!;
}

/** The job's target if every folder to it exists, creating nothing; refuses what `openJobTarget` refuses. */
export function findJobTarget(root: string, relative: string): Promise<TargetFiles | undefined> {
  return walkToTarget(root, relative, false);
}

async function walkToTarget(root: string, relative: string, create: boolean): Promise<TargetFiles | undefined> {
  const segments = checkedSegments(relative);
  const walk = await walkFolders(root, segments.slice(0, -1), create);
  if (!walk) return undefined;
  const files = targetIn(walk.dir, segments[segments.length - 1], relative, walk.created, walk.held);
  try {
    refuseNonFile(await files.dir.lstat(files.name), files.shownAs);
    return files;
  } catch (err) {
    await files.release(true); // removes only what this walk created
    throw err;
  }
}

/** Whether the job's target exists now, creating nothing (the early answer to POST; the job checks again). */
export async function jobTargetExists(root: string, relative: string): Promise<boolean> {
  const files = await findJobTarget(root, relative);
  if (!files) return false;
  try {
    return (await files.dir.lstat(files.name)) !== undefined;
  } finally {
    await files.release(false);
  }
}

/** The command line's target: an absolute path the operator named, in a folder that exists. */
export async function openLocalTarget(target: string): Promise<TargetFiles> {
  const dir = await DirectoryHandle.open(path.dirname(target));
  return targetIn(dir, path.basename(target), target, [], []);
}

/** The path's segments, or InvalidRequest when it breaks the path rule. */
export function checkedSegments(relative: string): string[] {
  const problem = downloadPathProblem(relative);
  if (problem) throw new AppError('InvalidRequest', `The download path ${problem}.`);
  return segmentsOf(relative);
}

/**
 * Opens each folder below `root` in turn; undefined when one is missing and
 * `create` is off. Keeps open the parents of the folders it created (to remove
 * them again) and the last folder; closes the rest as it goes.
 */
async function walkFolders(
  root: string,
  folders: string[],
  create: boolean,
): Promise<{ dir: DirectoryHandle; created: CreatedFolder[]; held: DirectoryHandle[] } | undefined> {
  await fs.mkdir(root, { recursive: true, mode: 0o750 });
  let dir = await DirectoryHandle.open(root, '');
  const created: CreatedFolder[] = [];
  const held: DirectoryHandle[] = [];
  try {
    for (const name of folders) {
      const next = await dir.child(name, create);
      if (!next) {
        await closeAll([dir, ...held]);
        return undefined;
      }
      if (next.created) {
        created.push({ parent: dir, name });
        held.push(dir);
      } else if (!held.includes(dir)) {
        await dir.close();
      }
      dir = next.dir;
    }
  } catch (err) {
    await removeCreated(created);
    await closeAll([dir, ...held]);
    throw err;
  }
  return { dir, created, held };
}

function targetIn(dir: DirectoryHandle, name: string, shownAs: string, created: CreatedFolder[], held: DirectoryHandle[]): TargetFiles {
  let released = false;
  return {
    dir,
    name,
    ...sideFilesOf(name),
    shownAs,
    async release(remove) {
      if (released) return;
      released = true;
      if (remove) await removeCreated(created);
      await closeAll([dir, ...held]);
    },
  };
}

/** Refuses a folder, symlink or anything else but a regular file at the target (`existing`, its lstat). */
export function refuseNonFile(existing: Stats | undefined, shownAs: string): void {
  if (existing && !existing.isFile()) {
    throw new AppError('InvalidRequest', `The download path ${shownAs} names something that is not a regular file (a folder or a symlink).`);
  }
}

/** Deepest first, stopping at the first folder that is not empty (everything above it is not either). */
async function removeCreated(created: CreatedFolder[]): Promise<void> {
  for (const folder of [...created].reverse()) {
    if (!(await folder.parent.removeEmptyFolder(folder.name))) return;
  }
}

async function closeAll(dirs: DirectoryHandle[]): Promise<void> {
  await Promise.all([...new Set(dirs)].map((d) => d.close()));
}
