import express, { type Express } from 'express';
import helmet from 'helmet';
import { downloadRoutes } from '../routes/downloads';
import { faviconRoutes } from '../routes/favicon';
import { healthRoutes } from '../routes/health';
import { metricsRoutes } from '../routes/metrics';
import { objectRoutes } from '../routes/objects';
import type { AllowList } from './access-policy';
import type { Authenticator } from './auth/authenticator';
import { systemClock, type Clock } from './clock';
import type { CredentialsProvider } from './credentials/credentials-provider';
import type { DownloadManager } from './downloads/download-manager';
import { AppError } from './errors';
import { basicChallenge } from './http/basic-challenge';
import { cors, type CorsOrigins } from './http/cors';
import type { ObjectRedirectOptions } from './http/object-redirect';
import { problemHandler } from './http/problem';
import { securityLayer, type SecurityOptions } from './http/security-layer';
import { Lifecycle } from './lifecycle';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import { useRequestContext } from './observability/request-context';
import { requestLog } from './observability/request-log';
import { requestMetrics } from './observability/request-metrics';
import type { ObjectStore } from './oss/object-store';

/**
 * Builds the Express app from its dependencies and never listens: compose.ts
 * calls it with the real ones, tests with fakes or emulator-backed ones.
 */
export interface AppDeps {
  store: ObjectStore;
  credentials: CredentialsProvider;
  allow: AllowList;
  logger: Logger;
  metrics: Metrics;
  /**
   * Shutdown state: compose.ts passes a Lifecycle (src/lifecycle.ts), whose
   * middleware counts in-flight requests and refuses new ones while draining;
   * unit tests may pass just `{ draining }`. Default: never drains.
   */
  lifecycle?: { readonly draining: boolean; readonly middleware?: Lifecycle['middleware'] };
  /** Check whole-object GETs against OSS's CRC64. compose.ts passes OSS_VERIFY_CRC64 (on unless set to false); off when omitted, for fakes without real checksums. */
  verifyCrc64?: boolean;
  /** Caller authentication (AUTH_TOKENS_FILE); absent: the service is open (AUTH_MODE=none). */
  auth?: Authenticator;
  /** Network and resource limits; absent: the defaults (src/http/limits.ts), any peer. */
  security?: Omit<SecurityOptions, 'auth'>;
  /** Redirect mode (`?redirect=true`, OBJECT_DELIVERY=redirect); absent: every object is streamed through. */
  redirect?: ObjectRedirectOptions;
  /** Download-to-disk jobs (/v1/downloads); without it those routes answer 404. */
  downloads?: DownloadManager;
  clock?: Clock;
  /** CORS_ORIGINS (src/http/cors.ts); absent or null: no CORS, OPTIONS stays 405. */
  cors?: CorsOrigins | null;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // ETags are OSS's, passed through; Express must not invent its own
  app.set('trust proxy', deps.security?.trustProxy ?? false);
  const security = securityLayer({ ...deps.security, auth: deps.auth }, deps.metrics);

  const lifecycle = deps.lifecycle ?? new Lifecycle();

  // First: every later layer writes to the request context, and its one 'close' listener
  // runs these hooks in this order: stream slots back, metrics, then the log line.
  const onClose = useRequestContext(app);
  onClose.push(security.releaseStreams, requestMetrics(deps.metrics), requestLog(app, deps.logger, app.get('trust proxy') !== false));
  app.use(helmet());
  if (lifecycle.middleware) app.use(lifecycle.middleware);
  deps.metrics.observeCredentials(deps.credentials);
  if (deps.cors) app.use(cors(deps.cors)); // before authentication: a preflight carries no credentials
  app.use(faviconRoutes()); // no token: browsers never send one for it
  app.use(security.before);

  // The object routes first: the paths do not overlap, and the hot path then meets two routers fewer.
  app.use(objectRoutes({ store: deps.store, allow: deps.allow, metrics: deps.metrics, verifyCrc64: deps.verifyCrc64, redirect: deps.redirect }));
  app.use(healthRoutes({ credentials: deps.credentials, lifecycle }));
  app.use(metricsRoutes(deps.metrics));
  if (deps.downloads) {
    const clock = deps.clock ?? systemClock;
    app.use(
      downloadRoutes({
        downloads: deps.downloads,
        allow: deps.allow,
        clock,
        downloadLimiter: security.downloadLimiter,
        maxBodyBytes: security.limits.maxJsonBodyBytes,
      }),
    );
  }

  app.use((req, _res, next) => next(new AppError('NotFound', `No endpoint at ${req.method} ${req.path}.`)));
  app.use(basicChallenge);
  app.use(problemHandler);
  return app;
}
