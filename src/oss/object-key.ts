import { z } from 'zod';

/**
 * The one rule for an object key a caller names: in a URL path
 * (`/v1/objects/{bucket}/{key}`) and in a download body alike, so no route
 * checks a key against OSS_ALLOW and the caller's scope that another route
 * would refuse.
 */

/** OSS's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1023;

/** What is wrong with `key`, or undefined when this service may ask OSS for it. */
export function objectKeyProblem(key: string): string | undefined {
  if (key === '') return 'is empty';
  // A lone surrogate has no UTF-8 form: it would be sent as U+FFFD, another key than the one checked.
  if (!key.isWellFormed()) return 'is not well-formed Unicode (a lone surrogate)';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `is longer than ${MAX_KEY_BYTES} bytes in UTF-8`;
  // OSS refuses keys that start with / or \ and ali-oss would silently strip a leading /.
  if (key.startsWith('/') || key.startsWith('\\')) return 'must not start with / or \\';
  if (key.includes('\0')) return 'contains a NUL character';
  // HTTP clients and proxies (urllib, which ali-oss used, among them) resolve . and .. segments in a URL, so OSS would be asked
  // for another key than the one checked against OSS_ALLOW and the caller's scope: refuse them.
  if (key.split('/').some((s) => s === '.' || s === '..')) return 'must not contain . or .. segments';
  return undefined;
}

/** The schema form of the rule, for request bodies. */
export const objectKey = z.string().superRefine((key, ctx) => {
  const problem = objectKeyProblem(key);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A key prefix for a listing or a prefix download: empty (the whole bucket), or what a key may be. */
export const objectKeyPrefix = z.string().superRefine((prefix, ctx) => {
  const problem = prefix === '' ? undefined : objectKeyProblem(prefix);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * An object version id as OSS writes them (base64-like, e.g.
 * `CAEQNhiBgMDJgZCA0BYiIDc4MGZjZGI2OTBjOTRmNTE5NmU5NmFhZjhjYmY0`), or `null`
 * for the version written before versioning was turned on. Query and body alike.
 */
export const objectVersionId = z
  .string()
  .regex(/^[A-Za-z0-9+/=._-]{1,256}$/, 'must be an OSS version id (letters, digits and + / = . _ -, at most 256)');
