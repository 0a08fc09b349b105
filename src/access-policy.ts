import { commaList } from './comma-list';
import { AppError } from './errors';
import { isValidBucketName } from './oss/bucket-name';

/**
 * This service's own read policy (OSS_ALLOW), checked before any OSS request.
 * The instance role may be able to read more than the service should hand out;
 * this list is what whoever reaches the port is allowed to read.
 *
 * Entries are `bucket` (the whole bucket), `bucket/prefix` (keys that start
 * with `prefix`, literally, as OSS policies match: write `bucket/reports/` to
 * mean a folder), or `*` (everything the role can read).
 */

export interface AllowEntry {
  bucket: string;
  prefix: string;
}

export type AllowList = readonly AllowEntry[] | '*';

export type ParseResult = { ok: true; value: AllowList } | { ok: false; error: string };

export function parseAllowList(raw: string): ParseResult {
  const items = commaList(raw);
  if (items.length === 0) return { ok: false, error: 'must name at least one bucket, or *' };
  if (items.includes('*')) {
    return items.length === 1 ? { ok: true, value: '*' } : { ok: false, error: '* cannot be combined with other entries' };
  }
  const entries: AllowEntry[] = [];
  for (const item of items) {
    const slash = item.indexOf('/');
    const bucket = slash === -1 ? item : item.slice(0, slash);
    const prefix = slash === -1 ? '' : item.slice(slash + 1);
    if (!isValidBucketName(bucket)) return { ok: false, error: `"${item}" does not start with a valid bucket name` };
    entries.push({ bucket, prefix });
  }
  return { ok: true, value: entries };
}

/**
 * May a caller read `key` in `bucket`? The same test serves listings: a
 * listing under `prefix` is allowed only when the prefix lies inside an allowed
 * one, so every key it could return is readable.
 */
export function allows(allow: AllowList, bucket: string, keyOrPrefix: string): boolean {
  if (allow === '*') return true;
  return allow.some((e) => e.bucket === bucket && keyOrPrefix.startsWith(e.prefix));
}

/** Throws 403 NotAllowed unless OSS_ALLOW lets the service read `keyOrPrefix` in `bucket`; `what` names it for the caller. */
export function requireAllowed(allow: AllowList, bucket: string, keyOrPrefix: string, what: string): void {
  if (!allows(allow, bucket, keyOrPrefix)) {
    throw new AppError('NotAllowed', `This service is not configured to read ${what} (see OSS_ALLOW).`);
  }
}
