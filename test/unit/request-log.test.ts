import { Writable } from 'node:stream';
import request from 'supertest';
import { createApp } from '../../src/app';
import { bearerToken, type Authenticator } from '../../src/auth/authenticator';
import type { Principal } from '../../src/auth/token-file';
import { AppError } from '../../src/errors';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import { FakeCredentials } from '../support/fake-credentials';
import { FakeStore } from '../support/fake-store';

const TOKEN = 'billing-service-token-xxxxxxxx';

/** One caller, `billing-service`, allowed to read bucket bkt. */
class OneCaller implements Authenticator {
  authenticate(authorization: string | undefined): Principal {
    if (bearerToken(authorization) !== TOKEN) throw new AppError('Unauthorized', 'unknown token');
    return { name: 'billing-service', read: [{ bucket: 'bkt', prefix: '' }], downloads: false, metrics: false };
  }
}

function setup(options: { auth?: boolean; trustProxy?: string[] } = {}) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const store = new FakeStore();
  const app = createApp({
    store,
    credentials: new FakeCredentials(),
    allow: [{ bucket: 'bkt', prefix: '' }],
    logger: createLogger('info', sink),
    metrics: new Metrics(),
    auth: options.auth ? new OneCaller() : undefined,
    security: options.trustProxy ? { trustProxy: options.trustProxy } : undefined,
  });
    const requestLine = () => lines.find((l) => 'responseTime' in l) as Record<string, unknown>;
  return { outer: app, store, requestLine, requestLines: () => lines.filter((l) => 'responseTime' in l) };
}

describe('the request log line', () => {
  it('names the caller the authentication set, with bucket, key, OSS request id, bytes and times', async () => {
    const { outer, store, requestLine } = setup({ auth: true });
    store.put('bkt', 'a/b.txt', 'hello');

    const res = await request(outer).get('/v1/objects/bkt/a/b.txt').set('X-Request-Id', 'req-42').set('Authorization', `Bearer ${TOKEN}`);

    expect(res.status).toBe(200);
    expect(requestLine()).toMatchObject({
      req: { id: 'req-42', method: 'GET', url: '/v1/objects/bkt/a/b.txt' },
      res: { statusCode: 200 },
      caller: 'billing-service',
      bucket: 'bkt',
      key: 'a/b.txt',
      ossRequestId: '5C1B138A109F4E405B2D8AEF',
      bytesSent: 5,
      outcome: 'complete',
      ttfbMs: expect.any(Number),
      responseTime: expect.any(Number),
    });
  });

  it('has no caller field without authentication, and carries the OSS request id of an error', async () => {
    const { outer, store, requestLine } = setup();
    store.failWith = new AppError('UpstreamUnavailable', 'OSS answered 503.', { ossRequestId: 'ERR0REQ0ID' });

    await request(outer).get('/v1/objects/bkt/x.txt');

    expect(requestLine()).toMatchObject({ level: 50, res: { statusCode: 502 }, ossRequestId: 'ERR0REQ0ID', outcome: 'upstream_failed' });
    expect(requestLine()).not.toHaveProperty('caller');
  });

  it('never logs request headers', async () => {
    const { outer, store, requestLine } = setup({ auth: true });
    store.put('bkt', 'a.txt', 'x');
    await request(outer).get('/v1/objects/bkt/a.txt').set('Authorization', `Bearer ${TOKEN}`);
    expect(JSON.stringify(requestLine())).not.toContain(TOKEN);
  });

  it('logs the peer, and the client a trusted proxy named only when TRUST_PROXY is set', async () => {
    const direct = setup();
    await request(direct.outer).get('/v1/objects/bkt/x.txt').set('X-Forwarded-For', '10.1.2.3');
    expect(direct.requestLine().req).toMatchObject({ remoteAddress: expect.stringMatching(/127\.0\.0\.1/) });
    expect(direct.requestLine().req).not.toHaveProperty('clientAddress');

    const proxied = setup({ trustProxy: ['loopback'] });
    await request(proxied.outer).get('/v1/objects/bkt/x.txt').set('X-Forwarded-For', '10.1.2.3');
    expect(proxied.requestLine().req).toMatchObject({ remoteAddress: expect.stringMatching(/127\.0\.0\.1/), clientAddress: '10.1.2.3' });
  });

  it('writes exactly one line per request, however the response ends', async () => {
    const { outer, store, requestLines } = setup();
    store.put('bkt', 'a.txt', 'x');
    await request(outer).get('/v1/objects/bkt/a.txt');
    await request(outer).get('/v1/objects/bkt/missing.txt');
    expect(requestLines().map((l) => [l.msg, (l.res as { statusCode: number }).statusCode])).toEqual([
      ['request completed', 200],
      ['request completed', 404],
    ]);
  });
});
