import { constants, type Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import { AppError } from '../errors';

/**
 * A folder opened once, then used by handle: the download code never trusts
 * the tree under DOWNLOAD_ROOT, which other local writers may change while a
 * job runs (a folder swapped for a symlink, a FIFO planted at a side file).
 *
 * Node has no openat(), but on Linux a path through `/proc/self/fd/N` of a
 * folder opened with O_DIRECTORY|O_NOFOLLOW resolves relative to that folder,
 * wherever its old path now leads: the kernel follows the descriptor, not the
 * name. Every name given here is one component, and every open adds
 * O_NOFOLLOW (a symlink at the name is refused, never followed) and
 * O_NONBLOCK (a FIFO or device never blocks a thread of libuv's small pool),
 * then checks that what it opened is a regular file or a folder.
 */

const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const FILE_FLAGS = constants.O_NOFOLLOW | constants.O_NONBLOCK;

export class DirectoryHandle {
  /** The fsync in flight and the one callers wait for after it (sync() below). */
  private syncing: Promise<void> | undefined;
  private syncNext: Promise<void> | undefined;
  private deviceId: Promise<number> | undefined;

  private constructor(
    private readonly handle: FileHandle,
    /** How messages name it (relative to DOWNLOAD_ROOT for jobs): never used to reach it again. */
    readonly shownAs: string,
  ) {}

  /**
   * Opens the folder at `path`. Only the last component is checked for a
   * symlink: the path itself is the operator's (DOWNLOAD_ROOT, or a folder
   * named on the command line).
   */
  static async open(path: string, shownAs = path): Promise<DirectoryHandle> {
    return new DirectoryHandle(await fs.open(path, DIRECTORY_FLAGS).catch(refusal(shownAs)), shownAs);
  }

  /** `name` as a caller sees it: relative to the folder the walk started from. */
  private show(name: string): string {
    return this.shownAs === '' ? name : `${this.shownAs}/${name}`;
  }

  /** The kernel resolves this path inside the folder this handle holds, whatever its name now leads to. */
  pathOf(name: string): string {
    if (name === '' || name.includes('/') || name === '.' || name === '..') {
      throw new Error(`not a single path component: ${JSON.stringify(name)}`);
    }
    return `/proc/self/fd/${this.handle.fd}/${name}`;
  }

  /** The folder itself, for statfs and stat: the descriptor's own path. */
  get selfPath(): string {
    return `/proc/self/fd/${this.handle.fd}`;
  }

  /**
   * The sub-folder `name`, created (mode 0750) when `create` is set and it is
   * missing; `undefined` when it is missing and not created. A symlink or
   * anything else that is not a folder is refused (400): the caller's path
   * cannot be used, whatever a symlink there points at now.
   */
  async child(name: string, create: boolean): Promise<{ dir: DirectoryHandle; created: boolean } | undefined> {
    let created = false;
    if (create) {
      created = await fs.mkdir(this.pathOf(name), { mode: 0o750 }).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST') return false;
          throw err;
        },
      );
    }
    try {
      const handle = await fs.open(this.pathOf(name), DIRECTORY_FLAGS);
      return { dir: new DirectoryHandle(handle, this.show(name)), created };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !create) return undefined;
      if (code === 'ELOOP' || code === 'ENOTDIR') {
        throw new AppError(
          'InvalidRequest',
          `${this.show(name)} on the download path is a symlink or a file, not a folder; downloads never follow symlinks.`,
        );
      }
      throw err;
    }
  }

  /** Opens a regular file in this folder; a symlink, FIFO, socket or device there is refused (409). */
  async openFile(name: string, flags: number, mode = 0o640): Promise<FileHandle> {
    const handle = await fs.open(this.pathOf(name), flags | FILE_FLAGS, mode).catch(refusal(this.show(name)));
    const stat = await handle.stat().catch(async (err: unknown) => {
      await handle.close();
      throw err;
    });
    if (!stat.isFile()) {
      await handle.close();
      throw notRegular(this.show(name));
    }
    // A second name for the same file (a hard link planted beside a checkpoint) would have OSS's bytes
    // written into a file somewhere else: only a file with this one name is written to.
    if ((flags & (constants.O_WRONLY | constants.O_RDWR)) !== 0 && stat.nlink > 1) {
      await handle.close();
      throw new AppError('Conflict', `${this.show(name)} has other hard links; the download does not write through it. Remove it and try again.`);
    }
    return handle;
  }

  /**
   * A new, empty regular file at `name` (O_CREAT|O_EXCL): whatever was there
   * (a stale temporary file, or a symlink, FIFO or hard link planted there)
   * is unlinked, never opened, so what was opened needs no check.
   */
  async createFile(name: string, flags: number, mode = 0o640): Promise<FileHandle> {
    const create = () => fs.open(this.pathOf(name), flags | constants.O_CREAT | constants.O_EXCL | FILE_FLAGS, mode);
    try {
      return await create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    await this.unlink(name).catch(() => undefined); // a folder stays, and the second create refuses it
    return create().catch(refusal(this.show(name)));
  }

  /** The text of the regular file `name`, or undefined when there is none, it is not a regular file, or it is over `maxBytes`. */
  async readSmallFile(name: string, maxBytes: number): Promise<string | undefined> {
    let file: FileHandle | undefined;
    try {
      file = await this.openFile(name, constants.O_RDONLY);
      if ((await file.stat()).size > maxBytes) return undefined;
      return await file.readFile('utf8');
    } catch {
      return undefined;
    } finally {
      await file?.close();
    }
  }

  /** Writes `text` to the side file `via` and renames it over `name`: a crash leaves the old text or the new, never half. */
  async replaceFile(name: string, via: string, text: string): Promise<void> {
    const next = await this.openFile(via, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
    try {
      await next.writeFile(text);
    } finally {
      await next.close();
    }
    await this.rename(via, name);
  }

  /** What is at `name`, without following a symlink; undefined when nothing is. */
  lstat(name: string): Promise<Stats | undefined> {
    return fs.lstat(this.pathOf(name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
  }

  /** rename(2) replaces whatever is at `to` itself, a symlink included: nothing is followed. */
  async rename(from: string, to: string): Promise<void> {
    await fs.rename(this.pathOf(from), this.pathOf(to)).catch(refusal(this.show(to)));
  }

  /** link(2) does not follow a symlink at `from`, and fails with EEXIST rather than replace `to`. */
  async link(from: string, to: string): Promise<void> {
    await fs.link(this.pathOf(from), this.pathOf(to));
  }

  async unlink(name: string): Promise<void> {
    await fs.unlink(this.pathOf(name));
  }

  /** Removes each name, ignoring any failure: cleanup after a job, which must not hide the job's own error. */
  async unlinkQuietly(...names: string[]): Promise<void> {
    await Promise.all(names.map((n) => this.unlink(n).catch(() => undefined)));
  }

  /** Removes the sub-folder `name` if it is empty; true when it did. */
  removeEmptyFolder(name: string): Promise<boolean> {
    return fs.rmdir(this.pathOf(name)).then(
      () => true,
      () => false,
    );
  }

  /**
   * fsync of the folder: every rename or link made in it before the call is
   * durable once this resolves. Callers while one runs share the next one
   * (it may have started before their change): a prefix job publishing eight
   * files into one folder waits for one or two folder fsyncs, not eight.
   */
  sync(): Promise<void> {
    if (this.syncing === undefined) {
      this.syncing = this.handle.sync().finally(() => (this.syncing = undefined));
      return this.syncing;
    }
    // A caller that joins now may have renamed before the fsync in flight started, which then covered it:
    // if that fsync fails, the caller fails too (the next one could succeed with the error already reported).
    this.syncNext ??= this.syncing.then(
      () => {
        this.syncNext = undefined;
        return this.sync();
      },
      (err: unknown) => {
        this.syncNext = undefined;
        throw err;
      },
    );
    return this.syncNext;
  }

  /** The file system this folder is on (st_dev): a handle's folder never moves to another. */
  device(): Promise<number> {
    this.deviceId ??= this.handle.stat().then((s) => s.dev);
    return this.deviceId;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/** Maps what open/rename say about a hostile tree to a caller's error; anything else is passed on. */
function refusal(shownAs: string): (err: unknown) => never {
  return (err) => {
    switch ((err as NodeJS.ErrnoException).code) {
      case 'ELOOP': // O_NOFOLLOW met a symlink
      case 'ENOTDIR':
      case 'ENXIO': // a FIFO without a reader, or a socket
      case 'EISDIR':
      case 'EEXIST': // O_EXCL: something is back at the name just emptied
        throw notRegular(shownAs);
      default:
        throw err;
    }
  };
}

function notRegular(shownAs: string): AppError {
  return new AppError(
    'Conflict',
    `${shownAs} is not a regular file or folder (a symlink, FIFO, socket or device); the download does not write through it. Remove it and try again.`,
  );
}
