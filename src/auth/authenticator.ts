import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { hashToken, sameHash, TOKEN_SYNTAX } from './tokens';
import { parseTokenFile, type Principal, type TokenEntry } from './token-file';

/** Who is calling: the principal a request's Authorization header names, or a 401. */
export interface Authenticator {
  authenticate(authorization: string | undefined): Principal;
}

const REALM = 'Bearer realm="oss-download-service"';

function unauthorized(detail: string, invalidToken: boolean): AppError {
  return new AppError('Unauthorized', detail, {
    headers: { 'WWW-Authenticate': invalidToken ? `${REALM}, error="invalid_token"` : REALM },
  });
}

/**
 * The caller's token from an Authorization header: `Bearer TOKEN`, or, for
 * browsers, which cannot add a bearer header to a link, HTTP Basic with the
 * token as the password (`Basic base64(anyname:TOKEN)`; the name is ignored).
 * 401 when it is missing or not one.
 */
export function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') {
    throw unauthorized('This endpoint needs Authorization: Bearer <token> (or Basic with the token as the password).', false);
  }
  const token = /^Bearer +(\S+) *$/i.exec(authorization)?.[1] ?? basicPassword(authorization);
  if (token === undefined || !TOKEN_SYNTAX.test(token)) {
    throw unauthorized('The Authorization header is not a well-formed bearer token.', true);
  }
  return token;
}

/** The password of `Basic base64(user:password)` (RFC 7617); undefined when the header is not one. */
function basicPassword(authorization: string): string | undefined {
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(authorization);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/** Finds the entry whose hash matches; compares against every entry, in constant time each. */
export function findEntry(entries: readonly TokenEntry[], token: string): TokenEntry | undefined {
  const presented = hashToken(token);
  let found: TokenEntry | undefined;
  for (const entry of entries) {
    if (sameHash(entry.hash, presented)) found = entry;
  }
  return found;
}

/**
 * Tokens from AUTH_TOKENS_FILE, reloaded when the file changes (the folder is
 * watched, so an editor's or a ConfigMap's replace-by-rename is seen) or on
 * SIGHUP (load-authenticator.ts calls reload()). A file that does not parse, or has gone,
 * leaves the last good set in force and logs why; at start it stops the process.
 */
export class TokenFileAuthenticator implements Authenticator {
  private entries: readonly TokenEntry[] = [];
  private watcher: FSWatcher | undefined;
  private queue: Promise<boolean> = Promise.resolve(true);

  private constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {}

  /** Reads the file once; throws with every problem when it cannot be used. */
  static async load(file: string, logger: Logger): Promise<TokenFileAuthenticator> {
    const auth = new TokenFileAuthenticator(file, logger);
    const parsed = parseTokenFile(await readFile(file, 'utf8'));
    if (!parsed.ok) throw new Error(`${file}:\n  - ${parsed.errors.join('\n  - ')}`);
    auth.entries = parsed.entries;
    return auth;
  }

  get size(): number {
    return this.entries.length;
  }

  authenticate(authorization: string | undefined): Principal {
    const entry = findEntry(this.entries, bearerToken(authorization));
    if (!entry) throw unauthorized('The bearer token is not known (or was revoked).', true);
    return entry;
  }

  /** Re-reads the file; resolves true when the new set is in force. Attempts run one at a time. */
  reload(): Promise<boolean> {
    this.queue = this.queue.then(() => this.readOnce());
    return this.queue;
  }

  watch(): void {
    const base = path.basename(this.file);
    this.watcher = watch(path.dirname(this.file), (_event, name) => {
      if (name === null || name === base || name.startsWith('..')) void this.reload();
    });
    this.watcher.unref();
  }

  close(): void {
    this.watcher?.close();
  }

  private async readOnce(): Promise<boolean> {
    let parsed;
    try {
      parsed = parseTokenFile(await readFile(this.file, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'read error';
      this.logger.error({ file: this.file, code }, 'tokens file unreadable: keeping the tokens in force');
      return false;
    }
    if (!parsed.ok) {
      this.logger.error({ file: this.file, problems: parsed.errors }, 'tokens file invalid: keeping the tokens in force');
      return false;
    }
    this.entries = parsed.entries;
    this.logger.info({ file: this.file, tokens: parsed.entries.length, names: parsed.entries.map((e) => e.name) }, 'tokens reloaded');
    return true;
  }
}
