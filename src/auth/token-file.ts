import { z } from 'zod';
import { isValidBucketName, type AllowEntry } from '../access-policy';

/**
 * AUTH_TOKENS_FILE: one caller per line, `#` starts a comment.
 *
 *     # name          hash                   scopes
 *     reports-reader  sha256:9f86d081…0a08  read=demo-bucket/reports/ read=logs-bucket downloads
 *     prometheus      sha256:60303ae2…c8b1  metrics
 *
 * Scopes: `read=bucket` or `read=bucket/prefix` (keys that start with prefix,
 * literally, like OSS_ALLOW), `downloads` (may create download jobs),
 * `metrics` (may read /metrics when METRICS_AUTH=token).
 */

export interface Principal {
  /** For logs and metrics; never the token. */
  readonly name: string;
  readonly read: readonly AllowEntry[];
  readonly downloads: boolean;
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

const scope = z.union([
  z.literal('downloads'),
  z.literal('metrics'),
  z
    .string()
    .regex(/^read=[^\s/]+(\/\S*)?$/, 'must be read=bucket or read=bucket/prefix')
    .refine((s) => isValidBucketName(s.slice(5).split('/')[0]), 'names an invalid bucket'),
]);

const line = z.object({
  name: z.string().refine(isValidTokenName, 'must be 1 to 64 of A-Z a-z 0-9 . _ - (starting with a letter or digit), not open, anonymous or rejected'),
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256: and 64 lower-case hex digits'),
  scopes: z.array(scope).min(1, 'at least one scope is required'),
});

export type TokenFileParse = { ok: true; entries: TokenEntry[] } | { ok: false; errors: string[] };

export function parseTokenFile(text: string): TokenFileParse {
  const entries: TokenEntry[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const content = raw.replace(/#.*$/, '').trim();
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
  return { name: data.name, hash: data.hash, read, downloads: data.scopes.includes('downloads'), metrics: data.scopes.includes('metrics') };
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

/** Validates one scope as written on a line or on the command line. */
export function isValidScope(text: string): boolean {
  return scope.safeParse(text).success;
}
