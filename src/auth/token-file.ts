import { z } from 'zod';
import type { AllowEntry } from '../access-policy';
import { isValidBucketName } from '../oss/bucket-name';

/**
 * AUTH_TOKENS_FILE: one caller per line, fields separated by whitespace; `#`
 * starts a comment at the start of a line or after whitespace (a `#` inside a
 * field is not one, and no scope may hold it: see scopeProblem).
 *
 *     # name          hash                   scopes
 *     reports-reader  sha256:9f86d081…0a08  read=demo-bucket/reports/ read=logs-bucket downloads=reports/
 *     prometheus      sha256:60303ae2…c8b1  metrics
 *
 * Scopes: `read=bucket` or `read=bucket/prefix` (keys that start with prefix,
 * literally, like OSS_ALLOW), `downloads` (may create download jobs anywhere
 * under DOWNLOAD_ROOT), `downloads=PREFIX` (repeatable: only at paths relative
 * to DOWNLOAD_ROOT that start with PREFIX, literally), `metrics` (may read
 * /metrics when METRICS_AUTH=token).
 */

export interface Principal {
  /** For logs and metrics; never the token. */
  readonly name: string;
  readonly read: readonly AllowEntry[];
  /**
   * Literal prefixes of the download paths (relative to DOWNLOAD_ROOT) the caller may write:
   * `''` is anywhere under the root (the bare `downloads` scope); empty: no downloads at all.
   */
  readonly downloads: readonly string[];
  readonly metrics: boolean;
}

export interface TokenEntry extends Principal {
  /** `sha256:` + hex */
  readonly hash: string;
}

/** A caller's name: safe in a log line and a metric label. */
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Labels caller_requests_total uses for requests without a token. */
const RESERVED_NAMES = new Set(['open', 'anonymous', 'rejected']);

export function isValidTokenName(name: string): boolean {
  return TOKEN_NAME.test(name) && !RESERVED_NAMES.has(name);
}

const scope = z.string().superRefine((text, ctx) => {
  const problem = scopeProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const line = z.object({
  name: z
    .string()
    .refine(isValidTokenName, 'must be 1 to 64 of A-Z a-z 0-9 . _ - (starting with a letter or digit), not open, anonymous or rejected'),
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256: and 64 lower-case hex digits'),
  scopes: z.array(scope).min(1, 'at least one scope is required'),
});

export type TokenFileParse = { ok: true; entries: TokenEntry[] } | { ok: false; errors: string[] };

export function parseTokenFile(text: string): TokenFileParse {
  const entries: TokenEntry[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    // A `#` inside a field is not a comment: cutting there would silently widen a scope.
    const content = raw.replace(/(^|\s)#.*$/, '').trim();
    if (content === '') return;
    const [name, hash, ...scopes] = content.split(/\s+/);
    const parsed = line.safeParse({ name, hash, scopes });
    if (!parsed.success) {
      // Name the line and field; never echo the line (a pasted raw token would land in a log).
      errors.push(...parsed.error.issues.map((i) => `line ${index + 1}: ${i.path.join('.')}: ${i.message}`));
      return;
    }
    entries.push(toEntry(parsed.data));
  });
  errors.push(...duplicates(entries));
  // Also what a reader sees mid-write of a non-atomic save: refusing it keeps the tokens in force.
  if (entries.length === 0 && errors.length === 0) errors.push('the file names no caller (to run open, set AUTH_MODE=none)');
  return errors.length ? { ok: false, errors } : { ok: true, entries };
}

function toEntry(data: z.infer<typeof line>): TokenEntry {
  const read = data.scopes
    .filter((s) => s.startsWith('read='))
    .map((s) => {
      const target = s.slice(5);
      const slash = target.indexOf('/');
      return slash === -1 ? { bucket: target, prefix: '' } : { bucket: target.slice(0, slash), prefix: target.slice(slash + 1) };
    });
  const downloads = data.scopes.filter((s) => s === 'downloads' || s.startsWith(DOWNLOADS_EQ)).map((s) => s.slice(DOWNLOADS_EQ.length));
  return { name: data.name, hash: data.hash, read, downloads: [...new Set(downloads)], metrics: data.scopes.includes('metrics') };
}

function duplicates(entries: TokenEntry[]): string[] {
  const errors: string[] = [];
  const names = new Set<string>();
  const hashes = new Set<string>();
  for (const e of entries) {
    if (names.has(e.name)) errors.push(`the name ${e.name} appears twice`);
    if (hashes.has(e.hash)) errors.push(`the token of ${e.name} is listed twice`);
    names.add(e.name);
    hashes.add(e.hash);
  }
  return errors;
}

/** The line `token create` prints for the operator to add. */
export function formatTokenLine(name: string, hash: string, scopes: readonly string[]): string {
  return `${name} ${hash} ${scopes.join(' ')}`;
}

const DOWNLOADS_EQ = 'downloads=';

/**
 * Why `text` is not a scope, or undefined when it is one. The file parser and
 * `token create` both use it, so a line the command prints always loads with
 * the same meaning. The messages never quote the scope: a file's problems go
 * to the log, and a raw token pasted into the wrong field must not.
 */
export function scopeProblem(text: string): string | undefined {
  // In the file, whitespace ends a field and `#` may start a comment: such a scope could not be read back.
  if (/[\s#]/.test(text)) return 'a scope cannot hold # or whitespace';
  if (text === 'downloads' || text === 'metrics') return undefined;
  if (text.startsWith(DOWNLOADS_EQ)) return downloadPrefixProblem(text.slice(DOWNLOADS_EQ.length));
  if (text.startsWith('read=')) {
    const target = text.slice(5);
    return /^[^/]+(\/.*)?$/.test(target) && isValidBucketName(target.split('/')[0]) ? undefined : 'must be a valid bucket name, optionally /prefix';
  }
  return 'must be read=BUCKET[/PREFIX], downloads, downloads=PREFIX or metrics';
}

/** Validates one scope as written on a line or on the command line. */
export function isValidScope(text: string): boolean {
  return scopeProblem(text) === undefined;
}

/**
 * A downloads prefix is compared literally with the caller's path, so it is
 * held to the path rule's shape: relative, `/`-separated, no empty, `.` or `..`
 * folder. The part after the last `/` may be the start of a name (`models/gpt`).
 */
function downloadPrefixProblem(prefix: string): string | undefined {
  if (prefix === '') return 'downloads= needs a prefix (the bare downloads scope means anywhere under DOWNLOAD_ROOT)';
  if (!isWellFormed(prefix)) return 'a downloads prefix must be well-formed Unicode';
  if (Buffer.byteLength(prefix, 'utf8') > 1024) return 'a downloads prefix must be at most 1024 bytes';
  if (prefix.startsWith('/')) return 'a downloads prefix must be relative to DOWNLOAD_ROOT (no leading /)';
  if (/[\p{Cc}\\]/u.test(prefix)) return 'a downloads prefix must not contain control characters or backslashes';
  const folders = prefix.split('/').slice(0, -1);
  if (folders.some((f) => f === '' || f === '.' || f === '..')) return 'a downloads prefix must not contain empty, . or .. folders';
  return undefined;
}

/** String.prototype.isWellFormed: in Node 20, but not in TypeScript's ES2022 lib. */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}
