import type { RequestHandler } from 'express';
import type { Authenticator } from '../auth/authenticator';
import { notAllowed, recordCaller } from '../auth/caller-access';
import type { Principal } from '../auth/token-file';
import { routedPath } from './request-guards';

/** Paths any caller may reach: probes must not need a secret. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

export interface CallerAuthenticationOptions {
  /** Absent: the service runs open (AUTH_MODE=none); every caller may read what OSS_ALLOW allows. */
  auth?: Authenticator;
  /** /metrics needs a token with the `metrics` scope. */
  metricsRequireToken?: boolean;
  /** Counts each request by caller (Metrics.countCaller: caller_requests_total); absent: not counted. */
  countCaller?: (caller: string) => void;
}

/**
 * Decides who is calling, once per request before any route runs, and records
 * it for the scope checks of src/auth/caller-access.ts: open mode, an open path
 * (anonymous), or a token (401 without a valid one; /metrics needs its scope).
 */
export function authenticateCallers(options: CallerAuthenticationOptions): RequestHandler {
  const count = options.countCaller ?? (() => undefined);
  return (req, _res, next) => {
    if (!options.auth) {
      recordCaller(req, { kind: 'open' });
      count('open');
      return next();
    }
    const path = routedPath(req);
    const metricsOpen = path === '/metrics' && !options.metricsRequireToken;
    if (OPEN_PATHS.has(path) || metricsOpen) {
      recordCaller(req, { kind: 'anonymous' });
      count('anonymous');
      return next();
    }
    let principal: Principal;
    try {
      principal = options.auth.authenticate(req.get('authorization'));
    } catch (err) {
      count('rejected');
      throw err;
    }
    recordCaller(req, { kind: 'token', principal });
    count(principal.name);
    if (path === '/metrics' && !principal.metrics) {
      throw notAllowed(principal, 'has no metrics scope');
    }
    next();
  };
}
