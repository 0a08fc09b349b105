import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors';
import { removeQuietly } from './checkpoint';
import type { TargetFiles } from './target-path';

/**
 * Puts the verified file in place and makes that durable. Without overwrite a
 * hard link publishes it, which fails if a file appeared meanwhile instead of
 * replacing it; with overwrite, rename replaces the old file atomically.
 */
export async function publish(files: TargetFiles, overwrite: boolean): Promise<void> {
  const { temp, target, checkpoint } = files;
  if (overwrite) {
    await fs.rename(temp, target);
  } else {
    try {
      await fs.link(temp, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new AppError('Conflict', 'The target file appeared during the download; send "overwrite": true to replace it.');
      }
      throw err;
    }
    await fs.unlink(temp);
  }
  await syncDirectory(path.dirname(target));
  await removeQuietly(checkpoint);
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

