import request from 'supertest';
import type { AllowList } from '../../src/access-policy';
import { createApp } from '../../src/compose';
import { AppError } from '../../src/errors';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import { FakeCredentials } from '../support/fake-credentials';
import { FakeStore } from '../support/fake-store';

function setup(
  allow: AllowList = [
    { bucket: 'bkt', prefix: '' },
    { bucket: 'other', prefix: 'public/' },
  ],
) {
  const store = new FakeStore();
  const credentials = new FakeCredentials();
  const lifecycle = { draining: false };
  const metrics = new Metrics();
  const app = createApp({ store, credentials, allow, logger: createLogger('silent'), metrics, lifecycle });
  return { app, store, credentials, lifecycle, metrics };
}

function expectProblem(res: request.Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: `urn:oss-download-service:problem:${code}` });
  expect(res.body.requestId).toBe(res.headers['x-request-id']);
}

describe('GET /v1/objects/:bucket/*key', () => {
  it('streams the object with the contract headers and drops other x-oss-* headers', async () => {
    const { app, store } = setup();
    store.put('bkt', 'a/b c.txt', 'hello');
    const res = await request(app).get('/v1/objects/bkt/a/b%20c.txt');
    expect(res.status).toBe(200);
    expect(res.text).toBe('hello');
    expect(res.headers).toMatchObject({ etag: '"0123456789ABCDEF0123456789ABCDEF"', 'x-oss-hash-crc64ecma': '123' });
    expect(res.headers['x-oss-request-id']).toBeUndefined();
    expect(res.headers['x-oss-object-type']).toBeUndefined();
    expect(store.calls[0]).toMatchObject({ method: 'GET', request: { bucket: 'bkt', key: 'a/b c.txt' } });
  });

  it('forwards one range and the conditional headers', async () => {
    const { app, store } = setup();
    store.put('bkt', 'k', 'hello');
    await request(app)
      .get('/v1/objects/bkt/k')
      .set('Range', 'bytes=1-2')
      .set('If-Match', '"X"')
      .set('If-None-Match', '"Y"')
      .set('If-Modified-Since', 'Wed, 21 Oct 2026 07:28:00 GMT')
      .set('If-Unmodified-Since', 'Thu, 22 Oct 2026 07:28:00 GMT');
    expect(store.calls[0].request).toMatchObject({
      range: 'bytes=1-2',
      preconditions: {
        ifMatch: '"X"',
        ifNoneMatch: '"Y"',
        ifModifiedSince: 'Wed, 21 Oct 2026 07:28:00 GMT',
        ifUnmodifiedSince: 'Thu, 22 Oct 2026 07:28:00 GMT',
      },
    });
  });

  it('asks for the whole object when several ranges are requested', async () => {
    const { app, store } = setup();
    store.put('bkt', 'k', 'hello');
    await request(app).get('/v1/objects/bkt/k').set('Range', 'bytes=0-1,3-4');
    expect(store.calls[0].request).toMatchObject({ range: undefined });
  });

  it('adds an RFC 6266 attachment header for ?download=1, with an RFC 5987 name for non-ASCII and _ in the ASCII fallback', async () => {
    const { app, store } = setup();
    store.put('bkt', 'docs/日本.txt', 'x');
    const res = await request(app).get('/v1/objects/bkt/docs/%E6%97%A5%E6%9C%AC.txt?download=1');
    expect(res.headers['content-disposition']).toBe(`attachment; filename=__.txt; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt`);
  });

  it('names the attachment after ?filename=', async () => {
    const { app, store } = setup();
    store.put('bkt', 'k', 'x');
    const res = await request(app).get('/v1/objects/bkt/k?filename=report.csv');
    expect(res.headers['content-disposition']).toBe('attachment; filename=report.csv');
  });

  it.each(['../etc/passwd', 'a\u0001b', ''])('refuses the filename %j', async (filename) => {
    const { app, store } = setup();
    store.put('bkt', 'k', 'x');
    const res = await request(app).get(`/v1/objects/bkt/k?filename=${encodeURIComponent(filename)}`);
    expectProblem(res, 400, 'InvalidRequest');
  });

  it('refuses a bucket outside OSS_ALLOW before any OSS request', async () => {
    const { app, store } = setup();
    const res = await request(app).get('/v1/objects/secret-bucket/k');
    expectProblem(res, 403, 'NotAllowed');
    expect(store.calls).toHaveLength(0);
  });

  it('refuses a key outside the allowed prefix before any OSS request', async () => {
    const { app, store } = setup();
    const res = await request(app).get('/v1/objects/other/private/k');
    expectProblem(res, 403, 'NotAllowed');
    expect(store.calls).toHaveLength(0);
  });

  it('answers the store error as problem+json', async () => {
    const { app } = setup();
    const res = await request(app).get('/v1/objects/bkt/missing');
    expectProblem(res, 404, 'NoSuchKey');
  });

  it('answers 503 CredentialsUnavailable when no credential can be had', async () => {
    const { app, store } = setup();
    store.failWith = new AppError('CredentialsUnavailable', 'none');
    const res = await request(app).get('/v1/objects/bkt/k');
    expectProblem(res, 503, 'CredentialsUnavailable');
  });

  it('never shows the message of an unexpected error', async () => {
    const { app, store } = setup();
    store.getObject = async () => {
      throw new Error('secret internal detail');
    };
    const res = await request(app).get('/v1/objects/bkt/k');
    expectProblem(res, 500, 'InternalError');
    expect(res.text).not.toContain('secret internal detail');
  });

  it('answers 400 for an invalid key encoding without calling OSS', async () => {
    const { app, store } = setup();
    const res = await request(app).get('/v1/objects/bkt/%E0%A4%A');
    expectProblem(res, 400, 'InvalidRequest');
    expect(store.calls).toHaveLength(0);
  });

  it('answers 405 with Allow for other methods', async () => {
    const { app } = setup();
    const res = await request(app).delete('/v1/objects/bkt/k');
    expectProblem(res, 405, 'MethodNotAllowed');
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it('keeps a safe incoming X-Request-Id and replaces an unsafe one', async () => {
    const { app } = setup();
    const kept = await request(app).get('/healthz').set('X-Request-Id', 'abc-123');
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await request(app).get('/healthz').set('X-Request-Id', 'a b<script>');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('HEAD /v1/objects/:bucket/*key', () => {
  it('answers the headers without a body', async () => {
    const { app, store } = setup();
    store.put('bkt', 'k', 'hello');
    const res = await request(app).head('/v1/objects/bkt/k');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('5');
    expect(res.text).toBeUndefined();
    expect(store.calls[0].method).toBe('HEAD');
  });
});

describe('GET /v1/objects/:bucket', () => {
  it('lists with the contract shape', async () => {
    const { app, store } = setup();
    store.listPage = {
      objects: [{ key: 'a', size: 1, etag: '"E"', lastModified: '2026-01-01T00:00:00.000Z', storageClass: 'Standard' }],
      prefixes: ['d/'],
      nextCursor: 'next',
    };
    const res = await request(app).get('/v1/objects/bkt?prefix=&delimiter=/&limit=10&cursor=abc');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(store.listPage);
    expect(store.calls[0].request).toEqual({ bucket: 'bkt', prefix: '', delimiter: '/', limit: 10, cursor: 'abc' });
  });

  it.each(['limit=0', 'limit=1001', 'limit=ten', 'limit=1.5', 'prefix=a&prefix=b'])('refuses the query %s', async (query) => {
    const { app, store } = setup();
    const res = await request(app).get(`/v1/objects/bkt?${query}`);
    expectProblem(res, 400, 'InvalidRequest');
    expect(store.calls).toHaveLength(0);
  });

  it('refuses a listing wider than the allowed prefix', async () => {
    const { app } = setup();
    expectProblem(await request(app).get('/v1/objects/other?prefix=pub'), 403, 'NotAllowed');
    expect((await request(app).get('/v1/objects/other?prefix=public/x')).status).toBe(200);
  });
});

describe('health', () => {
  it('GET /healthz answers 200', async () => {
    const { app } = setup();
    expect((await request(app).get('/healthz')).status).toBe(200);
  });

  it('GET /readyz answers 200 with a valid credential and 503 without', async () => {
    const { app, credentials } = setup();
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', credentials: { source: 'fake' } });
    credentials.valid = false;
    expectProblem(await request(app).get('/readyz'), 503, 'CredentialsUnavailable');
  });

  it('GET /readyz answers 503 while draining', async () => {
    const { app, lifecycle } = setup();
    lifecycle.draining = true;
    expectProblem(await request(app).get('/readyz'), 503, 'NotReady');
  });

  it('GET /metrics answers Prometheus text with request counts', async () => {
    const { app } = setup();
    await request(app).get('/healthz');
    const res = await request(app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/http_requests_total\{route="\/healthz",method="GET",status="200"\} 1/);
    expect(res.text).toMatch(/credential_valid\{source="fake"\} 1/);
  });

  it('answers 404 NotFound for an unknown path', async () => {
    const { app } = setup();
    expectProblem(await request(app).get('/nope'), 404, 'NotFound');
  });
});
