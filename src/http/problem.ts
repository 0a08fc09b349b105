import type { ErrorRequestHandler, Request, Response } from 'express';
import { AppError, ERRORS, isAppError, type ErrorCode } from '../errors';

/**
 * The one place that writes errors: application/problem+json (RFC 9457) with
 * a stable `code`. Only AppError details reach a caller; anything else is an
 * internal error whose message stays in the log.
 */

export const PROBLEM_TYPE_BASE = 'urn:oss-download-service:problem:';

/** The problem+json fields of an error without a request id: a download job's error outlives the request that started it. */
export interface ProblemFields {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
}

export interface ProblemBody extends ProblemFields {
  requestId: string;
}

export function problemFields(err: AppError): ProblemFields {
  return {
    type: `${PROBLEM_TYPE_BASE}${err.code}`,
    title: ERRORS[err.code].title,
    status: err.status,
    detail: err.detail,
    code: err.code,
  };
}

export function problemBody(err: AppError, requestId: string): ProblemBody {
  return { ...problemFields(err), requestId };
}

export function sendProblem(req: Request, res: Response, err: AppError): void {
  res.status(err.status);
  res.set(err.headers);
  res.type('application/problem+json');
  const body = JSON.stringify(problemBody(err, String(req.id)));
  res.set('Content-Length', String(Buffer.byteLength(body)));
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Express's own errors (bad JSON, a URI it cannot decode, a body too large) carry an HTTP status. */
function fromExpressError(err: unknown): AppError {
  const e = err as { status?: number; statusCode?: number; type?: string };
  const status = e.status ?? e.statusCode;
  if (status === 413) return new AppError('InvalidRequest', 'The request body is too large.', { status: 413 });
  if (status !== undefined && status >= 400 && status < 500) {
    return new AppError('InvalidRequest', 'The request could not be read (malformed body or URL).');
  }
  return new AppError('InternalError', 'The service failed to handle the request.', { cause: err });
}

export const problemHandler: ErrorRequestHandler = (err, req, res, _next) => {
  if (res.headersSent) {
    // Too late for an error body: a broken transfer tells the caller the truth.
    res.destroy(err instanceof Error ? err : undefined);
    return;
  }
  const appError = isAppError(err) ? err : fromExpressError(err);
  if (appError.ossRequestId) req.context.ossRequestId = appError.ossRequestId; // for the request log line
  // The request log line (src/observability/request-log.ts) carries res.err: the real cause, for the operator only.
  if (appError.status >= 500) res.err = err instanceof Error ? err : new Error(String(err));
  sendProblem(req, res, appError);
};
