import fs from 'node:fs/promises';
import { DirectoryHandle } from './directory-handle';
import { sideFilesOf } from './download-path';
import { checkedSegments, type TargetFiles } from './target-path';

/**
 * The folders of one prefix job, each opened once and kept open while the job
 * runs: a walk from the root per file (a mkdir, open and close of every folder
 * on the way) was most of a small file's system calls. Each folder is opened
 * from its parent's handle exactly as target-path.ts walks, so what a walk
 * guarantees holds for the whole job: a held handle is the folder that was
 * checked, wherever its name now leads, and a folder swapped for a symlink
 * mid-job changes nothing for the files written into it.
 *
 * At most MAX_OPEN_FOLDERS stay open (file descriptors); the least recently
 * used idle ones are closed first and opened again when needed.
 */
const MAX_OPEN_FOLDERS = 64;

interface Slot {
  /** Files (and sub-folder opens) using the folder now: a slot in use is never closed. */
  users: number;
  ready: Promise<DirectoryHandle>;
  dir?: DirectoryHandle;
}

export class JobFolders {
  /** By path below the root ('' for the root), least recently used first. */
  private readonly slots = new Map<string, Slot>();
  /** Folders this job created, parents before children. */
  private readonly created: string[] = [];

  constructor(private readonly root: string) {}

  /**
   * The target `relative` (a path below the root) in its folder, the folders
   * created as needed. Checks the path rule, nothing on disk: the caller looks
   * at the target itself. `release` frees the folder for reuse; the folders a
   * job created and left empty are removed when the job closes them.
   */
  async target(relative: string): Promise<TargetFiles> {
    const segments = checkedSegments(relative);
    const name = segments[segments.length - 1];
    const folder = segments.slice(0, -1).join('/');
    const { slot, dir } = await this.acquire(folder);
    let released = false;
    return {
      dir,
      name,
      ...sideFilesOf(name),
      shownAs: relative,
      release: async () => {
        if (released) return;
        released = true;
        await this.release(slot);
      },
    };
  }

  /** Removes the folders this job created that are empty (every file in them failed), deepest first, and closes every folder. */
  async close(): Promise<void> {
    for (const path of [...this.created].reverse()) {
      const slash = path.lastIndexOf('/');
      await this.forget(path); // no file uses it any more
      try {
        const parent = await this.acquire(slash < 0 ? '' : path.slice(0, slash));
        await parent.dir.removeEmptyFolder(path.slice(slash + 1));
        await this.release(parent.slot);
      } catch {
        // its parent cannot be opened safely any more: leave it
      }
    }
    const slots = [...this.slots.keys()];
    await Promise.all(slots.map((path) => this.forget(path)));
  }

  private async acquire(path: string): Promise<{ slot: Slot; dir: DirectoryHandle }> {
    let slot = this.slots.get(path);
    if (slot)
      this.slots.delete(path); // inserted again below: most recently used last
    else slot = this.open(path);
    this.slots.set(path, slot);
    slot.users += 1;
    try {
      return { slot, dir: await slot.ready };
    } catch (err) {
      slot.users -= 1;
      throw err;
    }
  }

  /** Frees the slot; resolves once the idle folders over the limit are closed. */
  private async release(slot: Slot): Promise<void> {
    slot.users -= 1;
    const closing: Promise<void>[] = [];
    for (const [path, s] of this.slots) {
      if (this.slots.size <= MAX_OPEN_FOLDERS) break;
      if (s.users === 0 && s.dir) closing.push(this.forget(path));
    }
    await Promise.all(closing);
  }

  /** A slot for `path`, opened from its parent's handle (the root by its path); a failed open is not kept, so the next file tries again. */
  private open(path: string): Slot {
    const slot: Slot = { users: 0, ready: this.openFolder(path) };
    slot.ready.then(
      (dir) => (slot.dir = dir),
      () => {
        if (this.slots.get(path) === slot) this.slots.delete(path);
      },
    );
    return slot;
  }

  private async openFolder(path: string): Promise<DirectoryHandle> {
    if (path === '') {
      await fs.mkdir(this.root, { recursive: true, mode: 0o750 });
      return DirectoryHandle.open(this.root, '');
    }
    const slash = path.lastIndexOf('/');
    const parent = await this.acquire(slash < 0 ? '' : path.slice(0, slash));
    try {
      const { dir, created } = (await parent.dir.child(path.slice(slash + 1), true))!;
      if (created) this.created.push(path);
      return dir;
    } finally {
      await this.release(parent.slot);
    }
  }

  private async forget(path: string): Promise<void> {
    const slot = this.slots.get(path);
    if (!slot) return;
    this.slots.delete(path);
    await slot.ready.then(
      (dir) => dir.close(),
      () => undefined,
    );
  }
}
