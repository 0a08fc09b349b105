import fs from 'node:fs/promises';
import { AppError } from '../errors';
import type { DirectoryHandle } from './directory-handle';

/** Bytes an unprivileged writer may still use on the file system holding `dir`. */
export type FreeSpace = (dir: string) => Promise<number>;

export const statfsFreeSpace: FreeSpace = async (dir) => {
  const stats = await fs.statfs(dir);
  return stats.bavail * stats.bsize;
};

/** Bytes a running job has yet to write; it shrinks as they are written. */
export interface SpaceReservation {
  written(bytes: number): void;
  release(): void;
}

/**
 * Free space shared by concurrent jobs. A job reserves the bytes it still has
 * to write; the next job sees the free space less every reservation on the
 * same file system, so two jobs that cannot both fit get 507 up front instead
 * of one failing half-way with ENOSPC. The temporary files are sparse, so the
 * free space statfs reports drops only as bytes land, and each reservation
 * drops with it.
 */
export class DiskSpace {
  private readonly held = new Map<object, { device: number; remaining: number }>();

  constructor(private readonly freeSpace: FreeSpace = statfsFreeSpace) {}

  async reserve(dir: DirectoryHandle, bytes: number): Promise<SpaceReservation> {
    const [available, device] = await Promise.all([this.freeSpace(dir.selfPath), dir.device()]);
    // No await from here to the insert: two jobs cannot both count the same free bytes.
    let reserved = 0;
    for (const r of this.held.values()) if (r.device === device) reserved += r.remaining;
    if (available - reserved < bytes) {
      const others = reserved > 0 ? `, ${reserved} of them reserved by downloads in progress` : '';
      throw new AppError(
        'InsufficientStorage',
        `The object needs ${bytes} more bytes on disk but only ${available} are free under the download folder${others}.`,
      );
    }
    const key = {};
    const entry = { device, remaining: bytes };
    this.held.set(key, entry);
    return {
      written: (n) => {
        if (n > 0) entry.remaining = Math.max(0, entry.remaining - n);
      },
      release: () => this.held.delete(key),
    };
  }
}

/** Writes that ran out of space are the caller's 507, not an internal error. */
export function isOutOfSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
