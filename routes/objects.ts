import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { requireAllowed, type AllowList } from '../src/access-policy';
import { requireScope } from '../src/auth/caller-access';
import { AppError } from '../src/errors';
import { prefersHtml, sendIndexPage } from '../src/http/html-index';
import { ifRangeMatches } from '../src/http/if-range';
import { parseBucket, parseObjectAddress, type ObjectAddress } from '../src/http/object-address';
import { announcedCrc64 } from '../src/http/crc64-verifier';
import { attachmentHeader, passedHeaders } from '../src/http/object-headers';
import { redirectToObject, wantsRedirect, type ObjectRedirectOptions } from '../src/http/object-redirect';
import { forwardedRange } from '../src/http/range';
import { streamBody } from '../src/http/stream-body';
import type { StreamProgress } from '../src/observability/request-context';
import { validate } from '../src/http/validate';
import type { Metrics } from '../src/metrics';
import type { ObjectRequest, ObjectResponse, ObjectStore } from '../src/oss/object-store';
import { objectVersionId } from '../src/oss/object-key';
import { listVersions, wantsVersions } from './object-versions';

/**
 * GET and HEAD /v1/objects/{bucket}/{key}: stream one object.
 * GET /v1/objects/{bucket}: list keys as JSON, or as a page for a browser (src/http/html-index.ts).
 */
export interface ObjectRoutesDeps {
  store: ObjectStore;
  allow: AllowList;
  metrics: Metrics;
  /** Check whole-object GETs against OSS's CRC64 (OSS_VERIFY_CRC64, on unless set to false). */
  verifyCrc64?: boolean;
  /** Redirect mode (307 to a presigned URL); without it `?redirect=true` is refused. */
  redirect?: ObjectRedirectOptions;
}

const flag = z.enum(['1', 'true', '0', 'false']).transform((v) => v === '1' || v === 'true');

// Strict: an unknown query parameter is a 400, not silently ignored.
const objectQuery = z.strictObject({
  download: flag.optional(),
  redirect: flag.optional(),
  filename: z
    .string()
    .min(1)
    .max(255)
    // eslint-disable-next-line no-control-regex -- control characters are what it refuses
    .regex(/^[^\u0000-\u001f\u007f/\\]+$/, 'must be a plain file name without control characters or slashes')
    .optional(),
  versionId: objectVersionId.optional(),
});

const listQuery = z.strictObject({
  prefix: z.string().max(1023).default(''),
  delimiter: z.string().min(1).max(1).optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int().min(1).max(1000).default(100),
  cursor: z.string().min(1).max(4096).optional(),
});

export function objectRoutes(deps: ObjectRoutesDeps): Router {
  const router = Router();

  router.get('/v1/objects/:bucket', async (req, res) => {
    const bucket = parseBucket(req.path);
    if (wantsVersions(req)) return listVersions(deps, req, res, bucket);
    const query = validate(listQuery, req.query, 'query');
    req.context.object = { bucket, prefix: query.prefix };
    requireAllowed(deps.allow, bucket, query.prefix, `listing ${bucket}/${query.prefix}`);
    requireScope(req, { bucket, key: query.prefix });
    const page = await deps.store.listObjects({ bucket, ...query });
    res.vary('Accept');
    if (prefersHtml(req)) return sendIndexPage(res, { ...query, bucket, limit: req.query.limit === undefined ? undefined : query.limit }, page);
    res.json(page);
  });

  // HEAD first: Express would otherwise answer HEAD with the GET handler.
  router.head('/v1/objects/:bucket/*key', (req, res) => serveObject(deps, req, res, 'HEAD'));
  router.get('/v1/objects/:bucket/*key', (req, res) => serveObject(deps, req, res, 'GET'));

  const methodNotAllowed = () => {
    throw new AppError('MethodNotAllowed', 'Objects are read-only here: use GET or HEAD.', {
      headers: { Allow: 'GET, HEAD' },
    });
  };
  router.all('/v1/objects/:bucket', methodNotAllowed);
  router.all('/v1/objects/:bucket/*key', methodNotAllowed);
  return router;
}

async function serveObject(deps: ObjectRoutesDeps, req: Request, res: Response, method: 'GET' | 'HEAD'): Promise<void> {
  const address = parseObjectAddress(req.path);
  req.context.object = address; // for the request log line
  requireAllowed(deps.allow, address.bucket, address.key, `${address.bucket}/${address.key}`);
  requireScope(req, address);
  const query = validate(objectQuery, req.query, 'query');
  if (wantsRedirect(deps.redirect, method, query.redirect)) return redirectToObject(deps.redirect, res, address, query);
  const upstream = await fetchHonouringIfRange(
    deps.store,
    method,
    { ...objectRequest(req, address), versionId: query.versionId },
    req.get('if-range'),
  );
  req.context.ossRequestId = upstream.headers['x-oss-request-id'];

  res.status(upstream.status);
  // setHeader, not res.set: Express would append a charset to OSS's Content-Type.
  for (const [name, value] of Object.entries(passedHeaders(upstream.headers))) res.setHeader(name, value);
  if (query.download || query.filename) {
    res.set('Content-Disposition', attachmentHeader(address.key, query.filename));
  }
  if (!upstream.body) {
    res.end();
    return;
  }
  // OSS's CRC64 covers the whole object: only a whole-object answer can be checked against it.
  const expectedCrc64 = deps.verifyCrc64 && upstream.status === 200 ? announcedCrc64(upstream.headers) : undefined;
  // Live, for the request log line: it is written when the response closes, which can come first.
  const progress: StreamProgress = { bytes: 0 };
  req.context.stream = progress;
  deps.metrics.streamsInFlight.inc();
  const result = await streamBody(upstream.body, res, { progress, onBytes: deps.metrics.countStreamedBytes, expectedCrc64 });
  deps.metrics.streamsInFlight.dec();
  deps.metrics.countStreamOutcome(result.outcome);
  if (result.outcome === 'crc_mismatch') {
    deps.metrics.crc64Mismatches.inc();
    req.log.error({ err: result.error, bucket: address.bucket, key: address.key }, 'CRC64 mismatch: the transfer was broken off');
  }
}

function objectRequest(req: Request, address: ObjectAddress): ObjectRequest {
  return {
    ...address,
    range: forwardedRange(req.get('range')),
    preconditions: {
      ifMatch: req.get('if-match'),
      ifNoneMatch: req.get('if-none-match'),
      ifModifiedSince: req.get('if-modified-since'),
      ifUnmodifiedSince: req.get('if-unmodified-since'),
    },
  };
}

/**
 * GET or HEAD, honouring If-Range (RFC 9110 section 13.1.5): a range of a
 * different version becomes the whole object, and so does an unsatisfiable
 * range of a different version (the Range is ignored, so it cannot fail).
 */
async function fetchHonouringIfRange(
  store: ObjectStore,
  method: 'GET' | 'HEAD',
  request: ObjectRequest,
  ifRange: string | undefined,
): Promise<ObjectResponse> {
  const fetch = (r: ObjectRequest) => (method === 'GET' ? store.getObject(r) : store.headObject(r));
  const whole = () => fetch({ ...request, range: undefined });
  if (ifRange === undefined || request.range === undefined) return fetch(request);
  let upstream: ObjectResponse;
  try {
    upstream = await fetch(request);
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'InvalidRange') throw err;
    // OSS's 416 carries no validator: a HEAD tells which version the range was refused for.
    const current = await store.headObject({ ...request, range: undefined });
    if (ifRangeMatches(ifRange, current.headers)) throw err;
    return whole();
  }
  if (upstream.status !== 206 || ifRangeMatches(ifRange, upstream.headers)) return upstream;
  upstream.body?.destroy();
  return whole();
}
