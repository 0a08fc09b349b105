import type { RequestHandler } from 'express';
import { routedPath } from './request-guards';

/**
 * CORS for web apps on other origins, opt-in (CORS_ORIGINS). Only the object
 * and listing paths take part: a preflight there (OPTIONS with Origin and
 * Access-Control-Request-Method) from a listed origin is answered 204 here,
 * before authentication (browsers never send credentials on a preflight) and
 * before the 405 guards; an actual response to a listed origin names that
 * origin and exposes the headers a client needs for ranges and checksums.
 * An unlisted origin gets no CORS header at all, and its preflight goes on to
 * the usual 401/405, which the browser treats as a refusal.
 */
export type CorsOrigins = readonly string[] | '*';

export const CORS_ALLOW_METHODS = 'GET, HEAD';
export const CORS_ALLOW_HEADERS = 'Authorization, Range, If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, If-Range';
export const CORS_EXPOSE_HEADERS =
  'Content-Range, Content-Length, Accept-Ranges, ETag, Last-Modified, Content-Disposition, x-oss-hash-crc64ecma, X-Request-Id';
/** How long a browser may cache a preflight; Chromium caps it at 2 hours anyway. */
export const CORS_MAX_AGE_SECONDS = 600;

/** `/v1/objects/{bucket}` and everything under it. */
function isObjectPath(path: string): boolean {
  return /^\/v1\/objects\/[^/]+/.test(path);
}

export function cors(origins: CorsOrigins): RequestHandler {
  const allowed = (origin: string) => origins === '*' || origins.includes(origin);
  return (req, res, next) => {
    if (!isObjectPath(routedPath(req))) return next();
    // The answer depends on Origin even when it carries no CORS header: caches must key on it.
    res.vary('Origin');
    const origin = req.get('origin');
    if (origin === undefined || !allowed(origin)) return next();
    res.setHeader('Access-Control-Allow-Origin', origins === '*' ? '*' : origin);
    if (req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', CORS_ALLOW_METHODS);
      res.setHeader('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
      res.setHeader('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS));
      res.status(204).end();
      return;
    }
    res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
    next();
  };
}

/**
 * CORS_ORIGINS: comma-separated exact origins (`https://app.example.com`,
 * `http://127.0.0.1:3000`: scheme, host and port only), or `*` alone.
 */
export function parseCorsOrigins(text: string): { ok: true; value: CorsOrigins } | { ok: false; error: string } {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) return { ok: false, error: 'must list at least one origin, or be *' };
  if (entries.includes('*')) {
    return entries.length === 1 ? { ok: true, value: '*' } : { ok: false, error: '* must stand alone' };
  }
  const bad = entries.filter((entry) => !isOrigin(entry));
  if (bad.length > 0) {
    return {
      ok: false,
      error: `${bad.map((b) => JSON.stringify(b)).join(', ')}: each entry must be an origin such as https://app.example.com (scheme, host and port; no path or trailing slash)`,
    };
  }
  return { ok: true, value: [...new Set(entries)] };
}

function isOrigin(entry: string): boolean {
  try {
    const url = new URL(entry);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === entry;
  } catch {
    return false;
  }
}
