import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Authenticator } from './auth/authenticator';
import type { CredentialsProvider } from './credentials/credential-provider-wrapper';
import { AppError } from './errors';
import { basicChallenge } from './http/basic-challenge';
import { cors, type CorsOrigins } from './http/cors';
import { problemHandler } from './http/problem';
import { securityLayer, type SecurityOptions } from './http/security-layer';
import { shutdownGate } from './http/shutdown-gate';
import { Lifecycle } from './lifecycle';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import { useRequestContext } from './observability/request-context';
import { requestLog } from './observability/request-log';
import { requestMetrics } from './observability/request-metrics';

/**
 * The Express app's fixed layers, in order, around the routers it is handed:
 * the composition root (src/compose.ts, `createApp`) builds the routers from
 * routes/ and passes them in, so this file never imports routes/. It never listens.
 */
export interface AppParts {
  credentials: CredentialsProvider;
  logger: Logger;
  metrics: Metrics;
  /**
   * Shutdown state: a Lifecycle (src/lifecycle.ts) also gets its gate, which counts in-flight
   * requests and refuses new ones while draining (src/http/shutdown-gate.ts); unit tests may
   * pass just `{ draining }`. Default: never drains.
   */
  lifecycle?: { readonly draining: boolean } | Lifecycle;
  /** Caller authentication (AUTH_TOKENS_FILE); absent: the service is open (AUTH_MODE=none). */
  auth?: Authenticator;
  /** Network and resource limits; absent: the defaults (src/http/limits.ts), any peer. */
  security?: Omit<SecurityOptions, 'auth'>;
  /** CORS_ORIGINS (src/http/cors.ts); absent or null: no CORS, OPTIONS stays 405. */
  cors?: CorsOrigins | null;
  /** Mounted before the guards: what browsers fetch without a token (the favicon). */
  publicRoutes: RequestHandler[];
  /** Mounted after the guards, in this order. */
  routes: RequestHandler[];
}

export function assembleApp(parts: AppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // ETags are OSS's, passed through; Express must not invent its own
  app.set('trust proxy', parts.security?.trustProxy ?? false);
  const security = securityLayer({ ...parts.security, auth: parts.auth }, parts.metrics);

  // First: every later layer writes to the request context, and its one 'close' listener
  // runs these hooks in this order: stream slots back, metrics, then the log line.
  const onClose = useRequestContext(app);
  onClose.push(security.releaseStreams, requestMetrics(parts.metrics), requestLog(app, parts.logger, app.get('trust proxy') !== false));
  app.use(helmet());
  if (parts.lifecycle instanceof Lifecycle) app.use(shutdownGate(parts.lifecycle));
  parts.metrics.observeCredentials(parts.credentials);
  if (parts.cors) app.use(cors(parts.cors)); // before authentication: a preflight carries no credentials
  for (const router of parts.publicRoutes) app.use(router);
  app.use(security.before);
  for (const router of parts.routes) app.use(router);

  app.use((req, _res, next) => next(new AppError('NotFound', `No endpoint at ${req.method} ${req.path}.`)));
  app.use(basicChallenge);
  app.use(problemHandler);
  return app;
}
