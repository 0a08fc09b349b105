import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { pinoHttp } from 'pino-http';
import { callerName } from '../auth/caller-access';
import { redactTokens } from '../auth/tokens';
import type { Logger } from '../logger';
import { bytesSent, requestOutcome, timeToFirstByteMs, type ObjectFacts } from './request-facts';

/**
 * One JSON line per request (pino-http): request id, caller, bucket and key,
 * status, bytes sent, time to first byte (`ttfbMs`), total time
 * (`responseTime`, pino-http's, in ms), the OSS request id, and how it ended
 * (`outcome`). No request header is logged, and tokens in the URL are
 * redacted: they can carry caller tokens.
 */

/** An incoming X-Request-Id is kept only if it is safe to log and echo. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId(req, res) {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
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
      const outcome = requestOutcome(res as Response);
      if (outcome === 'crc_mismatch') return 'error';
      if (res.statusCode >= 400 || outcome === 'upstream_failed') return 'warn';
      return 'info';
    },
    customProps(req, res) {
      const response = res as Response;
      // pino-http asks once when the request arrives, before requestTiming (mounted after
      // it) ran, and once at the end: the first answer must be empty.
      if (!response.locals?.timing) return {};
      const object = response.locals.object as ObjectFacts | undefined;
      return {
        caller: callerName(req as Request),
        bucket: object?.bucket,
        key: object?.key,
        prefix: object?.prefix,
        ossRequestId: response.locals.ossRequestId as string | undefined,
        outcome: requestOutcome(response),
        bytesSent: bytesSent(response),
        ttfbMs: timeToFirstByteMs(response),
      };
    },
  });
}
