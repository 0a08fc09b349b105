import { AppError } from '../errors';
import type { TargetFiles } from './target-path';

/**
 * Puts the verified file in place and makes that durable. Without overwrite a
 * hard link publishes it, which fails if a file appeared meanwhile instead of
 * replacing it; with overwrite, rename replaces the old file atomically.
 * Both act on names in the folder the job opened, never through a symlink.
 */
export async function publish(files: TargetFiles, overwrite: boolean): Promise<void> {
  const { dir, temp, name, checkpoint } = files;
  if (overwrite) {
    await dir.rename(temp, name);
  } else {
    try {
      await dir.link(temp, name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new AppError('Conflict', 'The target file appeared during the download; send "overwrite": true to replace it.');
      }
      throw err;
    }
    await dir.unlink(temp);
  }
  await dir.sync();
  await dir.unlinkQuietly(checkpoint);
}
