import { Writable } from 'node:stream';
import request from 'supertest';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import { FakeCredentials } from '../support/fake-credentials';
import { FakeStore } from '../support/fake-store';

describe('the request log line', () => {
  function setup() {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const store = new FakeStore();
    store.put('bkt', 'a/k.txt', 'hello');
    const app = createApp({ store, credentials: new FakeCredentials(), allow: [{ bucket: 'bkt', prefix: '' }], logger: createLogger('info', sink), metrics: new Metrics() });
    return { app, lines };
  }

  it('carries the request id, method, whole URL, peer address and status, and no header', async () => {
    const { app, lines } = setup();
    await request(app).get('/v1/objects/bkt/a/k.txt?download=1').set('X-Request-Id', 'req-1').set('Authorization', 'Bearer secret-token');

    const line = lines.find((l) => l.msg === 'request completed')!;
    expect(line.req).toEqual({ id: 'req-1', method: 'GET', url: '/v1/objects/bkt/a/k.txt?download=1', remoteAddress: expect.stringMatching(/127\.0\.0\.1/) });
    expect(line.res).toEqual({ statusCode: 200 });
    expect(JSON.stringify(lines)).not.toContain('secret-token');
  });

  // Known bug (found by issue 6): routes/objects.ts sets res.locals.stream after `await
  // streamBody(...)`, but pino-http writes the line on the response's 'close', which comes
  // first, so the README's "outcome" and "bytesSent" never reach the log. Flip to `it` once fixed.
  it.failing('carries how the stream ended and the bytes sent', async () => {
    const { app, lines } = setup();
    await request(app).get('/v1/objects/bkt/a/k.txt');
    expect(lines.find((l) => l.msg === 'request completed')).toMatchObject({ outcome: 'complete', bytesSent: 5 });
  });
});
