import http from 'node:http';
import { awaitRequestEnd, BUCKET, get, getAndAbortAfter, startStack, type Stack } from '../support/stack';

const MiB = 1024 * 1024;

describe('streaming: abort in both directions', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ idleTimeoutMs: 300 });
    stack.oss.putGeneratedObject(BUCKET, 'big.bin', 512 * MiB, 7);
    stack.oss.putGeneratedObject(BUCKET, 'small.bin', 2 * MiB, 3);
  });
  afterAll(() => stack.close());

  it('streams a generated object byte for byte', async () => {
    const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/small.bin`);
    expect(res.status).toBe(200);
    expect(res.body.equals(stack.oss.expectedBytes(BUCKET, 'small.bin'))).toBe(true);
  });

  it('closes the OSS connection at once when the client goes away', async () => {
    const ended = awaitRequestEnd(stack, (r) => r.key === 'big.bin');
    await getAndAbortAfter(`${stack.baseUrl}/v1/objects/${BUCKET}/big.bin`, MiB);
    const record = await ended;
    expect(record.clientAborted).toBe(true);
    expect(record.completed).toBe(false);
    // Far less than the object: the service did not keep reading for nobody.
    expect(record.bytesSent).toBeLessThan(64 * MiB);
  });

  it('gives the client a broken transfer, not a short 200, when OSS drops the connection mid-body', async () => {
    stack.oss.injectFault({ kind: 'drop-mid-body', afterBytes: 100_000, match: { key: 'small.bin' } });
    const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/small.bin`);
    expect(res.status).toBe(200);
    expect(res.complete).toBe(false);
    expect(res.body.length).toBeLessThan(2 * MiB);
  });

  it('gives the client a broken transfer when OSS stalls longer than the idle timeout', async () => {
    stack.oss.injectFault({ kind: 'stall-mid-body', afterBytes: 100_000, match: { key: 'small.bin' } });
    const ended = awaitRequestEnd(stack, (r) => r.key === 'small.bin' && r.faults.includes('stall-mid-body'));
    const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/small.bin`);
    expect(res.complete).toBe(false);
    expect(res.body.length).toBeLessThan(2 * MiB);
    expect((await ended).completed).toBe(false);
  });

  it('leaves a caller that stops reading for longer than the idle timeout alone: backpressure is not a stall', async () => {
    const expected = stack.oss.expectedBytes(BUCKET, 'big.bin', 0, 16 * MiB - 1);
    const received = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let length = 0;
      let paused = false;
      const req = http.get(`${stack.baseUrl}/v1/objects/${BUCKET}/big.bin`, (res) => {
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          length += chunk.length;
          if (!paused && length >= MiB) {
            paused = true; // the service's buffers fill up and its OSS body stops: 4x the idle timeout
            res.pause();
            setTimeout(() => res.resume(), 1200);
          }
          if (length >= expected.length) {
            req.destroy();
            resolve(Buffer.concat(chunks).subarray(0, expected.length));
          }
        });
        res.on('close', () => reject(new Error(`the transfer ended after ${length} bytes`)));
      });
      req.on('error', reject);
    });
    expect(received.equals(expected)).toBe(true);
  });

  it('counts how streams ended in the metrics', async () => {
    const res = await get(`${stack.baseUrl}/metrics`);
    const text = res.body.toString();
    expect(text).toMatch(/object_streams_total\{outcome="complete"\} [1-9]/);
    expect(text).toMatch(/object_streams_total\{outcome="client_aborted"\} [1-9]/);
    expect(text).toMatch(/object_streams_total\{outcome="upstream_failed"\} [1-9]/);
  });
});
