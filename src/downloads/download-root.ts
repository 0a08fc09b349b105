import fs from 'node:fs/promises';

/**
 * The check DOWNLOAD_ROOT passes before the service starts. Downloads work by
 * directory handle and never follow a symlink (directory-handle.ts), but a
 * root other local users can write into still lets them plant files, fill the
 * disk or read what was downloaded: the root must be the service's own
 * (owned by its user, not writable by group or others, e.g. 0700 or 0750),
 * unless DOWNLOAD_ROOT_SHARED=true says the operator shares it deliberately.
 */
export type RootCheck = { ok: true; warning?: string } | { ok: false; problem: string };

export async function checkDownloadRoot(root: string, shared: boolean): Promise<RootCheck> {
  const procFd = await fs.access('/proc/self/fd').then(
    () => true,
    () => false,
  );
  if (!procFd) return { ok: false, problem: 'downloads need /proc/self/fd (Linux with /proc mounted) to work by directory handle' };
  await fs.mkdir(root, { recursive: true, mode: 0o750 });
  const stat = await fs.stat(root);
  if (!stat.isDirectory()) return { ok: false, problem: `${root} is not a folder` };
  const problems: string[] = [];
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) problems.push(`is owned by uid ${stat.uid}, not by this service's uid ${uid}`);
  if ((stat.mode & 0o022) !== 0) problems.push(`is writable by group or others (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')})`);
  if (problems.length === 0) return { ok: true };
  const what = `${root} ${problems.join(' and ')}`;
  if (shared) return { ok: true, warning: `${what}; DOWNLOAD_ROOT_SHARED=true accepts it` };
  return {
    ok: false,
    problem: `${what}: other local users could plant files where downloads write. Make it the service's own (chown to the service user, chmod 0750), or set DOWNLOAD_ROOT_SHARED=true to accept it`,
  };
}
