import { performance } from 'node:perf_hooks';
import type { Express, Request, Response } from 'express';
import { callerName } from '../auth/caller-access';
import { redactTokens } from '../auth/tokens';
import type { Logger } from '../logger';
import type { CloseHook, RequestContext } from './request-context';
import { bytesSent, requestOutcome, timeToFirstByteMs } from './request-facts';

/**
 * One JSON line per request: request id, caller, bucket and key, status,
 * bytes sent, time to first byte (`ttfbMs`), total time (`responseTime`, ms),
 * the OSS request id, and how it ended (`outcome`). No request header is
 * logged, and tokens in the URL are redacted: they can carry caller tokens.
 *
 * The line has the shape pino-http gave it (`req`, `res`, `err`,
 * `responseTime`, "request completed"), written with one call on the
 * service's logger from the request context's close hook. pino-http built
 * three child loggers per request, each serialising and redacting its
 * bindings (bench/RESULTS.md, section 6). `req.log` is still there for routes
 * that log about a request: a getter on the app's request prototype that
 * builds the child logger the first time a route asks for it, so a request
 * that logs nothing else pays nothing for it.
 */

declare module 'express-serve-static-core' {
  interface Request {
    /** A logger bound to this request (`req` field). */
    log: Logger;
  }
  interface Response {
    /** The cause of a 5xx, set by the error handler: logged with the request line, never sent to the caller. */
    err?: Error;
  }
}

/**
 * `req.log` on `app`, and the close hook that writes the line. `trustProxy`:
 * whether TRUST_PROXY is set, so the line may name a client other than the peer.
 */
export function requestLog(app: Express, logger: Logger, trustProxy: boolean): CloseHook {
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: Request): Logger {
      const ctx = this.context as RequestContext | undefined;
      return ctx ? (ctx.log ??= logger.child({ req: requestFields(this, ctx, trustProxy) })) : logger;
    },
  });
  return (ctx, req, res) => writeRequestLine(logger, ctx, req, res, trustProxy);
}

function writeRequestLine(logger: Logger, ctx: RequestContext, req: Request, res: Response, trustProxy: boolean): void {
  const outcome = requestOutcome(ctx, res);
  const object = ctx.object;
  const line = {
    req: requestFields(req, ctx, trustProxy),
    caller: callerName(req),
    bucket: object?.bucket,
    key: object?.key,
    prefix: object?.prefix,
    ossRequestId: ctx.ossRequestId,
    outcome,
    bytesSent: bytesSent(ctx, res),
    ttfbMs: timeToFirstByteMs(ctx),
    res: { statusCode: res.statusCode },
    responseTime: Math.round(performance.now() - ctx.startedAt),
  };
  if (res.err || res.statusCode >= 500) {
    logger.error({ ...line, err: res.err ?? new Error(`failed with status code ${res.statusCode}`) }, 'request errored');
    return;
  }
  const level = outcome === 'crc_mismatch' ? 'error' : res.statusCode >= 400 || outcome === 'upstream_failed' ? 'warn' : 'info';
  logger[level](line, !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted');
}

/**
 * `remoteAddress` is the peer of the connection, read when the request
 * arrived; `clientAddress`, only when it differs, is the caller that
 * TRUST_PROXY's hops named in X-Forwarded-For (Node keeps the peer it read
 * once, so req.ip still works after the socket is gone).
 */
function requestFields(req: Request, ctx: RequestContext, trustProxy: boolean) {
  const remoteAddress = ctx.remoteAddress;
  const clientAddress = trustProxy && req.ip !== remoteAddress ? req.ip : undefined;
  return { id: ctx.id, method: req.method, url: redactTokens(req.originalUrl), remoteAddress, clientAddress };
}
