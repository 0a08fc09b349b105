import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { createApp } from '../../src/compose';
import type { Principal } from '../../src/auth/token-file';
import { DEFAULT_HTTP_LIMITS } from '../../src/http/limits';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import type { ObjectRequest, ObjectResponse } from '../../src/oss/object-store';
import { FakeCredentials } from '../support/fake-credentials';
import { FakeStore } from '../support/fake-store';
import { bearer, StaticAuthenticator } from '../support/static-authenticator';

/** A store whose GET bodies send one byte and then hold the stream open, as a large object read slowly does. */
class SlowStore extends FakeStore {
  override async getObject(request: ObjectRequest): Promise<ObjectResponse> {
    const answer = await super.getObject(request);
    const body = new PassThrough();
    body.write('x');
    return { ...answer, body };
  }
}

const principal = (name: string): Principal => ({ name, read: [{ bucket: 'bkt', prefix: '' }], downloads: [], metrics: false });
const greedy = principal('greedy');
const other = principal('other');
const third = principal('third');

interface Held {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Goes away as a caller would, and resolves when the service has closed that response. */
  abandon(): Promise<void>;
}

/** A real server on loopback: streams stay open for as long as the test holds them. */
async function serve(options: { tokens: boolean; maxConcurrentStreams: number; maxStreamsPerToken: number }) {
  const store = new SlowStore();
  store.put('bkt', 'big.bin', 'x'.repeat(1000));
  const app = createApp({
    store,
    credentials: new FakeCredentials(),
    allow: [{ bucket: 'bkt', prefix: '' }],
    logger: createLogger('silent'),
    metrics: new Metrics(),
    auth: options.tokens ? new StaticAuthenticator([greedy, other, third]) : undefined,
    security: {
      limits: { ...DEFAULT_HTTP_LIMITS, maxConcurrentStreams: options.maxConcurrentStreams, maxStreamsPerToken: options.maxStreamsPerToken },
    },
  });
  const server = http.createServer(app);
  // The service's side of each request, by the test's own id: requests sent at once may arrive in any order.
  const responses = new Map<string, http.ServerResponse>();
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => responses.set(String(req.headers['x-test-id']), res));
  let sent = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

  /** GETs the held object; resolves at the first byte of a 200, or with the whole body of a refusal. */
  function get(caller?: Principal): Promise<Held> {
    const id = String((sent += 1));
    return new Promise((resolve, reject) => {
      const headers = { 'x-test-id': id, ...(caller ? { Authorization: bearer(caller) } : {}) };
      const req = http.get({ host: '127.0.0.1', port, path: '/v1/objects/bkt/big.bin', headers, agent }, (res) => {
        const served = responses.get(id)!;
        const abandon = () =>
          new Promise<void>((done) => {
            served.once('close', () => done());
            req.destroy();
          });
        if (res.statusCode === 200) {
          res.once('data', () => resolve({ status: 200, headers: res.headers, body: '', abandon }));
          return;
        }
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, abandon }));
      });
      req.on('error', reject);
    });
  }

  const close = async () => {
    agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return { store, get, close };
}

describe('object stream caps', () => {
  let service: Awaited<ReturnType<typeof serve>> | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('answers 503 Overloaded with Retry-After to a token past MAX_STREAMS_PER_TOKEN, before any OSS request, while another token still streams', async () => {
    service = await serve({ tokens: true, maxConcurrentStreams: 16, maxStreamsPerToken: 3 });
    const held = await Promise.all([service.get(greedy), service.get(greedy), service.get(greedy)]);
    expect(held.map((h) => h.status)).toEqual([200, 200, 200]);
    const callsBefore = service.store.calls.length;

    const refused = await service.get(greedy);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body)).toMatchObject({
      code: 'Overloaded',
      detail: 'The caller greedy already has 3 object streams open; try again shortly.',
    });
    expect(service.store.calls.length).toBe(callsBefore);

    const others = await Promise.all([service.get(other), service.get(other), service.get(third)]);
    expect(others.map((h) => h.status)).toEqual([200, 200, 200]);
  });

  it('gives the caller its slot back when one of its streams ends', async () => {
    service = await serve({ tokens: true, maxConcurrentStreams: 16, maxStreamsPerToken: 2 });
    const [first] = await Promise.all([service.get(greedy), service.get(greedy)]);
    expect((await service.get(greedy)).status).toBe(503);
    await first.abandon();
    expect((await service.get(greedy)).status).toBe(200);
    expect((await service.get(greedy)).status).toBe(503);
  });

  it('keeps the process-wide cap: callers under their own cap get 503 when MAX_CONCURRENT_STREAMS are open', async () => {
    service = await serve({ tokens: true, maxConcurrentStreams: 3, maxStreamsPerToken: 2 });
    const held = await Promise.all([service.get(greedy), service.get(greedy), service.get(other)]);
    expect(held.map((h) => h.status)).toEqual([200, 200, 200]);
    const refused = await service.get(other);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'Overloaded', detail: 'Too many object streams are open; try again shortly.' });
    // The refusal by the process cap gave back the caller's slot it had taken: after one stream ends, `other` gets one.
    await held[0].abandon();
    expect((await service.get(other)).status).toBe(200);
  });

  it('does not cap the one caller of open mode below MAX_CONCURRENT_STREAMS', async () => {
    service = await serve({ tokens: false, maxConcurrentStreams: 4, maxStreamsPerToken: 1 });
    const held = await Promise.all([service.get(), service.get(), service.get(), service.get()]);
    expect(held.map((h) => h.status)).toEqual([200, 200, 200, 200]);
    const refused = await service.get();
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).detail).toBe('Too many object streams are open; try again shortly.');
  });
});
