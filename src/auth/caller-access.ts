import type { Request } from 'express';
import { allows } from '../access-policy';
import { AppError } from '../errors';
import type { ConcurrencyLimiter } from './concurrency-limiter';
import type { Principal } from './token-file';

/**
 * Who is calling, as src/http/authenticate-callers.ts decided it once per
 * request before any route runs, and the scope checks routes make with it. Routes call `requireScope` next to their
 * OSS_ALLOW check; it fails closed when the caller was never decided.
 */

export type Caller = { kind: 'open' } | { kind: 'anonymous' } | { kind: 'token'; principal: Principal };

const callers = new WeakMap<Request, Caller>();

/**
 * Records who made `req`: src/http/authenticate-callers.ts decides it once per
 * request, before any route runs; the checks below read it.
 */
export function recordCaller(req: Request, caller: Caller): void {
  callers.set(req, caller);
}

/** The caller's name for logs and metrics: a token's name, `anonymous`, or undefined when open. */
export function callerName(req: Request): string | undefined {
  const caller = callers.get(req);
  if (caller?.kind === 'token') return caller.principal.name;
  return caller?.kind === 'anonymous' ? 'anonymous' : undefined;
}

export type ScopeTarget = { bucket: string; key: string } | 'downloads';

/**
 * Throws 403 NotAllowed unless the caller's token covers `target`: an object
 * (`key`, or a listing prefix: a listing must lie inside a read scope) or
 * the downloads API at all (any `downloads` scope; where a job may write is
 * requireDownloadPath's question). Open mode allows everything.
 */
export function requireScope(req: Request, target: ScopeTarget): void {
  const principal = tokenPrincipal(req);
  if (principal === undefined) return;
  if (target === 'downloads') {
    if (principal.downloads.length === 0) throw notAllowed(principal, 'may not create downloads');
    return;
  }
  if (!allows(principal.read, target.bucket, target.key)) throw notAllowed(principal, 'has no read scope for this object or prefix');
}

/**
 * Throws 403 NotAllowed unless one of the caller's `downloads` prefixes is a
 * literal prefix of `path` (relative to DOWNLOAD_ROOT, already through the
 * path rule): where a caller may create a job or overwrite a file. Open mode
 * allows every path.
 */
export function requireDownloadPath(req: Request, path: string): void {
  const principal = tokenPrincipal(req);
  if (principal === undefined) return;
  if (principal.downloads.length === 0) throw notAllowed(principal, 'may not create downloads');
  if (!principal.downloads.some((prefix) => path.startsWith(prefix))) {
    throw notAllowed(principal, 'may not download to this path (outside its downloads prefixes)');
  }
}

/** The one caller of open mode, for ownership and per-caller limits: no token name can be it. */
export const OPEN_CALLER = '(open)';

/**
 * Whom a download job belongs to: the token's name, or `(open)` in open mode
 * (one caller). Token names are unique in the file, so a name is an identity;
 * a token revoked and re-issued under the same name keeps its jobs.
 */
export function callerOwner(req: Request): string {
  return tokenPrincipal(req)?.name ?? OPEN_CALLER;
}

/** A download slot for the caller (one shared key when open); throws 429 TooManyRequests past the limit. */
export function acquireDownloadSlot(req: Request, limiter: ConcurrencyLimiter): () => void {
  return limiter.acquire(callerOwner(req));
}

/**
 * The token caller's principal; undefined in open mode. Fails closed: a request
 * the middleware never saw is a 500, an anonymous one (an open path) a 401.
 */
function tokenPrincipal(req: Request): Principal | undefined {
  const caller = callers.get(req);
  if (caller === undefined) throw new AppError('InternalError', 'The caller was not authenticated before a scope check.');
  if (caller.kind === 'open') return undefined;
  if (caller.kind === 'anonymous') throw new AppError('Unauthorized', 'This endpoint needs a bearer token.');
  return caller.principal;
}

/** 403 NotAllowed for a token whose scopes do not cover the request, with the Bearer challenge saying so. */
export function notAllowed(principal: Principal, what: string): AppError {
  return new AppError('NotAllowed', `The token "${principal.name}" ${what}.`, {
    headers: { 'WWW-Authenticate': 'Bearer realm="oss-download-service", error="insufficient_scope"' },
  });
}
