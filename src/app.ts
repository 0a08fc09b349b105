import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express, type Request, type Response } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { healthRoutes, type Lifecycle } from '../routes/health';
import { metricsRoutes } from '../routes/metrics';
import { objectRoutes } from '../routes/objects';
import type { AllowList } from './access-policy';
import type { CredentialsProvider } from './credentials/credentials-provider';
import { AppError } from './errors';
import { problemHandler } from './http/problem';
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
}

/** An incoming X-Request-Id is kept only if it is safe to log and echo. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // ETags are OSS's, passed through; Express must not invent its own

  app.use(requestLogger(deps.logger));
  app.use(helmet());
  app.use(requestMetrics(deps.metrics));
  deps.metrics.observeCredentials(deps.credentials);

  app.use(healthRoutes({ credentials: deps.credentials, lifecycle: deps.lifecycle ?? { draining: false } }));
  app.use(metricsRoutes(deps.metrics));
  app.use(objectRoutes({ store: deps.store, allow: deps.allow, metrics: deps.metrics }));

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
    // No headers in the log: they can carry caller tokens. The serializers get the raw
    // request and response: pino-http's default wrapping first builds a whole request object,
    // every header copied, only for these to drop it (measured in bench/RESULTS.md, profile).
    wrapSerializers: false,
    serializers: {
      req: (req: IncomingMessage & { id: string; originalUrl?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.originalUrl ?? req.url,
        remoteAddress: req.socket?.remoteAddress,
      }),
      res: (res: ServerResponse) => ({ statusCode: res.headersSent ? res.statusCode : null }),
    },
    customLogLevel(_req, res, err) {
      if (err || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return 'info';
    },
    customProps(_req, res) {
      const stream = (res as Response).locals?.stream as { outcome: string; bytes: number } | undefined;
      return stream ? { outcome: stream.outcome, bytesSent: stream.bytes } : {};
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
