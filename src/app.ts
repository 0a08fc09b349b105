import { randomUUID } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { downloadRoutes } from '../routes/downloads';
import { healthRoutes, type Lifecycle } from '../routes/health';
import { metricsRoutes } from '../routes/metrics';
import { objectRoutes } from '../routes/objects';
import type { AllowList } from './access-policy';
import { callerName } from './auth/caller-access';
import type { Authenticator } from './auth/authenticator';
import { redactTokens } from './auth/tokens';
import { systemClock, type Clock } from './clock';
import type { CredentialsProvider } from './credentials/credentials-provider';
import type { DownloadManager } from './downloads/download-manager';
import { AppError } from './errors';
import { problemHandler } from './http/problem';
import { securityLayer, type SecurityOptions } from './http/security-layer';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { ObjectStore } from './oss/object-store';

/**
 * Builds the Express app from its dependencies and never listens: server.ts
 * does that with the real ones, tests with fakes or emulator-backed ones.
 */
export interface AppDeps {
  store: ObjectStore;
  credentials: CredentialsProvider;
  allow: AllowList;
  logger: Logger;
  metrics: Metrics;
  lifecycle?: Lifecycle;
  /** Caller authentication (AUTH_TOKENS_FILE); absent: the service is open (AUTH_MODE=none). */
  auth?: Authenticator;
  /** Network and resource limits; absent: the defaults (src/http/limits.ts), any peer. */
  security?: Omit<SecurityOptions, 'auth'>;
  /** Download-to-disk jobs (/v1/downloads); without it those routes answer 404. */
  downloads?: DownloadManager;
  clock?: Clock;
}

/** An incoming X-Request-Id is kept only if it is safe to log and echo. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // ETags are OSS's, passed through; Express must not invent its own
  app.set('trust proxy', deps.security?.trustProxy ?? false);
  const security = securityLayer({ ...deps.security, auth: deps.auth }, deps.metrics);

  app.use(requestLogger(deps.logger));
  app.use(helmet());
  app.use(requestMetrics(deps.metrics));
  deps.metrics.observeCredentials(deps.credentials);
  app.use(security.before);

  app.use(healthRoutes({ credentials: deps.credentials, lifecycle: deps.lifecycle ?? { draining: false } }));
  app.use(metricsRoutes(deps.metrics));
  app.use(objectRoutes({ store: deps.store, allow: deps.allow, metrics: deps.metrics }));
  if (deps.downloads) {
    const clock = deps.clock ?? systemClock;
    app.use(downloadRoutes({ downloads: deps.downloads, allow: deps.allow, clock, downloadLimiter: security.downloadLimiter }));
  }

  app.use((req, _res, next) => next(new AppError('NotFound', `No endpoint at ${req.method} ${req.path}.`)));
  app.use(problemHandler);
  return app;
}

function requestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId(req, res) {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    // No headers in the log: they can carry caller tokens.
    serializers: {
      req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        url: redactTokens(req.url),
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel(_req, res, err) {
      if (err || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return 'info';
    },
    customProps(req, res) {
      const stream = (res as Response).locals?.stream as { outcome: string; bytes: number } | undefined;
      const caller = callerName(req as Request);
      return { ...(caller ? { caller } : {}), ...(stream ? { outcome: stream.outcome, bytesSent: stream.bytes } : {}) };
    },
  });
}

function requestMetrics(metrics: Metrics) {
  return (req: Request, res: Response, next: () => void) => {
    const stop = metrics.httpDuration.startTimer();
    res.once('close', () => {
      const route = routeLabel(req);
      metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
      stop({ route, method: req.method });
    });
    next();
  };
}

/** A bounded label: the route pattern, never the bucket or key the caller sent. */
function routeLabel(req: Request): string {
  const path = req.route?.path;
  return typeof path === 'string' ? path : 'unmatched';
}
