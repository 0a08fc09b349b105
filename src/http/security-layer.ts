import type { RequestHandler } from 'express';
import type { Authenticator } from '../auth/authenticator';
import { ConcurrencyLimiter } from '../auth/concurrency-limiter';
import { AppError } from '../errors';
import type { Metrics } from '../metrics';
import type { CloseHook } from '../observability/request-context';
import { authenticateCallers } from './authenticate-callers';
import { cidrMatcher } from './cidr-allowlist';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './limits';
import { peerAllowlist, readOnlyPaths, urlLengthLimit } from './request-guards';
import { streamGuard } from './stream-guard';
import type { TrustProxy } from './trust-proxy';

/**
 * The guards in front of the routes, in the order a request meets them: URL size (414), the peer's network (ALLOW_CIDRS,
 * 403), the caller's token (401, /metrics 403), 405 for other methods on the
 * read-only paths (before Express answers OPTIONS by itself), the stream caps (process
 * and per caller) and the slow-client guard. Header size and timeouts are the server's (http-server.ts).
 */
export interface SecurityOptions {
  /** Caller authentication; absent: open (AUTH_MODE=none). */
  auth?: Authenticator;
  metricsRequireToken?: boolean;
  /** `address/prefix` entries; null or absent: any peer. */
  allowCidrs?: readonly string[] | null;
  trustProxy?: TrustProxy;
  limits?: HttpLimits;
}

export interface SecurityLayer {
  /** Before the routes. */
  before: RequestHandler[];
  /** For the request context: gives a request's stream slots back when its response closes. */
  releaseStreams: CloseHook;
}

export function securityLayer(options: SecurityOptions, metrics: Metrics): SecurityLayer {
  const limits = options.limits ?? DEFAULT_HTTP_LIMITS;
  const streams = new ConcurrencyLimiter(
    limits.maxConcurrentStreams,
    () => new AppError('Overloaded', 'Too many object streams are open; try again shortly.', { headers: { 'Retry-After': '1' } }),
  );
  const streamsPerCaller = new ConcurrencyLimiter(
    limits.maxStreamsPerToken,
    (name) =>
      new AppError('Overloaded', `The caller ${name} already has ${limits.maxStreamsPerToken} object streams open; try again shortly.`, {
        headers: { 'Retry-After': '1' },
      }),
  );
  const before: RequestHandler[] = [urlLengthLimit(limits.maxUrlBytes)];
  if (options.allowCidrs) before.push(peerAllowlist(cidrMatcher(options.allowCidrs)));
  const guard = streamGuard({
    limiter: streams,
    perCaller: streamsPerCaller,
    stallTimeoutMs: limits.clientStallTimeoutMs,
    countDisconnected: metrics.countSlowClientDisconnected,
  });
  before.push(
    authenticateCallers({ auth: options.auth, metricsRequireToken: options.metricsRequireToken ?? true, countCaller: metrics.countCaller }),
    readOnlyPaths(['/healthz', '/readyz', '/metrics']),
    guard.middleware,
  );
  return {
    before,
    releaseStreams: guard.release,
  };
}
