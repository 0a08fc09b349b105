import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, Writable } from 'node:stream';
import request from 'supertest';
import { createApp } from '../../src/compose';
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
    return { name: 'billing-service', read: [{ bucket: 'bkt', prefix: '' }], downloads: [], metrics: false };
  }
}

function setup(options: { auth?: boolean; trustProxy?: string[] } = {}) {
  const lines: Record<string, unknown>[] = [];
  let onLine = () => undefined as void;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      onLine();
      done();
    },
  });
  /** The first request line, once written: an event, bounded in time. */
  const awaitRequestLine = (timeoutMs = 5_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no request line')), timeoutMs);
      onLine = () => {
        const line = lines.find((l) => 'responseTime' in l);
        if (line) {
          clearTimeout(timer);
          resolve(line);
        }
      };
      onLine();
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
  return { outer: app, store, requestLine, awaitRequestLine, requestLines: () => lines.filter((l) => 'responseTime' in l) };
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

  it('names the peer even when the caller left mid-body and its socket is gone', async () => {
    const { outer, store, awaitRequestLine } = setup();
    // One chunk, then nothing: the caller leaves after the first bytes.
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(1024, 1));
    store.getObject = async () => ({ status: 200, headers: { 'content-length': '1000000', etag: '"E"' }, body });
    const server = outer.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ port, host: '127.0.0.1', path: '/v1/objects/bkt/slow.bin', agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      });
      const line = await awaitRequestLine();
      expect(line).toMatchObject({
        msg: 'request aborted',
        outcome: 'client_aborted',
        req: { remoteAddress: expect.stringMatching(/127\.0\.0\.1/) },
      });
    } finally {
      body.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
