import type { Request, RequestHandler } from 'express';
import { AppError } from '../errors';

/**
 * Checks every request meets before it reaches authentication or a route.
 * Header size is Node's own limit (maxHeaderSize, see http-server.ts).
 */

/** 414 for a request target longer than `maxBytes`: a key is at most 1023 bytes, 3069 percent-encoded. */
export function urlLengthLimit(maxBytes: number): RequestHandler {
  return (req, _res, next) => {
    if (Buffer.byteLength(req.originalUrl, 'utf8') > maxBytes) {
      throw new AppError('InvalidRequest', `The request URL is longer than ${maxBytes} bytes.`, { status: 414 });
    }
    next();
  };
}

/** 403 for a peer outside ALLOW_CIDRS, by the socket's address (never X-Forwarded-For). */
export function peerAllowlist(isAllowed: (address: string | undefined) => boolean): RequestHandler {
  return (req, _res, next) => {
    if (!isAllowed(req.socket.remoteAddress)) {
      throw new AppError('NotAllowed', 'This network address may not use the service (see ALLOW_CIDRS).');
    }
    next();
  };
}

/**
 * The path as Express's router matches it: case-insensitive, trailing slashes
 * optional. A check on `/metrics` must also catch `/METRICS` and `/metrics/`,
 * which reach the same route.
 */
export function routedPath(req: Request): string {
  return req.path.toLowerCase().replace(/(.)\/+$/, '$1');
}

/** 405 with Allow for any other method on a read-only path (OPTIONS included: there is no CORS here). */
export function readOnlyPaths(paths: string[]): RequestHandler {
  return (req, _res, next) => {
    if (!paths.includes(routedPath(req)) || req.method === 'GET' || req.method === 'HEAD') return next();
    throw new AppError('MethodNotAllowed', `${req.path} answers GET and HEAD only.`, { headers: { Allow: 'GET, HEAD' } });
  };
}
