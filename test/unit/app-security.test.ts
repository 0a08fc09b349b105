import express from 'express';
import request from 'supertest';
import { createApp } from '../../src/compose';
import { acquireDownloadSlot, requireScope } from '../../src/auth/caller-access';
import { authenticateCallers } from '../../src/http/authenticate-callers';
import type { Authenticator } from '../../src/auth/authenticator';
import { ConcurrencyLimiter } from '../../src/auth/concurrency-limiter';
import type { Principal } from '../../src/auth/token-file';
import { AppError } from '../../src/errors';
import { DEFAULT_HTTP_LIMITS } from '../../src/http/limits';
import { problemHandler } from '../../src/http/problem';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import { FakeCredentials } from '../support/fake-credentials';
import { FakeStore } from '../support/fake-store';
import { bearer, StaticAuthenticator } from '../support/static-authenticator';

const reader: Principal = { name: 'reader', read: [{ bucket: 'bkt', prefix: 'pub/' }], downloads: [], metrics: false };
const prom: Principal = { name: 'prom', read: [], downloads: [''], metrics: true };

function setup(options: { auth?: boolean; metricsRequireToken?: boolean; allowCidrs?: string[]; maxUrlBytes?: number } = {}) {
  const store = new FakeStore();
  store.put('bkt', 'pub/a.txt', 'hello');
  const app = createApp({
    store,
    credentials: new FakeCredentials(),
    allow: [{ bucket: 'bkt', prefix: '' }],
    logger: createLogger('silent'),
    metrics: new Metrics(),
    auth: options.auth === false ? undefined : new StaticAuthenticator([reader, prom]),
    security: {
      metricsRequireToken: options.metricsRequireToken,
      allowCidrs: options.allowCidrs,
      limits: { ...DEFAULT_HTTP_LIMITS, maxUrlBytes: options.maxUrlBytes ?? DEFAULT_HTTP_LIMITS.maxUrlBytes },
    },
  });
  return { app, store };
}

describe('caller authentication in createApp', () => {
  it('reads an object in scope', async () => {
    const { app } = setup();
    const res = await request(app).get('/v1/objects/bkt/pub/a.txt').set('Authorization', bearer(reader));
    expect(res.status).toBe(200);
  });

  it('answers 401 before any OSS request without a token', async () => {
    const { app, store } = setup();
    const res = await request(app).get('/v1/objects/bkt/pub/a.txt');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('Unauthorized');
    expect(store.calls).toHaveLength(0);
  });

  it('answers 403 NotAllowed with insufficient_scope outside the scope, before any OSS request', async () => {
    const { app, store } = setup();
    const res = await request(app).get('/v1/objects/bkt/private/a.txt').set('Authorization', bearer(reader));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'NotAllowed', detail: 'The token "reader" has no read scope for this object or prefix.' });
    expect(res.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
    expect(store.calls).toHaveLength(0);
  });

  it('allows a listing only inside a read scope', async () => {
    const { app } = setup();
    expect((await request(app).get('/v1/objects/bkt?prefix=pub/x').set('Authorization', bearer(reader))).status).toBe(200);
    expect((await request(app).get('/v1/objects/bkt?prefix=pu').set('Authorization', bearer(reader))).status).toBe(403);
  });

  it('leaves /healthz and /readyz open', async () => {
    const { app } = setup();
    expect((await request(app).get('/healthz')).status).toBe(200);
    expect((await request(app).get('/readyz')).status).toBe(200);
  });

  it('restricts /metrics to the metrics scope by default, and opens it with METRICS_AUTH=none', async () => {
    const { app } = setup();
    expect((await request(app).get('/metrics')).status).toBe(401);
    expect((await request(app).get('/metrics').set('Authorization', bearer(reader))).status).toBe(403);
    expect((await request(app).get('/metrics').set('Authorization', bearer(prom))).status).toBe(200);
    const open = setup({ metricsRequireToken: false });
    expect((await request(open.app).get('/metrics')).status).toBe(200);
  });

  it('counts requests by caller name in the metrics, never by token', async () => {
    const { app } = setup();
    await request(app).get('/v1/objects/bkt/pub/a.txt').set('Authorization', bearer(reader));
    await request(app).get('/v1/objects/bkt/pub/a.txt').set('Authorization', 'Bearer unknown-token-xxxxxxxx');
    const text = (await request(app).get('/metrics').set('Authorization', bearer(prom))).text;
    expect(text).toMatch(/caller_requests_total\{caller="reader"\} 1/);
    expect(text).toMatch(/caller_requests_total\{caller="rejected"\} 1/);
    expect(text).not.toContain('unknown-token');
  });

  it('runs open without an authenticator, as the existing tests do', async () => {
    const { app } = setup({ auth: false });
    expect((await request(app).get('/v1/objects/bkt/pub/a.txt')).status).toBe(200);
    expect((await request(app).get('/metrics')).status).toBe(200);
  });
});

describe('requireScope and acquireDownloadSlot, for the downloads routes', () => {
  /** The pieces a downloads route uses, behind the same authentication middleware createApp installs. */
  function probe(auth: Authenticator | undefined, limiter: ConcurrencyLimiter) {
    const app = express();
    app.use(authenticateCallers({ auth }));
    app.post('/v1/probe', (req, res) => {
      requireScope(req, 'downloads');
      acquireDownloadSlot(req, limiter); // released when the job ends; held here
      res.status(202).end();
    });
    app.use(problemHandler);
    return app;
  }

  it('lets a caller with the downloads scope in, up to its own concurrency limit', async () => {
    const limiter = new ConcurrencyLimiter(1, (name) => new AppError('TooManyRequests', `${name} is busy`));
    const app = probe(new StaticAuthenticator([reader, prom]), limiter);
    expect((await request(app).post('/v1/probe').set('Authorization', bearer(prom))).status).toBe(202);
    const busy = await request(app).post('/v1/probe').set('Authorization', bearer(prom));
    expect(busy.status).toBe(429);
    expect(busy.body).toMatchObject({ code: 'TooManyRequests', detail: 'prom is busy' });
    expect(() => limiter.acquire('prom')).toThrow('prom is busy'); // the first request's slot is still held
  });

  it('refuses a token without the downloads scope', async () => {
    const app = probe(new StaticAuthenticator([reader, prom]), new ConcurrencyLimiter(1, () => new AppError('TooManyRequests', 'busy')));
    const refused = await request(app).post('/v1/probe').set('Authorization', bearer(reader));
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe('The token "reader" may not create downloads.');
  });

  it('allows everything when open, and fails closed for a request that was never authenticated', async () => {
    const open = probe(undefined, new ConcurrencyLimiter(5, () => new AppError('TooManyRequests', 'busy')));
    expect((await request(open).post('/v1/probe')).status).toBe(202);
    const undecided = express().post('/x', (req, res) => {
      requireScope(req, 'downloads');
      res.end();
    });
    undecided.use(problemHandler);
    expect((await request(undecided).post('/x')).status).toBe(500);
  });

  it('releases a slot once, however often release is called', () => {
    const limiter = new ConcurrencyLimiter(2, () => new AppError('TooManyRequests', 'busy'));
    const release = limiter.acquire('a');
    limiter.acquire('a');
    release();
    release();
    limiter.acquire('a'); // back to two held: had release run twice, a third would fit
    expect(() => limiter.acquire('a')).toThrow('busy');
  });
});

describe('request guards in createApp', () => {
  it('answers 414 for a URL over the limit', async () => {
    const { app } = setup({ auth: false, maxUrlBytes: 300 });
    const res = await request(app).get(`/v1/objects/bkt/${'k'.repeat(300)}`);
    expect(res.status).toBe(414);
    expect(res.body.code).toBe('InvalidRequest');
  });

  it('refuses a peer outside ALLOW_CIDRS by its socket address', async () => {
    const refused = setup({ auth: false, allowCidrs: ['10.0.0.0/8'] });
    const res = await request(refused.app).get('/healthz').set('X-Forwarded-For', '10.0.0.1');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('NotAllowed');
    const allowed = setup({ auth: false, allowCidrs: ['127.0.0.0/8', '::1/128'] });
    expect((await request(allowed.app).get('/healthz')).status).toBe(200);
  });

  it.each(['OPTIONS', 'POST', 'DELETE'])('answers %s /healthz with 405 and Allow', async (method) => {
    const { app } = setup({ auth: false });
    const res = await request(app)[method.toLowerCase() as 'options' | 'post' | 'delete']('/healthz');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it('answers 416 for a malformed byte range without asking OSS, and ignores another unit', async () => {
    const { app, store } = setup({ auth: false });
    const malformed = await request(app).get('/v1/objects/bkt/pub/a.txt').set('Range', 'bytes=5-1');
    expect(malformed.status).toBe(416);
    expect(malformed.body.code).toBe('InvalidRange');
    expect(store.calls).toHaveLength(0);
    const other = await request(app).get('/v1/objects/bkt/pub/a.txt').set('Range', 'items=0-1');
    expect(other.status).toBe(200);
    expect(store.calls[0].request).toMatchObject({ range: undefined });
  });

  it.each(['a/../b', './a', 'a/.', '%2E%2E/b'])('refuses the key %j with . or .. segments', async (key) => {
    const { app, store } = setup({ auth: false });
    const res = await request(app).get(`/v1/objects/bkt/${key}`);
    expect(res.status).toBe(400);
    expect(store.calls).toHaveLength(0);
  });

  it('refuses an unknown query parameter', async () => {
    const { app, store } = setup({ auth: false });
    expect((await request(app).get('/v1/objects/bkt/pub/a.txt?response-content-type=text/html')).status).toBe(400);
    expect((await request(app).get('/v1/objects/bkt?max-keys=5')).status).toBe(400);
    expect(store.calls).toHaveLength(0);
  });
});
