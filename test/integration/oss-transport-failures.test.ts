import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { AliOssStore } from '../../src/oss/ali-oss-store';
import { FakeCredentials } from '../support/fake-credentials';

/**
 * The OSS requests that get no answer, or half of one, over undici: the same
 * errors and metric codes the urllib path gave. (A stall mid-body through
 * the whole service, and backpressure that is not a stall: streaming.test.ts.)
 */

interface Upstream {
  endpoint: string;
  close(): Promise<void>;
}

function serve(handler: http.RequestListener): Promise<Upstream> {
  const server = http.createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => {
          server.closeAllConnections();
          return new Promise((done) => server.close(() => done()));
        },
      }),
    ),
  );
}

/** A port nobody listens on: taken from the OS, then given back. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function storeFor(endpoint: string, events: { status: number; code?: string }[]): AliOssStore {
  return new AliOssStore({
    credentials: new FakeCredentials(),
    region: 'cn-beijing',
    endpoint,
    signatureVersion: 4,
    requestTimeoutMs: 200,
    idleTimeoutMs: 200,
    onUpstreamResponse: (event) => events.push(event),
  });
}

const request = { bucket: 'b-1', key: 'k.bin', preconditions: {} };

describe('the OSS store when OSS does not answer', () => {
  const events: { status: number; code?: string }[] = [];
  let upstream: Upstream | undefined;
  let store: AliOssStore | undefined;

  afterEach(async () => {
    events.length = 0;
    await store?.close();
    await upstream?.close();
    upstream = undefined;
  });

  it('answers 504 UpstreamUnavailable and counts Timeout when no headers come within OSS_REQUEST_TIMEOUT_SECONDS', async () => {
    upstream = await serve(() => {}); // takes the request, never answers
    store = storeFor(upstream.endpoint, events);

    await expect(store.getObject(request)).rejects.toMatchObject({ code: 'UpstreamUnavailable', status: 504 });
    expect(events).toEqual([{ status: 0, code: 'Timeout' }]);
  });

  it('answers 502 UpstreamUnavailable and counts ConnectionFailed when the connection is refused', async () => {
    store = storeFor(`http://127.0.0.1:${await closedPort()}`, events);

    await expect(store.listObjects({ bucket: 'b-1', prefix: '', limit: 10 })).rejects.toMatchObject({ code: 'UpstreamUnavailable', status: 502 });
    expect(events).toEqual([{ status: 0, code: 'ConnectionFailed' }]);
  });

  it('answers 502 and counts ConnectionFailed when OSS resets the connection before the headers', async () => {
    upstream = await serve((req) => req.socket.destroy());
    store = storeFor(upstream.endpoint, events);

    await expect(store.headObject(request)).rejects.toMatchObject({ code: 'UpstreamUnavailable', status: 502 });
    expect(events).toEqual([{ status: 0, code: 'ConnectionFailed' }]);
  });

  it('destroys a body that receives nothing for OSS_IDLE_TIMEOUT_SECONDS with 504 UpstreamUnavailable', async () => {
    upstream = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.write(Buffer.alloc(10)); // then nothing
    });
    store = storeFor(upstream.endpoint, events);

    const { body } = await store.getObject(request);
    const failure = new Promise<Error>((resolve) => body!.once('error', resolve));
    body!.resume();

    expect(await failure).toMatchObject({ code: 'UpstreamUnavailable', status: 504, detail: 'OSS stopped sending object k.bin in bucket b-1.' });
    expect(body!.destroyed).toBe(true);
  });

  it('keeps the <Endpoint> of a wrong-region answer to a listing, and names the region in the detail', async () => {
    upstream = await serve((_req, res) => {
      res.writeHead(403, { 'Content-Type': 'application/xml' });
      res.end(
        '<Error><Code>AccessDenied</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message><Endpoint>oss-cn-shanghai.aliyuncs.com</Endpoint></Error>',
      );
    });
    store = storeFor(upstream.endpoint, events);

    await expect(store.listObjects({ bucket: 'b-1', prefix: '', limit: 10 })).rejects.toMatchObject({
      code: 'UpstreamUnavailable',
      status: 502,
      detail: expect.stringContaining('b-1=cn-shanghai'),
    });
  });
});
