import path from 'node:path';
import { z } from 'zod';

/**
 * A path a caller names under DOWNLOAD_ROOT: relative, `/`-separated, no `.`
 * or `..` segment, no empty segment, no backslash, NUL or control character,
 * at most 1024 bytes. What passes cannot leave the root by itself;
 * `resolveUnderRoot` checks the joined result once more.
 */
export const relativePath = z
  .string()
  .min(1, 'must not be empty')
  .refine((p) => Buffer.byteLength(p, 'utf8') <= 1024, 'must be at most 1024 bytes')
  .refine((p) => !/[\u0000-\u001f\u007f\\]/.test(p), 'must not contain control characters or backslashes')
  .refine((p) => !p.startsWith('/') && !/^[A-Za-z]:/.test(p), 'must be relative to the download root')
  .refine((p) => p.split('/').every((s) => s !== '' && s !== '.' && s !== '..'), 'must not contain empty, . or .. segments');

/** The absolute path of `relative` under `root`; throws if it would land anywhere else. */
export function resolveUnderRoot(root: string, relative: string): string {
  const resolved = path.resolve(root, relative);
  if (!resolved.startsWith(path.resolve(root) + path.sep)) throw new Error('path escapes the download root');
  return resolved;
}
