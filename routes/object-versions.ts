import type { Request, Response } from 'express';
import { z } from 'zod';
import { requireAllowed, type AllowList } from '../src/access-policy';
import { requireScope } from '../src/auth/caller-access';
import { validate } from '../src/http/validate';
import type { ObjectStore } from '../src/oss/object-store';

/**
 * GET /v1/objects/{bucket}?versions=true&prefix=&limit=&cursor=: every version
 * of the keys under a prefix, delete markers included, as JSON
 * `{"versions":[{"key","versionId","isLatest","size","etag","lastModified","deleteMarker"}],"nextCursor"}`.
 * Checked as a listing of the prefix is (OSS_ALLOW, the caller's read scope).
 */
const versionsQuery = z.strictObject({
  versions: z.enum(['1', 'true']),
  prefix: z.string().max(1023).default(''),
  limit: z.coerce.number({ error: 'must be a number' }).int().min(1).max(1000).default(100),
  cursor: z.string().min(1).max(4096).optional(),
});

/** `?versions=` in any form asks for this listing; a value other than 1 or true is refused by the schema. */
export function wantsVersions(req: Request): boolean {
  return req.query.versions !== undefined;
}

export async function listVersions(deps: { store: ObjectStore; allow: AllowList }, req: Request, res: Response, bucket: string): Promise<void> {
  const query = validate(versionsQuery, req.query, 'query');
  req.context.object = { bucket, prefix: query.prefix };
  requireAllowed(deps.allow, bucket, query.prefix, `the versions of ${bucket}/${query.prefix}`);
  requireScope(req, { bucket, key: query.prefix });
  const page = await deps.store.listObjectVersions({ bucket, prefix: query.prefix, limit: query.limit, cursor: query.cursor });
  res.json(page);
}
