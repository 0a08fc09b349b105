import { parsePrometheusText, type Exposition } from '../support/prometheus-text';
import { awaitLogLine, awaitRequestEnd, BUCKET, get, getAndAbortAfter, startStack, type Stack } from '../support/stack';

const MiB = 1024 * 1024;
const OBJECT_ROUTE = '/v1/objects/:bucket/*key';

/** The request log line of the request with this X-Request-Id. */
function requestLine(stack: Stack, requestId: string) {
  return awaitLogLine(stack, (line) => (line.req as { id?: string } | undefined)?.id === requestId && 'responseTime' in line);
}

async function scrape(stack: Stack): Promise<Exposition> {
  const res = await get(`${stack.baseUrl}/metrics`);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(res.body.toString('utf8'));
}

describe('request logs, metrics and CRC64 checks on the real stack', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ idleTimeoutMs: 300 });
    stack.oss.putGeneratedObject(BUCKET, 'small.bin', 2 * MiB, 3);
    stack.oss.putGeneratedObject(BUCKET, 'big.bin', 256 * MiB, 5);
    stack.oss.putGeneratedObject(BUCKET, 'tiny.bin', 4096, 6);
  });
  afterAll(() => stack.close());

  describe('one JSON log line per request', () => {
    it('for a complete stream: request id, bucket, key, status, bytes, TTFB, total time, OSS request id, outcome', async () => {
      const ended = awaitRequestEnd(stack, (r) => r.key === 'small.bin');
      const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/small.bin`, { 'X-Request-Id': 'trace-complete-1' });
      const line = await requestLine(stack, 'trace-complete-1');

      expect(res.headers['x-request-id']).toBe('trace-complete-1');
      expect(line).toMatchObject({
        level: 30,
        req: { id: 'trace-complete-1', method: 'GET' },
        res: { statusCode: 200 },
        bucket: BUCKET,
        key: 'small.bin',
        bytesSent: 2 * MiB,
        ossRequestId: (await ended).requestId,
        outcome: 'complete',
      });
      expect(line.ttfbMs).toEqual(expect.any(Number));
      expect(line.responseTime).toBeGreaterThanOrEqual(line.ttfbMs as number);
    });

    it('for a client that went away: outcome client_aborted and the bytes it got', async () => {
      await getAndAbortAfter(`${stack.baseUrl}/v1/objects/${BUCKET}/big.bin`, MiB, { 'X-Request-Id': 'trace-abort-1' });
      const line = await requestLine(stack, 'trace-abort-1');

      expect(line).toMatchObject({ bucket: BUCKET, key: 'big.bin', outcome: 'client_aborted', ossRequestId: expect.any(String) });
      // Taken when the request arrived: the destroyed socket no longer knows its peer.
      expect(line.req).toMatchObject({ id: 'trace-abort-1', remoteAddress: expect.stringMatching(/127\.0\.0\.1/) });
      expect(line.msg).toBe('request aborted');
      expect(line.bytesSent).toBeGreaterThanOrEqual(MiB);
      expect(line.bytesSent).toBeLessThan(256 * MiB);
    });

    it('for an OSS connection dropped mid-body: outcome upstream_failed, logged as a warning', async () => {
      stack.oss.injectFault({ kind: 'drop-mid-body', afterBytes: 100_000, match: { key: 'small.bin' } });
      const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/small.bin`, { 'X-Request-Id': 'trace-upstream-1' });
      const line = await requestLine(stack, 'trace-upstream-1');

      expect(res.complete).toBe(false);
      expect(line).toMatchObject({ level: 40, key: 'small.bin', outcome: 'upstream_failed', res: { statusCode: 200 } });
      expect(line.bytesSent).toBeLessThan(2 * MiB);
    });

    it('for an OSS error answer: the OSS request id from the error document', async () => {
      const ended = awaitRequestEnd(stack, (r) => r.key === 'missing.bin');
      const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/missing.bin`, { 'X-Request-Id': 'trace-404-1' });
      const line = await requestLine(stack, 'trace-404-1');

      expect(res.status).toBe(404);
      expect(line).toMatchObject({ level: 40, key: 'missing.bin', ossRequestId: (await ended).requestId, outcome: 'complete' });
    });
  });

  describe('CRC64 of whole-object GETs against x-oss-hash-crc64ecma', () => {
    it('breaks the transfer off when a byte was corrupted on the way, logs it as an error and counts it', async () => {
      const before = await scrape(stack);
      stack.oss.injectFault({ kind: 'corrupt-byte', atByte: 1_500_000, match: { key: 'small.bin' } });

      const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/small.bin`, { 'X-Request-Id': 'trace-crc-1' });
      const line = await requestLine(stack, 'trace-crc-1');
      const after = await scrape(stack);

      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe(String(2 * MiB));
      expect(res.complete).toBe(false); // the caller cannot take it for a whole body
      expect(res.body.length).toBeLessThan(2 * MiB);
      expect(line).toMatchObject({ level: 50, outcome: 'crc_mismatch' });
      expect(stack.logs.some((l) => l.includes('CRC64 mismatch') && l.includes('trace-crc-1'))).toBe(true);
      expect((after.value('object_crc64_mismatches_total') ?? 0) - (before.value('object_crc64_mismatches_total') ?? 0)).toBe(1);
      expect(after.value('object_streams_total', { outcome: 'crc_mismatch' })).toBeGreaterThanOrEqual(1);
    });

    it('sends the status line before breaking off an object that fits in one chunk', async () => {
      // The whole body is the chunk the verifier holds back: no byte went out before the mismatch.
      stack.oss.injectFault({ kind: 'corrupt-byte', atByte: 10, match: { key: 'tiny.bin' } });
      const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/tiny.bin`);
      expect(res).toMatchObject({ status: 200, complete: false });
      expect(res.headers['content-length']).toBe('4096');
      expect(res.body.length).toBe(0);
    });

    it('passes an intact object whole', async () => {
      const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/small.bin`);
      expect(res.complete).toBe(true);
      expect(res.body.equals(stack.oss.expectedBytes(BUCKET, 'small.bin'))).toBe(true);
    });

    it('does not check a range (the CRC covers the whole object)', async () => {
      stack.oss.injectFault({ kind: 'corrupt-byte', atByte: 10, match: { key: 'small.bin' } });
      const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/small.bin`, { Range: 'bytes=0-99' });
      expect(res).toMatchObject({ status: 206, complete: true });
      expect(res.body.length).toBe(100);
    });
  });

  describe('GET /metrics', () => {
    it('parses as Prometheus text, with every documented family and the default process metrics', async () => {
      const metrics = await scrape(stack);
      for (const name of [
        'http_requests_total',
        'http_request_duration_seconds',
        'http_time_to_first_byte_seconds',
        'object_bytes_streamed_total',
        'object_streams_in_flight',
        'object_streams_total',
        'object_crc64_mismatches_total',
        'crc64_implementation',
        'oss_responses_total',
        'credential_valid',
        'credential_expiry_timestamp_seconds',
        'credential_seconds_to_expiry',
        'credential_refreshes_total',
        'credential_endpoint_requests_total',
        'process_cpu_seconds_total',
        'nodejs_heap_size_used_bytes',
      ]) {
        expect({ name, declared: metrics.types.has(name) }).toEqual({ name, declared: true });
      }
      expect(metrics.value('credential_valid', { source: 'credentials_uri' })).toBe(1);
      expect(metrics.value('crc64_implementation', { impl: 'liblzma' })).toBe(1);
      expect(metrics.value('credential_seconds_to_expiry')).toBeGreaterThan(0);
    });

    it('moves its counters and histograms as requests run', async () => {
      const before = await scrape(stack);
      const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/small.bin`);
      await get(`${stack.baseUrl}/v1/objects/${BUCKET}/nope.bin`);
      const after = await scrape(stack);
      const moved = (name: string, labels?: Record<string, string>) => (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0);

      expect(res.complete).toBe(true);
      expect(moved('http_requests_total', { route: OBJECT_ROUTE, method: 'GET', status: '200' })).toBe(1);
      expect(moved('http_requests_total', { route: OBJECT_ROUTE, method: 'GET', status: '404' })).toBe(1);
      expect(moved('http_time_to_first_byte_seconds_count', { route: OBJECT_ROUTE, method: 'GET' })).toBe(2);
      expect(moved('http_request_duration_seconds_count', { route: OBJECT_ROUTE, method: 'GET' })).toBe(2);
      expect(moved('object_bytes_streamed_total')).toBe(2 * MiB);
      expect(moved('object_streams_total', { outcome: 'complete' })).toBe(1);
      expect(moved('oss_responses_total', { status: '200', code: '' })).toBe(1);
      expect(moved('oss_responses_total', { status: '404', code: 'NoSuchKey' })).toBe(1);
      expect(after.value('object_streams_in_flight')).toBe(0);
    });
  });
});

describe('OSS_VERIFY_CRC64=false', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ verifyCrc64: false });
    stack.oss.putGeneratedObject(BUCKET, 'small.bin', 2 * MiB, 3);
  });
  afterAll(() => stack.close());

  it('passes corrupted bytes through unchecked', async () => {
    stack.oss.injectFault({ kind: 'corrupt-byte', atByte: 1_500_000, match: { key: 'small.bin' } });
    const res = await get(`${stack.baseUrl}/v1/objects/${BUCKET}/small.bin`);
    expect(res).toMatchObject({ status: 200, complete: true });
    expect(res.body.equals(stack.oss.expectedBytes(BUCKET, 'small.bin'))).toBe(false);
  });
});
