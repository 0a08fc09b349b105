import net from 'node:net';
import { awaitRequestEnd, BUCKET } from '../support/stack';
import { encodeRequest, rawRequest } from './support/raw-http';
import { startSecureService, type SecureService } from './support/secure-service';

const MiB = 1024 * 1024;

/**
 * Resource limits of the built service, set small: stall guard 1 s, 2 streams (both for one token
 * here, so the process cap is what refuses), headers 1 s, request 2 s. The per-token cap is in
 * test/unit/stream-caps.test.ts.
 */
describe('resource limits', () => {
  let s: SecureService;

  beforeAll(async () => {
    s = await startSecureService({
      CLIENT_STALL_TIMEOUT_SECONDS: '1',
      MAX_CONCURRENT_STREAMS: '2',
      MAX_STREAMS_PER_TOKEN: '2',
      HTTP_HEADERS_TIMEOUT_SECONDS: '1',
      HTTP_REQUEST_TIMEOUT_SECONDS: '2',
    });
    s.oss.putGeneratedObject(BUCKET, 'big.bin', 256 * MiB, 5);
    s.oss.putObject(BUCKET, 'small.txt', 'small');
  }, 30_000);
  afterAll(() => s?.close());

  const auth = () => ({ Authorization: `Bearer ${s.tokens.reader}` });

  /** A caller that sends a GET and then never reads: its socket stays paused. */
  function stalledReader(key: string): net.Socket {
    const socket = net.connect(s.service.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(encodeRequest({ target: `/v1/objects/${BUCKET}/${key}`, headers: auth() }));
    socket.pause();
    return socket;
  }

  /** Writes an unfinished request and resolves with everything received once the service closes the connection. */
  function sendAndWaitForClose(partial: string): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(s.service.port, '127.0.0.1');
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(text));
      socket.write(partial);
    });
  }

  it('disconnects a caller that reads nothing, which closes the OSS connection too', async () => {
    const ended = awaitRequestEnd(s, (r) => r.key === 'big.bin', 15_000);
    const socket = stalledReader('big.bin');
    const record = await ended;
    socket.destroy();
    expect(record.clientAborted).toBe(true);
    expect(record.completed).toBe(false);
    expect(record.bytesSent).toBeLessThan(256 * MiB);
    expect(s.service.logLines().some((l) => l.msg === 'caller read nothing: disconnected')).toBe(true);
  }, 20_000);

  it('answers 503 Overloaded past MAX_CONCURRENT_STREAMS, without asking OSS', async () => {
    s.oss.injectFault({ kind: 'stall-mid-body', afterBytes: 1, match: { key: 'small.txt' }, times: 2 });
    const started = [awaitRequestEnd(s, () => true), awaitRequestEnd(s, () => true)];
    const holders = [stalledReader('small.txt'), stalledReader('small.txt')];
    await new Promise<void>((resolve) => {
      let seen = 0;
      const onStart = () => {
        seen += 1;
        if (seen === 2) {
          s.oss.events.off('request-start', onStart);
          resolve();
        }
      };
      s.oss.events.on('request-start', onStart);
    });
    const before = s.oss.requests.length;
    const refused = await rawRequest(s.service.port, { target: `/v1/objects/${BUCKET}/small.txt`, headers: auth() });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body.toString())).toMatchObject({ code: 'Overloaded' });
    expect(s.oss.requests.length).toBe(before);

    for (const h of holders) h.destroy();
    await Promise.all(started);
    const served = await rawRequest(s.service.port, { target: `/v1/objects/${BUCKET}/small.txt`, headers: auth() });
    expect(served.status).toBe(200);
  }, 20_000);

  it('answers 408 and closes a connection whose headers never finish (slowloris)', async () => {
    const answer = await sendAndWaitForClose('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toMatch(/"code":"InvalidRequest"/);
  }, 10_000);

  it('closes a connection whose request body never finishes, after its one answer', async () => {
    const answer = await sendAndWaitForClose(
      `POST /v1/objects/${BUCKET}/k HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 401 /); // answered before the body, as the token is missing
    expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1); // and no second answer when the body times out
  }, 10_000);
});
