import type { Request, Response } from 'express';
import type { RequestContext, StreamOutcome } from './request-context';

/**
 * What the request log line and the request metrics say about one request,
 * read from its context (src/observability/request-context.ts) when the
 * response closes: routes and the error handler leave their facts there.
 */

/** How a request ended, as logs and metrics name it. */
export type RequestOutcome = StreamOutcome;

/** Milliseconds from the request to its response headers; undefined when none went out. */
export function timeToFirstByteMs(ctx: RequestContext): number | undefined {
  if (ctx.firstByteAt === undefined) return undefined;
  return round(ctx.firstByteAt - ctx.startedAt);
}

/**
 * complete, client_aborted, upstream_failed or crc_mismatch. An object
 * stream says so itself; any other response is complete unless the caller
 * left first, or it is OSS's failure told as 502/504.
 */
export function requestOutcome(ctx: RequestContext, res: Response): RequestOutcome {
  if (ctx.stream?.outcome) return ctx.stream.outcome;
  if (!res.writableFinished) return 'client_aborted';
  if (res.statusCode === 502 || res.statusCode === 504) return 'upstream_failed';
  return 'complete';
}

/** Body bytes the caller was sent: counted for object streams, Content-Length otherwise. */
export function bytesSent(ctx: RequestContext, res: Response): number {
  if (ctx.stream) return ctx.stream.bytes;
  const length = Number(res.getHeader('content-length'));
  return res.writableFinished && Number.isFinite(length) ? length : 0;
}

/** A bounded label: the route pattern, never the bucket or key the caller sent. */
export function routeLabel(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path; // Express types the matched route as any
  return typeof path === 'string' ? path : 'unmatched';
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
