import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';
import type { StreamOutcome } from '../http/stream-body';

/**
 * What the request log line and the request metrics say about one request,
 * gathered in one place: routes and the error handler leave facts in
 * `res.locals`, and this module reads them when the response closes.
 */

/** How a request ended, as logs and metrics name it. */
export type RequestOutcome = StreamOutcome;

/** Left in res.locals.stream by the object routes while a body streams; `outcome` once it ended. */
export interface StreamProgress {
  bytes: number;
  outcome?: StreamOutcome;
}

/** Left in res.locals.object by the object routes (and res.locals.ossRequestId, OSS's name for its request). */
export interface ObjectFacts {
  bucket: string;
  key?: string;
  prefix?: string;
}

interface Timing {
  startedAt: number;
  firstByteAt?: number;
}

/**
 * Marks when the response headers go out (the first byte the caller gets):
 * Node writes them through res.writeHead, explicitly or from the first
 * write()/end(). Mount it before everything that answers.
 */
export function requestTiming(_req: Request, res: Response, next: NextFunction): void {
  const timing: Timing = { startedAt: performance.now() };
  res.locals.timing = timing;
  const writeHead = res.writeHead;
  res.writeHead = function patchedWriteHead(this: Response, ...args: unknown[]) {
    timing.firstByteAt ??= performance.now();
    return (writeHead as (...a: unknown[]) => Response).apply(this, args);
  } as Response['writeHead'];
  next();
}

/** Milliseconds from the request to its response headers; undefined when none went out. */
export function timeToFirstByteMs(res: Response): number | undefined {
  const timing = res.locals?.timing as Timing | undefined;
  if (timing?.firstByteAt === undefined) return undefined;
  return round(timing.firstByteAt - timing.startedAt);
}

/**
 * complete, client_aborted, upstream_failed or crc_mismatch. An object
 * stream says so itself; any other response is complete unless the caller
 * left first, or it is OSS's failure told as 502/504.
 */
export function requestOutcome(res: Response): RequestOutcome {
  const stream = res.locals?.stream as StreamProgress | undefined;
  if (stream?.outcome) return stream.outcome;
  if (!res.writableFinished) return 'client_aborted';
  if (res.statusCode === 502 || res.statusCode === 504) return 'upstream_failed';
  return 'complete';
}

/** Body bytes the caller was sent: counted for object streams, Content-Length otherwise. */
export function bytesSent(res: Response): number {
  const stream = res.locals?.stream as StreamProgress | undefined;
  if (stream) return stream.bytes;
  const length = Number(res.getHeader('content-length'));
  return res.writableFinished && Number.isFinite(length) ? length : 0;
}

/** A bounded label: the route pattern, never the bucket or key the caller sent. */
export function routeLabel(req: Request): string {
  const path = req.route?.path;
  return typeof path === 'string' ? path : 'unmatched';
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
