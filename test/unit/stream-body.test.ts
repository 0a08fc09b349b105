import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import type { Response } from 'express';
import { crc64 } from '../../src/crc64-choice';
import { streamBody, type StreamResult } from '../../src/http/stream-body';
import type { StreamProgress } from '../../src/observability/request-context';

/**
 * streamBody on a real loopback connection: each test hands the server's
 * response a body it controls, and reads what a caller receives.
 */
async function relay(makeBody: () => Readable, options: { expectedCrc64?: bigint; beforeStream?: (res: http.ServerResponse) => Promise<void> } = {}) {
  let settled!: (r: { result: StreamResult; progress: StreamProgress; counted: number; body: Readable }) => void;
  const outcome = new Promise<{ result: StreamResult; progress: StreamProgress; counted: number; body: Readable }>((resolve) => (settled = resolve));
  const serve = async (res: http.ServerResponse) => {
    res.setHeader('content-length', '10');
    await options.beforeStream?.(res);
    const body = makeBody();
    const progress: StreamProgress = { bytes: 0 };
    let counted = 0;
    const result = await streamBody(body, res as unknown as Response, {
      progress,
      onBytes: (n) => (counted += n),
      expectedCrc64: options.expectedCrc64,
    });
    settled({ result, progress, counted, body });
  };
  // Fire and forget: the test reads the outcome through `settled`.
  const server = http.createServer((_req, res) => void serve(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, outcome, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** What a caller gets: status, bytes, and whether the body ended cleanly. */
function fetchRaw(port: number): Promise<{ status: number; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('close', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), complete: res.complete }));
    });
    req.on('error', (err) => (answered ? undefined : reject(err))); // after the status line, a broken transfer is what the test reads
  });
}

const TEN = Buffer.from('0123456789');

describe('streamBody', () => {
  it('passes a body whose CRC64 matches, whole, and counts every byte once', async () => {
    const s = await relay(() => Readable.from([TEN.subarray(0, 4), TEN.subarray(4)]), { expectedCrc64: crc64(TEN) });
    try {
      const got = await fetchRaw(s.port);
      const { result, progress, counted } = await s.outcome;
      expect(got).toEqual({ status: 200, body: TEN, complete: true });
      expect(result).toEqual({ outcome: 'complete', bytes: 10 });
      expect(progress).toEqual({ bytes: 10, outcome: 'complete' });
      expect(counted).toBe(10);
    } finally {
      await s.close();
    }
  });

  it('breaks the transfer off short of the held-back chunk when the CRC64 does not match', async () => {
    const s = await relay(() => Readable.from([TEN.subarray(0, 4), TEN.subarray(4)]), { expectedCrc64: crc64(TEN) ^ 1n });
    try {
      const got = await fetchRaw(s.port);
      const { result } = await s.outcome;
      expect(got.status).toBe(200);
      expect(got.complete).toBe(false);
      expect(got.body).toEqual(TEN.subarray(0, 4));
      expect(result.outcome).toBe('crc_mismatch');
    } finally {
      await s.close();
    }
  });

  it('gives a broken transfer, never a short clean body, when the upstream body is destroyed without an error', async () => {
    const s = await relay(() => {
      const body = new PassThrough();
      body.write(TEN.subarray(0, 3));
      setImmediate(() => body.destroy());
      return body;
    });
    try {
      const got = await fetchRaw(s.port);
      const { result } = await s.outcome;
      expect(got.complete).toBe(false);
      expect(got.body.length).toBeLessThan(10);
      expect(result.outcome).toBe('upstream_failed');
    } finally {
      await s.close();
    }
  });

  it('destroys the upstream body at once when the caller left while OSS was answering', async () => {
    let caller: http.ClientRequest | undefined;
    const s = await relay(() => new PassThrough(), {
      // The caller hangs up once the service has its request, before the body is handed over.
      beforeStream: async (res) => {
        const closed = new Promise((resolve) => res.once('close', resolve));
        caller!.destroy();
        await closed;
      },
    });
    try {
      caller = http.get({ host: '127.0.0.1', port: s.port, path: '/', agent: false });
      caller.on('error', () => undefined);
      const { result, body } = await s.outcome;
      expect(result).toEqual({ outcome: 'client_aborted', bytes: 0 });
      expect(body.destroyed).toBe(true);
    } finally {
      await s.close();
    }
  });
});
