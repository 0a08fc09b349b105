import { randomUUID } from 'node:crypto';
import type { Express, NextFunction, Request, Response } from 'express';
import { callerName } from '../auth/caller-access';
import { redactTokens } from '../auth/tokens';
import type { Logger } from '../logger';
import { bytesSent, requestOutcome, timeToFirstByteMs, type ObjectFacts } from './request-facts';

/**
 * One JSON line per request: request id, caller, bucket and key, status,
 * bytes sent, time to first byte (`ttfbMs`), total time (`responseTime`, ms),
 * the OSS request id, and how it ended (`outcome`). No request header is
 * logged, and tokens in the URL are redacted: they can carry caller tokens.
 *
 * The line has the shape pino-http gave it (`req`, `res`, `err`,
 * `responseTime`, "request completed"), but it is written with one call on
 * the service's logger when the response closes. pino-http built three child
 * loggers per request, each serialising and redacting its bindings: a third
 * of the service's CPU per small-object request (bench/RESULTS.md, section 6).
 * `req.log` is still there for routes that log about a request: a getter on
 * the app's request prototype that builds the child logger the first time a
 * route asks for it, so a request that logs nothing else pays nothing for it.
 */

declare module 'express-serve-static-core' {
  interface Request {
    /** The request id: the caller's X-Request-Id when safe to echo, otherwise a new UUID. */
    id: string;
    /** A logger bound to this request (`req` field). */
    log: Logger;
  }
  interface Response {
    /** The cause of a 5xx, set by the error handler: logged with the request line, never sent to the caller. */
    err?: Error;
  }
}

/** An incoming X-Request-Id is kept only if it is safe to log and echo. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Mounts the request log on `app`: one line per request, and `req.log` for the routes. */
export function useRequestLog(app: Express, logger: Logger): void {
  // What the line says about the request, taken when it arrives: once the response is
  // destroyed (a caller gone, a broken transfer) its socket no longer knows the peer.
  const requests = new WeakMap<Request, { fields: RequestFields; log?: Logger }>();
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: Request): Logger {
      const seen = requests.get(this);
      return seen ? (seen.log ??= logger.child({ req: seen.fields })) : logger;
    },
  });
  app.use((req: Request, res: Response, next: NextFunction): void => {
    const startedAt = Date.now();
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    const fields = requestFields(req);
    requests.set(req, { fields });
    let logged = false;
    const logOnce = (err?: Error) => {
      if (logged) return;
      logged = true;
      res.off('close', logOnce);
      res.off('finish', logOnce);
      res.off('error', logOnce);
      writeRequestLine(logger, fields, req, res, Date.now() - startedAt, err);
    };
    res.on('close', logOnce);
    res.on('finish', logOnce);
    res.on('error', logOnce);
    next();
  });
}

function writeRequestLine(logger: Logger, fields: RequestFields, req: Request, res: Response, responseTime: number, err: Error | undefined): void {
  const outcome = requestOutcome(res);
  const object = res.locals.object as ObjectFacts | undefined;
  const line = {
    req: fields,
    caller: callerName(req),
    bucket: object?.bucket,
    key: object?.key,
    prefix: object?.prefix,
    ossRequestId: res.locals.ossRequestId as string | undefined,
    outcome,
    bytesSent: bytesSent(res),
    ttfbMs: timeToFirstByteMs(res),
    res: { statusCode: res.statusCode },
    responseTime,
  };
  const failure = err ?? res.err;
  if (failure || res.statusCode >= 500) {
    logger.error({ ...line, err: failure ?? new Error(`failed with status code ${res.statusCode}`) }, 'request errored');
    return;
  }
  const level = outcome === 'crc_mismatch' ? 'error' : res.statusCode >= 400 || outcome === 'upstream_failed' ? 'warn' : 'info';
  logger[level](line, !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted');
}

type RequestFields = ReturnType<typeof requestFields>;

/**
 * `remoteAddress` is the peer of the connection; `clientAddress`, only when it
 * differs, is the caller that TRUST_PROXY's hops named in X-Forwarded-For.
 */
function requestFields(req: Request) {
  const remoteAddress = req.socket.remoteAddress;
  const clientAddress = req.ip !== remoteAddress ? req.ip : undefined;
  return { id: req.id, method: req.method, url: redactTokens(req.originalUrl), remoteAddress, clientAddress };
}
