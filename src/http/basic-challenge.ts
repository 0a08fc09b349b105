import type { ErrorRequestHandler } from 'express';
import { AppError, isAppError } from '../errors';
import { prefersHtml } from './html-index';

export const BASIC_CHALLENGE = 'Basic realm="oss-download-service"';

/**
 * A 401 to a browser (a request that prefers HTML) also offers HTTP Basic, so
 * the browser asks its user for the token (the password; any user name) and
 * then sends it on every request under /v1/objects/. The Bearer challenge
 * stays first. Each challenge gets its own header line: Chromium reads only
 * the first challenge of a comma-joined one.
 */
export const basicChallenge: ErrorRequestHandler = (err, req, res, next) => {
  if (!isAppError(err) || err.status !== 401 || !prefersHtml(req)) return next(err);
  const { 'WWW-Authenticate': bearer, ...headers } = err.headers;
  res.setHeader('WWW-Authenticate', bearer ? [bearer, BASIC_CHALLENGE] : [BASIC_CHALLENGE]);
  next(new AppError(err.code, err.detail, { status: err.status, headers, ossRequestId: err.ossRequestId, cause: err }));
};
